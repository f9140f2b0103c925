// SPDX-License-Identifier: MIT
/*
 * The cgroup lifecycle for runtime authors: create, set, attach, freeze,
 * thaw, kill, remove.  Each call has two halves with one contract:
 *  - the ring: the zsync module's cgroup family (CGROUP_SET, _ATTACH,
 *    _FREEZE, _THAW, _KILL) as ops on the caller's loop, so the knob
 *    writes of a create go out in one submission and the waits park the
 *    calling context instead of a thread;
 *  - the fallback: the same files written with plain syscalls, and the
 *    wait a poll (POLLPRI) on cgroup.events between reads of it.
 * The ring half runs when the backend is zsync and the module offers the
 * op (zk_probe: implemented and its family not disabled); a ring op that
 * is refused (-EOPNOTSUPP: disabled since; -EPERM, -EINVAL: a check the
 * ring makes differently) is done again as syscalls, whose answer the
 * caller gets.  struct zk_cg counts which half each call took.
 *
 * mkdir and rmdir are always syscalls: the module's vfs_mkdir/vfs_rmdir
 * would skip the path-based LSM hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cg_internal.h"

#define CG_BATCH	16	/* knob writes per ring submission */
#define CG_BUSY_NS	1000000	/* rmdir still EBUSY with nothing inside */

/* ---- shared helpers (cg_internal.h) --------------------------------- */

bool zk_cg_ring_ok(struct zk_io *io, const struct zk_cg *cg, enum zk_opcode code)
{
	if (cg && (cg->flags & ZK_CG_NO_RING))
		return false;
	return zk_on_ring(io, code);
}

bool zk_cg_waits_on_ring(struct zk_io *io, const struct zk_cg *cg)
{
	return zk_cg_ring_ok(io, cg, ZK_OPC_CG_SET) && zk_cg_ring_ok(io, cg, ZK_OPC_POLL);
}

bool zk_cg_refused(int res)
{
	return res == -EOPNOTSUPP || res == -EPERM || res == -EINVAL;
}

void zk_cg_note(struct zk_cg *cg, enum zk_cg_path path)
{
	if (!cg)
		return;
	cg->last_path = path;
	if (path == ZK_CG_PATH_RING)
		cg->ring_calls++;
	else
		cg->fallback_calls++;
}

int64_t zk_cg_deadline(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : zk_mono_ns() + timeout_ns;
}

int64_t zk_cg_await_until(struct zk_io *io, struct zk_future *f, int64_t deadline)
{
	struct zk_select_case c = { .kind = ZK_CASE_FUTURE, .f = f };
	int64_t left, res;
	int won;

	if (deadline < 0)
		return zk_await(io, f);
	left = deadline - zk_mono_ns();
	won = zk_select(io, &c, 1, left > 0 ? left : 0);
	if (won == 0)
		return zk_await(io, f);
	res = zk_cancel(io, f);
	if (res != -ECANCELED)
		return res;	/* it completed before the cancel */
	return won == -ETIME ? -ETIMEDOUT : won;
}

struct zk_op *zk_cg_op(struct zk_future *f, enum zk_opcode code, int fd)
{
	int err;

	zk_future_init(f, ZK_F_IDLE);
	return zk_op_begin(f, code, fd, &err);
}

int zk_cg_poll_until(struct zk_io *io, int fd, short events, bool ring,
		     int64_t deadline)
{
	struct zk_future f;
	struct zk_op *op = zk_cg_op(&f, ZK_OPC_POLL, fd);

	op->flags = events;
	op->sys_only = !ring;
	zk_op_start(io, &f);
	return (int)zk_cg_await_until(io, &f, deadline);
}

int zk_cg_read_file(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int64_t zk_cg_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == '\t'))
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

int zk_cg_write_file(int dirfd, const char *name, const char *value)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The ZSYNC_CGROUP_* state in the open cgroup.events @fd, or -errno. */
static int events_state(int fd)
{
	char buf[256];
	int ret = zk_cg_read_file(fd, buf, sizeof(buf));

	if (ret)
		return ret;
	return (zk_cg_field(buf, "populated") > 0 ? CG_POPULATED : 0) |
	       (zk_cg_field(buf, "frozen") > 0 ? CG_FROZEN : 0);
}

/*
 * Wait until (state & @mask) == @want in @dirfd's cgroup.events: read it
 * (which re-arms its POLLPRI), compare, poll, again.  Returns 0 once seen
 * at once (*@waited false) or after waiting, -ETIMEDOUT, or -errno.
 */
