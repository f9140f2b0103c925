// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz: SQE generation.  Each op gets fields that are mostly valid
 * (the fields Documentation/ops.rst lists for it, real fds of the kinds it
 * acts on, lengths and flags it accepts), because an op that always fails
 * its first check reaches nothing.  A few percent of SQEs then get one
 * thing wrong: a hostile pointer, an unknown flag, a field the op does not
 * read, a reserved field, an opcode past the end.
 *
 * Generation depends only on the thread's PRNG and the sequence number,
 * never on results, so a seed replays the same SQE stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"

#define FZ_STRUCT_AREA	(16 * 1024)	/* sockaddrs, iovecs, timespecs, msghdrs */
#define FZ_DATA_AREA	(176 * 1024)	/* I/O buffers */
#define FZ_BUF_LEN	(FZ_STRUCT_AREA + FZ_DATA_AREA)
#define FZ_PAGE		4096

/* t->bufs: structs | data | PROT_NONE page | read-only page */
size_t fz_bufs_len(void)
{
	return FZ_BUF_LEN + 2 * FZ_PAGE;
}

int fz_bufs_init(struct fz_thread *t)
{
	char *b = mmap(NULL, fz_bufs_len(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return -errno;
	memset(b, 'z', FZ_BUF_LEN);
	mprotect(b + FZ_BUF_LEN, FZ_PAGE, PROT_NONE);
	mprotect(b + FZ_BUF_LEN + FZ_PAGE, FZ_PAGE, PROT_READ);
	t->bufs = b;
	return 0;
}

/* A slot of the struct area, 8-byte aligned, reused round robin. */
static void *struct_slot(struct fz_thread *t, size_t len)
{
	static _Thread_local size_t next;
	char *p;

	len = (len + 7) & ~(size_t)7;
	if (next + len > FZ_STRUCT_AREA)
		next = 0;
	p = (char *)t->bufs + next;
	next += len;
	return p;
}

static uint64_t data_ptr(struct fz_thread *t, size_t want)
{
	size_t room = FZ_DATA_AREA > want ? FZ_DATA_AREA - want : 0;

	return (uintptr_t)t->bufs + FZ_STRUCT_AREA + fz_below(&t->rng, (uint32_t)room + 1);
}

/*
 * A user pointer for WANT bytes: usually a real buffer; else NULL, a
 * kernel address, a guard page, a read-only page, a buffer that runs into
 * the guard page, or a misaligned one.
 */
uint64_t fz_hostile_ptr(struct fz_thread *t, size_t want)
{
	char *b = t->bufs;

	if (!fz_chance(&t->rng, 8))
		return data_ptr(t, want);
	switch (fz_below(&t->rng, 8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 0xffff888000000000ULL;
	case 3: return 0xffffffffff600000ULL;
	case 4: return (uintptr_t)(b + FZ_BUF_LEN);		/* PROT_NONE */
	case 5: return (uintptr_t)(b + FZ_BUF_LEN + FZ_PAGE);	/* read-only */
	case 6: return (uintptr_t)(b + FZ_BUF_LEN - 16);	/* runs into the guard */
	default: return data_ptr(t, want) | 1;
	}
}

static uint32_t rand_len(struct fz_thread *t)
{
	static const uint32_t lens[] = { 0, 1, 7, 64, 512, 4096, 4097, 65536, 0x7fffffff, 0xffffffff };

	if (fz_chance(&t->rng, 70))
		return 1 + fz_below(&t->rng, 8192);
	return lens[fz_below(&t->rng, sizeof(lens) / sizeof(lens[0]))];
}

static uint64_t rand_off(struct fz_thread *t)
{
	if (fz_chance(&t->rng, 30))
		return ZSYNC_OFF_CURRENT;
	if (fz_chance(&t->rng, 5))
		return fz_next(&t->rng);
	return fz_below(&t->rng, 65536 * 2);
}

/* Valid flags mostly, an unknown bit sometimes. */
static uint32_t rand_flags(struct fz_thread *t, uint32_t valid)
{
	uint32_t f = (uint32_t)fz_next(&t->rng) & valid;

	if (fz_chance(&t->rng, 4))
		f |= 1U << fz_below(&t->rng, 32);
	return f;
}

static uint64_t timespec_ptr(struct fz_thread *t)
{
	struct zsync_timespec *ts = struct_slot(t, sizeof(*ts));

	ts->tv_sec = 0;
	ts->tv_nsec = fz_below(&t->rng, 5000000);
	if (fz_chance(&t->rng, 10))
		ts->tv_sec = 3600;		/* only a cancel ends it */
	if (fz_chance(&t->rng, 3))
		ts->tv_nsec = -1;
	if (fz_chance(&t->rng, 3))
		ts->tv_nsec = 1000000000;
	return fz_chance(&t->rng, 5) ? fz_hostile_ptr(t, sizeof(*ts)) : (uintptr_t)ts;
}

static uint64_t iovec_ptr(struct fz_thread *t, uint32_t *count)
{
	unsigned int i, n = fz_chance(&t->rng, 3) ? 1025 : fz_below(&t->rng, 9);
	struct iovec *iov;

	*count = n;
	if (n > 64)
		n = 64;			/* the rest of the array is whatever follows */
	iov = struct_slot(t, n * sizeof(*iov) + 8);
	for (i = 0; i < n; i++) {
		iov[i].iov_len = fz_chance(&t->rng, 90) ? 1 + fz_below(&t->rng, 4096) : rand_len(t);
		iov[i].iov_base = (void *)(uintptr_t)fz_hostile_ptr(t, iov[i].iov_len);
	}
	return (uintptr_t)iov;
}

static uint64_t sockaddr_ptr(struct fz_thread *t, struct fz_pool *pool, uint32_t *len)
{
	struct sockaddr_in *sin = struct_slot(t, sizeof(struct sockaddr_un));

	memset(sin, 0, sizeof(struct sockaddr_un));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(fz_chance(&t->rng, 80) ? (uint16_t)pool->tcp_port : (uint16_t)(1 + fz_below(&t->rng, 65535)));
	*len = sizeof(*sin);
	if (fz_chance(&t->rng, 10)) {
		struct sockaddr_un *sun = (struct sockaddr_un *)sin;

		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/sock", pool->dir_path);
		*len = sizeof(*sun);
	}
	if (fz_chance(&t->rng, 5))
		*len = fz_below(&t->rng, 256);
	return fz_chance(&t->rng, 5) ? fz_hostile_ptr(t, *len) : (uintptr_t)sin;
}

static uint64_t msghdr_ptr(struct fz_thread *t, struct fz_pool *pool)
{
	struct msghdr *m = struct_slot(t, sizeof(*m));
	uint32_t n, alen;

	memset(m, 0, sizeof(*m));
	m->msg_iov = (struct iovec *)(uintptr_t)iovec_ptr(t, &n);
	m->msg_iovlen = n;
	if (fz_chance(&t->rng, 20)) {
		m->msg_name = (void *)(uintptr_t)sockaddr_ptr(t, pool, &alen);
		m->msg_namelen = alen;
	}
	if (fz_chance(&t->rng, 10)) {
		m->msg_control = (void *)(uintptr_t)fz_hostile_ptr(t, 64);
		m->msg_controllen = fz_below(&t->rng, 256);
	}
	return fz_chance(&t->rng, 5) ? fz_hostile_ptr(t, sizeof(*m)) : (uintptr_t)m;
}

static uint64_t path_ptr(struct fz_thread *t, struct fz_pool *pool, bool *absolute)
{
	static const char *const rel[] = {
		"f0", "f1", "f2", "f3", "new", "..", ".", "../../../etc/passwd",
		"cgroup.events", "memory.max", "self/status", "", "nonexistent/x",
	};
	static const char *const abs[] = {
		"/etc/passwd", "/dev/zsync", "/proc/self/status", "/dev/null",
		"/sys/fs/cgroup/cgroup.procs", "/proc/self/ns/net",
	};
	char *p = struct_slot(t, 320);

	*absolute = fz_chance(&t->rng, 15);
	if (*absolute)
		snprintf(p, 320, "%s", abs[fz_below(&t->rng, sizeof(abs) / sizeof(abs[0]))]);
	else if (fz_chance(&t->rng, 20))
		snprintf(p, 320, "%s/%s", pool->dir_path, rel[fz_below(&t->rng, 5)]);
	else
		snprintf(p, 320, "%s", rel[fz_below(&t->rng, sizeof(rel) / sizeof(rel[0]))]);
	if (fz_chance(&t->rng, 4)) {
		/* No NUL before the guard page. */
		char *end = (char *)t->bufs + FZ_BUF_LEN - 8;

		memset(end, 'a', 8);
		return (uintptr_t)end;
	}
	return fz_chance(&t->rng, 4) ? fz_hostile_ptr(t, 1) : (uintptr_t)p;
}

static uint32_t open_flags(struct fz_thread *t, bool absolute)
{
	static const uint32_t extra[] = {
		O_NONBLOCK, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH, O_NOATIME,
		O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_TMPFILE, O_DIRECT,
	};
	static const uint32_t writes = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
				       O_TMPFILE;
	uint32_t f = fz_below(&t->rng, 3);	/* O_RDONLY, O_WRONLY, O_RDWR */
	unsigned int i;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (fz_chance(&t->rng, 8))
			f |= extra[i];
	if (fz_chance(&t->rng, 3))
		f |= 1U << fz_below(&t->rng, 32);
	/* Only the scratch directory may be written: the VM's files stay. */
	if (absolute)
		f &= ~writes;
	return f;
}

static void gen_rw(struct fz_episode *ep, struct fz_thread *t, struct zsync_sqe *sqe)
{
	static const int kinds[] = {
		FZ_K_FILE, FZ_K_PIPE_R, FZ_K_PIPE_W, FZ_K_UNIX, FZ_K_TCP, FZ_K_DEVNULL,
		FZ_K_PTY, FZ_K_EVENTFD, FZ_K_PROC, FZ_K_MEMFD, FZ_K_TIMERFD, FZ_K_UDP,
	};

	sqe->fd = fz_pool_pick(&ep->pool, &t->rng, kinds[fz_below(&t->rng, sizeof(kinds) / sizeof(kinds[0]))]);
	sqe->off = rand_off(t);
	/* RWF_HIPRI..RWF_APPEND, now and then: most files refuse some of them. */
	sqe->op_flags = fz_chance(&t->rng, 70) ? 0 : rand_flags(t, 0x1f);
	if (sqe->opcode == ZSYNC_OP_READV || sqe->opcode == ZSYNC_OP_WRITEV) {
		sqe->addr = iovec_ptr(t, &sqe->len);
	} else {
		sqe->len = rand_len(t);
		sqe->addr = fz_hostile_ptr(t, sqe->len > 8192 ? 8192 : sqe->len);
	}
}

static void gen_net(struct fz_episode *ep, struct fz_thread *t, struct zsync_sqe *sqe)
{
	/* What each op accepts (kmod/ops/net.c); rand_flags() adds a stray bit. */
	static const uint32_t send_flags = MSG_OOB | MSG_DONTROUTE | MSG_DONTWAIT | MSG_EOR |
					   MSG_MORE | MSG_NOSIGNAL | MSG_CONFIRM | MSG_WAITALL;
	static const uint32_t recv_flags = MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL;
	bool sending = sqe->opcode == ZSYNC_OP_SEND || sqe->opcode == ZSYNC_OP_SENDMSG;
	uint32_t msg_flags = fz_chance(&t->rng, 50) ? 0 : sending ? send_flags :
			     recv_flags | (sqe->opcode == ZSYNC_OP_RECVMSG ? MSG_ERRQUEUE | MSG_CMSG_CLOEXEC : 0);
	static const int kinds[] = { FZ_K_TCP, FZ_K_UNIX, FZ_K_UNIX_DGRAM, FZ_K_UDP, FZ_K_TCP_LISTEN };
	uint32_t alen;

	sqe->fd = fz_pool_pick(&ep->pool, &t->rng, kinds[fz_below(&t->rng, 5)]);
	switch (sqe->opcode) {
	case ZSYNC_OP_ACCEPT:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_TCP_LISTEN);
		sqe->op_flags = rand_flags(t, ZSYNC_ACCEPT_FLAGS_ALL);
		sqe->len = rand_flags(t, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fz_chance(&t->rng, 40)) {
			socklen_t *l = struct_slot(t, sizeof(*l));

			*l = fz_chance(&t->rng, 90) ? sizeof(struct sockaddr_in) : 0xffffffff;
			sqe->addr = fz_hostile_ptr(t, 16);
			sqe->addr2 = fz_chance(&t->rng, 90) ? (uintptr_t)l : fz_hostile_ptr(t, 4);
		}
		break;
	case ZSYNC_OP_CONNECT:
		sqe->addr = sockaddr_ptr(t, &ep->pool, &alen);
		sqe->len = alen;
		break;
	case ZSYNC_OP_SEND:
	case ZSYNC_OP_RECV:
		sqe->len = rand_len(t);
		sqe->addr = fz_hostile_ptr(t, sqe->len > 8192 ? 8192 : sqe->len);
		sqe->op_flags = rand_flags(t, msg_flags) | (sending ? MSG_NOSIGNAL : 0);
		break;
	case ZSYNC_OP_SENDMSG:
	case ZSYNC_OP_RECVMSG:
		sqe->addr = msghdr_ptr(t, &ep->pool);
		sqe->op_flags = rand_flags(t, msg_flags) | (sending ? MSG_NOSIGNAL : 0);
		break;
	case ZSYNC_OP_SHUTDOWN:
		sqe->len = fz_below(&t->rng, 4);
		break;
	}
}

static void gen_cgroup(struct fz_episode *ep, struct fz_thread *t, struct zsync_sqe *sqe)
{
	static const char *const knobs[] = {
		"memory.max", "pids.max", "memory.high", "cgroup.freeze", "cgroup.procs",
		"cgroup.type", "../cgroup.procs", "cgroup.kill", "nonexistent", "",
	};
	static const char *const values[] = { "max", "0", "1", "1048576", "-1", "\n", "junk" };
	/* A memory limit below the victim's usage OOM-kills it: a report with a stack. */
	static const char *const mem_values[] = { "max", "1048576", "16777216", "-1", "junk" };
	char *v;

	sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_CGROUP);
	switch (sqe->opcode) {
	case ZSYNC_OP_CGROUP_ATTACH:
		/*
		 * Never the fuzzer itself (len 0) or init: freezing or killing
		 * the cgroup would then stop the run, not test the module.
		 */
		sqe->op_flags = rand_flags(t, ZSYNC_CGROUP_ATTACH_FLAGS_ALL);
		if (sqe->op_flags & ZSYNC_CGROUP_ATTACH_PIDFD)
			sqe->len = (uint32_t)fz_pool_pick(&ep->pool, &t->rng, FZ_K_PIDFD);
		else
			sqe->len = fz_chance(&t->rng, 80) ? (uint32_t)ep->pool.victim_pid : 999999;
		break;
	case ZSYNC_OP_CGROUP_SET: {
		const char *knob = knobs[fz_below(&t->rng, sizeof(knobs) / sizeof(knobs[0]))];
		char *k = struct_slot(t, 32);

		snprintf(k, 32, "%s", knob);
		v = struct_slot(t, 32);
		if (!strcmp(knob, "cgroup.procs") || !strcmp(knob, "../cgroup.procs"))
			snprintf(v, 32, "%d", ep->pool.victim_pid);
		else if (!strncmp(knob, "memory.", 7))
			snprintf(v, 32, "%s", mem_values[fz_below(&t->rng, sizeof(mem_values) / sizeof(mem_values[0]))]);
		else
			snprintf(v, 32, "%s", values[fz_below(&t->rng, sizeof(values) / sizeof(values[0]))]);
		sqe->addr = fz_chance(&t->rng, 5) ? fz_hostile_ptr(t, 8) : (uintptr_t)k;
		sqe->addr2 = fz_chance(&t->rng, 5) ? fz_hostile_ptr(t, 8) : (uintptr_t)v;
		sqe->len = fz_chance(&t->rng, 90) ? (uint32_t)strlen(v) : rand_len(t);
		break;
	}
	case ZSYNC_OP_CGROUP_WAIT:
		sqe->len = rand_flags(t, ZSYNC_CGROUP_STATE_ALL) | (fz_chance(&t->rng, 90) ? ZSYNC_CGROUP_FROZEN : 0);
		break;
	}
}

static void gen_misc(struct fz_episode *ep, struct fz_thread *t, struct zsync_sqe *sqe,
		     uint64_t seq)
{
	bool abs;

	switch (sqe->opcode) {
	case ZSYNC_OP_NOP:
		sqe->op_flags = rand_flags(t, ZSYNC_NOP_INJECT_RESULT);
		sqe->len = fz_chance(&t->rng, 50) ? 0 : (uint32_t)fz_next(&t->rng);
		break;
	case ZSYNC_OP_TIMEOUT:
	case ZSYNC_OP_LINK_TIMEOUT:
		sqe->addr = timespec_ptr(t);
		sqe->op_flags = rand_flags(t, ZSYNC_TIMEOUT_FLAGS_ALL) & ~ZSYNC_TIMEOUT_ABS;
		/* Two clocks at once is one invalid case among many: rarely. */
		if (fz_chance(&t->rng, 90))
			sqe->op_flags &= ~(fz_chance(&t->rng, 50) ? ZSYNC_TIMEOUT_BOOTTIME :
					   ZSYNC_TIMEOUT_REALTIME);
		if (sqe->opcode == ZSYNC_OP_TIMEOUT)
			sqe->off = fz_below(&t->rng, 4);
		else if (fz_chance(&t->rng, 90))	/* LINK_TIMEOUT refuses it */
			sqe->op_flags &= ~ZSYNC_TIMEOUT_ETIME_SUCCESS;
		break;
	case ZSYNC_OP_CANCEL:
		sqe->op_flags = rand_flags(t, ZSYNC_CANCEL_FLAGS_ALL);
		if (sqe->op_flags & ZSYNC_CANCEL_FD)
			sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_NONE);
		else if (!(sqe->op_flags & ZSYNC_CANCEL_ANY))
			sqe->addr = FZ_UD(FZ_UD_TAG, t->id, seq ? fz_below(&t->rng, (uint32_t)seq) : 0);
		break;
	case ZSYNC_OP_MSG_RING: {
		unsigned int target = fz_below(&t->rng, ep->nr_threads);

		sqe->len = (uint32_t)fz_next(&t->rng);
		if (fz_chance(&t->rng, 85)) {
			sqe->fd = ep->thr[target].ring.fd;
			sqe->off = FZ_UD(FZ_UD_MSG_TAG, target, seq);
		} else {
			sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_RING);
			sqe->off = FZ_UD(FZ_UD_MSG_TAG, 0xff, seq);
		}
		break;
	}
	case ZSYNC_OP_POLL_ADD:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_NONE);
		sqe->len = rand_flags(t, POLLIN | POLLOUT | POLLPRI | POLLERR | POLLHUP | POLLRDHUP);
		sqe->op_flags = rand_flags(t, ZSYNC_POLL_FLAGS_ALL);
		break;
	case ZSYNC_OP_POLL_REMOVE:
		sqe->addr = FZ_UD(FZ_UD_TAG, t->id, seq ? fz_below(&t->rng, (uint32_t)seq) : 0);
		break;
	case ZSYNC_OP_FSYNC:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_FILE);
		sqe->op_flags = rand_flags(t, ZSYNC_FSYNC_FLAGS_ALL);
		sqe->off = fz_below(&t->rng, 65536);
		sqe->len = fz_below(&t->rng, 65536);
		break;
	case ZSYNC_OP_OPENAT:
		sqe->fd = fz_chance(&t->rng, 50) ? -100 : fz_pool_pick(&ep->pool, &t->rng, FZ_K_DIR);
		sqe->addr = path_ptr(t, &ep->pool, &abs);
		if (sqe->fd != -100)
			abs = true;	/* a dirfd may be any directory */
		sqe->op_flags = open_flags(t, abs);
		/* A mode only goes with O_CREAT or O_TMPFILE (openat2() rules). */
		if ((sqe->op_flags & (O_CREAT | O_TMPFILE)) || fz_chance(&t->rng, 3))
			sqe->len = fz_below(&t->rng, 01000);
		break;
	case ZSYNC_OP_CLOSE:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_NONE);
		break;
	case ZSYNC_OP_STATX:
		sqe->fd = fz_chance(&t->rng, 50) ? -100 : fz_pool_pick(&ep->pool, &t->rng, FZ_K_NONE);
		sqe->addr = path_ptr(t, &ep->pool, &abs);
		sqe->len = rand_flags(t, STATX_ALL);
		sqe->op_flags = rand_flags(t, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
					   (fz_chance(&t->rng, 50) ? AT_STATX_FORCE_SYNC : AT_STATX_DONT_SYNC));
		sqe->addr2 = fz_hostile_ptr(t, sizeof(struct statx));
		break;
	case ZSYNC_OP_PIDFD_WAIT:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_PIDFD);
		break;
	case ZSYNC_OP_NS_SOCKET: {
		static const uint32_t dom[] = { AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET, 255 };
		static const uint32_t type[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, 99 };

		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, fz_chance(&t->rng, 80) ? FZ_K_NETNS : FZ_K_USERNS);
		sqe->len = dom[fz_below(&t->rng, 6)];
		sqe->op_flags = type[fz_below(&t->rng, 5)] | rand_flags(t, SOCK_NONBLOCK | SOCK_CLOEXEC);
		sqe->off = fz_chance(&t->rng, 80) ? 0 : fz_below(&t->rng, 300);
		break;
	}
	case ZSYNC_OP_NS_INFO:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, fz_chance(&t->rng, 50) ? FZ_K_NETNS : FZ_K_USERNS);
		sqe->addr = fz_hostile_ptr(t, sizeof(struct zsync_ns_info));
		break;
	case ZSYNC_OP_SOURCE_WAIT:
	case ZSYNC_OP_SOURCE_SIGNAL:
		sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_SOURCE);
		if (sqe->opcode == ZSYNC_OP_SOURCE_SIGNAL)
			sqe->len = (uint32_t)fz_next(&t->rng);
		break;
	}
}

