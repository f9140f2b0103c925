// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-soak: one worker process.
 *
 * The worker lives through ring generations until the end of the run.
 * A generation sets up a ring, runs every workload on it for 1.5 to 4
 * seconds, then ends one of two ways:
 *
 *  - clean: CANCEL ANY|ALL and reap until every op has its terminal CQE
 *    (an op without one is a lost CQE), then per-generation checks;
 *  - abrupt: close the ring with ops in flight; they are abandoned.
 *
 * The last generation always ends clean.  This file also holds the
 * smaller workloads: file reads, timers and event sources.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "soak.h"

#define MAX_PRINTED	25	/* failure lines per worker; the rest are counted */
#define LOOP_WAIT_NS	(20 * NSEC_PER_MSEC)

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/* One write() per line, so lines of several processes never mix. */
static void emit(const char *fmt, va_list ap, const char *prefix, int id)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "# soak: w%d: %s", id, prefix);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to say it. */
	}
}

void soak_fail(struct worker *w, enum soak_ctr what, const char *fmt, ...)
{
	va_list ap;

	ctr_add(w->slot, what, 1);
	if (w->printed >= MAX_PRINTED)
		return;
	va_start(ap, fmt);
	emit(fmt, ap, "FAIL: ", w->id);
	va_end(ap);
	if (++w->printed == MAX_PRINTED)
		soak_info(w, "further failures are counted, not printed");
}

void soak_info(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, "", w->id);
	va_end(ap);
}

void soak_bad_res(struct worker *w, enum soak_ctr what, const struct sop *op,
		  const struct zsync_cqe *cqe, const char *why)
{
	soak_fail(w, what, "%s user_data %#llx: res %d (%s), flags %#x: %s",
		  opname(op->opcode), (unsigned long long)op->ud, cqe->res,
		  cqe->res < 0 ? errname(cqe->res) : "ok", cqe->flags, why);
}

/* An op that a clean drain cancelled: its -ECANCELED is expected. */
static bool drained(const struct worker *w, const struct zsync_cqe *cqe)
{
	return w->draining && cqe->res == -ECANCELED;
}

/* ------------------------------------------------------------------ */
/* File reads: READ and READV of a file of known content               */
/* ------------------------------------------------------------------ */

static void file_opened(struct worker *w, struct sop *op,
			const struct zsync_cqe *cqe, bool terminal)
{
	(void)terminal;
	if (cqe->res >= 0)
		w->file.fd = cqe->res;
	else
		soak_bad_res(w, C_F_FILE, op, cqe, w->cfg->data_path);
}

static void file_statx_done(struct worker *w, struct sop *op,
			    const struct zsync_cqe *cqe, bool terminal)
{
	(void)terminal;
	if (cqe->res < 0) {
		soak_bad_res(w, C_F_FILE, op, cqe, "STATX of the data file");
		return;
	}
	if (!(w->file.stx.stx_mask & STATX_SIZE) ||
	    w->file.stx.stx_size != w->cfg->data_size)
		soak_fail(w, C_F_FILE, "STATX: size %llu (mask %#x), the file has %zu bytes",
			  (unsigned long long)w->file.stx.stx_size, w->file.stx.stx_mask,
			  w->cfg->data_size);
}

/* OPENAT and STATX through the ring: each generation opens the file anew. */
static void file_gen_start(struct worker *w)
{
	struct file_state *f = &w->file;
	struct zsync_sqe *sqe;

	f->fd = -1;
	memset(&f->stx, 0, sizeof(f->stx));
	sqe = sring_prep(w, file_opened, NULL, 0, NULL);
	if (sqe)
		zk_prep_openat(sqe, AT_FDCWD, w->cfg->data_path, O_RDONLY | O_CLOEXEC, 0);
	sqe = sring_prep(w, file_statx_done, NULL, 0, NULL);
	if (sqe)
		zk_prep_statx(sqe, AT_FDCWD, w->cfg->data_path, 0, STATX_SIZE, &f->stx);
}

