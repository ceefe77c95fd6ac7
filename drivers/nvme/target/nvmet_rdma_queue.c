// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: devices and queues.
 *
 * A queue is created whole in the CONNECT_REQUEST handler, before it is
 * accepted, so that a connection is either refused or has every buffer
 * it will ever use.  It is torn down only by its release work, in process
 * context, once nvmet core has finished with every command on it.
 */
#include "nvmet_rdma.h"
#include "nvmet_rdma_trace.h"

#include <linux/completion.h>
#include <linux/idr.h>
#include <linux/slab.h>

static LIST_HEAD(nvmet_rdma_devices);
static DEFINE_IDA(nvmet_rdma_queue_ida);

/* Protects nvmet_rdma_devices, nvmet_rdma_queues and dev->removing. */
DEFINE_MUTEX(nvmet_rdma_lock);
LIST_HEAD(nvmet_rdma_queues);

static void nvmet_rdma_rbuf_free(struct ib_device *ibdev,
				 struct nvmet_rdma_rbuf *rb, unsigned int pages)
{
	unsigned int i;

	for (i = 0; i < pages; i++) {
		if (!rb->page[i])
			break;
		ib_dma_unmap_page(ibdev, rb->sge[1 + i].addr, PAGE_SIZE,
				  DMA_FROM_DEVICE);
		__free_page(rb->page[i]);
		rb->page[i] = NULL;
	}
}

/* @sqe is mapped already (in an array); @len bytes of in-capsule data. */
static int nvmet_rdma_rbuf_setup(struct ib_device *ibdev, u32 lkey,
				 struct nvmet_rdma_rbuf *rb,
				 struct nvme_command *sqe, dma_addr_t sqe_dma,
				 unsigned int pages, u32 len)
{
	unsigned int p;

	rb->sqe = sqe;
	rb->sge[0].addr = sqe_dma;
	rb->sge[0].length = sizeof(*sqe);
	rb->sge[0].lkey = lkey;

	for (p = 0; p < pages; p++) {
		struct page *page = alloc_page(GFP_KERNEL);
		dma_addr_t dma;

		if (!page)
			goto out_free_pages;
		dma = ib_dma_map_page(ibdev, page, 0, PAGE_SIZE,
				      DMA_FROM_DEVICE);
		if (ib_dma_mapping_error(ibdev, dma)) {
			__free_page(page);
			goto out_free_pages;
		}
		rb->page[p] = page;
		rb->sge[1 + p].addr = dma;
		rb->sge[1 + p].length = min_t(u32, len, PAGE_SIZE);
		rb->sge[1 + p].lkey = lkey;
		len -= rb->sge[1 + p].length;
	}
	nvmet_rdma_rbuf_init(rb);
	rb->wr.num_sge = 1 + pages;
	return 0;

out_free_pages:
	nvmet_rdma_rbuf_free(ibdev, rb, pages);
	return -ENOMEM;
}

/* Undo nvmet_rdma_srq_bufs_alloc(). */
static void nvmet_rdma_srq_bufs_free(struct nvmet_rdma_srq *srq)
{
	struct ib_device *ibdev = srq->dev->ibdev;
	u32 i;

	for (i = 0; i < srq->size; i++)
		nvmet_rdma_rbuf_free(ibdev, &srq->rbufs[i], srq->pages);
	kvfree(srq->rbufs);
	srq->rbufs = NULL;
	ib_dma_unmap_single(ibdev, srq->sqes_dma,
			    srq->size * sizeof(*srq->sqes), DMA_FROM_DEVICE);
	srq->sqes_dma = 0;
	kfree(srq->sqes);
	srq->sqes = NULL;
}

/* Undo nvmet_rdma_srq_create(). */
static void nvmet_rdma_srq_free(struct nvmet_rdma_srq *srq)
{
	/* Every QP on it is gone: no limit event can rearm the work now. */
	cancel_delayed_work_sync(&srq->rearm_work);
	ib_destroy_srq(srq->srq);
	nvmet_rdma_srq_bufs_free(srq);
	kfree(srq);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_SRQ, -1);
}

static void nvmet_rdma_srq_arm(struct nvmet_rdma_srq *srq)
{
	struct ib_srq_attr attr = { .srq_limit = srq->limit };
	int ret;

	ret = ib_modify_srq(srq->srq, &attr, IB_SRQ_LIMIT);
	if (ret)
		pr_warn_once("%s: ib_modify_srq arming the limit event at %u failed: %d\n",
			     dev_name(&srq->dev->ibdev->dev), srq->limit, ret);
}

static void nvmet_rdma_srq_rearm_work(struct work_struct *work)
{
	nvmet_rdma_srq_arm(container_of(to_delayed_work(work),
					struct nvmet_rdma_srq, rearm_work));
}

/*
 * Few posted buffers left: capsules beyond them meet RNR NAKs, which
 * the hosts retry (we accept with rnr_retry_count 7, for ever).  That
 * is flow control, not an error, but it costs latency: count it, say
 * so, and arm the event again a little later rather than at once,
 * which would fire again straight away while the SRQ is still low.
 */
static void nvmet_rdma_srq_event(struct ib_event *event, void *context)
{
	struct nvmet_rdma_srq *srq = context;

	if (event->event == IB_EVENT_SRQ_LIMIT_REACHED) {
		atomic64_inc(&srq->limit_events);
		pr_warn_ratelimited("%s: fewer than %u of %u shared receive buffers posted; raise srq_size if this persists\n",
				    dev_name(&srq->dev->ibdev->dev),
				    srq->limit, srq->size);
		queue_delayed_work(nvmet_rdma_wq, &srq->rearm_work, HZ);
		return;
	}
	pr_err_ratelimited("%s: SRQ event %s (%d)\n",
			   dev_name(&srq->dev->ibdev->dev),
			   ib_event_msg(event->event), event->event);
}

/*
 * The SRQ's receive buffers: the SQEs in one array mapped once, and
 * whole pages of in-capsule buffer each, so that queues of every inline
 * size up to them can share it.
 */
