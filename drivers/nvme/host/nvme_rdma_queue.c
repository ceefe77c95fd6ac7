// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: one queue, i.e. one RDMA
 * connection, from resolution to teardown.
 *
 * Life of a queue:
 *   nvme_rdma_queue_alloc()  cm_id, resolve, PD/CQ/QP, capsules, responses, MRs,
 *                      receives posted, connected (ALLOCATED, ACTIVE)
 *   nvme_rdma_queue_start()  NVMe-oF Connect on it (LIVE)
 *   nvme_rdma_queue_stop()   disconnect, bounded flush, QP and CQ destroyed: no
 *                      completion handler runs for this queue after it
 *   nvme_rdma_queue_free()   memory, MRs, PD and cm_id released
 *
 * Stopping destroys the QP and CQ rather than leaving that to free: the
 * callers cancel the outstanding requests right after stopping, and a
 * completion handler still running at that point could complete a request
 * twice. ib_free_cq() waits for a running handler, so once stop returns
 * the cancel path owns every request.
 */
#include "nvme_rdma.h"
#include "nvme_rdma_trace.h"

#include <linux/error-injection.h>

static void nvme_rdma_qp_event(struct ib_event *ev, void *ctx)
{
	struct nvme_rdma_queue *q = ctx;

	dev_dbg(q->ctrl->ctrl.device, "queue %u: QP event %s (%d)\n", q->qid,
		ib_event_msg(ev->event), ev->event);
}

static void nvme_rdma_drain_sq_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_queue *q = container_of(wc->wr_cqe, struct nvme_rdma_queue,
					   drain_sq_cqe);

	complete(&q->drain_sq_done);
}

static void nvme_rdma_drain_rq_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_queue *q = container_of(wc->wr_cqe, struct nvme_rdma_queue,
					   drain_rq_cqe);

	complete(&q->drain_rq_done);
}

int nvme_rdma_post_recv(struct nvme_rdma_queue *q, struct nvme_rdma_rsp_slot *slot)
{
	return ib_post_recv(q->qp, &slot->wr, NULL);
}

/*
 * Wait for a drain marker; a polled CQ has nobody else to reap it, so reap
 * it here between naps. Returns false when the deadline passed.
 */
static bool nvme_rdma_drain_wait(struct nvme_rdma_queue *q, struct completion *done,
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
		dev_warn(q->ctrl->ctrl.device,
			 "queue %u: cannot move QP to error state: %d\n",
			 q->qid, ret);
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
		dev_warn(q->ctrl->ctrl.device,
			 "queue %u: %s%s not flushed within %u ms, destroying it anyway\n",
			 q->qid, sq_ok ? "" : "send queue ",
			 rq_ok ? "" : "receive queue ", NVME_RDMA_DRAIN_TIMEOUT_MS);
}

/*
 * blk-mq may call nvme_rdma_poll() on a polled queue at any time, even while
 * the queue is being set up or torn down: take the CQ away from it under
 * poll_lock, which the poller holds while reaping, before freeing it.
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
	trace_nvme_rdma_queue_state(q->ctrl->ctrl.instance, q->qid, "stopping");
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
	kfree(q->rsp_slots);
	q->rsp_slots = NULL;
}

/*
 * Capsules and response buffers are one DMA mapping each for the life of
 * the connection; the hot path only syncs the slot it uses.
 */
