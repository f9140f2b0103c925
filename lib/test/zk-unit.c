// SPDX-License-Identifier: MIT
/*
 * Native unit test of libzsync-k's userspace logic, no module needed.
 *
 * Linked with -Wl,--wrap=open,ioctl,mmap,munmap,close: calls the library
 * makes on the path "/fake/zsync" go to a small simulated device below
 * that implements SETUP, the three mmaps and ENTER (NOP only, in order,
 * with a CQ overflow list and an overflow limit), so the real ring code
 * (space accounting, index wrap, publish/resubmit, overflow flushing,
 * wait/timeout paths, ioctl argument marshalling) is checked end to end.
 *
 * The cases run under the kselftest harness (kselftest_harness.h, built
 * with selftests/ksft.mk's flags), which reports KTAP: one "ok N" or
 * "not ok N" line per case and "# Totals: ..." at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "zsync-k.h"

#define FAKE_PATH	"/fake/zsync"
#define FAKE_MAX_CQ	64
#define FAKE_MAX_OVF	64

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_close(int fd);

/* Layout of the fake SQ ring and CQ ring regions. */
struct fake_sq_ring {
	unsigned int head, tail, mask, entries, flags;
};
struct fake_cq_ring {
	unsigned int head, tail, mask, entries, overflow, pad[3];
	struct zsync_cqe cqes[FAKE_MAX_CQ];
};

static struct fake_dev {
	int fd;				/* -1: not open */
	bool set_up;
	unsigned int start_index;	/* initial ring indices (wrap tests) */
	bool corrupt_mask;		/* mapping disagrees with SETUP */
	bool refuse_busy;		/* next ENTER returns -EBUSY */
	unsigned int overflow_limit;
	struct fake_sq_ring *sq;
	struct fake_cq_ring *cq;
	struct zsync_sqe *sqes;
	unsigned int sq_head;		/* private consumer index */
	unsigned int sq_entries, cq_entries;
	struct zsync_cqe ovf[FAKE_MAX_OVF];
	unsigned int novf;
	int mapped, enters, closes;
	struct zsync_enter last_enter;
	unsigned long last_req;
	__s32 eventfd;
	struct zsync_restriction restriction;
	bool enabled;
} dev = { .fd = -1 };

/* ---- the simulated kernel ------------------------------------------- */