static int nvmet_rdma_srq_bufs_alloc(struct nvmet_rdma_srq *srq)
{
	struct nvmet_rdma_dev *dev = srq->dev;
	struct ib_device *ibdev = dev->ibdev;
	size_t len = srq->size * sizeof(*srq->sqes);
	u32 lkey = dev->pd->local_dma_lkey;
	unsigned int pages = srq->pages;
	dma_addr_t dma;
	int ret;
	u32 i;

	/*
	 * Mapped as one buffer, so it must be linear memory: kvcalloc()
	 * could fall back to vmalloc, which ib_dma_map_single() cannot map.
	 * Large srq_size values need a high-order allocation; when that
	 * fails the caller falls back to per-queue receives, saying so.
	 */
	srq->sqes = kcalloc(srq->size, sizeof(*srq->sqes),
			    GFP_KERNEL | __GFP_NOWARN);
	if (!srq->sqes)
		return -ENOMEM;
	dma = ib_dma_map_single(ibdev, srq->sqes, len, DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(ibdev, dma)) {
		ret = -ENOMEM;
		goto out_free_sqes;
	}
	srq->sqes_dma = dma;
	srq->rbufs = kvcalloc(srq->size, sizeof(*srq->rbufs), GFP_KERNEL);
	if (!srq->rbufs) {
		ret = -ENOMEM;
		goto out_unmap_sqes;
	}
	for (i = 0; i < srq->size; i++) {
		ret = nvmet_rdma_rbuf_setup(ibdev, lkey, &srq->rbufs[i],
					    &srq->sqes[i],
					    dma + i * sizeof(*srq->sqes),
					    pages, pages * PAGE_SIZE);
		if (ret)
			goto out_free_rbufs;
		srq->rbufs[i].srq = srq;
	}
	return 0;

out_free_rbufs:
	while (i--)
		nvmet_rdma_rbuf_free(ibdev, &srq->rbufs[i], pages);
	kvfree(srq->rbufs);
	srq->rbufs = NULL;
out_unmap_sqes:
	ib_dma_unmap_single(ibdev, dma, len, DMA_FROM_DEVICE);
	srq->sqes_dma = 0;
out_free_sqes:
	kfree(srq->sqes);
	srq->sqes = NULL;
	return ret;
}

/*
 * Buffers, the SRQ itself and its posted receives; on failure nothing is
 * left.  An error-injection point (see nvmet_rdma_injectable).
 */
nvmet_rdma_injectable int nvmet_rdma_srq_setup(struct nvmet_rdma_srq *srq)
{
	struct ib_srq_init_attr attr = { };
	int ret;
	u32 i;

	ret = nvmet_rdma_srq_bufs_alloc(srq);
	if (ret)
		return ret;

	attr.event_handler = nvmet_rdma_srq_event;
	attr.srq_context = srq;
	attr.srq_type = IB_SRQT_BASIC;
	attr.attr.max_wr = srq->size;
	attr.attr.max_sge = 1 + srq->pages;
	srq->srq = ib_create_srq(srq->dev->pd, &attr);
	if (IS_ERR(srq->srq)) {
		ret = PTR_ERR(srq->srq);
		srq->srq = NULL;
		goto out_free_bufs;
	}
	for (i = 0; i < srq->size; i++) {
		ret = nvmet_rdma_post_recv(&srq->rbufs[i]);
		if (ret)
			goto out_destroy_srq;
	}
	return 0;

out_destroy_srq:
	ib_destroy_srq(srq->srq);
	srq->srq = NULL;
out_free_bufs:
	nvmet_rdma_srq_bufs_free(srq);
	return ret;
}

static struct nvmet_rdma_srq *
nvmet_rdma_srq_create(struct nvmet_rdma_dev *dev, unsigned int pages)
{
	struct ib_device *ibdev = dev->ibdev;
	struct nvmet_rdma_srq *srq;
	int ret;

	srq = kzalloc(sizeof(*srq), GFP_KERNEL);
	if (!srq)
		return ERR_PTR(-ENOMEM);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_SRQ, 1);
	srq->dev = dev;
	srq->pages = pages;
	/* Each queue on it reserves its size in a CQ (nvmet_rdma_cq_get()). */
	srq->size = min3((u32)READ_ONCE(nvmet_rdma_srq_size),
			 (u32)ibdev->attrs.max_srq_wr,
			 (u32)ibdev->attrs.max_cqe / 2);
	srq->limit = max_t(u32, srq->size / 16, 1);
	INIT_DELAYED_WORK(&srq->rearm_work, nvmet_rdma_srq_rearm_work);

	ret = nvmet_rdma_srq_setup(srq);
	if (ret)
		goto out_free_srq;
	nvmet_rdma_srq_arm(srq);
	pr_info("%s: shared receive queue of %u buffers, %u bytes in-capsule data each\n",
		dev_name(&ibdev->dev), srq->size, pages * (u32)PAGE_SIZE);
	return srq;

out_free_srq:
	kfree(srq);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_SRQ, -1);
	return ERR_PTR(ret);
}

/*
 * The SRQ for queues with @pages of in-capsule buffer, created on first
 * use; NULL means per-queue receive buffers.  A device without SRQs is
 * said so once; other failures are retried by the next queue.
 */
static struct nvmet_rdma_srq *nvmet_rdma_srq_get(struct nvmet_rdma_dev *dev,
						 unsigned int pages)
{
	struct ib_device *ibdev = dev->ibdev;
	struct nvmet_rdma_srq *srq;

	mutex_lock(&nvmet_rdma_lock);
	srq = dev->srqs[pages];
	if (srq || dev->no_srq)
		goto out_unlock;
	if (!ibdev->attrs.max_srq || ibdev->attrs.max_srq_sge < 1 + pages) {
		pr_warn("%s: no shared receive queue with %u SGEs (max_srq %d, max_srq_sge %d), using per-queue receives\n",
			dev_name(&ibdev->dev), 1 + pages, ibdev->attrs.max_srq,
			ibdev->attrs.max_srq_sge);
		dev->no_srq = true;
		goto out_unlock;
	}
	srq = nvmet_rdma_srq_create(dev, pages);
	if (IS_ERR(srq)) {
		pr_warn_ratelimited("%s: cannot create a shared receive queue (%ld), using per-queue receives\n",
				    dev_name(&ibdev->dev), PTR_ERR(srq));
		if (PTR_ERR(srq) == -EOPNOTSUPP)
			dev->no_srq = true;
		srq = NULL;
		goto out_unlock;
	}
	dev->srqs[pages] = srq;
out_unlock:
	mutex_unlock(&nvmet_rdma_lock);
	return srq;
}

/* debugfs: one line per SRQ. */
void nvmet_rdma_srqs_show(struct seq_file *m)
{
	struct nvmet_rdma_srq *srq;
	struct nvmet_rdma_dev *dev;
	unsigned int p;

	mutex_lock(&nvmet_rdma_lock);
	list_for_each_entry(dev, &nvmet_rdma_devices, entry) {
		for (p = 0; p < ARRAY_SIZE(dev->srqs); p++) {
			srq = dev->srqs[p];
			if (!srq)
				continue;
			seq_printf(m, "%s inline %lu size %u receives %lld limit_events %lld\n",
				   dev_name(&dev->ibdev->dev), p * PAGE_SIZE,
				   srq->size, atomic64_read(&srq->recvs),
				   atomic64_read(&srq->limit_events));
		}
	}
	mutex_unlock(&nvmet_rdma_lock);
}

struct nvmet_rdma_dev *nvmet_rdma_dev_get(struct ib_device *ibdev)
{
	struct nvmet_rdma_dev *dev;
	struct ib_pd *pd;

	mutex_lock(&nvmet_rdma_lock);
	list_for_each_entry(dev, &nvmet_rdma_devices, entry) {
		if (dev->ibdev != ibdev)
			continue;
		if (dev->removing)
			dev = ERR_PTR(-ENODEV);
		else
			kref_get(&dev->ref);
		goto out_unlock;
	}
	if (!nvmet_rdma_dev_usable(ibdev)) {
		dev = ERR_PTR(-ENODEV);
		goto out_unlock;
	}

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev) {
		dev = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(pd)) {
		pr_err("%s: ib_alloc_pd failed: %ld\n", dev_name(&ibdev->dev),
		       PTR_ERR(pd));
		goto out_free_dev;
	}
	dev->pd = pd;
	dev->ibdev = ibdev;
	kref_init(&dev->ref);
	atomic_set(&dev->next_vector, 0);
	list_add_tail(&dev->entry, &nvmet_rdma_devices);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_DEV, 1);
	mutex_unlock(&nvmet_rdma_lock);
	return dev;

