// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-demo: one batch through a /dev/zsync ring, showing the core ops
 * (NOP, injected errors, links, timeouts, link timeouts, cancel) and real
 * work (a pipe written then read through a link, a socket RECV that waits
 * for the SEND behind it, PIDFD_WAIT on a child), then every completion in
 * a table and a check that each is what the kernel semantics promise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zsync-k.h"

#define RING_ENTRIES	32	/* the batch is 16 SQEs; see DEMO_NR */
#define DEADLINE_MS	15000	/* give up reaping after this long */

enum demo_exit {
	EXIT_OK		= 0,	/* every completion as expected */
	EXIT_MISMATCH	= 1,	/* a completion missing or with a wrong result */
	EXIT_USAGE	= 2,
	EXIT_SETUP	= 3,	/* ring could not be set up or the batch submitted */
};

static const struct zsync_timespec ts_50ms = { 0, 50 * 1000000 };
static const struct zsync_timespec ts_20ms = { 0, 20 * 1000000 };
static const struct zsync_timespec ts_10s = { 10, 0 };

/* One request of the batch and what its CQE must say. */
struct demo_req {
	__u64 user_data;
	const char *what;
	int expect_res;
	unsigned int min_ms;	/* completion may not come earlier */
	/* filled when reaped */
	bool seen;
	int res;
	double elapsed_ms;
};

/* user_data = position in the batch. */
enum {
	UD_TIMEOUT_COUNT = 1,
	UD_NOP1, UD_NOP2, UD_NOP3,
	UD_NOP_EIO, UD_NOP_LINKED,
	UD_TIMEOUT_50MS,
	UD_TIMEOUT_LINKED, UD_LINK_TIMEOUT,
	UD_TIMEOUT_VICTIM, UD_CANCEL,
	UD_RECV, UD_SEND,
	UD_WRITE_PIPE, UD_READ_PIPE,
	UD_PIDFD_WAIT,
	UD_END
};

#define PIPE_MSG	"written by WRITE, read by READ\n"
#define SOCK_MSG	"ping"
#define CHILD_EXIT	7

/* The files the I/O requests work on, set up before the batch. */
static struct demo_files {
	int pipe[2];
	int sock[2];
	int pidfd;
	pid_t child;
	char pipe_in[64];
	char sock_in[16];
} files = { { -1, -1 }, { -1, -1 }, -1, -1, "", "" };
#define DEMO_NR	(UD_END - 1)