static unsigned int roundup_pow2(unsigned int v)
{
	unsigned int r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

static int fake_setup(struct zsync_params *p)
{
	if (dev.set_up)
		return -EBUSY;
	if (!p->sq_entries || p->sq_entries > 16 || p->flags)
		return -EINVAL;
	dev.sq_entries = roundup_pow2(p->sq_entries);
	dev.cq_entries = 2 * dev.sq_entries;
	dev.sq = calloc(1, sizeof(*dev.sq));
	dev.cq = calloc(1, sizeof(*dev.cq));
	dev.sqes = calloc(dev.sq_entries, sizeof(struct zsync_sqe));
	dev.sq->mask = dev.sq_entries - 1;
	dev.sq->entries = dev.sq_entries;
	dev.cq->mask = dev.cq_entries - 1 + (dev.corrupt_mask ? 1 : 0);
	dev.cq->entries = dev.cq_entries;
	dev.sq->head = dev.sq->tail = dev.sq_head = dev.start_index;
	dev.cq->head = dev.cq->tail = dev.start_index;

	p->sq_entries = dev.sq_entries;
	p->cq_entries = dev.cq_entries;
	p->features = ZSYNC_FEAT_NODROP | ZSYNC_FEAT_LINKS;
	p->overflow_limit = dev.overflow_limit ? dev.overflow_limit : FAKE_MAX_OVF;
	dev.overflow_limit = p->overflow_limit;
	p->sq_off.head = offsetof(struct fake_sq_ring, head);
	p->sq_off.tail = offsetof(struct fake_sq_ring, tail);
	p->sq_off.ring_mask = offsetof(struct fake_sq_ring, mask);
	p->sq_off.ring_entries = offsetof(struct fake_sq_ring, entries);
	p->sq_off.flags = offsetof(struct fake_sq_ring, flags);
	p->cq_off.head = offsetof(struct fake_cq_ring, head);
	p->cq_off.tail = offsetof(struct fake_cq_ring, tail);
	p->cq_off.ring_mask = offsetof(struct fake_cq_ring, mask);
	p->cq_off.ring_entries = offsetof(struct fake_cq_ring, entries);
	p->cq_off.overflow = offsetof(struct fake_cq_ring, overflow);
	p->cq_off.cqes = offsetof(struct fake_cq_ring, cqes);
	dev.set_up = true;
	return 0;
}

static void fake_post(__u64 user_data, __s32 res)
{
	struct fake_cq_ring *cq = dev.cq;

	if (dev.novf || cq->tail - cq->head == dev.cq_entries) {
		dev.ovf[dev.novf++] = (struct zsync_cqe){ user_data, res, 0 };
		cq->overflow++;
		dev.sq->flags |= ZSYNC_SQ_CQ_OVERFLOW;
		return;
	}
	cq->cqes[cq->tail & (dev.cq_entries - 1)] =
		(struct zsync_cqe){ user_data, res, 0 };
	__atomic_store_n(&cq->tail, cq->tail + 1, __ATOMIC_RELEASE);
}

static void fake_flush_overflow(void)
{
	struct fake_cq_ring *cq = dev.cq;
	unsigned int i = 0;

	while (i < dev.novf && cq->tail - cq->head < dev.cq_entries) {
		cq->cqes[cq->tail & (dev.cq_entries - 1)] = dev.ovf[i++];
		cq->tail++;
	}
	memmove(dev.ovf, dev.ovf + i, (dev.novf - i) * sizeof(dev.ovf[0]));
	dev.novf -= i;
	if (!dev.novf)
		dev.sq->flags &= ~ZSYNC_SQ_CQ_OVERFLOW;
}

static void fake_issue(const struct zsync_sqe *sqe)
{
	__s32 res = 0;

	if (sqe->opcode != ZSYNC_OP_NOP)
		res = -EINVAL;
	else if (sqe->op_flags & ZSYNC_NOP_INJECT_RESULT)
		res = (__s32)sqe->len;
	fake_post(sqe->user_data, res);
}

static int fake_enter(struct zsync_enter *e)
{
	unsigned int tail, n = 0;

	dev.enters++;
	dev.last_enter = *e;
	e->wait_res = 0;
	fake_flush_overflow();
	if (dev.refuse_busy || dev.novf >= dev.overflow_limit) {
		dev.refuse_busy = false;
		return -EBUSY;
	}
	tail = __atomic_load_n(&dev.sq->tail, __ATOMIC_ACQUIRE);
	while (n < e->to_submit && dev.sq_head != tail) {
		fake_issue(&dev.sqes[dev.sq_head & (dev.sq_entries - 1)]);
		dev.sq_head++;
		n++;
	}
	__atomic_store_n(&dev.sq->head, dev.sq_head, __ATOMIC_RELEASE);
	if ((e->flags & ZSYNC_ENTER_GETEVENTS) &&
	    dev.cq->tail - dev.cq->head < e->min_complete)
		e->wait_res = e->timeout ? -ETIME : -EINTR; /* cannot block */
	return n ? (int)n : e->wait_res;
}

/* ---- the wrappers ---------------------------------------------------- */

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_arg(ap, mode_t);
	va_end(ap);
	if (strcmp(path, FAKE_PATH))
		return __real_open(path, flags, mode);
	if (!(flags & O_CLOEXEC) || (flags & O_ACCMODE) != O_RDWR)
		return -1;
	dev.fd = __real_open("/dev/null", O_RDWR | O_CLOEXEC);
	return dev.fd;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != dev.fd || dev.fd < 0)
		return __real_ioctl(fd, req, arg);

	dev.last_req = req;
	switch (req) {
	case ZSYNC_IOC_SETUP:
		ret = fake_setup(arg);
		break;
	case ZSYNC_IOC_ENTER:
		ret = fake_enter(arg);
		break;
	case ZSYNC_IOC_REGISTER_EVENTFD:
		dev.eventfd = *(__s32 *)arg;
		ret = 0;
		break;
	case ZSYNC_IOC_UNREGISTER_EVENTFD:
		dev.eventfd = -1;
		ret = 0;
		break;
	case ZSYNC_IOC_RESTRICT:
		dev.restriction = *(struct zsync_restriction *)arg;
		ret = 0;
		break;
	case ZSYNC_IOC_ENABLE:
		dev.enabled = true;
		ret = 0;
		break;
	default:
		ret = -ENOTTY;
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *region;
	size_t size;

	if (fd != dev.fd || dev.fd < 0)
		return __real_mmap(addr, len, prot, flags, fd, off);
	switch ((unsigned long long)off) {
	case ZSYNC_OFF_SQ_RING:
		region = dev.sq;
		size = sizeof(*dev.sq);
		break;
	case ZSYNC_OFF_CQ_RING:
		region = dev.cq;
		size = sizeof(*dev.cq);
		break;
	case ZSYNC_OFF_SQES:
		region = dev.sqes;
		size = dev.sq_entries * sizeof(struct zsync_sqe);
		break;
	default:
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (!region || len > size || !(flags & MAP_SHARED)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	dev.mapped++;
	return region;
}

int __wrap_munmap(void *addr, size_t len)
{
	if (dev.fd >= 0 && (addr == dev.sq || addr == dev.cq || addr == dev.sqes)) {
		dev.mapped--;
		return 0;
	}
	return __real_munmap(addr, len);
}

int __wrap_close(int fd)
{
	if (fd == dev.fd && fd >= 0) {
		dev.closes++;
		dev.fd = -1;
	}
	return __real_close(fd);
}

/* ---- the tests -------------------------------------------------------- */

/*
 * The harness runs each test in a child of its own, so every test starts
 * from the untouched fake device above and needs no cleanup to isolate it.
 */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A ring on the fake device, of @entries (rounded up by SETUP). */
static void fake_ring(struct __test_metadata *_metadata, struct zk_ring *ring,
		      unsigned int entries)
{
	setenv("ZSYNC_DEV", FAKE_PATH, 1);
	ASSERT_EQ(0, zk_ring_init(entries, ring, 0))
		TH_LOG("cannot set up a ring of %u on the fake device", entries);
}

/* Tear the ring down: every region unmapped, the fd closed once. */
static void close_ring(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	zk_ring_exit(ring);
	EXPECT_EQ(0, dev.mapped);
	EXPECT_EQ(1, dev.closes);
}

/* Get @n SQEs and prepare each as a NOP, user_data counting up from *@ud. */
static void queue_nops(struct __test_metadata *_metadata, struct zk_ring *ring,
		       unsigned int n, __u64 *ud)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = zk_get_sqe(ring);

		ASSERT_NE(NULL, sqe) TH_LOG("SQ full after %u of %u", i, n);
		zk_prep_nop(sqe);
		zk_sqe_set_data64(sqe, (*ud)++);
	}
}

