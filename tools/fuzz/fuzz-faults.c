// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz --faults: kernel fault injection for the fuzzer's own tasks.
 *
 * failslab and fail_page_alloc (and fail_usercopy where the kernel has it)
 * are armed with task-filter, so only tasks whose make-it-fail is set (the
 * episode processes, fz_faults_enable_self()) see failures, and with a
 * stack filter on the module's address range, so only allocations the
 * module makes (directly, or through what it calls) fail: the fuzzer's own
 * pipes and mmaps keep working, and every failure tests an error path of
 * ours.  Which allocation sites actually failed is counted with ftrace
 * histogram triggers on the kmem events (ptr == 0), keyed by call site.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define DBG "/sys/kernel/debug"
#define FZ_FAULT_BUDGET 1000000000L	/* "times": counts down per injected failure */

static const char *const fault_dirs[] = { "failslab", "fail_page_alloc", "fail_usercopy" };
static const char *const kmem_events[] = {
	"kmalloc", "kmem_cache_alloc", "kmalloc_node", "kmem_cache_alloc_node",
};
static const char hist_trigger[] = "hist:keys=call_site.sym:vals=hitcount:sort=hitcount.descending if ptr == 0";

static char tracing[64];
static bool armed[3];
static bool stack_filter;	/* CONFIG_FAULT_INJECTION_STACKTRACE_FILTER */

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[256];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* The module's core range from /proc/modules: "zsync SIZE ... 0xADDR". */
static int module_range(unsigned long *start, unsigned long *end)
{
	char line[512], name[64];
	unsigned long size, addr;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %*s %*s %*s %lx", name, &size, &addr) == 3 &&
		    !strcmp(name, "zsync") && addr) {
			fclose(f);
			*start = addr;
			*end = addr + size;
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/*
 * A line in the kernel log: between "faults armed" and "faults disarmed"
 * tools/testing/scan-splats.sh takes the stack of an allocation-failure
 * report (warn_alloc(), the kernel's answer to a failure we injected) as
 * expected, not as a splat.
 */
static void kmsg_mark(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, msg, strlen(msg));
		close(fd);
	}
}

static void find_tracing(void)
{
	if (!access("/sys/kernel/tracing/events/kmem", F_OK))
		snprintf(tracing, sizeof(tracing), "/sys/kernel/tracing");
	else if (!access(DBG "/tracing/events/kmem", F_OK))
		snprintf(tracing, sizeof(tracing), DBG "/tracing");
	/*
	 * Else every trigger set or cleared also hooks sched_switch to record
	 * comms: a live patch of __schedule(), which under QEMU's TCG can
	 * leave a CPU looping on the patch's int3 (selftests/zsync/trace.c).
	 */
	if (tracing[0])
		write_str(tracing, "options/record-cmd", "0");
}

static bool hist_ok;	/* CONFIG_HIST_TRIGGERS: a trigger was accepted */

