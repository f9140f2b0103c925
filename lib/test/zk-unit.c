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

static void fake_reset(void)
{
	dev = (struct fake_dev){ .fd = -1 };
}

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

static int failures, checks;

#define CHECK(cond) do {							\
	checks++;								\
	if (!(cond)) {								\
		failures++;							\
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);\
	}									\
} while (0)

#define CHECK_EQ(a, b) do {							\
	long long _a = (long long)(a), _b = (long long)(b);			\
	checks++;								\
	if (_a != _b) {								\
		failures++;							\
		fprintf(stderr, "FAIL %s:%d: %s == %lld, expected %s == %lld\n",\
			__FILE__, __LINE__, #a, _a, #b, _b);			\
	}									\
} while (0)

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

static void fake_ring(struct zk_ring *ring, unsigned int entries)
{
	int ret;

	setenv("ZSYNC_DEV", FAKE_PATH, 1);
	ret = zk_ring_init(entries, ring, 0);
	CHECK_EQ(ret, 0);
	if (ret) {
		fprintf(stderr, "cannot set up the fake ring, giving up\n");
		exit(1);
	}
}

static void close_ring(struct zk_ring *ring)
{
	zk_ring_exit(ring);
	CHECK_EQ(dev.mapped, 0);
	CHECK_EQ(dev.closes, 1);
	free(dev.sq);
	free(dev.cq);
	free(dev.sqes);
	fake_reset();
}

static void test_open_errors(void)
{
	struct zk_ring ring;
	int fds = count_fds();

	setenv("ZSYNC_DEV", "/nonexistent/zsync", 1);
	CHECK_EQ(zk_ring_init(8, &ring, 0), -ENOENT);
	CHECK_EQ(ring.fd, -1);
	/* A file that is not the device: SETUP fails, the fd is not leaked. */
	setenv("ZSYNC_DEV", "/dev/null", 1);
	CHECK_EQ(zk_ring_init(8, &ring, 0), -ENOTTY);
	CHECK_EQ(ring.fd, -1);
	CHECK_EQ(count_fds(), fds);
	zk_ring_exit(&ring);	/* harmless on a failed ring */
	/* Kernel refusal of the parameters comes back as its errno. */
	setenv("ZSYNC_DEV", FAKE_PATH, 1);
	CHECK_EQ(zk_ring_init(0, &ring, 0), -EINVAL);
	CHECK_EQ(dev.closes, 1);
	CHECK_EQ(count_fds(), fds);
	fake_reset();
}

static void test_layout_mismatch(void)
{
	struct zk_ring ring;
	int fds = count_fds();

	dev.corrupt_mask = true;
	setenv("ZSYNC_DEV", FAKE_PATH, 1);
	CHECK_EQ(zk_ring_init(4, &ring, 0), -EPROTO);
	CHECK_EQ(dev.mapped, 0);
	CHECK_EQ(count_fds(), fds);
	free(dev.sq);
	free(dev.cq);
	free(dev.sqes);
	fake_reset();
}

static void test_sq_accounting(void)
{
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	unsigned int i;

	fake_ring(&ring, 3);
	CHECK_EQ(ring.sq.entries, 4);
	CHECK_EQ(ring.cq.entries, 8);
	CHECK_EQ(zk_sq_space_left(&ring), 4);
	CHECK_EQ(zk_submit(&ring), 0);		/* nothing pending: no syscall */
	CHECK_EQ(dev.enters, 0);

	for (i = 0; i < 4; i++) {
		sqe = zk_get_sqe(&ring);
		CHECK(sqe != NULL);
		if (!sqe)
			break;
		zk_prep_nop(sqe);
		zk_sqe_set_data64(sqe, 100 + i);
		CHECK_EQ(zk_sq_space_left(&ring), 3 - i);
	}
	CHECK(zk_get_sqe(&ring) == NULL);
	/* Nothing is visible to the kernel before zk_submit(). */
	CHECK_EQ(dev.sq->tail, 0);
	CHECK_EQ(zk_submit(&ring), 4);
	CHECK_EQ(dev.last_enter.to_submit, 4);
	CHECK_EQ(dev.last_enter.flags, 0);
	CHECK_EQ(dev.sq->tail, 4);
	CHECK_EQ(zk_sq_space_left(&ring), 4);
	CHECK_EQ(zk_cq_ready(&ring), 4);
	close_ring(&ring);
}

