// SPDX-License-Identifier: GPL-2.0
/*
 * Module unload: refused while any ring is open (by fd or by a mapping),
 * allowed once the last is gone even with timers that were in flight, and
 * the module is loaded again so later runs still have it.  Modules that
 * use zsync's symbols (drivers such as zsync_edu) are unloaded first and
 * loaded again after.  Named zz_ so the runner, going in name order, runs
 * it last.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "helpers.h"
#include "devaccess.h"

#define MODULE_NAME	"zsync"
#define MODULE_SYSFS	"/sys/module/zsync"
#define MODULE_KO	"/lib/modules/zsync.ko"

static const char *module_ko(void)
{
	const char *ko = getenv("ZSYNC_KO");

	return ko && *ko ? ko : MODULE_KO;
}

static bool module_loaded(void)
{
	return access(MODULE_SYSFS, F_OK) == 0;
}

/* delete_module(2) without waiting: 0 or -errno. */
static int rmmod(void)
{
	return syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK) ? -errno : 0;
}

/*
 * The module's current parameters as "name=value ..." so a reload keeps
 * what the runner loaded it with.
 */
static void module_params(char *buf, size_t len)
{
	DIR *d = opendir(MODULE_SYSFS "/parameters");
	struct dirent *de;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300], val[128];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), MODULE_SYSFS "/parameters/%s", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(val, sizeof(val), f)) {
			val[strcspn(val, "\n")] = '\0';
			if (strcmp(val, "(null)"))
				used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
							 "%s%s=%s", used ? " " : "",
							 de->d_name, val);
		}
		fclose(f);
	}
	closedir(d);
	if (used >= len)
		buf[0] = '\0';	/* too long: load with defaults */
}

/* finit_module(2) of @ko with @params: 0 or -errno. */
static int insmod_file(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int insmod(const char *params)
{
	return insmod_file(module_ko(), params);
}

#define MAX_HOLDERS	8

/* Modules using zsync's symbols, from /sys/module/zsync/holders. */
static unsigned int module_holders(char names[][256])
{
	DIR *d = opendir(MODULE_SYSFS "/holders");
	struct dirent *de;
	unsigned int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < MAX_HOLDERS) {
		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) < 256)
			memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	return n;
}

/* The .ko of a holder: next to zsync.ko ("" if the path does not fit). */
static void holder_ko(const char *name, char *path, size_t len)
{
	const char *ko = module_ko(), *slash = strrchr(ko, '/');
	int dir = slash ? (int)(slash - ko) : 1;
	int n = snprintf(path, len, "%.*s/%s.ko", dir, slash ? ko : ".", name);

	if (n < 0 || (size_t)n >= len)
		path[0] = '\0';
}

/* rmmod, retrying on -EAGAIN for up to 2 s; returns the last result. */
static int rmmod_within_2s(struct __test_metadata *_metadata)
{
	int64_t start = zt_mono_ns();
	unsigned int retries = 0;
	int ret = rmmod();

	while (ret == -EAGAIN && zt_ms_since(start) < 2000) {
		zt_sleep_ms(10);
		retries++;
		ret = rmmod();
	}
	if (!ret && retries)
		TH_LOG("note: the module stayed in use %" PRId64 " ms after the last ring closed",
		       zt_ms_since(start));
	return ret;
}

/*
 * The new node is root:root, as devtmpfs makes it; give it back the group
 * that udev (init in the VM) had given it, as udev would again.
 */
static void restore_node(gid_t gid)
{
	if (gid && chown(zt_dev_path(), (uid_t)-1, gid))
		fprintf(stderr, "# chgrp %s: %s\n", zt_dev_path(), strerror(errno));
}

FIXTURE(module) {
	gid_t dev_gid;		/* the node's group before the unload */
	char params[1024];
	char holders[MAX_HOLDERS][256];
	unsigned int nr_holders;
};

FIXTURE_SETUP(module)
{
	ZT_REQUIRE_DEV();
	if (!module_loaded())
		SKIP(zt_skip_exit(), "%s missing: zsync is not a loaded module", MODULE_SYSFS);
	if (access(module_ko(), R_OK))
		SKIP(zt_skip_exit(), "%s not readable: could not load it back", module_ko());
	module_params(self->params, sizeof(self->params));
	self->dev_gid = zt_dev_gid();
	self->nr_holders = module_holders(self->holders);
	for (unsigned int i = 0; i < self->nr_holders; i++) {
		char ko[PATH_MAX];
		int ret;

		holder_ko(self->holders[i], ko, sizeof(ko));
		if (access(ko, R_OK))
			SKIP(zt_skip_exit(), "%s uses zsync and has no readable .ko next to zsync's",
			     self->holders[i]);
		ret = syscall(SYS_delete_module, self->holders[i], O_NONBLOCK) ? -errno : 0;
		ASSERT_EQ(0, ret) TH_LOG("rmmod %s, which uses zsync: %s", self->holders[i],
					 zt_err(ret));
	}
}

