// SPDX-License-Identifier: GPL-2.0
/*
 * zsync_edu, the driver for QEMU's edu PCI device: identification and
 * liveness, factorials, DMA round trips with the data checked, 10,000
 * interrupts giving exactly 10,000 CQEs, job order and client isolation,
 * the hrtimer and eventfd paths, INTx as well as MSI, unbinding with
 * waiters armed and jobs in flight, and module unload ordering.  Every
 * test skips when /dev/zsync-edu0 is missing (no edu device, or the driver
 * is not loaded).
 */
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <linux/zsync_edu.h>

#include "helpers.h"

#define EDU_DEV		"/dev/zsync-edu0"
#define EDU_DRIVER	"/sys/bus/pci/drivers/zsync_edu"
#define EDU_MODULE	"zsync_edu"
#define EDU_KO		"/lib/modules/zsync_edu.ko"
#define WAIT_UD		0x5eed

static int edu_open(struct __test_metadata *_metadata)
{
	int fd;

	ZT_REQUIRE_DEV();
	if (access(EDU_DEV, F_OK))
		SKIP(zt_skip_exit(), "%s missing: no edu device, or zsync_edu not loaded", EDU_DEV);
	fd = open(EDU_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", EDU_DEV, strerror(errno));
	return fd;
}

static int edu_source(struct __test_metadata *_metadata, int edu)
{
	int fd = ioctl(edu, ZSYNC_EDU_IOC_SOURCE, ZSYNC_SOURCE_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("ZSYNC_EDU_IOC_SOURCE: %s", strerror(errno));
	return fd;
}

static void arm_wait(struct __test_metadata *_metadata, struct zk_ring *ring, int src,
		     __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_source_wait(sqe, src);
	zk_sqe_set_data64(sqe, ud);
	zt_submit(_metadata, ring, 1);
}

/* Queue a job: its sequence number, or -errno. */
static int submit(int edu, __u32 op, __u32 flags, __u32 arg, __u32 len, __u32 buf_off,
		  __u32 dev_off)
{
	struct zsync_edu_job job;

	memset(&job, 0, sizeof(job));
	job.op = op;
	job.flags = flags;
	job.arg = arg;
	job.len = len;
	job.buf_off = buf_off;
	job.dev_off = dev_off;
	if (ioctl(edu, ZSYNC_EDU_IOC_SUBMIT, &job))
		return -errno;
	return (int)job.seq;
}

/* The next CQE of @ud must carry a value (MORE); returns it. */
static __u32 next_value(struct __test_metadata *_metadata, struct zk_ring *ring, __u64 ud)
{
	struct zsync_cqe c;

	zt_reap(_metadata, ring, &c, 1, 5000);
	EXPECT_EQ(ud, c.user_data);
	EXPECT_NE(0u, c.flags & ZSYNC_CQE_F_MORE)
		TH_LOG("CQE without MORE: the wait ended with %s", zt_err(c.res));
	return zk_cqe_source_value(&c);
}

static void edu_info(struct __test_metadata *_metadata, int edu, struct zsync_edu_info *info)
{
	memset(info, 0, sizeof(*info));
	ASSERT_EQ(0, ioctl(edu, ZSYNC_EDU_IOC_INFO, info)) TH_LOG("INFO: %s", strerror(errno));
}

/* n! as the device computes it: in 32 bits. */
static __u32 fact32(__u32 n)
{
	__u32 r = 1;

	while (n > 0)
		r *= n--;
	return r;
}

FIXTURE(edu) {
	struct zk_ring ring;
	int edu, src;
};

FIXTURE_SETUP(edu)
{
	self->edu = edu_open(_metadata);
	self->src = edu_source(_metadata, self->edu);
	zt_ring(_metadata, &self->ring, 64, 0);
	arm_wait(_metadata, &self->ring, self->src, WAIT_UD);
}

FIXTURE_TEARDOWN(edu)
{
	zk_ring_exit(&self->ring);
	close(self->src);
	close(self->edu);
}

TEST_F(edu, identification_and_liveness)
{
	static const __u32 values[] = { 0, 1, 0x12345678, 0x80000000, 0xffffffff };
	struct zsync_edu_info info;
	unsigned int i, seed = (unsigned int)zt_mono_ns();

	edu_info(_metadata, self->edu, &info);
	EXPECT_EQ(0xedu, info.id & 0xffff) TH_LOG("identification %#x", info.id);
	EXPECT_LE(1u, info.id >> 24) TH_LOG("major version of %#x", info.id);
	EXPECT_TRUE(info.irq_mode == ZSYNC_EDU_IRQ_MSI || info.irq_mode == ZSYNC_EDU_IRQ_INTX);
	EXPECT_EQ((__u32)ZSYNC_EDU_STAGING_SIZE, info.staging_size);
	TH_LOG("edu %u.%u, %s", info.id >> 24, (info.id >> 16) & 0xff,
	       info.irq_mode == ZSYNC_EDU_IRQ_MSI ? "MSI" : "INTx");
	for (i = 0; i < ARRAY_SIZE(values) + 20; i++) {
		__u32 v = i < ARRAY_SIZE(values) ? values[i] : (__u32)rand_r(&seed) * 2654435761u;
		__u32 io = v;

		ASSERT_EQ(0, ioctl(self->edu, ZSYNC_EDU_IOC_LIVENESS, &io));
		EXPECT_EQ(~v, io) TH_LOG("liveness of %#x: %#x", v, io);
	}
}

TEST_F(edu, factorials_of_many_values)
{
	__u32 ns[200];
	unsigned int i, n = 0, seed = (unsigned int)zt_mono_ns();
	int seq, last = 0;

	for (i = 0; i <= 40; i++)
		ns[n++] = i;
	ns[n++] = 1000;
	ns[n++] = ZSYNC_EDU_FACT_MAX;
	while (n < ARRAY_SIZE(ns))
		ns[n++] = (__u32)rand_r(&seed) % 100;
	/* In rounds of 50: a client queues at most ZSYNC_EDU_QUEUE_MAX. */
	for (i = 0; i < n; i++) {
		seq = submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, ns[i], 0, 0, 0);
		ASSERT_EQ(last + 1, seq) TH_LOG("FACT(%u): %s", ns[i], zt_err(seq));
		last = seq;
		if (i % 50 == 49 || i == n - 1) {
			unsigned int j;

			for (j = i - i % 50; j <= i; j++) {
				__u32 v = next_value(_metadata, &self->ring, WAIT_UD);

				EXPECT_EQ(fact32(ns[j]), v)
					TH_LOG("job %u: %u! = %#x, the CQE says %#x", j + 1,
					       ns[j], fact32(ns[j]), v);
			}
		}
	}
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, ZSYNC_EDU_FACT_MAX + 1,
				  0, 0, 0));
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_FACT, 1, 5, 0, 0, 0));
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(rand_r(&seed) >> 8);
}

