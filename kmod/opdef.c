// SPDX-License-Identifier: GPL-2.0
/*
 * The single table of zsync ops and the checks every SQE goes through
 * before its op sees it.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "zsync.h"

/* READ, WRITE, READV, WRITEV: one op; prep tells them apart by opcode. */
#define ZSYNC_RW_OPDEF(op_name) {					\
	.name		= op_name,					\
	.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_OFF | ZSYNC_FIELD_ADDR | \
			  ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,	\
	.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,		\
	.prep		= zsync_rw_prep,				\
	.issue		= zsync_rw_issue,				\
	.cancel		= zsync_async_cancel,				\
	.retry		= zsync_rw_retry,				\
	.cleanup	= zsync_rw_cleanup,				\
	.cmd_size	= ZSYNC_CMD_SIZE(rw),				\
}

/* Every op's command fits the fixed area; the uapi structs keep their sizes. */
static_assert(ZSYNC_CMD_SIZE(timeout) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(cancel) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(msg) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(poll_add) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(rw) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(fsync) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(fs) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(sr) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(accept) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(connect) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(cg_set) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(cg_attach) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(cg_wait) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(pidfd_wait) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(ns_socket) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(ns_info) <= ZSYNC_CMD_MAX);
static_assert(ZSYNC_CMD_SIZE(source) <= ZSYNC_CMD_MAX);
static_assert(sizeof(struct zsync_sqe) == 64);
static_assert(sizeof(struct zsync_cqe) == 16);
static_assert(sizeof(struct zsync_enter) == 48);
static_assert(sizeof(struct zsync_params) == 96);
/* Op families are consecutive ranges (zsync_families below). */
static_assert(ZSYNC_OP_NOP == 0 && ZSYNC_OP_LAST <= 256);

