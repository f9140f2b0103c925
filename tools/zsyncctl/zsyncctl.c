// SPDX-License-Identifier: GPL-2.0
/*
 * zsyncctl: inspect zsync.ko and drive its cgroup and namespace ops from
 * the command line.  Every action is one submission on a libzsync-k ring;
 * the tool adds argument parsing, output (text or --json) and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "zsync-k.h"
#include "../common/json.h"

enum ctl_exit {
	EXIT_OK		= 0,
	EXIT_FAILED	= 1,	/* an operation failed; its errno is printed */
	EXIT_USAGE	= 2,
	EXIT_UNAVAIL	= 3,	/* no module, or the op is missing or disabled */
	EXIT_TIMEOUT	= 4,	/* --timeout passed before the state was reached */
};

#define RING_ENTRIES	64
#define UD_TIMEOUT	(~0ULL)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif

static const struct {
	unsigned int bit;
	const char *name;
} features[] = {
	{ ZSYNC_FEAT_NODROP, "nodrop" }, { ZSYNC_FEAT_LINKS, "links" },
	{ ZSYNC_FEAT_RESTRICT, "restrict" }, { ZSYNC_FEAT_EVENTFD, "eventfd" },
	{ ZSYNC_FEAT_ENTER_VALUE, "enter-value" },
	{ ZSYNC_FEAT_EVENTFD_BATCH, "eventfd-batch" },
};

static const struct {
	unsigned int type;
	const char *name;
} ns_types[] = {
	{ CLONE_NEWCGROUP, "cgroup" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWNS, "mnt" },
	{ CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { 0x80, "time" },
	{ CLONE_NEWUSER, "user" }, { CLONE_NEWUTS, "uts" },
};

static bool json;
static const char *prog = "zsyncctl";
static struct zk_ring ring;

/* ---- output --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--json] COMMAND [ARGS...]\n"
		"\n"
		"Inspect zsync.ko and drive its cgroup and namespace ops, one ring\n"
		"submission per command ($ZSYNC_DEV or /dev/zsync).\n"
		"\n"
		"  status                              module version, ABI, features, ops,\n"
		"                                      rings open and counters\n"
		"  cgroup create PATH [KNOB=VALUE...]  mkdir PATH, then set the knobs\n"
		"  cgroup set PATH KNOB=VALUE...       write knobs (one CGROUP_SET each)\n"
		"  cgroup attach PATH PID...           move processes (through pidfds)\n"
		"  cgroup freeze|thaw PATH             return once frozen / thawed\n"
		"  cgroup kill PATH                    SIGKILL all, return once empty\n"
		"  cgroup wait PATH [--count N]        print populated/frozen changes\n"
		"  ns info NSFILE...                   type, inode and owner of namespace\n"
		"                                      files (/proc/PID/ns/NAME)\n"
		"  ns socket-test NETNS [inet|inet6|unix]\n"
		"                                      create a socket in NETNS with\n"
		"                                      NS_SOCKET and check it landed there\n"
		"\n"
		"Options: --json  one JSON object on stdout\n"
		"         --timeout MS  (freeze, thaw, kill, wait) give up after MS ms\n"
		"         --help\n"
		"Exit status: 0 ok, 1 an operation failed, 2 usage, 3 zsync or the op\n"
		"unavailable (module not loaded, op disabled), 4 timeout.\n",
		prog);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	return EXIT_USAGE;
}

/* The exit code for a failed op: -EOPNOTSUPP is a disabled family. */
static int exit_for(int res)
{
	if (res == -EOPNOTSUPP)
		return EXIT_UNAVAIL;
	return res < 0 ? EXIT_FAILED : EXIT_OK;
}

/* "res" (and "error") members of a JSON result object, or a text suffix. */
static void print_res(int res)
{
	if (json) {
		printf("\"res\":%d", res);
		if (res < 0) {
			printf(",\"error\":");
			json_string(stdout, strerror(-res));
		}
	} else if (res < 0) {
		printf("error: %s", strerror(-res));
	} else {
		printf("ok");
	}
}

/* ---- the ring ------------------------------------------------------------- */

static int ring_up(void)
{
	int ret = zk_ring_init(RING_ENTRIES, &ring, 0);

	if (ret == 0)
		return EXIT_OK;
	fprintf(stderr, "%s: cannot open a zsync ring: %s%s\n", prog, strerror(-ret),
		ret == -ENOENT ? " (is zsync.ko loaded?)" : "");
	return EXIT_UNAVAIL;
}

static struct zsync_sqe *sqe_get(void)
{
	struct zsync_sqe *sqe = zk_get_sqe(&ring);

	if (!sqe) {
		fprintf(stderr, "%s: more than %d operations in one command\n", prog,
			RING_ENTRIES);
		exit(EXIT_USAGE);
	}
	return sqe;
}

/* Guards the SQE just prepared with a LINK_TIMEOUT of @ms (0: none). */
static void guard(struct zsync_sqe *sqe, unsigned int ms)
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
static int submit_all(int *res, unsigned int n)
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
	if (ret) {
		fprintf(stderr, "%s: PROBE/STATS: %s\n", prog, strerror(-ret));
		return EXIT_UNAVAIL;
	}
	read_sysfs("/sys/module/zsync/version", version, sizeof(version));
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
		       "\"cqes_overflowed\":%llu,\"ops_disabled\":%llu}\n",
		       st.rings_open, st.rings_total, st.sqes, st.cqes, st.cqes_overflowed,
		       st.ops_disabled);
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
	}
	return EXIT_OK;
}

