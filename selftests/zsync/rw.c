// SPDX-License-Identifier: GPL-2.0
/*
 * READ, WRITE, READV, WRITEV and FSYNC: data written and read back at
 * offsets and at the file position, vectored, short at end of file; pipes,
 * sockets and eventfd (waiting on wait queues); uncached block-device reads
 * (done by a worker); RLIMIT_FSIZE in a worker; and every error the ops
 * define.  Cancellation and ring close are in rw_cancel.c.
 */
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "files.h"

ZT_RING_FIXTURE(64)

/* A scratch file on /tmp (tmpfs), unlinked, opened O_RDWR; @len bytes of pattern. */
static int pattern_file(struct __test_metadata *_metadata, size_t len)
{
	char path[] = "/tmp/zs-rw-XXXXXX";
	unsigned char *buf = malloc(len ? len : 1);
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	unlink(path);
	zt_fill_pattern(buf, len, 0);
	ASSERT_EQ((ssize_t)len, pwrite(fd, buf, len, 0));
	free(buf);
	return fd;
}

static int run_read(struct __test_metadata *_metadata, struct zk_ring *ring, int fd,
		    void *buf, unsigned int len, __u64 off)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_read(sqe, fd, buf, len, off);
	return zt_run(_metadata, ring, sqe, 1);
}

static int run_write(struct __test_metadata *_metadata, struct zk_ring *ring, int fd,
		     const void *buf, unsigned int len, __u64 off)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_write(sqe, fd, buf, len, off);
	return zt_run(_metadata, ring, sqe, 2);
}

TEST_F(ring, write_then_read_back_at_offsets)
{
	unsigned char out[12288], in[12288];
	int fd = pattern_file(_metadata, 0);

	zt_fill_pattern(out, sizeof(out), 0);
	EXPECT_EQ(8192, run_write(_metadata, &self->ring, fd, out, 8192, 0));
	EXPECT_EQ(4096, run_write(_metadata, &self->ring, fd, out + 8192, 4096, 8192));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR))
		TH_LOG("explicit offsets must leave the file position alone");
	EXPECT_EQ(12288, lseek(fd, 0, SEEK_END));

	memset(in, 0, sizeof(in));
	EXPECT_EQ(12288, run_read(_metadata, &self->ring, fd, in, sizeof(in), 0));
	EXPECT_EQ(-1, zt_check_pattern(in, sizeof(in), 0));
	memset(in, 0, sizeof(in));
	EXPECT_EQ(100, run_read(_metadata, &self->ring, fd, in, 100, 5000));
	EXPECT_EQ(-1, zt_check_pattern(in, 100, 5000));
	EXPECT_EQ(0, in[100]) TH_LOG("READ wrote past the %u bytes asked for", 100);
	close(fd);
}

TEST_F(ring, short_read_at_end_of_file)
{
	unsigned char in[8192];
	int fd = pattern_file(_metadata, 5000);

	EXPECT_EQ(5000, run_read(_metadata, &self->ring, fd, in, sizeof(in), 0));
	EXPECT_EQ(-1, zt_check_pattern(in, 5000, 0));
	EXPECT_EQ(1000, run_read(_metadata, &self->ring, fd, in, sizeof(in), 4000));
	EXPECT_EQ(-1, zt_check_pattern(in, 1000, 4000));
	EXPECT_EQ(0, run_read(_metadata, &self->ring, fd, in, sizeof(in), 5000));
	EXPECT_EQ(0, run_read(_metadata, &self->ring, fd, in, sizeof(in), 1 << 30));
	EXPECT_EQ(0, run_read(_metadata, &self->ring, fd, in, 0, 0));
	close(fd);
}

TEST_F(ring, vectored_write_and_read)
{
	unsigned char a[100], b[4000], c[1], big[5000];
	struct iovec wv[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	unsigned char r1[10], r2[6000];
	struct iovec rv[2] = { { r1, sizeof(r1) }, { r2, sizeof(r2) } };
	int fd = pattern_file(_metadata, 0);
	struct zsync_sqe *sqe;

	zt_fill_pattern(big, sizeof(big), 0);
	memcpy(a, big, sizeof(a));
	memcpy(b, big + 100, sizeof(b));
	memcpy(c, big + 4100, sizeof(c));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_writev(sqe, fd, wv, 3, 0);
	EXPECT_EQ(4101, zt_run(_metadata, &self->ring, sqe, 1));

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, fd, rv, 2, 50);
	EXPECT_EQ(4051, zt_run(_metadata, &self->ring, sqe, 2));
	EXPECT_EQ(-1, zt_check_pattern(r1, sizeof(r1), 50));
	EXPECT_EQ(-1, zt_check_pattern(r2, 4041, 60));

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, fd, rv, 0, 0);
	EXPECT_EQ(0, zt_run(_metadata, &self->ring, sqe, 3)) TH_LOG("no iovecs: nothing to read");
	close(fd);
}

