/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the zsync-bench* programs share: failure reasons, exit codes,
 * the clock, argument parsing, the statistics of interleaved rounds
 * (median [min..max]) and the allocation count of a run (kmem tracepoints).
 */
#ifndef ZSYNC_BENCH_H
#define ZSYNC_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zsync-k.h"
#include "../common/json.h"

/* Room for why a measurement could not run, printed after the table. */
#define REASON_LEN	160

static inline int fail(char *why, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Record in @why (REASON_LEN bytes) why a run failed; returns @err if it
 * is a negative errno, else -EPROTO, for chaining.
 */
static inline int fail(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, REASON_LEN, fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EPROTO;
}

enum bench_exit {
	EXIT_OK		= 0,	/* every measurement that could run ran */
	EXIT_FAILED	= 1,	/* a backend failed mid-run (wrong CQE, error) */
	EXIT_USAGE	= 2,
};

/* A decimal in [1, @max]: 0, or -EINVAL. */
static inline int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out == 0 || *out > max)
		return -EINVAL;
	return 0;
}

/* A zsync ring of @entries on $ZSYNC_DEV or /dev/zsync: 0, or -errno with @why. */
static inline int bench_zsync_init(struct zk_ring *ring, unsigned int entries, char *why)
{
	const char *dev = getenv("ZSYNC_DEV");
	int ret = zk_ring_init(entries, ring, 0);

	if (ret < 0)
		return fail(why, ret, "cannot set up a ring on %s: %s",
			    dev && *dev ? dev : "/dev/zsync", strerror(-ret));
	return 0;
}

/* An io_uring of @entries: 0, or -errno with @why. */
static inline int bench_uring_init(struct io_uring *ring, unsigned int entries, char *why)
{
	int ret = io_uring_queue_init(entries, ring, 0);

	if (ret < 0)
		return fail(why, ret, "io_uring_queue_init: %s", strerror(-ret));
	return 0;
}

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Defines __wrap_ioctl, counting every ioctl (a zsync ENTER among them)
 * in @counter: for a binary linked with -Wl,--wrap=ioctl.
 */
#define BENCH_WRAP_IOCTL(counter)					\
	int __real_ioctl(int fd, unsigned long req, ...);		\
	int __wrap_ioctl(int fd, unsigned long req, ...);		\
	int __wrap_ioctl(int fd, unsigned long req, ...)		\
	{								\
		va_list ap;						\
		void *arg;						\
									\
		va_start(ap, req);					\
		arg = va_arg(ap, void *);				\
		va_end(ap);						\
		(counter)++;						\
		return __real_ioctl(fd, req, arg);			\
	}

/* ---- rounds: median [min..max] ----------------------------------------- */

/* Measurements of a cell: one per round. */
#define BENCH_MAX_ROUNDS	100
#define BENCH_DEFAULT_ROUNDS	5

struct bench_stat {
	double med, min, max;
	unsigned int n;		/* rounds it is computed from; 0: none */
};

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median (mean of the middle two for an even @n), min and max of @v[0..@n). */
static inline struct bench_stat bench_stat_of(const double *v, unsigned int n)
{
	double s[BENCH_MAX_ROUNDS];
	struct bench_stat st = { 0, 0, 0, 0 };

	if (!n || n > BENCH_MAX_ROUNDS)
		return st;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	st.n = n;
	st.min = s[0];
	st.max = s[n - 1];
	st.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return st;
}

/* The same for 1/x of each value: ns per op -> ops/s, or back. */
static inline struct bench_stat bench_stat_inverse(const struct bench_stat *st, double scale)
{
	struct bench_stat r = *st;

	if (st->n && st->min > 0) {
		r.min = scale / st->max;
		r.max = scale / st->min;
		r.med = scale / st->med;
	}
	return r;
}

