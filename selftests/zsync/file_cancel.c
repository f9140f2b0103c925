// SPDX-License-Identifier: GPL-2.0
/*
 * Cancelling file ops in every state, and closing a ring with all of them
 * in flight:
 *
 *  - waiting on a wait queue (a READ on an empty pipe, a WRITE on a full
 *    one): CANCEL, CANCEL_FD and LINK_TIMEOUT end it with -ECANCELED, and
 *    the file is left untouched;
 *  - running in a worker (a WRITE to a block device held inside its copy
 *    from a userfaultfd page or, on kernels without userfaultfd, a WRITE
 *    held by a frozen filesystem): CANCEL answers -EALREADY and the op
 *    completes with its data;
 *  - queued for a worker (every worker held as above): CANCEL ends it;
 *  - waiting for the submitting thread (a chain continuation OPENAT): see
 *    fs.c.
 *
 * Exactly one CQE per request, and nothing is left behind: no fd, no
 * consumed data, the module's reference count back where it was.  A
 * process exiting with a worker held in its memory does not hang.
 *
 * Only regular files of data filesystems and block devices are a worker's
 * (a procfs READ runs in the submitting thread): the held ops are WRITEs.
 */
#include <pthread.h>
#include <sys/socket.h>

#include "files.h"

ZT_RING_FIXTURE(64)

static void expect_pipe_untouched(struct __test_metadata *_metadata, int rd, int wr)
{
	char buf[8] = {};

	ASSERT_EQ(1, write(wr, "z", 1));
	EXPECT_EQ(1, read(rd, buf, sizeof(buf))) TH_LOG("the cancelled READ consumed data");
	EXPECT_STREQ("z", buf);
}

/*
 * READ at the file position of a stream, or at offset 0 of a regular file:
 * reads at the position of one regular file take turns (f_pos_lock).
 */
static void submit_read(struct __test_metadata *_metadata, struct zk_ring *ring, int fd,
			void *buf, unsigned int len, __u64 ud, bool link)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	zk_prep_read(sqe, fd, buf, len, S_ISREG(st.st_mode) ? 0 : ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, ud);
	if (link)
		zt_linked(sqe);
}

TEST_F(ring, read_waiting_on_a_pipe_is_cancelled)
{
	char in[8];
	struct zsync_cqe c[2];
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	submit_read(_metadata, &self->ring, p[0], in, sizeof(in), 1, false);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	zk_prep_cancel(zt_sqe(_metadata, &self->ring), 1, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 0, 1);
	expect_pipe_untouched(_metadata, p[0], p[1]);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	close(p[0]);
	close(p[1]);
}

TEST_F(ring, write_waiting_on_a_full_pipe_is_cancelled_by_fd)
{
	static char drain[1 << 17];
	struct zsync_sqe *sqe;
	struct zsync_cqe c[2];
	ssize_t n, i;
	int p[2];

	zt_full_pipe(_metadata, p);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_write(sqe, p[1], "PPPP", 4, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	zk_prep_cancel_fd(zt_sqe(_metadata, &self->ring), p[1], 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 0, 1);
	ASSERT_EQ(0, fcntl(p[0], F_SETFL, O_NONBLOCK));
	while ((n = read(p[0], drain, sizeof(drain))) > 0)
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, drain[i]) TH_LOG("the cancelled WRITE's data reached the pipe");
	close(p[0]);
	close(p[1]);
}

TEST_F(ring, link_timeout_cancels_a_waiting_read)
{
	struct zsync_cqe c[2];
	char in[8];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	submit_read(_metadata, &self->ring, sv[0], in, sizeof(in), 1, true);
	zt_link_timeout(_metadata, &self->ring, 2, 30, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 2, -ETIME);
	expect_pipe_untouched(_metadata, sv[0], sv[1]);
	close(sv[0]);
	close(sv[1]);
}