static void set_triggers(bool on)
{
	char dir[160], val[sizeof(hist_trigger) + 2];
	size_t i;

	if (!tracing[0])
		return;
	snprintf(val, sizeof(val), "%s%s", on ? "" : "!", hist_trigger);
	for (i = 0; i < sizeof(kmem_events) / sizeof(kmem_events[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/events/kmem/%s", tracing, kmem_events[i]);
		if (!access(dir, F_OK) && !write_str(dir, "trigger", val) && on)
			hist_ok = true;
	}
}

/*
 * Arm the injectors.  Returns how many were armed, or -errno when the
 * kernel has none (no CONFIG_FAULT_INJECTION_DEBUG_FS or no debugfs).
 */
int fz_faults_arm(void)
{
	unsigned long start = 0, end = 0;
	char dir[128], buf[32];
	size_t i;
	int n = 0, err = module_range(&start, &end);

	if (err)
		return err;
	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		snprintf(dir, sizeof(dir), DBG "/%s", fault_dirs[i]);
		if (access(dir, F_OK))
			continue;
		write_str(dir, "probability", "0");
		write_str(dir, "interval", "1");
		snprintf(buf, sizeof(buf), "%ld", FZ_FAULT_BUDGET);
		write_str(dir, "times", buf);
		write_str(dir, "space", "0");
		write_str(dir, "verbose", "0");
		write_str(dir, "task-filter", "Y");
		write_str(dir, "ignore-gfp-wait", "N");
		write_str(dir, "ignore-gfp-highmem", "N");
		/*
		 * Order-0 pages are what user page faults take: failing them
		 * makes the fuzzer's own memory fail, not the module.
		 */
		write_str(dir, "min-order", "1");
		snprintf(buf, sizeof(buf), "%#lx", start);
		stack_filter = !write_str(dir, "require-start", buf);
		snprintf(buf, sizeof(buf), "%#lx", end);
		write_str(dir, "require-end", buf);
		write_str(dir, "stacktrace-depth", "32");
		/* Without the filter every syscall of ours can fail: go easier. */
		if (!write_str(dir, "probability", stack_filter ? "5" : "2")) {
			armed[i] = true;
			n++;
		}
	}
	if (!n)
		return -ENOENT;
	find_tracing();
	set_triggers(true);
	kmsg_mark("zsync-fuzz: faults armed");
	return n;
}

/* For the calling thread only (and what it forks or spawns later). */
void fz_faults_enable_self(void)
{
	write_str("/proc/thread-self", "make-it-fail", "1");
}

void fz_faults_disarm(void)
{
	char dir[128];
	size_t i;

	kmsg_mark("zsync-fuzz: faults disarmed");

	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		if (!armed[i])
			continue;
		snprintf(dir, sizeof(dir), DBG "/%s", fault_dirs[i]);
		write_str(dir, "probability", "0");
	}
}

/* Is SYM (as a hist key prints it) one of the module's symbols? */
static bool module_symbol(const char *sym)
{
	char line[512], name[256];
	FILE *f = fopen("/proc/kallsyms", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "[zsync]") && sscanf(line, "%*s %*s %255s", name) == 1 &&
			!strcmp(name, sym);
	fclose(f);
	return found;
}

static long injected(const char *name)
{
	char path[128];
	long left = -1;
	FILE *f;

	snprintf(path, sizeof(path), DBG "/%s/times", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &left) != 1)
		left = -1;
	fclose(f);
	return left < 0 ? -1 : FZ_FAULT_BUDGET - left;
}

/* Print how many failures were injected and at which sites, the module's marked. */
void fz_faults_report(FILE *out)
{
	char path[200], line[512], sym[256];
	unsigned long hits, total = 0, ours = 0;
	size_t i;

	fprintf(out, "# faults: injected:");
	for (i = 0; i < sizeof(fault_dirs) / sizeof(fault_dirs[0]); i++) {
		if (armed[i])
			fprintf(out, " %s=%ld", fault_dirs[i], injected(fault_dirs[i]));
		else
			fprintf(out, " %s=absent", fault_dirs[i]);
	}
	fprintf(out, "; %s\n", stack_filter ? "only allocations under the module's code (stack filter)" :
		"no stack filter in this kernel: any allocation of the fuzzer's threads, 2%");
	if (!tracing[0] || !hist_ok) {
		fprintf(out, "# faults: no hist triggers in this kernel: sites not counted (see ENOMEM per op above)\n");
		return;
	}
	for (i = 0; i < sizeof(kmem_events) / sizeof(kmem_events[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/events/kmem/%s/hist", tracing, kmem_events[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *s = strstr(line, "call_site: [");
			char *h = strstr(line, "hitcount:");

			if (!s || !h || sscanf(strchr(s, ']') + 1, " %255s", sym) != 1 ||
			    sscanf(h, "hitcount: %lu", &hits) != 1)
				continue;
			total += hits;
			if (module_symbol(sym))
				ours += hits;
			fprintf(out, "# faults: %-22s %-40s %6lu failed%s\n", kmem_events[i], sym, hits,
				module_symbol(sym) ? "  (zsync)" : "");
		}
		fclose(f);
	}
	fprintf(out, "# faults: %lu allocation(s) failed, %lu of them at a zsync call site\n",
		total, ours);
	set_triggers(false);
}
