/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync-fuzz: a seeded ring fuzzer for /dev/zsync.  Shared declarations of
 * its parts: the PRNG, raw rings, the fd pool, SQE generation, the
 * accounting of CQEs, the chaos actions and fault injection.
 */
#ifndef ZSYNC_FUZZ_H
#define ZSYNC_FUZZ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/zsync.h>

#define FZ_MAX_THREADS	8
#define FZ_POOL_SIZE	48	/* fd pool slots */
#define FZ_MAX_ERRNO	134
#define FZ_NR_OPS	(ZSYNC_OP_LAST + 1)	/* last bucket: unknown opcodes */
#define FZ_MSG_MAX	1024

/* user_data layout: tag byte, thread byte, 48-bit sequence number. */
#define FZ_UD_TAG	0x5aULL
#define FZ_UD_MSG_TAG	0xa5ULL	/* CQEs that MSG_RING posted into a ring */
#define FZ_UD(tag, thr, seq) (((uint64_t)(tag) << 56) | ((uint64_t)(thr) << 48) | (seq))
#define FZ_UD_SEQ(ud)	((ud) & ((1ULL << 48) - 1))
#define FZ_UD_THR(ud)	(((ud) >> 48) & 0xff)
#define FZ_UD_TAGOF(ud)	((ud) >> 56)

/* splitmix64: one 64-bit state, good enough mixing for a fuzzer. */
static inline uint64_t fz_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint32_t fz_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(fz_next(s) % n) : 0;
}

/* true with probability pct percent */
static inline bool fz_chance(uint64_t *s, unsigned int pct)
{
	return fz_below(s, 100) < pct;
}

/* What the run reached, in memory shared by every episode's processes. */
struct fz_stats {
	atomic_ulong op_sqes[FZ_NR_OPS];	/* SQEs the kernel consumed */
	atomic_ulong op_ok[FZ_NR_OPS];	/* terminal CQEs with res >= 0 */
	atomic_ulong op_more[FZ_NR_OPS];	/* CQEs flagged F_MORE */
	atomic_ulong op_err[FZ_NR_OPS][FZ_MAX_ERRNO];	/* terminal -errno */
	atomic_ulong enters, enter_err[FZ_MAX_ERRNO];
	atomic_ulong ioctls, msg_cqes, chaos_actions, overflowed;
	atomic_int violation;		/* first broken invariant wins */
	char msg[FZ_MSG_MAX];		/* its description */
};

/* Run-wide settings, fixed before the first episode. */
struct fz_opts {
	uint64_t seed;
	unsigned int seconds, iterations, threads, ops_per_thread;
	bool faults, trace, quiet, ktap, unpriv_ok, pid_ns;
	unsigned int chaos_pct;		/* share of chaos episodes */
	uint32_t scenario_mask;		/* chaos scenarios allowed (--scenarios) */
	uint64_t op_mask[4];		/* opcodes the generator may pick */
	unsigned int grace_secs;	/* how long teardown may take */
	pid_t run_pid;			/* the parent's pid: names the run's paths */
};

extern struct fz_opts fz_opts;
extern struct fz_stats *fz_stats;

/* A ring set up and mapped with the raw uapi (no library: hostility). */
struct fz_ring {
	int fd;
	struct zsync_params p;
	void *sq_map, *cq_map;
	struct zsync_sqe *sqes;
	size_t sq_len, cq_len, sqes_len;
	_Atomic uint32_t *sq_head, *sq_tail, *sq_flags;
	_Atomic uint32_t *cq_head, *cq_tail, *cq_overflow;
	uint32_t sq_mask, cq_mask;
	struct zsync_cqe *cqes;
	uint32_t local_tail;		/* SQEs written, not yet published */
};

/* Why a CQE was expected: one per consumed SQE of an accounted ring. */
struct fz_req {
	uint8_t state;			/* FZ_REQ_* */
	uint8_t op;
	uint8_t multishot;
	uint8_t target;			/* MSG_RING: the thread whose ring */
	bool trunc;			/* RECV with MSG_TRUNC: res may exceed len */
	uint32_t len;			/* sqe->len, to bound byte counts */
};

enum { FZ_REQ_NONE, FZ_REQ_QUEUED, FZ_REQ_SUBMITTED, FZ_REQ_DONE };

