// SPDX-License-Identifier: GPL-2.0
/*
 * zsyncctl and zsync-run, run as the user would run them, their output and
 * exit codes checked against cgroupfs, /proc and lsns(8).
 */
#include <ctype.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "helpers.h"
#include "cgroup-helpers.h"
#include "devaccess.h"

#define ZSYNCCTL	"/bin/zsyncctl"
#define ZSYNC_RUN	"/bin/zsync-run"

/*
 * Runs @argv (NULL-terminated) as @uid (0: as we are), stdout into @out and
 * stderr into @err (NULL: into @out as well); returns the exit status, or
 * -1 if it did not exit normally.
 */
static int run_argv(uid_t uid, char *out, size_t sz, char *err, size_t errsz,
		    char *const argv[])
{
	size_t len = 0;
	int p[2], efd = -1, status;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (err) {
		err[0] = '\0';
		efd = memfd_create("stderr", MFD_CLOEXEC);
		if (efd < 0)
			return -1;
	}
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(err ? efd : p[1], 2);
		if (uid && (zt_setgroups_dev() || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(200);
		execv(argv[0], argv);
		_exit(201);
	}
	close(p[1]);
	while (len < sz - 1 && (n = read(p[0], out + len, sz - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	if (err) {
		n = pread(efd, err, errsz - 1, 0);
		err[n > 0 ? n : 0] = '\0';
		close(efd);
	}
	return WEXITSTATUS(status);
}

#define ARGV(...)		((char *const[]){ __VA_ARGS__, NULL })
#define run(out, ...)		run_argv(0, out, sizeof(out), NULL, 0, ARGV(__VA_ARGS__))
#define run_as(uid, out, ...)	run_argv(uid, out, sizeof(out), NULL, 0, ARGV(__VA_ARGS__))
/* stdout into @out, stderr into @err */
#define run2(out, err, ...)	\
	run_argv(0, out, sizeof(out), err, sizeof(err), ARGV(__VA_ARGS__))

/* The number after "@key": in @json, or -1. */
static long long json_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/*
 * A JSON checker (RFC 8259, minus the UTF-8 check), to hold zsyncctl's
 * --json output to "one complete object a line".  Each js_*() returns
 * the end of the value it read at @p, or NULL if there is none.
 */
static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *js_string(const char *p)
{
	int i;

	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)	/* a raw control character, or the end */
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)p[i]))
					return NULL;
			p += 4;
		} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return p + 1;
}

static const char *js_digits(const char *p)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	return p;
}

static const char *js_number(const char *p)
{
	if (*p == '-')
		p++;
	p = *p == '0' ? p + 1 : js_digits(p);
	if (p && *p == '.')
		p = js_digits(p + 1);
	if (p && (*p == 'e' || *p == 'E')) {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		p = js_digits(p);
	}
	return p;
}

