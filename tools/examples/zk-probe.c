// SPDX-License-Identifier: MIT
/*
 * zk-probe: which ops the loaded zsync module offers, then one NOP through
 * a ring.  A program that needs only the ring layer (zsync-k.h), so only
 * libzsync-k and libc; build it against an installed copy with
 *
 *   cc zk-probe.c -o zk-probe $(pkg-config --cflags --libs zsync-k)
 *
 *   zk-probe           probe the module and submit a NOP
 *   zk-probe --list    the ops this library knows, no device needed
 *
 * Exit status: 0 ok, 1 no ring (module missing, no access) or a failed
 * op, 2 usage.  $ZSYNC_DEV names another device node.
 */
#include <stdio.h>
#include <string.h>

#include <zsync-k.h>

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--list | --help]\n"
		"Probes the zsync module (ops implemented, disabled) and submits one NOP.\n"
		"  --list   print the ops this library knows and exit (no device needed)\n"
		"  --help   this text\n"
		"Exit status: 0 ok, 1 no ring or a failed op, 2 usage.\n", prog);
}

/* The library's names need no device: the host-only part of the example. */
static void list_ops(void)
{
	unsigned int op;

	for (op = 0; op < ZSYNC_OP_LAST; op++)
		if (zk_op_name(op))
			printf("%u %s\n", op, zk_op_name(op));
}

static const char *op_state(const struct zsync_probe *p, unsigned int op)
{
	if (!zk_probe_has_op(p, op))
		return "missing";
	return zk_probe_op_disabled(p, op) ? "disabled" : "ok";
}

static int probe(struct zk_ring *ring)
{
	struct zsync_probe p;
	unsigned int op;
	int ret;

	memset(&p, 0, sizeof(p));
	ret = zk_probe(ring, &p);
	if (ret < 0) {
		fprintf(stderr, "zk_probe: %s\n", strerror(-ret));
		return 1;
	}
	printf("ABI %u, %u ops\n", p.abi_version, p.last_op);
	for (op = 0; op < ZSYNC_OP_LAST; op++)
		if (zk_op_name(op))
			printf("  %-14s %s\n", zk_op_name(op), op_state(&p, op));
	return 0;
}

static int nop(struct zk_ring *ring)
{
	struct zsync_sqe *sqe = zk_get_sqe(ring);
	struct zsync_cqe *cqe;
	int ret;

	zk_prep_nop(sqe);
	zk_sqe_set_data64(sqe, 42);
	ret = zk_submit_and_wait(ring, 1);
	if (ret >= 0)
		ret = zk_wait_cqe(ring, &cqe);
	if (ret < 0) {
		fprintf(stderr, "NOP: %s\n", strerror(-ret));
		return 1;
	}
	printf("NOP: user_data %llu res %d\n",
	       (unsigned long long)zk_cqe_get_data64(cqe), cqe->res);
	ret = cqe->res;
	zk_cqe_seen(ring, cqe);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct zk_ring ring;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout, argv[0]);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		list_ops();
		return 0;
	}
	if (argc != 1) {
		usage(stderr, argv[0]);
		return 2;
	}
	ret = zk_ring_init(8, &ring, 0);
	if (ret < 0) {
		fprintf(stderr, "zk_ring_init: %s (is zsync.ko loaded, may you open the device?)\n",
			strerror(-ret));
		return 1;
	}
	ret = probe(&ring);
	if (!ret)
		ret = nop(&ring);
	zk_ring_exit(&ring);
	return ret;
}
