/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the zsync-bench* programs share.
 */
#ifndef ZSYNC_BENCH_H
#define ZSYNC_BENCH_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

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

#endif /* ZSYNC_BENCH_H */