/* The members of an object or the elements of an array, after its '{' or '['. */
static const char *js_members(const char *p, int depth, char close)
{
	p = js_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = js_string(js_ws(p));
			if (!p)
				return NULL;
			p = js_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = js_value(p, depth + 1);
		if (!p)
			return NULL;
		p = js_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *js_value(const char *p, int depth)
{
	p = js_ws(p);
	if (depth > 32)
		return NULL;
	switch (*p) {
	case '{':
		return js_members(p + 1, depth, '}');
	case '[':
		return js_members(p + 1, depth, ']');
	case '"':
		return js_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return js_number(p);
	}
}

/* Whether @line is exactly one JSON object, nothing before or after it. */
static bool json_object_line(const char *line)
{
	const char *end = line[0] == '{' ? js_value(line, 0) : NULL;

	return end && !*end;
}

/*
 * Checks that @out is JSON Lines: every line one JSON object, the last one
 * ended by a newline too.  Returns the number of lines, or -1.
 */
static int json_lines(struct __test_metadata *_metadata, const char *out)
{
	char line[8192];
	const char *nl;
	int n = 0;

	for (; *out; out = nl + 1, n++) {
		nl = strchr(out, '\n');
		EXPECT_NE(NULL, nl) TH_LOG("no newline after the last line: %s", out);
		if (!nl || (size_t)(nl - out) >= sizeof(line))
			return -1;
		memcpy(line, out, nl - out);
		line[nl - out] = '\0';
		EXPECT_TRUE(json_object_line(line)) TH_LOG("not one JSON object: %s", line);
		if (!json_object_line(line))
			return -1;
	}
	return n;
}

/*
 * Checks that @out is one line, the error object of a failure with exit
 * code @code and errno @err named @errname (0, NULL: one without errno).
 */
static void expect_error_object(struct __test_metadata *_metadata, const char *out,
				int code, int err, const char *errname)
{
	char want[64];

	EXPECT_EQ(1, json_lines(_metadata, out)) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "{\"error\":\"", 10)) TH_LOG("%s", out);
	EXPECT_EQ(code, json_num(out, "exit")) TH_LOG("%s", out);
	if (!err) {
		EXPECT_EQ(NULL, strstr(out, "\"errno\"")) TH_LOG("%s", out);
		return;
	}
	EXPECT_EQ(err, json_num(out, "errno")) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "\"errname\":\"%s\"", errname);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("no %s in %s", want, out);
}

/* The checker itself: it must refuse what is not one object. */
TEST(json_checker_refuses_broken_lines)
{
	static const struct {
		const char *line;
		bool ok;
	} cases[] = {
		{ "{}", true }, { "{\"a\":1}", true }, { "{ \"a\" : [ ] }", true },
		{ "{\"a\":-1.5e+3,\"b\":[true,false,null,\"x\"],\"c\":{}}", true },
		{ "{\"s\":\"q\\\"b\\\\n\\n\\t\\u001f\"}", true },
		{ "", false }, { "[]", false }, { "\"a\"", false }, { "{", false },
		{ "{\"a\":1", false }, { "{\"a\":1}}", false }, { "{\"a\":1}{\"b\":2}", false },
		{ "{\"a\":1,}", false }, { "{a:1}", false }, { "{\"a\":\"x}", false },
		{ "{\"a\":\"\\x\"}", false }, { "{\"a\":\"\t\"}", false }, { "{\"a\":01}", false },
		{ "{\"a\":tru}", false }, { "{\"a\":\"\\u12\"}", false }, { "{\"a\":[1,2}", false },
		{ " {}", false },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_EQ(cases[i].ok, json_object_line(cases[i].line))
			TH_LOG("case %u", i);
}

FIXTURE(ctl) {
	char path[256];
	char out[8192];
	char err[4096];
};

FIXTURE_SETUP(ctl)
{
	ZT_REQUIRE_DEV();
	if (access(ZSYNCCTL, X_OK) || access(ZSYNC_RUN, X_OK))
		SKIP(zt_skip_exit(), "%s or %s not installed", ZSYNCCTL, ZSYNC_RUN);
	if (!zt_cg_available())
		SKIP(zt_skip_exit(), "no cgroup2 at %s", ZT_CG_ROOT);
	zt_path(self->path, sizeof(self->path), ZT_CG_ROOT "/zt-ctl-%d", getpid());
	zt_cg_destroy(self->path);
}

FIXTURE_TEARDOWN(ctl)
{
	zt_cg_destroy(self->path);
}

TEST_F(ctl, zsyncctl_help_and_usage_errors)
{
	EXPECT_EQ(0, run(self->out, ZSYNCCTL, "--help"));
	EXPECT_NE(NULL, strstr(self->out, "usage:"));
	EXPECT_NE(NULL, strstr(self->out, "cgroup remove PATH"));
	EXPECT_NE(NULL, strstr(self->out, "--version"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "bogus"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "cgroup", "bogus", "/x"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "cgroup", "set", self->path, "novalue"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "--timeout", "soon", "status"));
	/* Options the command would not read. */
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "--count", "1", "status"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "--timeout", "10", "cgroup", "create", self->path));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "--count", "1", "cgroup", "freeze", self->path));
	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "cgroup", "freeze", "/nonexistent"));
}

