// SPDX-License-Identifier: GPL-2.0
/*
 * zsync_edu, the user side: each open of /dev/zsync-eduN is a client with
 * its own zsync source and coherent DMA staging buffer (read and written
 * with pread/pwrite); its ioctls queue jobs, hand out the source's fd,
 * and serve the latency benchmark (an hrtimer event, an eventfd, the last
 * event's time).  See pci.c for the device side, objects, locking and
 * lifetimes.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/dma-mapping.h>
#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/zsync.h>
#include "zsync_source.h"
#include "edu.h"

/* ---- the client object ------------------------------------------------------ */

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

void edu_client_put(struct edu_client *c)
{
	kref_put(&c->ref, edu_client_last_put);
}

/* Drops jobs taken off the queue, outside edu->lock. */
void edu_jobs_free(struct list_head *jobs)
{
	struct edu_job *job, *tmp;

	list_for_each_entry_safe(job, tmp, jobs, node) {
		list_del(&job->node);
		edu_client_put(job->client);
		kfree(job);
	}
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
void edu_client_kill_source(struct edu_client *c)
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

const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.open		= edu_open,
	.release	= edu_release,
	.read		= edu_read_staging,
	.write		= edu_write_staging,
	.llseek		= default_llseek,
	.unlocked_ioctl	= edu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
