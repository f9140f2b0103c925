/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of zsyncctl share: exit codes, the options every command
 * sees, output helpers and the ring.  zsyncctl.c has main(), status and
 * these helpers; ctl-cgroup.c and ctl-ns.c one command family each.
 */
#ifndef ZSYNCCTL_CTL_H
#define ZSYNCCTL_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "zsync-k.h"
#include "../common/json.h"

enum ctl_exit {
	EXIT_OK		= 0,
	EXIT_FAILED	= 1,	/* an operation failed; its errno is printed */
	EXIT_USAGE	= 2,
	EXIT_UNAVAIL	= 3,	/* no module, or the op is missing or disabled */
	EXIT_TIMEOUT	= 4,	/* --timeout passed before the state was reached */
};

/* At most this many operations in one command (one submission). */
#define RING_ENTRIES	64

extern bool json;		/* --json */
extern const char *prog;	/* argv[0], for messages */
extern struct zk_ring ring;	/* after ring_up() */

/* ---- output (zsyncctl.c) ---- */

/*
 * A failure of the whole command: the message on stderr and, with --json,
 * one error object on stdout ({"error","errno","errname","exit"}; errno and
 * errname only when @err, a positive errno, is not 0).  Returns @code.
 */
int ctl_fail(int code, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ctl_fail(EXIT_USAGE, 0, ...), with "(see --help)" on stderr. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int exit_for(int res);
void print_res(int res);
bool parse_uint(const char *s, unsigned long max, unsigned long *out);

/* ---- the ring (zsyncctl.c) ---- */
int ring_up(void);
/* Whether @name is one of the NULL-terminated @names. */
bool ctl_known(const char *name, const char *const *names);
struct zsync_sqe *sqe_get(void);
void guard(struct zsync_sqe *sqe, unsigned int ms);
int submit_all(int *res, unsigned int n);
/* ctl_fail() for a failed submission (-errno @ret). */
int submit_failed(int ret);

/* ---- command families ---- */
int cmd_cgroup(int argc, char **argv, unsigned int timeout_ms, unsigned long count);
int cmd_ns(int argc, char **argv);
void print_rings(void);

#endif /* ZSYNCCTL_CTL_H */
