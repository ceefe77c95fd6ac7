// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: one queue, i.e. one RDMA
 * connection, from resolution to teardown.
 *
 * Life of a queue:
 *   nvme_rdma_queue_init()   once, with the controller: locks, completions
 *   nvme_rdma_queue_alloc()  cm_id, resolve, PD/CQ/QP, capsules, responses,
 *                            MRs, receives posted, connected (ALLOCATED,
 *                            ACTIVE)
 *   nvme_rdma_queue_stop()   disconnect, bounded flush, QP and CQ destroyed:
 *                            no completion handler runs for this queue
 *                            after it
 *   nvme_rdma_queue_free()   memory, MRs, PD and cm_id released
 *   nvme_rdma_queue_exit()   once, when the controller is freed
 *
 * The NVMe-oF Connect on the queue (LIVE) is the controller layer's.
 *
 * Stopping destroys the QP and CQ rather than leaving that to free: the
 * callers cancel the outstanding requests right after stopping, and a
 * completion handler still running at that point could complete a request
 * twice. ib_free_cq() waits for a running handler, so once stop returns
 * the cancel path owns every request.
 */
#include "nvme_rdma_queue.h"
#include "nvme_rdma_trace.h"

static void nvme_rdma_qp_event(struct ib_event *ev, void *ctx)
{
	struct nvme_rdma_queue *q = ctx;

	dev_dbg(q->dev, "queue %u: QP event %s (%d)\n", q->qid,
		ib_event_msg(ev->event), ev->event);
}

static void nvme_rdma_drain_sq_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_queue *q = container_of(wc->wr_cqe,
						 struct nvme_rdma_queue,
						 drain_sq_cqe);

	complete(&q->drain_sq_done);
}

static void nvme_rdma_drain_rq_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_queue *q = container_of(wc->wr_cqe,
						 struct nvme_rdma_queue,
						 drain_rq_cqe);

	complete(&q->drain_rq_done);
}

void nvme_rdma_queue_init(struct nvme_rdma_queue *q,
			  struct nvme_rdma_ctrl *ctrl, u16 qid)
{
	q->ctrl = ctrl;
	q->qid = qid;
	mutex_init(&q->lock);
	spin_lock_init(&q->poll_lock);
	init_completion(&q->cm_done);
	init_completion(&q->drain_sq_done);
	init_completion(&q->drain_rq_done);
	q->drain_sq_cqe.done = nvme_rdma_drain_sq_done;
	q->drain_rq_cqe.done = nvme_rdma_drain_rq_done;
}

void nvme_rdma_queue_exit(struct nvme_rdma_queue *q)
{
	mutex_destroy(&q->lock);
}

int nvme_rdma_queue_post_recv(struct nvme_rdma_queue *q,
			      struct nvme_rdma_rsp_slot *slot)
{
	return ib_post_recv(q->qp, &slot->wr, NULL);
}

/**
 * nvme_rdma_queue_post_capsule() - copy a capsule into its slot and send it
 * @q: the queue
 * @c: the command
 * @slot: the capsule slot, which is the command's tag
 * @sge: the SGEs of the SEND; sge[0] is filled in here with the capsule,
 *	the rest describe in-capsule data
 * @nr_sge: entries of @sge
 * @cqe: the SEND's completion
 * @before: a work request to post chained ahead of the SEND (REG_MR), or
 *	NULL
 */
int nvme_rdma_queue_post_capsule(struct nvme_rdma_queue *q,
				 const struct nvme_command *c,
				 unsigned int slot, struct ib_sge *sge,
				 int nr_sge, struct ib_cqe *cqe,
				 struct ib_send_wr *before)
{
	dma_addr_t dma = q->sqe_dma + slot * sizeof(*c);
	struct ib_send_wr wr = {
		.wr_cqe		= cqe,
		.sg_list	= sge,
		.num_sge	= nr_sge,
		.opcode		= IB_WR_SEND,
		.send_flags	= IB_SEND_SIGNALED,
	};

	memcpy(&q->sqe_buf[slot], c, sizeof(*c));
	ib_dma_sync_single_for_device(q->ibdev, dma, sizeof(*c),
				      DMA_TO_DEVICE);
	sge[0].addr = dma;
	sge[0].length = sizeof(*c);
	sge[0].lkey = q->pd->local_dma_lkey;

	if (before) {
		before->next = &wr;
		return ib_post_send(q->qp, before, NULL);
	}
	return ib_post_send(q->qp, &wr, NULL);
}

/*
 * Reap a polled CQ. blk-mq may call this at any time, even while the
 * queue is being set up or torn down: the CQ is only there while
 * poll_lock says so.
 */