/* staging[from..+len) -> device[dev..+len) -> staging[to..+len), checked. */
static void round_trip(struct __test_metadata *_metadata, FIXTURE_DATA(edu) *self,
		       __u32 from, __u32 dev, __u32 to, __u32 len, unsigned int seed)
{
	static unsigned char out[ZSYNC_EDU_STAGING_SIZE], in[ZSYNC_EDU_STAGING_SIZE];
	static unsigned char pad[ZSYNC_EDU_STAGING_SIZE];
	int seq;

	fill(out, len, seed);
	memset(pad, 0xa5, sizeof(pad));
	ASSERT_EQ(ZSYNC_EDU_STAGING_SIZE, pwrite(self->edu, pad, sizeof(pad), 0));
	ASSERT_EQ((ssize_t)len, pwrite(self->edu, out, len, from));
	seq = submit(self->edu, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, len, from, dev);
	ASSERT_LT(0, seq) TH_LOG("DMA_TO_DEV: %s", zt_err(seq));
	EXPECT_EQ(len, next_value(_metadata, &self->ring, WAIT_UD));
	/* Wipe the source: what comes back must come from the device. */
	ASSERT_EQ((ssize_t)len, pwrite(self->edu, pad, len, from));
	seq = submit(self->edu, ZSYNC_EDU_JOB_DMA_FROM_DEV, 0, 0, len, to, dev);
	ASSERT_LT(0, seq) TH_LOG("DMA_FROM_DEV: %s", zt_err(seq));
	EXPECT_EQ(len, next_value(_metadata, &self->ring, WAIT_UD));
	ASSERT_EQ(ZSYNC_EDU_STAGING_SIZE, pread(self->edu, in, sizeof(in), 0));
	EXPECT_EQ(0, memcmp(in + to, out, len))
		TH_LOG("%u bytes via device offset %u came back different", len, dev);
	/* Only the destination changed. */
	memcpy(in + to, pad, len);
	EXPECT_EQ(0, memcmp(in, pad, sizeof(in))) TH_LOG("DMA wrote outside its range");
}