out_free_dev:
	kfree(dev);
	dev = ERR_CAST(pd);
out_unlock:
	mutex_unlock(&nvmet_rdma_lock);
	return dev;
}

static unsigned int nvmet_rdma_secs_since(unsigned long start)
{
	return jiffies_to_msecs(jiffies - start) / 1000;
}

/* After NVMET_RDMA_STALL_REPORT, doubling up to NVMET_RDMA_STALL_REPORT_MAX. */
static unsigned long nvmet_rdma_stall_delay(unsigned int reports)
{
	if (reports >= 8)
		return NVMET_RDMA_STALL_REPORT_MAX;
	return min(NVMET_RDMA_STALL_REPORT << reports,
		   NVMET_RDMA_STALL_REPORT_MAX);
}

/* kref release, entered with nvmet_rdma_lock held by kref_put_mutex(). */
static void nvmet_rdma_dev_free(struct kref *ref)
{
	struct nvmet_rdma_dev *dev =
		container_of(ref, struct nvmet_rdma_dev, ref);
	struct completion *gone;
	unsigned int p;

	/* The last queue is gone, so are the QPs on the SRQs. */
	for (p = 0; p < ARRAY_SIZE(dev->srqs); p++)
		if (dev->srqs[p])
			nvmet_rdma_srq_free(dev->srqs[p]);
	/* The PD goes before the device can be seen gone (see drain). */
	ib_dealloc_pd(dev->pd);
	list_del(&dev->entry);
	/* Set under this lock by a drain, which waits until it completes. */
	gone = dev->gone;
	mutex_unlock(&nvmet_rdma_lock);

	kfree(dev);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_DEV, -1);
	if (gone)
		complete(gone);
}

void nvmet_rdma_dev_put(struct nvmet_rdma_dev *dev)
{
	kref_put_mutex(&dev->ref, nvmet_rdma_dev_free, &nvmet_rdma_lock);
}

/*
 * The RDMA device is being unregistered: refuse new queues on it, close
 * the ones it has and wait until none holds its PD any more.  Marking and
 * closing under one lock hold means no queue can slip in between.  There
 * is at most one object per ib_device (nvmet_rdma_dev_get() reuses it, or
 * refuses while it is being removed), and one listed has references: its
 * release, whenever the last queue drops it, completes @gone.
 */
void nvmet_rdma_dev_drain(struct ib_device *ibdev)
{
	DECLARE_COMPLETION_ONSTACK(gone);
	unsigned long start = jiffies;
	struct nvmet_rdma_queue *queue;
	struct nvmet_rdma_dev *dev;
	unsigned int reports = 0;
	bool found = false;

	mutex_lock(&nvmet_rdma_lock);
	list_for_each_entry(dev, &nvmet_rdma_devices, entry) {
		if (dev->ibdev != ibdev)
			continue;
		dev->removing = true;
		dev->gone = &gone;
		found = true;
	}
	list_for_each_entry(queue, &nvmet_rdma_queues, entry)
		if (queue->dev->ibdev == ibdev)
			nvmet_rdma_queue_close(queue);
	mutex_unlock(&nvmet_rdma_lock);

	/* Each queue's release work names what it is waiting for. */
	while (found) {
		if (wait_for_completion_timeout(&gone,
						nvmet_rdma_stall_delay(reports++)))
			break;
		mutex_lock(&nvmet_rdma_lock);
		list_for_each_entry(dev, &nvmet_rdma_devices, entry)
			if (dev->ibdev == ibdev)
				pr_warn("%s: removal waiting %u s for its queues to release the device (%u left)\n",
					dev_name(&ibdev->dev),
					nvmet_rdma_secs_since(start), kref_read(&dev->ref));
		mutex_unlock(&nvmet_rdma_lock);
	}
}

static void nvmet_rdma_qp_event(struct ib_event *event, void *context)
{
	struct nvmet_rdma_queue *queue = context;
	unsigned long flags;

	switch (event->event) {
	case IB_EVENT_COMM_EST:
		/*
		 * Data came before the RTU: let the CM consider us connected.
		 * The release work, which destroys the id before the QP,
		 * runs only once a close moved the queue out of CONNECTING
		 * under queue->lock: checking the state under that lock too
		 * keeps the close (and so the id's destruction) from slipping
		 * in between the check and the call. rdma_notify() only
		 * takes spinlocks.
		 */
		spin_lock_irqsave(&queue->lock, flags);
		if (queue->state == NVMET_RDMA_Q_CONNECTING)
			rdma_notify(queue->cm_id, event->event);
		spin_unlock_irqrestore(&queue->lock, flags);
		break;
	case IB_EVENT_QP_LAST_WQE_REACHED:
		/* Only QPs on an SRQ get it, once they are in the error state. */
		set_bit(NVMET_RDMA_LAST_WQE_SEEN, &queue->dev->last_wqe_flags);
		complete(&queue->last_wqe);
		break;
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_ACCESS_ERR:
	case IB_EVENT_QP_REQ_ERR:
		/* The QP is in error: nothing more will get through it. */
		pr_err_ratelimited("queue %d (qid %u): fatal QP event %s (%d), closing\n",
				   queue->idx, queue->qid,
				   ib_event_msg(event->event), event->event);
		nvmet_rdma_queue_close(queue);
		break;
	default:
		pr_err_ratelimited("queue %d (qid %u): QP event %s (%d)\n",
				   queue->idx, queue->qid,
				   ib_event_msg(event->event), event->event);
		break;
	}
}

/* Undo nvmet_rdma_cqes_alloc(). */
static void nvmet_rdma_cqes_free(struct nvmet_rdma_queue *queue)
{
	ib_dma_unmap_single(queue->dev->ibdev, queue->cqes_dma,
			    queue->nr_slots * sizeof(*queue->cqes),
			    DMA_TO_DEVICE);
	queue->cqes_dma = 0;
	kfree(queue->cqes);
	queue->cqes = NULL;
}

/* The response CQEs, one per slot, in one array mapped once. */
static int nvmet_rdma_cqes_alloc(struct nvmet_rdma_queue *queue)
{
	struct ib_device *ibdev = queue->dev->ibdev;
	size_t len = queue->nr_slots * sizeof(*queue->cqes);
	dma_addr_t dma;

	queue->cqes = kzalloc(len, GFP_KERNEL);
	if (!queue->cqes)
		return -ENOMEM;
	dma = ib_dma_map_single(ibdev, queue->cqes, len, DMA_TO_DEVICE);
	if (ib_dma_mapping_error(ibdev, dma))
		goto out_free_cqes;
	queue->cqes_dma = dma;
	return 0;

out_free_cqes:
	kfree(queue->cqes);
	queue->cqes = NULL;
	return -ENOMEM;
}

