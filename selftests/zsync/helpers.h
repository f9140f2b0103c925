/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the zsync selftests.  Include after nothing else: this
 * pulls in kselftest_harness.h and zsync-k.h.
 *
 * Every helper that checks something takes the harness's _metadata so its
 * ASSERT_* / EXPECT_* report against the running test, and says in its log
 * line what it expected and what it saw.
 */
#ifndef ZSYNC_SELFTEST_HELPERS_H
#define ZSYNC_SELFTEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "zsync-k.h"

#define ZT_DEV_DEFAULT	"/dev/zsync"

/*
 * Timers in a QEMU TCG guest on a busy 2-core host fire late by tens of
 * milliseconds, sometimes more: "not absurdly late" means within this.
 */
#define ZT_LATE_MS	1000

/* How long to wait for a CQE that must come "now" (inline completions). */
#define ZT_PROMPT_MS	2000

#define ZT_NSEC_PER_SEC		((int64_t)1000000000)
#define ZT_NSEC_PER_MSEC	((int64_t)1000000)

/* ------------------------------------------------------------------ */
/* Device presence                                                     */
/* ------------------------------------------------------------------ */

static inline const char *zt_dev_path(void)
{
	const char *dev = getenv("ZSYNC_DEV");

	return dev && *dev ? dev : ZT_DEV_DEFAULT;
}

static inline bool zt_dev_present(void)
{
	return access(zt_dev_path(), F_OK) == 0;
}

/*
 * Leave the test child with the harness's SKIP exit code.  Needed in
 * FIXTURE_SETUP: the 6.1 harness runs the test body after a SKIP that only
 * returns from setup (it checks ->passed, which SKIP leaves at 1).
 */
static inline void zt_skip_exit(void)
{
	fflush(NULL);
	_exit(255);
}

/* SKIP (never pass) the current test when the module is not loaded. */
#define ZT_REQUIRE_DEV() do {						\
	if (!zt_dev_present())						\
		SKIP(zt_skip_exit(), "%s missing: zsync module not loaded", \
		     zt_dev_path());					\
} while (0)

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/* "-ETIME"-style name of a CQE result or return value, for log lines. */
static inline const char *zt_err(int res)
{
	static char buf[4][32];
	static unsigned int slot;
	char *b = buf[slot++ % 4];

	switch (res) {
	case 0:			return "0";
	case -EINVAL:		return "-EINVAL";
	case -ETIME:		return "-ETIME";
	case -ECANCELED:	return "-ECANCELED";
	case -ENOENT:		return "-ENOENT";
	case -EALREADY:		return "-EALREADY";
	case -EBUSY:		return "-EBUSY";
	case -EFAULT:		return "-EFAULT";
	case -EINTR:		return "-EINTR";
	case -EIO:		return "-EIO";
	case -EACCES:		return "-EACCES";
	case -EBADF:		return "-EBADF";
	case -EBADFD:		return "-EBADFD";
	case -ENOTTY:		return "-ENOTTY";
	case -EAGAIN:		return "-EAGAIN";
	case -ENXIO:		return "-ENXIO";
	case -ENOMEM:		return "-ENOMEM";
	case -ENOTSOCK:		return "-ENOTSOCK";
	case -ECONNREFUSED:	return "-ECONNREFUSED";
	case -EPIPE:		return "-EPIPE";
	case -EMSGSIZE:		return "-EMSGSIZE";
	case -ENOBUFS:		return "-ENOBUFS";
	case -EOVERFLOW:	return "-EOVERFLOW";
	}
	snprintf(b, sizeof(buf[0]), "%d", res);
	return b;
}

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

static inline int64_t zt_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * ZT_NSEC_PER_SEC + ts.tv_nsec;
}

static inline int64_t zt_mono_ns(void)
{
	return zt_now_ns(CLOCK_MONOTONIC);
}

static inline int64_t zt_ms_since(int64_t start_ns)
{
	return (zt_mono_ns() - start_ns) / ZT_NSEC_PER_MSEC;
}

/* Whether this is the KASAN/lockdep kernel ("debug" in its release). */
static inline bool zt_debug_kernel(void)
{
	struct utsname u;

	return uname(&u) == 0 && strstr(u.release, "debug");
}

static inline struct zsync_timespec zt_ts_ns(int64_t ns)
{
	struct zsync_timespec ts = {
		.tv_sec = ns / ZT_NSEC_PER_SEC,
		.tv_nsec = ns % ZT_NSEC_PER_SEC,
	};

	return ts;
}

static inline struct zsync_timespec zt_ts_ms(int64_t ms)
{
	return zt_ts_ns(ms * ZT_NSEC_PER_MSEC);
}

