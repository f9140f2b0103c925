/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync event sources: the API zsync.ko exports to other drivers.
 *
 * A driver creates a source, hands userspace an fd for it
 * (zsync_source_fd()), and calls zsync_source_signal() when its event
 * happens, hard irq included.  Every ring armed on the source with
 * SOURCE_WAIT gets a CQE from that context, or, with more than 16 waiters,
 * from a kernel worker moments later.  See Documentation/sources.rst.
 */
#ifndef _ZSYNC_SOURCE_H
#define _ZSYNC_SOURCE_H

#include <linux/types.h>

struct zsync_source;

struct zsync_source *zsync_source_create(const char *name);
int zsync_source_signal(struct zsync_source *src, u32 value);
void zsync_source_destroy(struct zsync_source *src);
struct zsync_source *zsync_source_get(struct zsync_source *src);
void zsync_source_put(struct zsync_source *src);
int zsync_source_fd(struct zsync_source *src, unsigned int flags);

#endif /* _ZSYNC_SOURCE_H */