/* Undo nvmet_rdma_rbufs_alloc(); nothing to do for a queue on an SRQ. */
static void nvmet_rdma_rbufs_free(struct nvmet_rdma_queue *queue)
{
	struct ib_device *ibdev = queue->dev->ibdev;
	unsigned int i;

	if (!queue->rbufs)
		return;
	for (i = 0; i < queue->nr_slots; i++)
		nvmet_rdma_rbuf_free(ibdev, &queue->rbufs[i],
				     queue->inline_pages);
	kvfree(queue->rbufs);
	queue->rbufs = NULL;
	ib_dma_unmap_single(ibdev, queue->sqes_dma,
			    queue->nr_slots * sizeof(*queue->sqes),
			    DMA_FROM_DEVICE);
	queue->sqes_dma = 0;
	kfree(queue->sqes);
	queue->sqes = NULL;
}

/*
 * A queue's own receive buffers: the SQEs in one array mapped once, and
 * the in-capsule pages of each buffer.
 */
static int nvmet_rdma_rbufs_alloc(struct nvmet_rdma_queue *queue)
{
	struct ib_device *ibdev = queue->dev->ibdev;
	size_t len = queue->nr_slots * sizeof(*queue->sqes);
	u32 lkey = queue->dev->pd->local_dma_lkey;
	dma_addr_t dma;
	unsigned int i;
	int ret;

	queue->sqes = kzalloc(len, GFP_KERNEL);
	if (!queue->sqes)
		return -ENOMEM;
	dma = ib_dma_map_single(ibdev, queue->sqes, len, DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(ibdev, dma)) {
		ret = -ENOMEM;
		goto out_free_sqes;
	}
	queue->sqes_dma = dma;
	queue->rbufs = kvcalloc(queue->nr_slots, sizeof(*queue->rbufs),
				GFP_KERNEL);
	if (!queue->rbufs) {
		ret = -ENOMEM;
		goto out_unmap_sqes;
	}
	for (i = 0; i < queue->nr_slots; i++) {
		ret = nvmet_rdma_rbuf_setup(ibdev, lkey, &queue->rbufs[i],
					    &queue->sqes[i],
					    dma + i * sizeof(*queue->sqes),
					    queue->inline_pages,
					    queue->inline_size);
		if (ret)
			goto out_free_rbufs;
	}
	return 0;

out_free_rbufs:
	while (i--)
		nvmet_rdma_rbuf_free(ibdev, &queue->rbufs[i],
				     queue->inline_pages);
	kvfree(queue->rbufs);
	queue->rbufs = NULL;
out_unmap_sqes:
	ib_dma_unmap_single(ibdev, dma, len, DMA_FROM_DEVICE);
	queue->sqes_dma = 0;
out_free_sqes:
	kfree(queue->sqes);
	queue->sqes = NULL;
	return ret;
}

static void nvmet_rdma_slots_free(struct nvmet_rdma_queue *queue)
{
	kvfree(queue->slots);
	queue->slots = NULL;
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_SLOT, -queue->nr_slots);
}

/*
 * Slots, each answering in its own CQE and tied for good to its own
 * receive buffer, or, on an SRQ, put on the free list to be lent one.
 */
static int nvmet_rdma_slots_alloc(struct nvmet_rdma_queue *queue)
{
	u32 lkey = queue->dev->pd->local_dma_lkey;
	struct nvmet_rdma_slot *slot;
	struct nvmet_rdma_rbuf *rb;
	unsigned int i;

	queue->slots = kvcalloc(queue->nr_slots, sizeof(*queue->slots),
				GFP_KERNEL);
	if (!queue->slots)
		return -ENOMEM;
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_SLOT, queue->nr_slots);
	for (i = 0; i < queue->nr_slots; i++) {
		slot = &queue->slots[i];
		slot->queue = queue;
		slot->cqe = &queue->cqes[i];
		slot->send_sge.addr = queue->cqes_dma + i * sizeof(*slot->cqe);
		slot->send_sge.length = sizeof(*slot->cqe);
		slot->send_sge.lkey = lkey;
		nvmet_rdma_slot_init(slot);
		if (queue->srq) {
			list_add_tail(&slot->link, &queue->free_slots);
			continue;
		}
		rb = &queue->rbufs[i];
		rb->slot = slot;
		slot->rb = rb;
		slot->sqe = rb->sqe;
	}
	return 0;
}

/* Undo nvmet_rdma_bufs_alloc(). */
static void nvmet_rdma_bufs_free(struct nvmet_rdma_queue *queue)
{
	nvmet_rdma_slots_free(queue);
	nvmet_rdma_rbufs_free(queue);
	nvmet_rdma_cqes_free(queue);
}

/*
 * Everything the slots use: CQEs, receive buffers unless the queue is on
 * an SRQ (which has its own), slots.  On failure nothing is left
 * allocated.  An error-injection point, as are nvmet_rdma_ib_create()
 * and nvmet_rdma_queue_publish().
 */
nvmet_rdma_injectable int nvmet_rdma_bufs_alloc(struct nvmet_rdma_queue *queue)
{
	int ret;

	ret = nvmet_rdma_cqes_alloc(queue);
	if (ret)
		return ret;
	if (!queue->srq) {
		ret = nvmet_rdma_rbufs_alloc(queue);
		if (ret)
			goto out_free_cqes;
	}
	ret = nvmet_rdma_slots_alloc(queue);
	if (ret)
		goto out_free_rbufs;
	return 0;

out_free_rbufs:
	nvmet_rdma_rbufs_free(queue);
out_free_cqes:
	nvmet_rdma_cqes_free(queue);
	return ret;
}

/*
 * A failed QP completes every work request still posted, the unsignalled
 * RDMA READ/WRITEs included, and a completion that finds the CQ full is
 * lost: its slot never finishes and the drain never returns.  So the CQ
 * holds a receive and a SEND per slot, the drain WR of each work queue,
 * and the RDMA WRs the budget allows: enough for every slot to move
 * NVMET_RDMA_MAX_XFER at once (on iWARP, rdma_rw wraps each context in a
 * REG_MR and a LOCAL_INV).  On an SRQ the receives are bounded by the
 * SRQ's size instead (see below).  A device with smaller CQs gets a smaller budget rather
 * than a CQ it cannot provide (the CQ pool would retry such a request for
 * ever).  *@fixed is the part of the CQ that is not budget.
 */