TEST_F(ctl, zsyncctl_status_counts_our_ring)
{
	struct zk_ring ring;
	long long open0, sqes0;

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "status")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"name\":\"CGROUP_KILL\",\"disabled\":false"));
	EXPECT_NE(NULL, strstr(self->out, "\"module_version\":\""));
	EXPECT_EQ(NULL, strstr(self->out, "\"module_version\":\"\""));
	open0 = json_num(self->out, "rings_open");
	sqes0 = json_num(self->out, "sqes");
	zt_ring(_metadata, &ring, 8, 0);
	zt_nop(_metadata, &ring, 1);
	zt_submit(_metadata, &ring, 1);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "status"));
	EXPECT_EQ(open0 + 1, json_num(self->out, "rings_open")) TH_LOG("%s", self->out);
	/* Our NOP, plus nothing else of zsyncctl's own (it only asks). */
	EXPECT_LE(sqes0 + 1, json_num(self->out, "sqes"));
	zk_ring_exit(&ring);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "status"));
	EXPECT_NE(NULL, strstr(self->out, "rings open"));
}

/* Two RECVs wait on an empty socket: status names the ring, its op counts, its oldest. */
TEST_F(ctl, zsyncctl_status_lists_each_ring_and_what_waits_in_it)
{
	char want[128], buf[2][4];
	struct zsync_cqe c[3];
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zt_ring(_metadata, &ring, 8, 0);
	for (int i = 0; i < 2; i++) {
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_recv(sqe, sv[0], buf[i], sizeof(buf[i]), 0);
		zk_sqe_set_data64(sqe, 0x5100 + i);
	}
	zt_submit(_metadata, &ring, 2);

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "status")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	snprintf(want, sizeof(want), "\"pid\":%d,\"comm\":\"", getpid());
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"inflight\":2,")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"waiting\":{\"RECV\":2},\"oldest\":"
				"{\"op\":\"RECV\",\"user_data\":20736,")) TH_LOG("%s", self->out);
	/* zsyncctl leaves its own ring out. */
	snprintf(want, sizeof(want), "\"comm\":\"zsyncctl\"");
	EXPECT_EQ(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "status"));
	EXPECT_NE(NULL, strstr(self->out, "waiting: RECV 2")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "RECV ")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "(user_data 0x5100)")) TH_LOG("%s", self->out);

	/* Without CAP_SYS_ADMIN: the rest of status, and why no list. */
	ASSERT_EQ(0, run_as(65534, self->out, ZSYNCCTL, "--json", "status")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"rings\":null,\"rings_error\":\"listing rings needs "
				"CAP_SYS_ADMIN\"")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"rings_total\":")) TH_LOG("%s", self->out);

	zk_prep_cancel(zt_sqe(_metadata, &ring), 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL);
	zt_submit(_metadata, &ring, 1);
	zt_reap(_metadata, &ring, c, 3, ZT_PROMPT_MS);
	zk_ring_exit(&ring);
	close(sv[0]);
	close(sv[1]);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "status"));
	snprintf(want, sizeof(want), "\"pid\":%d,", getpid());
	EXPECT_EQ(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
}