/* "median [min..max]" with @prec decimals, right-aligned in @width columns. */
static inline void bench_print_stat(int width, int prec, const struct bench_stat *st)
{
	char cell[96];

	if (!st->n)
		snprintf(cell, sizeof(cell), "n/a");
	else
		snprintf(cell, sizeof(cell), "%.*f [%.*f..%.*f]", prec, st->med, prec,
			 st->min, prec, st->max);
	printf(" %*s", width, cell);
}

/* {"median": .., "min": .., "max": .., "rounds": n} */
static inline void bench_json_stat(int prec, const struct bench_stat *st)
{
	printf("{\"median\": %.*f, \"min\": %.*f, \"max\": %.*f, \"rounds\": %u}", prec,
	       st->med, prec, st->min, prec, st->max, st->n);
}

/* ---- allocations per op: kmem tracepoints -------------------------------- */

/*
 * bench_count_allocs() runs @ops operations in a thread of its own and
 * counts the slab allocations (events kmem/kmem_cache_alloc and
 * kmem/kmalloc, and the *_node ones of kernels before 6.1) whose
 * common_pid is that thread, with a hist trigger keyed by call site.
 * The thread warms up first (a new thread's first ENTER may set up
 * per-task state), then idles in nanosleep() while the triggers are put
 * in and read, so only the measured operations are counted.  Allocations
 * made on the thread's behalf by other tasks (kworkers, io-wq) are not,
 * and neither are page allocations.  The triggers are removed afterwards.
 */
#define BENCH_ALLOC_SITES	3
#define BENCH_TRACEFS_LEN	64

struct bench_allocs {
	bool ok;
	unsigned long ops;
	unsigned long hits;
	unsigned int nsites;
	struct {
		char sym[96];
		unsigned long hits;
	} site[BENCH_ALLOC_SITES];	/* the call sites with the most hits */
	char why[REASON_LEN];		/* when !ok */
};

/* Runs @ops operations: 0, or -errno with @why set. */
typedef int (*bench_ops_fn)(void *arg, unsigned long ops, char *why);

static const char *const bench_kmem_events[] = {
	"kmem_cache_alloc", "kmalloc", "kmem_cache_alloc_node", "kmalloc_node",
};
#define BENCH_NR_KMEM_EVENTS	(sizeof(bench_kmem_events) / sizeof(bench_kmem_events[0]))

/* The tracefs directory with events/kmem, mounting tracefs if need be: 0 or -errno. */
static inline int bench_tracefs(char *dir, char *why)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[BENCH_TRACEFS_LEN + 32];
	size_t i;

	int err = 0;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/kmem", dirs[i]);
		if (!access(path, F_OK))
			goto found;
		/* Not mounted yet (the test VM's init mounts only debugfs)? */
		if (i == 0 && !access(dirs[0], F_OK)) {
			if (mount("nodev", dirs[0], "tracefs", 0, NULL))
				err = errno;
			else if (!access(path, F_OK))
				goto found;
		}
	}
	return fail(why, -ENOENT, "no tracefs with events/kmem%s%s",
		    err ? ": mount: " : "", err ? strerror(err) : "");
found:
	snprintf(dir, BENCH_TRACEFS_LEN, "%s", dirs[i]);
	return 0;
}

static inline int bench_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Does the event trigger file @path list "hist" among the available
 * triggers?  (It lists them only while the event has no trigger; then
 * the answer is yes, and writing the trigger tells.)
 */
static inline bool bench_has_hist(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[256];
	bool has = true;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "# Available triggers:", 21))
			has = fgets(line, sizeof(line), f) && strstr(line, " hist");
	fclose(f);
	return has;
}

/* Adds the hits of one hist file to @a: its total and its call sites. */
static inline void bench_read_hist(const char *path, const char *event,
				   struct bench_allocs *a)
{
	FILE *f = fopen(path, "re");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *sym = strstr(line, "] "), *end = strchr(line, '}');
		char *hc = strstr(line, "hitcount:");
		unsigned long n;
		unsigned int k;

