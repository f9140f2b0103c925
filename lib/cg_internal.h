/* SPDX-License-Identifier: MIT */
/*
 * cg_internal.h - what the cgroup lifecycle calls (cglife.c) and the
 * watch and pidfd wait (cgwatch.c) share: choosing the path, waiting with
 * a deadline, and the plain-syscall halves.
 */
#ifndef ZK_CG_INTERNAL_H
#define ZK_CG_INTERNAL_H

#include "io_internal.h"

/* cgroup.events, as ZSYNC_CGROUP_* bits. */
#define CG_POPULATED	((int)ZSYNC_CGROUP_POPULATED)
#define CG_FROZEN	((int)ZSYNC_CGROUP_FROZEN)

/* Whether @cg's calls may run @code on the ring (@cg NULL: no flags). */
bool zk_cg_ring_ok(struct zk_io *io, const struct zk_cg *cg, enum zk_opcode code);
/*
 * Whether calls that only wait (remove, watch) poll on the ring's POLL_ADD:
 * when the cgroup family may run there too, so that with the family off a
 * runtime is on plain syscalls throughout.
 */
bool zk_cg_waits_on_ring(struct zk_io *io, const struct zk_cg *cg);
/* Whether a ring op's result means "not done: do it as syscalls". */
bool zk_cg_refused(int res);
/* Count a call of @cg (may be NULL) as having taken @path. */
void zk_cg_note(struct zk_cg *cg, enum zk_cg_path path);

/* A fresh op @code on @fd in @f; fill in the rest, then zk_op_start(). */
struct zk_op *zk_cg_op(struct zk_future *f, enum zk_opcode code, int fd);
/* Absolute CLOCK_MONOTONIC deadline of @timeout_ns (-1: none). */
int64_t zk_cg_deadline(int64_t timeout_ns);
/*
 * Await @f until @deadline.  Return: its result, or -ETIMEDOUT /
 * -ECANCELED after cancelling it (unless it completed meanwhile: then
 * its result).
 */
int64_t zk_cg_await_until(struct zk_io *io, struct zk_future *f, int64_t deadline);
/*
 * Wait until @fd polls one of @events (POLLPRI, POLLIN), or @deadline.
 * @ring: the zsync ring's POLL_ADD may serve it (else poll(2)/io_uring).
 * Return: the ready events, -ETIMEDOUT, -ECANCELED or -errno.
 */
int zk_cg_poll_until(struct zk_io *io, int fd, short events, bool ring,
		     int64_t deadline);

/* Read @fd (an open *.events file) from the start into @buf; 0 or -errno. */
int zk_cg_read_file(int fd, char *buf, size_t len);
/* The value after "@key " (or a tab) at a line start in @text, or -1. */
int64_t zk_cg_field(const char *text, const char *key);
/* echo -n @value > @dirfd/@name; 0 or -errno. */
int zk_cg_write_file(int dirfd, const char *name, const char *value);

#endif /* ZK_CG_INTERNAL_H */