/* /proc/version: a procfs file, read by the submitting thread itself. */
static int open_proc_version(struct __test_metadata *_metadata, char *want, size_t len)
{
	int fd = open("/proc/version", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	memset(want, 0, len);
	ASSERT_LT(0, pread(fd, want, len - 1, 0));
	return fd;
}

static void uffd_or_skip(struct __test_metadata *_metadata, struct zt_uffd *u)
{
	int ret = zt_uffd_init(u);

	if (ret)
		SKIP(zt_skip_exit(), "userfaultfd: %s", zt_err(ret));
}

TEST_F(ring, op_running_in_a_worker_cannot_be_cancelled)
{
	struct zsync_cqe c[2];
	struct zt_hold h;

	zt_hold_or_skip(_metadata, &h);
	zt_hold_prep(_metadata, &h, &self->ring, 1);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(1, zt_hold_wait(&h, 1, ZT_SOON_MS))
		TH_LOG("no worker got to the op (%s)", h.uffd ? "userfaultfd" : "frozen fs");
	zk_prep_cancel(zt_sqe(_metadata, &self->ring), 1, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 1, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 0, -EALREADY);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	ASSERT_EQ(0, zt_hold_release(&h));
	zt_expect(_metadata, &self->ring, 1, zt_hold_res(&h));
	zt_hold_check_data(_metadata, &h);
	zt_hold_exit(&h);
}

/*
 * Hold every worker (as above); what is submitted next waits in the
 * queue.
 */
TEST(ops_queued_for_a_worker_are_cancelled)
{
	unsigned int workers = zt_module_param("max_workers", 64), i;
	struct zsync_cqe *c;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	struct stat st;
	struct zt_hold h;
	int wfd, tmp;
	char path[] = "/tmp/zs-q-XXXXXX", wpath[] = "/tmp/zs-qw-XXXXXX";

	ZT_REQUIRE_DEV();
	if (workers > 200)
		SKIP(return, "max_workers %u: too many to hold", workers);
	zt_hold_or_skip(_metadata, &h);
	zt_ring(_metadata, &ring, 256, 0);
	c = calloc(workers + 4, sizeof(*c));
	ASSERT_NE(NULL, c);
	/* A buffered tmpfs WRITE: never tried at submission, a worker's. */
	wfd = mkstemp(wpath);
	ASSERT_LE(0, wfd);
	unlink(wpath);
	tmp = mkstemp(path);
	ASSERT_LE(0, tmp);
	unlink(path);
	for (i = 0; i < workers; i++)
		zt_hold_prep(_metadata, &h, &ring, 100 + i);
	zt_submit(_metadata, &ring, (int)workers);
	ASSERT_EQ((int)workers, zt_hold_wait(&h, (int)workers, 15000))
		TH_LOG("not every worker was held");

	sqe = zt_sqe(_metadata, &ring);
	zk_prep_write(sqe, wfd, "queued", 6, 0);
	zk_sqe_set_data64(sqe, 1);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_fsync(sqe, tmp, 0);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &ring, 2);
	zt_expect_no_cqe(_metadata, &ring, 100);
	zk_prep_cancel(zt_sqe(_metadata, &ring), 1, 0);
	zk_prep_cancel(zt_sqe(_metadata, &ring), 2, 0);
	zt_submit(_metadata, &ring, 2);
	zt_reap(_metadata, &ring, c, 4, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 0, 1);
	zt_check_cqe(_metadata, &c[2], 2, 2, -ECANCELED);
	zt_check_cqe(_metadata, &c[3], 3, 0, 1);
	ASSERT_EQ(0, fstat(wfd, &st));
	EXPECT_EQ(0, st.st_size) TH_LOG("the cancelled WRITE ran");

	ASSERT_EQ(0, zt_hold_release(&h));
	zt_reap(_metadata, &ring, c, workers, 20000);
	for (i = 0; i < workers; i++)
		EXPECT_EQ(zt_hold_res(&h), c[i].res);
	zt_expect_no_cqe(_metadata, &ring, 50);
	zt_hold_check_data(_metadata, &h);
	zk_ring_exit(&ring);
	zt_hold_exit(&h);
	close(wfd);
	free(c);
	close(tmp);
}

/* The module's reference count, as lifecycle.c reads it. */
static int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zsync/refcnt", "re");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static void *release_later(void *arg)
{
	zt_sleep_ms(300);
	zt_hold_release(arg);
	return NULL;
}

/*
 * Close with a READ and a WRITE on wait queues, a READV on a socket, a
 * chain whose OPENAT waits behind a long TIMEOUT, a deferred OPENAT waiting
 * for this thread, an FSYNC, a procfs READ and, if it can be held (see
 * struct zt_hold), an op held in a worker until 300 ms into the close.
 */
