// SPDX-License-Identifier: GPL-2.0
/*
 * zsyncctl: inspect zsync.ko and drive its cgroup and namespace ops from
 * the command line.  Every action is one submission on a libzsync-k ring
 * (but cgroup remove, which is rmdir(2), and --version); the tool adds
 * argument parsing, output (text or --json) and exit codes.  This file:
 * main(), status, --version and the helpers of ctl.h; the command families
 * are in ctl-cgroup.c and ctl-ns.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#ifndef ZSYNCCTL_VERSION
#error "ZSYNCCTL_VERSION (lib/version.mk's ZK_VERSION) is passed by tools/tools.mk"
#endif

#define UD_TIMEOUT	(~0ULL)

static const struct {
	unsigned int bit;
	const char *name;
} features[] = {
	{ ZSYNC_FEAT_NODROP, "nodrop" }, { ZSYNC_FEAT_LINKS, "links" },
	{ ZSYNC_FEAT_RESTRICT, "restrict" }, { ZSYNC_FEAT_EVENTFD, "eventfd" },
	{ ZSYNC_FEAT_ENTER_VALUE, "enter-value" },
	{ ZSYNC_FEAT_EVENTFD_BATCH, "eventfd-batch" },
	{ ZSYNC_FEAT_TASK_SIGNAL, "task-signal" },
};

bool json;
const char *prog = "zsyncctl";
struct zk_ring ring;

/* ---- output --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--json] [--timeout MS] [--count N] COMMAND [ARGS...]\n"
		"       %s [--json] --version\n"
		"\n"
		"Inspect zsync.ko and drive its cgroup and namespace ops, one ring\n"
		"submission per command ($ZSYNC_DEV or /dev/zsync).\n"
		"\n"
		"  status                              module version, ABI, features, ops,\n"
		"                                      counters, and each ring of this PID\n"
		"                                      namespace: owner, what waits in it\n"
		"                                      by op, the oldest waiter's age, CQ\n"
		"                                      fill, overflow (CAP_SYS_ADMIN)\n"
		"  cgroup create PATH [KNOB=VALUE...]  mkdir PATH, then set the knobs\n"
		"  cgroup set PATH KNOB=VALUE...       write knobs (one CGROUP_SET each)\n"
		"  cgroup attach PATH PID...           move processes (through pidfds)\n"
		"  cgroup freeze|thaw PATH             return once frozen / thawed\n"
		"  cgroup kill PATH                    SIGKILL all, return once empty\n"
		"  cgroup wait PATH [--count N]        print populated/frozen changes\n"
		"  cgroup remove PATH                  rmdir PATH (no ring op; EBUSY while\n"
		"                                      it has processes or child cgroups)\n"
		"  ns info NSFILE...                   type, inode and owner of namespace\n"
		"                                      files (/proc/PID/ns/NAME)\n"
		"  ns socket-test NETNS [inet|inet6|unix]\n"
		"                                      create a socket in NETNS with\n"
		"                                      NS_SOCKET and check it landed there\n"
		"\n"
		"Options:\n"
		"  --json         JSON on stdout, one object a line: the result; for\n"
		"                 cgroup wait one per change (JSON Lines, flushed); on a\n"
		"                 failure {\"error\":MSG,\"errno\":N,\"errname\":NAME,\"exit\":N}\n"
		"                 (errno, errname: only with an errno), MSG also on stderr\n"
		"  --timeout MS   (freeze, thaw, kill, wait) give up after MS ms\n"
		"  --count N      (wait) stop after N states\n"
		"  (either, given to another command: a usage error)\n"
		"  --version, -V  zsyncctl's version, and the module's if loaded\n"
		"  --help\n"
		"Exit status: 0 ok, 1 an operation failed, 2 usage, 3 zsync or the op\n"
		"unavailable (module not loaded, op disabled), 4 timeout.\n",
		prog, prog);
}

/* The errno's name ("ENOENT") as a JSON string, or null if it has none. */
static void json_errname(int err)
{
	const char *name = strerrorname_np(err);

	if (name)
		json_string(stdout, name);
	else
		printf("null");
}

/*
 * A failure of the whole command, reported once: "PROG: MESSAGE[HINT]" on
 * stderr and, with --json, the error object on stdout (one line):
 *   {"error":MESSAGE,"errno":N,"errname":"ENAME","exit":CODE}
 * errno and errname only when @err (a positive errno) is not 0.
 */
static int vreport(int code, int err, const char *hint, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", prog, msg, hint);
	if (json) {
		printf("{\"error\":");
		json_string(stdout, msg);
		if (err) {
			printf(",\"errno\":%d,\"errname\":", err);
			json_errname(err);
		}
		printf(",\"exit\":%d}\n", code);
		fflush(stdout);
	}
	return code;
}

