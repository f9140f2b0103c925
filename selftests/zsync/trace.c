// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoints (kmod/zsync_trace.h, Documentation/tracing.rst): every event
 * is in tracefs with its format, and a workload of known ops gives exactly
 * the events it should: one zsync_submit and one zsync_cqe per SQE, the
 * path each took, poll wakes, timer fires, cancels, link failures,
 * overflows and their flush, source signals.  Only events whose user_data
 * carries this file's tag are counted, so nothing else in the VM can make
 * a count right or wrong.
 */
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

#define TRACEFS		"/sys/kernel/tracing"
#define TAG		0x7a5e000000000000ULL
#define TAG_TEXT	"user_data 0x7a5e"

static const char *const events[] = {
	"zsync_submit", "zsync_issue_path", "zsync_cqe", "zsync_overflow_flush",
	"zsync_poll_wake", "zsync_link_fail", "zsync_cancel", "zsync_timeout_fire",
	"zsync_source_signal", "zsync_op_step",
};

static int tracefs_write(const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* The whole trace buffer, NUL-terminated (malloc'ed), tracing stopped first. */
static char *trace_read(void)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	tracefs_write("tracing_on", "0");
	fd = open(TRACEFS "/trace", O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Lines of @buf with "@event: " that contain every string of @with (NULL-ended). */
static int count(const char *buf, const char *event, const char *const *with)
{
	char head[64];
	int n = 0;

	snprintf(head, sizeof(head), " %s: ", event);
	for (const char *line = buf; line && *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char one[512];
		bool all = true;

		snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len : sizeof(one) - 1),
			 line);
		if (strstr(one, head)) {
			for (const char *const *w = with; *w; w++)
				all = all && strstr(one, *w);
			n += all;
		}
		line = end ? end + 1 : NULL;
	}
	return n;
}

#define COUNT(buf, event, ...) count(buf, event, (const char *const[]){ __VA_ARGS__, NULL })

FIXTURE(trace) {
	struct zk_ring ring;
	char *buf;
	char record_cmd[4];	/* options/record-cmd as found, restored after */
};

/* The first byte of tracefs file @file into @val ("" if unreadable). */
static void tracefs_read1(const char *file, char *val)
{
	char path[256];
	int fd;

	val[0] = '\0';
	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, val, 1) == 1)
		val[1] = '\0';
	close(fd);
}