int nvme_rdma_queue_poll(struct nvme_rdma_queue *q)
{
	int found = 0;

	/* Someone else reaping this CQ already finds what we would. */
	if (!spin_trylock(&q->poll_lock))
		return 0;
	if (q->cq)
		found = ib_process_cq_direct(q->cq, -1);
	spin_unlock(&q->poll_lock);
	return found;
}

/*
 * Wait for a drain marker; a polled CQ has nobody else to reap it, so reap
 * it here between naps. Returns false when the deadline passed.
 */
static bool nvme_rdma_drain_wait(struct nvme_rdma_queue *q,
				 struct completion *done,
				 unsigned long deadline)
{
	long left;

	for (;;) {
		left = (long)(deadline - jiffies);
		if (left <= 0)
			return try_wait_for_completion(done);
		if (!q->polled)
			return wait_for_completion_timeout(done, left);
		if (wait_for_completion_timeout(done, min_t(long, left,
							    HZ / 50)))
			return true;
		spin_lock(&q->poll_lock);
		ib_process_cq_direct(q->cq, -1);
		spin_unlock(&q->poll_lock);
	}
}

/*
 * Flush everything posted on the QP, but give up after a deadline: some
 * devices never flush a QP whose peer vanished, and the in-tree drain
 * waits forever for them. Flushes complete in order, so once both markers
 * are back every earlier completion has been handled.
 */
static void nvme_rdma_queue_drain(struct nvme_rdma_queue *q)
{
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };
	/*
	 * A full ib_rdma_wr although nothing is written: providers read the
	 * RDMA fields of an RDMA_WRITE (rxe does, KASAN caught it reading
	 * past a bare ib_send_wr on the stack).
	 */
	struct ib_rdma_wr swr = {
		.wr = {
			.wr_cqe		= &q->drain_sq_cqe,
			.opcode		= IB_WR_RDMA_WRITE,
			.send_flags	= IB_SEND_SIGNALED,
		},
	};
	struct ib_recv_wr rwr = { .wr_cqe = &q->drain_rq_cqe };
	unsigned long deadline;
	bool sq_ok = false, rq_ok = false;
	int ret;

	ret = ib_modify_qp(q->qp, &attr, IB_QP_STATE);
	if (ret) {
		dev_warn(q->dev,
			 "queue %u: moving QP %u to the error state failed: %d\n",
			 q->qid, q->qp->qp_num, ret);
		return;
	}

	reinit_completion(&q->drain_sq_done);
	reinit_completion(&q->drain_rq_done);
	deadline = jiffies + msecs_to_jiffies(NVME_RDMA_DRAIN_TIMEOUT_MS);
	if (!ib_post_send(q->qp, &swr.wr, NULL))
		sq_ok = nvme_rdma_drain_wait(q, &q->drain_sq_done, deadline);
	if (!ib_post_recv(q->qp, &rwr, NULL))
		rq_ok = nvme_rdma_drain_wait(q, &q->drain_rq_done, deadline);
	if (!sq_ok || !rq_ok)
		dev_warn(q->dev,
			 "queue %u: %s%s not flushed within %u ms, destroying it anyway\n",
			 q->qid, sq_ok ? "" : "send queue ",
			 rq_ok ? "" : "receive queue ",
			 NVME_RDMA_DRAIN_TIMEOUT_MS);
}

/*
 * A poller (nvme_rdma_queue_poll()) may be about to reap the CQ: take it
 * away under poll_lock, which the poller holds while reaping, before
 * freeing it.
 */
static void nvme_rdma_queue_free_cq(struct nvme_rdma_queue *q)
{
	struct ib_cq *cq;

	spin_lock(&q->poll_lock);
	cq = q->cq;
	q->cq = NULL;
	spin_unlock(&q->poll_lock);
	if (cq)
		ib_free_cq(cq);
}

/* Disconnect, flush and destroy QP and CQ; caller holds q->lock. */
static void __nvme_rdma_queue_stop(struct nvme_rdma_queue *q)
{
	clear_bit(NVME_RDMA_Q_LIVE, &q->flags);
	if (!test_and_clear_bit(NVME_RDMA_Q_ACTIVE, &q->flags))
		return;
	trace_nvme_rdma_queue_state(q->instance, q->qid, "stopping");
	/*
	 * Wait out every queue_rq and completion handler that still saw the
	 * queue active; later ones leave the QP and the requests alone.
	 * A poller of an IB_POLL_DIRECT CQ is serialized by poll_lock.
	 */
	synchronize_rcu();
	spin_lock(&q->poll_lock);
	spin_unlock(&q->poll_lock);

	/* Tell the controller now; its reply is not waited for. */
	rdma_disconnect(q->cm_id);
	nvme_rdma_queue_drain(q);

	rdma_destroy_qp(q->cm_id);
	q->qp = NULL;
	nvme_rdma_queue_free_cq(q);
}