static void file_read_done(struct worker *w, struct sop *op,
			   const struct zsync_cqe *cqe, bool terminal)
{
	struct file_read *rd = op->ctx;
	uint64_t size = w->cfg->data_size;
	uint64_t want = rd->off >= size ? 0 :
			(size - rd->off < rd->len ? size - rd->off : rd->len);
	long bad;

	(void)terminal;
	rd->busy = false;
	if (drained(w, cqe))
		return;
	if (cqe->res < 0 || (uint64_t)cqe->res != want) {
		soak_fail(w, C_F_FILE, "%s user_data %#llx at offset %llu, %u bytes: res %d (%s), expected %llu",
			  opname(op->opcode), (unsigned long long)op->ud,
			  (unsigned long long)rd->off, rd->len, cqe->res,
			  cqe->res < 0 ? errname(cqe->res) : "short", (unsigned long long)want);
		return;
	}
	bad = pat_check(rd->buf, w->cfg->data_seed, rd->off, (size_t)cqe->res);
	if (bad >= 0) {
		soak_fail(w, C_F_FILE, "%s user_data %#llx at offset %llu: byte %llu differs from the file",
			  opname(op->opcode), (unsigned long long)op->ud,
			  (unsigned long long)rd->off, (unsigned long long)(rd->off + (uint64_t)bad));
		return;
	}
	ctr_add(w->slot, C_FILE_READS, 1);
	ctr_add(w->slot, C_FILE_BYTES, (uint64_t)cqe->res);
}

/* A read at a random offset, some past the end, as READ or 3-piece READV. */
static void file_read_submit(struct worker *w, struct file_read *rd)
{
	uint32_t size = (uint32_t)w->cfg->data_size, a, b;
	struct zsync_sqe *sqe = sring_prep(w, file_read_done, rd, 0, NULL);

	if (!sqe)
		return;
	rd->off = rng_range(&w->rng, 0, size + 100);
	rd->len = rng_range(&w->rng, 1, 65536);
	rd->vec = rng_next(&w->rng) & 1;
	if (rd->vec) {
		a = rng_range(&w->rng, 0, rd->len);
		b = rng_range(&w->rng, 0, rd->len - a);
		rd->iov[0] = (struct iovec){ rd->buf, a };
		rd->iov[1] = (struct iovec){ rd->buf + a, b };
		rd->iov[2] = (struct iovec){ rd->buf + a + b, rd->len - a - b };
		zk_prep_readv(sqe, w->file.fd, rd->iov, 3, rd->off);
	} else {
		zk_prep_read(sqe, w->file.fd, rd->buf, rd->len, rd->off);
	}
	rd->busy = true;
}

static void file_tick(struct worker *w)
{
	struct file_state *f = &w->file;
	unsigned int i;

	if (f->fd < 0)
		return;
	for (i = 0; i < 2; i++)
		if (!f->rd[i].busy)
			file_read_submit(w, &f->rd[i]);
}

static void file_closed(struct worker *w, struct sop *op,
			const struct zsync_cqe *cqe, bool terminal)
{
	(void)terminal;
	if (cqe->res)
		soak_bad_res(w, C_F_FILE, op, cqe, "CLOSE of the data file");
}

/*
 * After a clean drain the fd is closed with a CLOSE op; after an abrupt
 * end with close(2).  A buffer an abandoned read held is replaced, not
 * reused, in case the kernel is still writing to it.
 */
static void file_gen_end(struct worker *w, bool clean)
{
	struct file_state *f = &w->file;
	struct zsync_sqe *sqe;
	unsigned int i;

	if (f->fd >= 0) {
		sqe = clean ? sring_prep_force(w, file_closed, NULL, 0, NULL) : NULL;
		if (sqe)
			zk_prep_close(sqe, f->fd);
		else
			close(f->fd);
		f->fd = -1;
	}
	for (i = 0; i < 2; i++) {
		if (!f->rd[i].busy)
			continue;
		free(f->rd[i].buf);
		f->rd[i].buf = malloc(65536);
		f->rd[i].busy = false;
		if (!f->rd[i].buf) {
			/* READs into NULL then fail with -EFAULT: the test says so. */
			soak_fail(w, C_F_OTHER, "allocating a read buffer: %s", errname(ENOMEM));
		}
	}
}

/* ------------------------------------------------------------------ */
/* Timers: short TIMEOUTs that must not expire early                   */
/* ------------------------------------------------------------------ */

static void timer_done(struct worker *w, struct sop *op,
		       const struct zsync_cqe *cqe, bool terminal)
{
	struct tmr *t = op->ctx;
	int64_t elapsed = now_ns() - op->t_prep;

	(void)terminal;
	t->busy = false;
	if (drained(w, cqe))
		return;
	if (cqe->res == -ETIME) {
		/* Prepared before it was armed, reaped after it fired. */
		if (elapsed < t->ns) {
			soak_fail(w, C_F_TIMER, "TIMEOUT user_data %#llx of %lld us (count %u) expired after %lld us",
				  (unsigned long long)op->ud, (long long)(t->ns / 1000), t->count,
				  (long long)(elapsed / 1000));
			return;
		}
		ctr_add(w->slot, C_TIMERS, 1);
		ctr_max(w->slot, C_TIMER_LATE_MAX_NS, (uint64_t)(elapsed - t->ns));
		return;
	}
	if (cqe->res == 0 && t->count)
		return;		/* its count of other CQEs came first */
	soak_bad_res(w, C_F_TIMER, op, cqe, t->count ? "expected -ETIME or 0" : "expected -ETIME");
}