const struct zsync_opdef zsync_opdefs[ZSYNC_OP_LAST] = {
	[ZSYNC_OP_NOP] = {
		.name		= "NOP",
		.fields		= ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.prep		= zsync_nop_prep,
		.issue		= zsync_nop_issue,
		.complete_noreq	= zsync_nop_complete_noreq,
	},
	[ZSYNC_OP_TIMEOUT] = {
		.name		= "TIMEOUT",
		.cmd_size	= ZSYNC_CMD_SIZE(timeout),
		.fields		= ZSYNC_FIELD_ADDR | ZSYNC_FIELD_OFF |
				  ZSYNC_FIELD_OPFLAGS,
		.prep		= zsync_timeout_prep,
		.issue		= zsync_timeout_issue,
		.cancel		= zsync_timeout_cancel,
	},
	[ZSYNC_OP_LINK_TIMEOUT] = {
		.name		= "LINK_TIMEOUT",
		.cmd_size	= ZSYNC_CMD_SIZE(timeout),
		.fields		= ZSYNC_FIELD_ADDR | ZSYNC_FIELD_OPFLAGS,
		.prep		= zsync_link_timeout_prep,
		/* never issued on its own: armed by the request it guards */
		.cancel		= zsync_link_timeout_cancel,
	},
	[ZSYNC_OP_CANCEL] = {
		.name		= "CANCEL",
		.cmd_size	= ZSYNC_CMD_SIZE(cancel),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR |
				  ZSYNC_FIELD_OPFLAGS,
		.prep		= zsync_cancel_prep,
		.issue		= zsync_cancel_issue,
	},
	[ZSYNC_OP_MSG_RING] = {
		.name		= "MSG_RING",
		.cmd_size	= ZSYNC_CMD_SIZE(msg),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_OFF | ZSYNC_FIELD_LEN,
		/* no ZSYNC_OPF_FILE: a request never holds a ring's file */
		.prep		= zsync_msg_ring_prep,
		.issue		= zsync_msg_ring_issue,
		.cleanup	= zsync_msg_ring_cleanup,
	},
	[ZSYNC_OP_POLL_ADD] = {
		.name		= "POLL_ADD",
		.cmd_size	= ZSYNC_CMD_SIZE(poll_add),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE,
		.prep		= zsync_poll_add_prep,
		.issue		= zsync_poll_add_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_poll_add_retry,
		.poll_wake	= zsync_poll_add_wake,
	},
	[ZSYNC_OP_POLL_REMOVE] = {
		.name		= "POLL_REMOVE",
		.cmd_size	= ZSYNC_CMD_SIZE(cancel),
		.fields		= ZSYNC_FIELD_ADDR,
		.prep		= zsync_poll_remove_prep,
		.issue		= zsync_poll_remove_issue,
	},
	[ZSYNC_OP_READ]		= ZSYNC_RW_OPDEF("READ"),
	[ZSYNC_OP_WRITE]	= ZSYNC_RW_OPDEF("WRITE"),
	[ZSYNC_OP_READV]	= ZSYNC_RW_OPDEF("READV"),
	[ZSYNC_OP_WRITEV]	= ZSYNC_RW_OPDEF("WRITEV"),
	[ZSYNC_OP_FSYNC] = {
		.name		= "FSYNC",
		.cmd_size	= ZSYNC_CMD_SIZE(fsync),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_OFF | ZSYNC_FIELD_LEN |
				  ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_fsync_prep,
		.issue		= zsync_fsync_issue,
		.cancel		= zsync_async_cancel,
	},
	[ZSYNC_OP_OPENAT] = {
		.name		= "OPENAT",
		.cmd_size	= ZSYNC_CMD_SIZE(fs),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_LEN |
				  ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_TASK,
		.prep		= zsync_openat_prep,
		.issue		= zsync_openat_issue,
		.cancel		= zsync_async_cancel,
		.cleanup	= zsync_fs_cleanup,
	},
	[ZSYNC_OP_CLOSE] = {
		.name		= "CLOSE",
		.cmd_size	= ZSYNC_CMD_SIZE(close_fd),
		.fields		= ZSYNC_FIELD_FD,
		.flags		= ZSYNC_OPF_TASK,
		.prep		= zsync_close_prep,
		.issue		= zsync_close_issue,
		.cancel		= zsync_async_cancel,
	},
	[ZSYNC_OP_STATX] = {
		.name		= "STATX",
		.cmd_size	= ZSYNC_CMD_SIZE(fs),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_LEN |
				  ZSYNC_FIELD_OPFLAGS | ZSYNC_FIELD_ADDR2,
		.flags		= ZSYNC_OPF_TASK,
		.prep		= zsync_statx_prep,
		.issue		= zsync_statx_issue,
		.cancel		= zsync_async_cancel,
		.cleanup	= zsync_fs_cleanup,
	},
	[ZSYNC_OP_ACCEPT] = {
		.name		= "ACCEPT",
		.cmd_size	= ZSYNC_CMD_SIZE(accept),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_ADDR2 |
				  ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		/* installs the new fd in the submitter's table */
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_TASK | ZSYNC_OPF_SKIPS_LSM,
		.prep		= zsync_accept_prep,
		.issue		= zsync_accept_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_accept_retry,
	},
	[ZSYNC_OP_CONNECT] = {
		.name		= "CONNECT",
		.cmd_size	= ZSYNC_CMD_SIZE(connect),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_LEN,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY | ZSYNC_OPF_SKIPS_LSM,
		.prep		= zsync_connect_prep,
		.issue		= zsync_connect_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_connect_retry,
		.cleanup	= zsync_connect_cleanup,
	},
	[ZSYNC_OP_SEND] = {
		.name		= "SEND",
		.cmd_size	= ZSYNC_CMD_SIZE(sr),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_LEN |
				  ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_send_prep,
		.issue		= zsync_send_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_send_retry,
	},
	[ZSYNC_OP_RECV] = {
		.name		= "RECV",
		.cmd_size	= ZSYNC_CMD_SIZE(sr),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_LEN |
				  ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_recv_prep,
		.issue		= zsync_recv_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_recv_retry,
	},
	[ZSYNC_OP_SENDMSG] = {
		.name		= "SENDMSG",
		.cmd_size	= ZSYNC_CMD_SIZE(msgio),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_sendmsg_prep,
		.issue		= zsync_sendmsg_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_sendmsg_retry,
		.cleanup	= zsync_msg_cleanup,
	},
	[ZSYNC_OP_RECVMSG] = {
		.name		= "RECVMSG",
		.cmd_size	= ZSYNC_CMD_SIZE(msgio),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_recvmsg_prep,
		.issue		= zsync_recvmsg_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_recvmsg_retry,
		.cleanup	= zsync_msg_cleanup,
	},
	[ZSYNC_OP_SHUTDOWN] = {
		.name		= "SHUTDOWN",
		.cmd_size	= ZSYNC_CMD_SIZE(shutdown_how),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_SKIPS_LSM,
		.prep		= zsync_shutdown_prep,
		.issue		= zsync_shutdown_issue,
	},
	[ZSYNC_OP_CGROUP_ATTACH] = {
		.name		= "CGROUP_ATTACH",
		.cmd_size	= ZSYNC_CMD_SIZE(cg_attach),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_TASK,
		.prep		= zsync_cgroup_attach_prep,
		.issue		= zsync_cgroup_attach_issue,
		.cleanup	= zsync_cgroup_attach_cleanup,
	},
	[ZSYNC_OP_CGROUP_SET] = {
		.name		= "CGROUP_SET",
		.cmd_size	= ZSYNC_CMD_SIZE(cg_set),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR | ZSYNC_FIELD_ADDR2 |
				  ZSYNC_FIELD_LEN,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_TASK,
		.prep		= zsync_cgroup_set_prep,
		.issue		= zsync_cgroup_set_issue,
		.cleanup	= zsync_cgroup_set_cleanup,
	},
	[ZSYNC_OP_CGROUP_FREEZE] = {
		.name		= "CGROUP_FREEZE",
		.cmd_size	= ZSYNC_CMD_SIZE(cg_wait),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_cgroup_control_prep,
		.issue		= zsync_cgroup_control_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_cgroup_state_retry,
		.poll_wake	= zsync_cgroup_control_wake,
		.cleanup	= zsync_cgroup_wait_cleanup,
	},
	[ZSYNC_OP_CGROUP_THAW] = {
		.name		= "CGROUP_THAW",
		.cmd_size	= ZSYNC_CMD_SIZE(cg_wait),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_cgroup_control_prep,
		.issue		= zsync_cgroup_control_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_cgroup_state_retry,
		.poll_wake	= zsync_cgroup_control_wake,
		.cleanup	= zsync_cgroup_wait_cleanup,
	},
	[ZSYNC_OP_CGROUP_KILL] = {
		.name		= "CGROUP_KILL",
		.cmd_size	= ZSYNC_CMD_SIZE(cg_wait),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_cgroup_control_prep,
		.issue		= zsync_cgroup_control_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_cgroup_state_retry,
		.poll_wake	= zsync_cgroup_control_wake,
		.cleanup	= zsync_cgroup_wait_cleanup,
	},
	[ZSYNC_OP_CGROUP_WAIT] = {
		.name		= "CGROUP_WAIT",
		.cmd_size	= ZSYNC_CMD_SIZE(cg_wait),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN | ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_cgroup_wait_prep,
		.issue		= zsync_cgroup_wait_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_cgroup_wait_retry,
		.cleanup	= zsync_cgroup_wait_cleanup,
	},
	[ZSYNC_OP_PIDFD_WAIT] = {
		.name		= "PIDFD_WAIT",
		.cmd_size	= ZSYNC_CMD_SIZE(pidfd_wait),
		.fields		= ZSYNC_FIELD_FD,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_pidfd_wait_prep,
		.issue		= zsync_pidfd_wait_issue,
		.cancel		= zsync_async_cancel,
		.retry		= zsync_pidfd_wait_retry,
		.cleanup	= zsync_pidfd_wait_cleanup,
	},
	[ZSYNC_OP_NS_SOCKET] = {
		.name		= "NS_SOCKET",
		.cmd_size	= ZSYNC_CMD_SIZE(ns_socket),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_OFF | ZSYNC_FIELD_LEN |
				  ZSYNC_FIELD_OPFLAGS,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_TASK,
		.prep		= zsync_ns_socket_prep,
		.issue		= zsync_ns_socket_issue,
	},
	[ZSYNC_OP_NS_INFO] = {
		.name		= "NS_INFO",
		.cmd_size	= ZSYNC_CMD_SIZE(ns_info),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_ADDR,
		.flags		= ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY,
		.prep		= zsync_ns_info_prep,
		.issue		= zsync_ns_info_issue,
	},
	[ZSYNC_OP_SOURCE_WAIT] = {
		.name		= "SOURCE_WAIT",
		.cmd_size	= ZSYNC_CMD_SIZE(source),
		.fields		= ZSYNC_FIELD_FD,
		.flags		= ZSYNC_OPF_FILE,
		.prep		= zsync_source_wait_prep,
		.issue		= zsync_source_wait_issue,
		.cancel		= zsync_source_wait_cancel,
		.cleanup	= zsync_source_wait_cleanup,
	},
	[ZSYNC_OP_SOURCE_SIGNAL] = {
		.name		= "SOURCE_SIGNAL",
		.cmd_size	= ZSYNC_CMD_SIZE(source),
		.fields		= ZSYNC_FIELD_FD | ZSYNC_FIELD_LEN,
		.flags		= ZSYNC_OPF_FILE,
		.prep		= zsync_source_signal_prep,
		.issue		= zsync_source_signal_issue,
	},
};