static int wait_state(struct zk_io *io, int dirfd, int mask, int want,
		      bool ring, int64_t deadline, bool *waited)
{
	int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	int st, ret;

	if (fd < 0)
		return -errno;
	*waited = false;
	for (;;) {
		st = events_state(fd);
		if (st < 0 || (st & mask) == want) {
			ret = st < 0 ? st : 0;
			break;
		}
		ret = zk_cg_poll_until(io, fd, POLLPRI, ring, deadline);
		if (ret < 0)
			break;
		*waited = true;
	}
	close(fd);
	return ret;
}

/* ---- one op on the ring ----------------------------------------------- */

/* Run @code on @fd (no arguments but the fd) and await it until @deadline. */
static int ring_wait_op(struct zk_io *io, enum zk_opcode code, int fd,
			int64_t deadline)
{
	struct zk_future f;

	zk_cg_op(&f, code, fd);
	zk_op_start(io, &f);
	return (int)zk_cg_await_until(io, &f, deadline);
}

/* ---- knobs ------------------------------------------------------------- */

/* Up to CG_BATCH CGROUP_SETs started at once: one ENTER submits them all. */
static int set_ring_batch(struct zk_io *io, int dirfd,
			  const struct zk_cg_knob *knobs, unsigned int n)
{
	struct zk_future f[CG_BATCH];
	unsigned int i;
	int ret = 0, r;

	for (i = 0; i < n; i++) {
		struct zk_op *op = zk_cg_op(&f[i], ZK_OPC_CG_SET, dirfd);

		op->cbuf = knobs[i].name;
		op->cbuf2 = knobs[i].value;
		op->len = strlen(knobs[i].value);
		zk_op_start(io, &f[i]);
	}
	for (i = 0; i < n; i++) {
		r = (int)zk_await(io, &f[i]);
		if (r < 0 && !ret)
			ret = r;
	}
	return ret;
}

static int set_sys(int dirfd, const struct zk_cg_knob *knobs, unsigned int n)
{
	unsigned int i;
	int ret = 0, r;

	for (i = 0; i < n; i++) {
		r = zk_cg_write_file(dirfd, knobs[i].name, knobs[i].value);
		if (r < 0 && !ret)
			ret = r;
	}
	return ret;
}

/* Write @knobs in @dirfd on the ring if @cg allows, else (or if refused) as syscalls. */
static int set_knobs(struct zk_io *io, struct zk_cg *cg, int dirfd,
		     const struct zk_cg_knob *knobs, unsigned int n)
{
	unsigned int done;
	int ret = 0, r;

	if (zk_cg_ring_ok(io, cg, ZK_OPC_CG_SET)) {
		for (done = 0; done < n; done += CG_BATCH) {
			r = set_ring_batch(io, dirfd, knobs + done,
					   n - done < CG_BATCH ? n - done : CG_BATCH);
			if (r < 0 && !ret)
				ret = r;
		}
		if (!zk_cg_refused(ret)) {
			zk_cg_note(cg, ZK_CG_PATH_RING);
			return ret;
		}
	}
	zk_cg_note(cg, ZK_CG_PATH_FALLBACK);
	return set_sys(dirfd, knobs, n);
}

int zk_cg_set(struct zk_io *io, struct zk_cg *cg,
	      const struct zk_cg_knob *knobs, unsigned int n)
{
	return set_knobs(io, cg, cg->fd, knobs, n);
}

/* ---- create, open, close ---------------------------------------------- */

/*
 * Open @name's parent (dup of @parent_fd, or the directory part of @name
 * below it) into cg->parent_fd and its last component into cg->name.
 */
static int take_parent(struct zk_cg *cg, int parent_fd, const char *name)
{
	const char *slash = strrchr(name, '/');
	char dir[4096];

	if (!slash) {
		cg->parent_fd = parent_fd == AT_FDCWD ?
				open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) :
				fcntl(parent_fd, F_DUPFD_CLOEXEC, 0);
	} else {
		if ((size_t)(slash - name) >= sizeof(dir))
			return -ENAMETOOLONG;
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
		cg->parent_fd = openat(parent_fd, slash == name ? "/" : dir,
				       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		name = slash + 1;
	}
	if (cg->parent_fd < 0)
		return -errno;
	if (!*name || strlen(name) >= sizeof(cg->name))
		return -EINVAL;
	strcpy(cg->name, name);
	return 0;
}