static void test_get_sqe_zeroes(void)
{
	struct zk_ring ring;
	struct zsync_sqe *sqe;

	fake_ring(&ring, 1);
	memset(ring.sq.sqes, 0xff, sizeof(struct zsync_sqe));
	sqe = zk_get_sqe(&ring);
	CHECK(sqe && sqe->resv[0] == 0 && sqe->resv[1] == 0 && sqe->addr2 == 0 &&
	      sqe->user_data == 0 && sqe->flags == 0 && sqe->resv0 == 0);
	close_ring(&ring);
}

/* Free-running indices crossing UINT32_MAX must not confuse anything. */
static void test_index_wrap(void)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	unsigned int round, i, head, seen;
	__u64 next = 0, expect = 0;

	dev.start_index = 0xfffffff0u;
	fake_ring(&ring, 4);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 3; i++) {
			struct zsync_sqe *sqe = zk_get_sqe(&ring);

			CHECK(sqe != NULL);
			if (!sqe)
				return;
			zk_prep_nop(sqe);
			zk_sqe_set_data64(sqe, next++);
		}
		CHECK_EQ(zk_submit_and_wait(&ring, 3), 3);
		CHECK_EQ(dev.last_enter.min_complete, 3);
		CHECK_EQ(dev.last_enter.flags, ZSYNC_ENTER_GETEVENTS);
		seen = 0;
		zk_for_each_cqe(&ring, head, cqe) {
			CHECK_EQ(cqe->user_data, expect);
			CHECK_EQ(cqe->res, 0);
			expect++;
			seen++;
		}
		CHECK_EQ(seen, 3);
		zk_cq_advance(&ring, seen);
		CHECK_EQ(zk_cq_ready(&ring), 0);
		CHECK_EQ(zk_sq_space_left(&ring), 4);
	}
	CHECK(ring.sq.sqe_tail < 0x100);	/* it did wrap */
	close_ring(&ring);
}

/* An ENTER that consumed nothing leaves the SQEs to be submitted again. */
static void test_busy_resubmit(void)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	int i;

	fake_ring(&ring, 4);
	for (i = 0; i < 2; i++) {
		zk_prep_nop(zk_get_sqe(&ring));
		zk_sqe_set_data64(&ring.sq.sqes[i], 7 + i);
	}
	dev.refuse_busy = true;
	CHECK_EQ(zk_submit(&ring), -EBUSY);
	CHECK_EQ(zk_sq_space_left(&ring), 2);	/* still occupied */
	zk_prep_nop(zk_get_sqe(&ring));
	CHECK_EQ(zk_submit(&ring), 3);
	CHECK_EQ(dev.last_enter.to_submit, 3);
	CHECK_EQ(zk_peek_cqe(&ring, &cqe), 0);
	CHECK(cqe && cqe->user_data == 7);
	zk_cqe_seen(&ring, cqe);
	CHECK_EQ(zk_cq_ready(&ring), 2);
	close_ring(&ring);
}

static void submit_nops(struct zk_ring *ring, unsigned int n, __u64 *ud)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = zk_get_sqe(ring);

		zk_prep_nop(sqe);
		zk_sqe_set_data64(sqe, (*ud)++);
	}
	CHECK_EQ(zk_submit(ring), (int)n);
}

