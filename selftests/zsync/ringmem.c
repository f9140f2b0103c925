// SPDX-License-Identifier: GPL-2.0
/*
 * Ring memory that any user sizes: a failed allocation is an -ENOMEM for
 * SETUP, never a warning with a stack trace in the kernel log (which any
 * user could otherwise fill), and one user's rings together stay under
 * the user_ring_kb bound however many rings and processes it uses.
 */
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "helpers.h"
#include "devaccess.h"

#define PARAM		"/sys/module/zsync/parameters/user_ring_kb"
#define FPA		"/sys/kernel/debug/fail_page_alloc/"
#define BOUND_KB	8192U

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static void drop_to_nobody(void)
{
	/* Keeps the device's group, as a member of group zsync would. */
	if (zt_setgroups_dev() || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		_exit(90);
}

/* The pages SETUP's regions take, as the kernel rounds them. */
static unsigned long ring_kb(const struct zsync_params *p)
{
	unsigned long pg = (unsigned long)sysconf(_SC_PAGESIZE);
	unsigned long sq = pg;	/* the SQ header fits a page */
	unsigned long cq = (p->cq_off.cqes + p->cq_entries * sizeof(struct zsync_cqe) + pg - 1) / pg * pg;
	unsigned long sqes = (p->sq_entries * sizeof(struct zsync_sqe) + pg - 1) / pg * pg;

	return (sq + cq + sqes) / 1024;
}

/* 0, or -errno of the ioctl. */
static int setup_big(int fd, struct zsync_params *p)
{
	memset(p, 0, sizeof(*p));
	p->sq_entries = 32768;
	p->flags = ZSYNC_SETUP_CLAMP;
	return ioctl(fd, ZSYNC_IOC_SETUP, p) ? -errno : 0;
}

/*
 * Child, as uid 65534: sets up the largest rings it may until SETUP fails,
 * or until it holds far more than the bound.  Reports through @out: the
 * KiB it got, and the failure.
 */
struct grab {
	unsigned long kb;
	int nr;
	int err;
	int again;	/* SETUP after closing them all */
};

static void grab_rings(struct grab *out, unsigned long stop_kb)
{
	static int fds[4096];
	struct zsync_params p;
	int i;

	drop_to_nobody();
	out->err = 0;
	while (out->kb <= stop_kb && out->nr < 4096) {
		int fd = open(zt_dev_path(), O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			out->err = -errno;
			break;
		}
		out->err = setup_big(fd, &p);
		if (out->err) {
			close(fd);
			break;
		}
		fds[out->nr++] = fd;
		out->kb += ring_kb(&p);
	}
	for (i = 0; i < out->nr; i++)
		close(fds[i]);
	/* Closing gave the memory back to the user. */
	i = open(zt_dev_path(), O_RDWR | O_CLOEXEC);
	out->again = i < 0 ? -errno : setup_big(i, &p);
	_exit(0);
}

TEST(one_user_is_bounded)
{
	struct grab *g;
	char old[32] = "";
	char val[32];
	pid_t pid;
	int status;

	ZT_REQUIRE_DEV();
	if (geteuid() != 0)
		SKIP(return, "needs root, to run as uid 65534 and set " PARAM);
	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g);
	memset(g, 0, sizeof(*g));
	/* A small bound keeps the test cheap; the old module has none to set. */
	read_str(PARAM, old, sizeof(old));
	snprintf(val, sizeof(val), "%u", BOUND_KB);
	write_str(PARAM, val);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		grab_rings(g, BOUND_KB + 16384);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (old[0])
		write_str(PARAM, old);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TH_LOG("uid 65534 got %d rings, %lu KiB, then %s", g->nr, g->kb, zt_err(g->err));
	EXPECT_LT(0, g->nr);
	EXPECT_EQ(-ENOMEM, g->err);
	EXPECT_GE((unsigned long)BOUND_KB, g->kb);
	EXPECT_EQ(0, g->again) TH_LOG("SETUP after closing every ring: %s", zt_err(g->again));
}

/* ---- allocation failures ------------------------------------------------- */