/* Many iovecs: the array is copied at submission, not read again. */
TEST_F(ring, readv_of_1024_iovecs_is_copied_at_submission)
{
	static unsigned char data[1024 * 4];
	struct iovec *iov = calloc(1024, sizeof(*iov));
	int fd = pattern_file(_metadata, sizeof(data));
	struct zsync_sqe *sqe;
	int i;

	ASSERT_NE(NULL, iov);
	for (i = 0; i < 1024; i++) {
		iov[i].iov_base = data + 4 * (1023 - i);	/* reversed */
		iov[i].iov_len = 4;
	}
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, fd, iov, 1024, 0);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &self->ring, 1);
	memset(iov, 0xff, 1024 * sizeof(*iov));	/* garbage after submission */
	zt_expect(_metadata, &self->ring, 1, (int)sizeof(data));
	for (i = 0; i < 1024; i++)
		EXPECT_EQ(-1, zt_check_pattern(data + 4 * (1023 - i), 4, 4 * i));

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, fd, iov, 1025, 0);
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 2)) TH_LOG("more than UIO_MAXIOV");
	free(iov);
	close(fd);
}

TEST_F(ring, current_position_is_used_and_advanced)
{
	char in[32] = {};
	int fd = pattern_file(_metadata, 0);
	struct zsync_sqe *sqe;
	struct zsync_cqe c[3];
	int i;

	EXPECT_EQ(6, run_write(_metadata, &self->ring, fd, "hello ", 6, ZSYNC_OFF_CURRENT));
	EXPECT_EQ(6, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(5, run_write(_metadata, &self->ring, fd, "world", 5, ZSYNC_OFF_CURRENT));
	EXPECT_EQ(11, lseek(fd, 0, SEEK_CUR));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(5, run_read(_metadata, &self->ring, fd, in, 5, ZSYNC_OFF_CURRENT));
	EXPECT_EQ(0, memcmp(in, "hello", 5));
	EXPECT_EQ(5, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(6, run_read(_metadata, &self->ring, fd, in, sizeof(in), ZSYNC_OFF_CURRENT));
	EXPECT_EQ(0, memcmp(in, " world", 6));
	EXPECT_EQ(0, run_read(_metadata, &self->ring, fd, in, sizeof(in), ZSYNC_OFF_CURRENT));

	/* Linked, three reads at the position take consecutive pieces. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	memset(in, 0, sizeof(in));
	for (i = 0; i < 3; i++) {
		sqe = zt_sqe(_metadata, &self->ring);
		zk_prep_read(sqe, fd, in + 4 * i, 4, ZSYNC_OFF_CURRENT);
		zk_sqe_set_data64(sqe, 10 + i);
		if (i < 2)
			zt_linked(sqe);
	}
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, c, 3, ZT_SOON_MS);
	for (i = 0; i < 3; i++)
		zt_check_cqe(_metadata, &c[i], i, 10 + i, i < 2 ? 4 : 3);
	EXPECT_EQ(0, memcmp(in, "hello world", 11));
	EXPECT_EQ(11, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_F(ring, append_mode_writes_at_the_end)
{
	char path[] = "/tmp/zs-rw-XXXXXX";
	char in[16] = {};
	int fd = mkstemp(path), afd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "abc", 3));
	afd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, afd);
	unlink(path);
	EXPECT_EQ(3, run_write(_metadata, &self->ring, afd, "def", 3, 0));
	EXPECT_EQ(6, pread(fd, in, sizeof(in), 0));
	EXPECT_STREQ("abcdef", in);
	close(afd);
	close(fd);
}

TEST_F(ring, pipe_read_waits_for_data)
{
	char in[16] = {};
	int p[2];
	struct zsync_sqe *sqe;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, p[0], in, sizeof(in), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	ASSERT_EQ(5, write(p[1], "pipe!", 5));
	zt_expect(_metadata, &self->ring, 1, 5);
	EXPECT_EQ(0, memcmp(in, "pipe!", 5));

	/* Data already there: completes inside ENTER. */
	ASSERT_EQ(3, write(p[1], "xyz", 3));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, p[0], in, sizeof(in), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1u, zk_cq_ready(&self->ring)) TH_LOG("a ready pipe completes at submission");
	zt_expect(_metadata, &self->ring, 2, 3);

	/* End of file once the writer is gone. */
	close(p[1]);
	EXPECT_EQ(0, run_read(_metadata, &self->ring, p[0], in, sizeof(in), ZSYNC_OFF_CURRENT));
	close(p[0]);
}

TEST_F(ring, pipe_write_waits_for_room)
{
	static char drain[1 << 17];
	char msg[100];
	int p[2];
	struct zsync_sqe *sqe;

	zt_full_pipe(_metadata, p);
	memset(msg, 'm', sizeof(msg));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_write(sqe, p[1], msg, sizeof(msg), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	ASSERT_LT(0, read(p[0], drain, sizeof(drain)));
	zt_expect(_metadata, &self->ring, 1, (int)sizeof(msg));
	close(p[0]);
	close(p[1]);
}

TEST_F(ring, socket_and_eventfd)
{
	int sv[2], efd = eventfd(0, EFD_CLOEXEC);
	char in[8] = {};
	uint64_t v = 0;
	struct zsync_sqe *sqe;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, sv[0], in, sizeof(in), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, efd, &v, sizeof(v), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &self->ring, 2);
	zt_expect_no_cqe(_metadata, &self->ring, 100);

	EXPECT_EQ(4, run_write(_metadata, &self->ring, sv[1], "sock", 4, ZSYNC_OFF_CURRENT));
	zt_expect(_metadata, &self->ring, 1, 4);
	EXPECT_EQ(0, memcmp(in, "sock", 4));
	v = 0;
	{
		uint64_t add = 42;

		ASSERT_EQ(8, write(efd, &add, 8));
	}
	zt_expect(_metadata, &self->ring, 2, 8);
	EXPECT_EQ(42u, v);
	close(sv[0]);
	close(sv[1]);
	close(efd);
}

/* What preadv2(@fd, RWF_NOWAIT) says: a result, or -errno. */
static int preadv2_nowait(int fd, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	return n < 0 ? -errno : (int)n;
}

/*
 * RWF_NOWAIT: the caller wants -EAGAIN, never a wait; a file that cannot
 * promise that refuses the flag, as preadv2() does.
 */
TEST_F(ring, rwf_nowait_never_waits)
{
	int sv[2], p[2], i;
	char in[8];
	int fds[3];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fds[0] = sv[0];
	fds[1] = p[0];
	fds[2] = pattern_file(_metadata, 0);
	for (i = 0; i < 3; i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);
		int want = preadv2_nowait(fds[i], in, sizeof(in));

		zk_prep_read(sqe, fds[i], in, sizeof(in), ZSYNC_OFF_CURRENT);
		zk_rw_set_flags(sqe, RWF_NOWAIT);
		EXPECT_EQ(want, zt_run(_metadata, &self->ring, sqe, i))
			TH_LOG("READ RWF_NOWAIT on fd kind %d: expected what preadv2 gave, %s",
			       i, zt_err(want));
		EXPECT_TRUE(want == -EAGAIN || want == -EOPNOTSUPP || want == 0)
			TH_LOG("fd kind %d: preadv2(RWF_NOWAIT) of nothing gave %s", i, zt_err(want));
	}
	close(fds[2]);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, fsync_and_datasync)
{
	int fd = pattern_file(_metadata, 4096), p[2];
	struct zsync_sqe *sqe;

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, fd, 0);
	EXPECT_EQ(0, zt_run(_metadata, &self->ring, sqe, 1));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, fd, ZSYNC_FSYNC_DATASYNC);
	sqe->off = 100;
	sqe->len = 200;
	EXPECT_EQ(0, zt_run(_metadata, &self->ring, sqe, 2));

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, fd, 1U << 1);
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 3)) TH_LOG("unknown flag");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, fd, 0);
	sqe->off = 1ULL << 63;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 4)) TH_LOG("offset past LLONG_MAX");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, fd, 0);
	sqe->addr = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 5)) TH_LOG("addr is not read");

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, p[1], 0);
	EXPECT_EQ(fsync(p[1]) ? -errno : 0, zt_run(_metadata, &self->ring, sqe, 6))
		TH_LOG("FSYNC of a pipe answers as fsync(2)");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_fsync(sqe, 9999, 0);
	EXPECT_EQ(-EBADF, zt_run(_metadata, &self->ring, sqe, 7));
	close(p[0]);
	close(p[1]);
	close(fd);
}