static void submit_nops(struct __test_metadata *_metadata, struct zk_ring *ring,
			unsigned int n, __u64 *ud)
{
	queue_nops(_metadata, ring, n, ud);
	ASSERT_EQ((int)n, zk_submit(ring));
}

TEST(open_missing_device)
{
	struct zk_ring ring;

	setenv("ZSYNC_DEV", "/nonexistent/zsync", 1);
	EXPECT_EQ(-ENOENT, zk_ring_init(8, &ring, 0));
	EXPECT_EQ(-1, ring.fd);
}

/* A file that is not the device: SETUP fails, the fd is not leaked. */
TEST(open_not_the_device)
{
	struct zk_ring ring;
	int fds = count_fds();

	ASSERT_LT(0, fds);
	setenv("ZSYNC_DEV", "/dev/null", 1);
	EXPECT_EQ(-ENOTTY, zk_ring_init(8, &ring, 0));
	EXPECT_EQ(-1, ring.fd);
	EXPECT_EQ(fds, count_fds());
	zk_ring_exit(&ring);	/* harmless on a failed ring */
	EXPECT_EQ(fds, count_fds());
}

/* Kernel refusal of the parameters comes back as its errno. */
TEST(setup_refused)
{
	struct zk_ring ring;
	int fds = count_fds();

	ASSERT_LT(0, fds);
	setenv("ZSYNC_DEV", FAKE_PATH, 1);
	EXPECT_EQ(-EINVAL, zk_ring_init(0, &ring, 0));
	EXPECT_EQ(1, dev.closes);
	EXPECT_EQ(fds, count_fds());
}

/* A mapping that disagrees with what SETUP said is refused and undone. */
TEST(layout_mismatch)
{
	struct zk_ring ring;
	int fds = count_fds();

	ASSERT_LT(0, fds);
	dev.corrupt_mask = true;
	setenv("ZSYNC_DEV", FAKE_PATH, 1);
	EXPECT_EQ(-EPROTO, zk_ring_init(4, &ring, 0));
	EXPECT_EQ(0, dev.mapped);
	EXPECT_EQ(fds, count_fds());
}

TEST(entries_rounded_up)
{
	struct zk_ring ring;

	fake_ring(_metadata, &ring, 3);
	EXPECT_EQ(4u, ring.sq.entries);
	EXPECT_EQ(8u, ring.cq.entries);
	EXPECT_EQ(4u, zk_sq_space_left(&ring));
	close_ring(_metadata, &ring);
}

/* Free-running indices crossing UINT32_MAX must not confuse anything. */
TEST(index_wrap)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	unsigned int round, head, seen;
	__u64 next = 0, expect = 0;

	dev.start_index = 0xfffffff0u;
	fake_ring(_metadata, &ring, 4);
	for (round = 0; round < 20; round++) {
		queue_nops(_metadata, &ring, 3, &next);
		ASSERT_EQ(3, zk_submit_and_wait(&ring, 3)) TH_LOG("round %u", round);
		EXPECT_EQ(3u, dev.last_enter.min_complete);
		EXPECT_EQ((unsigned int)ZSYNC_ENTER_GETEVENTS, dev.last_enter.flags);
		seen = 0;
		zk_for_each_cqe(&ring, head, cqe) {
			EXPECT_EQ(expect, cqe->user_data) TH_LOG("round %u", round);
			EXPECT_EQ(0, cqe->res);
			expect++;
			seen++;
		}
		ASSERT_EQ(3u, seen) TH_LOG("round %u", round);
		zk_cq_advance(&ring, seen);
		EXPECT_EQ(0u, zk_cq_ready(&ring));
		EXPECT_EQ(4u, zk_sq_space_left(&ring));
	}
	EXPECT_GT(0x100u, ring.sq.sqe_tail);	/* it did wrap */
	close_ring(_metadata, &ring);
}

/* A ring of 4 (CQ of 8) on the fake device; the teardown checks close_ring(). */
FIXTURE(ring) {
	struct zk_ring ring;
};

FIXTURE_SETUP(ring)
{
	fake_ring(_metadata, &self->ring, 4);
}

FIXTURE_TEARDOWN(ring)
{
	close_ring(_metadata, &self->ring);
}

/* Nothing pending: zk_submit() makes no syscall. */
TEST_F(ring, submit_nothing)
{
	EXPECT_EQ(0, zk_submit(&self->ring));
	EXPECT_EQ(0, dev.enters);
}

TEST_F(ring, sq_fills_up)
{
	__u64 ud = 100;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		queue_nops(_metadata, &self->ring, 1, &ud);
		EXPECT_EQ(3 - i, zk_sq_space_left(&self->ring));
	}
	EXPECT_EQ(NULL, zk_get_sqe(&self->ring));
}