static inline void zt_sleep_ms(int64_t ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * ZT_NSEC_PER_MSEC,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Raw device access                                                   */
/* ------------------------------------------------------------------ */

/* ioctl() returning the result or -errno. */
/* waitpid(@pid) for up to @ms; returns the status or -1 on timeout. */
static inline int zt_wait_child(pid_t pid, int64_t ms)
{
	int64_t start = zt_mono_ns();
	int status;

	while (zt_ms_since(start) < ms) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		zt_sleep_ms(5);
	}
	return -1;
}

/* The state letter of process or thread @pid in /proc/PID/stat, or 0 if gone. */
static inline char zt_proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Poll until @pid is in @state (e.g. 'S': asleep) for up to @ms; whether it is. */
static inline bool zt_wait_state(pid_t pid, char state, int64_t ms)
{
	int64_t start = zt_mono_ns();

	while (zt_proc_state(pid) != state && zt_ms_since(start) < ms)
		zt_sleep_ms(1);
	return zt_proc_state(pid) == state;
}

/*
 * The first two CPUs the test may run on, for races whose two sides must
 * really run at once (zt_pick_cpus()); [1] == [0] with only one, -1 before.
 */
static inline int *zt_cpus(void)
{
	static int cpus[2] = { -1, -1 };

	return cpus;
}

static inline void zt_pick_cpus(void)
{
	int *cpus = zt_cpus();
	cpu_set_t set;
	int c, n = 0;

	cpus[0] = cpus[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n == 1)
		cpus[1] = cpus[0];
}

/* Move the calling thread to zt_cpus()[@i]; it runs there when this returns. */
static inline void zt_run_on(int i)
{
	cpu_set_t set;

	if (zt_cpus()[i] < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(zt_cpus()[i], &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static inline int zt_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* Open the device; the test is skipped when it is missing. */
static inline int zt_open_dev(struct __test_metadata *_metadata)
{
	int fd;

	ZT_REQUIRE_DEV();
	fd = open(zt_dev_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open(%s): %s", zt_dev_path(), strerror(errno));
	return fd;
}

/* Raw ENTER: returns the ioctl result or -errno. */
static inline int zt_enter_raw(int fd, struct zsync_enter *e)
{
	return zt_ioctl(fd, ZSYNC_IOC_ENTER, e);
}

/* ------------------------------------------------------------------ */
/* Rings through the library                                           */
/* ------------------------------------------------------------------ */

/* Set up @ring with @p (sq_entries = @entries); skip without the device. */
static inline void zt_ring_params(struct __test_metadata *_metadata,
				  struct zk_ring *ring, unsigned int entries,
				  struct zsync_params *p)
{
	int ret;

	ZT_REQUIRE_DEV();
	ret = zk_ring_init_params(entries, ring, p);
	ASSERT_EQ(0, ret) TH_LOG("zk_ring_init_params(%u, flags %#x) = %s",
				 entries, p->flags, zt_err(ret));
}

static inline void zt_ring(struct __test_metadata *_metadata,
			   struct zk_ring *ring, unsigned int entries,
			   unsigned int flags)
{
	struct zsync_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	zt_ring_params(_metadata, ring, entries, &p);
}

/* An SQE that must be available (the tests size their rings). */
static inline struct zsync_sqe *zt_sqe(struct __test_metadata *_metadata,
				       struct zk_ring *ring)
{
	struct zsync_sqe *sqe = zk_get_sqe(ring);

	ASSERT_NE(NULL, sqe) TH_LOG("zk_get_sqe: SQ full (%u entries)",
				    ring->sq.entries);
	return sqe;
}

static inline struct zsync_sqe *zt_nop(struct __test_metadata *_metadata,
				       struct zk_ring *ring, __u64 user_data)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_nop(sqe);
	zk_sqe_set_data64(sqe, user_data);
	return sqe;
}

/*
 * Storage for timespecs handed to zk_prep_*timeout(): the kernel copies
 * them at submission, so each must stay valid until zk_submit().  A slot is
 * reused only after 16384 more, far more than any test preps unsubmitted.
 */
static inline struct zsync_timespec *zt_ts_slot(void)
{
	static struct zsync_timespec slots[16384];
	static unsigned int next;

	return &slots[next++ % 16384];
}

/* TIMEOUT of @ns nanoseconds (relative unless @flags say otherwise). */
static inline struct zsync_sqe *zt_timeout_ns(struct __test_metadata *_metadata,
					      struct zk_ring *ring, __u64 user_data,
					      int64_t ns, unsigned int count,
					      unsigned int flags)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);
	struct zsync_timespec *t = zt_ts_slot();

	*t = zt_ts_ns(ns);
	zk_prep_timeout(sqe, t, count, flags);
	zk_sqe_set_data64(sqe, user_data);
	return sqe;
}

static inline struct zsync_sqe *zt_timeout(struct __test_metadata *_metadata,
					   struct zk_ring *ring, __u64 user_data,
					   int64_t ms, unsigned int count,
					   unsigned int flags)
{
	return zt_timeout_ns(_metadata, ring, user_data, ms * ZT_NSEC_PER_MSEC,
			     count, flags);
}

/* LINK_TIMEOUT of @ms for the previous SQE (which must carry LINK). */
static inline struct zsync_sqe *zt_link_timeout(struct __test_metadata *_metadata,
						struct zk_ring *ring, __u64 user_data,
						int64_t ms, unsigned int flags)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);
	struct zsync_timespec *t = zt_ts_slot();

	*t = zt_ts_ms(ms);
	zk_prep_link_timeout(sqe, t, flags);
	zk_sqe_set_data64(sqe, user_data);
	return sqe;
}