static int nvmet_rdma_cq_get(struct nvmet_rdma_queue *queue, u32 *fixed)
{
	struct ib_device *ibdev = queue->dev->ibdev;
	u32 port_num = queue->port_num;
	unsigned int factor, vector;
	u64 rw_wrs;
	int ret;

	factor = rdma_rw_mr_factor(ibdev, port_num,
				   NVMET_RDMA_MAX_XFER >> PAGE_SHIFT);
	rw_wrs = (u64)queue->nr_slots * factor;
	if (rdma_protocol_iwarp(ibdev, port_num))
		rw_wrs *= 3;
	/*
	 * A send completion for each slot's response, the two drain markers
	 * and the receive completions: one per slot with buffers of its own.
	 * On an SRQ the receives this QP may complete are bounded by the SRQ,
	 * not by the depth: a host that ignores flow control gets closed,
	 * but every receive it landed before that still completes here, on a
	 * CQ that the pool shares with other hosts' queues, whose overrun
	 * would fail them all.
	 */
	*fixed = queue->nr_slots + 2 +
		 (queue->srq ? queue->srq->size : queue->nr_slots);
	if (*fixed >= (u32)ibdev->attrs.max_cqe) {
		pr_err("queue %d (qid %u): needs CQs of more than %u entries, %s has %d: %d\n",
		       queue->idx, queue->qid, *fixed, dev_name(&ibdev->dev),
		       ibdev->attrs.max_cqe, -ENOSPC);
		return -ENOSPC;
	}
	queue->cq_size = min_t(u64, *fixed + rw_wrs, ibdev->attrs.max_cqe);
	vector = atomic_inc_return(&queue->dev->next_vector) %
		 ibdev->num_comp_vectors;
	queue->cq = ib_cq_pool_get(ibdev, queue->cq_size, vector,
				   IB_POLL_WORKQUEUE);
	if (IS_ERR(queue->cq)) {
		ret = PTR_ERR(queue->cq);
		queue->cq = NULL;
		pr_err("queue %d (qid %u): ib_cq_pool_get of %u entries failed: %d\n",
		       queue->idx, queue->qid, queue->cq_size, ret);
		return ret;
	}
	return 0;
}

/*
 * One SEND per slot is reserved; the rest of the send queue, plus what
 * rdma_rw adds for its contexts, is the budget for RDMA READ/WRITE work
 * requests that rw_credits meters, as far as the CQ can take their
 * flush completions.  *@max_send_wr is what the device granted.
 */
static int nvmet_rdma_qp_create(struct nvmet_rdma_queue *queue,
				u32 *max_send_wr)
{
	struct ib_device *ibdev = queue->dev->ibdev;
	struct ib_qp_init_attr attr = { };
	int ret;

	attr.cap.max_send_wr = min_t(u32, 2 * queue->nr_slots + 1,
				     ibdev->attrs.max_qp_wr);
	attr.cap.max_rdma_ctxs = queue->nr_slots *
		rdma_rw_mr_factor(ibdev, queue->port_num,
				  NVMET_RDMA_MAX_XFER >> PAGE_SHIFT);
	attr.cap.max_send_sge = ibdev->attrs.max_send_sge;
	if (queue->srq) {
		attr.srq = queue->srq->srq;
	} else {
		attr.cap.max_recv_wr = queue->nr_slots + 1;
		attr.cap.max_recv_sge = 1 + queue->inline_pages;
	}
	attr.qp_type = IB_QPT_RC;
	attr.sq_sig_type = IB_SIGNAL_REQ_WR;
	attr.send_cq = queue->cq;
	attr.recv_cq = queue->cq;
	attr.qp_context = queue;
	attr.event_handler = nvmet_rdma_qp_event;

	ret = rdma_create_qp(queue->cm_id, queue->dev->pd, &attr);
	if (ret) {
		pr_err("queue %d (qid %u): rdma_create_qp of %u/%u WRs failed: %d\n",
		       queue->idx, queue->qid, attr.cap.max_send_wr,
		       attr.cap.max_recv_wr, ret);
		return ret;
	}
	queue->qp = queue->cm_id->qp;
	*max_send_wr = attr.cap.max_send_wr;
	return 0;
}

/* The CQ and the QP, and the RDMA READ/WRITE budget they leave. */
nvmet_rdma_injectable int nvmet_rdma_ib_create(struct nvmet_rdma_queue *queue)
{
	u32 fixed, max_send_wr;
	int ret;

	ret = nvmet_rdma_cq_get(queue, &fixed);
	if (ret)
		return ret;
	ret = nvmet_rdma_qp_create(queue, &max_send_wr);
	if (ret)
		goto out_put_cq;

	if (max_send_wr <= queue->nr_slots + 1u) {
		ret = -ENOSPC;
		pr_err("queue %d (qid %u): send queue of %u WRs leaves no room for data: %d\n",
		       queue->idx, queue->qid, max_send_wr, ret);
		goto out_destroy_qp;
	}
	queue->rw_budget = min(max_send_wr - queue->nr_slots - 1,
			       queue->cq_size - fixed);
	queue->rw_credits = queue->rw_budget;
	return 0;

out_destroy_qp:
	rdma_destroy_qp(queue->cm_id);
	queue->qp = NULL;
out_put_cq:
	ib_cq_pool_put(queue->cq, queue->cq_size);
	queue->cq = NULL;
	return ret;
}

/*
 * Once the QP is drained, no completion can reach this queue's slots:
 * every buffer it took from the SRQ, in a slot or waiting for one, goes
 * back, since the SRQ and the other queues on it live on.
 */
static void nvmet_rdma_srq_give_back(struct nvmet_rdma_queue *queue)
{
	struct nvmet_rdma_rbuf *rb, *tmp;
	unsigned int i;
	LIST_HEAD(back);
	int ret;

	if (!queue->srq)
		return;
	for (i = 0; queue->slots && i < queue->nr_slots; i++) {
		rb = queue->slots[i].rb;
		queue->slots[i].rb = NULL;
		if (rb)
			list_add_tail(&rb->link, &back);
	}
	list_splice_tail_init(&queue->held, &back);
	list_for_each_entry_safe(rb, tmp, &back, link) {
		list_del_init(&rb->link);
		ret = nvmet_rdma_post_recv(rb);
		if (ret)
			pr_err_ratelimited("queue %d (qid %u): ib_post_srq_recv giving a receive back to the SRQ of %s failed: %d\n",
					   queue->idx, queue->qid,
					   dev_name(&queue->dev->ibdev->dev), ret);
	}
}

/*
 * A QP on an SRQ takes receives from a pool it does not own, so the drain
 * of ib_drain_qp() (6.1 drains only the send queue of such a QP) does not
 * say that its last receive has completed: a receive the device was
 * placing when the QP went to the error state may complete after the
 * drain's marker, on a QP and a queue that are gone by then.  The device
 * says when the QP has taken its last receive (Last WQE Reached, IBA
 * 10.3.1); the send queue drain that follows then completes after that
 * receive, both being on the one CQ of this queue.
 *
 * Only queues released by the release work (cm_id gone) can have taken
 * receives.  A device that does not send the event at all (rxe in 6.1
 * does not) would cost every teardown the timeout: a miss on a device
 * that has never sent one stops the waiting on it, and says so, until it
 * sends one after all.
 */
