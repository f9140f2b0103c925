// SPDX-License-Identifier: GPL-2.0
/*
 * The executor-layer suite (lib/test/io-suite-*.c) on the zsync backend:
 * every test on each of the five executors (M:N included, with its own
 * tests), against the loaded module.
 * Ops the module does not implement yet run as fallback syscalls, so the
 * suite passes whichever ops have landed.  SKIPs without /dev/zsync.
 */
#include <sys/utsname.h>

#include "helpers.h"
#include "io-suite.h"

/*
 * QEMU's TCG runs this ~20-50x slower than the host (more on a loaded
 * one), and every contended mutex handoff or channel wakeup is a thread
 * wakeup through the kernel: the message and round counts run at 10% of
 * the native suite's (100,000 channel messages instead of 1,000,000).
 */
#define ZT_VM_SCALE	10
#define ZT_EXEC_TIMEOUT	300

/*
 * On the debug kernel (KASAN, lockdep, kmemleak; "-debug" in its release)
 * under TCG, mapping, faulting in and unmapping 10,000 green stacks takes
 * longer than the harness allows one test: 1,000 there, 10,000 elsewhere.
 */
static unsigned int green_threads_here(void)
{
	struct utsname u;

	return uname(&u) == 0 && strstr(u.release, "debug") ? 1000 : 10000;
}

FIXTURE(exec) {
	struct zt_ctx c;
};

FIXTURE_VARIANT(exec) {
	enum zk_executor executor;
};

FIXTURE_VARIANT_ADD(exec, blocking) { .executor = ZK_EXEC_BLOCKING };
FIXTURE_VARIANT_ADD(exec, threads) { .executor = ZK_EXEC_THREADS };
FIXTURE_VARIANT_ADD(exec, green) { .executor = ZK_EXEC_GREEN };
FIXTURE_VARIANT_ADD(exec, stackless) { .executor = ZK_EXEC_STACKLESS };
FIXTURE_VARIANT_ADD(exec, stackless_mn) { .executor = ZK_EXEC_STACKLESS_MN };

FIXTURE_SETUP(exec)
{
	if (!zt_dev_present())
		SKIP(zt_skip_exit(), "%s missing: zsync module not loaded", zt_dev_path());
	memset(&self->c, 0, sizeof(self->c));
	self->c.opts.backend = ZK_BACKEND_ZSYNC;
	self->c.opts.executor = variant->executor;
	self->c.opts.threads = 4;
	self->c.scale = ZT_VM_SCALE;
	self->c.green = green_threads_here();
}

FIXTURE_TEARDOWN(exec)
{
}

static const struct zt_test *find_test(const char *name)
{
	unsigned int i;

	for (i = 0; i < zt_core_count; i++)
		if (!strcmp(zt_core_tests[i].name, name))
			return &zt_core_tests[i];
	for (i = 0; i < zt_prim_count; i++)
		if (!strcmp(zt_prim_tests[i].name, name))
			return &zt_prim_tests[i];
	for (i = 0; i < zt_mn_count; i++)
		if (!strcmp(zt_mn_tests[i].name, name))
			return &zt_mn_tests[i];
	return NULL;
}

static void run_suite_test(struct __test_metadata *_metadata, struct zt_ctx *c,
			   const char *name)
{
	const struct zt_test *t = find_test(name);
	int r;

	ASSERT_NE(NULL, t) TH_LOG("no suite test '%s'", name);
	r = t->fn(c);
	if (r == ZT_SKIP)
		SKIP(return, "%s", c->msg);
	ASSERT_EQ(ZT_PASS, r) TH_LOG("%s", c->msg);
}

#define SUITE_TEST(name)						\
	TEST_F_TIMEOUT(exec, name, ZT_EXEC_TIMEOUT)			\
	{								\
		run_suite_test(_metadata, &self->c, #name);		\
	}

SUITE_TEST(backend)
SUITE_TEST(sleep)
SUITE_TEST(file_rw)
SUITE_TEST(pipe_wait)
SUITE_TEST(socket_echo)
SUITE_TEST(async_await)
SUITE_TEST(concurrent_sleeps)
SUITE_TEST(cancel_op_future)
SUITE_TEST(cancel_recv)
SUITE_TEST(cancel_task)
SUITE_TEST(cancel_tree)
SUITE_TEST(cancel_step)
SUITE_TEST(green_10k)
SUITE_TEST(chan_bounded)
SUITE_TEST(chan_unbounded)
/* The full million on the pool, whose rings and cross-thread wakeups it
 * exercises most; 10% on the other executors. */
TEST_F_TIMEOUT(exec, chan_million, ZT_EXEC_TIMEOUT)
{
	if (variant->executor == ZK_EXEC_THREADS)
		self->c.scale = 100;
	run_suite_test(_metadata, &self->c, "chan_million");
}
SUITE_TEST(chan_rendezvous)
SUITE_TEST(chan_close_wakes)
SUITE_TEST(mutex)
SUITE_TEST(mutex_starve)
SUITE_TEST(cond)
SUITE_TEST(semaphore)
SUITE_TEST(wait_group)
SUITE_TEST(select_basic)
SUITE_TEST(select_stream)
/* M:N only (the others skip): its workers' rings are the module's here. */
SUITE_TEST(mn_chan_million)
SUITE_TEST(mn_spread)
SUITE_TEST(mn_cancel_across)
SUITE_TEST(mn_stress)

TEST_HARNESS_MAIN
