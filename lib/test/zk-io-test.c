// SPDX-License-Identifier: MIT
/*
 * Native runner of the executor-layer suite: every test on every executor
 * for each backend named on the command line (default: io_uring and
 * blocking, which need no module).  Prints one "ok"/"not ok" line per
 * test, like KTAP, and exits non-zero if any failed.
 *
 *   zk-io-test [-b BACKEND]... [-e EXECUTOR]... [-t TEST]... [-s PERCENT]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io-suite.h"

#define MAX_SEL	16

struct sel {
	const char *v[MAX_SEL];
	int n;
};

static bool selected(const struct sel *s, const char *name)
{
	int i;

	if (!s->n)
		return true;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static int run_one(const struct zt_test *t, struct zt_ctx *c, unsigned int *num,
		   unsigned int *tot)
{
	int64_t t0 = zt_now_ms();
	int r;

	c->msg[0] = 0;
	r = t->fn(c);
	(*num)++;
	printf("%s %u %s/%s/%s (%lld ms)%s%s\n", r == ZT_FAIL ? "not ok" : "ok", *num,
	       zk_backend_name(c->opts.backend), zk_executor_name(c->opts.executor),
	       t->name, (long long)(zt_now_ms() - t0), r == ZT_SKIP ? " # SKIP " : "",
	       r == ZT_SKIP ? c->msg : "");
	if (r == ZT_FAIL)
		printf("#   %s\n", c->msg);
	fflush(stdout);
	tot[r == ZT_FAIL ? 1 : r == ZT_SKIP ? 2 : 0]++;
	return r;
}

static void run_suite(struct zt_ctx *c, const struct sel *tests, unsigned int *num,
		      unsigned int *tot)
{
	unsigned int i;

	for (i = 0; i < zt_core_count; i++)
		if (selected(tests, zt_core_tests[i].name))
			run_one(&zt_core_tests[i], c, num, tot);
	for (i = 0; i < zt_prim_count; i++)
		if (selected(tests, zt_prim_tests[i].name))
			run_one(&zt_prim_tests[i], c, num, tot);
	for (i = 0; i < zt_dump_count; i++)
		if (selected(tests, zt_dump_tests[i].name))
			run_one(&zt_dump_tests[i], c, num, tot);
	for (i = 0; i < zt_mn_count; i++)
		if (selected(tests, zt_mn_tests[i].name))
			run_one(&zt_mn_tests[i], c, num, tot);
}

static int parse(int argc, char **argv, struct sel *b, struct sel *e,
		 struct sel *t, unsigned int *scale)
{
	int opt;

	while ((opt = getopt(argc, argv, "b:e:t:s:h")) != -1) {
		struct sel *s = opt == 'b' ? b : opt == 'e' ? e : t;

		switch (opt) {
		case 'b':
		case 'e':
		case 't':
			if (s->n == MAX_SEL)
				return -E2BIG;
			s->v[s->n++] = optarg;
			break;
		case 's':
			*scale = (unsigned int)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-b BACKEND]... [-e EXECUTOR]... "
				"[-t TEST]... [-s PERCENT]\n", argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const enum zk_backend backends[] = { ZK_BACKEND_IO_URING, ZK_BACKEND_BLOCKING };
	struct sel bsel = { .n = 0 }, esel = { .n = 0 }, tsel = { .n = 0 };
	unsigned int num = 0, tot[3] = { 0, 0, 0 }, scale = 100, b;
	int e;

	if (parse(argc, argv, &bsel, &esel, &tsel, &scale))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	for (b = 0; b < 2; b++) {
		if (!selected(&bsel, zk_backend_name(backends[b])))
			continue;
		for (e = ZK_EXEC_BLOCKING; e <= ZK_EXEC_STACKLESS_MN; e++) {
			struct zt_ctx c = {
				.opts = { .backend = backends[b],
					  .executor = (enum zk_executor)e,
					  .threads = 4 },
				.scale = scale,
			};

			if (selected(&esel, zk_executor_name(c.opts.executor)))
				run_suite(&c, &tsel, &num, tot);
		}
	}
	printf("1..%u\n# Totals: pass:%u fail:%u skip:%u\n", num, tot[0], tot[1], tot[2]);
	return tot[1] ? 1 : 0;
}