TEST_F_TIMEOUT(ctl, zsyncctl_cgroup_commands_match_cgroupfs, 120)
{
	char pidstr[16], cg[256];
	pid_t pid;

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "cgroup", "create", self->path,
			 "memory.max=33554432", "pids.max=9")) TH_LOG("%s", self->out);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"knob\":\"pids.max\",\"value\":\"9\",\"res\":1"));
	zt_expect_cg_file(_metadata, self->path, "memory.max", "33554432\n");
	zt_expect_cg_file(_metadata, self->path, "pids.max", "9\n");

	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "--json", "cgroup", "set", self->path,
			 "pids.max=lots"));
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"error\":\"Invalid argument\",\"errname\":\"EINVAL\""));
	zt_expect_cg_file(_metadata, self->path, "pids.max", "9\n");

	pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "attach", self->path, pidstr))
		TH_LOG("%s", self->out);
	zt_proc_cgroup(pid, cg, sizeof(cg));
	EXPECT_STREQ(self->path + strlen(ZT_CG_ROOT), cg);

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "freeze", self->path));
	EXPECT_EQ(ZT_POP | ZT_FRZ, zt_cg_state(self->path));
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "--count", "1", "cgroup", "wait",
			 self->path));
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, ",\"populated\":1,\"frozen\":1}\n"))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "thaw", self->path));
	EXPECT_EQ(ZT_POP, zt_cg_state(self->path));
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "kill", self->path));
	EXPECT_EQ(0, zt_cg_state(self->path));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
}

TEST_F(ctl, zsyncctl_timeout_and_disabled_family_exit_codes)
{
	char child[300];

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "create", self->path));
	zt_path(child, sizeof(child), "%s/child", self->path);
	ASSERT_EQ(0, mkdir(child, 0755));
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "1"));
	/* Under a frozen parent a thaw never completes. */
	EXPECT_EQ(4, run(self->out, ZSYNCCTL, "--timeout", "100", "cgroup", "thaw", child))
		TH_LOG("%s", self->out);
	EXPECT_EQ(4, run(self->out, ZSYNCCTL, "--timeout", "100", "cgroup", "wait", child));
	EXPECT_EQ(4, run2(self->out, self->err, ZSYNCCTL, "--json", "--timeout", "100", "cgroup",
			  "thaw", child));
	expect_error_object(_metadata, self->out, 4, ETIME, "ETIME");
	EXPECT_NE(NULL, strstr(self->err, "not done after 100 ms")) TH_LOG("%s", self->err);
	/* The state at arming, then the error object ends the stream. */
	EXPECT_EQ(4, run2(self->out, self->err, ZSYNCCTL, "--json", "--timeout", "100", "cgroup",
			  "wait", child));
	EXPECT_EQ(2, json_lines(_metadata, self->out)) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "}\n{\"error\":")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"errname\":\"ETIME\",\"exit\":4}\n"));
	ASSERT_EQ(0, zt_cg_write("/sys/module/zsync/parameters", "disable_families", "cgroup"));
	EXPECT_EQ(3, run(self->out, ZSYNCCTL, "cgroup", "set", self->path, "pids.max=3"));
	EXPECT_EQ(3, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "kill", self->path));
	expect_error_object(_metadata, self->out, 3, EOPNOTSUPP, "EOPNOTSUPP");
	ASSERT_EQ(0, zt_cg_write("/sys/module/zsync/parameters", "disable_families", "\n"));
	EXPECT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "set", self->path, "pids.max=3"));
}

TEST_F(ctl, zsyncctl_version)
{
	char module[64], want[160], out2[sizeof(self->out)];

	ASSERT_LT(0, zt_cg_read("/sys/module/zsync", "version", module, sizeof(module)));
	module[strcspn(module, "\n")] = '\0';
	ASSERT_NE(0, module[0]);
	zt_path(want, sizeof(want), "zsyncctl %s\nzsync.ko %s\n", ZT_ZK_VERSION, module);
	ASSERT_EQ(0, run2(self->out, self->err, ZSYNCCTL, "--version"));
	EXPECT_STREQ(want, self->out);
	EXPECT_STREQ("", self->err);
	ASSERT_EQ(0, run(out2, ZSYNCCTL, "-V"));
	EXPECT_STREQ(want, out2);
	/* Before the command, which is then not run. */
	ASSERT_EQ(0, run(out2, ZSYNCCTL, "--version", "cgroup", "kill", self->path));
	EXPECT_STREQ(want, out2);

	ASSERT_EQ(0, run2(self->out, self->err, ZSYNCCTL, "-V", "--json"));
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	zt_path(want, sizeof(want), "{\"version\":\"%s\",\"module_version\":\"%s\"}\n",
		ZT_ZK_VERSION, module);
	EXPECT_STREQ(want, self->out);
}