/*
 * Op families, by opcode range: uapi/linux/zsync.h numbers each family's
 * ops consecutively, so an op added to a family is covered without
 * touching this table.
 */
static const struct zsync_family {
	const char	*name;
	u8		first, last;
} zsync_families[] = {
	{ "core",	ZSYNC_OP_NOP,		ZSYNC_OP_MSG_RING },
	{ "poll",	ZSYNC_OP_POLL_ADD,	ZSYNC_OP_POLL_REMOVE },
	{ "file",	ZSYNC_OP_READ,		ZSYNC_OP_STATX },
	{ "net",	ZSYNC_OP_ACCEPT,	ZSYNC_OP_SHUTDOWN },
	{ "cgroup",	ZSYNC_OP_CGROUP_ATTACH,	ZSYNC_OP_CGROUP_WAIT },
	{ "ns",		ZSYNC_OP_PIDFD_WAIT,	ZSYNC_OP_NS_INFO },
	{ "source",	ZSYNC_OP_SOURCE_WAIT,	ZSYNC_OP_SOURCE_SIGNAL },
};

/* The core family runs the ring itself (TIMEOUT, CANCEL): never disabled. */
#define ZSYNC_FAMILY_CORE	0

/* Bit N: zsync_families[N] is disabled.  Written whole, read locklessly. */
unsigned long zsync_disabled_families;

