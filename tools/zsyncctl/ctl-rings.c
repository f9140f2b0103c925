// SPDX-License-Identifier: GPL-2.0
/*
 * The per-ring part of `zsyncctl status`: every ring of this PID namespace
 * (ZSYNC_IOC_RINGS, admin only) with its owner, what waits in it by op,
 * the longest waiter and its age, CQ fill and overflow.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"

#define CHUNK	64

struct ring_list {
	struct zsync_ring_info *v;
	unsigned int n;
};

/* Every ring but zsyncctl's own, in pieces of CHUNK; 0 or -errno. */
static int rings_read(struct ring_list *l)
{
	struct zsync_ring_info buf[CHUNK];
	__u64 after = 0;

	l->v = NULL;
	l->n = 0;
	for (;;) {
		struct zsync_rings r = {
			.buf = (uintptr_t)buf, .nr = CHUNK, .after_id = after,
			.info_size = sizeof(buf[0]),
		};
		struct zsync_ring_info *v;

		if (ioctl(ring.fd, ZSYNC_IOC_RINGS, &r))
			return -errno;
		if (!r.nr)
			return 0;
		v = realloc(l->v, (l->n + r.nr) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		for (unsigned int i = 0; i < r.nr; i++)
			if (buf[i].owner_pid != getpid())
				l->v[l->n++] = buf[i];
		after = r.after_id;
	}
}

static const char *op_name(unsigned int op)
{
	const char *name = zk_op_name(op);

	return name ? name : "?";
}

static void json_ring(const struct zsync_ring_info *r)
{
	bool first = true;

	printf("{\"id\":%" PRIu64 ",\"pid\":%d,\"comm\":", (uint64_t)r->id, r->owner_pid);
	json_string(stdout, r->owner_comm);
	printf(",\"sq_entries\":%u,\"cq_entries\":%u,\"sq_pending\":%u,\"cq_ready\":%u,"
	       "\"inflight\":%u,\"overflow\":%u,\"overflow_total\":%u,\"task_work\":%u,"
	       "\"waiting\":{", r->sq_entries, r->cq_entries, r->sq_pending, r->cq_ready,
	       r->inflight, r->overflow, r->overflow_total, r->task_work);
	for (unsigned int op = 0; op < ZSYNC_RING_INFO_OPS; op++) {
		if (!r->waiting[op])
			continue;
		printf("%s", first ? "" : ",");
		json_string(stdout, op_name(op));
		printf(":%u", r->waiting[op]);
		first = false;
	}
	printf("},\"oldest\":");
	if (r->oldest_op == ZSYNC_OP_LAST) {
		printf("null}");
		return;
	}
	printf("{\"op\":");
	json_string(stdout, op_name(r->oldest_op));
	printf(",\"user_data\":%" PRIu64 ",\"age_ms\":%" PRIu64 "}}",
	       (uint64_t)r->oldest_user_data, (uint64_t)r->oldest_age_ms);
}

static void text_ring(const struct zsync_ring_info *r)
{
	char comm[sizeof(r->owner_comm) + 1];
	bool any = false;

	memcpy(comm, r->owner_comm, sizeof(r->owner_comm));
	comm[sizeof(r->owner_comm)] = '\0';
	printf("  %-6" PRIu64 " %-7d %-15s %5u/%-6u %7u %9u %8u %8u",
	       (uint64_t)r->id, r->owner_pid, comm, r->sq_entries, r->cq_entries,
	       r->sq_pending, r->cq_ready, r->inflight, r->overflow);
	if (r->oldest_op != ZSYNC_OP_LAST)
		printf("  %s %" PRIu64 " ms (user_data 0x%" PRIx64 ")", op_name(r->oldest_op),
		       (uint64_t)r->oldest_age_ms, (uint64_t)r->oldest_user_data);
	printf("\n");
	if (r->task_work || r->overflow_total) {
		printf("         task work %u, CQEs overflowed since setup %u\n", r->task_work,
		       r->overflow_total);
	}
	for (unsigned int op = 0; op < ZSYNC_RING_INFO_OPS; op++) {
		if (!r->waiting[op])
			continue;
		printf("%s %s %u", any ? "," : "         waiting:", op_name(op), r->waiting[op]);
		any = true;
	}
	if (any)
		printf("\n");
}

/* Why the list is not there, for people. */
static const char *why_not(int err)
{
	switch (err) {
	case -EPERM:
		return "listing rings needs CAP_SYS_ADMIN";
	case -ENOTTY:
		return "the loaded module cannot list rings (ZSYNC_IOC_RINGS)";
	default:
		return strerror(-err);
	}
}

/**
 * print_rings() - the rings section of `zsyncctl status`
 *
 * With --json, the value of its "rings" member (an array, or null followed
 * by a "rings_error" member); else a table.  A list it may not read is not
 * a failure of status: the rest is still worth showing.
 */
void print_rings(void)
{
	struct ring_list l;
	int err = rings_read(&l);

	if (json) {
		if (err) {
			printf("null,\"rings_error\":");
			json_string(stdout, why_not(err));
		} else {
			printf("[");
			for (unsigned int i = 0; i < l.n; i++) {
				printf("%s", i ? "," : "");
				json_ring(&l.v[i]);
			}
			printf("]");
		}
	} else if (err) {
		printf("rings            (%s)\n", why_not(err));
	} else {
		printf("rings            %u\n", l.n);
		if (l.n)
			printf("  %-6s %-7s %-15s %5s/%-6s %7s %9s %8s %8s  %s\n", "ID", "PID",
			       "COMMAND", "SQ", "CQ", "PENDING", "CQ READY", "INFLIGHT",
			       "OVERFLOW", "OLDEST WAITING");
		for (unsigned int i = 0; i < l.n; i++)
			text_ring(&l.v[i]);
	}
	free(l.v);
}