static void nvmet_rdma_wait_last_wqe(struct nvmet_rdma_queue *queue)
{
	struct nvmet_rdma_dev *dev = queue->dev;
	unsigned long ret;

	/* The release work has moved the QP to the error state. */
	if (!queue->srq || queue->cm_id)
		return;
	if (test_bit(NVMET_RDMA_LAST_WQE_MISSED, &dev->last_wqe_flags) &&
	    !test_bit(NVMET_RDMA_LAST_WQE_SEEN, &dev->last_wqe_flags))
		return;
	WRITE_ONCE(queue->waiting_for, "the QP's Last WQE Reached event");
	ret = wait_for_completion_timeout(&queue->last_wqe,
					  NVMET_RDMA_LAST_WQE_TIMEOUT);
	WRITE_ONCE(queue->waiting_for, "the device to flush the QP");
	if (ret)
		return;
	/* A queue closed before it was established may never get one. */
	if (test_bit(NVMET_RDMA_LAST_WQE_SEEN, &dev->last_wqe_flags)) {
		pr_warn_ratelimited("queue %d (qid %u): no Last WQE Reached event within %u ms, draining anyway\n",
				    queue->idx, queue->qid,
				    jiffies_to_msecs(NVMET_RDMA_LAST_WQE_TIMEOUT));
		return;
	}
	if (!test_and_set_bit(NVMET_RDMA_LAST_WQE_MISSED, &dev->last_wqe_flags))
		pr_info("%s: sends no Last WQE Reached event (none within %u ms): queues on its SRQs are drained through their send queue only\n",
			dev_name(&dev->ibdev->dev),
			jiffies_to_msecs(NVMET_RDMA_LAST_WQE_TIMEOUT));
}

/*
 * Undo nvmet_rdma_ib_create() and the receives posted since.  The QP is
 * drained before anything it may still use goes: every slot's data, the
 * SRQ buffers the queue holds, and the QP and CQ themselves.
 */
static void nvmet_rdma_ib_destroy(struct nvmet_rdma_queue *queue)
{
	unsigned long flags;
	unsigned int i;

	/*
	 * The drain flushes the posted receives, and a flushed receive
	 * closes its queue.  A queue undone without its release work (never
	 * accepted: a failed create or publish) is still CONNECTING, and that
	 * close would queue the release work on a queue about to be freed.
	 */
	spin_lock_irqsave(&queue->lock, flags);
	WRITE_ONCE(queue->state, NVMET_RDMA_Q_CLOSING);
	spin_unlock_irqrestore(&queue->lock, flags);

	nvmet_rdma_wait_last_wqe(queue);
	ib_drain_qp(queue->qp);
	for (i = 0; i < queue->nr_slots; i++)
		nvmet_rdma_slot_reclaim(&queue->slots[i]);
	nvmet_rdma_srq_give_back(queue);
	if (queue->cm_id)
		rdma_destroy_qp(queue->cm_id);
	else
		ib_destroy_qp(queue->qp);
	queue->qp = NULL;
	ib_cq_pool_put(queue->cq, queue->cq_size);
	queue->cq = NULL;
}

/* Undo nvmet_rdma_queue_alloc(). */
static void nvmet_rdma_queue_dealloc(struct nvmet_rdma_queue *queue)
{
	ida_free(&nvmet_rdma_queue_ida, queue->idx);
	kfree(queue);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_QUEUE, -1);
}

/*
 * Undo a complete nvmet_rdma_queue_create() and whatever ran on the queue
 * since, dropping the device reference the queue was given.  The release
 * work destroys the rdma_cm id and cancels the start work before calling
 * this, so nothing but completions can post to the QP or touch a slot by
 * the time the QP is drained and the slots freed; a queue that was never
 * accepted still has its id, which the rdma_cm destroys once the handler
 * refusing the connection returns.  Device removal is not held up by
 * this order: our ib_client's remove waits for the PD reference dropped
 * here, and the rdma_cm's, which runs after ours, finds our ids gone
 * already.
 */
static void nvmet_rdma_queue_free(struct nvmet_rdma_queue *queue)
{
	nvmet_rdma_ib_destroy(queue);
	/* Armed by the release work only; the report reads nothing freed yet. */
	cancel_delayed_work_sync(&queue->stall_work);
	if (queue->stall_reports)
		pr_info("queue %d (qid %u): teardown done after %u s\n",
			queue->idx, queue->qid,
			nvmet_rdma_secs_since(queue->release_start));
	nvmet_rdma_bufs_free(queue);
	nvmet_rdma_dev_put(queue->dev);
	nvmet_rdma_queue_dealloc(queue);
}

/*
 * Name the work completion error that closed the queue, with the
 * controller it belongs to: until nvmet_sq_destroy() the submission queue
 * holds a reference on that, which a completion handler cannot count on.
 */
static void nvmet_rdma_report_error(struct nvmet_rdma_queue *queue)
{
	struct nvmet_ctrl *ctrl = READ_ONCE(queue->nvme_sq.ctrl);

	if (!queue->err_what)
		return;
	pr_err_ratelimited("queue %d (qid %u, cntlid %d, host %s %pISpc, port %u %pISpc): %s failed: %s (%d), closing\n",
			   queue->idx, queue->qid, ctrl ? ctrl->cntlid : -1,
			   ctrl ? ctrl->hostnqn : "(not connected)",
			   &queue->peer, queue->portid, &queue->local,
			   queue->err_what, ib_wc_status_msg(queue->err_status),
			   queue->err_status);
}

static void nvmet_rdma_start_pending(struct work_struct *work);

/*
 * The release work waits for nvmet core to finish every command (which
 * may be in the backend, writing into our buffers) and for the device to
 * flush the QP; neither wait can be cut short without a use-after-free,
 * so a bound only makes the wait visible: the host, the controller and
 * what is outstanding, again at doubling intervals.
 */
static void nvmet_rdma_stall_report(struct work_struct *work)
{
	struct nvmet_rdma_queue *queue = container_of(to_delayed_work(work),
			struct nvmet_rdma_queue, stall_work);

	pr_warn("queue %d (qid %u, cntlid %d, host %pISpc, port %u): teardown waiting %u s for %s; commands unanswered: %d\n",
		queue->idx, queue->qid, queue->release_cntlid, &queue->peer,
		queue->portid,
		nvmet_rdma_secs_since(queue->release_start),
		READ_ONCE(queue->waiting_for), atomic_read(&queue->inflight));
	queue_delayed_work(nvmet_rdma_wq, &queue->stall_work,
			   nvmet_rdma_stall_delay(++queue->stall_reports));
}