TEST_F(ctl, zsyncctl_json_error_objects)
{
	static char weird[] = "/nonexistent/q\"b\\s\tt\nn";
	const char *dev = getenv("ZSYNC_DEV");
	char saved[256];

	/* Usage errors: exit 2, no errno; the message on stderr as well. */
	EXPECT_EQ(2, run2(self->out, self->err, ZSYNCCTL, "--json", "bogus"));
	expect_error_object(_metadata, self->out, 2, 0, NULL);
	EXPECT_NE(NULL, strstr(self->out, "\"error\":\"unknown command 'bogus'\""));
	EXPECT_NE(NULL, strstr(self->err, "unknown command 'bogus' (see --help)\n"));
	EXPECT_EQ(2, run2(self->out, self->err, ZSYNCCTL, "--no-such-option", "--json", "status"));
	expect_error_object(_metadata, self->out, 2, 0, NULL);
	EXPECT_NE(NULL, strstr(self->out, "--no-such-option")) TH_LOG("%s", self->out);
	EXPECT_EQ(2, run2(self->out, self->err, ZSYNCCTL, "cgroup", "set", self->path,
			  "novalue", "--json"));
	expect_error_object(_metadata, self->out, 2, 0, NULL);
	EXPECT_EQ(2, run2(self->out, self->err, ZSYNCCTL, "--json"));
	expect_error_object(_metadata, self->out, 2, 0, NULL);

	/* A path that is not there, plain and with characters JSON escapes. */
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "freeze",
			  "/nonexistent"));
	expect_error_object(_metadata, self->out, 1, ENOENT, "ENOENT");
	EXPECT_NE(NULL, strstr(self->err, "/nonexistent: No such file or directory"));
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove", weird));
	expect_error_object(_metadata, self->out, 1, ENOENT, "ENOENT");
	EXPECT_NE(NULL, strstr(self->out, "/nonexistent/q\\\"b\\\\s\\tt\\nn: "))
		TH_LOG("%s", self->out);
	/* Bytes that are not UTF-8 (a file name may hold any) become U+FFFD. */
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove",
			  "/nonexistent/\xff\xc3"));
	expect_error_object(_metadata, self->out, 1, ENOENT, "ENOENT");
	EXPECT_NE(NULL, strstr(self->out, "/nonexistent/\\ufffd\\ufffd: ")) TH_LOG("%s", self->out);
	EXPECT_EQ(NULL, strchr(self->out, 0xff));
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "ns", "info", weird));
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"errname\":\"ENOENT\"")) TH_LOG("%s", self->out);

	/* No device: exit 3. */
	snprintf(saved, sizeof(saved), "%s", dev ? dev : "");
	ASSERT_EQ(0, setenv("ZSYNC_DEV", "/nonexistent/zsync", 1));
	EXPECT_EQ(3, run2(self->out, self->err, ZSYNCCTL, "--json", "status"));
	expect_error_object(_metadata, self->out, 3, ENOENT, "ENOENT");
	EXPECT_NE(NULL, strstr(self->err, "/nonexistent/zsync")) TH_LOG("%s", self->err);
	/* A mistyped subcommand is a usage error, module or not. */
	EXPECT_EQ(2, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "bogus", "/x"));
	expect_error_object(_metadata, self->out, 2, 0, NULL);
	EXPECT_EQ(2, run2(self->out, self->err, ZSYNCCTL, "--json", "ns", "bogus"));
	expect_error_object(_metadata, self->out, 2, 0, NULL);
	if (dev)
		setenv("ZSYNC_DEV", saved, 1);
	else
		unsetenv("ZSYNC_DEV");
}