/* Nothing is visible to the kernel before zk_submit(), which hands over all. */
TEST_F(ring, submit_publishes)
{
	__u64 ud = 100;

	queue_nops(_metadata, &self->ring, 4, &ud);
	EXPECT_EQ(0u, dev.sq->tail);
	EXPECT_EQ(4, zk_submit(&self->ring));
	EXPECT_EQ(4u, dev.last_enter.to_submit);
	EXPECT_EQ(0u, dev.last_enter.flags);
	EXPECT_EQ(4u, dev.sq->tail);
	EXPECT_EQ(4u, zk_sq_space_left(&self->ring));
	EXPECT_EQ(4u, zk_cq_ready(&self->ring));
}

TEST_F(ring, get_sqe_zeroes)
{
	struct zsync_sqe *sqe;

	memset(self->ring.sq.sqes, 0xff, sizeof(struct zsync_sqe));
	sqe = zk_get_sqe(&self->ring);
	ASSERT_EQ(self->ring.sq.sqes, sqe);
	EXPECT_EQ(0u, sqe->resv[0]);
	EXPECT_EQ(0u, sqe->resv[1]);
	EXPECT_EQ(0u, sqe->addr2);
	EXPECT_EQ(0u, sqe->user_data);
	EXPECT_EQ(0u, sqe->flags);
	EXPECT_EQ(0u, sqe->resv0);
}