void nvme_rdma_queue_stop(struct nvme_rdma_queue *q)
{
	mutex_lock(&q->lock);
	__nvme_rdma_queue_stop(q);
	mutex_unlock(&q->lock);
}

static void nvme_rdma_buffers_free(struct nvme_rdma_queue *q)
{
	kfree(q->rsp_slots);
	q->rsp_slots = NULL;
	if (q->rsp_buf) {
		ib_dma_unmap_single(q->ibdev, q->rsp_dma,
				    q->depth * sizeof(*q->rsp_buf),
				    DMA_FROM_DEVICE);
		kfree(q->rsp_buf);
		q->rsp_buf = NULL;
	}
	if (q->sqe_buf) {
		ib_dma_unmap_single(q->ibdev, q->sqe_dma,
				    q->nr_slots * sizeof(*q->sqe_buf),
				    DMA_TO_DEVICE);
		kfree(q->sqe_buf);
		q->sqe_buf = NULL;
	}
}

/* kzalloc() and DMA-map @len bytes; NULL on failure, nothing left behind. */
static void *nvme_rdma_buffer_map(struct nvme_rdma_queue *q, size_t len,
				  enum dma_data_direction dir, dma_addr_t *dma)
{
	void *buf = kzalloc(len, GFP_KERNEL);

	if (!buf)
		return NULL;
	*dma = ib_dma_map_single(q->ibdev, buf, len, dir);
	if (ib_dma_mapping_error(q->ibdev, *dma)) {
		kfree(buf);
		return NULL;
	}
	return buf;
}

/*
 * Capsules and response buffers are one DMA mapping each for the life of
 * the connection; the hot path only syncs the slot it uses. Several
 * 16-byte completions share a cache line; that is safe for DMA from the
 * device because the CPU never writes these buffers.
 */
static int nvme_rdma_buffers_alloc(struct nvme_rdma_queue *q)
{
	u16 i;

	q->sqe_buf = nvme_rdma_buffer_map(q, q->nr_slots * sizeof(*q->sqe_buf),
					  DMA_TO_DEVICE, &q->sqe_dma);
	q->rsp_buf = nvme_rdma_buffer_map(q, q->depth * sizeof(*q->rsp_buf),
					  DMA_FROM_DEVICE, &q->rsp_dma);
	q->rsp_slots = kcalloc(q->depth, sizeof(*q->rsp_slots), GFP_KERNEL);
	if (!q->sqe_buf || !q->rsp_buf || !q->rsp_slots) {
		dev_err(q->dev,
			"queue %u: allocating %u capsules and %u response buffers failed: %d\n",
			q->qid, q->nr_slots, q->depth, -ENOMEM);
		nvme_rdma_buffers_free(q);
		return -ENOMEM;
	}

	for (i = 0; i < q->depth; i++) {
		struct nvme_rdma_rsp_slot *slot = &q->rsp_slots[i];

		slot->cqe.done = q->ops->recv_done;
		slot->sge.addr = q->rsp_dma + i * sizeof(*q->rsp_buf);
		slot->sge.length = sizeof(*q->rsp_buf);
		slot->sge.lkey = q->pd->local_dma_lkey;
		slot->wr.wr_cqe = &slot->cqe;
		slot->wr.sg_list = &slot->sge;
		slot->wr.num_sge = 1;
	}
	return 0;
}

/* Is this device able to carry us, and with how many pages per MR? */
static int nvme_rdma_check_device(struct nvme_rdma_queue *q, u32 need_pages)
{
	struct ib_device_attr *attrs = &q->ibdev->attrs;
	u32 pages;

	if (!(attrs->device_cap_flags & IB_DEVICE_MEM_MGT_EXTENSIONS)) {
		dev_err(q->dev,
			"queue %u: RDMA device %s lacks memory management extensions (fast registration), which this host requires\n",
			q->qid, dev_name(&q->ibdev->dev));
		return -EOPNOTSUPP;
	}
	if (attrs->max_fast_reg_page_list_len < 2) {
		dev_err(q->dev,
			"queue %u: RDMA device %s registers at most %u pages per MR, 2 needed\n",
			q->qid, dev_name(&q->ibdev->dev),
			attrs->max_fast_reg_page_list_len);
		return -EOPNOTSUPP;
	}

	/* One page of the MR is for a buffer not starting on a page. */
	pages = min_t(u32, NVME_RDMA_MAX_PAGES,
		      attrs->max_fast_reg_page_list_len - 1);
	if (need_pages && pages < need_pages) {
		/* The controller's tag sets were sized for another device. */
		dev_err(q->dev,
			"queue %u: RDMA device %s registers %u pages per MR, this controller needs %u\n",
			q->qid, dev_name(&q->ibdev->dev), pages, need_pages);
		return -EOPNOTSUPP;
	}
	q->max_pages = need_pages ?: pages;
	q->inline_sges = min_t(u32, NVME_RDMA_MAX_INLINE_SGES,
			       attrs->max_send_sge - 1);
	return 0;
}