/* Give @sqe the ZSYNC_SQE_LINK flag; returns it. */
static inline struct zsync_sqe *zt_linked(struct zsync_sqe *sqe)
{
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	return sqe;
}

/*
 * Publish the SQEs taken with zk_get_sqe() without entering the kernel, for
 * tests that then call ENTER themselves (as zk_submit() would publish).
 */
static inline void zt_publish_sq(struct zk_ring *ring)
{
	zk_store_release(ring->sq.ktail, ring->sq.sqe_tail);
	ring->sq.sqe_head = ring->sq.sqe_tail;
}

/* zk_submit() that must consume exactly @want SQEs. */
static inline void zt_submit(struct __test_metadata *_metadata,
			     struct zk_ring *ring, int want)
{
	int ret = zk_submit(ring);

	ASSERT_EQ(want, ret) TH_LOG("zk_submit: expected %d SQEs consumed, got %s",
				    want, zt_err(ret));
}

/*
 * Reap exactly @n CQEs into @out (may be NULL), in CQ order, waiting at
 * most @timeout_ms in total; asserts they all arrive.
 */
static inline void zt_reap(struct __test_metadata *_metadata,
			   struct zk_ring *ring, struct zsync_cqe *out,
			   unsigned int n, int64_t timeout_ms)
{
	int64_t start = zt_mono_ns();
	struct zsync_cqe *cqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		int64_t left = timeout_ms - zt_ms_since(start);
		struct zsync_timespec ts = zt_ts_ms(left > 0 ? left : 0);
		int ret = zk_wait_cqe_timeout(ring, &cqe, &ts);

		ASSERT_EQ(0, ret) TH_LOG("waiting for CQE %u of %u: %s after %" PRId64 " ms",
					 i + 1, n, zt_err(ret), zt_ms_since(start));
		if (out)
			out[i] = *cqe;
		zk_cqe_seen(ring, cqe);
	}
}

/*
 * Submits the one SQE prepared in @ring and reaps its CQE within
 * @timeout_ms; returns its res.
 */
static inline int zt_one_within(struct __test_metadata *_metadata,
				struct zk_ring *ring, int64_t timeout_ms)
{
	struct zsync_cqe c;

	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, &c, 1, timeout_ms);
	return c.res;
}

/* Reap one CQE (promptly) and check its user_data, res and flags. */
static inline void zt_expect_cqe(struct __test_metadata *_metadata,
				 struct zk_ring *ring, __u64 ud, int res,
				 unsigned int flags)
{
	struct zsync_cqe c;

	zt_reap(_metadata, ring, &c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(ud, c.user_data) TH_LOG("expected user_data %llu, got %llu (res %s)",
					  (unsigned long long)ud,
					  (unsigned long long)c.user_data, zt_err(c.res));
	EXPECT_EQ(res, c.res) TH_LOG("user_data %llu: expected res %#x (%s), got %#x (%s)",
				     (unsigned long long)ud, res, zt_err(res), c.res,
				     zt_err(c.res));
	EXPECT_EQ(flags, c.flags) TH_LOG("user_data %llu: expected flags %#x, got %#x",
					 (unsigned long long)ud, flags, c.flags);
}

/* An SQE (see zt_sqe()) whose CQE will carry @user_data. */
static inline struct zsync_sqe *zt_sqe_ud(struct __test_metadata *_metadata,
					  struct zk_ring *ring, __u64 user_data)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_sqe_set_data64(sqe, user_data);
	return sqe;
}

/* Assert that no CQE (not even from the overflow list) arrives in @ms. */
static inline void zt_expect_no_cqe(struct __test_metadata *_metadata,
				    struct zk_ring *ring, int64_t ms)
{
	struct zsync_timespec ts = zt_ts_ms(ms);
	struct zsync_cqe *cqe = NULL;
	int ret = zk_wait_cqe_timeout(ring, &cqe, &ts);

