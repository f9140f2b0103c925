// SPDX-License-Identifier: GPL-2.0
/*
 * zsync_edu: a PCI driver for QEMU's "edu" device (1234:11e8) whose jobs
 * complete through zsync event sources, from the device's interrupt
 * handler.  It is the example for driver authors of the API in
 * zsync_source.h; the ABI is uapi/linux/zsync_edu.h, the documentation
 * Documentation/sources.rst.
 *
 * Objects.  An edu_dev per bound device, with a misc device
 * /dev/zsync-eduN; an edu_client per open, owning a zsync source and a
 * coherent DMA staging buffer; an edu_job per queued job.  The device runs
 * one job at a time (edu->cur); the interrupt handler finishes it, signals
 * the client's source with the result and starts the next.
 *
 * Locking.  edu->lock (spinlock, taken in the handler) protects the queue,
 * cur, gone, the counters, the clients' eventfds and everything that
 * programs the device for a job; sources are signalled under it, so the
 * order is edu->lock -> zsync's locks.  edu->ctl (mutex) serialises open,
 * release, unbind and the register and staging accesses of ioctls,
 * read and write.
 *
 * Lifetimes.  A client is referenced by its file and by each of its jobs;
 * the last reference can go in the handler, so the client is freed from a
 * work item (the staging buffer needs process context).  An edu_dev is
 * referenced by its binding and by each client, so files opened before an
 * unbind stay valid (everything but close then fails with -ENODEV).
 * Unbind stops new jobs, lets the running one finish (or gives up on it
 * and stops bus mastering), frees the interrupt, then destroys every
 * client's source: the waiters get -ENODEV, exactly once.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include <linux/miscdevice.h>
#include <linux/dma-mapping.h>
#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/idr.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/delay.h>
#include <linux/workqueue.h>
#include <linux/zsync.h>
#include <linux/zsync_edu.h>
#include "zsync_source.h"
#include "compat.h"

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

static bool use_msi = true;
module_param(use_msi, bool, 0644);
MODULE_PARM_DESC(use_msi, "Use MSI when the device offers it, else INTx (read at bind)");

static DEFINE_IDA(edu_ida);
static struct workqueue_struct *edu_wq;

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

/* ---- objects -------------------------------------------------------------- */

static void edu_dev_free(struct kref *ref)
{
	struct edu_dev *edu = container_of(ref, struct edu_dev, ref);

	pci_dev_put(edu->pdev);
	mutex_destroy(&edu->ctl);
	kfree(edu);
}

static void edu_dev_put(struct edu_dev *edu)
{
	kref_put(&edu->ref, edu_dev_free);
}

static void edu_client_free(struct work_struct *work)
{
	struct edu_client *c = container_of(work, struct edu_client, free_work);
	struct edu_dev *edu = c->edu;

	mutex_lock(&edu->ctl);
	list_del(&c->node);
	if (c->staging)
		dma_free_coherent(&edu->pdev->dev, ZSYNC_EDU_STAGING_SIZE, c->staging,
				  c->staging_dma);
	mutex_unlock(&edu->ctl);
	if (c->evfd)
		eventfd_ctx_put(c->evfd);
	zsync_source_put(c->src);
	edu_dev_put(edu);
	kfree(c);
}

static void edu_client_last_put(struct kref *ref)
{
	struct edu_client *c = container_of(ref, struct edu_client, ref);

	/* Possibly in the interrupt handler: free from process context. */
	queue_work(edu_wq, &c->free_work);
}

static void edu_client_put(struct edu_client *c)
{
	kref_put(&c->ref, edu_client_last_put);
}

/* Drops jobs taken off the queue, outside edu->lock. */
static void edu_jobs_free(struct list_head *jobs)
{
	struct edu_job *job, *tmp;

	list_for_each_entry_safe(job, tmp, jobs, node) {
		list_del(&job->node);
		edu_client_put(job->client);
		kfree(job);
	}
}

/* ---- device and interrupt ---------------------------------------------- */

