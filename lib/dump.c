// SPDX-License-Identifier: MIT
/*
 * Seeing inside a runtime: what every context waits on, and zk_io_dump(),
 * which writes every live task with its state, its wait, its parent, its
 * token and, for a suspended green thread, its stack.
 *
 * The wait records are always kept (a dump may come at any time): a wait
 * stores what it waits on and a coarse timestamp into its context's
 * record, which costs a few stores; the profiler, when on, is told about
 * the wait when it ends (profile.c).
 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io_internal.h"

#define DUMP_FRAMES	48

#define RELAXED_LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define RELAXED_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

static const char *const wait_names[ZK_WAIT_KINDS] = {
	[ZK_WAIT_NONE] = "none",
	[ZK_WAIT_OP(ZK_OPC_READ)] = "read",
	[ZK_WAIT_OP(ZK_OPC_WRITE)] = "write",
	[ZK_WAIT_OP(ZK_OPC_RECV)] = "recv",
	[ZK_WAIT_OP(ZK_OPC_SEND)] = "send",
	[ZK_WAIT_OP(ZK_OPC_ACCEPT)] = "accept",
	[ZK_WAIT_OP(ZK_OPC_CONNECT)] = "connect",
	[ZK_WAIT_OP(ZK_OPC_OPEN)] = "open",
	[ZK_WAIT_OP(ZK_OPC_CLOSE)] = "close",
	[ZK_WAIT_OP(ZK_OPC_FSYNC)] = "fsync",
	[ZK_WAIT_OP(ZK_OPC_SLEEP)] = "sleep",
	[ZK_WAIT_OP(ZK_OPC_POLL)] = "poll",
	[ZK_WAIT_OP(ZK_OPC_CG_SET)] = "cgroup_set",
	[ZK_WAIT_OP(ZK_OPC_CG_ATTACH)] = "cgroup_attach",
	[ZK_WAIT_OP(ZK_OPC_CG_FREEZE)] = "cgroup_freeze",
	[ZK_WAIT_OP(ZK_OPC_CG_THAW)] = "cgroup_thaw",
	[ZK_WAIT_OP(ZK_OPC_CG_KILL)] = "cgroup_kill",
	[ZK_WAIT_OP(ZK_OPC_PIDFD_WAIT)] = "pidfd_wait",
	[ZK_WAIT_TASK] = "task",
	[ZK_WAIT_MUTEX] = "mutex_lock",
	[ZK_WAIT_COND] = "cond_wait",
	[ZK_WAIT_SEM] = "sem_acquire",
	[ZK_WAIT_WG] = "wg_wait",
	[ZK_WAIT_CHAN_SEND] = "chan_send",
	[ZK_WAIT_CHAN_RECV] = "chan_recv",
	[ZK_WAIT_SELECT] = "select",
};

const char *zk_wait_name(unsigned int kind)
{
	return kind < ZK_WAIT_KINDS ? wait_names[kind] : "?";
}

static int64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct zk_wait_rec *zk_wait_rec_of(struct zk_io *io)
{
	return io->cur ? &io->cur->wait : &io->wait;
}

/*
 * The coarse clock (a few ns) is precise enough for "waiting 1.2 s"; the
 * profiler adds up short waits, so it pays for the precise one.
 */
void zk_wait_begin_rec(struct zk_io *io, struct zk_wait_rec *r,
		       const struct zk_future *f, unsigned int n)
{
	bool timed = __builtin_expect(RELAXED_LOAD(&io->rt->profiling), 0);
	uint8_t kind = ZK_WAIT_SELECT;
	const void *obj = NULL;
	int64_t arg = n;
	int fd = -1;

	if (f && f->kind == ZK_F_OP) {
		kind = ZK_WAIT_OP(f->op.code);
		fd = f->op.fd;
		arg = f->op.code == ZK_OPC_SLEEP ? f->op.ns : (int64_t)f->op.len;
	} else if (f && f->kind == ZK_F_TASK) {
		kind = ZK_WAIT_TASK;
		obj = f;
	} else if (f) {
		kind = f->pw.wkind;
		obj = f->pw.lock;	/* every primitive starts with its lock */
	}
	RELAXED_STORE(&r->fd, fd);
	RELAXED_STORE(&r->arg, arg);
	RELAXED_STORE(&r->obj, obj);
	RELAXED_STORE(&r->since, timed ? zk_mono_ns() : coarse_ns());
	RELAXED_STORE(&r->timed, timed);
	RELAXED_STORE(&r->kind, kind);
}