TEST_F_TIMEOUT(ctl, zsyncctl_cgroup_remove, 120)
{
	char child[300], tmp[] = "/tmp/zt-ctl-XXXXXX";
	pid_t pid;

	/* An empty cgroup goes. */
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "create", self->path));
	ASSERT_EQ(0, access(self->path, F_OK));
	ASSERT_EQ(0, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove",
			  self->path)) TH_LOG("%s", self->err);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"op\":\"remove\",\"res\":0}")) TH_LOG("%s", self->out);
	EXPECT_EQ(-1, access(self->path, F_OK));
	EXPECT_EQ(ENOENT, errno);
	/* Then it is not there. */
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove",
			  self->path));
	expect_error_object(_metadata, self->out, 1, ENOENT, "ENOENT");

	/* One with a process in it stays: EBUSY. */
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "create", self->path));
	pid = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove",
			  self->path));
	expect_error_object(_metadata, self->out, 1, EBUSY, "EBUSY");
	EXPECT_NE(NULL, strstr(self->err, "still has processes or child cgroups"))
		TH_LOG("%s", self->err);
	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "cgroup", "remove", self->path));
	EXPECT_NE(NULL, strstr(self->out, "Device or resource busy")) TH_LOG("%s", self->out);
	EXPECT_EQ(0, access(self->path, F_OK));
	EXPECT_EQ(ZT_POP, zt_cg_state(self->path));

	/* Emptied, but with a child cgroup: still EBUSY. */
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "kill", self->path));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	zt_path(child, sizeof(child), "%s/child", self->path);
	ASSERT_EQ(0, mkdir(child, 0755));
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove",
			  self->path));
	expect_error_object(_metadata, self->out, 1, EBUSY, "EBUSY");
	EXPECT_EQ(0, access(self->path, F_OK));
	/* Leaf first, then the parent. */
	EXPECT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "remove", child)) TH_LOG("%s", self->out);
	EXPECT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "remove", self->path))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, ": removed\n"));
	EXPECT_NE(0, access(self->path, F_OK));

	/* An empty directory elsewhere is not a cgroup: refused, kept. */
	ASSERT_NE(NULL, mkdtemp(tmp));
	EXPECT_EQ(1, run2(self->out, self->err, ZSYNCCTL, "--json", "cgroup", "remove", tmp));
	expect_error_object(_metadata, self->out, 1, EINVAL, "EINVAL");
	EXPECT_EQ(0, access(tmp, F_OK));
	rmdir(tmp);
}

/*
 * Reads one line (without its newline) from @fd into @buf, waiting up to
 * ZT_CG_SETTLE_MS for it; returns its length, 0 at EOF, -1 on a timeout.
 */