static void edu_write(struct edu_dev *edu, u32 reg, u32 val)
{
	iowrite32(val, edu->mmio + reg);
}

static u32 edu_read(struct edu_dev *edu, u32 reg)
{
	return ioread32(edu->mmio + reg);
}

static void edu_dma(struct edu_dev *edu, u32 src, u32 dst, u32 len, u32 cmd)
{
	/* The addresses fit in 32 bits (28-bit DMA mask, 0x40000 window). */
	edu_write(edu, EDU_REG_DMA_SRC, src);
	edu_write(edu, EDU_REG_DMA_DST, dst);
	edu_write(edu, EDU_REG_DMA_COUNT, len);
	edu_write(edu, EDU_REG_DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ | cmd);
}

/* Caller holds edu->lock: programs the device for @job. */
static void edu_job_start(struct edu_dev *edu, struct edu_job *job)
{
	const struct zsync_edu_job *r = &job->req;
	u32 staging = (u32)job->client->staging_dma + r->buf_off;

	switch (r->op) {
	case ZSYNC_EDU_JOB_FACT:
		edu_write(edu, EDU_REG_FACT, r->arg);
		break;
	case ZSYNC_EDU_JOB_DMA_TO_DEV:
		edu_dma(edu, staging, EDU_DEV_BUF + r->dev_off, r->len, 0);
		break;
	case ZSYNC_EDU_JOB_DMA_FROM_DEV:
		edu_dma(edu, EDU_DEV_BUF + r->dev_off, staging, r->len, EDU_DMA_TO_RAM);
		break;
	case ZSYNC_EDU_JOB_IRQ:
		edu_write(edu, EDU_REG_IRQ_RAISE, EDU_IRQ_JOB);
		break;
	}
}

/* Caller holds edu->lock: the device is free, give it the next job. */
static void edu_start_next(struct edu_dev *edu)
{
	struct edu_job *job;

	if (edu->cur || edu->gone || list_empty(&edu->queue))
		return;
	job = list_first_entry(&edu->queue, struct edu_job, node);
	list_del(&job->node);
	edu->cur = job;
	edu_job_start(edu, job);
}

/*
 * Caller holds edu->lock: an event of @c, from hard irq (the device's
 * handler or the client's hrtimer).  The source and the eventfd are
 * signalled right here: that is the point of the whole exercise.
 */
static void edu_client_event(struct edu_client *c, u32 value, u64 now)
{
	c->last_event_ns = now;
	zsync_source_signal(c->src, value);
	if (c->evfd)
		zsync_eventfd_signal(c->evfd);
}

/* Caller holds edu->lock: @job is done; it is freed by the caller. */
static void edu_job_finish(struct edu_dev *edu, struct edu_job *job, u32 value, u64 now)
{
	edu_client_event(job->client, value, now);
	job->client->queued--;
	edu->jobs_done++;
	edu->cur = NULL;
	wake_up(&edu->idle);
}

/*
 * Caller holds edu->lock: the interrupt @status concerns the running job.
 * Returns the job if it is finished.
 */
static struct edu_job *edu_job_irq(struct edu_dev *edu, u32 status, u64 now)
{
	struct edu_job *job = edu->cur;
	const struct zsync_edu_job *r;
	u32 value;

	if (!job)
		return NULL;
	r = &job->req;
	switch (r->op) {
	case ZSYNC_EDU_JOB_FACT:
		if (!(status & EDU_IRQ_FACT))
			return NULL;
		edu_job_finish(edu, job, edu_read(edu, EDU_REG_FACT), now);
		return job;
	case ZSYNC_EDU_JOB_DMA_TO_DEV:
	case ZSYNC_EDU_JOB_DMA_FROM_DEV:
		if (!(status & EDU_IRQ_DMA))
			return NULL;
		edu_job_finish(edu, job, r->len, now);
		return job;
	}
	if (!(status & EDU_IRQ_JOB))
		return NULL;
	edu->irq_job_irqs++;
	job->irqs_done++;
	value = (r->flags & ZSYNC_EDU_JOB_F_TIMESTAMP) ? (u32)now : job->irqs_done;
	if (job->irqs_done < r->arg && !edu->gone) {
		edu_client_event(job->client, value, now);
		/* Acked already: this raises a new, separate interrupt. */
		edu_write(edu, EDU_REG_IRQ_RAISE, EDU_IRQ_JOB);
		return NULL;
	}
	edu_job_finish(edu, job, value, now);
	return job;
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu_dev *edu = data;
	u64 now = ktime_get_ns();
	struct edu_job *done;
	u32 status;

