// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-trace's BPF side: attached to the zsync tracepoints
 * (Documentation/tracing.rst), it keeps every request in flight by its
 * req pointer and, per opcode, counts, paths and a log2 histogram of the
 * time from submission to the terminal CQE.
 *
 * The module is built out of tree without BTF, so the tracepoints'
 * records are read through plain structs that mirror their format files
 * (events/zsync/<event>/format): the common header, then the fields in
 * TP_STRUCT__entry order with their natural alignment.  The VM test
 * checks the counts against a known workload, which a layout that drifted
 * would fail.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <linux/zsync.h>

#include "zsync-trace.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the user part before load: 0 traces every process. */
const volatile __u32 target_pid = 0;

struct tp_common {
	__u16 type;
	__u8 flags;
	__u8 preempt_count;
	__s32 pid;
};

struct tp_submit {
	struct tp_common c;
	__u64 ring;
	__u64 req;
	__u64 user_data;
	__u8 opcode;
	__u8 sqe_flags;
	__s32 res;
	__s32 fd;
};

struct tp_issue_path {
	struct tp_common c;
	__u64 ring;
	__u64 req;
	__u64 user_data;
	__u8 opcode;
	__s32 path;
};

struct tp_cqe {
	struct tp_common c;
	__u64 ring;
	__u64 req;
	__u64 user_data;
	__u8 opcode;
	__s32 res;
	__u32 cflags;
	_Bool overflow;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct zt_start);
} inflight SEC(".maps");

/*
 * Requests `slow` reported (req -> its submission time), written by the
 * user side; a request's entry goes with its terminal CQE.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZT_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, __u64);
} reported SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZT_MAX_OPS);
	__type(key, __u32);
	__type(value, struct zt_opstat);
} opstats SEC(".maps");

static struct zt_opstat *opstat(__u8 opcode)
{
	__u32 key = opcode < ZT_MAX_OPS ? opcode : ZT_MAX_OPS - 1;

	return bpf_map_lookup_elem(&opstats, &key);
}

static __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	/* Bounded for the verifier: ZT_SLOTS - 1 halvings at most. */
	for (int i = 0; i < ZT_SLOTS - 1 && v > 1; i++) {
		v >>= 1;
		slot++;
	}
	return slot;
}

SEC("tracepoint/zsync/zsync_submit")
int on_submit(struct tp_submit *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct zt_start st = {};
	__u64 req = ctx->req;	/* map keys come from the stack */
	struct zt_opstat *s;

	if (target_pid && pid != target_pid)
		return 0;
	st.ts = bpf_ktime_get_ns();
	st.user_data = ctx->user_data;
	st.ring = ctx->ring;
	st.pid = pid;
	st.fd = ctx->fd;
	st.opcode = ctx->opcode;
	bpf_map_update_elem(&inflight, &req, &st, BPF_ANY);
	s = opstat(ctx->opcode);
	if (s)
		__sync_fetch_and_add(&s->submitted, 1);
	return 0;
}

SEC("tracepoint/zsync/zsync_issue_path")
int on_issue_path(struct tp_issue_path *ctx)
{
	struct zt_opstat *s;
	__u32 path = (__u32)ctx->path;
	__u64 req = ctx->req;

	/* Only requests this run saw submitted (and, with -p, of that process). */
	if (!bpf_map_lookup_elem(&inflight, &req))
		return 0;
	s = opstat(ctx->opcode);
	if (s && path < 4)
		__sync_fetch_and_add(&s->path[path], 1);
	return 0;
}

SEC("tracepoint/zsync/zsync_cqe")
int on_cqe(struct tp_cqe *ctx)
{
	struct zt_start *st;
	struct zt_opstat *s;
	__u64 req = ctx->req, delta;

	if (!req)
		return 0;
	st = bpf_map_lookup_elem(&inflight, &req);
	if (!st)
		return 0;
	s = opstat(st->opcode);
	if (!s)
		return 0;
	if (ctx->overflow)
		__sync_fetch_and_add(&s->overflowed, 1);
	if (ctx->cflags & ZSYNC_CQE_F_MORE) {
		__sync_fetch_and_add(&s->more, 1);
		return 0;
	}
	delta = bpf_ktime_get_ns() - st->ts;
	__sync_fetch_and_add(&s->completed, 1);
	if (ctx->res < 0)
		__sync_fetch_and_add(&s->errors, 1);
	__sync_fetch_and_add(&s->slots[log2_slot(delta / 1000)], 1);
	__sync_fetch_and_add(&s->lat_sum_ns, delta);
	bpf_map_delete_elem(&inflight, &req);
	bpf_map_delete_elem(&reported, &req);
	return 0;
}