static int nvme_rdma_buffers_alloc(struct nvme_rdma_queue *q)
{
	struct ib_device *ibdev = q->ibdev;
	size_t sqe_len = q->nr_slots * sizeof(*q->sqe_buf);
	size_t rsp_len = q->depth * sizeof(*q->rsp_buf);
	u16 i;

	q->sqe_buf = kzalloc(sqe_len, GFP_KERNEL);
	if (!q->sqe_buf)
		return -ENOMEM;
	q->sqe_dma = ib_dma_map_single(ibdev, q->sqe_buf, sqe_len,
				       DMA_TO_DEVICE);
	if (ib_dma_mapping_error(ibdev, q->sqe_dma)) {
		kfree(q->sqe_buf);
		q->sqe_buf = NULL;
		return -ENOMEM;
	}

	/*
	 * Several 16-byte completions share a cache line; that is safe for
	 * DMA from the device because the CPU never writes these buffers.
	 */
	q->rsp_buf = kzalloc(rsp_len, GFP_KERNEL);
	if (!q->rsp_buf)
		goto out_free;
	q->rsp_dma = ib_dma_map_single(ibdev, q->rsp_buf, rsp_len,
				       DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(ibdev, q->rsp_dma)) {
		kfree(q->rsp_buf);
		q->rsp_buf = NULL;
		goto out_free;
	}

	q->rsp_slots = kcalloc(q->depth, sizeof(*q->rsp_slots), GFP_KERNEL);
	if (!q->rsp_slots)
		goto out_free;
	for (i = 0; i < q->depth; i++) {
		struct nvme_rdma_rsp_slot *slot = &q->rsp_slots[i];

		slot->cqe.done = nvme_rdma_recv_done;
		slot->sge.addr = q->rsp_dma + i * sizeof(*q->rsp_buf);
		slot->sge.length = sizeof(*q->rsp_buf);
		slot->sge.lkey = q->pd->local_dma_lkey;
		slot->wr.wr_cqe = &slot->cqe;
		slot->wr.sg_list = &slot->sge;
		slot->wr.num_sge = 1;
	}
	return 0;

out_free:
	nvme_rdma_buffers_free(q);
	return -ENOMEM;
}

/* Is this device able to carry us, and with how many pages per MR? */
static int nvme_rdma_check_device(struct nvme_rdma_queue *q)
{
	struct nvme_rdma_ctrl *ctrl = q->ctrl;
	struct ib_device_attr *attrs = &q->ibdev->attrs;
	u32 pages;

	if (!(attrs->device_cap_flags & IB_DEVICE_MEM_MGT_EXTENSIONS)) {
		dev_err(ctrl->ctrl.device,
			"RDMA device %s lacks memory management extensions (fast registration), which this host requires\n",
			dev_name(&q->ibdev->dev));
		return -EOPNOTSUPP;
	}
	if (attrs->max_fast_reg_page_list_len < 2) {
		dev_err(ctrl->ctrl.device,
			"RDMA device %s registers at most %u pages per MR\n",
			dev_name(&q->ibdev->dev),
			attrs->max_fast_reg_page_list_len);
		return -EOPNOTSUPP;
	}

	/* One page of the MR is for a buffer not starting on a page. */
	pages = min_t(u32, NVME_RDMA_MAX_PAGES,
		      attrs->max_fast_reg_page_list_len - 1);
	if (!ctrl->max_pages) {
		ctrl->max_pages = pages;
	} else if (pages < ctrl->max_pages) {
		/* The tag sets were sized for the first device. */
		dev_err(ctrl->ctrl.device,
			"RDMA device %s registers %u pages per MR, this controller needs %u\n",
			dev_name(&q->ibdev->dev), pages, ctrl->max_pages);
		return -EOPNOTSUPP;
	}
	q->inline_sges = min_t(u32, NVME_RDMA_MAX_INLINE_SGES,
			       attrs->max_send_sge - 1);
	return 0;
}