TEST_F(edu, dma_round_trips_keep_the_data)
{
	unsigned int seed = (unsigned int)zt_mono_ns();

	round_trip(_metadata, self, 0, 0, 4096, ZSYNC_EDU_DMA_WINDOW, seed);
	round_trip(_metadata, self, 123, 1000, 5000, 100, seed + 1);
	round_trip(_metadata, self, 8191, ZSYNC_EDU_DMA_WINDOW - 1, 0, 1, seed + 2);
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, 0, 0, 0));
	/* Would end at the device buffer's last byte: refused, never issued. */
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, 4096, 0, 0));
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, 1, 0, 4095));
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_FROM_DEV, 0, 0, 100, 8100, 0));
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_FROM_DEV, 0, 0, 100, 0, 4000));
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_FROM_DEV, 0, 0, 16, 0,
				  UINT_MAX - 8));
	EXPECT_EQ(-EINVAL, submit(self->edu, ZSYNC_EDU_JOB_DMA_FROM_DEV, 0, 1, 16, 0, 0));
	EXPECT_EQ(-EINVAL, submit(self->edu, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, submit(self->edu, 99, 0, 0, 0, 0, 0));
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

/*
 * 10,000 device interrupts, exactly 10,000 CQEs: in IRQ jobs of 1,000 on
 * a CQ of 2,048 that is reaped between jobs, so no CQE can ever need the
 * overflow list and an -EOVERFLOW would be a bug, not the test's size.
 */
TEST_F_TIMEOUT(edu, ten_thousand_interrupts_ten_thousand_cqes, 300)
{
	struct zsync_edu_info before, after;
	unsigned int job, i, signals = 0;
	struct zsync_params p;
	struct zk_ring big;

	/* The fixture's wait would overflow its small CQ: only ours stays. */
	zk_prep_cancel(zt_sqe(_metadata, &self->ring), WAIT_UD, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, NULL, 2, ZT_PROMPT_MS);
	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 2048;
	zt_ring_params(_metadata, &big, 8, &p);
	arm_wait(_metadata, &big, self->src, 7);
	edu_info(_metadata, self->edu, &before);
	for (job = 0; job < 10; job++) {
		struct zsync_cqe c[1000];

		ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_IRQ, 0, 1000, 0, 0, 0));
		zt_reap(_metadata, &big, c, 1000, 30000);
		for (i = 0; i < 1000; i++) {
			ASSERT_EQ(7u, c[i].user_data);
			ASSERT_EQ(ZSYNC_CQE_F_MORE, c[i].flags)
				TH_LOG("job %u CQE %u: res %s", job, i, zt_err(c[i].res));
			ASSERT_EQ(i + 1, zk_cqe_source_value(&c[i]));
		}
	}
	zt_expect_no_cqe(_metadata, &big, 100);
	edu_info(_metadata, self->edu, &after);
	EXPECT_EQ(10000u, after.irq_job_irqs - before.irq_job_irqs);
	ASSERT_EQ(0, zt_fdinfo(self->src, "signals", &signals));
	EXPECT_EQ(10000u, signals) TH_LOG("source signalled %u times", signals);
	TH_LOG("%llu interrupts handled in all", (unsigned long long)(after.irqs - before.irqs));
	zk_ring_exit(&big);
}