TEST_F(ring, bad_fds_and_wrong_modes)
{
	char buf[8], path[] = "/tmp/zs-rw-XXXXXX";
	int fd = mkstemp(path), ro, wo, opath, dir;

	ASSERT_LE(0, fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	wo = open(path, O_WRONLY | O_CLOEXEC);
	opath = open(path, O_PATH | O_CLOEXEC);
	dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	ASSERT_LE(0, opath);
	ASSERT_LE(0, dir);
	unlink(path);

	EXPECT_EQ(-EBADF, run_read(_metadata, &self->ring, -1, buf, 8, 0));
	EXPECT_EQ(-EBADF, run_read(_metadata, &self->ring, 9999, buf, 8, 0));
	EXPECT_EQ(-EBADF, run_read(_metadata, &self->ring, wo, buf, 8, 0)) TH_LOG("READ on O_WRONLY");
	EXPECT_EQ(-EBADF, run_write(_metadata, &self->ring, ro, buf, 8, 0)) TH_LOG("WRITE on O_RDONLY");
	EXPECT_EQ(-EBADF, run_read(_metadata, &self->ring, opath, buf, 8, 0)) TH_LOG("O_PATH fd");
	EXPECT_EQ(-EISDIR, run_read(_metadata, &self->ring, dir, buf, 8, 0)) TH_LOG("a directory");
	/* No op holds a ring file (see ops.rst, Ring fds). */
	EXPECT_EQ(-EBADF, run_read(_metadata, &self->ring, self->ring.fd, buf, 8, 0))
		TH_LOG("a zsync ring cannot be read");
	close(dir);
	close(opath);
	close(wo);
	close(ro);
	close(fd);
}

TEST_F(ring, bad_buffers_are_efault)
{
	int fd = pattern_file(_metadata, 4096), p[2];
	struct iovec bad_iov = { (void *)8, 16 };
	struct zsync_sqe *sqe;

	EXPECT_EQ(-EFAULT, run_read(_metadata, &self->ring, fd, (void *)8, 16, 0));
	EXPECT_EQ(-EFAULT, run_write(_metadata, &self->ring, fd, (void *)8, 16, 0));
	EXPECT_EQ(-EFAULT, run_read(_metadata, &self->ring, fd, (void *)-4096L, 16, 0))
		TH_LOG("kernel address");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, fd, (struct iovec *)8, 2, 0);
	EXPECT_EQ(-EFAULT, zt_run(_metadata, &self->ring, sqe, 3)) TH_LOG("iovec array unreadable");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, fd, &bad_iov, 1, 0);
	EXPECT_EQ(-EFAULT, zt_run(_metadata, &self->ring, sqe, 4)) TH_LOG("iovec points nowhere");

	/* A bad buffer discovered after a wait: the wakeup's retry reports it. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, p[0], (void *)8, 16, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 5);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(1, write(p[1], "x", 1));
	zt_expect(_metadata, &self->ring, 5, -EFAULT);
	close(p[0]);
	close(p[1]);
	close(fd);
}

TEST_F(ring, invalid_flags_offsets_and_fields)
{
	char buf[8];
	int fd = pattern_file(_metadata, 16), p[2];
	struct zsync_sqe *sqe;

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, fd, buf, 8, 0);
	zk_rw_set_flags(sqe, 1U << 30);
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 1)) TH_LOG("unknown RWF bit");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, fd, buf, 8, 0);
	zk_rw_set_flags(sqe, RWF_HIPRI);
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 2)) TH_LOG("polled I/O");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, fd, buf, 8, 0);
	sqe->addr2 = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 3)) TH_LOG("addr2 is not read");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, fd, buf, 8, 0);
	sqe->resv[1] = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 4)) TH_LOG("reserved field");
	EXPECT_EQ(-EINVAL, run_read(_metadata, &self->ring, fd, buf, 8, -2ULL))
		TH_LOG("negative offset other than ZSYNC_OFF_CURRENT");

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-ESPIPE, run_read(_metadata, &self->ring, p[0], buf, 8, 0))
		TH_LOG("an offset on a pipe, as pread(2)");
	EXPECT_EQ(-ESPIPE, run_write(_metadata, &self->ring, p[1], buf, 8, 0));
	close(p[0]);
	close(p[1]);
	close(fd);
}

/*
 * A worker does not run with the submitter's resource limits, but a WRITE
 * punted to one still honours the submitter's RLIMIT_FSIZE.
 */
