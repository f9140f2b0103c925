// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-soak: small helpers (time, names, random numbers, the data
 * pattern) and the state of the module and the system that the parent
 * compares before and after the run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "soak.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif

#define PARAM_DIR	"/sys/module/zsync/parameters"

static const char *dev_path(void)
{
	const char *dev = getenv("ZSYNC_DEV");

	return dev && *dev ? dev : "/dev/zsync";
}

/* ------------------------------------------------------------------ */
/* Time, names, random numbers, pattern                                */
/* ------------------------------------------------------------------ */

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

struct zsync_timespec ns_to_zts(int64_t ns)
{
	struct zsync_timespec ts;

	if (ns < 0)
		ns = 0;
	ts.tv_sec = ns / NSEC_PER_SEC;
	ts.tv_nsec = ns % NSEC_PER_SEC;
	return ts;
}

const char *errname(int err)
{
	static char buf[4][24];
	static unsigned int next;
	char *b;

	if (err < 0)
		err = -err;
	switch (err) {
	case 0:			return "0";
	case EPERM:		return "EPERM";
	case ENOENT:		return "ENOENT";
	case ESRCH:		return "ESRCH";
	case EINTR:		return "EINTR";
	case EIO:		return "EIO";
	case EBADF:		return "EBADF";
	case ECHILD:		return "ECHILD";
	case EAGAIN:		return "EAGAIN";
	case ENOMEM:		return "ENOMEM";
	case EACCES:		return "EACCES";
	case EFAULT:		return "EFAULT";
	case EBUSY:		return "EBUSY";
	case EEXIST:		return "EEXIST";
	case ENODEV:		return "ENODEV";
	case EINVAL:		return "EINVAL";
	case EMFILE:		return "EMFILE";
	case ENOSPC:		return "ENOSPC";
	case EPIPE:		return "EPIPE";
	case ENOTSOCK:		return "ENOTSOCK";
	case EOPNOTSUPP:	return "EOPNOTSUPP";
	case ECONNRESET:	return "ECONNRESET";
	case ENOTCONN:		return "ENOTCONN";
	case ETIME:		return "ETIME";
	case ECANCELED:		return "ECANCELED";
	case EALREADY:		return "EALREADY";
	case EOVERFLOW:		return "EOVERFLOW";
	case EBADFD:		return "EBADFD";
	case ECONNREFUSED:	return "ECONNREFUSED";
	case EINPROGRESS:	return "EINPROGRESS";
	}
	b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]), "errno %d", err);
	return b;
}

const char *opname(unsigned int op)
{
	const char *name = zk_op_name(op);

	return name ? name : "op?";
}

/* splitmix64's finalizer: every input bit affects every output bit. */
uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t rng_next(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return mix64(*state);
}

uint32_t rng_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(state) % ((uint64_t)hi - lo + 1));
}

/*
 * Byte @off of stream @seed.  Each 8-byte block is a hash of the stream
 * and the block number, so a shifted, repeated or foreign piece of data
 * never matches (a short period would hide an offset error).
 */
static uint64_t pat_block(uint64_t seed, uint64_t block)
{
	return mix64(seed ^ (block * 0x9e3779b97f4a7c15ULL));
}

void pat_fill(uint8_t *buf, uint64_t seed, uint64_t off, size_t len)
{
	uint64_t block = ~0ULL, v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (o >> 3 != block) {
			block = o >> 3;
			v = pat_block(seed, block);
		}
		buf[i] = (uint8_t)(v >> ((o & 7) * 8));
	}
}

long pat_check(const uint8_t *buf, uint64_t seed, uint64_t off, size_t len)
{
	uint64_t block = ~0ULL, v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (o >> 3 != block) {
			block = o >> 3;
			v = pat_block(seed, block);
		}
		if (buf[i] != (uint8_t)(v >> ((o & 7) * 8)))
			return (long)i;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Module state                                                        */
/* ------------------------------------------------------------------ */

/* The debug kernel's release is "...-zsync-debug"; helpers.h agrees. */
bool debug_kernel(void)
{
	struct utsname u;

	return uname(&u) == 0 && strstr(u.release, "debug");
}

long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zsync/refcnt", "re");
	long n;

	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &n) != 1)
		n = -EIO;
	fclose(f);
	return n;
}