static int zsync_family_find(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zsync_families); i++)
		if (strlen(zsync_families[i].name) == len &&
		    !strncmp(zsync_families[i].name, name, len))
			return i;
	return -EINVAL;
}

/* "cgroup,ns" (commas or spaces; empty: none) -> bitmap of families. */
static int zsync_families_parse(const char *val, unsigned long *mask)
{
	const char *sep = ",\n ";

	*mask = 0;
	while (*val) {
		size_t len = strcspn(val, sep);
		int i;

		if (len) {
			i = zsync_family_find(val, len);
			if (i < 0 || i == ZSYNC_FAMILY_CORE)
				return -EINVAL;
			*mask |= BIT(i);
		}
		val += len;
		val += strspn(val, sep);
	}
	return 0;
}

static int zsync_disable_families_set(const char *val, const struct kernel_param *kp)
{
	unsigned long mask;
	int ret = zsync_families_parse(val, &mask);

	if (ret)
		return ret;
	WRITE_ONCE(zsync_disabled_families, mask);
	return 0;
}

static int zsync_disable_families_get(char *buf, const struct kernel_param *kp)
{
	unsigned long mask = READ_ONCE(zsync_disabled_families);
	unsigned int i;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(zsync_families); i++)
		if (mask & BIT(i))
			n += scnprintf(buf + n, PAGE_SIZE - n, "%s%s", n ? "," : "",
				       zsync_families[i].name);
	return n + scnprintf(buf + n, PAGE_SIZE - n, "\n");
}

