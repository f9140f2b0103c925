/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shims for the kernel API differences between the supported kernels
 * (Debian's 6.1 and 6.12).  Kbuild detects each API from the headers and
 * defines ZSYNC_HAVE_*.
 */
#ifndef _ZSYNC_COMPAT_H
#define _ZSYNC_COMPAT_H

#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <net/sock.h>

static inline void zsync_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef ZSYNC_HAVE_EVENTFD_SIGNAL_NOCOUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

static inline void zsync_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
#ifdef ZSYNC_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* @sock's protocol accept() into @newsock, as a user's accept(2) (not kern). */
static inline int zsync_sock_accept(struct socket *sock, struct socket *newsock, int flags)
{
#ifdef ZSYNC_HAVE_PROTO_ACCEPT_ARG
	struct proto_accept_arg arg = { .flags = flags };

	return sock->ops->accept(sock, newsock, &arg);
#else
	return sock->ops->accept(sock, newsock, flags, false);
#endif
}

#endif /* _ZSYNC_COMPAT_H */