/* ---- cgroup --------------------------------------------------------------- */

static int open_cgroup(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	return fd;
}

/* Splits "KNOB=VALUE" (checked by check_knob_args()) in place. */
static void split_knob(char *arg, char **value)
{
	char *eq = strchr(arg, '=');

	*eq = '\0';
	*value = eq + 1;
}

/* Usage check before anything is touched: every argument is KNOB=VALUE. */
static int check_knob_args(int argc, char **argv)
{
	int i;

	if (argc > RING_ENTRIES)
		return usage_error("at most %d knobs", RING_ENTRIES);
	for (i = 0; i < argc; i++)
		if (!strchr(argv[i], '=') || argv[i][0] == '=')
			return usage_error("'%s' is not KNOB=VALUE", argv[i]);
	return EXIT_OK;
}

/* Sets every KNOB=VALUE of @argv in one submission and prints each result. */
static int set_knobs(const char *path, int dfd, int argc, char **argv)
{
	char *values[RING_ENTRIES];
	int res[RING_ENTRIES], i, ret, worst = EXIT_OK;

	for (i = 0; i < argc; i++) {
		struct zsync_sqe *sqe;

		split_knob(argv[i], &values[i]);
		sqe = sqe_get();
		zk_prep_cgroup_set_str(sqe, dfd, argv[i], values[i]);
		zk_sqe_set_data64(sqe, i);
	}
	ret = submit_all(res, argc);
	if (ret) {
		fprintf(stderr, "%s: submit: %s\n", prog, strerror(-ret));
		return EXIT_FAILED;
	}
	if (json) {
		printf("{\"path\":");
		json_string(stdout, path);
		printf(",\"knobs\":[");
	}
	for (i = 0; i < argc; i++) {
		if (json) {
			printf("%s{\"knob\":", i ? "," : "");
			json_string(stdout, argv[i]);
			printf(",\"value\":");
			json_string(stdout, values[i]);
			putchar(',');
			print_res(res[i]);
			putchar('}');
		} else {
			printf("%s/%s = %s: ", path, argv[i], values[i]);
			print_res(res[i]);
			putchar('\n');
		}
		if (exit_for(res[i]) > worst)
			worst = exit_for(res[i]);
	}
	if (json)
		printf("]}\n");
	else if (!argc)
		printf("%s: created\n", path);
	return worst;
}

/* cgroup create PATH [KNOB=VALUE...] and cgroup set PATH KNOB=VALUE... */
static int cmd_cgroup_knobs(int argc, char **argv, bool create)
{
	int dfd, ret;

	if (argc < (create ? 1 : 2))
		return usage_error("cgroup %s needs a PATH%s", create ? "create" : "set",
				   create ? "" : " and KNOB=VALUE");
	ret = check_knob_args(argc - 1, argv + 1);
	if (ret)
		return ret;
	if (create && mkdir(argv[0], 0755)) {
		fprintf(stderr, "%s: mkdir %s: %s\n", prog, argv[0], strerror(errno));
		return EXIT_FAILED;
	}
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	ret = set_knobs(argv[0], dfd, argc - 1, argv + 1);
	close(dfd);
	return ret;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && *s && !*end && *out <= max;
}