	status = edu_read(edu, EDU_REG_IRQ_STATUS);
	if (!status)
		return IRQ_NONE;	/* INTx may be shared */
	/* Ack first: a raise written below must stay pending. */
	edu_write(edu, EDU_REG_IRQ_ACK, status);

	if (status & EDU_IRQ_TEST)
		complete(&edu->irq_test);
	spin_lock(&edu->lock);
	edu->irqs++;
	done = edu_job_irq(edu, status, now);
	edu_start_next(edu);
	spin_unlock(&edu->lock);

	if (done) {
		edu_client_put(done->client);
		kfree(done);
	}
	return IRQ_HANDLED;
}

static enum hrtimer_restart edu_timer_fire(struct hrtimer *timer)
{
	struct edu_client *c = container_of(timer, struct edu_client, timer);
	struct edu_dev *edu = c->edu;
	u64 now = ktime_get_ns();
	unsigned long flags;

	spin_lock_irqsave(&edu->lock, flags);
	edu_client_event(c, (u32)now, now);
	spin_unlock_irqrestore(&edu->lock, flags);
	return HRTIMER_NORESTART;
}

/* ---- ioctls ---------------------------------------------------------------- */

static int edu_job_check(const struct zsync_edu_job *r)
{
	bool dma = r->op == ZSYNC_EDU_JOB_DMA_TO_DEV || r->op == ZSYNC_EDU_JOB_DMA_FROM_DEV;

	if (memchr_inv(r->resv, 0, sizeof(r->resv)) || r->seq)
		return -EINVAL;
	if (dma) {
		if (r->flags || r->arg || !r->len || r->len > ZSYNC_EDU_DMA_WINDOW)
			return -EINVAL;
		/* Never the device buffer's last byte: see ZSYNC_EDU_DMA_WINDOW. */
		if (r->buf_off > ZSYNC_EDU_STAGING_SIZE - r->len ||
		    r->dev_off > ZSYNC_EDU_DMA_WINDOW - r->len)
			return -EINVAL;
		return 0;
	}
	if (r->len || r->buf_off || r->dev_off)
		return -EINVAL;
	if (r->op == ZSYNC_EDU_JOB_FACT)
		return r->flags || r->arg > ZSYNC_EDU_FACT_MAX ? -EINVAL : 0;
	if (r->op == ZSYNC_EDU_JOB_IRQ)
		return (r->flags & ~ZSYNC_EDU_JOB_F_TIMESTAMP) || !r->arg ||
		       r->arg > ZSYNC_EDU_IRQ_MAX ? -EINVAL : 0;
	return -EINVAL;
}

static long edu_ioctl_submit(struct edu_client *c, struct zsync_edu_job __user *ureq)
{
	struct edu_dev *edu = c->edu;
	struct edu_job *job;
	unsigned long flags;
	long ret = 0;

	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job)
		return -ENOMEM;
	if (copy_from_user(&job->req, ureq, sizeof(job->req))) {
		kfree(job);
		return -EFAULT;
	}
	ret = edu_job_check(&job->req);
	if (ret) {
		kfree(job);
		return ret;
	}
	job->client = c;

	spin_lock_irqsave(&edu->lock, flags);
	if (edu->gone) {
		ret = -ENODEV;
	} else if (c->queued >= ZSYNC_EDU_QUEUE_MAX) {
		ret = -EAGAIN;
	} else {
		job->req.seq = ++c->next_seq;
		c->queued++;
		kref_get(&c->ref);
		list_add_tail(&job->node, &edu->queue);
		/* put_user below reads seq: the job may be gone by then. */
		ret = job->req.seq;
		edu_start_next(edu);
	}
	spin_unlock_irqrestore(&edu->lock, flags);
	if (ret < 0) {
		kfree(job);
		return ret;
	}
	return put_user((u32)ret, &ureq->seq) ? -EFAULT : 0;
}