int ctl_fail(int code, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vreport(code, err, "", fmt, ap);
	va_end(ap);
	return code;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = vreport(EXIT_USAGE, 0, " (see --help)", fmt, ap);
	va_end(ap);
	return code;
}

/* The exit code for a failed op: -EOPNOTSUPP is a disabled family. */
int exit_for(int res)
{
	if (res == -EOPNOTSUPP)
		return EXIT_UNAVAIL;
	return res < 0 ? EXIT_FAILED : EXIT_OK;
}

/*
 * "res" (and "error", "errname") members of an item of a JSON result
 * object, or a text suffix.
 */
void print_res(int res)
{
	if (json) {
		printf("\"res\":%d", res);
		if (res < 0) {
			printf(",\"error\":");
			json_string(stdout, strerror(-res));
			printf(",\"errname\":");
			json_errname(-res);
		}
	} else if (res < 0) {
		printf("error: %s", strerror(-res));
	} else {
		printf("ok");
	}
}

bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && *s && !*end && *out <= max;
}

/* ---- the ring ------------------------------------------------------------- */

int ring_up(void)
{
	int ret = zk_ring_init(RING_ENTRIES, &ring, 0);
	const char *dev = getenv("ZSYNC_DEV");

	if (ret == 0)
		return EXIT_OK;
	return ctl_fail(EXIT_UNAVAIL, -ret, "cannot open a zsync ring on %s: %s%s",
			dev && *dev ? dev : "/dev/zsync", strerror(-ret),
			ret == -ENOENT ? " (is zsync.ko loaded?)" : "");
}

bool ctl_known(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

struct zsync_sqe *sqe_get(void)
{
	struct zsync_sqe *sqe = zk_get_sqe(&ring);

	if (!sqe)
		exit(ctl_fail(EXIT_USAGE, 0, "more than %d operations in one command",
			      RING_ENTRIES));
	return sqe;
}

int submit_failed(int ret)
{
	return ctl_fail(EXIT_FAILED, -ret, "submit: %s", strerror(-ret));
}

/* Guards the SQE just prepared with a LINK_TIMEOUT of @ms (0: none). */
void guard(struct zsync_sqe *sqe, unsigned int ms)
{
	static struct zsync_timespec ts;

	if (!ms)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000LL;
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	sqe = sqe_get();
	zk_prep_link_timeout(sqe, &ts, 0);
	zk_sqe_set_data64(sqe, UD_TIMEOUT);
}

/*
 * Submits everything prepared and stores the result of each user_data
 * 0..@n-1 in @res; a LINK_TIMEOUT's CQE is dropped.  Returns 0 or -errno.
 */
int submit_all(int *res, unsigned int n)
{
	unsigned int got = 0;
	struct zsync_cqe *cqe;
	int ret = zk_submit(&ring);

	if (ret < 0)
		return ret;
	while (got < n) {
		ret = zk_wait_cqe(&ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret)
			return ret;
		if (cqe->user_data < n) {
			res[cqe->user_data] = cqe->res;
			got++;
		}
		zk_cqe_seen(&ring, cqe);
	}
	return 0;
}

/* ---- status --------------------------------------------------------------- */

static void read_sysfs(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)sz, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* The loaded module's version in @buf ("" if it has none), or NULL: not loaded. */
static const char *module_version(char *buf, size_t sz)
{
	buf[0] = '\0';
	if (access("/sys/module/zsync", F_OK))
		return NULL;
	read_sysfs("/sys/module/zsync/version", buf, sz);
	return buf;
}

static void print_ops(const struct zsync_probe *p)
{
	bool first = true;
	unsigned int i;

	for (i = 0; i < ZSYNC_OP_LAST; i++) {
		if (!zk_probe_has_op(p, i))
			continue;
		if (json) {
			printf("%s{\"opcode\":%u,\"name\":", first ? "" : ",", i);
			json_string(stdout, zk_op_name(i) ? zk_op_name(i) : "?");
			printf(",\"disabled\":%s}", zk_probe_op_disabled(p, i) ? "true" : "false");
		} else {
			printf(" %s%s", zk_op_name(i) ? zk_op_name(i) : "?",
			       zk_probe_op_disabled(p, i) ? "(disabled)" : "");
		}
		first = false;
	}
}

static void print_features(unsigned int feat)
{
	unsigned int i;
	bool first = true;

	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (!(feat & features[i].bit))
			continue;
		if (json)
			printf("%s\"%s\"", first ? "" : ",", features[i].name);
		else
			printf(" %s", features[i].name);
		first = false;
	}
}