TEST(close_ring_with_everything_in_flight)
{
	char in[8], sin[8], want[256], big[4096], dir[64];
	struct iovec iov = { sin, sizeof(sin) };
	int refcnt = module_refcnt(), fds, p[2], q[2], sv[2], proc, dfd;
	unsigned int pending = 0;
	bool held;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	struct zt_hold h;
	pthread_t t;
	int64_t start;

	ZT_REQUIRE_DEV();
	zt_mkdtemp(_metadata, dir, sizeof(dir), "close");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	zt_full_pipe(_metadata, q);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	proc = open_proc_version(_metadata, want, sizeof(want));
	fds = zt_count_fds();
	held = zt_hold_init(&h) == 0;
	zt_ring(_metadata, &ring, 32, 0);

	submit_read(_metadata, &ring, p[0], in, sizeof(in), 1, false);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_write(sqe, q[1], "QQ", 2, ZSYNC_OFF_CURRENT);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_readv(sqe, sv[0], &iov, 1, ZSYNC_OFF_CURRENT);
	zt_linked(zt_timeout(_metadata, &ring, 4, 60000, 0, 0));
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_openat(sqe, dfd, "a", O_CREAT | O_RDWR, 0600);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_fsync(sqe, dfd, 0);
	submit_read(_metadata, &ring, proc, big, sizeof(big), 6, false);
	zt_submit(_metadata, &ring, 7);
	if (held) {
		zt_hold_prep(_metadata, &h, &ring, 9);
		zt_submit(_metadata, &ring, 1);
		ASSERT_EQ(1, zt_hold_wait(&h, 1, ZT_SOON_MS));
	}
	/* Last: any ENTER of this thread would run the deferred OPENAT. */
	zt_linked(zt_timeout(_metadata, &ring, 7, 1, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_openat(sqe, dfd, "b", O_CREAT | O_RDWR, 0600);
	zt_submit(_metadata, &ring, 2);
	start = zt_mono_ns();
	while (!pending && zt_ms_since(start) < ZT_SOON_MS) {
		zt_sleep_ms(5);
		zt_fdinfo(ring.fd, "task_work", &pending);
	}
	EXPECT_EQ(1u, pending) TH_LOG("the second OPENAT never waited for this thread");
	if (held)
		ASSERT_EQ(0, pthread_create(&t, NULL, release_later, &h));

	start = zt_mono_ns();
	zk_ring_exit(&ring);
	EXPECT_GT(5000, zt_ms_since(start)) TH_LOG("close took %" PRId64 " ms",
						   zt_ms_since(start));
	if (held) {
		EXPECT_LE(250, zt_ms_since(start)) TH_LOG("close did not wait for the worker");
		pthread_join(t, NULL);
		zt_hold_check_data(_metadata, &h);
		zt_hold_exit(&h);
	}
	EXPECT_EQ(fds, zt_count_fds()) TH_LOG("an fd was left behind");
	EXPECT_EQ(-1, faccessat(dfd, "a", F_OK, 0)) TH_LOG("the OPENAT behind the TIMEOUT ran");
	EXPECT_EQ(-1, faccessat(dfd, "b", F_OK, 0)) TH_LOG("the deferred OPENAT ran");
	expect_pipe_untouched(_metadata, p[0], p[1]);
	expect_pipe_untouched(_metadata, sv[0], sv[1]);
	if (refcnt >= 0) {
		start = zt_mono_ns();
		while (module_refcnt() != refcnt && zt_ms_since(start) < 2000)
			zt_sleep_ms(10);
		EXPECT_EQ(refcnt, module_refcnt());
	}
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(sv[0]);
	close(sv[1]);
	close(proc);
	close(dfd);
	rmdir(dir);
}


/*
 * A process that exits while a worker is held in a copy from its memory by
 * its own userfaultfd (a WRITE to a block device, see struct zt_hold): the
 * worker keeps the mm, and with it the ring's mappings, alive, so the ring
 * is released only after the userfaultfd (closed by the exit) has let the
 * worker go.  Whichever fd is lower.
 */
static void exit_with_worker_blocked(struct __test_metadata *_metadata, bool ring_first)
{
	struct zt_hold h;
	pid_t pid;

	if (zt_hold_init(&h) || !h.uffd) {
		zt_hold_exit(&h);
		SKIP(return, "no userfaultfd and loop device");
	}
	zt_uffd_exit(&h.u);
	pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct zk_ring ring;
		struct zsync_sqe *sqe;
		struct zt_uffd u = { .fd = -1 };

		if (ring_first)
			zt_ring(_metadata, &ring, 8, 0);
		uffd_or_skip(_metadata, &u);
		if (!ring_first)
			zt_ring(_metadata, &ring, 8, 0);
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_write(sqe, h.loop, u.page, (unsigned int)u.size, 0);
		zk_sqe_set_data64(sqe, 1);
		zt_submit(_metadata, &ring, 1);
		ASSERT_EQ(1, zt_uffd_wait_faults(&u, 1, ZT_SOON_MS));
		_exit(0);
	}
	zt_child_ok(_metadata, pid, 10000);
	ioctl(h.loop, LOOP_CLR_FD, 0);
	close(h.loop);
	unlink(h.img);
}

TEST(exit_with_a_worker_held_does_not_hang_ring_fd_first)
{
	exit_with_worker_blocked(_metadata, true);
}

TEST(exit_with_a_worker_held_does_not_hang_uffd_first)
{
	exit_with_worker_blocked(_metadata, false);
}

TEST_HARNESS_MAIN