TEST_F(edu, jobs_complete_in_submission_order)
{
	static const __u32 expect[] = { 24, 16, 1, 2, 3, 16, 120 };
	unsigned int i;

	ASSERT_EQ(16, pwrite(self->edu, "0123456789abcdef", 16, 0));
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, 4, 0, 0, 0));
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, 16, 0, 0));
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_IRQ, 0, 3, 0, 0, 0));
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_DMA_FROM_DEV, 0, 0, 16, 16, 0));
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, 5, 0, 0, 0));
	for (i = 0; i < ARRAY_SIZE(expect); i++)
		EXPECT_EQ(expect[i], next_value(_metadata, &self->ring, WAIT_UD))
			TH_LOG("signal %u", i);
}

TEST_F(edu, clients_are_isolated_and_queues_bounded)
{
	int other = edu_open(_metadata), osrc = edu_source(_metadata, other), ret = 0;
	unsigned int i, done = 0;
	struct zk_ring oring;
	struct zsync_cqe c;

	/* A CQ that holds every value this client can get. */
	zt_ring(_metadata, &oring, 128, 0);
	arm_wait(_metadata, &oring, osrc, 2);
	ASSERT_LT(0, submit(other, ZSYNC_EDU_JOB_FACT, 0, 6, 0, 0, 0));
	EXPECT_EQ(720u, next_value(_metadata, &oring, 2));
	zt_expect_no_cqe(_metadata, &self->ring, 50);

	/*
	 * Queue bound: 100 ms DMAs keep the device busy while we fill it.
	 * However slow this kernel, never more than QUEUE_MAX are unfinished.
	 */
	for (i = 0; i < 4 * ZSYNC_EDU_QUEUE_MAX; i++) {
		ret = submit(other, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, 8, 0, 0);
		if (ret < 0)
			break;
	}
	EXPECT_EQ(-EAGAIN, ret) TH_LOG("job %u of a full queue: %s", i, zt_err(ret));
	done = zk_cq_ready(&oring);
	EXPECT_LE((unsigned int)ZSYNC_EDU_QUEUE_MAX, i) TH_LOG("full after %u jobs", i);
	EXPECT_GE((unsigned int)ZSYNC_EDU_QUEUE_MAX, i - done)
		TH_LOG("%u jobs accepted, %u finished", i, done);

	/* Closing the busy client drops its queue; ours runs right after. */
	close(other);
	for (;;) {
		zt_reap(_metadata, &oring, &c, 1, 2000);
		if (!(c.flags & ZSYNC_CQE_F_MORE))
			break;
		EXPECT_EQ(8u, zk_cqe_source_value(&c));
	}
	zt_check_cqe(_metadata, &c, 0, 2, -ENODEV);
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, 3, 0, 0, 0));
	EXPECT_EQ(6u, next_value(_metadata, &self->ring, WAIT_UD));
	zk_ring_exit(&oring);
	close(osrc);
}