static long edu_ioctl_info(struct edu_client *c, struct zsync_edu_info __user *uinfo)
{
	struct edu_dev *edu = c->edu;
	struct zsync_edu_info info = {};

	mutex_lock(&edu->ctl);
	if (!c->staging) {
		mutex_unlock(&edu->ctl);
		return -ENODEV;
	}
	info.id = edu_read(edu, EDU_REG_ID);
	mutex_unlock(&edu->ctl);
	info.irq_mode = edu->msi ? ZSYNC_EDU_IRQ_MSI : ZSYNC_EDU_IRQ_INTX;
	info.staging_size = ZSYNC_EDU_STAGING_SIZE;
	spin_lock_irq(&edu->lock);
	info.irqs = edu->irqs;
	info.irq_job_irqs = edu->irq_job_irqs;
	info.jobs_done = edu->jobs_done;
	spin_unlock_irq(&edu->lock);
	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

static long edu_ioctl_liveness(struct edu_client *c, u32 __user *uval)
{
	struct edu_dev *edu = c->edu;
	long ret = 0;
	u32 val;

	if (get_user(val, uval))
		return -EFAULT;
	/* One register for every client: write and read back as one step. */
	mutex_lock(&edu->ctl);
	if (c->staging) {
		edu_write(edu, EDU_REG_LIVENESS, val);
		val = edu_read(edu, EDU_REG_LIVENESS);
	} else {
		ret = -ENODEV;
	}
	mutex_unlock(&edu->ctl);
	return ret ? ret : put_user(val, uval);
}

static long edu_ioctl_source(struct edu_client *c, unsigned long flags)
{
	struct edu_dev *edu = c->edu;
	long ret;

	if (flags & ~ZSYNC_SOURCE_CLOEXEC)
		return -EINVAL;
	mutex_lock(&edu->ctl);
	if (c->src_dead)
		ret = -ENODEV;
	else
		ret = zsync_source_fd(c->src, flags ? O_CLOEXEC : 0);
	mutex_unlock(&edu->ctl);
	return ret;
}

static long edu_ioctl_timer(struct edu_client *c, u64 __user *uns)
{
	struct edu_dev *edu = c->edu;
	long ret = 0;
	u64 ns;

	if (get_user(ns, uns))
		return -EFAULT;
	if (ns > KTIME_MAX)
		return -EINVAL;
	mutex_lock(&edu->ctl);
	if (c->src_dead)
		ret = -ENODEV;
	else
		hrtimer_start(&c->timer, ns_to_ktime(ns), HRTIMER_MODE_ABS_HARD);
	mutex_unlock(&edu->ctl);
	return ret;
}

static long edu_ioctl_eventfd(struct edu_client *c, s32 __user *ufd)
{
	struct eventfd_ctx *ctx = NULL, *old;
	struct edu_dev *edu = c->edu;
	s32 fd;

	if (get_user(fd, ufd))
		return -EFAULT;
	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	/* The handler uses it under the lock: the old one is free after it. */
	spin_lock_irq(&edu->lock);
	old = c->evfd;
	c->evfd = ctx;
	spin_unlock_irq(&edu->lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_client *c = file->private_data;
	void __user *uarg = (void __user *)arg;
	u64 ns;

	switch (cmd) {
	case ZSYNC_EDU_IOC_INFO:
		return edu_ioctl_info(c, uarg);
	case ZSYNC_EDU_IOC_LIVENESS:
		return edu_ioctl_liveness(c, uarg);
	case ZSYNC_EDU_IOC_SOURCE:
		return edu_ioctl_source(c, arg);
	case ZSYNC_EDU_IOC_SUBMIT:
		return edu_ioctl_submit(c, uarg);
	case ZSYNC_EDU_IOC_TIMER:
		return edu_ioctl_timer(c, uarg);
	case ZSYNC_EDU_IOC_EVENTFD:
		return edu_ioctl_eventfd(c, uarg);
	case ZSYNC_EDU_IOC_LAST_EVENT:
		spin_lock_irq(&c->edu->lock);
		ns = c->last_event_ns;
		spin_unlock_irq(&c->edu->lock);
		return put_user(ns, (u64 __user *)uarg);
	default:
		return -ENOTTY;
	}
}

/* ---- file: open, staging buffer, release ------------------------------------ */

static ssize_t edu_read_staging(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
	struct edu_client *c = file->private_data;
	ssize_t ret = -ENODEV;

	mutex_lock(&c->edu->ctl);
	if (c->staging)
		ret = simple_read_from_buffer(buf, len, ppos, c->staging,
					      ZSYNC_EDU_STAGING_SIZE);
	mutex_unlock(&c->edu->ctl);
	return ret;
}

static ssize_t edu_write_staging(struct file *file, const char __user *buf, size_t len,
				 loff_t *ppos)
{
	struct edu_client *c = file->private_data;
	ssize_t ret = -ENODEV;

	mutex_lock(&c->edu->ctl);
	if (c->staging)
		ret = simple_write_to_buffer(c->staging, ZSYNC_EDU_STAGING_SIZE, ppos,
					     buf, len);
	mutex_unlock(&c->edu->ctl);
	return ret;
}

/* Caller holds edu->ctl: new client of @edu; NULL on allocation failure. */
static struct edu_client *edu_client_new(struct edu_dev *edu)
{
	struct edu_client *c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);

	if (!c)
		return NULL;
	c->staging = dma_alloc_coherent(&edu->pdev->dev, ZSYNC_EDU_STAGING_SIZE,
					&c->staging_dma, GFP_KERNEL);
	c->src = zsync_source_create(edu->name);
	if (!c->staging || IS_ERR(c->src)) {
		if (c->staging)
			dma_free_coherent(&edu->pdev->dev, ZSYNC_EDU_STAGING_SIZE,
					  c->staging, c->staging_dma);
		if (!IS_ERR(c->src))
			zsync_source_destroy(c->src);
		kfree(c);
		return NULL;
	}
	/* One for the handler to signal through until the client is freed. */
	zsync_source_get(c->src);
	c->edu = edu;
	kref_init(&c->ref);
	kref_get(&edu->ref);
	INIT_WORK(&c->free_work, edu_client_free);
	hrtimer_init(&c->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	c->timer.function = edu_timer_fire;
	list_add_tail(&c->node, &edu->clients);
	return c;
}

static int edu_open(struct inode *inode, struct file *file)
{
	struct edu_dev *edu = container_of(file->private_data, struct edu_dev, misc);
	struct edu_client *c;

	/* misc_deregister() waits for opens in progress: edu is alive. */
	mutex_lock(&edu->ctl);
	c = edu_client_new(edu);
	mutex_unlock(&edu->ctl);
	if (!c)
		return -ENOMEM;
	file->private_data = c;
	return 0;
}

/* Caller holds edu->ctl: the client's waiters get -ENODEV, once. */
static void edu_client_kill_source(struct edu_client *c)
{
	if (c->src_dead)
		return;
	c->src_dead = true;
	hrtimer_cancel(&c->timer);
	zsync_source_destroy(c->src);
}

static int edu_release(struct inode *inode, struct file *file)
{
	struct edu_client *c = file->private_data;
	struct edu_dev *edu = c->edu;
	struct edu_job *job, *tmp;
	LIST_HEAD(dropped);

	mutex_lock(&edu->ctl);
	edu_client_kill_source(c);
	mutex_unlock(&edu->ctl);

	/* Jobs not started are dropped; a running one finishes first. */
	spin_lock_irq(&edu->lock);
	list_for_each_entry_safe(job, tmp, &edu->queue, node) {
		if (job->client == c) {
			list_move_tail(&job->node, &dropped);
			c->queued--;
		}
	}
	spin_unlock_irq(&edu->lock);
	edu_jobs_free(&dropped);
	edu_client_put(c);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.open		= edu_open,
	.release	= edu_release,
	.read		= edu_read_staging,
	.write		= edu_write_staging,
	.llseek		= default_llseek,
	.unlocked_ioctl	= edu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* ---- PCI ------------------------------------------------------------------ */

static int edu_setup_irq(struct edu_dev *edu)
{
	unsigned int types = PCI_IRQ_ALL_TYPES;
	int ret;

	if (!use_msi)
		types &= ~(PCI_IRQ_MSI | PCI_IRQ_MSIX);
	ret = pci_alloc_irq_vectors(edu->pdev, 1, 1, types);
	if (ret < 0)
		return ret;
	edu->msi = edu->pdev->msi_enabled;
	edu->irq = pci_irq_vector(edu->pdev, 0);
	/* Factorials always interrupt when done. */
	edu_write(edu, EDU_REG_STATUS, EDU_STATUS_IRQFACT);
	ret = request_irq(edu->irq, edu_irq, edu->msi ? 0 : IRQF_SHARED, edu->name, edu);
	if (ret)
		pci_free_irq_vectors(edu->pdev);
	return ret;
}

/*
 * Raise an interrupt and wait for it.  An INTx line the platform could not
 * route (no GSI) would otherwise bind a device whose jobs never finish.
 */
static int edu_test_irq(struct edu_dev *edu)
{
	reinit_completion(&edu->irq_test);
	edu_write(edu, EDU_REG_IRQ_RAISE, EDU_IRQ_TEST);
	if (wait_for_completion_timeout(&edu->irq_test, HZ))
		return 0;
	edu_write(edu, EDU_REG_IRQ_ACK, EDU_IRQ_TEST);
	dev_err(&edu->pdev->dev, "no interrupt from the device within 1 s (%s)\n",
		edu->msi ? "MSI" : "INTx");
	return -EIO;
}

static int edu_map(struct edu_dev *edu)
{
	struct pci_dev *pdev = edu->pdev;
	u32 id;
	int ret;

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, EDU_DRV_NAME);
	if (ret)
		goto disable;
	edu->mmio = pci_iomap(pdev, 0, 0);
	if (!edu->mmio) {
		ret = -ENOMEM;
		goto release;
	}
	id = edu_read(edu, EDU_REG_ID);
	if ((id & 0xffff) != EDU_ID_MAGIC) {
		dev_err(&pdev->dev, "unexpected identification %#x\n", id);
		ret = -ENODEV;
		goto unmap;
	}
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		goto unmap;
	pci_set_master(pdev);
	return 0;
unmap:
	pci_iounmap(pdev, edu->mmio);
release:
	pci_release_regions(pdev);
disable:
	pci_disable_device(pdev);
	return ret;
}

static void edu_unmap(struct edu_dev *edu)
{
	pci_clear_master(edu->pdev);
	pci_iounmap(edu->pdev, edu->mmio);
	pci_release_regions(edu->pdev);
	pci_disable_device(edu->pdev);
}

static struct edu_dev *edu_dev_alloc(struct pci_dev *pdev)
{
	struct edu_dev *edu = kzalloc(sizeof(*edu), GFP_KERNEL);

	if (!edu)
		return NULL;
	edu->index = ida_alloc(&edu_ida, GFP_KERNEL);
	if (edu->index < 0) {
		kfree(edu);
		return NULL;
	}
	edu->pdev = pci_dev_get(pdev);
	kref_init(&edu->ref);
	mutex_init(&edu->ctl);
	INIT_LIST_HEAD(&edu->clients);
	spin_lock_init(&edu->lock);
	INIT_LIST_HEAD(&edu->queue);
	init_waitqueue_head(&edu->idle);
	init_completion(&edu->irq_test);
	snprintf(edu->name, sizeof(edu->name), "zsync-edu%d", edu->index);
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = edu->name;
	edu->misc.fops = &edu_fops;
	edu->misc.parent = &pdev->dev;
	edu->misc.mode = 0600;
	return edu;
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_dev *edu = edu_dev_alloc(pdev);
	int ret;

	if (!edu)
		return -ENOMEM;
	ret = edu_map(edu);
	if (ret)
		goto put;
	ret = edu_setup_irq(edu);
	if (ret)
		goto unmap;
	ret = edu_test_irq(edu);
	if (ret)
		goto irq;
	pci_set_drvdata(pdev, edu);
	ret = misc_register(&edu->misc);
	if (ret)
		goto irq;
	dev_info(&pdev->dev, "%s: edu %#x, %s\n", edu->name, edu_read(edu, EDU_REG_ID),
		 edu->msi ? "MSI" : "INTx");
	return 0;
irq:
	free_irq(edu->irq, edu);
	pci_free_irq_vectors(pdev);
unmap:
	edu_unmap(edu);
put:
	ida_free(&edu_ida, edu->index);
	edu_dev_put(edu);
	return ret;
}

/* Unbinding: no new job starts, the running one gets a chance to finish. */
static void edu_quiesce(struct edu_dev *edu, struct list_head *dropped)
{
	struct edu_job *job;

	spin_lock_irq(&edu->lock);
	edu->gone = true;
	list_splice_init(&edu->queue, dropped);
	list_for_each_entry(job, dropped, node)
		job->client->queued--;
	spin_unlock_irq(&edu->lock);
	/* A DMA takes 100 ms of the device's time; a factorial of 65535, less. */
	wait_event_timeout(edu->idle, !READ_ONCE(edu->cur), 2 * HZ);

	free_irq(edu->irq, edu);
	pci_free_irq_vectors(edu->pdev);
	edu_write(edu, EDU_REG_STATUS, 0);
	/* Nothing may keep a (possibly shared) INTx line asserted now. */
	edu_write(edu, EDU_REG_IRQ_ACK, ~0U);
	if (edu->cur) {
		/* Hung: no DMA may reach memory that is about to be freed. */
		dev_warn(&edu->pdev->dev, "job %u still running at unbind\n",
			 edu->cur->req.op);
		pci_clear_master(edu->pdev);
		list_add_tail(&edu->cur->node, dropped);
		edu->cur = NULL;
	}
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dev *edu = pci_get_drvdata(pdev);
	struct edu_client *c;
	LIST_HEAD(dropped);

	misc_deregister(&edu->misc);
	/* Clients still open must not keep the name from a device bound next. */
	ida_free(&edu_ida, edu->index);
	edu_quiesce(edu, &dropped);

	/* Closed clients not freed yet are on the list too: no DMA runs now. */
	mutex_lock(&edu->ctl);
	list_for_each_entry(c, &edu->clients, node) {
		edu_client_kill_source(c);
		dma_free_coherent(&pdev->dev, ZSYNC_EDU_STAGING_SIZE, c->staging,
				  c->staging_dma);
		c->staging = NULL;
	}
	mutex_unlock(&edu->ctl);
	edu_jobs_free(&dropped);
	edu_unmap(edu);
	dev_info(&pdev->dev, "%s: unbound\n", edu->name);
	edu_dev_put(edu);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= EDU_DRV_NAME,
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
};

static int __init edu_init(void)
{
	int ret;

	edu_wq = alloc_workqueue("zsync_edu", 0, 0);
	if (!edu_wq)
		return -ENOMEM;
	ret = pci_register_driver(&edu_driver);
	if (ret)
		destroy_workqueue(edu_wq);
	return ret;
}

static void __exit edu_exit(void)
{
	pci_unregister_driver(&edu_driver);
	/* Clients whose last job finished after their close. */
	destroy_workqueue(edu_wq);
}

module_init(edu_init);
module_exit(edu_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("zsync-k developers");
MODULE_DESCRIPTION("QEMU edu PCI device: DMA and factorial jobs completing through zsync sources");