/* CQEs that overflowed come back, in order, through peek and wait. */
static void test_overflow(void)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	__u64 ud = 1, expect;
	int enters;

	fake_ring(&ring, 4);		/* CQ of 8 */
	submit_nops(&ring, 4, &ud);
	submit_nops(&ring, 4, &ud);
	CHECK(!zk_cq_overflowed(&ring));
	submit_nops(&ring, 4, &ud);
	CHECK(zk_cq_overflowed(&ring));
	CHECK_EQ(zk_cq_ready(&ring), 8);
	CHECK_EQ(*ring.cq.koverflow, 4);

	/* Peek does not enter while CQEs are ready. */
	enters = dev.enters;
	for (expect = 1; expect <= 8; expect++) {
		CHECK_EQ(zk_peek_cqe(&ring, &cqe), 0);
		CHECK_EQ(cqe->user_data, expect);
		zk_cqe_seen(&ring, cqe);
	}
	CHECK_EQ(dev.enters, enters);
	/* CQ empty, overflow set: peek flushes. */
	CHECK_EQ(zk_peek_cqe(&ring, &cqe), 0);
	CHECK_EQ(dev.enters, enters + 1);
	CHECK_EQ(dev.last_enter.to_submit, 0);
	CHECK_EQ(dev.last_enter.min_complete, 0);
	CHECK_EQ(cqe->user_data, 9);
	CHECK(!zk_cq_overflowed(&ring));
	zk_cq_advance(&ring, zk_cq_ready(&ring));
	CHECK_EQ(zk_peek_cqe(&ring, &cqe), -EAGAIN);
	CHECK(cqe == NULL);

	/* wait_cqe_nr flushes too, then needs no blocking wait. */
	submit_nops(&ring, 4, &ud);
	submit_nops(&ring, 4, &ud);
	submit_nops(&ring, 4, &ud);
	zk_cq_advance(&ring, 8);
	enters = dev.enters;
	CHECK_EQ(zk_wait_cqe_nr(&ring, &cqe, 3), 0);
	CHECK_EQ(dev.enters, enters + 1);
	CHECK_EQ(cqe->user_data, 21);
	CHECK_EQ(zk_cq_ready(&ring), 4);
	close_ring(&ring);
}

static void test_wait_paths(void)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe = (struct zsync_cqe *)&ring;
	struct zsync_timespec ts = { 0, 1000000 };
	sigset_t mask;
	int wait_res = 1;

	fake_ring(&ring, 2);
	CHECK_EQ(zk_wait_cqe_timeout(&ring, &cqe, &ts), -ETIME);
	CHECK(cqe == NULL);
	CHECK_EQ(dev.last_enter.timeout, (__u64)(uintptr_t)&ts);
	CHECK_EQ(dev.last_enter.min_complete, 1);
	/* Without a timeout the fake reports -EINTR, as a signal would. */
	CHECK_EQ(zk_wait_cqe(&ring, &cqe), -EINTR);

	zk_prep_nop_result(zk_get_sqe(&ring), -EIO);
	zk_sqe_set_data64(&ring.sq.sqes[0], 5);
	sigemptyset(&mask);
	CHECK_EQ(zk_enter(&ring, 1, 1, ZSYNC_ENTER_GETEVENTS, &mask, NULL,
			  &wait_res), -EINTR);	/* unpublished: consumes 0 */
	CHECK_EQ(wait_res, -EINTR);
	CHECK_EQ(dev.last_enter.sigmask, (__u64)(uintptr_t)&mask);
	CHECK_EQ(dev.last_enter.sigmask_size, 8);
	CHECK_EQ(zk_submit(&ring), 1);
	CHECK_EQ(zk_wait_cqe_timeout(&ring, &cqe, &ts), 0);
	CHECK(cqe && cqe->res == -EIO && zk_cqe_get_data64(cqe) == 5);
	zk_cqe_seen(&ring, cqe);
	CHECK_EQ(zk_wait_cqe_nr(&ring, &cqe, 0), -EAGAIN);
	close_ring(&ring);
}

static void test_prep_helpers(void)
{
	struct zsync_sqe sqe;
	struct zsync_timespec ts = { 1, 2 };
	int x;

	memset(&sqe, 0, sizeof(sqe));
	zk_sqe_set_data64(&sqe, 99);
	zk_sqe_set_flags(&sqe, ZSYNC_SQE_LINK);
	zk_prep_timeout(&sqe, &ts, 3, ZSYNC_TIMEOUT_ABS);
	CHECK(sqe.opcode == ZSYNC_OP_TIMEOUT && sqe.addr == (uintptr_t)&ts &&
	      sqe.off == 3 && sqe.op_flags == ZSYNC_TIMEOUT_ABS);
	CHECK(sqe.user_data == 99 && sqe.flags == ZSYNC_SQE_LINK);
	zk_prep_link_timeout(&sqe, &ts, 0);
	CHECK(sqe.opcode == ZSYNC_OP_LINK_TIMEOUT && sqe.off == 0);
	zk_prep_cancel(&sqe, 1234, ZSYNC_CANCEL_ALL);
	CHECK(sqe.opcode == ZSYNC_OP_CANCEL && sqe.addr == 1234 &&
	      sqe.op_flags == ZSYNC_CANCEL_ALL);
	zk_prep_cancel_fd(&sqe, 7, 0);
	CHECK(sqe.fd == 7 && sqe.addr == 0 && sqe.op_flags == ZSYNC_CANCEL_FD);
	zk_prep_nop_result(&sqe, -ECANCELED);
	CHECK((__s32)sqe.len == -ECANCELED &&
	      sqe.op_flags == ZSYNC_NOP_INJECT_RESULT && sqe.fd == 0);
	zk_sqe_set_data(&sqe, &x);
	CHECK(zk_cqe_get_data(&(struct zsync_cqe){ sqe.user_data, 0, 0 }) == &x);
}

