/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What zsync-trace's BPF programs (zsync-trace.bpf.c) and its user part
 * (zsync-trace.c) share: the maps' value layouts and sizes.
 */
#ifndef ZSYNC_TRACE_TOOL_H
#define ZSYNC_TRACE_TOOL_H

#define ZT_MAX_OPS	64	/* opcodes counted; larger ones go to the last slot */
#define ZT_SLOTS	32	/* log2 buckets of microseconds: [2^i, 2^(i+1)) */
#define ZT_MAX_INFLIGHT	65536

/* A request in flight, from its zsync_submit: the key is its req pointer. */
struct zt_start {
	__u64 ts;		/* ns, bpf_ktime_get_ns() */
	__u64 user_data;
	__u64 ring;
	__u32 pid;		/* the submitter's tgid */
	__s32 fd;
	__u8 opcode;
};

/* Per opcode: counts, and where requests ran (zsync_issue_path). */
struct zt_opstat {
	__u64 submitted;
	__u64 completed;	/* terminal CQEs */
	__u64 more;		/* CQEs flagged MORE (multishot) */
	__u64 errors;		/* terminal CQEs with res < 0 */
	__u64 overflowed;	/* CQEs that went to the overflow list */
	__u64 path[4];		/* inline, poll, worker, task */
	__u64 slots[ZT_SLOTS];	/* submit-to-terminal-CQE latency */
	__u64 lat_sum_ns;
};

#endif /* ZSYNC_TRACE_TOOL_H */
