/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync-bench-manager: what its ring path (mgr-ring.c), its plain path
 * (mgr-plain.c) and its driver (zsync-bench-manager.c) share.
 *
 * Syscalls are counted at their call sites: every syscall either path
 * makes goes through one of the sys_*() wrappers below, and the ring's
 * ENTER (an ioctl inside libzsync-k) is counted by linking with
 * -Wl,--wrap=ioctl (tools.mk).  Nothing else enters the kernel inside
 * a timed phase (no allocation does: the arrays are sized at startup).
 */
#ifndef ZSYNC_BENCH_MGR_H
#define ZSYNC_BENCH_MGR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench.h"

enum mgr_phase {
	PH_CREATE, PH_START, PH_FREEZE, PH_THAW, PH_STEADY, PH_KILL, PH_REMOVE,
	NR_PHASES
};

#define NR_KNOBS	4

/* One container: a cgroup and the process in it. */
struct ctr {
	int dir;		/* the cgroup's directory */
	int events;		/* cgroup.events (plain: in the epoll set, EPOLLET) */
	int freeze;		/* cgroup.freeze, kept open */
	int mem;		/* memory.events: its oom_kill is watched */
	int pidfd;		/* the running process, -1 while none */
	pid_t pid;		/* plain: its pid, for cgroup.procs */
	bool frozen, populated;
	bool attached;		/* its process is in the cgroup (a crash may hit it) */
	bool doomed;		/* steady: sent SIGKILL, exit not seen yet */
	bool oom;		/* its process allocates past memory.max */
	bool mem_armed;		/* ring: a POLL_ADD or READ of mem in flight */
	int64_t oom_kill;	/* memory.events oom_kill last read */
	char membuf[256];	/* ring: memory.events as READ returned it */
};

struct mgr {
	unsigned int n;			/* containers */
	struct ctr *c;
	int parent_fd;			/* the delegated test parent */
	char parent[128];		/* its path */
	const char *knob_name[NR_KNOBS];
	const char *knob_value[NR_KNOBS];
	unsigned int restarts;		/* steady: crashes to inject (-k) */
	unsigned int oom_every;		/* steady: every Nth restart allocates past its limit */
	unsigned int inflight;		/* steady: crashes outstanding at once */
	uint64_t rng;
	/* What the event loops have seen (reset per phase where it matters). */
	unsigned int nr_frozen, nr_populated, nr_running, nr_mem_armed;
	unsigned int injected, restarted, oom_deaths, oom_running, nr_doomed;
	int64_t oom_kills;
	unsigned int pending;		/* ring: ops of the phase in flight */
	bool watch_state;		/* plain: read cgroup.events on a wakeup */
	bool steady;			/* an exit is restarted (steady phase) */
	bool kill_by_set;		/* ring: kill with CGROUP_SET cgroup.kill, wait for the exits */
	bool closing;			/* ring: memory.events watches end */
	char why[REASON_LEN];
};

/* ---- counted syscalls (mgr-sys.c) --------------------------------------- */

extern unsigned long mgr_syscalls;
/* ns spent in the loops' one blocking call: the ring's ENTER, epoll_wait. */
extern double mgr_wait_ns;

int sys_mkdirat(int dfd, const char *name);
int sys_unlinkat_dir(int dfd, const char *name);
int sys_openat(int dfd, const char *path, int flags);
int sys_close(int fd);
ssize_t sys_write(int fd, const void *buf, size_t len);
ssize_t sys_pread(int fd, void *buf, size_t len, off_t off);
/* waitid(P_PIDFD, WEXITED | WNOHANG): 0 reaped, 1 still running, -1 errno. */
int sys_waitid_pidfd(int pidfd, int *status);
int sys_pidfd_kill(int pidfd);
int sys_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int sys_epoll_wait(int epfd, void *events, int max, int timeout_ms);
int sys_write_at(int dfd, const char *name, const char *value);

/* ---- shared (mgr-sys.c) --------------------------------------------------- */

/* "c%04u" */
void ctr_name(char *buf, size_t len, unsigned int i);
/* Clone the process of container @i: pidfd, or -errno (counted: clone3). */
int ctr_spawn(struct mgr *m, unsigned int i, bool oom, pid_t *pid);
/* Whether this restart is one that allocates past memory.max. */
bool mgr_next_is_oom(struct mgr *m);
/* A random container that is running and not doomed (steady), or -1. */
int mgr_pick_victim(struct mgr *m);
/* The oom_kill count in memory.events text, or -1. */
int64_t mgr_oom_kill_of(const char *text);
/* Counts the OOM kills @text (memory.events of @c) shows beyond the last read. */
void mgr_note_oom_kills(struct mgr *m, struct ctr *c, const char *text);
/* Re-reads every memory.events (uncounted): OOM kills not yet notified. */
void mgr_sweep_oom_kills(struct mgr *m);
/* Whether the steady phase has nothing left to do. */
bool mgr_steady_done(const struct mgr *m);
/* Account for the exit of @c's process (steady bookkeeping). */
void mgr_note_exit(struct mgr *m, struct ctr *c);
/* Account for @c's new process @pidfd. */
void mgr_took_process(struct mgr *m, struct ctr *c, int pidfd, bool oom);
/* Steady: SIGKILL a random attached container's process, if crashes are left. */
int mgr_inject_crash(struct mgr *m);

/* A path's: start container @i's process; run its loop until @done. */
typedef int (*mgr_start_fn)(struct mgr *m, unsigned int i, bool oom);
typedef int (*mgr_run_fn)(struct mgr *m, bool (*done)(const struct mgr *m));
/* After an exit: in the steady phase, start @i again (and inject the next crash). */
int mgr_restart(struct mgr *m, unsigned int i, bool was_crash, mgr_start_fn start);
/* The steady phase: the first crashes, then the loop until every one is restarted. */
int mgr_steady(struct mgr *m, mgr_run_fn run);

/* ---- the two paths: 0, or -errno with m->why ---------------------------- */

int ring_setup(struct mgr *m);
void ring_teardown(void);
int ring_phase(struct mgr *m, enum mgr_phase ph);

int plain_setup(struct mgr *m);
void plain_teardown(void);
int plain_phase(struct mgr *m, enum mgr_phase ph);

#endif /* ZSYNC_BENCH_MGR_H */