/* Every field of @sqe that is not named in @fields is zero. */
#define F_FD	(1u << 0)
#define F_OFF	(1u << 1)
#define F_ADDR	(1u << 2)
#define F_LEN	(1u << 3)
#define F_OPF	(1u << 4)
#define F_ADDR2	(1u << 5)
static int only_fields(const struct zsync_sqe *sqe, unsigned int fields)
{
	return (sqe->fd == 0 || (fields & F_FD)) &&
	       (sqe->off == 0 || (fields & F_OFF)) &&
	       (sqe->addr == 0 || (fields & F_ADDR)) &&
	       (sqe->len == 0 || (fields & F_LEN)) &&
	       (sqe->op_flags == 0 || (fields & F_OPF)) &&
	       (sqe->addr2 == 0 || (fields & F_ADDR2)) &&
	       sqe->flags == 0 && sqe->user_data == 0 && sqe->resv0 == 0 &&
	       sqe->resv[0] == 0 && sqe->resv[1] == 0;
}

/* The file, net, poll, msg and source helpers set their op's fields and nothing else. */
static void test_prep_io_helpers(void)
{
	struct iovec iov[2];
	struct sockaddr sa;
	struct msghdr msg;
	socklen_t sl;
	char buf[8];
	struct zsync_sqe s;

#define FRESH() memset(&s, 0, sizeof(s))
	FRESH(); zk_prep_msg_ring(&s, 5, 77, -3);
	CHECK(s.opcode == ZSYNC_OP_MSG_RING && s.fd == 5 && s.off == 77 &&
	      (__s32)s.len == -3 && only_fields(&s, F_FD | F_OFF | F_LEN));
	FRESH(); zk_prep_poll_add(&s, 6, 0x5, ZSYNC_POLL_MULTISHOT);
	CHECK(s.opcode == ZSYNC_OP_POLL_ADD && s.fd == 6 && s.len == 0x5 &&
	      s.op_flags == ZSYNC_POLL_MULTISHOT && only_fields(&s, F_FD | F_LEN | F_OPF));
	FRESH(); zk_prep_poll_remove(&s, 42);
	CHECK(s.opcode == ZSYNC_OP_POLL_REMOVE && s.addr == 42 && only_fields(&s, F_ADDR));
	FRESH(); zk_prep_read(&s, 3, buf, 8, ZSYNC_OFF_CURRENT);
	CHECK(s.opcode == ZSYNC_OP_READ && s.fd == 3 && s.addr == (uintptr_t)buf &&
	      s.len == 8 && s.off == ZSYNC_OFF_CURRENT &&
	      only_fields(&s, F_FD | F_ADDR | F_LEN | F_OFF));
	FRESH(); zk_prep_write(&s, 3, buf, 4, 16);
	CHECK(s.opcode == ZSYNC_OP_WRITE && s.off == 16 && s.len == 4);
	FRESH(); zk_prep_readv(&s, 3, iov, 2, 0);
	CHECK(s.opcode == ZSYNC_OP_READV && s.addr == (uintptr_t)iov && s.len == 2);
	FRESH(); zk_prep_writev(&s, 3, iov, 2, 0);
	zk_rw_set_flags(&s, 4);
	CHECK(s.opcode == ZSYNC_OP_WRITEV && s.op_flags == 4);
	FRESH(); zk_prep_fsync(&s, 3, ZSYNC_FSYNC_DATASYNC);
	CHECK(s.opcode == ZSYNC_OP_FSYNC && s.op_flags == ZSYNC_FSYNC_DATASYNC &&
	      only_fields(&s, F_FD | F_OPF));
	FRESH(); zk_prep_openat(&s, -100, "p", 0101, 0600);
	CHECK(s.opcode == ZSYNC_OP_OPENAT && s.fd == -100 && s.op_flags == 0101 &&
	      s.len == 0600 && only_fields(&s, F_FD | F_ADDR | F_LEN | F_OPF));
	FRESH(); zk_prep_close(&s, 9);
	CHECK(s.opcode == ZSYNC_OP_CLOSE && s.fd == 9 && only_fields(&s, F_FD));
	FRESH(); zk_prep_statx(&s, 4, "p", 0x100, 0x7ff, (struct statx *)buf);
	CHECK(s.opcode == ZSYNC_OP_STATX && s.addr2 == (uintptr_t)buf && s.len == 0x7ff &&
	      s.op_flags == 0x100 && only_fields(&s, F_FD | F_ADDR | F_LEN | F_OPF | F_ADDR2));
	FRESH(); zk_prep_accept(&s, 4, &sa, &sl, 04000, ZSYNC_ACCEPT_MULTISHOT);
	CHECK(s.opcode == ZSYNC_OP_ACCEPT && s.addr == (uintptr_t)&sa &&
	      s.addr2 == (uintptr_t)&sl && s.len == 04000 &&
	      s.op_flags == ZSYNC_ACCEPT_MULTISHOT);
	FRESH(); zk_prep_connect(&s, 4, &sa, sizeof(sa));
	CHECK(s.opcode == ZSYNC_OP_CONNECT && s.len == sizeof(sa) &&
	      only_fields(&s, F_FD | F_ADDR | F_LEN));
	FRESH(); zk_prep_send(&s, 4, buf, 8, 0x40);
	CHECK(s.opcode == ZSYNC_OP_SEND && s.len == 8 && s.op_flags == 0x40 &&
	      only_fields(&s, F_FD | F_ADDR | F_LEN | F_OPF));
	FRESH(); zk_prep_recv(&s, 4, buf, 8, 0);
	CHECK(s.opcode == ZSYNC_OP_RECV && s.addr == (uintptr_t)buf);
	FRESH(); zk_prep_sendmsg(&s, 4, &msg, 0);
	CHECK(s.opcode == ZSYNC_OP_SENDMSG && s.addr == (uintptr_t)&msg &&
	      only_fields(&s, F_FD | F_ADDR | F_OPF));
	FRESH(); zk_prep_recvmsg(&s, 4, &msg, 0x100);
	CHECK(s.opcode == ZSYNC_OP_RECVMSG && s.op_flags == 0x100);
	FRESH(); zk_prep_shutdown(&s, 4, 1);
	CHECK(s.opcode == ZSYNC_OP_SHUTDOWN && s.len == 1 && only_fields(&s, F_FD | F_LEN));
	FRESH(); zk_prep_source_wait(&s, 6);
	CHECK(s.opcode == ZSYNC_OP_SOURCE_WAIT && s.fd == 6 && only_fields(&s, F_FD));
	FRESH(); zk_prep_source_signal(&s, 6, 0x80000001u);
	CHECK(s.opcode == ZSYNC_OP_SOURCE_SIGNAL && s.fd == 6 && s.len == 0x80000001u &&
	      only_fields(&s, F_FD | F_LEN));
	{
		struct zsync_cqe c = { .res = 0x7fffffff,
				       .flags = ZSYNC_CQE_F_MORE | ZSYNC_CQE_F_VALUE_BIT31 };

		CHECK(zk_cqe_source_value(&c) == 0xffffffffu);
		c.res = 5;
		c.flags = ZSYNC_CQE_F_MORE;
		CHECK(zk_cqe_source_value(&c) == 5);
	}
#undef FRESH
}

