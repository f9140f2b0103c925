/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync_edu internals shared by pci.c (the device: PCI, interrupt, jobs)
 * and client.c (/dev/zsync-eduN: clients, their ioctls and staging
 * buffers).  Objects, locking and lifetimes are described at the top of
 * pci.c.
 */
#ifndef _ZSYNC_EDU_INTERNAL_H
#define _ZSYNC_EDU_INTERNAL_H

#include <linux/types.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/kref.h>
#include <linux/wait.h>
#include <linux/completion.h>
#include <linux/workqueue.h>
#include <linux/hrtimer.h>
#include <linux/miscdevice.h>
#include <linux/pci.h>
#include <linux/zsync_edu.h>

struct eventfd_ctx;
struct zsync_source;

#define EDU_DRV_NAME		"zsync_edu"

/* Registers (QEMU docs/specs/edu.rst). */
#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_FACT		0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQFACT	0x80
#define EDU_DMA_START		0x01
#define EDU_DMA_TO_RAM		0x02
#define EDU_DMA_IRQ		0x04

/* Interrupt status bits: the device's two, and ours for IRQ jobs. */
#define EDU_IRQ_FACT		0x00000001
#define EDU_IRQ_DMA		0x00000100
#define EDU_IRQ_JOB		0x00010000
#define EDU_IRQ_TEST		0x00020000	/* probe checks interrupts arrive */

#define EDU_DEV_BUF		0x40000		/* the device buffer, as a DMA address */
#define EDU_DMA_BITS		28
#define EDU_ID_MAGIC		0xed

struct edu_dev {
	struct pci_dev		*pdev;
	void __iomem		*mmio;
	int			irq;
	bool			msi;
	int			index;		/* N of zsync-eduN, free again at unbind */
	char			name[16];
	struct miscdevice	misc;
	struct kref		ref;

	struct mutex		ctl;
	struct list_head	clients;	/* edu_client.node (ctl) */

	spinlock_t		lock;
	bool			gone;		/* unbinding: no job starts any more */
	struct list_head	queue;		/* edu_job.node, not started */
	struct edu_job		*cur;		/* the job the device runs */
	wait_queue_head_t	idle;		/* cur became NULL */
	struct completion	irq_test;	/* the handler saw EDU_IRQ_TEST */
	u64			irqs, irq_job_irqs, jobs_done;
};

struct edu_client {
	struct edu_dev		*edu;
	struct list_head	node;		/* edu->clients until freed (ctl) */
	struct kref		ref;		/* the file + each job */
	struct work_struct	free_work;
	struct zsync_source	*src;		/* our own reference */
	bool			src_dead;	/* destroyed (ctl) */
	void			*staging;	/* NULL once unbound (ctl) */
	dma_addr_t		staging_dma;
	struct hrtimer		timer;
	/* Under edu->lock: */
	struct eventfd_ctx	*evfd;
	u64			last_event_ns;
	u32			next_seq;
	unsigned int		queued;
};

struct edu_job {
	struct list_head	node;
	struct edu_client	*client;	/* a reference */
	struct zsync_edu_job	req;		/* what userspace asked for */
	u32			irqs_done;	/* IRQ: interrupts taken */
};

extern struct workqueue_struct *edu_wq;
extern const struct file_operations edu_fops;

static inline void edu_write(struct edu_dev *edu, u32 reg, u32 val)
{
	iowrite32(val, edu->mmio + reg);
}

static inline u32 edu_read(struct edu_dev *edu, u32 reg)
{
	return ioread32(edu->mmio + reg);
}

/* pci.c */
void edu_dev_put(struct edu_dev *edu);
void edu_start_next(struct edu_dev *edu);
void edu_client_event(struct edu_client *c, u32 value, u64 now);

/* client.c */
void edu_client_put(struct edu_client *c);
void edu_client_kill_source(struct edu_client *c);
void edu_jobs_free(struct list_head *jobs);

#endif /* _ZSYNC_EDU_INTERNAL_H */