static void long_timer_done(struct worker *w, struct sop *op,
			    const struct zsync_cqe *cqe, bool terminal)
{
	struct tmr *t = op->ctx;
	int64_t elapsed = now_ns() - op->t_prep;

	(void)terminal;
	t->busy = false;
	if (cqe->res == -ECANCELED) {
		ctr_add(w->slot, C_TIMER_CANCELS, 1);
		return;
	}
	if (cqe->res == -ETIME && elapsed >= t->ns)
		return;
	soak_bad_res(w, C_F_TIMER, op, cqe, "a 30 s TIMEOUT ended early without being cancelled");
}

/* The CANCEL of the 30 s TIMEOUT must find it: nothing else ends it. */
static void long_cancel_done(struct worker *w, struct sop *op,
			     const struct zsync_cqe *cqe, bool terminal)
{
	(void)terminal;
	if (cqe->res != 1 && !(w->draining && cqe->res == -ENOENT))
		soak_bad_res(w, C_F_TIMER, op, cqe, "CANCEL of a 30 s TIMEOUT armed 1-30 ms before");
}

static void timer_arm(struct worker *w, struct tmr *t, sop_fn fn, int64_t ns,
		      uint32_t count)
{
	struct sop *op;
	struct zsync_sqe *sqe = sring_prep(w, fn, t, 0, &op);

	if (!sqe)
		return;
	t->ns = ns;
	t->count = count;
	t->ts = ns_to_zts(ns);
	t->ud = op->ud;
	t->cancel_sent = false;
	zk_prep_timeout(sqe, &t->ts, count, 0);
	t->busy = true;
}

/*
 * Up to NR_TIMERS TIMEOUTs of 0.2 to 50 ms, a quarter of them also with a
 * completion count; and one 30 s TIMEOUT, cancelled 1 to 30 ms after.
 */