static int cg_init(struct zk_cg *cg, int parent_fd, const char *name,
		   unsigned int flags)
{
	memset(cg, 0, sizeof(*cg));
	cg->fd = cg->parent_fd = -1;
	cg->flags = flags;
	return take_parent(cg, parent_fd, name);
}

static int open_self(struct zk_cg *cg)
{
	cg->fd = openat(cg->parent_fd, cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return cg->fd < 0 ? -errno : 0;
}

void zk_cg_close(struct zk_cg *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	if (cg->parent_fd >= 0)
		close(cg->parent_fd);
	cg->fd = cg->parent_fd = -1;
}

int zk_cg_open(struct zk_io *io, struct zk_cg *cg, int parent_fd,
	       const char *name, unsigned int flags)
{
	int ret = cg_init(cg, parent_fd, name, flags);

	(void)io;
	if (!ret)
		ret = open_self(cg);
	if (ret)
		zk_cg_close(cg);
	return ret;
}

/* "memory pids" -> "+memory +pids" in @out. */
static int controller_list(const char *controllers, char *out, size_t len)
{
	const char *p = controllers;
	size_t used = 0, w;

	out[0] = '\0';
	while (*p) {
		p += strspn(p, " ");
		w = strcspn(p, " ");
		if (!w)
			break;
		if (used + w + 3 > len)
			return -E2BIG;
		used += (size_t)snprintf(out + used, len - used, "%s+%.*s",
					 used ? " " : "", (int)w, p);
		p += w;
	}
	return 0;
}

static int enable_controllers(struct zk_io *io, struct zk_cg *cg,
			      const char *controllers)
{
	char list[512];
	struct zk_cg_knob k = { "cgroup.subtree_control", list };
	int ret;

	if (!controllers)
		return 0;
	ret = controller_list(controllers, list, sizeof(list));
	if (ret || !list[0])
		return ret;
	return set_knobs(io, cg, cg->parent_fd, &k, 1);
}

int zk_cg_create(struct zk_io *io, struct zk_cg *cg, int parent_fd,
		 const char *name, const char *controllers,
		 const struct zk_cg_knob *knobs, unsigned int n,
		 unsigned int flags)
{
	int ret = cg_init(cg, parent_fd, name, flags);

	if (!ret)
		ret = enable_controllers(io, cg, controllers);
	if (ret)
		goto fail;
	if (mkdirat(cg->parent_fd, cg->name, 0755) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = open_self(cg);
	if (!ret && n)
		ret = set_knobs(io, cg, cg->fd, knobs, n);
	if (!ret)
		return 0;
	unlinkat(cg->parent_fd, cg->name, AT_REMOVEDIR);
fail:
	zk_cg_close(cg);
	return ret;
}

/* ---- attach ------------------------------------------------------------ */

/* The pid of the process behind @pidfd (its fdinfo), -ESRCH once it exited. */
static int pidfd_pid(int pidfd)
{
	char path[64], buf[1024];
	int fd, ret;
	int64_t pid;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = zk_cg_read_file(fd, buf, sizeof(buf));
	close(fd);
	if (ret)
		return ret;
	pid = zk_cg_field(buf, "Pid:");
	if (pid == -1 && !strstr(buf, "Pid:"))
		return -EBADF;	/* not a pidfd */
	return pid > 0 ? (int)pid : -ESRCH;
}

static int attach_ring(struct zk_io *io, struct zk_cg *cg, int64_t who,
		       unsigned int flags)
{
	struct zk_future f;
	struct zk_op *op = zk_cg_op(&f, ZK_OPC_CG_ATTACH, cg->fd);

	op->off = (uint64_t)who;
	op->flags = (int)flags;
	zk_op_start(io, &f);
	return (int)zk_await(io, &f);
}

static int attach_sys(struct zk_cg *cg, pid_t pid)
{
	char num[24];

	snprintf(num, sizeof(num), "%d", (int)pid);
	return zk_cg_write_file(cg->fd, "cgroup.procs", num);
}

static int attach(struct zk_io *io, struct zk_cg *cg, int who, bool is_pidfd)
{
	int ret;

	if (zk_cg_ring_ok(io, cg, ZK_OPC_CG_ATTACH)) {
		ret = attach_ring(io, cg, who, is_pidfd ? ZSYNC_CGROUP_ATTACH_PIDFD : 0);
		if (!zk_cg_refused(ret)) {
			zk_cg_note(cg, ZK_CG_PATH_RING);
			return ret;
		}
	}
	zk_cg_note(cg, ZK_CG_PATH_FALLBACK);
	if (is_pidfd) {
		who = pidfd_pid(who);
		if (who < 0)
			return who;
	}
	return attach_sys(cg, who);
}

int zk_cg_attach(struct zk_io *io, struct zk_cg *cg, pid_t pid)
{
	return attach(io, cg, pid, false);
}

int zk_cg_attach_pidfd(struct zk_io *io, struct zk_cg *cg, int pidfd)
{
	return attach(io, cg, pidfd, true);
}

/* ---- freeze, thaw, kill ------------------------------------------------- */

/* One waiting control: the ring op, or a file write and the state to see. */
struct cg_control {
	enum zk_opcode code;
	const char *file;	/* fallback: write "1" or ... */
	const char *value;	/* ... this value */
	int mask, want;		/* then wait for this state */
	const char *revert;	/* on timeout: write this to file, or NULL */
};

static const struct cg_control cg_freeze = {
	ZK_OPC_CG_FREEZE, "cgroup.freeze", "1", CG_FROZEN, CG_FROZEN, "0"
};
static const struct cg_control cg_thaw = {
	ZK_OPC_CG_THAW, "cgroup.freeze", "0", CG_FROZEN, 0, "1"
};
static const struct cg_control cg_kill = {
	ZK_OPC_CG_KILL, "cgroup.kill", "1", CG_POPULATED, 0, NULL
};

static int control_sys(struct zk_io *io, struct zk_cg *cg,
		       const struct cg_control *c, int64_t deadline)
{
	bool waited;
	int ret = zk_cg_write_file(cg->fd, c->file, c->value);

	if (ret)
		return ret;
	return wait_state(io, cg->fd, c->mask, c->want, false, deadline, &waited);
}

static int control(struct zk_io *io, struct zk_cg *cg, const struct cg_control *c,
		   int64_t timeout_ns)
{
	int64_t deadline = zk_cg_deadline(timeout_ns);
	int ret = -EOPNOTSUPP;

	if (zk_cg_ring_ok(io, cg, c->code)) {
		ret = ring_wait_op(io, c->code, cg->fd, deadline);
		zk_cg_note(cg, zk_cg_refused(ret) ? ZK_CG_PATH_FALLBACK : ZK_CG_PATH_RING);
	} else {
		zk_cg_note(cg, ZK_CG_PATH_FALLBACK);
	}
	if (zk_cg_refused(ret))
		ret = control_sys(io, cg, c, deadline);
	/* A freeze that did not finish must not stay half done (and vice versa). */
	if ((ret == -ETIMEDOUT || ret == -ECANCELED) && c->revert)
		zk_cg_write_file(cg->fd, c->file, c->revert);
	return ret;
}

int zk_cg_freeze(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns)
{
	return control(io, cg, &cg_freeze, timeout_ns);
}

int zk_cg_thaw(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns)
{
	return control(io, cg, &cg_thaw, timeout_ns);
}

int zk_cg_kill(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns)
{
	return control(io, cg, &cg_kill, timeout_ns);
}

/* ---- remove ------------------------------------------------------------ */

/*
 * rmdir(2); on EBUSY wait for populated 0 and try again.  Still EBUSY with
 * nothing inside (a child cgroup, or the last task still leaving) backs
 * off CG_BUSY_NS before the next try.  The wait's POLLPRI poll runs on
 * the ring's POLL_ADD when the cgroup family may run (that is the call's
 * path), else in poll(2).
 */
int zk_cg_remove(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns)
{
	int64_t deadline = zk_cg_deadline(timeout_ns);
	bool ring = zk_cg_waits_on_ring(io, cg), waited;
	int ret;

	zk_cg_note(cg, ring ? ZK_CG_PATH_RING : ZK_CG_PATH_FALLBACK);
	for (;;) {
		if (unlinkat(cg->parent_fd, cg->name, AT_REMOVEDIR) == 0)
			break;
		if (errno != EBUSY)
			return -errno;
		ret = wait_state(io, cg->fd, CG_POPULATED, 0, ring, deadline, &waited);
		if (ret)
			return ret;
		if (deadline >= 0 && zk_mono_ns() >= deadline)
			return -ETIMEDOUT;
		if (!waited && zk_sleep(io, CG_BUSY_NS) == -ECANCELED)
			return -ECANCELED;
	}
	zk_cg_close(cg);
	return 0;
}
