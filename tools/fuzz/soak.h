/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync-soak: what its parts share.
 *
 *   zsync-soak.c    options, the parent: baselines, workers, KTAP report
 *   soak-sys.c      module and system state: refcount, STATS, slab, meminfo,
 *                   processes, cgroup2, module parameters
 *   soak-ring.c     a ring with op accounting (every SQE one terminal CQE)
 *   soak-worker.c   one worker process: ring generations, file reads,
 *                   timers, event sources
 *   soak-net.c      TCP echo over loopback
 *   soak-cgroup.c   cgroup attach/freeze/thaw/kill cycles
 *
 * Workers are forked processes.  Each writes its counters into its own
 * slot of a shared mapping; the parent sums them for progress lines and
 * the report.
 */
#ifndef ZSYNC_SOAK_H
#define ZSYNC_SOAK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "zsync-k.h"

#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_SEC	1000000000LL

#define SOAK_CG_ROOT	"/sys/fs/cgroup"
#define SOAK_CG_PREFIX	"zsync-soak."

/* Everything fixed before the fork. */
struct soak_cfg {
	int secs;
	int procs;
	uint64_t seed;
	bool verbose;
	bool debug_kernel;	/* KASAN/lockdep kernel: everything ~10x slower */
	bool net_ops;		/* ACCEPT, CONNECT, SHUTDOWN run as ring ops */
	bool cgroup_ok;
	bool cg_limits;		/* memory and pids enabled beneath cg_base */
	char cg_base[96];	/* the run's cgroup; every cycle's is beneath */
	char cgroup_why[256];	/* why the cgroup part is skipped */
	char data_path[96];	/* the file the workers read */
	uint64_t data_seed;
	size_t data_size;
	int64_t end_ns;		/* CLOCK_MONOTONIC: workers stop here */
	int64_t settle_ns;	/* bound for anything that must happen "soon" */
	pid_t parent;
};

/* Per-worker counters, indices into soak_slot.c[]. */
enum soak_ctr {
	C_SQES,			/* SQEs the kernel consumed */
	C_CQES,			/* CQEs reaped */
	C_MORE,			/* of which flagged ZSYNC_CQE_F_MORE */
	C_TERMINAL,		/* ops that got their terminal CQE */
	C_ABANDONED,		/* ops in flight when their ring was closed */
	C_RINGS,		/* rings set up */
	C_RINGS_ABRUPT,		/* of which closed with ops in flight */
	C_TCP_CONNS,		/* client connections fully echoed */
	C_TCP_BYTES,		/* bytes echoed and verified */
	C_FILE_READS,
	C_FILE_BYTES,
	C_TIMERS,		/* TIMEOUTs that expired (-ETIME) */
	C_TIMER_LATE_MAX_NS,	/* worst lateness seen (a maximum, not a sum) */
	C_TIMER_CANCELS,	/* long TIMEOUTs cancelled */
	C_CG_CYCLES,
	C_SRC_SIGNALS,
	C_SRC_REACHED,		/* sum of what the signals reported */
	C_SRC_DELIVERED,	/* SOURCE_WAIT CQEs flagged MORE */
	C_SRC_OVERFLOW,		/* waits that ended with -EOVERFLOW */
	/* failures, one counter per KTAP line */
	C_F_ACCT,
	C_F_TCP,
	C_F_FILE,
	C_F_TIMER,
	C_F_CGROUP,
	C_F_SOURCE,
	C_F_OTHER,
	C_NR
};

struct soak_slot {
	uint64_t c[C_NR];
	int32_t done;		/* the worker finished its last ring */
	int32_t pad;
};

/* Single writer (the worker), read by the parent: relaxed atomics. */
static inline void ctr_add(struct soak_slot *s, enum soak_ctr i, uint64_t n)
{
	__atomic_fetch_add(&s->c[i], n, __ATOMIC_RELAXED);
}

static inline uint64_t ctr_get(const struct soak_slot *s, enum soak_ctr i)
{
	return __atomic_load_n(&s->c[i], __ATOMIC_RELAXED);
}