struct zk_wait_rec *zk_wait_begin(struct zk_io *io, const struct zk_future *f,
				  unsigned int n)
{
	struct zk_wait_rec *r = zk_wait_rec_of(io);

	zk_wait_begin_rec(io, r, f, n);
	return r;
}

void zk_wait_end(struct zk_io *io, struct zk_task *t, struct zk_wait_rec *r,
		 bool on_stack)
{
	if (__builtin_expect(r->timed, 0) && RELAXED_LOAD(&io->rt->profiling))
		zk_prof_account(io, t, r, on_stack);
	RELAXED_STORE(&r->kind, ZK_WAIT_NONE);
}

/* ---- symbols ------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * dladdr() knows the symbols a module exports; a static function, or any
 * function of a static binary, is shown by module and offset (addr2line
 * -e MODULE OFFSET names it) or, with no module either, by address.  The
 * offset is from the module's load bias, so it is the address the file
 * itself uses, PIE or not.
 */
void zk_sym_name(const void *pc, char *buf, size_t len, bool offset)
{
	struct link_map *lm = NULL;
	Dl_info di;
	int found = dladdr1(pc, &di, (void **)&lm, RTLD_DL_LINKMAP);

	if (found && lm && !di.dli_sname)
		di.dli_fbase = (void *)lm->l_addr;
	if (found && di.dli_sname && di.dli_saddr) {
		if (offset)
			snprintf(buf, len, "%s+0x%tx", di.dli_sname,
				 (const char *)pc - (const char *)di.dli_saddr);
		else
			snprintf(buf, len, "%s", di.dli_sname);
	} else if (found && di.dli_fname && *di.dli_fname) {
		snprintf(buf, len, "%s+0x%tx", base_name(di.dli_fname),
			 (const char *)pc - (const char *)di.dli_fbase);
	} else {
		snprintf(buf, len, "%p", pc);
	}
}

/* ---- what one task or thread looks like ---------------------------- */

struct view {
	const char *state;
	uint8_t kind;
	char what[96];
	int64_t waited_ns;
	int fd;
	const void *obj;
	int64_t result;
	int nbt;
	void *bt[DUMP_FRAMES];
};

static uint64_t task_id_of(struct zk_runtime *rt, const void *fut)
{
	struct zk_list *n;

	for (n = rt->tasks.next; n != &rt->tasks; n = n->next) {
		struct zk_task *t = zk_container_of(n, struct zk_task, all);

		if (&t->fut == fut)
			return t->id;
	}
	return 0;
}

/* "sleep 200 ms", "recv fd 5", "chan_recv 0x...", "task #3", ... */
static void describe(struct zk_runtime *rt, struct view *v, int64_t arg)
{
	const char *name = zk_wait_name(v->kind);
	size_t sz = sizeof(v->what);

	if (v->kind == ZK_WAIT_OP(ZK_OPC_SLEEP))
		snprintf(v->what, sz, "sleep %" PRId64 " ms", arg / 1000000);
	else if (v->kind == ZK_WAIT_OP(ZK_OPC_OPEN))
		snprintf(v->what, sz, "open");
	else if (v->kind <= ZK_WAIT_OP(ZK_OPC_SEND) && v->kind)
		snprintf(v->what, sz, "%s fd %d, %" PRId64 " bytes", name, v->fd, arg);
	else if (v->kind < ZK_WAIT_TASK)
		snprintf(v->what, sz, "%s fd %d", name, v->fd);
	else if (v->kind == ZK_WAIT_TASK)
		snprintf(v->what, sz, "task #%" PRIu64, task_id_of(rt, v->obj));
	else if (v->kind == ZK_WAIT_SELECT)
		snprintf(v->what, sz, "select of %" PRId64 " cases", arg);
	else
		snprintf(v->what, sz, "%s %p", name, v->obj);
}

/* Read @r once; false when its context does not wait. */
static bool view_wait(struct zk_runtime *rt, const struct zk_wait_rec *r,
		      struct view *v, int64_t now)
{
	int64_t arg;

	v->kind = RELAXED_LOAD(&r->kind);
	if (v->kind >= ZK_WAIT_KINDS)
		v->kind = ZK_WAIT_NONE;
	if (v->kind == ZK_WAIT_NONE)
		return false;
	v->fd = RELAXED_LOAD(&r->fd);
	v->obj = RELAXED_LOAD(&r->obj);
	arg = RELAXED_LOAD(&r->arg);
	v->waited_ns = now - RELAXED_LOAD(&r->since);
	if (v->waited_ns < 0)
		v->waited_ns = 0;
	describe(rt, v, arg);
	return true;
}