TEST_F(edu, closing_the_client_ends_its_waiters_with_enodev)
{
	struct zsync_sqe *sqe;
	struct zsync_cqe c;
	unsigned int dead = 0;

	close(self->edu);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, WAIT_UD, -ENODEV);
	/* The source fd stays valid; a new wait on it ends at once. */
	arm_wait(_metadata, &self->ring, self->src, 3);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 3, -ENODEV);
	EXPECT_EQ(0, zt_fdinfo(self->src, "dead", &dead));
	EXPECT_EQ(1u, dead);
	/* Userspace never signals a driver's source. */
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_source_signal(sqe, self->src, 1);
	zk_sqe_set_data64(sqe, 4);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 4, -EPERM);
	EXPECT_EQ(-EPERM, zk_source_signal(self->src, 1));
	self->edu = open("/dev/null", O_RDONLY);	/* for the teardown */
}

TEST_F(edu, hrtimer_event_and_eventfd)
{
	int64_t deadline = zt_mono_ns() + 20 * ZT_NSEC_PER_MSEC;
	__u64 ns = (__u64)deadline, count = 0, last = 0;
	int efd = eventfd(0, EFD_CLOEXEC), minus1 = -1;
	__u32 v;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ioctl(self->edu, ZSYNC_EDU_IOC_EVENTFD, &efd));
	ASSERT_EQ(0, ioctl(self->edu, ZSYNC_EDU_IOC_TIMER, &ns));
	v = next_value(_metadata, &self->ring, WAIT_UD);
	ASSERT_EQ(0, ioctl(self->edu, ZSYNC_EDU_IOC_LAST_EVENT, &last));
	EXPECT_EQ((__u32)last, v);
	EXPECT_LE(deadline, (int64_t)last) TH_LOG("fired %lld ns early",
						 (long long)(deadline - (int64_t)last));
	ASSERT_EQ(8, read(efd, &count, sizeof(count)));
	EXPECT_EQ(1u, count);
	/* A job's completion signals the eventfd too, until it is unset. */
	ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, 3, 0, 0, 0));
	EXPECT_EQ(6u, next_value(_metadata, &self->ring, WAIT_UD));
	ASSERT_EQ(8, read(efd, &count, sizeof(count)));
	ASSERT_EQ(0, ioctl(self->edu, ZSYNC_EDU_IOC_EVENTFD, &minus1));
	close(efd);
}

/* ---- bind, unbind, modules ------------------------------------------------- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The PCI address of /dev/zsync-edu0, e.g. "0000:00:02.0". */
static void edu_bdf(struct __test_metadata *_metadata, char *bdf, size_t len)
{
	char link[PATH_MAX];
	ssize_t n = readlink("/sys/class/misc/zsync-edu0/device", link, sizeof(link) - 1);
	const char *base;

	ASSERT_LT(0, n) TH_LOG("readlink of the misc device's parent: %s", strerror(errno));
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	ASSERT_GT(len, strlen(base));
	memcpy(bdf, base, strlen(base) + 1);
}

static void wait_for_node(struct __test_metadata *_metadata, bool present)
{
	int64_t start = zt_mono_ns();

	while ((access(EDU_DEV, F_OK) == 0) != present && zt_ms_since(start) < 3000)
		zt_sleep_ms(10);
	ASSERT_EQ(present, access(EDU_DEV, F_OK) == 0)
		TH_LOG("%s still %s after 3 s", EDU_DEV, present ? "missing" : "there");
}

/* Unbind and bind again; returns bind's result (the node is back if 0). */
static int rebind(struct __test_metadata *_metadata, const char *bdf)
{
	int ret;

	ret = write_str(EDU_DRIVER "/unbind", bdf);
	EXPECT_EQ(0, ret) TH_LOG("unbind %s: %s", bdf, zt_err(ret));
	wait_for_node(_metadata, false);
	ret = write_str(EDU_DRIVER "/bind", bdf);
	if (!ret)
		wait_for_node(_metadata, true);
	return ret;
}