/* Send WRs: REG_MR + SEND + LOCAL_INV per slot, and the drain marker. */
static int nvme_rdma_create_qp(struct nvme_rdma_queue *q)
{
	struct ib_device *ibdev = q->ibdev;
	struct ib_qp_init_attr init = {
		.event_handler	= nvme_rdma_qp_event,
		.qp_context	= q,
		.qp_type	= IB_QPT_RC,
		.sq_sig_type	= IB_SIGNAL_REQ_WR,
		.cap = {
			.max_send_wr	= 3 * q->nr_slots + 1,
			.max_recv_wr	= q->depth + 1,
			.max_send_sge	= 1 + q->inline_sges,
			.max_recv_sge	= 1,
		},
	};
	int ret;

	if (init.cap.max_send_wr > ibdev->attrs.max_qp_wr) {
		dev_err(q->dev,
			"queue %u: depth %u needs %u send WRs, %s allows %d\n",
			q->qid, q->depth, init.cap.max_send_wr,
			dev_name(&ibdev->dev), ibdev->attrs.max_qp_wr);
		return -EINVAL;
	}

	q->cq_size = init.cap.max_send_wr + init.cap.max_recv_wr;
	q->cq = ib_alloc_cq(ibdev, q, q->cq_size,
			    q->qid % ibdev->num_comp_vectors,
			    q->polled ? IB_POLL_DIRECT : IB_POLL_SOFTIRQ);
	if (IS_ERR(q->cq)) {
		ret = PTR_ERR(q->cq);
		q->cq = NULL;
		dev_err(q->dev, "queue %u: ib_alloc_cq of %d entries failed: %d\n",
			q->qid, q->cq_size, ret);
		return ret;
	}

	init.send_cq = q->cq;
	init.recv_cq = q->cq;
	ret = rdma_create_qp(q->cm_id, q->pd, &init);
	if (ret) {
		dev_err(q->dev,
			"queue %u: rdma_create_qp (%u send, %u receive WRs) failed: %d\n",
			q->qid, init.cap.max_send_wr, init.cap.max_recv_wr, ret);
		nvme_rdma_queue_free_cq(q);
		return ret;
	}
	q->qp = q->cm_id->qp;
	return 0;
}

static void nvme_rdma_destroy_qp(struct nvme_rdma_queue *q)
{
	if (q->qp) {
		rdma_destroy_qp(q->cm_id);
		q->qp = NULL;
	}
	nvme_rdma_queue_free_cq(q);
}

/* Everything the hardware touches: PD, CQ, QP, buffers and MRs. */
static int nvme_rdma_queue_create_ib(struct nvme_rdma_queue *q, u32 pages)
{
	int ret;

	ret = nvme_rdma_check_device(q, pages);
	if (ret)
		return ret;

	q->pd = ib_alloc_pd(q->ibdev, 0);
	if (IS_ERR(q->pd)) {
		ret = PTR_ERR(q->pd);
		q->pd = NULL;
		dev_err(q->dev, "queue %u: ib_alloc_pd on %s failed: %d\n",
			q->qid, dev_name(&q->ibdev->dev), ret);
		return ret;
	}
	ret = nvme_rdma_create_qp(q);
	if (ret)
		goto out_dealloc_pd;
	ret = nvme_rdma_buffers_alloc(q);
	if (ret)
		goto out_destroy_qp;
	ret = nvme_rdma_mrs_alloc(q);
	if (ret)
		goto out_free_buffers;
	return 0;

out_free_buffers:
	nvme_rdma_buffers_free(q);
out_destroy_qp:
	nvme_rdma_destroy_qp(q);
out_dealloc_pd:
	ib_dealloc_pd(q->pd);
	q->pd = NULL;
	return ret;
}

