/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the file-op selftests (rw.c, fs.c, identity.c,
 * file_cancel.c): running one SQE, scratch files and directories, children
 * that must exit cleanly, loop devices, and two ways of holding a worker
 * inside a transfer for as long as a test needs it there: userfaultfd, and
 * (for kernels without it, such as the debug kernel) a frozen filesystem.
 */
#ifndef ZSYNC_SELFTEST_FILES_H
#define ZSYNC_SELFTEST_FILES_H

#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/userfaultfd.h>
#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "helpers.h"
#include "devaccess.h"

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

/*
 * Drop to nobody/nogroup for good; of the supplementary groups only the
 * device's (zsync) stays, as for a user allowed to use rings.
 */
static inline void zt_become_nobody(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, zt_setgroups_dev());
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

/* ------------------------------------------------------------------ */
/* Loop devices                                                         */
/* ------------------------------------------------------------------ */

/*
 * Attach the file @img to a free loop device (its path in @dev), writable;
 * returns an fd of the device, or -errno (no loop driver in this kernel).
 */
static inline int zt_loop_attach(const char *img, char *dev, size_t len)
{
	int ctl, n, lfd, ret, bfd = open(img, O_RDWR | O_CLOEXEC);

	if (bfd < 0)
		return -errno;
	if (access("/dev/loop-control", F_OK))
		(void)!system("insmod /lib/modules-extra/loop.ko 2>/dev/null");
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	n = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0) {
		ret = -errno;
	} else {
		snprintf(dev, len, "/dev/loop%d", n);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			ret = -errno;
		} else if (ioctl(lfd, LOOP_SET_FD, bfd)) {
			ret = -errno;
			close(lfd);
		} else {
			ret = lfd;
		}
	}
	if (ctl >= 0)
		close(ctl);
	close(bfd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* A frozen filesystem: a write there blocks in a worker until thawed  */
/* ------------------------------------------------------------------ */

/*
 * An ext2 filesystem on a loop device, frozen (FIFREEZE): a WRITE to
 * @file is never done at submission (no non-blocking buffered writes on
 * ext2) and its worker waits in sb_start_write() until the thaw.  A
 * watchdog process thaws it after ZT_FROZEN_MAX_S even if the test dies
 * with workers held (its exit would wait for them), so that a failing test
 * fails instead of hanging.
 */
#define ZT_FROZEN_MAX_S		"20"

struct zt_frozen {
	int loop;		/* the loop device */
	int file;		/* "f" at the top of the filesystem, read-write */
	int watchdog_pipe;	/* closing it thaws at once */
	pid_t watchdog;
	bool mnt_made, mounted;
	char img[32], mnt[32], dev[32];
};

/*
 * The watchdog: a shell waiting for the end of @rd (or the deadline), then
 * thawing.  It execs so as to hold none of the test's files or mappings (a
 * ring it kept open would outlive the test's close).
 */
static inline void zt_frozen_watch(struct zt_frozen *f, int rd)
{
	if (dup2(rd, 0) == 0 && !close_range(3, ~0U, 0))
		execl("/bin/sh", "sh", "-c",
		      "read -t " ZT_FROZEN_MAX_S " x; fsfreeze -u \"$0\" 2>/dev/null", f->mnt,
		      (char *)NULL);
	_exit(127);
}

/* 0, or -errno: no loop driver, no ext2, no mke2fs, no freezing. */
static inline int zt_frozen_init(struct zt_frozen *f)
{
	char cmd[96];
	int p[2], fd, ret;

	memset(f, 0, sizeof(*f));
	f->loop = f->file = f->watchdog_pipe = -1;
	strcpy(f->img, "/tmp/zs-frz-XXXXXX");
	strcpy(f->mnt, "/tmp/zs-mnt-XXXXXX");
	fd = mkstemp(f->img);
	if (fd < 0)
		return -errno;
	ret = ftruncate(fd, 8 << 20) ? -errno : 0;
	close(fd);
	snprintf(cmd, sizeof(cmd), "mke2fs -q -F %s >/dev/null 2>&1", f->img);
	if (!ret && system(cmd))
		ret = -ENOENT;
	if (!ret) {
		f->loop = zt_loop_attach(f->img, f->dev, sizeof(f->dev));
		ret = f->loop < 0 ? f->loop : 0;
	}
	if (!ret)
		ret = mkdtemp(f->mnt) ? 0 : -errno;
	f->mnt_made = !ret;
	if (!ret)
		ret = mount(f->dev, f->mnt, "ext2", 0, NULL) ? -errno : 0;
	f->mounted = !ret;
	if (!ret) {
		snprintf(cmd, sizeof(cmd), "%s/f", f->mnt);
		f->file = open(cmd, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ret = f->file < 0 ? -errno : 0;
	}
	if (!ret && pipe2(p, O_CLOEXEC))
		ret = -errno;
	if (!ret) {
		f->watchdog = fork();
		if (f->watchdog == 0)
			zt_frozen_watch(f, p[0]);
		close(p[0]);
		f->watchdog_pipe = p[1];
		ret = f->watchdog < 0 ? -errno : 0;
	}
	if (!ret && ioctl(f->file, FIFREEZE, 0))
		ret = -errno;
	return ret;
}

/* Thaw: every held write goes on.  0, or -errno. */
static inline int zt_frozen_thaw(struct zt_frozen *f)
{
	return ioctl(f->file, FITHAW, 0) ? -errno : 0;
}

/* Thaw if still frozen, stop the watchdog, unmount and detach. */
static inline void zt_frozen_exit(struct zt_frozen *f)
{
	if (f->file >= 0)
		ioctl(f->file, FITHAW, 0);
	if (f->watchdog_pipe >= 0)
		close(f->watchdog_pipe);
	if (f->watchdog > 0)
		waitpid(f->watchdog, NULL, 0);
	if (f->file >= 0)
		close(f->file);
	if (f->mounted)
		umount2(f->mnt, MNT_DETACH);
	if (f->mnt_made)
		rmdir(f->mnt);
	if (f->loop >= 0) {
		ioctl(f->loop, LOOP_CLR_FD, 0);
		close(f->loop);
	}
	unlink(f->img);
}

/*
 * How many module workers are blocked right now inside a zsync_io work
 * item: a kworker's comm says "+zsync_io" while it runs one, and its state
 * is D while it waits uninterruptibly (for the thaw).
 */
static inline int zt_workers_blocked(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], buf[256], *st;
		FILE *fp;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fp = fopen(path, "re");
		if (!fp)
			continue;
		if (fgets(buf, sizeof(buf), fp) && strstr(buf, "+zsync_io)")) {
			st = strrchr(buf, ')');
			n += st && st[1] == ' ' && st[2] == 'D';
		}
		fclose(fp);
	}
	closedir(d);
	return n;
}