FIXTURE_SETUP(trace)
{
	char path[128];

	ZT_REQUIRE_DEV();
	if (access(TRACEFS "/events", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events/zsync", F_OK))
		SKIP(return, "no tracefs, or no zsync events in it");
	ASSERT_EQ(0, tracefs_write("tracing_on", "0"));
	/*
	 * Without record-cmd, enabling events does not also hook
	 * sched_switch to record comms: no live patch of __schedule(),
	 * which every CPU runs all the time, on each enable and disable.
	 * Under QEMU's TCG such a patch can leave a CPU looping on the
	 * int3 of the patch (seen with both vCPUs in asm_exc_int3 at
	 * __schedule+0x449, IRQs off).  The events carry pids anyway.
	 */
	tracefs_read1("options/record-cmd", self->record_cmd);
	if (self->record_cmd[0] == '1')
		ASSERT_EQ(0, tracefs_write("options/record-cmd", "0"));
	ASSERT_EQ(0, tracefs_write("buffer_size_kb", "4096"));
	ASSERT_EQ(0, tracefs_write("trace", ""));
	snprintf(path, sizeof(path), "events/zsync/enable");
	ASSERT_EQ(0, tracefs_write(path, "1"));
	ASSERT_EQ(0, tracefs_write("tracing_on", "1"));
	self->buf = NULL;
	zt_ring(_metadata, &self->ring, 32, 0);
}

FIXTURE_TEARDOWN(trace)
{
	/* The ring first: nothing runs zsync's tracepoints while they change. */
	zk_ring_exit(&self->ring);
	tracefs_write("events/zsync/enable", "0");
	/* With no event enabled, restoring it patches nothing. */
	if (self->record_cmd[0] == '1')
		tracefs_write("options/record-cmd", "1");
	tracefs_write("tracing_on", "1");
	free(self->buf);
}

TEST_F(trace, every_event_has_a_format)
{
	char path[160];

	for (size_t i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/zsync/%s/format", events[i]);
		EXPECT_EQ(0, access(path, R_OK)) TH_LOG("%s: %s", path, strerror(errno));
	}
}

TEST_F(trace, nops_one_submit_one_inline_path_one_cqe_each)
{
	struct zsync_cqe cqes[16];

	for (unsigned int i = 0; i < 16; i++)
		zt_nop(_metadata, &self->ring, TAG | i);
	zt_submit(_metadata, &self->ring, 16);
	zt_reap(_metadata, &self->ring, cqes, 16, ZT_PROMPT_MS);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(16, COUNT(self->buf, "zsync_submit", TAG_TEXT, "opcode 0 ", "res 0"));
	EXPECT_EQ(16, COUNT(self->buf, "zsync_issue_path", TAG_TEXT, "path inline"));
	EXPECT_EQ(16, COUNT(self->buf, "zsync_cqe", TAG_TEXT, "res 0 "));
	EXPECT_EQ(0, COUNT(self->buf, "zsync_cqe", TAG_TEXT, "overflow"));
}

TEST_F(trace, recv_arms_a_poll_is_woken_and_completes)
{
	static const char msg[] = "traced";
	struct zsync_sqe *sqe;
	char got[16];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_recv(sqe, sv[0], got, sizeof(got), 0);
	sqe->user_data = TAG | 0x100;
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ((ssize_t)sizeof(msg), write(sv[1], msg, sizeof(msg)));
	zt_expect_cqe(_metadata, &self->ring, TAG | 0x100, sizeof(msg), 0);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_submit", "user_data 0x7a5e000000000100"));
	EXPECT_LE(1, COUNT(self->buf, "zsync_issue_path", "user_data 0x7a5e000000000100",
			   "path poll"));
	EXPECT_LE(1, COUNT(self->buf, "zsync_poll_wake", "user_data 0x7a5e000000000100"));
	EXPECT_EQ(1, COUNT(self->buf, "zsync_cqe", "user_data 0x7a5e000000000100", "res 7 "));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(trace, timeout_fires_once)
{
	zt_timeout(_metadata, &self->ring, TAG | 0x200, 1, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_cqe(_metadata, &self->ring, TAG | 0x200, -ETIME, 0);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_timeout_fire", "user_data 0x7a5e000000000200"));
	EXPECT_EQ(0, COUNT(self->buf, "zsync_timeout_fire", "user_data 0x7a5e000000000200",
			   " link"));
	EXPECT_EQ(1, COUNT(self->buf, "zsync_cqe", "user_data 0x7a5e000000000200", "res -62 "));
}

TEST_F(trace, cancel_names_its_target_and_match)
{
	struct zsync_cqe cqes[2];
	struct zsync_sqe *sqe;

	zt_timeout(_metadata, &self->ring, TAG | 0x300, 60000, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel(sqe, TAG | 0x300, 0);
	sqe->user_data = TAG | 0x301;
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_PROMPT_MS);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_cancel", "user_data 0x7a5e000000000300",
			   "matched 1"));
	EXPECT_EQ(1, COUNT(self->buf, "zsync_cqe", "user_data 0x7a5e000000000300", "res -125 "));
	EXPECT_EQ(0, COUNT(self->buf, "zsync_timeout_fire", "user_data 0x7a5e000000000300"));
}

TEST_F(trace, a_failed_chain_reports_the_members_it_cancels)
{
	struct zsync_cqe cqes[3];
	struct zsync_sqe *sqe;

	/* A READ of a closed fd fails at prep; the two NOPs behind it never run. */
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, -1, cqes, 8, 0);
	sqe->user_data = TAG | 0x400;
	zt_linked(sqe);
	zt_linked(zt_nop(_metadata, &self->ring, TAG | 0x401));
	zt_nop(_metadata, &self->ring, TAG | 0x402);
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, cqes, 3, ZT_PROMPT_MS);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_link_fail", "user_data 0x7a5e000000000401",
			   "res -125"));
	EXPECT_EQ(1, COUNT(self->buf, "zsync_link_fail", "user_data 0x7a5e000000000402",
			   "res -125"));
	EXPECT_EQ(3, COUNT(self->buf, "zsync_cqe", "user_data 0x7a5e00000000040"));
}

TEST_F(trace, overflow_and_flush)
{
	struct zsync_cqe cqes[64];
	struct zk_ring r;
	unsigned int cq, i;

	/* cq CQEs fill the CQ ring; the next 8 overflow, then reaping flushes them. */
	zt_ring(_metadata, &r, 8, 0);
	cq = r.cq.entries;
	ASSERT_GE(64u, cq + 8);
	for (i = 0; i < cq + 8; i++) {
		zt_nop(_metadata, &r, TAG | 0x500 | i);
		if ((i + 1) % 8 == 0 || i + 1 == cq + 8)
			zt_submit(_metadata, &r, (int)((i % 8) + 1));
	}
	zt_reap(_metadata, &r, cqes, cq + 8, ZT_PROMPT_MS);
	zk_ring_exit(&r);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ((int)(cq + 8), COUNT(self->buf, "zsync_cqe", "user_data 0x7a5e0000000005"));
	EXPECT_EQ(8, COUNT(self->buf, "zsync_cqe", "user_data 0x7a5e0000000005", " overflow"));
	EXPECT_LE(1, COUNT(self->buf, "zsync_overflow_flush", "moved "));
}