/* The cgroup and namespace helpers set exactly the fields their op reads. */
static void test_prep_cgroup_ns_helpers(void)
{
	struct zsync_ns_info info;
	struct zsync_sqe s;
	unsigned int op;

#define FRESH() memset(&s, 0, sizeof(s))
	FRESH(); zk_prep_cgroup_attach(&s, 3, 1234);
	CHECK(s.opcode == ZSYNC_OP_CGROUP_ATTACH && s.fd == 3 && s.len == 1234 &&
	      s.op_flags == 0 && only_fields(&s, F_FD | F_LEN));
	FRESH(); zk_prep_cgroup_attach_pidfd(&s, 3, 7);
	CHECK(s.opcode == ZSYNC_OP_CGROUP_ATTACH && s.len == 7 &&
	      s.op_flags == ZSYNC_CGROUP_ATTACH_PIDFD && only_fields(&s, F_FD | F_LEN | F_OPF));
	FRESH(); zk_prep_cgroup_set_str(&s, 3, "pids.max", "10");
	CHECK(s.opcode == ZSYNC_OP_CGROUP_SET && s.fd == 3 && s.len == 2 &&
	      !strcmp((const char *)(uintptr_t)s.addr, "pids.max") &&
	      !memcmp((const void *)(uintptr_t)s.addr2, "10", 2) &&
	      only_fields(&s, F_FD | F_ADDR | F_ADDR2 | F_LEN));
	for (op = ZSYNC_OP_CGROUP_FREEZE; op <= ZSYNC_OP_CGROUP_KILL; op++) {
		FRESH();
		if (op == ZSYNC_OP_CGROUP_FREEZE)
			zk_prep_cgroup_freeze(&s, 4);
		else if (op == ZSYNC_OP_CGROUP_THAW)
			zk_prep_cgroup_thaw(&s, 4);
		else
			zk_prep_cgroup_kill(&s, 4);
		CHECK(s.opcode == op && s.fd == 4 && only_fields(&s, F_FD));
	}
	FRESH(); zk_prep_cgroup_wait(&s, 4, ZSYNC_CGROUP_FROZEN);
	CHECK(s.opcode == ZSYNC_OP_CGROUP_WAIT && s.len == ZSYNC_CGROUP_FROZEN &&
	      only_fields(&s, F_FD | F_LEN));
	FRESH(); zk_prep_pidfd_wait(&s, 5);
	CHECK(s.opcode == ZSYNC_OP_PIDFD_WAIT && s.fd == 5 && only_fields(&s, F_FD));
	FRESH(); zk_prep_ns_socket(&s, 6, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 17);
	CHECK(s.opcode == ZSYNC_OP_NS_SOCKET && s.fd == 6 && s.len == AF_INET &&
	      s.op_flags == (SOCK_STREAM | SOCK_CLOEXEC) && s.off == 17 &&
	      only_fields(&s, F_FD | F_OFF | F_LEN | F_OPF));
	FRESH(); zk_prep_ns_info(&s, 6, &info);
	CHECK(s.opcode == ZSYNC_OP_NS_INFO && s.addr == (uintptr_t)&info &&
	      only_fields(&s, F_FD | F_ADDR));
#undef FRESH
}