/* Wait until @n workers are blocked; returns how many were at the end. */
static inline int zt_wait_workers_blocked(int n, int64_t ms)
{
	int64_t start = zt_mono_ns();
	int seen;

	while ((seen = zt_workers_blocked()) < n && zt_ms_since(start) < ms)
		zt_sleep_ms(10);
	return seen;
}

/*
 * Workers held inside ops until release: buffered WRITEs to a loop block
 * device from a userfaultfd page (never tried at submission: block devices
 * take no non-blocking buffered writes), or where the kernel has no
 * userfaultfd (the debug kernel) WRITEs to a file on a frozen filesystem.
 */
#define ZT_HOLD_MAX	256
#define ZT_HOLD_LEN	8

struct zt_hold {
	bool uffd;
	struct zt_uffd u;
	struct zt_frozen f;
	int loop;		/* uffd: the block device written */
	char img[32], dev[32];
	unsigned int nr;
	char data[ZT_HOLD_MAX][ZT_HOLD_LEN + 1];	/* what held WRITEs write */
};

/* uffd: a loop device over a scratch image of 0xaa bytes.  0 or -errno. */
static inline int zt_hold_loop_init(struct zt_hold *h)
{
	static unsigned char junk[4096];
	unsigned int i;
	int fd;

	strcpy(h->img, "/tmp/zs-hold-XXXXXX");
	fd = mkstemp(h->img);
	if (fd < 0)
		return -errno;
	memset(junk, 0xaa, sizeof(junk));
	for (i = 0; i < ZT_HOLD_MAX; i++)
		if (write(fd, junk, sizeof(junk)) != (ssize_t)sizeof(junk))
			break;
	close(fd);
	h->loop = zt_loop_attach(h->img, h->dev, sizeof(h->dev));
	if (h->loop < 0) {
		unlink(h->img);
		return h->loop;
	}
	return 0;
}