TEST_F(trace, source_signal_counts_its_waiter)
{
	struct zsync_sqe *sqe;
	struct zsync_cqe c;
	int src;

	src = zk_source_create(&self->ring, 0);
	ASSERT_LE(0, src) TH_LOG("zk_source_create: %s", zt_err(src));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_source_wait(sqe, src);
	sqe->user_data = TAG | 0x600;
	zt_submit(_metadata, &self->ring, 1);
	/* Armed once the source counts it: signal until it is reached. */
	for (int64_t t0 = zt_mono_ns(); zk_source_signal(src, 4242) == 0; )
		ASSERT_LT(zt_ms_since(t0), ZT_PROMPT_MS);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(TAG | 0x600, c.user_data);
	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_source_signal", "value 4242 reached 1"));
	close(src);
}

/* NS_SOCKET and PIDFD_WAIT report their steps: the socket's fd, the child's exit. */
TEST_F(trace, op_steps_of_ns_socket_and_pidfd_wait)
{
	struct zsync_sqe *sqe;
	struct zsync_cqe c;
	char want[64];
	int netns, pidfd, sync[2];
	pid_t pid;

	netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, netns);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_ns_socket(sqe, netns, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	zk_sqe_set_data64(sqe, TAG | 0x900);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	ASSERT_LE(0, c.res);
	close(c.res);
	close(netns);

	/* A child that exits with 7 once told to: first a look, then its exit. */
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char b;

		_exit(read(sync[0], &b, 1) == 1 ? 7 : 1);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ASSERT_LE(0, pidfd);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_pidfd_wait(sqe, pidfd);
	zk_sqe_set_data64(sqe, TAG | 0x901);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(1, write(sync[1], "x", 1));
	zt_reap(_metadata, &self->ring, &c, 1, ZT_LATE_MS * 10);
	EXPECT_EQ(7 << 8, c.res);
	close(pidfd);
	close(sync[0]);
	close(sync[1]);

	self->buf = trace_read();
	ASSERT_NE(NULL, self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_op_step", "user_data 0x7a5e000000000900",
			   "step socket netns res ")) TH_LOG("%s", self->buf);
	EXPECT_EQ(1, COUNT(self->buf, "zsync_op_step", "user_data 0x7a5e000000000901",
			   "step exit pidfd res 1792")) TH_LOG("%s", self->buf);
	/* Any look before the exit found it running. */
	snprintf(want, sizeof(want), "step exit pidfd res %d", -EAGAIN);
	EXPECT_EQ(COUNT(self->buf, "zsync_op_step", "user_data 0x7a5e000000000901", "step exit"),
		  1 + COUNT(self->buf, "zsync_op_step", "user_data 0x7a5e000000000901", want));
}

/* ---- zsync-trace, the libbpf tool (tools/zsync-trace/) ---------------- */

#define ZSYNC_TRACE	"/bin/zsync-trace"

struct tool {
	pid_t pid;
	int out, err;
	char buf[65536];
	size_t len;
};

/* Reads what @fd has within @ms into @t->buf (appended); false at EOF or timeout. */
static bool tool_read(struct tool *t, int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1 || t->len + 1 >= sizeof(t->buf))
		return false;
	n = read(fd, t->buf + t->len, sizeof(t->buf) - t->len - 1);
	if (n <= 0)
		return false;
	t->len += (size_t)n;
	t->buf[t->len] = '\0';
	return true;
}