/* An ENTER that consumed nothing leaves the SQEs to be submitted again. */
TEST_F(ring, busy_resubmit)
{
	struct zsync_cqe *cqe;
	__u64 ud = 7;

	queue_nops(_metadata, &self->ring, 2, &ud);
	dev.refuse_busy = true;
	EXPECT_EQ(-EBUSY, zk_submit(&self->ring));
	EXPECT_EQ(2u, zk_sq_space_left(&self->ring));	/* still occupied */
	queue_nops(_metadata, &self->ring, 1, &ud);
	EXPECT_EQ(3, zk_submit(&self->ring));
	EXPECT_EQ(3u, dev.last_enter.to_submit);
	ASSERT_EQ(0, zk_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(7u, cqe->user_data);
	zk_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(2u, zk_cq_ready(&self->ring));
}

/* CQ of 8: the first 8 NOPs fit, the next 4 overflow. */
TEST_F(ring, overflow_flagged)
{
	__u64 ud = 1;

	submit_nops(_metadata, &self->ring, 4, &ud);
	submit_nops(_metadata, &self->ring, 4, &ud);
	EXPECT_FALSE(zk_cq_overflowed(&self->ring));
	submit_nops(_metadata, &self->ring, 4, &ud);
	EXPECT_TRUE(zk_cq_overflowed(&self->ring));
	EXPECT_EQ(8u, zk_cq_ready(&self->ring));
	EXPECT_EQ(4u, *self->ring.cq.koverflow);
}

TEST_F(ring, wait_timeout)
{
	struct zsync_cqe *cqe = (struct zsync_cqe *)&self->ring;
	struct zsync_timespec ts = { 0, 1000000 };

	EXPECT_EQ(-ETIME, zk_wait_cqe_timeout(&self->ring, &cqe, &ts));
	EXPECT_EQ(NULL, cqe);
	EXPECT_EQ((__u64)(uintptr_t)&ts, dev.last_enter.timeout);
	EXPECT_EQ(1u, dev.last_enter.min_complete);
}

/* Without a timeout the fake reports -EINTR, as a signal would. */
TEST_F(ring, wait_interrupted)
{
	struct zsync_cqe *cqe;

	EXPECT_EQ(-EINTR, zk_wait_cqe(&self->ring, &cqe));
	EXPECT_EQ(0u, dev.last_enter.timeout);
}

/* wait_nr 0 is a peek: nothing ready is -EAGAIN at once. */
TEST_F(ring, wait_nr_zero)
{
	struct zsync_cqe *cqe = (struct zsync_cqe *)&self->ring;

	EXPECT_EQ(-EAGAIN, zk_wait_cqe_nr(&self->ring, &cqe, 0));
	EXPECT_EQ(NULL, cqe);
	EXPECT_EQ(0, dev.enters);
}

/* zk_enter() passes the sigmask and wait_res; it publishes nothing itself. */
TEST_F(ring, enter_sigmask)
{
	sigset_t mask;
	int wait_res = 1;

	ASSERT_NE(NULL, zk_get_sqe(&self->ring));
	sigemptyset(&mask);
	EXPECT_EQ(-EINTR, zk_enter(&self->ring, 1, 1, ZSYNC_ENTER_GETEVENTS, &mask,
				   NULL, &wait_res));	/* unpublished: consumes 0 */
	EXPECT_EQ(-EINTR, wait_res);
	EXPECT_EQ((__u64)(uintptr_t)&mask, dev.last_enter.sigmask);
	EXPECT_EQ(8u, dev.last_enter.sigmask_size);
	EXPECT_EQ(1, zk_submit(&self->ring));	/* the SQE was still pending */
}

TEST_F(ring, wait_returns_cqe)
{
	struct zsync_cqe *cqe;
	struct zsync_sqe *sqe;
	struct zsync_timespec ts = { 0, 1000000 };

	sqe = zk_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	zk_prep_nop_result(sqe, -EIO);
	zk_sqe_set_data64(sqe, 5);
	EXPECT_EQ(1, zk_submit(&self->ring));
	ASSERT_EQ(0, zk_wait_cqe_timeout(&self->ring, &cqe, &ts));
	ASSERT_NE(NULL, cqe);
	EXPECT_EQ(-EIO, cqe->res);
	EXPECT_EQ(5u, zk_cqe_get_data64(cqe));
	zk_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(0u, zk_cq_ready(&self->ring));
}

TEST_F(ring, register_eventfd)
{
	EXPECT_EQ(0, zk_register_eventfd(&self->ring, 42));
	EXPECT_EQ(42, dev.eventfd);
	EXPECT_EQ(0, zk_unregister_eventfd(&self->ring));
	EXPECT_EQ(-1, dev.eventfd);
}

TEST_F(ring, restrict_ops)
{
	struct zsync_restriction r;

	memset(&r, 0, sizeof(r));
	zk_restriction_allow_op(&r, ZSYNC_OP_NOP);
	zk_restriction_allow_op(&r, ZSYNC_OP_CANCEL);
	zk_restriction_allow_op(&r, 200);
	r.allowed_sqe_flags = ZSYNC_SQE_LINK;
	EXPECT_EQ(0, zk_restrict(&self->ring, &r));
	EXPECT_EQ((1ULL << ZSYNC_OP_NOP) | (1ULL << ZSYNC_OP_CANCEL),
		  dev.restriction.allowed_ops[0]);
	EXPECT_EQ(0u, dev.restriction.allowed_ops[1]);
	EXPECT_EQ(0u, dev.restriction.allowed_ops[2]);
	EXPECT_EQ(1ULL << (200 - 192), dev.restriction.allowed_ops[3]);
	EXPECT_EQ(ZSYNC_SQE_LINK, dev.restriction.allowed_sqe_flags);
}

TEST_F(ring, enable)
{
	EXPECT_EQ(0, zk_enable(&self->ring));
	EXPECT_TRUE(dev.enabled);
}

/* The ring above with NOPs 1..8 in its CQ and 9..12 overflowed. */
FIXTURE(overflow) {
	struct zk_ring ring;
	int enters;		/* ENTERs made to get there */
};

FIXTURE_SETUP(overflow)
{
	__u64 ud = 1;

	fake_ring(_metadata, &self->ring, 4);
	submit_nops(_metadata, &self->ring, 4, &ud);
	submit_nops(_metadata, &self->ring, 4, &ud);
	submit_nops(_metadata, &self->ring, 4, &ud);
	ASSERT_TRUE(zk_cq_overflowed(&self->ring));
	ASSERT_EQ(8u, zk_cq_ready(&self->ring));
	self->enters = dev.enters;
}

FIXTURE_TEARDOWN(overflow)
{
	close_ring(_metadata, &self->ring);
}

/* Peek does not enter while CQEs are ready, and returns them in order. */
TEST_F(overflow, peek_ready_first)
{
	struct zsync_cqe *cqe;
	__u64 expect;

	for (expect = 1; expect <= 8; expect++) {
		ASSERT_EQ(0, zk_peek_cqe(&self->ring, &cqe));
		EXPECT_EQ(expect, cqe->user_data);
		zk_cqe_seen(&self->ring, cqe);
	}
	EXPECT_EQ(self->enters, dev.enters);
	EXPECT_TRUE(zk_cq_overflowed(&self->ring));
}

/* CQ empty, overflow set: peek flushes, with an ENTER that waits for nothing. */
TEST_F(overflow, peek_flushes)
{
	struct zsync_cqe *cqe;

	zk_cq_advance(&self->ring, 8);
	ASSERT_EQ(0, zk_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(self->enters + 1, dev.enters);
	EXPECT_EQ(0u, dev.last_enter.to_submit);
	EXPECT_EQ(0u, dev.last_enter.min_complete);
	EXPECT_EQ(9u, cqe->user_data);
	EXPECT_FALSE(zk_cq_overflowed(&self->ring));
	EXPECT_EQ(4u, zk_cq_ready(&self->ring));
	zk_cq_advance(&self->ring, 4);
	EXPECT_EQ(-EAGAIN, zk_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(NULL, cqe);
}

/* wait_cqe_nr flushes too, then needs no blocking wait. */
TEST_F(overflow, wait_flushes)
{
	struct zsync_cqe *cqe;

	zk_cq_advance(&self->ring, 8);
	ASSERT_EQ(0, zk_wait_cqe_nr(&self->ring, &cqe, 3));
	EXPECT_EQ(self->enters + 1, dev.enters);
	EXPECT_EQ(9u, cqe->user_data);
	EXPECT_EQ(4u, zk_cq_ready(&self->ring));
}

/* ---- the prep helpers, on an SQE the harness zeroes for each test ----- */

FIXTURE(prep) {
	struct zsync_sqe s;
};

FIXTURE_SETUP(prep)
{
}

FIXTURE_TEARDOWN(prep)
{
}

/* Every field of @sqe that is not named in @fields is zero. */
#define F_FD	(1u << 0)
#define F_OFF	(1u << 1)
#define F_ADDR	(1u << 2)
#define F_LEN	(1u << 3)
#define F_OPF	(1u << 4)
#define F_ADDR2	(1u << 5)
static void expect_only_fields(struct __test_metadata *_metadata,
			       const struct zsync_sqe *sqe, unsigned int fields)
{
	if (!(fields & F_FD))
		EXPECT_EQ(0, sqe->fd);
	if (!(fields & F_OFF))
		EXPECT_EQ(0u, sqe->off);
	if (!(fields & F_ADDR))
		EXPECT_EQ(0u, sqe->addr);
	if (!(fields & F_LEN))
		EXPECT_EQ(0u, sqe->len);
	if (!(fields & F_OPF))
		EXPECT_EQ(0u, sqe->op_flags);
	if (!(fields & F_ADDR2))
		EXPECT_EQ(0u, sqe->addr2);
	EXPECT_EQ(0u, sqe->flags);
	EXPECT_EQ(0u, sqe->user_data);
	EXPECT_EQ(0u, sqe->resv0);
	EXPECT_EQ(0u, sqe->resv[0]);
	EXPECT_EQ(0u, sqe->resv[1]);
}

/* The op's own fields are set; user_data and flags set before are kept. */
TEST_F(prep, timeout)
{
	struct zsync_timespec ts = { 1, 2 };

	zk_sqe_set_data64(&self->s, 99);
	zk_sqe_set_flags(&self->s, ZSYNC_SQE_LINK);
	zk_prep_timeout(&self->s, &ts, 3, ZSYNC_TIMEOUT_ABS);
	EXPECT_EQ(ZSYNC_OP_TIMEOUT, self->s.opcode);
	EXPECT_EQ((uintptr_t)&ts, self->s.addr);
	EXPECT_EQ(3u, self->s.off);
	EXPECT_EQ(ZSYNC_TIMEOUT_ABS, self->s.op_flags);
	EXPECT_EQ(99u, self->s.user_data);
	EXPECT_EQ(ZSYNC_SQE_LINK, self->s.flags);
}

/* Over a TIMEOUT's SQE: the count goes back to 0. */
TEST_F(prep, link_timeout)
{
	struct zsync_timespec ts = { 1, 2 };

	zk_prep_timeout(&self->s, &ts, 3, ZSYNC_TIMEOUT_ABS);
	zk_prep_link_timeout(&self->s, &ts, 0);
	EXPECT_EQ(ZSYNC_OP_LINK_TIMEOUT, self->s.opcode);
	EXPECT_EQ((uintptr_t)&ts, self->s.addr);
	EXPECT_EQ(0u, self->s.off);
	EXPECT_EQ(0u, self->s.op_flags);
}

TEST_F(prep, cancel)
{
	zk_prep_cancel(&self->s, 1234, ZSYNC_CANCEL_ALL);
	EXPECT_EQ(ZSYNC_OP_CANCEL, self->s.opcode);
	EXPECT_EQ(1234u, self->s.addr);
	EXPECT_EQ(ZSYNC_CANCEL_ALL, self->s.op_flags);
	expect_only_fields(_metadata, &self->s, F_ADDR | F_OPF);
}

/* Over a CANCEL by user_data: the user_data to match goes back to 0. */
TEST_F(prep, cancel_fd)
{
	zk_prep_cancel(&self->s, 1234, ZSYNC_CANCEL_ALL);
	zk_prep_cancel_fd(&self->s, 7, 0);
	EXPECT_EQ(ZSYNC_OP_CANCEL, self->s.opcode);
	EXPECT_EQ(7, self->s.fd);
	EXPECT_EQ(0u, self->s.addr);
	EXPECT_EQ(ZSYNC_CANCEL_FD, self->s.op_flags);
}

/* Over a CANCEL of an fd: the fd goes back to 0. */
TEST_F(prep, nop_result)
{
	zk_prep_cancel_fd(&self->s, 7, 0);
	zk_prep_nop_result(&self->s, -ECANCELED);
	EXPECT_EQ(ZSYNC_OP_NOP, self->s.opcode);
	EXPECT_EQ(-ECANCELED, (__s32)self->s.len);
	EXPECT_EQ(ZSYNC_NOP_INJECT_RESULT, self->s.op_flags);
	EXPECT_EQ(0, self->s.fd);
}

TEST_F(prep, data_pointer)
{
	int x;

	zk_sqe_set_data(&self->s, &x);
	EXPECT_EQ(&x, zk_cqe_get_data(&(struct zsync_cqe){ self->s.user_data, 0, 0 }));
}

TEST_F(prep, msg_ring)
{
	zk_prep_msg_ring(&self->s, 5, 77, -3);
	EXPECT_EQ(ZSYNC_OP_MSG_RING, self->s.opcode);
	EXPECT_EQ(5, self->s.fd);
	EXPECT_EQ(77u, self->s.off);
	EXPECT_EQ(-3, (__s32)self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_OFF | F_LEN);
}

TEST_F(prep, poll_add)
{
	zk_prep_poll_add(&self->s, 6, 0x5, ZSYNC_POLL_MULTISHOT);
	EXPECT_EQ(ZSYNC_OP_POLL_ADD, self->s.opcode);
	EXPECT_EQ(6, self->s.fd);
	EXPECT_EQ(0x5u, self->s.len);
	EXPECT_EQ(ZSYNC_POLL_MULTISHOT, self->s.op_flags);
	expect_only_fields(_metadata, &self->s, F_FD | F_LEN | F_OPF);
}

TEST_F(prep, poll_remove)
{
	zk_prep_poll_remove(&self->s, 42);
	EXPECT_EQ(ZSYNC_OP_POLL_REMOVE, self->s.opcode);
	EXPECT_EQ(42u, self->s.addr);
	expect_only_fields(_metadata, &self->s, F_ADDR);
}

TEST_F(prep, read)
{
	char buf[8];

	zk_prep_read(&self->s, 3, buf, 8, ZSYNC_OFF_CURRENT);
	EXPECT_EQ(ZSYNC_OP_READ, self->s.opcode);
	EXPECT_EQ(3, self->s.fd);
	EXPECT_EQ((uintptr_t)buf, self->s.addr);
	EXPECT_EQ(8u, self->s.len);
	EXPECT_EQ(ZSYNC_OFF_CURRENT, self->s.off);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_LEN | F_OFF);
}

TEST_F(prep, write)
{
	char buf[8];

	zk_prep_write(&self->s, 3, buf, 4, 16);
	EXPECT_EQ(ZSYNC_OP_WRITE, self->s.opcode);
	EXPECT_EQ(16u, self->s.off);
	EXPECT_EQ(4u, self->s.len);
}

TEST_F(prep, readv)
{
	struct iovec iov[2];

	zk_prep_readv(&self->s, 3, iov, 2, 0);
	EXPECT_EQ(ZSYNC_OP_READV, self->s.opcode);
	EXPECT_EQ((uintptr_t)iov, self->s.addr);
	EXPECT_EQ(2u, self->s.len);
}

TEST_F(prep, writev_flags)
{
	struct iovec iov[2];

	zk_prep_writev(&self->s, 3, iov, 2, 0);
	zk_rw_set_flags(&self->s, 4);
	EXPECT_EQ(ZSYNC_OP_WRITEV, self->s.opcode);
	EXPECT_EQ(4u, self->s.op_flags);
}

TEST_F(prep, fsync)
{
	zk_prep_fsync(&self->s, 3, ZSYNC_FSYNC_DATASYNC);
	EXPECT_EQ(ZSYNC_OP_FSYNC, self->s.opcode);
	EXPECT_EQ(ZSYNC_FSYNC_DATASYNC, self->s.op_flags);
	expect_only_fields(_metadata, &self->s, F_FD | F_OPF);
}

TEST_F(prep, openat)
{
	zk_prep_openat(&self->s, -100, "p", 0101, 0600);
	EXPECT_EQ(ZSYNC_OP_OPENAT, self->s.opcode);
	EXPECT_EQ(-100, self->s.fd);
	EXPECT_EQ(0101u, self->s.op_flags);
	EXPECT_EQ(0600u, self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_LEN | F_OPF);
}

TEST_F(prep, statx)
{
	char buf[8];

	zk_prep_statx(&self->s, 4, "p", 0x100, 0x7ff, (struct statx *)buf);
	EXPECT_EQ(ZSYNC_OP_STATX, self->s.opcode);
	EXPECT_EQ((uintptr_t)buf, self->s.addr2);
	EXPECT_EQ(0x7ffu, self->s.len);
	EXPECT_EQ(0x100u, self->s.op_flags);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_LEN | F_OPF | F_ADDR2);
}

TEST_F(prep, accept)
{
	struct sockaddr sa;
	socklen_t sl;

	zk_prep_accept(&self->s, 4, &sa, &sl, 04000, ZSYNC_ACCEPT_MULTISHOT);
	EXPECT_EQ(ZSYNC_OP_ACCEPT, self->s.opcode);
	EXPECT_EQ((uintptr_t)&sa, self->s.addr);
	EXPECT_EQ((uintptr_t)&sl, self->s.addr2);
	EXPECT_EQ(04000u, self->s.len);
	EXPECT_EQ(ZSYNC_ACCEPT_MULTISHOT, self->s.op_flags);
}

TEST_F(prep, connect)
{
	struct sockaddr sa;

	zk_prep_connect(&self->s, 4, &sa, sizeof(sa));
	EXPECT_EQ(ZSYNC_OP_CONNECT, self->s.opcode);
	EXPECT_EQ(sizeof(sa), self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_LEN);
}

TEST_F(prep, send)
{
	char buf[8];

	zk_prep_send(&self->s, 4, buf, 8, 0x40);
	EXPECT_EQ(ZSYNC_OP_SEND, self->s.opcode);
	EXPECT_EQ(8u, self->s.len);
	EXPECT_EQ(0x40u, self->s.op_flags);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_LEN | F_OPF);
}