static struct demo_req reqs[DEMO_NR] = {
	{ UD_TIMEOUT_COUNT, "TIMEOUT 10s count=2", 0, 0, false, 0, 0 },
	{ UD_NOP1, "NOP", 0, 0, false, 0, 0 },
	{ UD_NOP2, "NOP", 0, 0, false, 0, 0 },
	{ UD_NOP3, "NOP", 0, 0, false, 0, 0 },
	{ UD_NOP_EIO, "NOP res=-EIO, LINK ->", -EIO, 0, false, 0, 0 },
	{ UD_NOP_LINKED, "NOP (linked after -EIO)", -ECANCELED, 0, false, 0, 0 },
	{ UD_TIMEOUT_50MS, "TIMEOUT 50ms", -ETIME, 50, false, 0, 0 },
	{ UD_TIMEOUT_LINKED, "TIMEOUT 10s, LINK ->", -ECANCELED, 20, false, 0, 0 },
	{ UD_LINK_TIMEOUT, "LINK_TIMEOUT 20ms", -ETIME, 20, false, 0, 0 },
	{ UD_TIMEOUT_VICTIM, "TIMEOUT 10s (to cancel)", -ECANCELED, 0, false, 0, 0 },
	{ UD_CANCEL, "CANCEL user_data=10", 1, 0, false, 0, 0 },
	{ UD_RECV, "RECV (before its SEND)", sizeof(SOCK_MSG) - 1, 0, false, 0, 0 },
	{ UD_SEND, "SEND \"" SOCK_MSG "\"", sizeof(SOCK_MSG) - 1, 0, false, 0, 0 },
	{ UD_WRITE_PIPE, "WRITE pipe, LINK ->", sizeof(PIPE_MSG) - 1, 0, false, 0, 0 },
	{ UD_READ_PIPE, "READ pipe", sizeof(PIPE_MSG) - 1, 0, false, 0, 0 },
	{ UD_PIDFD_WAIT, "PIDFD_WAIT child", CHILD_EXIT << 8, 0, false, 0, 0 },
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--help]\n"
		"\n"
		"Opens a zsync ring (%d entries) on $ZSYNC_DEV or /dev/zsync, submits one\n"
		"batch of %d requests with a single ENTER, reaps every completion, prints\n"
		"them and checks each result:\n"
		"  TIMEOUT 10 s, count 2         0, once the 2 NOPs after it complete\n"
		"  NOPs                          res 0\n"
		"  NOP injecting -EIO, LINKed to a NOP: -EIO, then -ECANCELED\n"
		"  TIMEOUT 50 ms                 -ETIME after >= 50 ms\n"
		"  TIMEOUT 10 s + LINK_TIMEOUT 20 ms: -ECANCELED and -ETIME after 20 ms\n"
		"  TIMEOUT 10 s, CANCEL of it    -ECANCELED, CANCEL res 1\n"
		"  RECV on a socket, then SEND to its peer: both 4 (the RECV waits on\n"
		"                                the socket and completes from its wakeup)\n"
		"  WRITE to a pipe, LINKed to a READ of it: both %zu, the data intact\n"
		"  PIDFD_WAIT on a child that exits %d after 50 ms: its wait status\n"
		"\n"
		"exit status:\n"
		"  0  every completion arrived with the expected result\n"
		"  1  a completion was missing (%d s deadline) or had a wrong result\n"
		"  2  bad usage\n"
		"  3  the ring could not be set up or the batch not submitted\n"
		"     (e.g. zsync.ko not loaded)\n",
		prog, RING_ENTRIES, DEMO_NR, sizeof(PIPE_MSG) - 1, CHILD_EXIT,
		DEADLINE_MS / 1000);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void print_features(const struct zk_ring *ring)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ ZSYNC_FEAT_NODROP, "NODROP" },
		{ ZSYNC_FEAT_LINKS, "LINKS" },
		{ ZSYNC_FEAT_RESTRICT, "RESTRICT" },
		{ ZSYNC_FEAT_EVENTFD, "EVENTFD" },
		{ ZSYNC_FEAT_ENTER_VALUE, "ENTER_VALUE" },
		{ ZSYNC_FEAT_EVENTFD_BATCH, "EVENTFD_BATCH" },
		{ ZSYNC_FEAT_TASK_SIGNAL, "TASK_SIGNAL" },
	};
	unsigned int left = ring->features;
	size_t i;

	printf("ring: fd %d, sq %u entries, cq %u entries, features 0x%x:",
	       ring->fd, ring->sq.entries, ring->cq.entries, ring->features);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ring->features & names[i].bit) {
			printf(" %s", names[i].name);
			left &= ~names[i].bit;
		}
	}
	if (left)
		printf(" unknown(0x%x)", left);
	printf("\n");
}

static struct zsync_sqe *next_sqe(struct zk_ring *ring, __u64 user_data)
{
	struct zsync_sqe *sqe = zk_get_sqe(ring);

	/* RING_ENTRIES >= DEMO_NR, so this cannot run out. */
	if (sqe)
		zk_sqe_set_data64(sqe, user_data);
	return sqe;
}

/* A pipe, a socket pair and a child with a pidfd.  0, or -errno. */
static int files_open(void)
{
	if (pipe2(files.pipe, O_CLOEXEC) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, files.sock))
		return -errno;
	files.child = fork();
	if (files.child < 0)
		return -errno;
	if (files.child == 0) {
		usleep(50 * 1000);
		_exit(CHILD_EXIT);
	}
	files.pidfd = (int)syscall(SYS_pidfd_open, files.child, 0);
	return files.pidfd < 0 ? -errno : 0;
}

static void files_close(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (files.pipe[i] >= 0)
			close(files.pipe[i]);
		if (files.sock[i] >= 0)
			close(files.sock[i]);
	}
	if (files.pidfd >= 0)
		close(files.pidfd);
	if (files.child > 0)
		waitpid(files.child, NULL, 0);
}