/* Starts zsync-trace with @argv; returns once it says it attached (stderr). */
static bool tool_start(struct __test_metadata *_metadata, struct tool *t, char *const argv[])
{
	int out[2], err[2];
	int64_t t0 = zt_mono_ns();

	memset(t, 0, sizeof(*t));
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return false;
	t->pid = fork();
	if (t->pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	t->out = out[0];
	t->err = err[0];
	while (!strstr(t->buf, "attached")) {
		if (zt_ms_since(t0) > 30000 || !tool_read(t, t->err, 1000)) {
			if (zt_ms_since(t0) > 30000 || waitpid(t->pid, NULL, WNOHANG) == t->pid) {
				TH_LOG("zsync-trace did not attach: %s", t->buf);
				return false;
			}
		}
	}
	t->len = 0;
	t->buf[0] = '\0';
	return true;
}

/* Ends it (SIGINT) and keeps all it printed on stdout; returns its exit status. */
static int tool_finish(struct tool *t)
{
	int status = -1;

	kill(t->pid, SIGINT);
	while (tool_read(t, t->out, 10000))
		;
	waitpid(t->pid, &status, 0);
	close(t->out);
	close(t->err);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int occurrences(const char *buf, const char *needle)
{
	int n = 0;

	for (const char *p = buf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The JSON line of @op in @buf (its first), copied into @line. */
static bool op_line(const char *buf, const char *op, char *line, size_t size)
{
	char key[64];
	const char *p, *start, *end;

	snprintf(key, sizeof(key), "{\"op\":\"%s\",", op);
	p = strstr(buf, key);
	if (!p)
		return false;
	start = p;
	end = strchr(start, '\n');
	snprintf(line, size, "%.*s", (int)(end ? end - start : (ptrdiff_t)strlen(start)), start);
	return true;
}

TEST_F(trace, zsync_trace_hist_counts_every_op)
{
	char pid[16], line[2048];
	char *argv[] = { ZSYNC_TRACE, "hist", "--json", "-p", pid, NULL };
	struct zsync_cqe cqes[25];
	struct tool t;

	if (access(ZSYNC_TRACE, X_OK))
		SKIP(return, "no " ZSYNC_TRACE);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_TRUE(tool_start(_metadata, &t, argv));
	for (int round = 0; round < 4; round++) {
		for (unsigned int i = 0; i < 25; i++)
			zt_nop(_metadata, &self->ring, TAG | 0x700 | i);
		zt_submit(_metadata, &self->ring, 25);
		zt_reap(_metadata, &self->ring, cqes, 25, ZT_PROMPT_MS);
	}
	for (unsigned int i = 0; i < 3; i++) {
		zt_timeout(_metadata, &self->ring, TAG | 0x780 | i, 2, 0, 0);
		zt_submit(_metadata, &self->ring, 1);
		zt_expect_cqe(_metadata, &self->ring, TAG | 0x780 | i, -ETIME, 0);
	}
	ASSERT_EQ(0, tool_finish(&t)) TH_LOG("%s", t.buf);
	ASSERT_TRUE(op_line(t.buf, "NOP", line, sizeof(line))) TH_LOG("%s", t.buf);
	EXPECT_NE(NULL, strstr(line, "\"submitted\":100,\"completed\":100,")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "\"inline\":100")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "\"errors\":0,")) TH_LOG("%s", line);
	ASSERT_TRUE(op_line(t.buf, "TIMEOUT", line, sizeof(line))) TH_LOG("%s", t.buf);
	EXPECT_NE(NULL, strstr(line, "\"submitted\":3,\"completed\":3,")) TH_LOG("%s", line);
	/* Each waited its 2 ms at least: no bucket below 1024 us. */
	EXPECT_EQ(NULL, strstr(line, "\"lo\":512,")) TH_LOG("%s", line);
}

TEST_F(trace, zsync_trace_slow_names_the_stuck_request)
{
	char pid[16];
	char *argv[] = { ZSYNC_TRACE, "slow", "-t", "100", "--json", "-p", pid, NULL };
	struct zsync_cqe cqes[2];
	struct zsync_sqe *sqe;
	struct tool t;
	int64_t t0;

	if (access(ZSYNC_TRACE, X_OK))
		SKIP(return, "no " ZSYNC_TRACE);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_TRUE(tool_start(_metadata, &t, argv));
	zt_timeout(_metadata, &self->ring, 7777, 60000, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	t0 = zt_mono_ns();
	while (!strstr(t.buf, "\"user_data\":7777,") && zt_ms_since(t0) < 20000)
		tool_read(&t, t.out, 1000);
	EXPECT_NE(NULL, strstr(t.buf, "{\"op\":\"TIMEOUT\",")) TH_LOG("%s", t.buf);
	EXPECT_NE(NULL, strstr(t.buf, "\"user_data\":7777,\"fd\":-1,")) TH_LOG("%s", t.buf);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel(sqe, 7777, 0);
	sqe->user_data = 7778;
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_PROMPT_MS);
	EXPECT_EQ(0, tool_finish(&t)) TH_LOG("%s", t.buf);
	/* Reported once, not once per scan. */
	EXPECT_EQ(1, occurrences(t.buf, "\"user_data\":7777,")) TH_LOG("%s", t.buf);
}

TEST_HARNESS_MAIN