static void timer_tick(struct worker *w, int64_t now)
{
	struct timer_state *tm = &w->tm;
	struct zsync_sqe *sqe;
	unsigned int i;

	for (i = 0; i < NR_TIMERS; i++) {
		struct tmr *t = &tm->t[i];

		if (t->busy)
			continue;
		timer_arm(w, t, timer_done, rng_range(&w->rng, 200000, 50000000),
			  rng_range(&w->rng, 0, 3) ? 0 : rng_range(&w->rng, 1, 8));
	}
	if (!tm->longt.busy) {
		timer_arm(w, &tm->longt, long_timer_done, 30 * NSEC_PER_SEC, 0);
		tm->longt.cancel_at = now + rng_range(&w->rng, 1, 30) * NSEC_PER_MSEC;
	} else if (!tm->longt.cancel_sent && now >= tm->longt.cancel_at) {
		sqe = sring_prep(w, long_cancel_done, NULL, 0, NULL);
		if (sqe) {
			zk_prep_cancel(sqe, tm->longt.ud, 0);
			tm->longt.cancel_sent = true;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Event sources: a user event, two multishot waits, signals           */
/* ------------------------------------------------------------------ */

/*
 * Signal k carries k * SRC_MUL: an odd multiplier is invertible modulo
 * 2^32, so every value names its signal, and half the values have bit 31
 * set (ZSYNC_CQE_F_VALUE_BIT31).
 */
#define SRC_MUL	0x9e3779b1U

static uint32_t src_inverse(void)
{
	uint32_t inv = SRC_MUL;
	int i;

	for (i = 0; i < 5; i++)		/* Newton: each step doubles the bits */
		inv *= 2 - SRC_MUL * inv;
	return inv;
}

static void src_wait_cqe(struct worker *w, struct swait *sw, struct sop *op,
			 const struct zsync_cqe *cqe)
{
	struct source_state *s = &w->src;
	uint32_t k = zk_cqe_source_value(cqe) * src_inverse();

	s->delivered++;
	ctr_add(w->slot, C_SRC_DELIVERED, 1);
	if (cqe->res < 0)
		soak_bad_res(w, C_F_SOURCE, op, cqe, "negative res on a value CQE");
	else if (k >= s->nsig)
		soak_fail(w, C_F_SOURCE, "SOURCE_WAIT user_data %#llx: value %#x is signal %u, but only %u were sent",
			  (unsigned long long)op->ud, zk_cqe_source_value(cqe), k, s->nsig);
	else if (!sw->seen && k < sw->min_k)
		soak_fail(w, C_F_SOURCE, "SOURCE_WAIT user_data %#llx: first value is signal %u, sent before it was prepared (%u)",
			  (unsigned long long)op->ud, k, sw->min_k);
	else if (sw->seen && k != sw->next_k)
		soak_fail(w, C_F_SOURCE, "SOURCE_WAIT user_data %#llx: got signal %u, expected %u (lost, repeated or reordered)",
			  (unsigned long long)op->ud, k, sw->next_k);
	sw->seen = true;
	sw->next_k = k + 1;
}

static void src_wait_done(struct worker *w, struct sop *op,
			  const struct zsync_cqe *cqe, bool terminal)
{
	struct swait *sw = op->ctx;

	if (!terminal) {
		src_wait_cqe(w, sw, op, cqe);
		return;
	}
	sw->armed = false;
	sw->cancelling = false;
	if (cqe->res == -ECANCELED)
		return;
	if (cqe->res == -EOVERFLOW) {
		/* Legal when the CQ ring was full; the sums no longer match. */
		w->src.unreliable = true;
		ctr_add(w->slot, C_SRC_OVERFLOW, 1);
		return;
	}
	soak_bad_res(w, C_F_SOURCE, op, cqe, "SOURCE_WAIT ended unexpectedly");
}

static void src_signal_done(struct worker *w, struct sop *op,
			    const struct zsync_cqe *cqe, bool terminal)
{
	(void)terminal;
	w->src.sig_live = false;
	if (cqe->res < 0) {
		soak_bad_res(w, C_F_SOURCE, op, cqe, "SOURCE_SIGNAL failed");
		return;
	}
	w->src.reached += (uint64_t)cqe->res;
	ctr_add(w->slot, C_SRC_SIGNALS, 1);
	ctr_add(w->slot, C_SRC_REACHED, (uint64_t)cqe->res);
}

static void src_gen_start(struct worker *w)
{
	struct source_state *s = &w->src;

	memset(s, 0, sizeof(*s));
	s->fd = zk_source_create(&w->ring.zr, ZSYNC_SOURCE_CLOEXEC);
	if (s->fd < 0)
		soak_fail(w, C_F_SOURCE, "ZSYNC_IOC_SOURCE_CREATE: %s", errname(s->fd));
	s->next_cancel = now_ns() + rng_range(&w->rng, 100, 500) * NSEC_PER_MSEC;
}

/* One signal per loop: by ioctl or by op, never passing an op in flight. */
static void src_signal(struct worker *w)
{
	struct source_state *s = &w->src;
	uint32_t value = s->nsig * SRC_MUL;
	struct zsync_sqe *sqe;
	int n;

	if (s->sig_live)
		return;		/* an ioctl now would overtake it */
	if (rng_next(&w->rng) & 1) {
		sqe = sring_prep(w, src_signal_done, NULL, 0, NULL);
		if (!sqe)
			return;
		zk_prep_source_signal(sqe, s->fd, value);
		s->sig_live = true;
		s->nsig++;
		return;
	}
	n = zk_source_signal(s->fd, value);
	s->nsig++;
	if (n < 0) {
		soak_fail(w, C_F_SOURCE, "ZSYNC_IOC_SOURCE_SIGNAL: %s", errname(n));
		return;
	}
	s->reached += (uint64_t)n;
	ctr_add(w->slot, C_SRC_SIGNALS, 1);
	ctr_add(w->slot, C_SRC_REACHED, (uint64_t)n);
}

static void src_tick(struct worker *w, int64_t now)
{
	struct source_state *s = &w->src;
	struct zsync_sqe *sqe;
	struct sop *op;
	unsigned int i;

	if (s->fd < 0)
		return;
	for (i = 0; i < 2; i++) {
		struct swait *sw = &s->w[i];

		if (sw->armed || !(sqe = sring_prep(w, src_wait_done, sw, 0, &op)))
			continue;
		zk_prep_source_wait(sqe, s->fd);
		*sw = (struct swait){ .armed = true, .ud = op->ud, .min_k = s->nsig };
	}
	/* Now and then end a wait early, as a program that loses interest. */
	if (now >= s->next_cancel && s->w[0].armed && !s->w[0].cancelling) {
		sring_cancel_ud(w, s->w[0].ud);
		s->w[0].cancelling = true;
		s->next_cancel = now + rng_range(&w->rng, 100, 500) * NSEC_PER_MSEC;
	}
	src_signal(w);
}

/* After a clean drain: every waiter a signal reached got its CQE. */
static void src_gen_end(struct worker *w, bool clean)
{
	struct source_state *s = &w->src;

	if (clean && !s->unreliable && s->fd >= 0 && s->reached != s->delivered)
		soak_fail(w, C_F_SOURCE, "ring %u: signals reported %llu waiters reached, %llu value CQEs arrived",
			  w->ring.gen, (unsigned long long)s->reached,
			  (unsigned long long)s->delivered);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* ------------------------------------------------------------------ */
/* Generations                                                         */
/* ------------------------------------------------------------------ */

static int gen_start(struct worker *w)
{
	unsigned int i;

	if (sring_open(w))
		return -1;
	w->draining = false;
	for (i = 0; i < NR_TIMERS; i++)
		w->tm.t[i].busy = false;
	w->tm.longt.busy = false;
	file_gen_start(w);
	src_gen_start(w);
	if (net_gen_start(w))
		return -1;
	if (w->cfg->verbose)
		soak_info(w, "ring %u set up (fd %d)", w->ring.gen, w->ring.zr.fd);
	return 0;
}

static void gen_tick(struct worker *w, int64_t now)
{
	file_tick(w);
	timer_tick(w, now);
	src_tick(w, now);
	net_tick(w);
	cg_tick(w, now);
}

/*
 * Abrupt: reap what the CQ holds (so that fds that OPENAT or ACCEPT
 * installed are known and closed), then close the ring under whatever is
 * still in flight.  Clean: drain, check, close the file through the
 * ring, drain that too.
 */
static void gen_end(struct worker *w, bool clean)
{
	int64_t deadline = now_ns() + w->cfg->settle_ns;
	unsigned int live = w->ring.live;

	w->draining = true;
	if (clean) {
		/* Lost ops stay live: draining again would report them twice. */
		clean = sring_drain(w, deadline);
		file_gen_end(w, clean);
		if (clean)
			sring_drain(w, deadline);
	} else {
		sring_reap(w);
		live = w->ring.live;
		sring_close(w, true);
		file_gen_end(w, false);
	}
	src_gen_end(w, clean);
	if (w->cfg->verbose)
		soak_info(w, "ring %u closed %s (%u ops were live)", w->ring.gen,
			  clean ? "after draining" : "with ops in flight", live);
	sring_close(w, false);
	net_gen_end(w);
	cg_gen_end(w);
	w->draining = false;
}

static int worker_failures(const struct worker *w)
{
	uint64_t n = 0;
	int i;

	for (i = C_F_ACCT; i < C_NR; i++)
		n += ctr_get(w->slot, (enum soak_ctr)i);
	return n ? 1 : 0;
}

int worker_main(struct worker *w)
{
	const struct soak_cfg *cfg = w->cfg;
	int fds_start = count_fds(), fds_end;
	int64_t now, gen_until;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		w->file.rd[i].buf = malloc(65536);
		if (!w->file.rd[i].buf) {
			soak_fail(w, C_F_OTHER, "allocating read buffers: %s", errname(ENOMEM));
			return 1;
		}
	}
	w->file.fd = -1;
	w->src.fd = -1;
	net_init(w);
	cg_init(w);
	while (now_ns() < cfg->end_ns) {
		if (gen_start(w)) {
			gen_end(w, false);
			break;
		}
		gen_until = now_ns() + rng_range(&w->rng, 1500, 4000) * NSEC_PER_MSEC;
		if (gen_until > cfg->end_ns)
			gen_until = cfg->end_ns;
		while ((now = now_ns()) < gen_until) {
			gen_tick(w, now);
			sring_enter(w, LOOP_WAIT_NS);
			sring_reap(w);
		}
		gen_end(w, gen_until >= cfg->end_ns || (rng_next(&w->rng) & 1));
	}
	/* Every fd the ring handed out (OPENAT, ACCEPT) was seen and closed. */
	fds_end = count_fds();
	if (fds_end != fds_start)
		soak_fail(w, C_F_OTHER, "%d open fds at the start, %d at the end", fds_start, fds_end);
	for (i = 0; i < 2; i++)
		free(w->file.rd[i].buf);
	__atomic_store_n(&w->slot->done, 1, __ATOMIC_RELEASE);
	return worker_failures(w);
}
