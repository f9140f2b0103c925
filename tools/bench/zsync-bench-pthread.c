// SPDX-License-Identifier: MIT
/*
 * zsync-bench-pthread: the baseline the thread pool is held to.  Plain
 * pthreads, no zsync-k: a ping-pong between two threads over one
 * mutex and condition variable (a round trip is two handoffs, as over two
 * channels), and four threads contending for one pthread mutex.  The
 * same iteration counts as zsync-bench-exec.
 *
 *   zsync-bench-pthread [-s PERCENT] [-k]
 *
 * -k prints "result METRIC pthread VALUE" lines for bench-native.sh.  The
 * ping-pong is reported twice, as pingpong_ns and xthread_pingpong_ns
 * (measured separately): its two parties are always on two OS threads.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"	/* header-only: the clock and argument parsing */

static unsigned int scale = 100;

static unsigned long scaled(unsigned long n)
{
	return n * scale / 100 ? n * scale / 100 : 1;
}

/* ---- ping-pong: whose turn it is, under one mutex ------------------- */

struct court {
	pthread_mutex_t m;
	pthread_cond_t c;
	int turn;		/* 0: the pinger's, 1: the ponger's */
	unsigned long n;
};

/* Wait for @me's turn, then hand it to the other party. */
static void play(struct court *ct, int me)
{
	pthread_mutex_lock(&ct->m);
	while (ct->turn != me)
		pthread_cond_wait(&ct->c, &ct->m);
	ct->turn = !me;
	pthread_cond_signal(&ct->c);
	pthread_mutex_unlock(&ct->m);
}

static void *ponger(void *arg)
{
	struct court *ct = arg;
	unsigned long i;

	for (i = 0; i < ct->n; i++)
		play(ct, 1);
	return NULL;
}

static double bench_pingpong(void)
{
	struct court ct = { .n = scaled(50000) };
	unsigned long i;
	pthread_t th;
	double t0;

	pthread_mutex_init(&ct.m, NULL);
	pthread_cond_init(&ct.c, NULL);
	t0 = bench_now_ns();
	if (pthread_create(&th, NULL, ponger, &ct))
		return -1;
	for (i = 0; i < ct.n; i++)
		play(&ct, 0);
	pthread_join(th, NULL);
	t0 = bench_now_ns() - t0;
	pthread_cond_destroy(&ct.c);
	pthread_mutex_destroy(&ct.m);
	return t0 / (double)ct.n;
}

/* ---- four threads, one mutex ---------------------------------------- */

struct contention {
	pthread_mutex_t m;
	unsigned long n;
	long counter;
};

static void *locker(void *arg)
{
	struct contention *c = arg;
	unsigned long i;

	for (i = 0; i < c->n; i++) {
		pthread_mutex_lock(&c->m);
		c->counter++;
		pthread_mutex_unlock(&c->m);
	}
	return NULL;
}

static double bench_mutex(void)
{
	enum { K = 4 };
	struct contention c = { .n = scaled(100000) };
	pthread_t th[K];
	double t0;
	int i, started;

	pthread_mutex_init(&c.m, NULL);
	t0 = bench_now_ns();
	for (started = 0; started < K; started++)
		if (pthread_create(&th[started], NULL, locker, &c))
			break;
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	t0 = bench_now_ns() - t0;
	pthread_mutex_destroy(&c.m);
	return c.counter == (long)(K * c.n) ? t0 / (double)(K * c.n) : -1;
}

static const struct {
	const char *key, *name;
	double (*run)(void);
} metrics[] = {
	{ "pingpong_ns", "mutex/condvar ping-pong round trip [ns]", bench_pingpong },
	{ "mutex4_ns", "mutex lock+unlock, 4 contending [ns]", bench_mutex },
	{ "xthread_pingpong_ns", "the same ping-pong, again [ns]", bench_pingpong },
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-s PERCENT] [-k]\n"
		"  -s, --scale PERCENT  scale the iteration counts (default 100)\n"
		"  -k, --kv             'result METRIC pthread VALUE' lines\n"
		"  -h, --help           this text\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scale", required_argument, NULL, 's' },
		{ "kv", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool kv = false;
	unsigned int m;
	unsigned long pct;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:kh", longopts, NULL)) != -1) {
		if (opt == 's') {
			if (parse_ulong(optarg, 10000, &pct)) {
				fprintf(stderr, "%s: bad scale '%s': %s\n", argv[0], optarg,
					strerror(EINVAL));
				return 2;
			}
			scale = (unsigned int)pct;
		} else if (opt == 'k') {
			kv = true;
		} else {
			usage(opt == 'h' ? stdout : stderr, argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s': %s\n", argv[0], argv[optind],
			strerror(EINVAL));
		return 2;
	}
	printf("%szsync-bench-pthread: scale %u%%\n", kv ? "# " : "", scale);
	for (m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		double v = metrics[m].run();

		if (v < 0)
			fprintf(stderr, "%s: %s: the work was not done\n", argv[0], metrics[m].key);
		else if (kv)
			printf("result %s pthread %.3f\n", metrics[m].key, v);
		else
			printf("%-42s %10.0f\n", metrics[m].name, v);
	}
	return 0;
}
