// SPDX-License-Identifier: GPL-2.0
/*
 * zsyncctl ns ...: NS_INFO on namespace files, and NS_SOCKET checked with
 * SIOCGSKNS.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "ctl.h"

static const struct {
	unsigned int type;
	const char *name;
} ns_types[] = {
	{ CLONE_NEWCGROUP, "cgroup" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWNS, "mnt" },
	{ CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { 0x80, "time" },
	{ CLONE_NEWUSER, "user" }, { CLONE_NEWUTS, "uts" },
};

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
	if (ret)
		return submit_failed(ret);
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
		int err = errno;

		return ctl_fail(EXIT_FAILED, err, "%s: %s", argv[0], strerror(err));
	}
	zk_prep_ns_socket(sqe_get(), nsfd, family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ret = submit_all(&res, 1);
	close(nsfd);
	if (ret)
		return submit_failed(ret);
	if (res < 0)
		return ctl_fail(exit_for(res), -res, "ns socket-test %s: NS_SOCKET: %s", argv[0],
				strerror(-res));
	skns = ioctl(res, SIOCGSKNS);
	match = skns >= 0 && !fstat(skns, &got) && got.st_ino == want.st_ino &&
		got.st_dev == want.st_dev;
	if (skns >= 0)
		close(skns);
	close(res);
	res = 0;
	if (json) {
		printf("{\"netns\":");
		json_string(stdout, argv[0]);
		printf(",\"netns_ino\":%llu,", (unsigned long long)want.st_ino);
		print_res(res);
		printf(",\"socket_in_netns\":%s}\n", match ? "true" : "false");
	} else {
		printf("%s (%llu): NS_SOCKET ", argv[0], (unsigned long long)want.st_ino);
		print_res(res);
		printf(match ? ", socket is in that namespace\n" :
		       ", socket is NOT in that namespace\n");
	}
	return match ? EXIT_OK : EXIT_FAILED;
}

int cmd_ns(int argc, char **argv)
{
	static const char *const ns_cmds[] = { "info", "socket-test", NULL };
	int ret;

	if (argc < 1)
		return usage_error("ns needs a subcommand");
	if (!ctl_known(argv[0], ns_cmds))
		return usage_error("unknown ns subcommand '%s'", argv[0]);
	ret = ring_up();
	if (ret)
		return ret;
	if (!strcmp(argv[0], "info"))
		return cmd_ns_info(argc - 1, argv + 1);
	if (!strcmp(argv[0], "socket-test"))
		return cmd_ns_socket_test(argc - 1, argv + 1);
	return usage_error("unknown ns subcommand '%s'", argv[0]);
}