/* Each PID through a pidfd, so a process that exits meanwhile is never confused. */
static int cmd_cgroup_attach(int argc, char **argv)
{
	int pidfds[RING_ENTRIES], res[RING_ENTRIES], i, n = argc - 1, dfd, ret, worst = 0;
	unsigned long pid;

	if (argc < 2)
		return usage_error("cgroup attach needs a PATH and PIDs");
	if (n > RING_ENTRIES)
		return usage_error("at most %d PIDs", RING_ENTRIES);
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe;

		if (!parse_uint(argv[i + 1], INT_MAX, &pid))
			return usage_error("'%s' is not a PID", argv[i + 1]);
		pidfds[i] = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		sqe = sqe_get();
		if (pidfds[i] < 0)
			zk_prep_nop_result(sqe, -errno);
		else
			zk_prep_cgroup_attach_pidfd(sqe, dfd, pidfds[i]);
		zk_sqe_set_data64(sqe, i);
	}
	ret = submit_all(res, n);
	if (json) {
		printf("{\"path\":");
		json_string(stdout, argv[0]);
		printf(",\"pids\":[");
	}
	for (i = 0; i < n && !ret; i++) {
		if (json)
			printf("%s{\"pid\":%s,", i ? "," : "", argv[i + 1]);
		else
			printf("%s -> %s: ", argv[i + 1], argv[0]);
		print_res(res[i]);
		printf(json ? "}" : "\n");
		if (exit_for(res[i]) > worst)
			worst = exit_for(res[i]);
	}
	if (json)
		printf("]}\n");
	for (i = 0; i < n; i++)
		if (pidfds[i] >= 0)
			close(pidfds[i]);
	close(dfd);
	if (ret) {
		fprintf(stderr, "%s: submit: %s\n", prog, strerror(-ret));
		return EXIT_FAILED;
	}
	return worst;
}

/* FREEZE, THAW, KILL: one op, optionally guarded by --timeout. */
static int cmd_cgroup_control(int op, const char *what, int argc, char **argv,
			      unsigned int timeout_ms)
{
	struct zsync_sqe *sqe;
	int dfd, res = 0, ret;

	if (argc != 1)
		return usage_error("cgroup %s needs exactly one PATH", what);
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	sqe = sqe_get();
	zk_prep_cgroup_op(sqe, op, dfd);
	zk_sqe_set_data64(sqe, 0);
	guard(sqe, timeout_ms);
	ret = submit_all(&res, 1);
	close(dfd);
	if (ret) {
		fprintf(stderr, "%s: submit: %s\n", prog, strerror(-ret));
		return EXIT_FAILED;
	}
	/* The guard's CQE is not waited for: a cancelled op means it fired. */
	if (timeout_ms && res == -ECANCELED)
		res = -ETIME;
	if (json) {
		printf("{\"path\":");
		json_string(stdout, argv[0]);
		printf(",\"op\":\"%s\",", what);
		print_res(res);
		printf("}\n");
	} else {
		printf("%s: %s ", argv[0], what);
		print_res(res);
		putchar('\n');
	}
	return res == -ETIME ? EXIT_TIMEOUT : exit_for(res);
}

static void print_state(int state)
{
	if (json)
		printf("{\"populated\":%d,\"frozen\":%d}", !!(state & ZSYNC_CGROUP_POPULATED),
		       !!(state & ZSYNC_CGROUP_FROZEN));
	else
		printf("populated %d frozen %d\n", !!(state & ZSYNC_CGROUP_POPULATED),
		       !!(state & ZSYNC_CGROUP_FROZEN));
	fflush(stdout);
}