TEST(worker_write_honours_rlimit_fsize)
{
	int fd;
	pid_t pid;

	ZT_REQUIRE_DEV();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 4096, .rlim_max = 4096 };
		static char data[8192];
		struct zk_ring ring;
		struct zsync_sqe *sqe;

		signal(SIGXFSZ, SIG_IGN);
		fd = pattern_file(_metadata, 0);
		zt_ring(_metadata, &ring, 8, 0);
		ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
		/* tmpfs writes are not tried at submission: a worker does them. */
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_write(sqe, fd, data, sizeof(data), 0);
		ASSERT_EQ(4096, zt_run(_metadata, &ring, sqe, 1));
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_write(sqe, fd, data, 10, 5000);
		ASSERT_EQ(-EFBIG, zt_run(_metadata, &ring, sqe, 2));
		ASSERT_EQ(4096, lseek(fd, 0, SEEK_END));
		_exit(0);
	}
	zt_child_ok(_metadata, pid, 20000);
}

/* ---- reads a worker must do: an uncached block device ---------------- */

/* A loop device over a 16 MiB pattern file on /tmp; -errno if impossible. */
static int loop_attach(struct __test_metadata *_metadata, const char *img, char *dev, size_t len)
{
	unsigned char *chunk = malloc(1 << 20);
	int i, bfd;

	ASSERT_NE(NULL, chunk);
	bfd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, bfd);
	for (i = 0; i < 16; i++) {
		zt_fill_pattern(chunk, 1 << 20, (uint64_t)i << 20);
		ASSERT_EQ(1 << 20, pwrite(bfd, chunk, 1 << 20, (off_t)i << 20));
	}
	free(chunk);
	close(bfd);
	return zt_loop_attach(img, dev, len);
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, "3", 1);
		close(fd);
	}
}