		if (strncmp(line, "{ call_site:", 12) || !sym || !end || !hc || end < sym)
			continue;
		n = strtoul(hc + 9, NULL, 10);
		a->hits += n;
		for (sym += 2; end > sym && end[-1] == ' '; end--)
			;
		*end = 0;
		/* Keep the BENCH_ALLOC_SITES largest, largest first. */
		for (k = 0; k < a->nsites && a->site[k].hits >= n; k++)
			;
		if (k == BENCH_ALLOC_SITES)
			continue;
		if (a->nsites < BENCH_ALLOC_SITES)
			a->nsites++;
		memmove(&a->site[k + 1], &a->site[k], (a->nsites - 1 - k) * sizeof(a->site[0]));
		snprintf(a->site[k].sym, sizeof(a->site[k].sym), "%s (%s)", sym, event);
		a->site[k].hits = n;
	}
	fclose(f);
}

struct bench_alloc_thread {
	bench_ops_fn fn;
	void *arg;
	unsigned long warm, ops;
	atomic_int state;	/* 0 warming up, 1 ready, 2 go, 3 done, 4 quit */
	atomic_int tid;
	int ret;
	char why[REASON_LEN];
};

static inline void bench_nap(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

static inline void *bench_alloc_thread_fn(void *p)
{
	struct bench_alloc_thread *t = p;

	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	t->ret = t->fn(t->arg, t->warm, t->why);
	atomic_store(&t->state, 1);
	while (atomic_load(&t->state) == 1)
		bench_nap();
	if (atomic_load(&t->state) == 4)	/* no tracing after all */
		return NULL;
	t->ret = t->fn(t->arg, t->ops, t->why);
	atomic_store(&t->state, 3);
	while (atomic_load(&t->state) != 4)
		bench_nap();
	return NULL;
}

/*
 * Count the slab allocations of @ops operations of @fn (after @warm
 * unmeasured ones in the same thread) into @a.  Without tracefs or hist
 * triggers, @a->ok is false and @a->why says why; the bench goes on.
 * Returns -errno only if @fn failed.
 */
static inline int bench_count_allocs(bench_ops_fn fn, void *arg, unsigned long warm,
				     unsigned long ops, struct bench_allocs *a)
{
	struct bench_alloc_thread t = { .fn = fn, .arg = arg, .warm = warm, .ops = ops };
	char dir[BENCH_TRACEFS_LEN], path[BENCH_TRACEFS_LEN + 96], trig[192];
	bool on[BENCH_NR_KMEM_EVENTS] = { false };
	unsigned int nr_on = 0;
	pthread_t th;
	size_t e;
	int ret;

	memset(a, 0, sizeof(*a));
	a->ops = ops;
	ret = bench_tracefs(dir, a->why);
	if (ret)
		return 0;
	/*
	 * Else each trigger set or cleared also hooks sched_switch to record
	 * comms: a live patch of __schedule() on a busy CPU, which under
	 * QEMU's TCG can leave a vCPU looping on the patch's int3.
	 */
	snprintf(path, sizeof(path), "%s/options/record-cmd", dir);
	bench_write_file(path, "0");
	if (pthread_create(&th, NULL, bench_alloc_thread_fn, &t)) {
		fail(a->why, -EAGAIN, "pthread_create failed");
		return 0;
	}
	while (atomic_load(&t.state) == 0)
		bench_nap();
	snprintf(trig, sizeof(trig),
		 "hist:keys=call_site.sym:vals=hitcount:sort=hitcount.descending"
		 " if common_pid == %d", atomic_load(&t.tid));
	for (e = 0; e < BENCH_NR_KMEM_EVENTS && !t.ret; e++) {
		snprintf(path, sizeof(path), "%s/events/kmem/%s/trigger", dir,
			 bench_kmem_events[e]);
		if (access(path, F_OK))
			continue;
		if (!bench_has_hist(path)) {
			ret = fail(a->why, -EOPNOTSUPP,
				   "the kernel has no hist triggers (CONFIG_HIST_TRIGGERS)");
			break;
		}
		ret = bench_write_file(path, trig);
		if (ret) {
			fail(a->why, ret, "hist trigger on kmem/%s: %s", bench_kmem_events[e],
			     strerror(-ret));
			break;
		}
		on[e] = true;
		nr_on++;
	}
	if (!ret && !nr_on)
		fail(a->why, -ENOENT, "no kmem allocation events in %s", dir);
	if (!ret && nr_on && !t.ret) {
		atomic_store(&t.state, 2);
		while (atomic_load(&t.state) != 3)
			bench_nap();
		for (e = 0; e < BENCH_NR_KMEM_EVENTS; e++) {
			if (!on[e])
				continue;
			snprintf(path, sizeof(path), "%s/events/kmem/%s/hist", dir,
				 bench_kmem_events[e]);
			bench_read_hist(path, bench_kmem_events[e], a);
		}
		a->ok = !t.ret;
	}
	/* "!hist:..." removes it; the filter must match too. */
	memmove(trig + 1, trig, strlen(trig) + 1);
	trig[0] = '!';
	for (e = 0; e < BENCH_NR_KMEM_EVENTS; e++) {
		if (!on[e])
			continue;
		snprintf(path, sizeof(path), "%s/events/kmem/%s/trigger", dir,
			 bench_kmem_events[e]);
		bench_write_file(path, trig);
	}
	atomic_store(&t.state, 4);
	pthread_join(th, NULL);
	if (t.ret) {
		a->ok = false;
		snprintf(a->why, REASON_LEN, "%s", t.why);
		return t.ret;
	}
	return 0;
}

static inline int bench_open_close(void *arg, unsigned long ops, char *why)
{
	unsigned long i;

	(void)arg;
	for (i = 0; i < ops; i++) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return fail(why, -errno, "open /dev/null: %s", strerror(errno));
		close(fd);
	}
	return 0;
}