/* Pick an opcode the run allows (--ops), now and then an invalid one. */
static int pick_op(struct fz_thread *t)
{
	unsigned int i, op;

	if (fz_chance(&t->rng, 1) && (fz_opts.op_mask[ZSYNC_OP_LAST / 64] >> (ZSYNC_OP_LAST % 64) & 1))
		return ZSYNC_OP_LAST + (int)fz_below(&t->rng, 256 - ZSYNC_OP_LAST);
	for (i = 0; i < 64; i++) {
		op = fz_below(&t->rng, ZSYNC_OP_LAST);
		if (fz_opts.op_mask[op / 64] >> (op % 64) & 1)
			return (int)op;
	}
	return ZSYNC_OP_NOP;
}

static bool op_is_multishot(const struct zsync_sqe *sqe)
{
	switch (sqe->opcode) {
	case ZSYNC_OP_POLL_ADD:
		return sqe->op_flags & ZSYNC_POLL_MULTISHOT;
	case ZSYNC_OP_ACCEPT:
		return sqe->op_flags & ZSYNC_ACCEPT_MULTISHOT;
	case ZSYNC_OP_CGROUP_WAIT:
	case ZSYNC_OP_SOURCE_WAIT:
		return true;
	}
	return false;
}

/* One SQE into SQE for sequence SEQ; *multishot says if F_MORE may come. */
void fz_gen_sqe(struct fz_episode *ep, struct fz_thread *t, struct zsync_sqe *sqe,
		uint64_t seq, uint8_t *multishot)
{
	int op = pick_op(t);

	/* A LINK_TIMEOUT only means something right after a linked SQE. */
	if (t->last_linked && fz_chance(&t->rng, 30) &&
	    (fz_opts.op_mask[0] >> ZSYNC_OP_LINK_TIMEOUT & 1))
		op = ZSYNC_OP_LINK_TIMEOUT;

	sqe->opcode = (uint8_t)op;
	sqe->user_data = FZ_UD(FZ_UD_TAG, t->id, seq);
	if (op >= ZSYNC_OP_READ && op <= ZSYNC_OP_WRITEV)
		gen_rw(ep, t, sqe);
	else if (op >= ZSYNC_OP_ACCEPT && op <= ZSYNC_OP_SHUTDOWN)
		gen_net(ep, t, sqe);
	else if (op >= ZSYNC_OP_CGROUP_ATTACH && op <= ZSYNC_OP_CGROUP_WAIT)
		gen_cgroup(ep, t, sqe);
	else if (op < ZSYNC_OP_LAST)
		gen_misc(ep, t, sqe, seq);
	if (fz_chance(&t->rng, 15))
		sqe->flags |= ZSYNC_SQE_LINK;
	/* One thing wrong, now and then. */
	if (fz_chance(&t->rng, 2)) {
		switch (fz_below(&t->rng, 4)) {
		case 0: sqe->flags |= 1U << (1 + fz_below(&t->rng, 7)); break;
		case 1: sqe->resv0 = 1; break;
		case 2: sqe->resv[fz_below(&t->rng, 2)] = fz_next(&t->rng); break;
		default: sqe->addr2 |= 1 + fz_below(&t->rng, 1000); break;
		}
	}
	*multishot = op_is_multishot(sqe);
	t->last_linked = (sqe->flags & ZSYNC_SQE_LINK) && op != ZSYNC_OP_LINK_TIMEOUT;
	if (fz_opts.trace)
		fprintf(stderr, "sqe t%d #%llu %s fd=%d flags=%#x off=%#llx addr=%#llx len=%u op_flags=%#x addr2=%#llx\n",
			t->id, (unsigned long long)seq, fz_op_name(op < ZSYNC_OP_LAST ? op : ZSYNC_OP_LAST),
			sqe->fd, sqe->flags, (unsigned long long)sqe->off,
			(unsigned long long)sqe->addr, sqe->len, sqe->op_flags,
			(unsigned long long)sqe->addr2);
}
