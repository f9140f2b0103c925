// SPDX-License-Identifier: MIT
/*
 * libzsync-k event sources: user events created and signalled through
 * ioctls (waiting and signalling through the ring: zk_prep_source_*()).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "zsync-k.h"

int zk_source_create(const struct zk_ring *ring, unsigned int flags)
{
	struct zsync_source_create c;
	int fd;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	fd = ioctl(ring->fd, ZSYNC_IOC_SOURCE_CREATE, &c);
	return fd < 0 ? -errno : fd;
}

int zk_source_signal(int source_fd, __u32 value)
{
	struct zsync_source_signal s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.value = value;
	ret = ioctl(source_fd, ZSYNC_IOC_SOURCE_SIGNAL, &s);
	return ret < 0 ? -errno : ret;
}