static const struct kernel_param_ops zsync_disable_families_ops = {
	.set	= zsync_disable_families_set,
	.get	= zsync_disable_families_get,
};
module_param_cb(disable_families, &zsync_disable_families_ops, NULL, 0644);
MODULE_PARM_DESC(disable_families,
		 "Op families whose SQEs complete with -EOPNOTSUPP: poll,file,net,cgroup,ns,source");

/*
 * connect(2), accept(2) and shutdown(2) call security_socket_connect(),
 * security_socket_accept() and security_socket_shutdown(); modules cannot
 * (they are not exported), so these ops would skip every LSM's socket
 * rules: Landlock's TCP connect rules, SELinux, AppArmor, Smack, TOMOYO.
 * They fail closed unless the administrator accepts that.  The other ops
 * go through the same checks as their syscalls (sock_sendmsg(),
 * sock_recvmsg(), __sock_create(), filp_open(), vfs_getattr(), ...).
 */
static bool zsync_lsm_bypass_net;
module_param_named(lsm_bypass_net, zsync_lsm_bypass_net, bool, 0644);
MODULE_PARM_DESC(lsm_bypass_net,
		 "Allow CONNECT, ACCEPT and SHUTDOWN, which run WITHOUT the LSM hooks security_socket_connect/accept/shutdown: Landlock, SELinux, AppArmor, Smack and TOMOYO rules on connect(2), accept(2) and shutdown(2) do not apply to them (default N: they complete with -EOPNOTSUPP)");

/*
 * Whether the administrator disabled @opcode (a valid opcode): its family
 * is disabled, or it skips an LSM hook and that was not allowed.
 */
bool zsync_op_disabled(u8 opcode)
{
	unsigned long mask = READ_ONCE(zsync_disabled_families);
	unsigned int i;

	if ((zsync_opdef_get(opcode)->flags & ZSYNC_OPF_SKIPS_LSM) &&
	    !READ_ONCE(zsync_lsm_bypass_net))
		return true;

	for (i = 0; mask && i < ARRAY_SIZE(zsync_families); i++)
		if (opcode >= zsync_families[i].first && opcode <= zsync_families[i].last)
			return mask & BIT(i);
	return false;
}

/**
 * zsync_probe() - answer ZSYNC_IOC_PROBE: the opcodes this module implements,
 * and which of them are disabled
 * @arg: user pointer to a struct zsync_probe
 *
 * Return: 0, -EFAULT, or -EINVAL if a reserved field is not zero.
 */
long zsync_probe(void __user *arg)
{
	struct zsync_probe p;
	unsigned int i;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	if (memchr_inv(p.resv, 0, sizeof(p.resv)))
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	for (i = 0; i < ZSYNC_OP_LAST; i++) {
		if (!zsync_opdef_get(i))
			continue;
		p.ops[i / 64] |= 1ULL << (i % 64);
		if (zsync_op_disabled(i))
			p.disabled_ops[i / 64] |= 1ULL << (i % 64);
	}
	p.last_op = ZSYNC_OP_LAST;
	p.abi_version = ZSYNC_ABI_VERSION;
	p.features = ZSYNC_FEATURES;
	return copy_to_user(arg, &p, sizeof(p)) ? -EFAULT : 0;
}