/* A fresh client computes 5! on whatever is bound now. */
static void check_works(struct __test_metadata *_metadata, __u32 irq_mode)
{
	int edu = edu_open(_metadata), src = edu_source(_metadata, edu);
	struct zsync_edu_info info;
	struct zk_ring ring;
	unsigned int i;

	zt_ring(_metadata, &ring, 8, 0);
	arm_wait(_metadata, &ring, src, 1);
	edu_info(_metadata, edu, &info);
	if (irq_mode)
		EXPECT_EQ(irq_mode, info.irq_mode);
	ASSERT_LT(0, submit(edu, ZSYNC_EDU_JOB_FACT, 0, 5, 0, 0, 0));
	EXPECT_EQ(120u, next_value(_metadata, &ring, 1));
	ASSERT_LT(0, submit(edu, ZSYNC_EDU_JOB_IRQ, 0, 8, 0, 0, 0));
	for (i = 1; i <= 8; i++)
		EXPECT_EQ(i, next_value(_metadata, &ring, 1));
	zk_ring_exit(&ring);
	close(src);
	close(edu);
}

#define UNBIND_JOBS	20u

/* Binding takes ~30 s on the debug kernel (ACPI _PRT times out under TCG). */
TEST_F_TIMEOUT(edu, unbind_with_waiters_armed_and_jobs_in_flight, 180)
{
	unsigned int i, j, values = 0, ends = 0;
	struct zsync_cqe c[UNBIND_JOBS + 1];
	struct zk_ring second;
	char bdf[64], buf[8];
	int64_t start;

	if (access(EDU_DRIVER "/unbind", W_OK))
		SKIP(return, "%s/unbind not writable", EDU_DRIVER);
	edu_bdf(_metadata, bdf, sizeof(bdf));
	zt_ring(_metadata, &second, 32, 0);
	arm_wait(_metadata, &second, self->src, 2);
	/* 100 ms of device time each: unbind finds one running, most queued. */
	for (i = 0; i < UNBIND_JOBS; i++)
		ASSERT_LT(0, submit(self->edu, ZSYNC_EDU_JOB_DMA_TO_DEV, 0, 0, 64, 0, 0));
	start = zt_mono_ns();
	ASSERT_EQ(0, write_str(EDU_DRIVER "/unbind", bdf));
	TH_LOG("unbind took %" PRId64 " ms", zt_ms_since(start));
	wait_for_node(_metadata, false);

	/*
	 * Each wait: the values of the DMAs that finished before unbind
	 * dropped the queue (as many for both), then -ENODEV, once.
	 */
	for (i = 0; i < 2; i++) {
		struct zk_ring *r = i ? &second : &self->ring;
		unsigned int n = 0;

		for (;;) {
			struct zsync_timespec ts = zt_ts_ms(200);
			struct zsync_cqe *cqe;

			if (zk_wait_cqe_timeout(r, &cqe, &ts))
				break;
			c[n++] = *cqe;
			zk_cqe_seen(r, cqe);
			if (n == ARRAY_SIZE(c))
				break;
		}
		ASSERT_LE(1u, n);
		zt_check_cqe(_metadata, &c[n - 1], n - 1, i ? 2 : WAIT_UD, -ENODEV);
		ends++;
		if (i)
			EXPECT_EQ(values, n - 1) TH_LOG("the two waits saw different signals");
		values = n - 1;
		EXPECT_GT(UNBIND_JOBS, n - 1) TH_LOG("all %u jobs ran: unbind dropped none", n - 1);
		for (j = 0; j + 1 < n; j++)
			EXPECT_EQ(64u, zk_cqe_source_value(&c[j]));
	}
	EXPECT_EQ(2u, ends);
	TH_LOG("%u of %u DMAs finished before the unbind", values, UNBIND_JOBS);

	/* The old client: everything but close fails; the source is dead. */
	EXPECT_EQ(-ENODEV, submit(self->edu, ZSYNC_EDU_JOB_FACT, 0, 3, 0, 0, 0));
	EXPECT_EQ(-1, pread(self->edu, buf, sizeof(buf), 0));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(self->edu, ZSYNC_EDU_IOC_SOURCE, 0));
	arm_wait(_metadata, &second, self->src, 3);
	zt_reap(_metadata, &second, c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, c, 0, 3, -ENODEV);

	ASSERT_EQ(0, write_str(EDU_DRIVER "/bind", bdf));
	wait_for_node(_metadata, true);
	check_works(_metadata, 0);
	zk_ring_exit(&second);
}