static void nvmet_rdma_release_work(struct work_struct *work)
{
	struct nvmet_rdma_queue *queue =
		container_of(work, struct nvmet_rdma_queue, release_work);
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };
	struct nvmet_ctrl *ctrl;

	/* The controller may go with nvmet_sq_destroy(), the report may not. */
	ctrl = READ_ONCE(queue->nvme_sq.ctrl);
	queue->release_cntlid = ctrl ? ctrl->cntlid : -1;
	queue->release_start = jiffies;
	WRITE_ONCE(queue->waiting_for, "nvmet_rdma_lock");
	queue_delayed_work(nvmet_rdma_wq, &queue->stall_work,
			   nvmet_rdma_stall_delay(0));

	/*
	 * The queue may be closed before or after it was published; only
	 * the flag, read under the lock that publishing holds, says whether
	 * there is a list entry and a debugfs file to take away.
	 */
	mutex_lock(&nvmet_rdma_lock);
	if (queue->published) {
		list_del_init(&queue->entry);
		nvmet_rdma_stats_queue_del(queue);
		queue->published = false;
	}
	mutex_unlock(&nvmet_rdma_lock);

	nvmet_rdma_report_error(queue);
	pr_debug("queue %d (qid %u): releasing\n", queue->idx, queue->qid);
	rdma_disconnect(queue->cm_id);
	/*
	 * Flush every posted WR whatever state the CM got to: commands
	 * waiting on an RDMA READ, or for send queue credits, hold nvmet_sq
	 * references that nvmet_sq_destroy() waits for.
	 */
	ib_modify_qp(queue->qp, &attr, IB_QP_STATE);
	/* What nvmet_sq_destroy() may still wait for is the backend. */
	WRITE_ONCE(queue->waiting_for, "nvmet core to complete its commands");
	nvmet_sq_destroy(&queue->nvme_sq);
	/*
	 * Waits for a CM handler still running on the id, and none runs
	 * after, so none queues the start work again once it is cancelled:
	 * from here on only completions touch the slots, and the drain in
	 * queue_free sees the last of them, including a response that a
	 * late start posted after nvmet_sq_destroy().
	 */
	WRITE_ONCE(queue->waiting_for, "the rdma_cm id's handlers");
	rdma_destroy_id(queue->cm_id);
	queue->cm_id = NULL;
	cancel_work_sync(&queue->start_work);
	trace_nvmet_rdma_queue_state(queue->idx, queue->qid, &queue->peer,
				     "released");
	WRITE_ONCE(queue->waiting_for, "the device to flush the QP");
	nvmet_rdma_queue_free(queue);
}

/* The queue object, its index and what the connect request settled. */
static struct nvmet_rdma_queue *
nvmet_rdma_queue_alloc(struct rdma_cm_id *cm_id, struct nvmet_rdma_dev *dev,
		       struct nvmet_port *nport,
		       const struct nvmeof_rdma_cm_params *params)
{
	struct ib_device *ibdev = dev->ibdev;
	struct nvmet_rdma_queue *queue;
	int ret;

	queue = kzalloc(sizeof(*queue), GFP_KERNEL);
	if (!queue)
		return ERR_PTR(-ENOMEM);
	queue->idx = ida_alloc(&nvmet_rdma_queue_ida, GFP_KERNEL);
	if (queue->idx < 0) {
		ret = queue->idx;
		kfree(queue);
		return ERR_PTR(ret);
	}
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_QUEUE, 1);

	queue->kind = NVMET_RDMA_CTX_QUEUE;
	queue->cm_id = cm_id;
	queue->port_num = cm_id->port_num;
	memcpy(&queue->peer, &cm_id->route.addr.dst_addr, sizeof(queue->peer));
	memcpy(&queue->local, &cm_id->route.addr.src_addr,
	       sizeof(queue->local));
	queue->portid = le16_to_cpu(nport->disc_addr.portid);
	queue->dev = dev;
	queue->nport = nport;
	queue->qid = params->qid;
	queue->depth = params->sq_depth;
	/*
	 * A slot goes back to the receive queue only once its response SEND
	 * has completed, and the host may send its next command as soon as
	 * it has seen the response, possibly before we have that completion.
	 * The Linux host keeps sqsize + 1 = depth commands outstanding, so
	 * with exactly depth receives a full queue meets no posted receive:
	 * an RNR NAK (a long stall on IB/RoCE) or, on iWARP, a terminated
	 * connection.  Post a spare quarter (at least two) more receives.
	 * HRQSIZE still holds: responses in flight never exceed the host's
	 * commands outstanding, which are at most depth; the spares only
	 * cover our late reposting.
	 */
	queue->nr_slots = min_t(u32, queue->depth + queue->depth / 4 + 2,
				max_t(int, ibdev->attrs.max_qp_wr - 1,
				      queue->depth));
	/* Fabrics admin capsules are a bare SQE; only I/O queues buffer data. */
	queue->inline_size = queue->qid ? nport->inline_data_size : 0;
	queue->inline_pages = DIV_ROUND_UP(queue->inline_size, PAGE_SIZE);
	INIT_LIST_HEAD(&queue->entry);
	INIT_LIST_HEAD(&queue->pending);
	INIT_LIST_HEAD(&queue->rw_wait);
	INIT_LIST_HEAD(&queue->free_slots);
	INIT_LIST_HEAD(&queue->held);
	spin_lock_init(&queue->lock);
	queue->state = NVMET_RDMA_Q_CONNECTING;
	INIT_WORK(&queue->release_work, nvmet_rdma_release_work);
	INIT_WORK(&queue->start_work, nvmet_rdma_start_pending);
	INIT_DELAYED_WORK(&queue->stall_work, nvmet_rdma_stall_report);
	init_completion(&queue->last_wqe);
	return queue;
}

/* Whether the device can take the receives the port's inline size needs. */
static int nvmet_rdma_queue_check(struct nvmet_rdma_queue *queue)
{
	struct ib_device *ibdev = queue->dev->ibdev;

	/* The slot arrays are sized for NVMET_RDMA_INLINE_MAX at most. */
	BUILD_BUG_ON(NVMET_RDMA_INLINE_PAGES < 1);
	if (WARN_ON_ONCE(queue->inline_pages > NVMET_RDMA_INLINE_PAGES))
		return -EINVAL;

	if (1 + queue->inline_pages > ibdev->attrs.max_recv_sge) {
		pr_err("queue %d (qid %u): %s takes %d receive SGEs, %u bytes of in-capsule data need %u: %d\n",
		       queue->idx, queue->qid, dev_name(&ibdev->dev),
		       ibdev->attrs.max_recv_sge, queue->inline_size,
		       1 + queue->inline_pages, -EINVAL);
		return -EINVAL;
	}
	return 0;
}

/*
 * Post every receive of a queue with its own buffers.  On failure the
 * drain in nvmet_rdma_ib_destroy() flushes those posted already.
 */
static int nvmet_rdma_post_recvs(struct nvmet_rdma_queue *queue)
{
	unsigned int i;
	int ret;

	for (i = 0; !queue->srq && i < queue->nr_slots; i++) {
		ret = nvmet_rdma_post_recv(&queue->rbufs[i]);
		if (ret) {
			pr_err("queue %d (qid %u): ib_post_recv of receive %u failed: %d\n",
			       queue->idx, queue->qid, i, ret);
			return ret;
		}
	}
	return 0;
}

/*
 * Everything a queue will ever use, before the connection is accepted.
 * On success the queue owns the caller's reference on @dev and frees it
 * with itself; on failure nothing of it is left and the reference is
 * still the caller's.
 */