/* The I/O part of the batch. */
static void queue_io(struct zk_ring *ring)
{
	struct zsync_sqe *sqe;

	/* Nothing to receive yet: the RECV waits until the SEND behind it. */
	zk_prep_recv(next_sqe(ring, UD_RECV), files.sock[0], files.sock_in,
		     sizeof(files.sock_in), 0);
	zk_prep_send(next_sqe(ring, UD_SEND), files.sock[1], SOCK_MSG, sizeof(SOCK_MSG) - 1, 0);

	sqe = next_sqe(ring, UD_WRITE_PIPE);
	zk_prep_write(sqe, files.pipe[1], PIPE_MSG, sizeof(PIPE_MSG) - 1, ZSYNC_OFF_CURRENT);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_prep_read(next_sqe(ring, UD_READ_PIPE), files.pipe[0], files.pipe_in,
		     sizeof(files.pipe_in), ZSYNC_OFF_CURRENT);

	zk_prep_pidfd_wait(next_sqe(ring, UD_PIDFD_WAIT), files.pidfd);
}

/* Queue the whole batch; nothing reaches the kernel before zk_submit(). */
static int queue_batch(struct zk_ring *ring)
{
	struct zsync_sqe *sqe;
	__u64 ud;

	if (zk_sq_space_left(ring) < DEMO_NR)
		return -ENOSPC;
	/*
	 * First, so that the NOPs right behind it are the completions it
	 * counts: 0 once two of them have posted, long before its 10 s.
	 * (Timeout CQEs need not count toward a count, so none may be relied
	 * on here.)
	 */
	zk_prep_timeout(next_sqe(ring, UD_TIMEOUT_COUNT), &ts_10s, 2, 0);
	for (ud = UD_NOP1; ud <= UD_NOP3; ud++)
		zk_prep_nop(next_sqe(ring, ud));

	sqe = next_sqe(ring, UD_NOP_EIO);
	zk_prep_nop_result(sqe, -EIO);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_prep_nop(next_sqe(ring, UD_NOP_LINKED));

	zk_prep_timeout(next_sqe(ring, UD_TIMEOUT_50MS), &ts_50ms, 0, 0);

	sqe = next_sqe(ring, UD_TIMEOUT_LINKED);
	zk_prep_timeout(sqe, &ts_10s, 0, 0);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_prep_link_timeout(next_sqe(ring, UD_LINK_TIMEOUT), &ts_20ms, 0);

	zk_prep_timeout(next_sqe(ring, UD_TIMEOUT_VICTIM), &ts_10s, 0, 0);
	zk_prep_cancel(next_sqe(ring, UD_CANCEL), UD_TIMEOUT_VICTIM, 0);
	queue_io(ring);
	return 0;
}

static struct demo_req *find_req(__u64 user_data)
{
	if (user_data < 1 || user_data > DEMO_NR)
		return NULL;
	return &reqs[user_data - 1];
}

/* Reap until every request completed or the deadline passed. */
static int reap(struct zk_ring *ring, double start, struct demo_req **order)
{
	int n = 0, ret;

	while (n < DEMO_NR) {
		double left = DEADLINE_MS - (now_ms() - start);
		struct zsync_timespec ts;
		struct zsync_cqe *cqe;
		struct demo_req *r;

		if (left <= 0)
			break;
		ts.tv_sec = (__s64)(left / 1000);
		ts.tv_nsec = (__s64)((left - ts.tv_sec * 1000.0) * 1e6);
		ret = zk_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret == -ETIME || ret == -EINTR)
			continue;
		if (ret < 0) {
			fprintf(stderr, "zsync-demo: wait: %s\n", strerror(-ret));
			break;
		}
		r = find_req(zk_cqe_get_data64(cqe));
		if (!r || r->seen) {
			fprintf(stderr, "zsync-demo: unexpected CQE user_data %llu res %d\n",
				(unsigned long long)cqe->user_data, cqe->res);
			zk_cqe_seen(ring, cqe);
			continue;
		}
		r->seen = true;
		r->res = cqe->res;
		r->elapsed_ms = now_ms() - start;
		order[n++] = r;
		zk_cqe_seen(ring, cqe);
	}
	return n;
}

static const char *errname(int res)
{
	const char *name;

	if (res >= 0)
		return "";
	name = strerrorname_np(-res);
	return name ? name : "?";
}

static bool req_ok(const struct demo_req *r)
{
	return r->seen && r->res == r->expect_res && r->elapsed_ms >= r->min_ms;
}