	EXPECT_EQ(-ETIME, ret) {
		if (ret == 0)
			TH_LOG("unexpected extra CQE: user_data %#llx res %s",
			       (unsigned long long)cqe->user_data,
			       zt_err(cqe->res));
		else
			TH_LOG("waiting for no CQE: %s", zt_err(ret));
	}
	if (ret == 0)
		zk_cqe_seen(ring, cqe);
}

/* Check one reaped CQE; @idx is its position, for the log line. */
static inline void zt_check_cqe(struct __test_metadata *_metadata,
				const struct zsync_cqe *c, unsigned int idx,
				__u64 user_data, int res)
{
	EXPECT_EQ(user_data, c->user_data)
		TH_LOG("CQE #%u: expected user_data %#llx, got %#llx (res %s)",
		       idx, (unsigned long long)user_data,
		       (unsigned long long)c->user_data, zt_err(c->res));
	EXPECT_EQ(res, c->res)
		TH_LOG("CQE #%u (user_data %#llx): expected res %s, got %s",
		       idx, (unsigned long long)c->user_data, zt_err(res),
		       zt_err(c->res));
	EXPECT_EQ(0u, c->flags)
		TH_LOG("CQE #%u (user_data %#llx): expected flags 0, got %#x",
		       idx, (unsigned long long)c->user_data, c->flags);
}

/* Index of the CQE with @user_data in @c[0..n), or -1. */
static inline int zt_find_cqe(const struct zsync_cqe *c, unsigned int n,
			      __u64 user_data)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (c[i].user_data == user_data)
			return (int)i;
	return -1;
}

/* Assert the CQE with @user_data is in @c[0..n) exactly once, with @res. */
static inline void zt_check_has(struct __test_metadata *_metadata,
				const struct zsync_cqe *c, unsigned int n,
				__u64 user_data, int res)
{
	unsigned int i, seen = 0;
	int at = zt_find_cqe(c, n, user_data);

	for (i = 0; i < n; i++)
		seen += c[i].user_data == user_data;
	EXPECT_EQ(1u, seen)
		TH_LOG("expected exactly one CQE with user_data %#llx among %u, saw %u",
		       (unsigned long long)user_data, n, seen);
	if (at >= 0)
		zt_check_cqe(_metadata, &c[at], (unsigned int)at, user_data, res);
}

/* ------------------------------------------------------------------ */
/* /proc and /sys                                                      */
/* ------------------------------------------------------------------ */

/*
 * Value of the "@key:\t%u" line of /proc/self/fdinfo/@fd.
 * Return: 0, -ENOENT if the line is missing, -errno if unreadable.
 */
static inline int zt_fdinfo(int fd, const char *key, unsigned int *val)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		ret = sscanf(line + klen + 1, " %u", val) == 1 ? 0 : -EINVAL;
		break;
	}
	fclose(f);
	return ret;
}

/* Assert the fdinfo line @key of @fd reads @want. */
static inline void zt_check_fdinfo(struct __test_metadata *_metadata, int fd,
				   const char *key, unsigned int want)
{
	unsigned int val = 0;
	int ret = zt_fdinfo(fd, key, &val);

	ASSERT_EQ(0, ret) TH_LOG("/proc/self/fdinfo/%d: no \"%s:\" line (%s)",
				 fd, key, zt_err(ret));
	EXPECT_EQ(want, val) TH_LOG("fdinfo %s: expected %u, got %u", key, want, val);
}

/* A module parameter from /sys/module/zsync/parameters, or @def. */
static inline unsigned int zt_module_param(const char *name, unsigned int def)
{
	char path[128];
	unsigned int val;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/zsync/parameters/%s", name);
	f = fopen(path, "re");
	if (!f)
		return def;
	if (fscanf(f, "%u", &val) != 1)
		val = def;
	fclose(f);
	return val;
}

/* Open descriptors of this process (for leak checks). */
static inline int zt_count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/*
 * The fixture most suites use: one fresh ring of @entries per test, set up
 * and torn down by the harness.
 */
#define ZT_RING_FIXTURE(entries)					\
	FIXTURE(ring) {							\
		struct zk_ring ring;					\
	};								\
	FIXTURE_SETUP(ring)						\
	{								\
		zt_ring(_metadata, &self->ring, (entries), 0);		\
	}								\
	FIXTURE_TEARDOWN(ring)						\
	{								\
		zk_ring_exit(&self->ring);				\
	}

#endif /* ZSYNC_SELFTEST_HELPERS_H */