/* One ioctl on a fresh open of the device, closed again. */
static int dev_ioctl(unsigned long cmd, void *arg)
{
	int fd = open(dev_path(), O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, cmd, arg) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int zsync_stats(struct zsync_stats *st)
{
	memset(st, 0, sizeof(*st));
	return dev_ioctl(ZSYNC_IOC_STATS, st);
}

int zsync_probe(struct zsync_probe *p)
{
	memset(p, 0, sizeof(*p));
	return dev_ioctl(ZSYNC_IOC_PROBE, p);
}

int param_read(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAM_DIR "/%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int param_write(const char *name, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), PARAM_DIR "/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Slab and meminfo                                                    */
/* ------------------------------------------------------------------ */

/*
 * SLUB counts the free objects of a CPU's own slabs as active in
 * /proc/slabinfo; writing "shrink" flushes those slabs back first, so
 * the count then means objects really allocated.
 */
static void slab_shrink(const char *cache)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", cache);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0) {
		/* Not every cache can be shrunk; the count is then coarser. */
	}
	close(fd);
}

/* Every cache: makes SUnreclaim mean live objects, not cached slabs. */
void slab_shrink_all(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_type == DT_DIR)
			slab_shrink(de->d_name);
	closedir(d);
}

/*
 * Active objects of @cache in /proc/slabinfo (after a shrink), or -errno
 * with the reason in @why: -EACCES unreadable, -ENOENT not listed (SLUB
 * merged it into a cache of the same size and flags; its count would
 * mix in every other user of that cache).
 */
long slab_active(const char *cache, char *why, size_t whylen)
{
	char line[512], name[128], target[256], link[300];
	long active = -ENOENT, n;
	ssize_t tl;
	FILE *f;

	slab_shrink(cache);
	f = fopen("/proc/slabinfo", "re");
	if (!f) {
		snprintf(why, whylen, "/proc/slabinfo: %s", errname(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %ld", name, &n) == 2 && !strcmp(name, cache)) {
			active = n;
			break;
		}
	}
	fclose(f);
	if (active >= 0)
		return active;
	snprintf(link, sizeof(link), "/sys/kernel/slab/%s", cache);
	tl = readlink(link, target, sizeof(target) - 1);
	if (tl > 0) {
		target[tl] = '\0';
		snprintf(why, whylen, "%s is merged into %s (SLUB cache merging)",
			 cache, strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	} else {
		snprintf(why, whylen, "%s is not in /proc/slabinfo", cache);
	}
	return -ENOENT;
}

long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long kb = -ENOENT;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			if (sscanf(line + klen + 1, " %ld", &kb) != 1)
				kb = -EIO;
			break;
		}
	}
	fclose(f);
	return kb;
}

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

/* The state letter of /proc/PID/stat (R, S, D, Z, ...), 0 if gone. */
char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold anything, ")" included: take the last. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static void read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/*
 * /proc/PID/stack ("[<0>] func+0x1/0x2" per line, innermost first) as
 * "func < caller < ...", for one log line.
 */
static void stack_line(const char *stack, char *out, size_t len)
{
	const char *p = stack, *name, *end;
	size_t n = 0;

	out[0] = '\0';
	while ((name = strstr(p, "] ")) && n + 4 < len) {
		name += 2;
		end = name + strcspn(name, "+\n");
		n += (size_t)snprintf(out + n, len - n, "%s%.*s", n ? " < " : "",
				      (int)(end - name), name);
		p = end;
	}
}

/* "state D, wchan foo, stack: a < b < c" for a stuck process. */
void proc_describe(pid_t pid, char *buf, size_t len)
{
	char path[64], wchan[128], stack[2048], line[512];
	char state = proc_state(pid);

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	read_small(path, wchan, sizeof(wchan));
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	read_small(path, stack, sizeof(stack));
	stack_line(stack, line, sizeof(line));
	snprintf(buf, len, "state %c, wchan %s, stack: %s", state ? state : '?',
		 wchan[0] ? wchan : "?", line[0] ? line : "unreadable");
}