static void view_task(struct zk_io *io, struct zk_task *t, struct view *v, int64_t now)
{
	int st = RELAXED_LOAD(&t->state);
	bool waiting = view_wait(io->rt, &t->wait, v, now);

	v->nbt = 0;
	if (zk_fut_done(&t->fut)) {
		v->state = "done";
		v->result = t->fut.result;
		return;
	}
	if (st == ZK_TASK_NEW || st == ZK_TASK_READY)
		v->state = "runnable";
	else if (waiting || st == ZK_TASK_PARKED)
		v->state = "waiting";
	else
		v->state = st == ZK_TASK_DEAD ? "done" : "running";
	if (t->stack)
		v->nbt = zk_green_backtrace(io, t, v->bt, DUMP_FRAMES);
}

/* ---- writers -------------------------------------------------------- */

struct out {
	FILE *f;
	bool json;
	unsigned int items;
};

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void fmt_duration(char *buf, size_t len, int64_t ns)
{
	if (ns >= 1000000000)
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%" PRId64 " us", ns / 1000);
}

static void text_wait(FILE *f, const struct view *v)
{
	char d[32];

	if (v->kind == ZK_WAIT_NONE)
		return;
	fmt_duration(d, sizeof(d), v->waited_ns);
	fprintf(f, " on %s for %s", v->what, d);
}

static void json_wait(FILE *f, const struct view *v)
{
	fputs(",\"wait\":", f);
	if (v->kind == ZK_WAIT_NONE) {
		fputs("null", f);
		return;
	}
	fputs("{\"kind\":", f);
	json_str(f, zk_wait_name(v->kind));
	fputs(",\"what\":", f);
	json_str(f, v->what);
	fprintf(f, ",\"fd\":%d,\"object\":", v->fd);
	if (v->obj)
		fprintf(f, "\"%p\"", v->obj);
	else
		fputs("null", f);
	fprintf(f, ",\"waited_us\":%" PRId64 "}", v->waited_ns / 1000);
}

static void emit_thread(struct out *o, unsigned int index, const struct view *v)
{
	if (o->json) {
		fprintf(o->f, "%s{\"worker\":%u,\"root\":%s,\"state\":\"waiting\"",
			o->items++ ? "," : "", index, index ? "false" : "true");
		json_wait(o->f, v);
		fputc('}', o->f);
		return;
	}
	fprintf(o->f, "thread %s%u: waiting", index ? "worker " : "root ", index);
	text_wait(o->f, v);
	fputc('\n', o->f);
}

static void emit_stack(struct out *o, const struct view *v)
{
	char sym[256];
	int i;

	if (o->json)
		fputs(",\"stack\":[", o->f);
	else if (v->nbt)
		fputs("    stack at the suspension point:\n", o->f);
	for (i = 0; i < v->nbt; i++) {
		zk_sym_name(v->bt[i], sym, sizeof(sym), true);
		if (o->json) {
			fputs(i ? "," : "", o->f);
			json_str(o->f, sym);
		} else {
			fprintf(o->f, "      #%-2d %s\n", i, sym);
		}
	}
	if (o->json)
		fputc(']', o->f);
}

static void emit_task_json(struct out *o, struct zk_runtime *rt,
			   const struct zk_task *t, const struct view *v,
			   const char *fn)
{
	FILE *f = o->f;

	fprintf(f, "%s{\"id\":%" PRIu64 ",\"executor\":\"%s\",\"state\":\"%s\"",
		o->items++ ? "," : "", t->id, zk_executor_name(rt->eops->kind), v->state);
	json_wait(f, v);
	fputs(t->step ? ",\"step\":" : ",\"fn\":", f);
	json_str(f, fn);
	if (t->step)
		fprintf(f, ",\"step_state\":%d", RELAXED_LOAD(&t->step_state));
	fprintf(f, ",\"parent\":%" PRIu64 ",\"token\":\"%p\",\"cancelled\":%s",
		t->parent_id, (const void *)&t->token,
		zk_token_cancelled(&t->token) ? "true" : "false");
	if (!strcmp(v->state, "done"))
		fprintf(f, ",\"result\":%" PRId64, v->result);
	emit_stack(o, v);
	fputc('}', f);
}