/* CGROUP_WAIT until @count CQEs (0: forever) or @timeout_ms; then CANCEL. */
static int cmd_cgroup_wait(int argc, char **argv, unsigned long count, unsigned int timeout_ms)
{
	struct zsync_timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000LL };
	struct zsync_cqe *cqe;
	unsigned long seen = 0;
	int dfd, ret, code = EXIT_OK;
	bool more = true;

	if (argc != 1)
		return usage_error("cgroup wait needs exactly one PATH");
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	zk_prep_cgroup_wait(sqe_get(), dfd, ZSYNC_CGROUP_STATE_ALL);
	ret = zk_submit(&ring);
	if (ret < 0) {
		fprintf(stderr, "%s: submit: %s\n", prog, strerror(-ret));
		return EXIT_FAILED;
	}
	if (json) {
		printf("{\"path\":");
		json_string(stdout, argv[0]);
		printf(",\"states\":[");
	}
	while (more && (!count || seen < count)) {
		ret = zk_wait_cqe_timeout(&ring, &cqe, timeout_ms ? &ts : NULL);
		if (ret == -ETIME) {
			code = EXIT_TIMEOUT;
			break;
		}
		if (ret) {
			code = EXIT_FAILED;
			break;
		}
		more = cqe->flags & ZSYNC_CQE_F_MORE;
		if (cqe->res >= 0) {
			if (json && seen)
				putchar(',');
			print_state(cqe->res);
			seen++;
		} else {
			code = exit_for(cqe->res);
			fprintf(stderr, "%s: CGROUP_WAIT: %s\n", prog, strerror(-cqe->res));
		}
		zk_cqe_seen(&ring, cqe);
	}
	if (json)
		printf("]}\n");
	close(dfd);
	return code;
}

static int cmd_cgroup(int argc, char **argv, unsigned int timeout_ms, unsigned long count)
{
	int ret;

	if (argc < 1)
		return usage_error("cgroup needs a subcommand");
	ret = ring_up();
	if (ret)
		return ret;
	if (!strcmp(argv[0], "create") || !strcmp(argv[0], "set"))
		return cmd_cgroup_knobs(argc - 1, argv + 1, !strcmp(argv[0], "create"));
	if (!strcmp(argv[0], "attach"))
		return cmd_cgroup_attach(argc - 1, argv + 1);
	if (!strcmp(argv[0], "freeze"))
		return cmd_cgroup_control(ZSYNC_OP_CGROUP_FREEZE, "freeze", argc - 1, argv + 1,
					  timeout_ms);
	if (!strcmp(argv[0], "thaw"))
		return cmd_cgroup_control(ZSYNC_OP_CGROUP_THAW, "thaw", argc - 1, argv + 1,
					  timeout_ms);
	if (!strcmp(argv[0], "kill"))
		return cmd_cgroup_control(ZSYNC_OP_CGROUP_KILL, "kill", argc - 1, argv + 1,
					  timeout_ms);
	if (!strcmp(argv[0], "wait"))
		return cmd_cgroup_wait(argc - 1, argv + 1, count, timeout_ms);
	return usage_error("unknown cgroup subcommand '%s'", argv[0]);
}

/* ---- ns ------------------------------------------------------------------- */

static const char *ns_type_name(unsigned int type)
{
	unsigned int i;

	for (i = 0; i < sizeof(ns_types) / sizeof(ns_types[0]); i++)
		if (ns_types[i].type == type)
			return ns_types[i].name;
	return "?";
}