/* fd pool: numbers the generator names, files that chaos may swap. */
enum fz_kind {
	FZ_K_NONE, FZ_K_PIPE_R, FZ_K_PIPE_W, FZ_K_UNIX, FZ_K_UNIX_DGRAM,
	FZ_K_TCP_LISTEN, FZ_K_TCP, FZ_K_UDP, FZ_K_FILE, FZ_K_DIR,
	FZ_K_DEVNULL, FZ_K_PTY, FZ_K_EVENTFD, FZ_K_PIDFD, FZ_K_CGROUP,
	FZ_K_CGFILE, FZ_K_NETNS, FZ_K_USERNS, FZ_K_RING, FZ_K_SOURCE,
	FZ_K_PROC, FZ_K_MEMFD, FZ_K_EPOLL, FZ_K_TIMERFD, FZ_K_NR
};

struct fz_pool {
	_Atomic int fd[FZ_POOL_SIZE];
	_Atomic int kind[FZ_POOL_SIZE];
	int tcp_port;			/* the listener's port, for CONNECT */
	int victim_pid;			/* a sleeper for cgroup and pidfd ops */
	char cg_path[256];		/* this episode's cgroup */
	char dir_path[80];		/* this episode's scratch directory */
};

/* One worker thread of an accounting episode. */
struct fz_episode;
struct fz_thread {
	int id;
	struct fz_episode *ep;
	bool disabled;			/* set up R_DISABLED, not yet enabled */
	bool last_linked;		/* the previous SQE had ZSYNC_SQE_LINK */
	int setup_err;			/* ring setup failed (without --faults) */
	char stat_path[128];		/* chaos: its /proc stat file, for a handshake */
	uint32_t consumed;		/* SQ head as last accounted */
	uint64_t outstanding;		/* submitted, terminal CQE not yet seen */
	uint64_t rng;
	pid_t tid;
	struct fz_ring ring;
	struct fz_req *reqs;
	uint64_t nr_reqs, cap_reqs;
	uint32_t *slot_seq;		/* SQ slot -> sequence number */
	atomic_ulong msg_sent_to;	/* MSG_RING CQEs other threads posted here */
	uint64_t msg_received;
	int eventfd;
	void *bufs;			/* this thread's I/O buffers */
};

/* fuzz-ring.c */
int fz_ring_setup(struct fz_ring *r, uint64_t *rng, bool disabled);
void fz_ring_unmap(struct fz_ring *r);
void fz_ring_close(struct fz_ring *r);
struct zsync_sqe *fz_ring_sqe(struct fz_ring *r);
int fz_ring_enter(struct fz_ring *r, uint32_t to_submit, uint32_t min_complete,
		  unsigned int flags, int64_t timeout_ns);
int fz_stats_ioctl(int fd, struct zsync_stats *st);
long fz_module_refcnt(void);
void fz_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool fz_violated(void);
void fz_count_cqe(int op, const struct zsync_cqe *cqe, bool terminal);
const char *fz_op_name(int op);
int64_t fz_now_ns(void);

/* fuzz-pool.c */
int fz_pool_init(struct fz_pool *pool, uint64_t *rng, int ep);
void fz_pool_swap(struct fz_pool *pool, uint64_t *rng);
void fz_pool_fini(struct fz_pool *pool);
int fz_pool_pick(struct fz_pool *pool, uint64_t *rng, int want_kind);
int fz_make_fd(struct fz_pool *pool, int kind, uint64_t *rng);

/* fuzz-gen.c */
size_t fz_bufs_len(void);
int fz_bufs_init(struct fz_thread *t);
void fz_gen_sqe(struct fz_episode *ep, struct fz_thread *t, struct zsync_sqe *sqe,
		uint64_t seq, uint8_t *multishot);
uint64_t fz_hostile_ptr(struct fz_thread *t, size_t want);

/* fuzz-episode.c */
struct fz_episode {
	uint64_t seed;
	unsigned int nr_threads;
	unsigned int ops_per_thread;
	bool chaos;			/* hostile-memory episode: no accounting */
	bool unpriv;			/* dropped to nobody + group zsync */
	struct fz_pool pool;
	struct fz_thread thr[FZ_MAX_THREADS];
	atomic_int phase;
	atomic_int arrived;
	atomic_bool stop;
};
int fz_run_episode(uint64_t seed, int ep_no);

/* fuzz-chaos.c */
void *fz_chaos_thread(void *arg);
int fz_chaos_episode(struct fz_episode *ep);
int fz_scenario_parse(const char *list, uint32_t *mask);
void fz_scenario_string(uint32_t mask, char *buf, size_t len);
unsigned int fz_nr_scenarios(void);

/* fuzz-faults.c */
int fz_faults_arm(void);
void fz_faults_enable_self(void);
void fz_faults_disarm(void);
void fz_faults_report(FILE *out);

#endif /* ZSYNC_FUZZ_H */