/* Send WRs: REG_MR + SEND + LOCAL_INV per slot, and the drain marker. */
static int nvme_rdma_queue_create_ib(struct nvme_rdma_queue *q)
{
	struct nvme_rdma_ctrl *ctrl = q->ctrl;
	struct ib_device *ibdev = q->ibdev;
	struct ib_qp_init_attr init = {};
	int send_wrs = 3 * q->nr_slots + 1;
	int recv_wrs = q->depth + 1;
	int ret;

	ret = nvme_rdma_check_device(q);
	if (ret)
		return ret;
	if (send_wrs > ibdev->attrs.max_qp_wr) {
		dev_err(ctrl->ctrl.device,
			"queue %u: depth %u needs %d send WRs, %s allows %d\n",
			q->qid, q->depth, send_wrs, dev_name(&ibdev->dev),
			ibdev->attrs.max_qp_wr);
		return -EINVAL;
	}

	q->pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(q->pd)) {
		ret = PTR_ERR(q->pd);
		q->pd = NULL;
		return ret;
	}

	q->cq_size = send_wrs + recv_wrs;
	q->cq = ib_alloc_cq(ibdev, q, q->cq_size,
			    q->qid % ibdev->num_comp_vectors,
			    q->polled ? IB_POLL_DIRECT : IB_POLL_SOFTIRQ);
	if (IS_ERR(q->cq)) {
		ret = PTR_ERR(q->cq);
		q->cq = NULL;
		goto out_pd;
	}

	init.event_handler = nvme_rdma_qp_event;
	init.qp_context = q;
	init.send_cq = q->cq;
	init.recv_cq = q->cq;
	init.qp_type = IB_QPT_RC;
	init.sq_sig_type = IB_SIGNAL_REQ_WR;
	init.cap.max_send_wr = send_wrs;
	init.cap.max_recv_wr = recv_wrs;
	init.cap.max_send_sge = 1 + q->inline_sges;
	init.cap.max_recv_sge = 1;
	ret = rdma_create_qp(q->cm_id, q->pd, &init);
	if (ret)
		goto out_cq;
	q->qp = q->cm_id->qp;

	ret = nvme_rdma_buffers_alloc(q);
	if (ret)
		goto out_qp;
	ret = nvme_rdma_mrs_alloc(q, ctrl->max_pages + 1);
	if (ret)
		goto out_buffers;
	return 0;

out_buffers:
	nvme_rdma_buffers_free(q);
out_qp:
	rdma_destroy_qp(q->cm_id);
	q->qp = NULL;
out_cq:
	nvme_rdma_queue_free_cq(q);
out_pd:
	ib_dealloc_pd(q->pd);
	q->pd = NULL;
	return ret;
}

static void nvme_rdma_queue_destroy_ib(struct nvme_rdma_queue *q)
{
	nvme_rdma_mrs_free(q);
	nvme_rdma_buffers_free(q);
	if (q->qp) {
		rdma_destroy_qp(q->cm_id);
		q->qp = NULL;
	}
	nvme_rdma_queue_free_cq(q);
	ib_dealloc_pd(q->pd);
	q->pd = NULL;
}

static bool nvme_rdma_queue_is_polled(struct nvme_rdma_ctrl *ctrl, int qid)
{
	u32 first_poll = 1 + ctrl->io_queues[HCTX_TYPE_DEFAULT] +
			 ctrl->io_queues[HCTX_TYPE_READ];

	return qid && ctrl->io_queues[HCTX_TYPE_POLL] && qid >= first_poll;
}

/**
 * nvme_rdma_queue_alloc() - create and connect queue @qid
 * @ctrl: the controller
 * @qid: 0 for the admin queue
 * @depth: entries; for I/O queues at least the tag set's depth
 *
 * Every step is bounded (see the NVME_RDMA_*_TIMEOUT_MS), so a dead or missing
 * controller fails this within seconds.
 */