struct nvmet_rdma_queue *
nvmet_rdma_queue_create(struct rdma_cm_id *cm_id, struct nvmet_rdma_dev *dev,
			struct nvmet_port *nport,
			const struct nvmeof_rdma_cm_params *params, int *cm_sts)
{
	struct nvmet_rdma_queue *queue;
	int ret;

	*cm_sts = NVME_RDMA_CM_NO_RSC;
	queue = nvmet_rdma_queue_alloc(cm_id, dev, nport, params);
	if (IS_ERR(queue))
		return queue;
	ret = nvmet_rdma_queue_check(queue);
	if (ret)
		goto out_free_queue;

	ret = nvmet_sq_init(&queue->nvme_sq);
	if (ret)
		goto out_free_queue;

	/*
	 * Should the host still find no receive posted, have it retry after
	 * a fraction of a millisecond rather than the 655 ms that a timer of
	 * 0 means; only IB and RoCE use this, and only from the accept on.
	 */
	ret = rdma_set_min_rnr_timer(cm_id, IB_RNR_TIMER_000_32);
	if (ret)
		goto out_destroy_sq;

	/* The SRQ lives as long as the device: nothing to undo. */
	if (READ_ONCE(nvmet_rdma_use_srq))
		queue->srq = nvmet_rdma_srq_get(dev, queue->inline_pages);
	ret = nvmet_rdma_bufs_alloc(queue);
	if (ret)
		goto out_destroy_sq;
	ret = nvmet_rdma_ib_create(queue);
	if (ret)
		goto out_free_bufs;
	ret = nvmet_rdma_post_recvs(queue);
	if (ret)
		goto out_destroy_ib;
	return queue;

out_destroy_ib:
	nvmet_rdma_ib_destroy(queue);
out_free_bufs:
	nvmet_rdma_bufs_free(queue);
out_destroy_sq:
	nvmet_sq_destroy(&queue->nvme_sq);
out_free_queue:
	nvmet_rdma_queue_dealloc(queue);
	return ERR_PTR(ret);
}

/* Undo a create whose connection was never accepted. */
void nvmet_rdma_queue_destroy(struct nvmet_rdma_queue *queue)
{
	nvmet_sq_destroy(&queue->nvme_sq);
	nvmet_rdma_queue_free(queue);
}

/*
 * Make a queue visible to ctrl deletion, port removal and device removal.
 * Called before the connection is accepted, so that nothing that closes
 * the queue afterwards can find it half-published: the list entry and
 * the debugfs file appear together, under nvmet_rdma_lock, and the
 * release work takes both away under the same lock.
 */
int nvmet_rdma_queue_publish(struct nvmet_rdma_queue *queue)
{
	int ret = 0;

	mutex_lock(&nvmet_rdma_lock);
	if (queue->dev->removing) {
		ret = -ENODEV;
	} else {
		nvmet_rdma_stats_queue_add(queue);
		list_add_tail(&queue->entry, &nvmet_rdma_queues);
		queue->published = true;
	}
	mutex_unlock(&nvmet_rdma_lock);
	return ret;
}

/*
 * Capsules that beat ESTABLISHED (the host's Connect, in practice) are
 * started here rather than in the CM handler: nvmet's connect takes
 * nvmet_config_sem, which port removal holds while it destroys our
 * listening rdma_cm id, so starting them under the rdma_cm's
 * handler_mutex would order the two locks both ways (lockdep cannot tell
 * the listener's id from the queue's).  They are taken off queue->pending
 * one at a time under the lock, and only while the queue is still LIVE: a
 * close running meanwhile empties the list and leaves the slots to the
 * release work, which cancels this work before it frees anything.
 */
static void nvmet_rdma_start_pending(struct work_struct *work)
{
	struct nvmet_rdma_queue *queue =
		container_of(work, struct nvmet_rdma_queue, start_work);
	struct nvmet_rdma_slot *slot;
	unsigned long flags;

	spin_lock_irqsave(&queue->lock, flags);
	while (queue->state == NVMET_RDMA_Q_LIVE &&
	       !list_empty(&queue->pending)) {
		slot = list_first_entry(&queue->pending, struct nvmet_rdma_slot,
					link);
		list_del_init(&slot->link);
		spin_unlock_irqrestore(&queue->lock, flags);
		nvmet_rdma_start_cmd(slot);
		spin_lock_irqsave(&queue->lock, flags);
	}
	spin_unlock_irqrestore(&queue->lock, flags);
}

void nvmet_rdma_queue_established(struct nvmet_rdma_queue *queue)
{
	unsigned long flags;
	bool pending;

	nvmet_rdma_fault_up(queue);
	spin_lock_irqsave(&queue->lock, flags);
	if (queue->state == NVMET_RDMA_Q_CONNECTING) {
		WRITE_ONCE(queue->state, NVMET_RDMA_Q_LIVE);
		trace_nvmet_rdma_queue_state(queue->idx, queue->qid,
					     &queue->peer, "established");
	}
	pending = queue->state == NVMET_RDMA_Q_LIVE &&
		  !list_empty(&queue->pending);
	spin_unlock_irqrestore(&queue->lock, flags);
	if (pending)
		queue_work(nvmet_rdma_wq, &queue->start_work);
}

/*
 * Start tearing a queue down; callable from any context, any number of
 * times.  Everything that may sleep is left to the release work.
 */
void nvmet_rdma_queue_close(struct nvmet_rdma_queue *queue)
{
	enum nvmet_rdma_qstate was;
	unsigned long flags;

	spin_lock_irqsave(&queue->lock, flags);
	was = queue->state;
	WRITE_ONCE(queue->state, NVMET_RDMA_Q_CLOSING);
	/* Capsules that beat ESTABLISHED were never started: forget them. */
	INIT_LIST_HEAD(&queue->pending);
	spin_unlock_irqrestore(&queue->lock, flags);

	/*
	 * Every command carries the port to nvmet core (req->port: its ANA
	 * state, inline size, the subsystems a Connect may reach), and port
	 * removal cannot wait for the queues it closes: it holds
	 * nvmet_config_sem, which a Connect on them may be waiting for.
	 * nvmet core frees the port only after flushing nvmet_wq, so the
	 * release runs there: the port outlives every queue closed for it.
	 */
	if (was != NVMET_RDMA_Q_CLOSING) {
		trace_nvmet_rdma_queue_state(queue->idx, queue->qid,
					     &queue->peer, "closing");
		queue_work(nvmet_wq, &queue->release_work);
	}
}

/* Close every queue that matches all of the non-NULL criteria. */
void nvmet_rdma_close_queues(struct nvmet_port *nport, struct nvmet_ctrl *ctrl,
			     struct ib_device *ibdev)
{
	struct nvmet_rdma_queue *queue;

	mutex_lock(&nvmet_rdma_lock);
	list_for_each_entry(queue, &nvmet_rdma_queues, entry) {
		if (nport && queue->nport != nport)
			continue;
		if (ctrl && READ_ONCE(queue->nvme_sq.ctrl) != ctrl)
			continue;
		if (ibdev && queue->dev->ibdev != ibdev)
			continue;
		nvmet_rdma_queue_close(queue);
	}
	mutex_unlock(&nvmet_rdma_lock);
}

void nvmet_rdma_delete_ctrl(struct nvmet_ctrl *ctrl)
{
	nvmet_rdma_close_queues(NULL, ctrl, NULL);
}

/* Module exit: every queue is gone by now (the ib_client waited). */
void nvmet_rdma_queues_exit(void)
{
	ida_destroy(&nvmet_rdma_queue_ida);
}
