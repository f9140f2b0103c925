/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the zsync-bench* programs share: failure reasons, exit codes,
 * the clock and argument parsing.
 */
#ifndef ZSYNC_BENCH_H
#define ZSYNC_BENCH_H

#include <errno.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "zsync-k.h"

/* Room for why a measurement could not run, printed after the table. */
#define REASON_LEN	160

static inline int fail(char *why, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Record in @why (REASON_LEN bytes) why a run failed; returns @err if it
 * is a negative errno, else -EPROTO, for chaining.
 */
static inline int fail(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, REASON_LEN, fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EPROTO;
}

enum bench_exit {
	EXIT_OK		= 0,	/* every measurement that could run ran */
	EXIT_FAILED	= 1,	/* a backend failed mid-run (wrong CQE, error) */
	EXIT_USAGE	= 2,
};

/* A decimal in [1, @max]: 0, or -EINVAL. */
static inline int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out == 0 || *out > max)
		return -EINVAL;
	return 0;
}

static inline void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* A zsync ring of @entries on $ZSYNC_DEV or /dev/zsync: 0, or -errno with @why. */
static inline int bench_zsync_init(struct zk_ring *ring, unsigned int entries, char *why)
{
	const char *dev = getenv("ZSYNC_DEV");
	int ret = zk_ring_init(entries, ring, 0);

	if (ret < 0)
		return fail(why, ret, "cannot set up a ring on %s: %s",
			    dev && *dev ? dev : "/dev/zsync", strerror(-ret));
	return 0;
}

/* An io_uring of @entries: 0, or -errno with @why. */
static inline int bench_uring_init(struct io_uring *ring, unsigned int entries, char *why)
{
	int ret = io_uring_queue_init(entries, ring, 0);

	if (ret < 0)
		return fail(why, ret, "io_uring_queue_init: %s", strerror(-ret));
	return 0;
}

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#endif /* ZSYNC_BENCH_H */
