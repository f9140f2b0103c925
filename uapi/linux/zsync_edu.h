/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * zsync_edu: the ABI of /dev/zsync-eduN, the driver for QEMU's "edu" PCI
 * device that completes its jobs through a zsync event source.
 *
 * Each open of /dev/zsync-eduN is a client with its own event source
 * (ZSYNC_EDU_IOC_SOURCE gives its fd, to arm SOURCE_WAIT on) and its own
 * DMA staging buffer of ZSYNC_EDU_STAGING_SIZE bytes, read and written
 * with pread(2)/pwrite(2).  ZSYNC_EDU_IOC_SUBMIT queues a job and returns
 * at once; the device runs one job at a time, and each job signals the
 * client's source from the device's interrupt handler:
 *
 *   FACT          value: n! as the device computes it (mod 2^32)
 *   DMA_TO_DEV    staging[buf_off..+len) -> device buffer[dev_off..+len);
 *                 value: len
 *   DMA_FROM_DEV  device buffer[dev_off..+len) -> staging[buf_off..+len);
 *                 value: len (pread the data after the CQE)
 *   IRQ           arg interrupts, one after the other; one signal each,
 *                 value: 1, 2, ... arg, or with ZSYNC_EDU_JOB_F_TIMESTAMP
 *                 the low 32 bits of CLOCK_MONOTONIC ns at handler entry
 *
 * A client's job signals arrive in submission order.  Closing the client,
 * or unbinding the device, destroys its source: SOURCE_WAITs on it end
 * with -ENODEV, and jobs that had not started are dropped.
 */
#ifndef _UAPI_LINUX_ZSYNC_EDU_H
#define _UAPI_LINUX_ZSYNC_EDU_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define ZSYNC_EDU_STAGING_SIZE	8192	/* per client */
#define ZSYNC_EDU_DEV_BUF_SIZE	4096	/* the device's own buffer */
/*
 * DMA stays in the first 4095 bytes of the device buffer: QEMU's model up
 * to 7.2 (Debian 12's) aborts the whole VM on a transfer that ends at its
 * last byte (an off-by-one fixed upstream by QEMU commit 2c5107e1b455).
 */
#define ZSYNC_EDU_DMA_WINDOW	4095
#define ZSYNC_EDU_FACT_MAX	65535	/* from 34 on, n! mod 2^32 is 0 anyway */
#define ZSYNC_EDU_IRQ_MAX	65536	/* interrupts per IRQ job */
#define ZSYNC_EDU_QUEUE_MAX	64	/* jobs a client may have queued */

enum zsync_edu_op {
	ZSYNC_EDU_JOB_FACT		= 1,
	ZSYNC_EDU_JOB_DMA_TO_DEV	= 2,
	ZSYNC_EDU_JOB_DMA_FROM_DEV	= 3,
	ZSYNC_EDU_JOB_IRQ		= 4,
};

#define ZSYNC_EDU_JOB_F_TIMESTAMP	(1U << 0)	/* IRQ: values are timestamps */

/* Fields a job does not use must be zero. */
struct zsync_edu_job {
	__u32	op;		/* ZSYNC_EDU_JOB_* */
	__u32	flags;		/* ZSYNC_EDU_JOB_F_* */
	__u32	arg;		/* FACT: n (<= FACT_MAX); IRQ: count (1..IRQ_MAX) */
	__u32	len;		/* DMA: bytes (1..DMA_WINDOW) */
	__u32	buf_off;	/* DMA: offset in the staging buffer */
	__u32	dev_off;	/* DMA: offset in the device buffer (+ len <= DMA_WINDOW) */
	__u32	seq;		/* out: the job's number on this client, from 1 */
	__u32	resv[5];	/* must be zero */
};

#define ZSYNC_EDU_IRQ_MSI	1
#define ZSYNC_EDU_IRQ_INTX	2

struct zsync_edu_info {
	__u32	id;		/* identification register: 0xRRrr00ed */
	__u32	irq_mode;	/* ZSYNC_EDU_IRQ_* */
	__u64	irqs;		/* device interrupts handled, all clients */
	__u64	irq_job_irqs;	/* ... of which raised for IRQ jobs */
	__u64	jobs_done;	/* jobs completed, all clients */
	__u32	staging_size;	/* ZSYNC_EDU_STAGING_SIZE */
	__u32	resv[7];
};

#define ZSYNC_EDU_IOC_MAGIC	0xA8
/* Device registers and counters. */
#define ZSYNC_EDU_IOC_INFO	_IOR(ZSYNC_EDU_IOC_MAGIC, 0x00, struct zsync_edu_info)
/* Writes the value to the liveness register and reads it back (~value). */
#define ZSYNC_EDU_IOC_LIVENESS	_IOWR(ZSYNC_EDU_IOC_MAGIC, 0x01, __u32)
/* Returns a new fd for the client's source; arg: 0 or ZSYNC_SOURCE_CLOEXEC. */
#define ZSYNC_EDU_IOC_SOURCE	_IO(ZSYNC_EDU_IOC_MAGIC, 0x02)
/* Queues a job (-EAGAIN: QUEUE_MAX jobs queued already). */
#define ZSYNC_EDU_IOC_SUBMIT	_IOWR(ZSYNC_EDU_IOC_MAGIC, 0x03, struct zsync_edu_job)
/*
 * Signals the client's source from an hrtimer (hard irq) at an absolute
 * CLOCK_MONOTONIC time in ns, with the low 32 bits of the time it fired
 * as the value: a device-less interrupt-context event for benchmarks.
 */
#define ZSYNC_EDU_IOC_TIMER	_IOW(ZSYNC_EDU_IOC_MAGIC, 0x04, __u64)
/* Also signal this eventfd on every event of the client (-1: none). */
#define ZSYNC_EDU_IOC_EVENTFD	_IOW(ZSYNC_EDU_IOC_MAGIC, 0x05, __s32)
/* CLOCK_MONOTONIC ns at the start of the client's last event (handler entry). */
#define ZSYNC_EDU_IOC_LAST_EVENT _IOR(ZSYNC_EDU_IOC_MAGIC, 0x06, __u64)

#endif /* _UAPI_LINUX_ZSYNC_EDU_H */