int pidfd_open_pid(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* ------------------------------------------------------------------ */
/* cgroup2                                                             */
/* ------------------------------------------------------------------ */

/*
 * The cgroup part runs beneath one cgroup made for the run, SOAK_CG_ROOT/
 * zsync-soak.PID, with memory and pids enabled for its children.  Its own
 * memcg lives for the whole run, so memcg_sockets_enabled_key (one count
 * per memcg) never drops to zero and comes back while TCP runs: each such
 * flip patches the kernel's jump labels, and under TCP load that crashes
 * the QEMU TCG test VM ("Oops: int3" in tcp_grow_window(),
 * __sk_mem_reduce_allocated(); reproduced without zsync by creating and
 * removing cgroups next to loopback TCP traffic).
 *
 * Usable means: cgroup2 at SOAK_CG_ROOT, and a child of the run's cgroup
 * can be made, read and unfrozen.
 */
bool cgroup_setup(struct soak_cfg *cfg)
{
	char dir[128];
	struct statfs sfs;
	size_t len = sizeof(cfg->cgroup_why);

	if (statfs(SOAK_CG_ROOT, &sfs) < 0) {
		snprintf(cfg->cgroup_why, len, "statfs %s: %s", SOAK_CG_ROOT, errname(errno));
		return false;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(cfg->cgroup_why, len, "%s is not a cgroup2 mount", SOAK_CG_ROOT);
		return false;
	}
	snprintf(cfg->cg_base, sizeof(cfg->cg_base), SOAK_CG_ROOT "/" SOAK_CG_PREFIX "%d",
		 (int)getpid());
	if (mkdir(cfg->cg_base, 0755) < 0) {
		snprintf(cfg->cgroup_why, len, "mkdir %s: %s", cfg->cg_base, errname(errno));
		cfg->cg_base[0] = '\0';
		return false;
	}
	/* Without the controllers the cycles run, only without limits. */
	cfg->cg_limits = cg_write(cfg->cg_base, "cgroup.subtree_control", "+memory +pids") == 0;
	snprintf(dir, sizeof(dir), "%s/probe", cfg->cg_base);
	if (mkdir(dir, 0755) < 0) {
		snprintf(cfg->cgroup_why, len, "mkdir %s: %s", dir, errname(errno));
	} else if (cg_read_state(dir) < 0 || cg_write(dir, "cgroup.freeze", "0") < 0) {
		snprintf(cfg->cgroup_why, len, "%s has no usable cgroup.events/cgroup.freeze", dir);
		rmdir(dir);
	} else if (rmdir(dir) < 0) {
		snprintf(cfg->cgroup_why, len, "rmdir %s: %s", dir, errname(errno));
	} else {
		return true;
	}
	rmdir(cfg->cg_base);
	cfg->cg_base[0] = '\0';
	return false;
}

/* Remove the run's cgroup; every cgroup still beneath it is reported. */
int cgroup_teardown(const struct soak_cfg *cfg)
{
	char sub[512];
	struct dirent *de;
	int n = 0, ret;
	DIR *d;

	if (!cfg->cg_base[0])
		return 0;
	d = opendir(cfg->cg_base);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", cfg->cg_base, de->d_name);
		ret = cg_destroy(sub, cfg->settle_ns);
		printf("# soak: cgroup %s left behind (removing it: %s)\n", sub,
		       ret ? errname(ret) : "done");
		n++;
	}
	if (d)
		closedir(d);
	if (rmdir(cfg->cg_base) < 0) {
		printf("# soak: rmdir %s: %s\n", cfg->cg_base, errname(errno));
		n++;
	}
	return n;
}

int cg_read_state(const char *dir)
{
	char path[256], buf[256], *p;
	int fd, populated = -1, frozen = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "populated ");
	if (p)
		populated = atoi(p + 10);
	p = strstr(buf, "frozen ");
	if (p)
		frozen = atoi(p + 7);
	if (populated < 0 || frozen < 0)
		return -EIO;
	return (populated ? ZSYNC_CGROUP_POPULATED : 0) | (frozen ? ZSYNC_CGROUP_FROZEN : 0);
}

int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Wait until @dir reports populated 0: cgroupfs signals every change of
 * cgroup.events with POLLPRI, so poll() for it and read again, up to
 * @settle_ns.
 */
static int cg_wait_empty(const char *dir, int64_t settle_ns)
{
	int64_t deadline = now_ns() + settle_ns;
	char path[256], buf[256];
	struct pollfd p;
	int state, ret = -ETIMEDOUT;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	p.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p.fd < 0)
		return -errno;
	p.events = POLLPRI;
	for (;;) {
		/* Reading re-arms the notification; then judge what was read. */
		if (pread(p.fd, buf, sizeof(buf) - 1, 0) < 0) {
			ret = -errno;
			break;
		}
		state = cg_read_state(dir);
		if (state >= 0 && !(state & ZSYNC_CGROUP_POPULATED)) {
			ret = 0;
			break;
		}
		if (now_ns() >= deadline)
			break;
		poll(&p, 1, (int)((deadline - now_ns()) / NSEC_PER_MSEC) + 1);
	}
	close(p.fd);
	return ret;
}

int cg_destroy(const char *dir, int64_t settle_ns)
{
	int ret;

	if (access(dir, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	/* cgroup.kill reaches frozen processes too; thaw anyway, for rmdir. */
	cg_write(dir, "cgroup.freeze", "0");
	ret = cg_write(dir, "cgroup.kill", "1");
	if (ret < 0)
		return ret;
	ret = cg_wait_empty(dir, settle_ns);
	if (ret < 0)
		return ret;
	return rmdir(dir) < 0 ? -errno : 0;
}