TEST_F(prep, recv)
{
	char buf[8];

	zk_prep_recv(&self->s, 4, buf, 8, 0);
	EXPECT_EQ(ZSYNC_OP_RECV, self->s.opcode);
	EXPECT_EQ((uintptr_t)buf, self->s.addr);
}

TEST_F(prep, sendmsg)
{
	struct msghdr msg;

	zk_prep_sendmsg(&self->s, 4, &msg, 0);
	EXPECT_EQ(ZSYNC_OP_SENDMSG, self->s.opcode);
	EXPECT_EQ((uintptr_t)&msg, self->s.addr);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_OPF);
}

TEST_F(prep, recvmsg)
{
	struct msghdr msg;

	zk_prep_recvmsg(&self->s, 4, &msg, 0x100);
	EXPECT_EQ(ZSYNC_OP_RECVMSG, self->s.opcode);
	EXPECT_EQ(0x100u, self->s.op_flags);
}

TEST_F(prep, shutdown)
{
	zk_prep_shutdown(&self->s, 4, 1);
	EXPECT_EQ(ZSYNC_OP_SHUTDOWN, self->s.opcode);
	EXPECT_EQ(1u, self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_LEN);
}

TEST_F(prep, source_signal)
{
	zk_prep_source_signal(&self->s, 6, 0x80000001u);
	EXPECT_EQ(ZSYNC_OP_SOURCE_SIGNAL, self->s.opcode);
	EXPECT_EQ(6, self->s.fd);
	EXPECT_EQ(0x80000001u, self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_LEN);
}