/* Whatever happened, leave the module loaded for whoever runs next. */
FIXTURE_TEARDOWN(module)
{
	int64_t start = zt_mono_ns();
	int ret = 0;

	if (module_loaded())
		goto holders;
	ret = insmod(self->params);
	EXPECT_EQ(0, ret) TH_LOG("reloading %s (\"%s\"): %s", module_ko(), self->params,
				 zt_err(ret));
	while (!zt_dev_present() && zt_ms_since(start) < 2000)
		zt_sleep_ms(10);
	EXPECT_TRUE(zt_dev_present()) TH_LOG("%s did not reappear within 2 s of reloading",
					     zt_dev_path());
	restore_node(self->dev_gid);
holders:
	for (unsigned int i = 0; i < self->nr_holders; i++) {
		char ko[PATH_MAX];

		holder_ko(self->holders[i], ko, sizeof(ko));
		ret = insmod_file(ko, "");
		EXPECT_EQ(0, ret) TH_LOG("reloading %s: %s", ko, zt_err(ret));
	}
}

/* A ring with short timeouts and a guarded chain in flight. */
static void busy_ring(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	unsigned int i;

	zt_ring(_metadata, ring, 16, 0);
	for (i = 0; i < 10; i++)
		zt_timeout(_metadata, ring, i, 20 + 5 * i, 0, 0);
	zt_linked(zt_timeout(_metadata, ring, 10, 10000, 0, 0));
	zt_link_timeout(_metadata, ring, 11, 30, 0);
	zt_submit(_metadata, ring, 12);
}

/* Reloading a driver that uses zsync takes ~30 s on the debug kernel. */
TEST_F_TIMEOUT(module, rmmod_refused_while_a_ring_is_open_then_reload, 180)
{
	struct zk_ring ring;
	int64_t start;
	int ret;

	busy_ring(_metadata, &ring);
	ret = rmmod();
	if (ret == -EPERM)
		SKIP(zk_ring_exit(&ring); return, "delete_module: no CAP_SYS_MODULE");
	EXPECT_EQ(-EWOULDBLOCK, ret)
		TH_LOG("delete_module with a ring open: expected -EWOULDBLOCK (-EAGAIN), got %s",
		       zt_err(ret));
	ASSERT_TRUE(module_loaded()) TH_LOG("the module was unloaded under an open ring");

	/* The fd closed but the mappings alive: still in use. */
	close(ring.fd);
	ring.fd = -1;
	ret = rmmod();
	EXPECT_EQ(-EWOULDBLOCK, ret)
		TH_LOG("delete_module with only the ring's mappings left: expected -EWOULDBLOCK, got %s",
		       zt_err(ret));
	ASSERT_TRUE(module_loaded());

	/* Last reference gone, timers still pending a moment ago. */
	zk_ring_exit(&ring);
	ret = rmmod_within_2s(_metadata);
	ASSERT_EQ(0, ret) TH_LOG("delete_module after the last ring closed: %s", zt_err(ret));
	EXPECT_FALSE(module_loaded());
	/* Where a stray timer would now run freed module text. */
	zt_sleep_ms(200);

	ret = insmod(self->params);
	ASSERT_EQ(0, ret) TH_LOG("finit_module(%s, \"%s\"): %s", module_ko(), self->params,
				 zt_err(ret));
	start = zt_mono_ns();
	while (!zt_dev_present() && zt_ms_since(start) < 2000)
		zt_sleep_ms(10);
	ASSERT_TRUE(zt_dev_present()) TH_LOG("%s did not reappear within 2 s", zt_dev_path());
	restore_node(self->dev_gid);

	/* The reloaded module works. */
	zt_ring(_metadata, &ring, 8, 0);
	zt_nop(_metadata, &ring, 0x1d);
	zt_submit(_metadata, &ring, 1);
	zt_reap(_metadata, &ring, NULL, 1, ZT_PROMPT_MS);
	zk_ring_exit(&ring);
}

TEST_HARNESS_MAIN