int nvme_rdma_queue_alloc(struct nvme_rdma_ctrl *ctrl, int qid, u16 depth)
{
	struct nvme_rdma_queue *q = &ctrl->queues[qid];
	struct rdma_cm_id *cm_id;
	int i, ret;

	mutex_lock(&q->lock);
	if (WARN_ON_ONCE(test_bit(NVME_RDMA_Q_ALLOCATED, &q->flags))) {
		ret = -EBUSY;
		goto out_unlock;
	}
	q->ctrl = ctrl;
	q->qid = qid;
	q->depth = depth;
	/* The admin queue has a capsule slot more for the AEN command. */
	q->nr_slots = qid ? depth : NVME_AQ_DEPTH;
	q->flags = 0;
	q->polled = nvme_rdma_queue_is_polled(ctrl, qid);
	q->drain_sq_cqe.done = nvme_rdma_drain_sq_done;
	q->drain_rq_cqe.done = nvme_rdma_drain_rq_done;

	cm_id = rdma_create_id(&init_net, nvme_rdma_cm_handler, q, RDMA_PS_TCP,
			       IB_QPT_RC);
	if (IS_ERR(cm_id)) {
		ret = PTR_ERR(cm_id);
		dev_err(ctrl->ctrl.device, "queue %u: rdma_create_id: %d\n",
			qid, ret);
		goto out_unlock;
	}
	q->cm_id = cm_id;
	if (ctrl->ctrl.opts->tos >= 0)
		rdma_set_service_type(cm_id, ctrl->ctrl.opts->tos);

	ret = nvme_rdma_cm_resolve(q);
	if (ret)
		goto out_destroy_id;
	WRITE_ONCE(q->ibdev, cm_id->device);

	ret = nvme_rdma_queue_create_ib(q);
	if (ret)
		goto out_destroy_id;

	for (i = 0; i < q->depth; i++) {
		ret = nvme_rdma_post_recv(q, &q->rsp_slots[i]);
		if (ret) {
			dev_err(ctrl->ctrl.device,
				"queue %u: posting receive %d: %d\n", qid, i,
				ret);
			goto out_destroy_ib;
		}
	}

	/* From here on a lost connection is recovery's business. */
	set_bit(NVME_RDMA_Q_ACTIVE, &q->flags);
	ret = nvme_rdma_cm_connect(q);
	if (ret) {
		__nvme_rdma_queue_stop(q);
		goto out_destroy_ib;
	}
	set_bit(NVME_RDMA_Q_ALLOCATED, &q->flags);
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_CONNECTS);
	trace_nvme_rdma_queue_state(ctrl->ctrl.instance, qid, "connected");
	mutex_unlock(&q->lock);
	return 0;

out_destroy_ib:
	nvme_rdma_queue_destroy_ib(q);
out_destroy_id:
	/* Also cancels a resolution or connect still in progress. */
	rdma_destroy_id(cm_id);
	q->cm_id = NULL;
	WRITE_ONCE(q->ibdev, NULL);
out_unlock:
	mutex_unlock(&q->lock);
	return ret;
}

ALLOW_ERROR_INJECTION(nvme_rdma_queue_alloc, ERRNO);

int nvme_rdma_queue_start(struct nvme_rdma_ctrl *ctrl, int qid)
{
	struct nvme_rdma_queue *q = &ctrl->queues[qid];
	int ret;

	/*
	 * The receives have been posted since the queue connected, before
	 * its tag set existed or covered it (first connect, added queues):
	 * only from here may a response be looked up in it. The barrier
	 * publishes the tag set to the completion handlers' acquire.
	 */
	smp_mb__before_atomic();
	set_bit(NVME_RDMA_Q_TAGGED, &q->flags);
	if (qid)
		ret = nvmf_connect_io_queue(&ctrl->ctrl, qid);
	else
		ret = nvmf_connect_admin_queue(&ctrl->ctrl);
	if (ret) {
		dev_err(ctrl->ctrl.device,
			"queue %d: NVMe-oF Connect failed: %d\n", qid, ret);
		nvme_rdma_queue_stop(q);
		return ret;
	}
	set_bit(NVME_RDMA_Q_LIVE, &q->flags);
	trace_nvme_rdma_queue_state(ctrl->ctrl.instance, qid, "live");
	return 0;
}

void nvme_rdma_queue_free(struct nvme_rdma_queue *q)
{
	mutex_lock(&q->lock);
	if (test_and_clear_bit(NVME_RDMA_Q_ALLOCATED, &q->flags)) {
		__nvme_rdma_queue_stop(q);
		nvme_rdma_queue_destroy_ib(q);
		rdma_destroy_id(q->cm_id);
		q->cm_id = NULL;
		WRITE_ONCE(q->ibdev, NULL);
		trace_nvme_rdma_queue_state(q->ctrl->ctrl.instance, q->qid,
					    "freed");
	}
	mutex_unlock(&q->lock);
}
