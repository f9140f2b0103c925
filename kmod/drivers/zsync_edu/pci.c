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
 *
 * This file is the device side: PCI binding, the interrupt handler and
 * the job engine.  client.c is the user side: /dev/zsync-eduN, clients,
 * their ioctls and staging buffers.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include <linux/miscdevice.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "zsync_source.h"
#include "compat.h"
#include "edu.h"

static bool use_msi = true;
module_param(use_msi, bool, 0644);
MODULE_PARM_DESC(use_msi, "Use MSI when the device offers it, else INTx (read at bind)");

static DEFINE_IDA(edu_ida);
struct workqueue_struct *edu_wq;

/* ---- the device object ------------------------------------------------------ */

static void edu_dev_free(struct kref *ref)
{
	struct edu_dev *edu = container_of(ref, struct edu_dev, ref);

	pci_dev_put(edu->pdev);
	mutex_destroy(&edu->ctl);
	kfree(edu);
}

void edu_dev_put(struct edu_dev *edu)
{
	kref_put(&edu->ref, edu_dev_free);
}

/* ---- jobs and the interrupt --------------------------------------------------- */

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
void edu_start_next(struct edu_dev *edu)
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
void edu_client_event(struct edu_client *c, u32 value, u64 now)
{
	c->last_event_ns = now;
	zsync_source_signal(c->src, value);
	if (c->evfd)
		zsync_eventfd_signal(c->evfd, 1);
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
MODULE_VERSION(ZSYNC_MODULE_VERSION);
