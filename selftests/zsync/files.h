/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the file-op selftests (rw.c, fs.c, identity.c): running
 * one SQE, scratch files and directories, children that must exit cleanly,
 * and userfaultfd, which holds a worker inside a transfer for as long as a
 * test needs it there.
 */
#ifndef ZSYNC_SELFTEST_FILES_H
#define ZSYNC_SELFTEST_FILES_H

#include <linux/userfaultfd.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "helpers.h"

/* How long a request that must complete soon (a worker, a wakeup) may take. */
#define ZT_SOON_MS	5000

/* Submit @sqe with @ud alone and return the res of its CQE. */
static inline int zt_run(struct __test_metadata *_metadata, struct zk_ring *ring,
			 struct zsync_sqe *sqe, __u64 ud)
{
	struct zsync_cqe c;

	zk_sqe_set_data64(sqe, ud);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, &c, 1, ZT_SOON_MS);
	EXPECT_EQ(ud, c.user_data) TH_LOG("expected the CQE of user_data %llu, got %llu",
					  (unsigned long long)ud,
					  (unsigned long long)c.user_data);
	EXPECT_EQ(0u, c.flags);
	return c.res;
}

/* Reap one CQE and check it is @ud with @res. */
static inline void zt_expect(struct __test_metadata *_metadata, struct zk_ring *ring,
			     __u64 ud, int res)
{
	struct zsync_cqe c;

	zt_reap(_metadata, ring, &c, 1, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c, 0, ud, res);
}

/* A fresh directory under /tmp (the tests' cwd is /tmp in the VM). */
static inline void zt_mkdtemp(struct __test_metadata *_metadata, char *buf, size_t size,
			      const char *name)
{
	snprintf(buf, size, "/tmp/zs-%s-XXXXXX", name);
	ASSERT_NE(NULL, mkdtemp(buf)) TH_LOG("mkdtemp(%s): %s", buf, strerror(errno));
}

/* Create (or truncate) @path with @len bytes of @data and mode @mode. */
static inline void zt_write_file(struct __test_metadata *_metadata, const char *path,
				 const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ASSERT_LE(0, fd) TH_LOG("open(%s): %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)len, write(fd, data, len));
	ASSERT_EQ(0, fchmod(fd, mode));
	close(fd);
}

/* Byte @i of the pattern files are filled with: differs at every offset mod 251. */
static inline unsigned char zt_pattern(uint64_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static inline void zt_fill_pattern(unsigned char *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = zt_pattern(off + i);
}

/* Index of the first byte of @buf that differs from the pattern at @off, or -1. */
static inline long zt_check_pattern(const unsigned char *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != zt_pattern(off + i))
			return (long)i;
	return -1;
}

/* The child must exit 0 within @ms (it uses ASSERT_*, which abort()). */
static inline void zt_child_ok(struct __test_metadata *_metadata, pid_t pid, int64_t ms)
{
	int status = zt_wait_child(pid, ms);

	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ASSERT_NE(-1, status) TH_LOG("child %d did not finish in %" PRId64 " ms", pid, ms);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x: it failed a check (see its log above)", status);
}

/* Drop to nobody/nogroup for good, supplementary groups included. */
static inline void zt_become_nobody(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
}

/* A pipe whose write end is non-blocking and full. */
static inline void zt_full_pipe(struct __test_metadata *_metadata, int p[2])
{
	static char junk[4096];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, fcntl(p[1], F_SETFL, O_NONBLOCK));
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
}

/* ------------------------------------------------------------------ */
/* userfaultfd: a page whose first touch blocks until resolved         */
/* ------------------------------------------------------------------ */

struct zt_uffd {
	int fd;
	unsigned char *page;
	size_t size;
};

/*
 * Map one page and register it for missing faults, kernel-mode faults
 * included: a worker that copies into it blocks until zt_uffd_resolve().
 * Return: 0, or -errno (no userfaultfd in this kernel, not allowed).
 */
static inline int zt_uffd_init(struct zt_uffd *u)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int err;

	u->size = (size_t)sysconf(_SC_PAGESIZE);
	u->fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0)
		return -errno;
	u->page = mmap(NULL, u->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->page == MAP_FAILED) {
		err = -errno;
		close(u->fd);
		return err;
	}
	reg.range.start = (unsigned long)u->page;
	reg.range.len = u->size;
	if (ioctl(u->fd, UFFDIO_API, &api) || ioctl(u->fd, UFFDIO_REGISTER, &reg)) {
		err = -errno;
		munmap(u->page, u->size);
		close(u->fd);
		return err;
	}
	return 0;
}

/* Wait until @n faults on the page are pending; returns how many were. */
static inline int zt_uffd_wait_faults(struct zt_uffd *u, int n, int64_t ms)
{
	int64_t start = zt_mono_ns();
	struct uffd_msg msg;
	int seen = 0;

	while (seen < n && zt_ms_since(start) < ms) {
		struct pollfd pfd = { .fd = u->fd, .events = POLLIN };

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		while (read(u->fd, &msg, sizeof(msg)) == sizeof(msg))
			seen += msg.event == UFFD_EVENT_PAGEFAULT;
	}
	return seen;
}

/* Map a zero page there: every blocked fault goes on. */
static inline int zt_uffd_resolve(struct zt_uffd *u)
{
	struct uffdio_zeropage zp = {
		.range = { .start = (unsigned long)u->page, .len = u->size },
	};

	return ioctl(u->fd, UFFDIO_ZEROPAGE, &zp) ? -errno : 0;
}

static inline void zt_uffd_exit(struct zt_uffd *u)
{
	munmap(u->page, u->size);
	close(u->fd);
}

#endif /* ZSYNC_SELFTEST_FILES_H */