static int cmd_ns_info(int argc, char **argv)
{
	struct zsync_ns_info info[RING_ENTRIES];
	int fds[RING_ENTRIES], res[RING_ENTRIES], i, ret, worst = EXIT_OK;

	if (argc < 1)
		return usage_error("ns info needs namespace files");
	if (argc > RING_ENTRIES)
		return usage_error("at most %d files", RING_ENTRIES);
	for (i = 0; i < argc; i++) {
		struct zsync_sqe *sqe = sqe_get();

		fds[i] = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			zk_prep_nop_result(sqe, -errno);
		else
			zk_prep_ns_info(sqe, fds[i], &info[i]);
		zk_sqe_set_data64(sqe, i);
	}
	ret = submit_all(res, argc);
	if (ret) {
		fprintf(stderr, "%s: submit: %s\n", prog, strerror(-ret));
		return EXIT_FAILED;
	}
	if (json)
		printf("{\"namespaces\":[");
	for (i = 0; i < argc; i++) {
		if (json) {
			printf("%s{\"path\":", i ? "," : "");
			json_string(stdout, argv[i]);
			putchar(',');
		} else {
			printf("%s: ", argv[i]);
		}
		if (res[i] < 0) {
			print_res(res[i]);
		} else if (json) {
			printf("\"type\":\"%s\",\"ino\":%llu,\"owner_ino\":%llu,\"dev\":\"%u:%u\"",
			       ns_type_name(info[i].type), info[i].ino, info[i].owner_ino,
			       info[i].dev_major, info[i].dev_minor);
		} else {
			printf("%s %llu owner %llu dev %u:%u", ns_type_name(info[i].type),
			       info[i].ino, info[i].owner_ino, info[i].dev_major, info[i].dev_minor);
		}
		printf(json ? "}" : "\n");
		if (exit_for(res[i]) > worst)
			worst = exit_for(res[i]);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	if (json)
		printf("]}\n");
	return worst;
}

/* NS_SOCKET into @argv[0], then SIOCGSKNS: is the socket in that namespace? */
static int cmd_ns_socket_test(int argc, char **argv)
{
	int family = AF_INET, nsfd, res = 0, skns, ret;
	struct stat want, got;
	bool match = false;

	if (argc < 1 || argc > 2)
		return usage_error("ns socket-test needs NETNS [inet|inet6|unix]");
	if (argc == 2) {
		if (!strcmp(argv[1], "inet6"))
			family = AF_INET6;
		else if (!strcmp(argv[1], "unix"))
			family = AF_UNIX;
		else if (strcmp(argv[1], "inet"))
			return usage_error("unknown family '%s'", argv[1]);
	}
	nsfd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || fstat(nsfd, &want)) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
		return EXIT_FAILED;
	}
	zk_prep_ns_socket(sqe_get(), nsfd, family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ret = submit_all(&res, 1);
	if (ret)
		res = ret;
	if (res >= 0) {
		skns = ioctl(res, SIOCGSKNS);
		match = skns >= 0 && !fstat(skns, &got) && got.st_ino == want.st_ino &&
			got.st_dev == want.st_dev;
		if (skns >= 0)
			close(skns);
		close(res);
		res = 0;
	}
	if (json) {
		printf("{\"netns\":");
		json_string(stdout, argv[0]);
		printf(",\"netns_ino\":%llu,", (unsigned long long)want.st_ino);
		print_res(res);
		printf(",\"socket_in_netns\":%s}\n", match ? "true" : "false");
	} else {
		printf("%s (%llu): NS_SOCKET ", argv[0], (unsigned long long)want.st_ino);
		print_res(res);
		printf(res < 0 ? "\n" : match ? ", socket is in that namespace\n" :
		       ", socket is NOT in that namespace\n");
	}
	close(nsfd);
	if (res < 0)
		return exit_for(res);
	return match ? EXIT_OK : EXIT_FAILED;
}

static int cmd_ns(int argc, char **argv)
{
	int ret;

	if (argc < 1)
		return usage_error("ns needs a subcommand");
	ret = ring_up();
	if (ret)
		return ret;
	if (!strcmp(argv[0], "info"))
		return cmd_ns_info(argc - 1, argv + 1);
	if (!strcmp(argv[0], "socket-test"))
		return cmd_ns_socket_test(argc - 1, argv + 1);
	return usage_error("unknown ns subcommand '%s'", argv[0]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long timeout_ms = 0, count = 0;
	int c;

	prog = argv[0];
	/* Options may come anywhere (getopt permutes the arguments). */
	while ((c = getopt_long(argc, argv, "jt:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			if (!parse_uint(optarg, 24 * 3600 * 1000UL, &timeout_ms))
				return usage_error("bad --timeout '%s'", optarg);
			break;
		case 'c':
			if (!parse_uint(optarg, ULONG_MAX, &count))
				return usage_error("bad --count '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("missing COMMAND");
	if (!strcmp(argv[optind], "status") && optind + 1 == argc)
		return cmd_status();
	if (!strcmp(argv[optind], "cgroup"))
		return cmd_cgroup(argc - optind - 1, argv + optind + 1, timeout_ms, count);
	if (!strcmp(argv[optind], "ns"))
		return cmd_ns(argc - optind - 1, argv + optind + 1);
	return usage_error("unknown command '%s'", argv[optind]);
}