TEST_F_TIMEOUT(edu, intx_as_well_as_msi, 240)
{
	const char *param = "/sys/module/" EDU_MODULE "/parameters/use_msi";
	char bdf[64];
	int ret, intx;

	if (access(EDU_DRIVER "/unbind", W_OK) || access(param, W_OK))
		SKIP(return, "cannot rebind the device here");
	edu_bdf(_metadata, bdf, sizeof(bdf));
	ASSERT_EQ(0, write_str(param, "0"));
	ret = rebind(_metadata, bdf);
	ASSERT_EQ(0, write_str(param, "1"));
	if (!ret)
		check_works(_metadata, ZSYNC_EDU_IRQ_INTX);
	else if (ret != -EIO)
		EXPECT_EQ(0, ret) TH_LOG("bind with INTx: %s", zt_err(ret));
	intx = ret;
	ret = intx ? write_str(EDU_DRIVER "/bind", bdf) : rebind(_metadata, bdf);
	ASSERT_EQ(0, ret) TH_LOG("bind with MSI again: %s", zt_err(ret));
	wait_for_node(_metadata, true);
	check_works(_metadata, ZSYNC_EDU_IRQ_MSI);
	/* The driver's own interrupt test refused a line that never fires. */
	if (intx == -EIO)
		SKIP(return, "INTx is not routed on this platform (bind: -EIO, see dmesg)");
}

static int rmmod(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static int insmod(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * zsync_edu uses zsync's symbols: zsync cannot go first.  zsync_edu cannot
 * go while a client is open, can once it is closed even if a source fd and
 * a ring outlive it (they hold zsync, not the driver), and comes back.
 */
TEST_F_TIMEOUT(edu, rmmod_order_edu_before_zsync, 180)
{
	struct zsync_cqe c;
	int ret;

	if (access("/sys/module/" EDU_MODULE, F_OK) || access(EDU_KO, R_OK))
		SKIP(return, "zsync_edu is not a loaded module with %s at hand", EDU_KO);
	EXPECT_EQ(0, access("/sys/module/zsync/holders/" EDU_MODULE, F_OK))
		TH_LOG("zsync_edu is not listed as a holder of zsync");
	ret = rmmod("zsync");
	if (ret == -EPERM)
		SKIP(return, "no CAP_SYS_MODULE");
	EXPECT_EQ(-EWOULDBLOCK, ret) TH_LOG("rmmod zsync with zsync_edu loaded: %s",
					    zt_err(ret));
	ret = rmmod(EDU_MODULE);
	EXPECT_EQ(-EWOULDBLOCK, ret) TH_LOG("rmmod zsync_edu with a client open: %s",
					    zt_err(ret));

	close(self->edu);
	self->edu = open("/dev/null", O_RDONLY);	/* for the teardown */
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, WAIT_UD, -ENODEV);
	ret = rmmod(EDU_MODULE);
	ASSERT_EQ(0, ret) TH_LOG("rmmod zsync_edu with only its source fd left: %s",
				 zt_err(ret));
	EXPECT_NE(0, access(EDU_DEV, F_OK));
	/* The source outlives the driver's module; it is simply dead. */
	arm_wait(_metadata, &self->ring, self->src, 2);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 2, -ENODEV);

	ret = insmod(EDU_KO);
	ASSERT_EQ(0, ret) TH_LOG("insmod %s: %s", EDU_KO, zt_err(ret));
	wait_for_node(_metadata, true);
	check_works(_metadata, 0);
}

TEST_HARNESS_MAIN