struct knob {
	const char *name, *val;
	char old[32];
};

static struct knob fpa_knobs[] = {
	{ .name = "verbose", .val = "0" },
	{ .name = "task-filter", .val = "Y" },
	{ .name = "min-order", .val = "0" },
	{ .name = "ignore-gfp-wait", .val = "N" },
	{ .name = "ignore-gfp-highmem", .val = "N" },
	{ .name = "space", .val = "0" },
	{ .name = "interval", .val = "1" },
	{ .name = "times", .val = "-1" },
	{ .name = "probability", .val = "100" },
};

static void knobs_restore(void)
{
	int i;

	for (i = (int)ARRAY_SIZE(fpa_knobs) - 1; i >= 0; i--) {
		char path[128];

		if (!fpa_knobs[i].old[0])
			continue;
		snprintf(path, sizeof(path), FPA "%s", fpa_knobs[i].name);
		write_str(path, fpa_knobs[i].old);
	}
}

/* Lines of /dev/kmsg from @fd (positioned at the start) that look like warnings. */
static int kmsg_warnings(struct __test_metadata *_metadata, int fd)
{
	char rec[2048];
	int bad = 0;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, "vmalloc error") || strstr(rec, "Call Trace") ||
		    strstr(rec, "page allocation failure") || strstr(rec, "Unable to allocate")) {
			if (bad++ < 5)
				TH_LOG("kmsg: %s", rec);
		}
	}
	return bad;
}

TEST(setup_failure_is_quiet)
{
	int kfd, i, failed = 0, ok = 0, bad;
	char path[128];

	ZT_REQUIRE_DEV();
	if (geteuid() != 0)
		SKIP(return, "needs root for fault injection");
	if (access(FPA "probability", W_OK))
		SKIP(return, "no " FPA " (CONFIG_FAIL_PAGE_ALLOC and debugfs)");
	if (access("/proc/self/make-it-fail", W_OK))
		SKIP(return, "no /proc/self/make-it-fail (CONFIG_FAULT_INJECTION_DEBUG_FS)");
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd < 0)
		SKIP(return, "no /dev/kmsg: %s", strerror(errno));
	ASSERT_LE(0, lseek(kfd, 0, SEEK_END));

	for (i = 0; i < (int)ARRAY_SIZE(fpa_knobs); i++) {
		snprintf(path, sizeof(path), FPA "%s", fpa_knobs[i].name);
		if (read_str(path, fpa_knobs[i].old, sizeof(fpa_knobs[i].old)))
			fpa_knobs[i].old[0] = '\0';
		if (write_str(path, fpa_knobs[i].val)) {
			knobs_restore();
			SKIP(return, "cannot set %s", path);
		}
	}

	for (i = 0; i < 32; i++) {
		int fd = open(zt_dev_path(), O_RDWR | O_CLOEXEC);
		int mif = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		struct zsync_params p;
		int ret;

		ASSERT_LE(0, fd);
		ASSERT_LE(0, mif);
		memset(&p, 0, sizeof(p));
		p.sq_entries = 32768;
		p.flags = ZSYNC_SETUP_CLAMP;
		/* Only the SETUP ioctl of this thread sees its allocations fail. */
		ASSERT_EQ(1, pwrite(mif, "1", 1, 0));
		ret = ioctl(fd, ZSYNC_IOC_SETUP, &p) ? -errno : 0;
		ASSERT_EQ(1, pwrite(mif, "0", 1, 0));
		close(mif);
		close(fd);
		if (ret == -ENOMEM)
			failed++;
		else if (!ret)
			ok++;
		else
			EXPECT_EQ(-ENOMEM, ret);
	}
	knobs_restore();
	bad = kmsg_warnings(_metadata, kfd);
	close(kfd);
	TH_LOG("SETUP under fail_page_alloc: %d -ENOMEM, %d succeeded", failed, ok);
	EXPECT_LT(0, failed);
	EXPECT_EQ(0, bad) TH_LOG("%d warning lines in the kernel log", bad);
}

TEST_HARNESS_MAIN