/* The cgroup and namespace helpers set exactly the fields their op reads. */
TEST_F(prep, cgroup_attach)
{
	zk_prep_cgroup_attach(&self->s, 3, 1234);
	EXPECT_EQ(ZSYNC_OP_CGROUP_ATTACH, self->s.opcode);
	EXPECT_EQ(3, self->s.fd);
	EXPECT_EQ(1234u, self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_LEN);
}

TEST_F(prep, cgroup_attach_pidfd)
{
	zk_prep_cgroup_attach_pidfd(&self->s, 3, 7);
	EXPECT_EQ(ZSYNC_OP_CGROUP_ATTACH, self->s.opcode);
	EXPECT_EQ(7u, self->s.len);
	EXPECT_EQ(ZSYNC_CGROUP_ATTACH_PIDFD, self->s.op_flags);
	expect_only_fields(_metadata, &self->s, F_FD | F_LEN | F_OPF);
}

TEST_F(prep, cgroup_set_str)
{
	zk_prep_cgroup_set_str(&self->s, 3, "pids.max", "10");
	EXPECT_EQ(ZSYNC_OP_CGROUP_SET, self->s.opcode);
	EXPECT_EQ(3, self->s.fd);
	ASSERT_EQ(2u, self->s.len);
	ASSERT_NE(0u, self->s.addr);
	ASSERT_NE(0u, self->s.addr2);
	EXPECT_STREQ("pids.max", (const char *)(uintptr_t)self->s.addr);
	EXPECT_EQ(0, memcmp((const void *)(uintptr_t)self->s.addr2, "10", 2));
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR | F_ADDR2 | F_LEN);
}