static void emit_task(struct out *o, struct zk_runtime *rt, const struct zk_task *t,
		      const struct view *v)
{
	char fn[256];

	zk_sym_name(t->fn ? (const void *)t->fn : (const void *)t->step, fn,
		    sizeof(fn), false);
	if (o->json) {
		emit_task_json(o, rt, t, v, fn);
		return;
	}
	fprintf(o->f, "task #%" PRIu64 " (%s) %s", t->id,
		zk_executor_name(rt->eops->kind), v->state);
	if (!strcmp(v->state, "done"))
		fprintf(o->f, ", result %" PRId64, v->result);
	text_wait(o->f, v);
	if (t->step)
		fprintf(o->f, "\n    step %s, state %d", fn, RELAXED_LOAD(&t->step_state));
	else
		fprintf(o->f, "\n    fn %s", fn);
	if (t->parent_id)
		fprintf(o->f, ", parent task #%" PRIu64, t->parent_id);
	else
		fputs(", parent root", o->f);
	fprintf(o->f, ", token %p%s\n", (const void *)&t->token,
		zk_token_cancelled(&t->token) ? " (cancelled)" : "");
	emit_stack(o, v);
}

/* Threads that wait outside a task: the root, idle-less pool workers. */
static void emit_threads(struct out *o, struct zk_runtime *rt, int64_t now)
{
	struct view v;
	unsigned int i;

	if (view_wait(rt, &rt->root.wait, &v, now))
		emit_thread(o, 0, &v);
	for (i = 0; i < rt->nworkers; i++)
		if (view_wait(rt, &rt->workers[i].wait, &v, now))
			emit_thread(o, i + 1, &v);
}

static unsigned int emit_tasks(struct out *o, struct zk_io *io, int64_t now)
{
	struct zk_runtime *rt = io->rt;
	unsigned int n = 0;
	struct zk_list *l;
	struct view v;

	for (l = rt->tasks.next; l != &rt->tasks; l = l->next, n++) {
		struct zk_task *t = zk_container_of(l, struct zk_task, all);

		view_task(io, t, &v, now);
		emit_task(o, rt, t, &v);
	}
	return n;
}

static unsigned int count_tasks(struct zk_runtime *rt)
{
	unsigned int n = 0;
	struct zk_list *l;

	for (l = rt->tasks.next; l != &rt->tasks; l = l->next)
		n++;
	return n;
}

static void emit_all(struct out *o, struct zk_io *io, unsigned int *ntasks)
{
	struct zk_runtime *rt = io->rt;
	int64_t now = zk_mono_ns();
	const char *ex = zk_executor_name(rt->eops->kind);
	const char *be = zk_backend_name(rt->bops->kind);
	unsigned int n = count_tasks(rt);

	if (o->json) {
		fprintf(o->f, "{\"executor\":\"%s\",\"backend\":\"%s\",\"tasks_live\":%u,"
			"\"threads\":[", ex, be, n);
		emit_threads(o, rt, now);
		fputs("],\"tasks\":[", o->f);
		o->items = 0;
		*ntasks = emit_tasks(o, io, now);
		fputs("]}\n", o->f);
		return;
	}
	fprintf(o->f, "zsync-k-io dump: %s executor, %s backend, %u live tasks\n",
		ex, be, n);
	emit_threads(o, rt, now);
	*ntasks = emit_tasks(o, io, now);
	fputs("end of dump\n", o->f);
}

/* A stdio stream on a copy of @fd, so that fclose() leaves @fd open. */
FILE *zk_fd_stream(int fd)
{
	int dfd = dup(fd);
	FILE *f;

	if (dfd < 0)
		return NULL;
	f = fdopen(dfd, "w");
	if (!f)
		close(dfd);
	return f;
}

int zk_io_dump(struct zk_io *io, int fd, unsigned int flags)
{
	struct out o = { .json = flags & ZK_DUMP_JSON };
	unsigned int n = 0;
	int err;

	o.f = zk_fd_stream(fd);
	if (!o.f)
		return -errno;
	/* Spawns and frees wait; the tasks shown stay allocated meanwhile. */
	pthread_mutex_lock(&io->rt->tasks_lock);
	emit_all(&o, io, &n);
	pthread_mutex_unlock(&io->rt->tasks_lock);
	err = ferror(o.f) ? -EIO : 0;
	if (fclose(o.f) && !err)
		err = -errno;
	return err ? err : (int)n;
}