static void print_table(struct demo_req **order, int n)
{
	int i;

	printf("\n%-9s %-24s %5s %-10s %9s  %-11s %s\n", "user_data", "op",
	       "res", "errno", "elapsed", "expected", "check");
	for (i = 0; i < n; i++) {
		const struct demo_req *r = order[i];
		char expect[24];

		if (r->expect_res < 0)
			snprintf(expect, sizeof(expect), "-%s",
				 errname(r->expect_res));
		else
			snprintf(expect, sizeof(expect), "%d", r->expect_res);
		printf("%-9llu %-24s %5d %-10s %6.1f ms  %-11s %s\n",
		       (unsigned long long)r->user_data, r->what, r->res,
		       errname(r->res), r->elapsed_ms, expect,
		       req_ok(r) ? "ok" : "WRONG");
	}
}

/* The bytes the READ and RECV brought back are the ones sent. */
static int verify_data(void)
{
	int bad = 0;

	if (strcmp(files.pipe_in, PIPE_MSG)) {
		printf("FAIL READ pipe: got \"%.*s\"\n", (int)sizeof(files.pipe_in), files.pipe_in);
		bad++;
	}
	if (strcmp(files.sock_in, SOCK_MSG)) {
		printf("FAIL RECV: got \"%.*s\"\n", (int)sizeof(files.sock_in), files.sock_in);
		bad++;
	}
	return bad;
}

static int verify(void)
{
	int i, bad = verify_data();

	for (i = 0; i < DEMO_NR; i++) {
		const struct demo_req *r = &reqs[i];

		if (req_ok(r))
			continue;
		bad++;
		if (!r->seen)
			printf("FAIL user_data %llu (%s): no completion within %d s\n",
			       (unsigned long long)r->user_data, r->what,
			       DEADLINE_MS / 1000);
		else if (r->res != r->expect_res)
			printf("FAIL user_data %llu (%s): res %d%s%s, expected %d%s%s\n",
			       (unsigned long long)r->user_data, r->what,
			       r->res, r->res < 0 ? " " : "", errname(r->res),
			       r->expect_res, r->expect_res < 0 ? " " : "",
			       errname(r->expect_res));
		else
			printf("FAIL user_data %llu (%s): completed after %.1f ms, before its %u ms\n",
			       (unsigned long long)r->user_data, r->what,
			       r->elapsed_ms, r->min_ms);
	}
	return bad;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout, argv[0]);
			exit(EXIT_OK);
		}
		usage(stderr, argv[0]);
		return -EINVAL;
	}
	if (optind < argc) {
		usage(stderr, argv[0]);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct demo_req *order[DEMO_NR];
	struct zk_ring ring;
	double start;
	int ret, n, bad;

	if (parse_args(argc, argv))
		return EXIT_USAGE;

	/* Before the ring, so that the child does not inherit it. */
	ret = files_open();
	if (ret < 0) {
		fprintf(stderr, "zsync-demo: cannot set up the pipe, sockets and child: %s\n",
			strerror(-ret));
		files_close();
		return EXIT_SETUP;
	}
	ret = zk_ring_init(RING_ENTRIES, &ring, 0);
	if (ret < 0) {
		const char *dev = getenv("ZSYNC_DEV");

		fprintf(stderr, "zsync-demo: cannot set up a ring on %s: %s%s\n",
			dev && *dev ? dev : "/dev/zsync", strerror(-ret),
			ret == -ENOENT ? " (is zsync.ko loaded?)" : "");
		files_close();
		return EXIT_SETUP;
	}
	print_features(&ring);

	ret = queue_batch(&ring);
	if (ret < 0) {
		fprintf(stderr, "zsync-demo: ring too small for the batch\n");
		zk_ring_exit(&ring);
		files_close();
		return EXIT_SETUP;
	}
	start = now_ms();
	ret = zk_submit(&ring);
	if (ret != DEMO_NR) {
		fprintf(stderr, "zsync-demo: submit returned %d (%s), expected %d\n",
			ret, ret < 0 ? strerror(-ret) : "short", DEMO_NR);
		zk_ring_exit(&ring);
		files_close();
		return EXIT_SETUP;
	}
	printf("submitted %d requests in one ENTER\n", ret);

	n = reap(&ring, start, order);
	print_table(order, n);
	zk_ring_exit(&ring);
	files_close();

	bad = verify();
	if (bad) {
		printf("\n%d of %d completions (and 2 data checks) wrong\n", bad, DEMO_NR);
		return EXIT_MISMATCH;
	}
	printf("\nall %d completions as expected, the data read back intact\n", DEMO_NR);
	return EXIT_OK;
}