static inline void ctr_max(struct soak_slot *s, enum soak_ctr i, uint64_t v)
{
	if (v > ctr_get(s, i))
		__atomic_store_n(&s->c[i], v, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Small helpers (soak-sys.c)                                          */
/* ------------------------------------------------------------------ */

int64_t now_ns(void);
struct zsync_timespec ns_to_zts(int64_t ns);
const char *errname(int err);		/* "ETIME" for ETIME or -ETIME */
const char *opname(unsigned int op);	/* "RECV" */
uint64_t mix64(uint64_t x);
uint64_t rng_next(uint64_t *state);
uint32_t rng_range(uint64_t *state, uint32_t lo, uint32_t hi);	/* [lo, hi] */

/* The byte stream every check compares against: @seed names the stream. */
void pat_fill(uint8_t *buf, uint64_t seed, uint64_t off, size_t len);
/* Offset of the first byte of @buf that differs, or -1. */
long pat_check(const uint8_t *buf, uint64_t seed, uint64_t off, size_t len);

/* ------------------------------------------------------------------ */
/* The ring with accounting (soak-ring.c)                              */
/* ------------------------------------------------------------------ */

struct worker;
struct sop;

/*
 * Called for every CQE of an op: @terminal when it is the op's last one
 * (no ZSYNC_CQE_F_MORE).  The slot is freed right after a terminal call.
 */
typedef void (*sop_fn)(struct worker *w, struct sop *op,
		       const struct zsync_cqe *cqe, bool terminal);

struct sop {
	uint64_t ud;		/* 0: free slot */
	sop_fn fn;
	void *ctx;		/* the module's object */
	uint64_t arg;
	int64_t t_prep;		/* CLOCK_MONOTONIC when prepared */
	uint32_t nmore;		/* F_MORE CQEs so far */
	uint8_t opcode;
	bool multishot;
};

#define SR_SLOTS	256	/* > SQ entries + every multishot op alive */
#define SR_SQ_ENTRIES	64
#define SR_CQ_ENTRIES	512

struct sring {
	struct zk_ring zr;
	bool open;
	uint32_t gen;		/* per worker; part of every user_data */
	uint32_t seq;		/* next op number in this generation */
	uint32_t live;		/* ops without their terminal CQE yet */
	uint32_t nfree;
	uint16_t free[SR_SLOTS];
	struct sop ops[SR_SLOTS];
};

int sring_open(struct worker *w);
/* Whether @n SQEs can be prepared now (a chain must go in whole). */
bool sring_room(struct worker *w, unsigned int n);
/* A zeroed SQE for a new op, or NULL (SQ or slots full, or draining). */
struct zsync_sqe *sring_prep(struct worker *w, sop_fn fn, void *ctx,
			     uint64_t arg, struct sop **opp);
/* Like sring_prep() but also while draining (cleanup ops). */
struct zsync_sqe *sring_prep_force(struct worker *w, sop_fn fn, void *ctx,
				   uint64_t arg, struct sop **opp);
int sring_enter(struct worker *w, int64_t wait_ns);
void sring_reap(struct worker *w);
bool sring_drain(struct worker *w, int64_t deadline);
void sring_close(struct worker *w, bool abrupt);
void sring_cancel_ud(struct worker *w, uint64_t ud);

/* ------------------------------------------------------------------ */
/* Workloads                                                           */
/* ------------------------------------------------------------------ */

#define NET_CLIENTS	3
#define NET_CHUNK	16384
#define NET_WINDOW	65536

struct cconn {			/* client side of one echo connection */
	int fd;
	int idx;
	bool active;
	bool msg;		/* SENDMSG/RECVMSG rather than SEND/RECV */
	bool graceful;		/* SHUTDOWN and wait for EOF, else RST */
	bool connected, connecting, sending, recving, shutting, shut;
	bool dead;		/* failed: freed once its ops are back */
	unsigned int inflight;	/* its ops without their terminal CQE */
	uint64_t seed;
	uint64_t total, sent, rcvd;
	uint32_t send_len;
	uint8_t *sbuf, *rbuf;
	struct msghdr smsg, rmsg;
	struct iovec siov[2], riov[2];
};

struct sconn {			/* server side: echo what arrives */
	struct sconn *next;
	int fd;
	bool msg;
	bool busy;		/* a RECV or SEND is in flight */
	bool closed;
	uint32_t len;
	uint8_t *buf;
	struct msghdr m;
	struct iovec iov[2];
};

struct net_state {
	int lfd;
	struct sockaddr_in addr;
	bool multishot;		/* this generation's ACCEPT style */
	bool accepting;		/* an ACCEPT (or listener POLL_ADD) is armed */
	uint64_t accepted;
	uint64_t conn_seq;
	struct sockaddr_in peer;	/* single-shot ACCEPT fills it */
	socklen_t peerlen;
	struct cconn cl[NET_CLIENTS];
	struct sconn *srv;
};

struct file_read {
	bool busy;
	bool vec;
	uint64_t off;
	uint32_t len;
	uint8_t *buf;
	struct iovec iov[3];
};

struct file_state {
	int fd;
	struct statx stx;
	struct file_read rd[2];
};

struct tmr {
	bool busy;
	bool cancel_sent;
	int64_t ns;
	int64_t cancel_at;
	uint32_t count;
	uint64_t ud;
	struct zsync_timespec ts;
};

#define NR_TIMERS	4

struct timer_state {
	struct tmr t[NR_TIMERS];
	struct tmr longt;	/* a long TIMEOUT that is always cancelled */
};

struct swait {
	bool armed;
	bool seen;
	bool cancelling;
	uint64_t ud;
	uint32_t min_k;		/* first signal it may see */
	uint32_t next_k;	/* next signal it must see */
};

struct source_state {
	int fd;
	uint32_t nsig;		/* signals issued in this generation */
	bool sig_live;		/* a SOURCE_SIGNAL op is in flight */
	bool unreliable;	/* an -EOVERFLOW: skip the sum check */
	uint64_t reached, delivered;
	int64_t next_cancel;
	struct swait w[2];
};

enum cg_phase { CG_IDLE, CG_FREEZE, CG_THAW, CG_KILL, CG_UNWAIT };

struct cg_state {
	enum cg_phase ph;
	int dfd;
	int pidfd;
	int gate;		/* read end of a pipe the sleeper closes when ready */
	pid_t pid;
	unsigned int pending;	/* terminal CQEs the phase still waits for */
	bool submitted;		/* the phase's SQEs are prepared */
	bool failed;		/* a check failed: abort once the CQEs are in */
	bool wait_armed, wait_pop, wait_empty, cancel_live;
	uint64_t wait_ud;
	uint32_t n;
	int64_t next_at;
	int64_t phase_deadline;
	char path[160];
	struct zsync_timespec lt;
};

struct worker {
	int id;
	pid_t pid;
	const struct soak_cfg *cfg;
	struct soak_slot *slot;
	uint64_t rng;
	bool draining;		/* no new work: the ring is being emptied */
	unsigned int printed;	/* failure lines printed so far */
	struct sring ring;
	struct net_state net;
	struct file_state file;
	struct timer_state tm;
	struct source_state src;
	struct cg_state cg;
};

void soak_fail(struct worker *w, enum soak_ctr what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void soak_info(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A CQE result that no path of the workload expects. */
void soak_bad_res(struct worker *w, enum soak_ctr what, const struct sop *op,
		  const struct zsync_cqe *cqe, const char *why);

int worker_main(struct worker *w);

/*
 * Each workload: gen_start after a ring is set up, tick in every loop
 * (submit what its state allows), gen_end once the ring is gone (drop
 * what abandoned ops may have left half done).
 */
void net_init(struct worker *w);
int net_gen_start(struct worker *w);
void net_tick(struct worker *w);
void net_gen_end(struct worker *w);

void cg_init(struct worker *w);
void cg_tick(struct worker *w, int64_t now);
void cg_gen_end(struct worker *w);

/* ------------------------------------------------------------------ */
/* System state (soak-sys.c)                                           */
/* ------------------------------------------------------------------ */

bool debug_kernel(void);
long module_refcnt(void);				/* -errno if unreadable */
int zsync_stats(struct zsync_stats *st);		/* opens the device */
int zsync_probe(struct zsync_probe *p);
long slab_active(const char *cache, char *why, size_t whylen);	/* -errno */
void slab_shrink_all(void);
long meminfo_kb(const char *key);			/* -errno */
char proc_state(pid_t pid);				/* 0 if gone */
void proc_describe(pid_t pid, char *buf, size_t len);	/* state, wchan */
int param_read(const char *name, char *buf, size_t len);
int param_write(const char *name, const char *val);
bool cgroup_setup(struct soak_cfg *cfg);
int cgroup_teardown(const struct soak_cfg *cfg);	/* cgroups left behind */
int cg_read_state(const char *dir);	/* ZSYNC_CGROUP_* bits, or -errno */
int cg_write(const char *dir, const char *file, const char *val);
/* Kill, empty and remove @dir (syscalls only); 0 or -errno. */
int cg_destroy(const char *dir, int64_t settle_ns);
int count_fds(void);
int pidfd_open_pid(pid_t pid);

#endif /* ZSYNC_SOAK_H */