TEST_F(prep, cgroup_wait)
{
	zk_prep_cgroup_wait(&self->s, 4, ZSYNC_CGROUP_FROZEN);
	EXPECT_EQ(ZSYNC_OP_CGROUP_WAIT, self->s.opcode);
	EXPECT_EQ(ZSYNC_CGROUP_FROZEN, self->s.len);
	expect_only_fields(_metadata, &self->s, F_FD | F_LEN);
}

TEST_F(prep, ns_socket)
{
	zk_prep_ns_socket(&self->s, 6, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 17);
	EXPECT_EQ(ZSYNC_OP_NS_SOCKET, self->s.opcode);
	EXPECT_EQ(6, self->s.fd);
	EXPECT_EQ((unsigned int)AF_INET, self->s.len);
	EXPECT_EQ((unsigned int)(SOCK_STREAM | SOCK_CLOEXEC), self->s.op_flags);
	EXPECT_EQ(17u, self->s.off);
	expect_only_fields(_metadata, &self->s, F_FD | F_OFF | F_LEN | F_OPF);
}

TEST_F(prep, ns_info)
{
	struct zsync_ns_info info;

	zk_prep_ns_info(&self->s, 6, &info);
	EXPECT_EQ(ZSYNC_OP_NS_INFO, self->s.opcode);
	EXPECT_EQ((uintptr_t)&info, self->s.addr);
	expect_only_fields(_metadata, &self->s, F_FD | F_ADDR);
}

/* The ops that act on an fd and read nothing else, one variant each. */
FIXTURE(fd_op) {
	struct zsync_sqe s;
};

FIXTURE_VARIANT(fd_op) {
	void (*prep)(struct zsync_sqe *sqe, int fd);
	int opcode;
};

FIXTURE_VARIANT_ADD(fd_op, close) { zk_prep_close, ZSYNC_OP_CLOSE };
FIXTURE_VARIANT_ADD(fd_op, source_wait) { zk_prep_source_wait, ZSYNC_OP_SOURCE_WAIT };
FIXTURE_VARIANT_ADD(fd_op, cgroup_freeze) { zk_prep_cgroup_freeze, ZSYNC_OP_CGROUP_FREEZE };
FIXTURE_VARIANT_ADD(fd_op, cgroup_thaw) { zk_prep_cgroup_thaw, ZSYNC_OP_CGROUP_THAW };
FIXTURE_VARIANT_ADD(fd_op, cgroup_kill) { zk_prep_cgroup_kill, ZSYNC_OP_CGROUP_KILL };
FIXTURE_VARIANT_ADD(fd_op, pidfd_wait) { zk_prep_pidfd_wait, ZSYNC_OP_PIDFD_WAIT };

FIXTURE_SETUP(fd_op)
{
}

FIXTURE_TEARDOWN(fd_op)
{
}

TEST_F(fd_op, prep)
{
	variant->prep(&self->s, 9);
	EXPECT_EQ(variant->opcode, self->s.opcode);
	EXPECT_EQ(9, self->s.fd);
	expect_only_fields(_metadata, &self->s, F_FD);
}

/* A source's 32-bit value: bit 31 travels in the CQE flags. */
TEST(cqe_source_value)
{
	struct zsync_cqe c = { .res = 0x7fffffff,
			       .flags = ZSYNC_CQE_F_MORE | ZSYNC_CQE_F_VALUE_BIT31 };

	EXPECT_EQ(0xffffffffu, zk_cqe_source_value(&c));
	c.res = 5;
	c.flags = ZSYNC_CQE_F_MORE;
	EXPECT_EQ(5u, zk_cqe_source_value(&c));
}

TEST_HARNESS_MAIN