static int read_line(int fd, char *buf, size_t sz)
{
	int64_t start = zt_mono_ns();
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;

	while (len < sz - 1) {
		int left = ZT_CG_SETTLE_MS - (int)zt_ms_since(start);

		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -1;
		if (read(fd, buf + len, 1) != 1)
			break;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return (int)len;
}

/*
 * cgroup wait --json: a line per change, each one object, each flushed as
 * it happens (the next change is only made once the line is read).
 */
TEST_F_TIMEOUT(ctl, zsyncctl_cgroup_wait_prints_json_lines, 120)
{
	static const char *const states[] = {
		"\"populated\":0,\"frozen\":0}", "\"populated\":1,\"frozen\":0}",
		"\"populated\":1,\"frozen\":1}",
	};
	char line[512], want[512];
	int p[2], status;
	pid_t ctl, pid = -1;
	unsigned int i;

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "create", self->path));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ctl = fork();
	ASSERT_LE(0, ctl);
	if (ctl == 0) {
		dup2(p[1], 1);
		/* --timeout: it ends by itself should the test fail half-way. */
		execl(ZSYNCCTL, ZSYNCCTL, "--json", "--count", "3", "--timeout", "60000", "cgroup",
		      "wait", self->path, (char *)NULL);
		_exit(201);
	}
	close(p[1]);
	for (i = 0; i < 3; i++) {
		ASSERT_LT(0, read_line(p[0], line, sizeof(line))) TH_LOG("state %u never came", i);
		EXPECT_TRUE(json_object_line(line)) TH_LOG("not one JSON object: %s", line);
		zt_path(want, sizeof(want), "{\"path\":\"%s\",%s", self->path, states[i]);
		EXPECT_STREQ(want, line);
		if (i == 0)
			pid = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
		else if (i == 1)
			ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "1"));
	}
	/* --count 3: done, nothing more. */
	EXPECT_EQ(0, read_line(p[0], line, sizeof(line))) TH_LOG("more: %s", line);
	close(p[0]);
	ASSERT_EQ(ctl, waitpid(ctl, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("status %#x", status);
	zt_kill_reap(pid);
}

/* A child in new namespaces; returns its pid. */
static pid_t ns_child(struct __test_metadata *_metadata)
{
	return zt_spawn_unshared(_metadata, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
}

/* lsns walks every process's namespaces: slow on the debug kernel. */
TEST_F_TIMEOUT(ctl, zsyncctl_ns_info_agrees_with_lsns_and_stat, 300)
{
	static const char *const types[] = { "net", "uts", "ipc", "user" };
	char paths[4][64], lsns[4096], want[64];
	pid_t pid = ns_child(_metadata);
	unsigned int i;

	for (i = 0; i < 4; i++)
		zt_path(paths[i], sizeof(paths[i]), "/proc/%d/ns/%s", pid, types[i]);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "ns", "info", paths[0], paths[1],
			 paths[2], paths[3])) TH_LOG("%s", self->out);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	if (access("/usr/bin/lsns", X_OK) == 0) {
		char pidstr[16];

		snprintf(pidstr, sizeof(pidstr), "%d", pid);
		ASSERT_EQ(0, run(lsns, "/usr/bin/lsns", "-n", "-r", "-o", "NS,TYPE", "-p", pidstr));
	} else {
		lsns[0] = '\0';
	}
	for (i = 0; i < 4; i++) {
		struct stat st;

		ASSERT_EQ(0, stat(paths[i], &st));
		snprintf(want, sizeof(want), "\"type\":\"%s\",\"ino\":%llu,", types[i],
			 (unsigned long long)st.st_ino);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s not in %s", want, self->out);
		snprintf(want, sizeof(want), "%llu %s\n", (unsigned long long)st.st_ino, types[i]);
		if (lsns[0])
			EXPECT_NE(NULL, strstr(lsns, want)) TH_LOG("%s not in lsns: %s", want, lsns);
	}
	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "ns", "info", "/proc/self/status"));
	zt_kill_reap(pid);
}

TEST_F(ctl, zsyncctl_ns_socket_test)
{
	pid_t pid = ns_child(_metadata);
	char path[64], fdpath[64];
	int fd;

	zt_path(path, sizeof(path), "/proc/%d/ns/net", pid);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "ns", "socket-test", path, "unix"))
		TH_LOG("%s", self->out);
	EXPECT_EQ(1, json_lines(_metadata, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"socket_in_netns\":true"));
	/* nobody may not open the nsfs file of a process it does not own: pass an fd. */
	fd = open(path, O_RDONLY);	/* inherited by the child */
	ASSERT_LE(0, fd);
	zt_path(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	EXPECT_EQ(1, run_as(ZT_NOBODY, self->out, ZSYNCCTL, "ns", "socket-test", fdpath));
	EXPECT_NE(NULL, strstr(self->out, "Operation not permitted")) TH_LOG("%s", self->out);
	close(fd);
	zt_kill_reap(pid);
}

/* ---- zsync-run -------------------------------------------------------------- */

/* zsync-run's two backends, and what -v says about where its cgroup calls went. */
static const struct {
	char *backend;		/* run() takes an argv of char * */
	const char *calls;
} zsync_run_paths[] = {
	{ "ring", " on the ring, 0 as syscalls" },
	{ "plain", "cgroup calls: 0 on the ring, " },
};

