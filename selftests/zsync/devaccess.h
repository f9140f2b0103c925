/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Access to /dev/zsync and the module's security parameters, for tests.
 *
 * /dev/zsync is root:zsync 0660 (udev/60-zsync.rules; the VM's init does
 * the same).  A test that drops to an unprivileged user keeps the device's
 * group, as a user added to group zsync would have it, unless it drops it
 * on purpose to show that others are refused.
 */
#ifndef ZSYNC_SELFTEST_DEVACCESS_H
#define ZSYNC_SELFTEST_DEVACCESS_H

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZT_PARAM_DIR	"/sys/module/zsync/parameters"

/* The group of the device node, or 0 when it has none of its own. */
static inline gid_t zt_dev_gid(void)
{
	const char *dev = getenv("ZSYNC_DEV");
	struct stat st;

	if (stat(dev && *dev ? dev : "/dev/zsync", &st))
		return 0;
	return st.st_gid;
}

/*
 * setgroups() for a process about to drop to an unprivileged user: the
 * device's group only (none when the device belongs to root's group).
 */
static inline int zt_setgroups_dev(void)
{
	gid_t gid = zt_dev_gid();

	return gid ? setgroups(1, &gid) : setgroups(0, NULL);
}

/* Writes @val to module parameter @name: 0 or -errno. */
static inline int zt_param_write(const char *name, const char *val)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), ZT_PARAM_DIR "/%s", name);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* Module parameter @name as text without its newline: 0 or -errno. */
static inline int zt_param_read(const char *name, char *buf, size_t sz)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), ZT_PARAM_DIR "/%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)sz, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * For suites that test CONNECT, ACCEPT and SHUTDOWN themselves: they run
 * with lsm_bypass_net=Y (the module refuses them by default, as they skip
 * the LSM hooks of their syscalls; sec_lsm.c and sec_landlock.c test
 * that), and the binary puts back what it found when it exits.  Nothing
 * happens on a module without the parameter.
 */
static char zt_lsm_bypass_saved[8];
static pid_t zt_lsm_bypass_owner;

static inline void zt_lsm_bypass_restore(void)
{
	if (getpid() == zt_lsm_bypass_owner && zt_lsm_bypass_saved[0])
		zt_param_write("lsm_bypass_net", zt_lsm_bypass_saved);
}

#define ZT_NET_OPS_WITH_LSM_BYPASS()					\
	static void __attribute__((constructor)) zt_lsm_bypass_on(void)\
	{								\
		if (zt_param_read("lsm_bypass_net", zt_lsm_bypass_saved,\
				  sizeof(zt_lsm_bypass_saved)))		\
			return;						\
		zt_lsm_bypass_owner = getpid();				\
		if (zt_param_write("lsm_bypass_net", "Y") == 0)		\
			atexit(zt_lsm_bypass_restore);			\
	}

#endif /* ZSYNC_SELFTEST_DEVACCESS_H */