static int cmd_status(void)
{
	struct zsync_probe p;
	struct zsync_stats st;
	char version[64], disabled[128];
	int ret = ring_up();

	if (ret)
		return ret;
	ret = zk_probe(&ring, &p);
	if (!ret)
		ret = zk_stats(&ring, &st);
	if (ret)
		return ctl_fail(EXIT_UNAVAIL, -ret, "PROBE/STATS: %s", strerror(-ret));
	module_version(version, sizeof(version));
	read_sysfs("/sys/module/zsync/parameters/disable_families", disabled, sizeof(disabled));
	/* Our own ring is one of the open ones; report the others. */
	st.rings_open--;
	if (json) {
		printf("{\"module_version\":");
		json_string(stdout, version);
		printf(",\"abi_version\":%u,\"features\":[", p.abi_version);
		print_features(p.features);
		printf("],\"ops\":[");
		print_ops(&p);
		printf("],\"disabled_families\":");
		json_string(stdout, disabled);
		printf(",\"rings_open\":%llu,\"rings_total\":%llu,\"sqes\":%llu,\"cqes\":%llu,"
		       "\"cqes_overflowed\":%llu,\"ops_disabled\":%llu,\"rings\":",
		       st.rings_open, st.rings_total, st.sqes, st.cqes, st.cqes_overflowed,
		       st.ops_disabled);
		print_rings();
		printf("}\n");
	} else {
		printf("module version   %s (ABI %u)\n", version[0] ? version : "?", p.abi_version);
		printf("features        ");
		print_features(p.features);
		printf("\nops             ");
		print_ops(&p);
		printf("\ndisabled         %s\n", disabled[0] ? disabled : "(none)");
		printf("rings open       %llu (besides this one; %llu opened since load)\n",
		       st.rings_open, st.rings_total);
		printf("SQEs consumed    %llu\nCQEs posted      %llu\nCQEs overflowed  %llu\n"
		       "SQEs disabled    %llu\n", st.sqes, st.cqes, st.cqes_overflowed,
		       st.ops_disabled);
		print_rings();
	}
	return EXIT_OK;
}

/* Needs neither the device nor the module; reports the module when loaded. */
static int cmd_version(void)
{
	char buf[64];
	const char *module = module_version(buf, sizeof(buf));

	if (json) {
		printf("{\"version\":");
		json_string(stdout, ZSYNCCTL_VERSION);
		printf(",\"module_version\":");
		if (module)
			json_string(stdout, module);
		else
			printf("null");
		printf("}\n");
	} else {
		printf("zsyncctl %s\n", ZSYNCCTL_VERSION);
		if (module)
			printf("zsync.ko %s\n", module[0] ? module : "(no version)");
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const timed[] = { "freeze", "thaw", "kill", "wait", NULL };
	unsigned long timeout_ms = 0, count = 0;
	bool help = false, version = false, has_timeout = false, has_count = false;
	char bad[160] = "";
	int c;

	prog = argv[0];
	/*
	 * Options may come anywhere (getopt permutes the arguments).  A bad
	 * one is reported after the loop, once --json is known.
	 */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jt:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			has_timeout = true;
			if (!parse_uint(optarg, 24 * 3600 * 1000UL, &timeout_ms) && !bad[0])
				snprintf(bad, sizeof(bad), "bad --timeout '%s'", optarg);
			break;
		case 'c':
			has_count = true;
			if (!parse_uint(optarg, ULONG_MAX, &count) && !bad[0])
				snprintf(bad, sizeof(bad), "bad --count '%s'", optarg);
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			version = true;
			break;
		case ':':
			if (!bad[0])
				snprintf(bad, sizeof(bad), "option '%s' needs an argument",
					 argv[optind - 1]);
			break;
		default:
			if (bad[0])
				break;
			if (optopt)
				snprintf(bad, sizeof(bad), "unknown option '-%c'", optopt);
			else
				snprintf(bad, sizeof(bad), "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (bad[0])
		return usage_error("%s", bad);
	if (help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (version)
		return cmd_version();
	if (optind >= argc)
		return usage_error("missing COMMAND");
	/* An option the command would not read is a mistake, not a no-op. */
	if ((has_timeout || has_count) &&
	    (strcmp(argv[optind], "cgroup") || optind + 1 >= argc ||
	     !ctl_known(argv[optind + 1], timed) ||
	     (has_count && strcmp(argv[optind + 1], "wait"))))
		return usage_error("%s applies only to %s", has_count ? "--count" : "--timeout",
				   has_count ? "cgroup wait" : "cgroup freeze, thaw, kill and wait");
	if (!strcmp(argv[optind], "status"))
		return optind + 1 == argc ? cmd_status() : usage_error("status takes no arguments");
	if (!strcmp(argv[optind], "cgroup"))
		return cmd_cgroup(argc - optind - 1, argv + optind + 1, timeout_ms, count);
	if (!strcmp(argv[optind], "ns"))
		return cmd_ns(argc - optind - 1, argv + optind + 1);
	return usage_error("unknown command '%s'", argv[optind]);
}