TEST_F_TIMEOUT(ctl, zsync_run_runs_a_busybox_shell_in_a_container, 120)
{
	const char *cg = self->path + strlen(ZT_CG_ROOT);
	char script[512], want[160], ownns[64] = "";
	unsigned int i;

	ASSERT_LT(0, readlink("/proc/self/ns/net", ownns, sizeof(ownns) - 1));
	zt_path(script, sizeof(script),
		"echo host=$(hostname) pid=$$ netns=$(readlink /proc/self/ns/net);"
		"echo pids=$(cat /sys/fs/cgroup%s/pids.max) mem=$(cat /sys/fs/cgroup%s/memory.max);"
		"echo cg=$(cat /proc/self/cgroup); exit 3", cg, cg);
	for (i = 0; i < ARRAY_SIZE(zsync_run_paths); i++) {
		char *backend = zsync_run_paths[i].backend;

		EXPECT_EQ(3, run(self->out, ZSYNC_RUN, "-v", "--backend", backend, "--cgroup",
				 self->path, "--pids-max", "8", "--memory-max", "33554432",
				 "--hostname", "box", "--", "/bin/busybox", "sh", "-c", script))
			TH_LOG("%s: %s", backend, self->out);
		EXPECT_NE(NULL, strstr(self->out, "host=box pid=1 netns=net:["))
			TH_LOG("%s: %s", backend, self->out);
		EXPECT_EQ(NULL, strstr(self->out, ownns)) TH_LOG("still in our netns %s", ownns);
		EXPECT_NE(NULL, strstr(self->out, "pids=8 mem=33554432\n"));
		zt_path(want, sizeof(want), "cg=0::%s\n", cg);
		EXPECT_NE(NULL, strstr(self->out, want));
		EXPECT_NE(NULL, strstr(self->out, "exit code 3"));
		EXPECT_NE(NULL, strstr(self->out, "cgroup empty"));
		/* Where the calls went: all on the ring, or none. */
		EXPECT_NE(NULL, strstr(self->out, zsync_run_paths[i].calls)) TH_LOG("%s", self->out);
		/* Removed afterwards. */
		EXPECT_NE(0, access(self->path, F_OK));
	}
}

TEST_F_TIMEOUT(ctl, zsync_run_kills_leftovers_times_out_and_reports_errors, 120)
{
	int64_t start = zt_mono_ns();

	/* A background process outlives the shell: killed with the cgroup. */
	EXPECT_EQ(0, run(self->out, ZSYNC_RUN, "--cgroup", self->path, "--",
			 "/bin/busybox", "sh", "-c", "sleep 1000 & exit 0")) TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(124, run(self->out, ZSYNC_RUN, "--timeout", "200", "--cgroup", self->path,
			   "--", "/bin/busybox", "sleep", "1000")) TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(124, run(self->out, ZSYNC_RUN, "--backend", "plain", "--timeout", "200",
			   "--cgroup", self->path, "--", "/bin/busybox", "sleep", "1000"))
		TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(125, run(self->out, ZSYNC_RUN, "--backend", "io_uring", "--", "/bin/true"));
	EXPECT_NE(NULL, strstr(self->out, "ring or plain")) TH_LOG("%s", self->out);
	EXPECT_GT(60000, zt_ms_since(start));	/* not the 1000 s of the sleeps */
	EXPECT_EQ(127, run(self->out, ZSYNC_RUN, "--cgroup", self->path, "--", "/no/such"));
	EXPECT_EQ(125, run(self->out, ZSYNC_RUN, "--cgroup", self->path, "--pids-max", "x",
			   "--", "/bin/busybox", "true"));
	EXPECT_NE(NULL, strstr(self->out, "pids.max=x: Invalid argument")) TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(125, run(self->out, ZSYNC_RUN));
}

TEST_HARNESS_MAIN