/*
 * The control: open() + close() of /dev/null allocates a struct file each
 * time, so a counter that sees fewer than one allocation per op is broken
 * (then @a->ok is false).  Prints the control's line.
 */
static inline bool bench_allocs_control(struct bench_allocs *a)
{
	bench_count_allocs(bench_open_close, NULL, 100, 1000, a);
	if (a->ok && a->hits < a->ops) {
		a->ok = false;
		snprintf(a->why, REASON_LEN, "the control (open+close) counted %lu allocations "
			 "in %lu ops, expected at least one per op", a->hits, a->ops);
	}
	return a->ok;
}

/* "0.000 allocs/op (N in M ops)", then the top call sites, or "n/a (why)". */
static inline void bench_print_allocs(const char *label, const struct bench_allocs *a)
{
	unsigned int k;

	if (!a->ok) {
		printf("%-28s allocs/op: n/a (%s)\n", label, a->why);
		return;
	}
	printf("%-28s allocs/op: %.4f (%lu in %lu ops)\n", label,
	       (double)a->hits / a->ops, a->hits, a->ops);
	for (k = 0; k < a->nsites; k++)
		printf("%-28s   %8lu  %s\n", "", a->site[k].hits, a->site[k].sym);
}

static inline void bench_json_allocs(const struct bench_allocs *a)
{
	unsigned int k;

	if (!a->ok) {
		printf("{\"error\": ");
		json_string(stdout, a->why);
		printf("}");
		return;
	}
	printf("{\"ops\": %lu, \"allocs\": %lu, \"allocs_per_op\": %.6f, \"sites\": [",
	       a->ops, a->hits, (double)a->hits / a->ops);
	for (k = 0; k < a->nsites; k++) {
		printf("%s{\"site\": ", k ? ", " : "");
		json_string(stdout, a->site[k].sym);
		printf(", \"allocs\": %lu}", a->site[k].hits);
	}
	printf("]}");
}

#endif /* ZSYNC_BENCH_H */