static void test_registration(void)
{
	struct zk_ring ring;
	struct zsync_restriction r;

	fake_ring(&ring, 2);
	CHECK_EQ(zk_register_eventfd(&ring, 42), 0);
	CHECK_EQ(dev.eventfd, 42);
	CHECK_EQ(zk_unregister_eventfd(&ring), 0);
	CHECK_EQ(dev.eventfd, -1);
	memset(&r, 0, sizeof(r));
	zk_restriction_allow_op(&r, ZSYNC_OP_NOP);
	zk_restriction_allow_op(&r, ZSYNC_OP_CANCEL);
	zk_restriction_allow_op(&r, 200);
	r.allowed_sqe_flags = ZSYNC_SQE_LINK;
	CHECK_EQ(zk_restrict(&ring, &r), 0);
	CHECK_EQ(dev.restriction.allowed_ops[0],
		 (1ULL << ZSYNC_OP_NOP) | (1ULL << ZSYNC_OP_CANCEL));
	CHECK_EQ(dev.restriction.allowed_ops[3], 1ULL << (200 - 192));
	CHECK_EQ(dev.restriction.allowed_sqe_flags, ZSYNC_SQE_LINK);
	CHECK_EQ(zk_enable(&ring), 0);
	CHECK(dev.enabled);
	close_ring(&ring);
}

int main(void)
{
	test_open_errors();
	test_layout_mismatch();
	test_sq_accounting();
	test_get_sqe_zeroes();
	test_index_wrap();
	test_busy_resubmit();
	test_overflow();
	test_wait_paths();
	test_prep_helpers();
	test_prep_io_helpers();
	test_prep_cgroup_ns_helpers();
	test_registration();
	printf("zk-unit: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