/* 0, or -errno: neither way works here. */
static inline int zt_hold_init(struct zt_hold *h)
{
	int ret;

	memset(h, 0, sizeof(*h));
	h->loop = -1;
	h->uffd = zt_uffd_init(&h->u) == 0;
	if (h->uffd && !zt_hold_loop_init(h))
		return 0;
	if (h->uffd)
		zt_uffd_exit(&h->u);
	h->uffd = false;
	ret = zt_frozen_init(&h->f);
	if (ret)
		zt_frozen_exit(&h->f);
	return ret;
}

static inline void zt_hold_or_skip(struct __test_metadata *_metadata,
				   struct zt_hold *h)
{
	int ret = zt_hold_init(h);

	if (ret)
		SKIP(zt_skip_exit(), "neither userfaultfd nor a frozen ext2: %s", zt_err(ret));
}

/* Queue (not submit) an op that a worker will be held in, as @ud. */
static inline void zt_hold_prep(struct __test_metadata *_metadata, struct zt_hold *h,
				struct zk_ring *ring, __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	ASSERT_GT((unsigned int)ZT_HOLD_MAX, h->nr);
	if (h->uffd) {
		zk_prep_write(sqe, h->loop, h->u.page, (unsigned int)h->u.size,
			      (__u64)h->nr * h->u.size);
	} else {
		/* Each WRITE its own place, stamped with its number. */
		snprintf(h->data[h->nr], sizeof(h->data[0]), "w%06u", h->nr);
		zk_prep_write(sqe, h->f.file, h->data[h->nr], ZT_HOLD_LEN,
			      (__u64)h->nr * ZT_HOLD_LEN);
	}
	h->nr++;
	zk_sqe_set_data64(sqe, ud);
}

/* Wait until @n workers are held; returns how many are. */
static inline int zt_hold_wait(struct zt_hold *h, int n, int64_t ms)
{
	if (h->uffd)
		return zt_uffd_wait_faults(&h->u, n, ms);
	return zt_wait_workers_blocked(n, ms);
}

static inline int zt_hold_release(struct zt_hold *h)
{
	return h->uffd ? zt_uffd_resolve(&h->u) : zt_frozen_thaw(&h->f);
}

/* The CQE result of a released op. */
static inline int zt_hold_res(const struct zt_hold *h)
{
	return h->uffd ? (int)h->u.size : ZT_HOLD_LEN;
}

/* The released ops moved their data. */
static inline void zt_hold_check_data(struct __test_metadata *_metadata,
				      struct zt_hold *h)
{
	char got[ZT_HOLD_LEN + 1];
	unsigned int i;

	if (h->uffd) {
		/* The resolved page is zeroes, over the image's 0xaa. */
		for (i = 0; i < h->nr; i++) {
			unsigned char b = 0xaa;

			EXPECT_EQ(1, pread(h->loop, &b, 1, (off_t)(i * h->u.size)));
			EXPECT_EQ(0, b) TH_LOG("held WRITE %u did not write", i);
		}
		return;
	}
	for (i = 0; i < h->nr; i++) {
		memset(got, 0, sizeof(got));
		EXPECT_EQ(ZT_HOLD_LEN, pread(h->f.file, got, ZT_HOLD_LEN,
					     (off_t)i * ZT_HOLD_LEN));
		EXPECT_STREQ(h->data[i], got);
	}
}

static inline void zt_hold_exit(struct zt_hold *h)
{
	if (h->uffd) {
		zt_uffd_exit(&h->u);
		ioctl(h->loop, LOOP_CLR_FD, 0);
		close(h->loop);
		unlink(h->img);
	} else {
		zt_frozen_exit(&h->f);
	}
}

#endif /* ZSYNC_SELFTEST_FILES_H */