static void nvme_rdma_queue_destroy_ib(struct nvme_rdma_queue *q)
{
	nvme_rdma_mrs_free(q);
	nvme_rdma_buffers_free(q);
	nvme_rdma_destroy_qp(q);
	ib_dealloc_pd(q->pd);
	q->pd = NULL;
}

static int nvme_rdma_post_all_recvs(struct nvme_rdma_queue *q)
{
	int i, ret;

	for (i = 0; i < q->depth; i++) {
		ret = nvme_rdma_queue_post_recv(q, &q->rsp_slots[i]);
		if (ret) {
			dev_err(q->dev,
				"queue %u: posting receive %d of %u failed: %d\n",
				q->qid, i, q->depth, ret);
			return ret;
		}
	}
	return 0;
}

/* A cm_id resolved to a device; @q->ibdev is set on success. */
static int nvme_rdma_queue_create_id(struct nvme_rdma_queue *q,
				     const struct nvme_rdma_queue_params *p)
{
	struct rdma_cm_id *cm_id;
	int ret;

	cm_id = rdma_create_id(&init_net, nvme_rdma_cm_handler, q, RDMA_PS_TCP,
			       IB_QPT_RC);
	if (IS_ERR(cm_id)) {
		ret = PTR_ERR(cm_id);
		dev_err(q->dev, "queue %u: rdma_create_id failed: %d\n",
			q->qid, ret);
		return ret;
	}
	q->cm_id = cm_id;
	if (p->tos >= 0)
		rdma_set_service_type(cm_id, p->tos);

	ret = nvme_rdma_cm_resolve(q, p->src);
	if (ret) {
		/* Also cancels a resolution still in progress. */
		rdma_destroy_id(cm_id);
		q->cm_id = NULL;
		return ret;
	}
	WRITE_ONCE(q->ibdev, cm_id->device);
	return 0;
}

static void nvme_rdma_queue_destroy_id(struct nvme_rdma_queue *q)
{
	rdma_destroy_id(q->cm_id);
	q->cm_id = NULL;
	WRITE_ONCE(q->ibdev, NULL);
}

/**
 * nvme_rdma_queue_alloc() - create and connect a queue
 * @q: the queue, set up by nvme_rdma_queue_init()
 * @p: what it should be
 *
 * Every step is bounded (see the NVME_RDMA_*_TIMEOUT_MS), so a dead or
 * missing controller fails this within seconds.
 */
int nvme_rdma_queue_alloc(struct nvme_rdma_queue *q,
			  const struct nvme_rdma_queue_params *p)
{
	int ret;

	mutex_lock(&q->lock);
	if (WARN_ON_ONCE(test_bit(NVME_RDMA_Q_ALLOCATED, &q->flags))) {
		ret = -EBUSY;
		goto out_unlock;
	}
	q->dev = p->dev;
	q->instance = p->instance;
	q->dst = p->dst;
	q->ops = p->ops;
	q->depth = p->depth;
	q->nr_slots = p->nr_slots;
	q->polled = p->polled;
	q->flags = 0;

	ret = nvme_rdma_queue_create_id(q, p);
	if (ret)
		goto out_unlock;
	ret = nvme_rdma_queue_create_ib(q, p->max_pages);
	if (ret)
		goto out_destroy_id;
	ret = nvme_rdma_post_all_recvs(q);
	if (ret)
		goto out_destroy_ib;

	/* From here on a lost connection is reported through ops->lost. */
	set_bit(NVME_RDMA_Q_ACTIVE, &q->flags);
	ret = nvme_rdma_cm_connect(q);
	if (ret)
		goto out_stop;

	set_bit(NVME_RDMA_Q_ALLOCATED, &q->flags);
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_CONNECTS);
	trace_nvme_rdma_queue_state(q->instance, q->qid, "connected");
	mutex_unlock(&q->lock);
	return 0;

out_stop:
	__nvme_rdma_queue_stop(q);
out_destroy_ib:
	nvme_rdma_queue_destroy_ib(q);
out_destroy_id:
	/* Also cancels a connect still in progress. */
	nvme_rdma_queue_destroy_id(q);
out_unlock:
	mutex_unlock(&q->lock);
	return ret;
}

void nvme_rdma_queue_free(struct nvme_rdma_queue *q)
{
	mutex_lock(&q->lock);
	if (test_and_clear_bit(NVME_RDMA_Q_ALLOCATED, &q->flags)) {
		__nvme_rdma_queue_stop(q);
		nvme_rdma_queue_destroy_ib(q);
		nvme_rdma_queue_destroy_id(q);
		trace_nvme_rdma_queue_state(q->instance, q->qid, "freed");
	}
	mutex_unlock(&q->lock);
}
