/* SPDX-License-Identifier: MIT */
/*
 * io-suite.h - the executor-layer test suite, shared by the native runner
 * (lib/test/zk-io-test.c: io_uring and blocking backends, under ASan+UBSan
 * and TSan) and the kselftest (selftests/zsync/executors.c: the zsync
 * backend in QEMU).  Each test builds its own runtime from the context's
 * options, so one test body runs on every backend and executor.
 */
#ifndef ZK_IO_SUITE_H
#define ZK_IO_SUITE_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "zsync-k-io.h"

struct zt_ctx {
	struct zk_io_opts opts;	/* backend and executor under test */
	unsigned int scale;	/* percent of the full message counts (100) */
	unsigned int green;	/* green threads for green_10k (0: 10,000) */
	char msg[256];		/* why it failed or skipped */
};

#define ZT_PASS	0
#define ZT_FAIL	(-1)
#define ZT_SKIP	1

#define ZT_CHECK(c, cond, ...) do {					\
	if (!(cond)) {							\
		int n_ = snprintf((c)->msg, sizeof((c)->msg), "%s:%d: ",	\
				  __func__, __LINE__);			\
		snprintf((c)->msg + n_, sizeof((c)->msg) - (size_t)n_,	\
			 __VA_ARGS__);					\
		return ZT_FAIL;						\
	}								\
} while (0)

#define ZT_SKIP_IF(c, cond, ...) do {					\
	if (cond) {							\
		snprintf((c)->msg, sizeof((c)->msg), __VA_ARGS__);	\
		return ZT_SKIP;						\
	}								\
} while (0)

struct zt_test {
	const char *name;
	int (*fn)(struct zt_ctx *c);
};

extern const struct zt_test zt_core_tests[];
extern const unsigned int zt_core_count;
extern const struct zt_test zt_prim_tests[];
extern const unsigned int zt_prim_count;
/* io-suite-dump.c: native runner only (it needs -rdynamic to name frames) */
extern const struct zt_test zt_dump_tests[];
extern const unsigned int zt_dump_count;
/* io-suite-mn.c: the M:N executor under load (native runner) */
extern const struct zt_test zt_mn_tests[];
extern const unsigned int zt_mn_count;

/*
 * A concurrent peer: a task on the thread pool and green executors; an OS
 * thread with a runtime of its own (blocking executor, same backend) on
 * the blocking and stackless (one-thread and M:N) executors, whose direct-style tasks run
 * inline.  Primitives and tokens work across runtimes.
 */
struct zt_peer {
	struct zk_future *f;
	pthread_t th;
	zk_task_fn fn;
	void *arg;
	struct zk_io_opts opts;
	int64_t res;
	int err;
};

int zt_peer_start(struct zt_ctx *c, struct zk_io *io, struct zt_peer *p,
		  zk_task_fn fn, void *arg);
int64_t zt_peer_join(struct zk_io *io, struct zt_peer *p);
int zt_io(struct zt_ctx *c, struct zk_io **io);
int64_t zt_now_ms(void);
bool zt_concurrent_tasks(const struct zt_ctx *c);
/* Stackless executors: zk_async_step() tasks suspend, one thread or M:N. */
bool zt_steps(const struct zt_ctx *c);
unsigned int zt_scaled(const struct zt_ctx *c, unsigned int full);

#endif /* ZK_IO_SUITE_H */
