/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the plain-epoll echo programs (zsync-echo-load, zsync-echo-epoll)
 * share: argument parsing with errno-style messages, the descriptor limit
 * and the clock.  No libzsync-k: they are the yardstick, not the subject.
 */
#ifndef ZSYNC_ECHO_COMMON_H
#define ZSYNC_ECHO_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline int64_t echo_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parse an unsigned number in [min, max] for option @opt, or exit 2. */
static inline unsigned long echo_parse_num(const char *prog, const char *opt, const char *s,
					   unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "%s: %s '%s': %s (expected %lu..%lu)\n", prog, opt, s,
			strerror(errno ? errno : EINVAL), min, max);
		exit(2);
	}
	return v;
}

/*
 * Raise the soft descriptor limit to the hard one; returns the limit now
 * in force, so a caller can say when it is too low for what it was asked.
 */
static inline unsigned long echo_raise_nofile(const char *prog)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			fprintf(stderr, "%s: setrlimit(RLIMIT_NOFILE): %s\n", prog, strerror(errno));
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	return (unsigned long)rl.rlim_cur;
}

#endif /* ZSYNC_ECHO_COMMON_H */
