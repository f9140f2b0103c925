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

#endif /* _ZSYNC_COMPAT_H */