TEST_F(ring, uncached_block_device_reads_are_done_by_a_worker)
{
	const char *img = "/tmp/zs-loop.img";
	const size_t len = 4 << 20;
	unsigned char *buf = malloc(len), probe[4096];
	struct iovec iov[2], piov = { probe, sizeof(probe) };
	char dev[32];
	struct zsync_sqe *sqe;
	ssize_t pr;
	int lfd;

	ASSERT_NE(NULL, buf);
	lfd = loop_attach(_metadata, img, dev, sizeof(dev));
	if (lfd < 0) {
		unlink(img);
		free(buf);
		SKIP(return, "no loop device: %s", zt_err(lfd));
	}
	/*
	 * Not cached: a non-blocking read of the last page says so.  Clean
	 * pages can come back between the drop and the look (a partition
	 * scan reads the device's ends, the probe itself starts readahead),
	 * so drop and look again until it is so, a bounded number of times.
	 */
	for (int i = 0; i < 20; i++) {
		drop_caches();
		posix_fadvise(lfd, 0, 0, POSIX_FADV_DONTNEED);
		pr = preadv2(lfd, &piov, 1, (16 << 20) - 4096, RWF_NOWAIT);
		if (pr < 0 && (errno == EAGAIN || errno == EOPNOTSUPP))
			break;
	}
	EXPECT_TRUE(pr < 0 && (errno == EAGAIN || errno == EOPNOTSUPP))
		TH_LOG("preadv2(RWF_NOWAIT) of an uncached page: %zd (%s)", pr, strerror(errno));

	memset(buf, 0, len);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, lfd, buf, len, 1 << 20);
	EXPECT_EQ((int)len, zt_run(_metadata, &self->ring, sqe, 1));
	EXPECT_EQ(-1, zt_check_pattern(buf, len, 1 << 20));

	/* Half cached, half not: the worker finishes what the fast path began. */
	memset(buf, 0, len);
	iov[0] = (struct iovec){ buf, len / 2 };
	iov[1] = (struct iovec){ buf + len / 2, len / 2 };
	ASSERT_EQ(3 << 20, lseek(lfd, 3 << 20, SEEK_SET));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_readv(sqe, lfd, iov, 2, ZSYNC_OFF_CURRENT);
	EXPECT_EQ((int)len, zt_run(_metadata, &self->ring, sqe, 2));
	EXPECT_EQ(-1, zt_check_pattern(buf, len, 3 << 20));
	EXPECT_EQ((3 << 20) + (off_t)len, lseek(lfd, 0, SEEK_CUR));

	/* The end of the device is its end of file. */
	EXPECT_EQ(4096, run_read(_metadata, &self->ring, lfd, buf, 8192, (16 << 20) - 4096));
	ioctl(lfd, LOOP_CLR_FD, 0);
	close(lfd);
	unlink(img);
	free(buf);
}

TEST_HARNESS_MAIN
