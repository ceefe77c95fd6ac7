// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: the command path.
 *
 * A capsule lands in a slot; its SGL is checked and mapped (in-capsule
 * data is used in place, keyed data gets an rdma_rw context); data the
 * host writes is pulled with RDMA READ before nvmet executes the command;
 * data the host reads is pushed with RDMA WRITEs chained in front of the
 * response SEND; the slot is reposted once that SEND has completed.
 */
#include "nvmet_rdma.h"
#include "nvmet_rdma_trace.h"

static void nvmet_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc);
static void nvmet_rdma_read_done(struct ib_cq *cq, struct ib_wc *wc);
static void nvmet_rdma_send_done(struct ib_cq *cq, struct ib_wc *wc);
static void nvmet_rdma_xfer_done(struct ib_cq *cq, struct ib_wc *wc);

void nvmet_rdma_rbuf_init(struct nvmet_rdma_rbuf *rb)
{
	rb->cqe.done = nvmet_rdma_recv_done;
	rb->wr.wr_cqe = &rb->cqe;
	rb->wr.sg_list = rb->sge;
	INIT_LIST_HEAD(&rb->link);
}

void nvmet_rdma_slot_init(struct nvmet_rdma_slot *slot)
{
	slot->send_cqe.done = nvmet_rdma_send_done;
	slot->send_wr.wr_cqe = &slot->send_cqe;
	slot->send_wr.sg_list = &slot->send_sge;
	slot->send_wr.num_sge = 1;
	slot->send_wr.send_flags = IB_SEND_SIGNALED;

	slot->read_cqe.done = nvmet_rdma_read_done;
	slot->xfer_cqe.done = nvmet_rdma_xfer_done;
	INIT_LIST_HEAD(&slot->link);
}

int nvmet_rdma_post_recv(struct nvmet_rdma_rbuf *rb)
{
	struct ib_device *ibdev;
	int i;

	ibdev = rb->srq ? rb->srq->dev->ibdev : rb->slot->queue->dev->ibdev;
	for (i = 0; i < rb->wr.num_sge; i++)
		ib_dma_sync_single_for_device(ibdev, rb->sge[i].addr,
					      rb->sge[i].length,
					      DMA_FROM_DEVICE);
	if (rb->srq)
		return ib_post_srq_recv(rb->srq->srq, &rb->wr, NULL);
	return ib_post_recv(rb->slot->queue->qp, &rb->wr, NULL);
}

/* Lend @rb to @slot; queue->lock held or the slot not shared yet. */
static void nvmet_rdma_slot_attach(struct nvmet_rdma_slot *slot,
				   struct nvmet_rdma_rbuf *rb)
{
	slot->rb = rb;
	slot->sqe = rb->sqe;
	slot->recv_len = rb->len;
}

void nvmet_rdma_wc_error(struct nvmet_rdma_queue *queue, struct ib_wc *wc,
			 const char *what)
{
	unsigned long flags;
	bool first;

	/*
	 * Flushes are how a closing queue gets its buffers back; a flush
	 * while live means the QP went to error under us, so close then too
	 * (closing is idempotent), just without the noise.
	 */
	if (wc->status == IB_WC_WR_FLUSH_ERR) {
		nvmet_rdma_queue_close(queue);
		return;
	}
	atomic64_inc(&queue->stats.wc_errors[min_t(unsigned int, wc->status,
						   IB_WC_GENERAL_ERR)]);
	atomic64_inc(&nvmet_rdma_gstats[NVMET_RDMA_GS_WC_ERRORS]);

	/*
	 * The error that closes a live queue is named by the release work,
	 * which can safely look at the controller; any later one (it found
	 * the queue closing already) is logged here, without it.
	 */
	spin_lock_irqsave(&queue->lock, flags);
	first = !queue->err_what && queue->state != NVMET_RDMA_Q_CLOSING;
	if (first) {
		queue->err_what = what;
		queue->err_status = wc->status;
	}
	spin_unlock_irqrestore(&queue->lock, flags);
	if (!first)
		pr_err_ratelimited("queue %d (qid %u, host %pISpc): %s failed: %s (%d)\n",
				   queue->idx, queue->qid, &queue->peer,
				   what, ib_wc_status_msg(wc->status),
				   wc->status);
	nvmet_rdma_queue_close(queue);
}

/*
 * Give the RDMA READ/WRITE WRs of @slot's context, from @first up to
 * @stop, a wr_cqe where rdma_rw left none, so that their error
 * completions are seen.
 */
static void nvmet_rdma_xfer_tag(struct nvmet_rdma_slot *slot,
				struct ib_send_wr *first, struct ib_send_wr *stop)
{
	struct ib_send_wr *wr;

	for (wr = first; wr && wr != stop; wr = wr->next)
		if (!wr->wr_cqe)
			wr->wr_cqe = &slot->xfer_cqe;
}

/* A data transfer failed: counted apart from the other WR errors. */
static void nvmet_rdma_xfer_error(struct nvmet_rdma_queue *queue,
				  struct ib_wc *wc, const char *what)
{
	if (wc->status != IB_WC_WR_FLUSH_ERR) {
		atomic64_inc(&queue->stats.xfer_errors);
		atomic64_inc(&nvmet_rdma_gstats[NVMET_RDMA_GS_XFER_ERRORS]);
	}
	nvmet_rdma_wc_error(queue, wc, what);
}

/*
 * An unsignalled RDMA READ or WRITE failed.  The slot is finished by the
 * completion of the signalled WR behind it (the READ chain's last, or
 * the response SEND), which comes after this one, flushed: only report
 * and close here.
 */
static void nvmet_rdma_xfer_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvmet_rdma_slot *slot =
		container_of(wc->wr_cqe, struct nvmet_rdma_slot, xfer_cqe);
	struct nvmet_rdma_queue *queue = slot->queue;

	if (wc->status == IB_WC_SUCCESS)
		return;
	nvmet_rdma_xfer_error(queue, wc,
			      nvmet_data_dir(&slot->req) == DMA_FROM_DEVICE ?
			      "RDMA READ" : "RDMA WRITE");
}

/*
 * Move waiters that now fit into @ready, charging their credits.  A queue
 * that is no longer live runs nothing: every waiter goes, uncharged, so
 * that it can be dropped and release the submission queue reference that
 * nvmet_sq_destroy() is waiting for.
 */
static void nvmet_rdma_take_waiters(struct nvmet_rdma_queue *queue,
				    struct list_head *ready)
{
	struct nvmet_rdma_slot *slot, *tmp;

	lockdep_assert_held(&queue->lock);
	list_for_each_entry_safe(slot, tmp, &queue->rw_wait, link) {
		if (queue->state == NVMET_RDMA_Q_LIVE) {
			if (slot->rw_wrs > queue->rw_credits)
				break;
			queue->rw_credits -= slot->rw_wrs;
		} else {
			slot->rw_wrs = 0;
		}
		list_move_tail(&slot->link, ready);
	}
}

static void nvmet_rdma_run_cmd(struct nvmet_rdma_slot *slot);
static void nvmet_rdma_slot_abort(struct nvmet_rdma_slot *slot);

/* Run, or on a queue no longer live drop, what take_waiters moved out. */
static void nvmet_rdma_run_waiters(struct list_head *ready, bool live)
{
	struct nvmet_rdma_slot *next, *tmp;

	list_for_each_entry_safe(next, tmp, ready, link) {
		list_del_init(&next->link);
		if (live)
			nvmet_rdma_run_cmd(next);
		else
			nvmet_rdma_slot_abort(next);
	}
}

/* Free the command's rdma_rw context and data buffer, if it has them. */
static void nvmet_rdma_slot_put_data(struct nvmet_rdma_slot *slot)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_req *req = &slot->req;

	if (slot->rw_live) {
		rdma_rw_ctx_destroy(&slot->rw, queue->qp, queue->port_num,
				    req->sg, req->sg_cnt, nvmet_data_dir(req));
		slot->rw_live = false;
	}
	if (slot->sgl_owned) {
		nvmet_req_free_sgls(req);
		slot->sgl_owned = false;
	}
}

/*
 * From the release work, once the QP is drained: the data of a command
 * whose post failed part way could only be freed now that no work
 * request can use it any more.
 */
void nvmet_rdma_slot_reclaim(struct nvmet_rdma_slot *slot)
{
	if (!slot->reclaim)
		return;
	nvmet_rdma_slot_put_data(slot);
	slot->reclaim = false;
}

/*
 * The command in @slot is over: give back what it held and hand the
 * buffer to the receive queue again, unless the queue is closing (the
 * release work returns shared buffers then).  A slot of a queue on an
 * SRQ goes on with the oldest capsule that was waiting for a slot, if
 * any, or back to the free list.
 */
void nvmet_rdma_slot_finish(struct nvmet_rdma_slot *slot)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_rdma_rbuf *rb = slot->rb, *backlog = NULL;
	unsigned long flags;
	LIST_HEAD(ready);
	bool live;
	int ret;

	if (!slot->reclaim)
		nvmet_rdma_slot_put_data(slot);

	spin_lock_irqsave(&queue->lock, flags);
	queue->rw_credits += slot->rw_wrs;
	slot->rw_wrs = 0;
	if (!list_empty(&queue->rw_wait))
		nvmet_rdma_take_waiters(queue, &ready);
	live = queue->state == NVMET_RDMA_Q_LIVE;
	if (queue->srq && live) {
		slot->rb = NULL;
		backlog = list_first_entry_or_null(&queue->held,
						   struct nvmet_rdma_rbuf, link);
		if (backlog) {
			list_del_init(&backlog->link);
			nvmet_rdma_slot_attach(slot, backlog);
		} else {
			list_add_tail(&slot->link, &queue->free_slots);
		}
	}
	spin_unlock_irqrestore(&queue->lock, flags);

	if (live) {
		ret = nvmet_rdma_post_recv(rb);
		if (ret) {
			pr_err_ratelimited("queue %d (qid %u): reposting a receive failed: %d, closing\n",
					   queue->idx, queue->qid, ret);
			nvmet_rdma_queue_close(queue);
		}
	}
	if (backlog)
		nvmet_rdma_start_cmd(slot);
	nvmet_rdma_run_waiters(&ready, live);
}

#ifdef NVMEOF_RDMA_FAULT_INJECTION
/*
 * Send queue credits held by no slot come back (the fault mode's early
 * responses, the only WRs that take any): the commands that were waiting
 * for them may run now, or, on a queue no longer live, be dropped.
 */
void nvmet_rdma_put_credits(struct nvmet_rdma_queue *queue, u32 n)
{
	unsigned long flags;
	LIST_HEAD(ready);
	bool live;

	spin_lock_irqsave(&queue->lock, flags);
	queue->rw_credits += n;
	if (!list_empty(&queue->rw_wait))
		nvmet_rdma_take_waiters(queue, &ready);
	live = queue->state == NVMET_RDMA_Q_LIVE;
	spin_unlock_irqrestore(&queue->lock, flags);
	nvmet_rdma_run_waiters(&ready, live);
}
#endif

/* Drop a command nvmet_req_init() accepted but that will never complete. */
static void nvmet_rdma_slot_abort(struct nvmet_rdma_slot *slot)
{
	nvmet_req_uninit(&slot->req);
	nvmet_rdma_slot_finish(slot);
}

static u16 nvmet_rdma_map_keyed(struct nvmet_rdma_slot *slot,
				struct nvme_keyed_sgl_desc *ksgl)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_req *req = &slot->req;
	u32 len = nvmeof_rdma_keyed_len(ksgl);
	int ret;

	if (!len)
		return 0;
	if (len > NVMET_RDMA_MAX_XFER) {
		req->error_loc = offsetof(struct nvme_common_command, dptr);
		return NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
	}

	req->transfer_len = len;
	if (nvmet_req_alloc_sgls(req)) {
		req->transfer_len = 0;
		return NVME_SC_INTERNAL;
	}
	slot->sgl_owned = true;

	ret = rdma_rw_ctx_init(&slot->rw, queue->qp, queue->port_num,
			       req->sg, req->sg_cnt, 0, le64_to_cpu(ksgl->addr),
			       nvmeof_rdma_keyed_key(ksgl), nvmet_data_dir(req));
	if (ret < 0) {
		pr_err_ratelimited("queue %d (qid %u): rdma_rw_ctx_init of %u bytes failed: %d\n",
				   queue->idx, queue->qid, len, ret);
		return NVME_SC_INTERNAL;
	}
	slot->rw_live = true;
	/* A command that can never fit would wait for credits forever. */
	if (ret > queue->rw_budget) {
		pr_err_ratelimited("queue %d (qid %u): %u bytes need %d work requests, the send queue has %u\n",
				   queue->idx, queue->qid, len, ret,
				   queue->rw_budget);
		return NVME_SC_INTERNAL | NVME_STATUS_DNR;
	}
	slot->rw_wrs = ret;
	return 0;
}

static u16 nvmet_rdma_map_incapsule(struct nvmet_rdma_slot *slot,
				    struct nvme_sgl_desc *sgl)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct ib_device *ibdev = queue->dev->ibdev;
	struct nvmet_req *req = &slot->req;
	u64 off = le64_to_cpu(sgl->addr);
	u32 len = le32_to_cpu(sgl->length);
	u32 avail, chunk, pgoff, left;
	unsigned int pg, n = 0;

	/* Only what actually arrived, and what we buffer, may be used. */
	avail = min_t(u32, slot->recv_len - sizeof(struct nvme_command),
		      queue->inline_size);

	if (!nvme_is_write(slot->sqe)) {
		req->error_loc = offsetof(struct nvme_common_command, opcode);
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	}
	if (!nvmeof_rdma_incapsule_fits(off, len, avail)) {
		req->error_loc = offsetof(struct nvme_common_command, dptr);
		return (off > avail ? NVME_SC_SGL_INVALID_OFFSET :
			NVME_SC_SGL_INVALID_DATA) | NVME_STATUS_DNR;
	}
	if (!len)
		return 0;

	pg = off >> PAGE_SHIFT;
	pgoff = offset_in_page(off);
	sg_init_table(slot->inline_sg, DIV_ROUND_UP(pgoff + len, PAGE_SIZE));
	for (left = len; left; left -= chunk, pg++, pgoff = 0) {
		chunk = min_t(u32, left, PAGE_SIZE - pgoff);
		ib_dma_sync_single_for_cpu(ibdev, slot->rb->sge[1 + pg].addr,
					   slot->rb->sge[1 + pg].length,
					   DMA_FROM_DEVICE);
		sg_set_page(&slot->inline_sg[n++], slot->rb->page[pg],
			    chunk, pgoff);
	}
	req->sg = slot->inline_sg;
	req->sg_cnt = n;
	req->transfer_len = len;

	atomic64_inc(&queue->stats.inline_cmds);
	atomic64_add(len, &queue->stats.bytes_in);
	return 0;
}

/*
 * Decide from the SGL identifier alone how the data moves; nothing the
 * host pointed at is touched before the descriptor has been validated.
 */
static u16 nvmet_rdma_map_data(struct nvmet_rdma_slot *slot)
{
	union nvme_data_ptr *dptr = &slot->sqe->common.dptr;
	u16 status;

	switch (nvmeof_rdma_sgl_classify(dptr->sgl.type)) {
	case NVMEOF_RDMA_SGL_KEYED_INV:
		slot->send_wr.opcode = IB_WR_SEND_WITH_INV;
		slot->send_wr.ex.invalidate_rkey =
			nvmeof_rdma_keyed_key(&dptr->ksgl);
		fallthrough;
	case NVMEOF_RDMA_SGL_KEYED:
		status = nvmet_rdma_map_keyed(slot, &dptr->ksgl);
		break;
	case NVMEOF_RDMA_SGL_INCAPSULE:
		status = nvmet_rdma_map_incapsule(slot, &dptr->sgl);
		break;
	default:
		slot->req.error_loc = offsetof(struct nvme_common_command, dptr);
		status = NVME_SC_SGL_INVALID_TYPE | NVME_STATUS_DNR;
		break;
	}
	if (status)
		atomic64_inc(&slot->queue->stats.sgl_errors);
	return status;
}

static void nvmet_rdma_run_cmd(struct nvmet_rdma_slot *slot)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_req *req = &slot->req;
	struct ib_send_wr *first;
	int ret;

	if (unlikely(slot->status)) {
		nvmet_req_complete(req, slot->status);
		return;
	}

	if (slot->rw_live && nvmet_data_dir(req) == DMA_FROM_DEVICE) {
		trace_nvmet_rdma_data_post(queue->idx, queue->qid,
					   req->cmd->common.command_id, false,
					   req->transfer_len);
		first = rdma_rw_ctx_wrs(&slot->rw, queue->qp, queue->port_num,
					&slot->read_cqe, NULL);
		nvmet_rdma_xfer_tag(slot, first, NULL);
		ret = ib_post_send(queue->qp, first, NULL);
		if (ret) {
			pr_err_ratelimited("queue %d (qid %u): ib_post_send of an RDMA READ failed: %d, closing\n",
					   queue->idx, queue->qid, ret);
			/*
			 * Some READs of the chain may be posted: keep their
			 * buffers until the release work has drained the QP.
			 * Closing first makes finishing the slot drop the
			 * commands waiting for credits rather than run them.
			 */
			nvmet_rdma_queue_close(queue);
			slot->reclaim = true;
			nvmet_rdma_slot_abort(slot);
		}
		return;
	}
	req->execute(req);
}

void nvmet_rdma_start_cmd(struct nvmet_rdma_slot *slot)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_req *req = &slot->req;
	unsigned long flags;

	/* nvmet_req_init() may already answer, through queue_response. */
	slot->rw_live = false;
	slot->sgl_owned = false;
	slot->reclaim = false;
	slot->rw_wrs = 0;
	slot->send_wr.opcode = IB_WR_SEND;
	req->cmd = slot->sqe;
	req->cqe = slot->cqe;
	req->port = queue->nport;
	atomic64_inc(&queue->stats.cmds);
	trace_nvmet_rdma_capsule_recv(queue->idx, queue->qid,
				      slot->sqe->common.command_id,
				      slot->sqe->common.opcode,
				      slot->sqe->common.dptr.sgl.type,
				      slot->recv_len);

	if (!nvmet_req_init(req, &queue->nvme_cq, &queue->nvme_sq,
			    &nvmet_rdma_ops))
		return;

	slot->status = nvmet_rdma_map_data(slot);

	if (slot->rw_wrs) {
		spin_lock_irqsave(&queue->lock, flags);
		/* FIFO: never overtake a command that is already waiting. */
		if (!list_empty(&queue->rw_wait) ||
		    slot->rw_wrs > queue->rw_credits) {
			list_add_tail(&slot->link, &queue->rw_wait);
			spin_unlock_irqrestore(&queue->lock, flags);
			atomic64_inc(&queue->stats.rw_waits);
			return;
		}
		queue->rw_credits -= slot->rw_wrs;
		spin_unlock_irqrestore(&queue->lock, flags);
	}
	nvmet_rdma_run_cmd(slot);
}

/*
 * Keep a shared buffer that will not be used for the release work to give
 * back to the SRQ; a queue's own buffers stay with their slots anyway.
 */
static void nvmet_rdma_rbuf_park(struct nvmet_rdma_queue *queue,
				 struct nvmet_rdma_rbuf *rb)
{
	unsigned long flags;

	if (!rb->srq)
		return;
	spin_lock_irqsave(&queue->lock, flags);
	list_add_tail(&rb->link, &queue->held);
	spin_unlock_irqrestore(&queue->lock, flags);
}

/*
 * A capsule from the SRQ needs a slot of its queue.  None is free only
 * while responses are still completing after the host has seen them:
 * the capsule waits for the next slot to finish.  The depth check in
 * nvmet_rdma_recv_done() bounds how many can wait.
 */
static struct nvmet_rdma_slot *
nvmet_rdma_srq_take_slot(struct nvmet_rdma_queue *queue,
			 struct nvmet_rdma_rbuf *rb)
{
	struct nvmet_rdma_slot *slot;

	lockdep_assert_held(&queue->lock);
	slot = list_first_entry_or_null(&queue->free_slots,
					struct nvmet_rdma_slot, link);
	if (slot) {
		list_del_init(&slot->link);
		nvmet_rdma_slot_attach(slot, rb);
		return slot;
	}
	list_add_tail(&rb->link, &queue->held);
	atomic64_inc(&queue->stats.srq_backlog);
	return NULL;
}

/*
 * Whether a received capsule may be started: a failed receive, a capsule
 * too short for a command and one beyond the queue depth close the queue
 * and keep the buffer off the receive queue.
 */
static bool nvmet_rdma_recv_ok(struct nvmet_rdma_queue *queue,
			       struct nvmet_rdma_rbuf *rb, struct ib_wc *wc)
{
	int inflight;

	/*
	 * Close before parking a bad buffer: only a live queue takes
	 * waiting buffers from the held list.
	 */
	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		nvmet_rdma_wc_error(queue, wc, "receive");
		goto out_park;
	}
	if (unlikely(wc->byte_len < sizeof(struct nvme_command))) {
		/* The host decides how often: keep it from flooding the log. */
		pr_err_ratelimited("queue %d (qid %u, host %pISpc): %u-byte capsule is shorter than a command, closing\n",
				   queue->idx, queue->qid, &queue->peer,
				   wc->byte_len);
		goto out_close;
	}
	/*
	 * The host may only send a command while it has fewer than depth
	 * without a response.  One more ignores flow control: it would take
	 * receive buffers other queues on an SRQ rely on, or sit in RNR
	 * retries, and our answer could overrun the host's receive queue.
	 */
	inflight = atomic_inc_return(&queue->inflight);
	if (unlikely(inflight > queue->depth)) {
		/* Once: the capsules behind it only find the queue closing. */
		if (inflight == queue->depth + 1) {
			atomic64_inc(&queue->stats.sq_overflows);
			atomic64_inc(&nvmet_rdma_gstats[NVMET_RDMA_GS_SQ_OVERFLOWS]);
			pr_err_ratelimited("queue %d (qid %u, host %pISpc): %d commands outstanding on a queue of depth %u, closing\n",
					   queue->idx, queue->qid, &queue->peer,
					   inflight, queue->depth);
		}
		goto out_close;
	}
	/* A queue's receives complete on one CQ, one at a time. */
	if (inflight > queue->inflight_max)
		WRITE_ONCE(queue->inflight_max, inflight);
	return true;

out_close:
	nvmet_rdma_queue_close(queue);
out_park:
	nvmet_rdma_rbuf_park(queue, rb);
	return false;
}

/*
 * The slot for a capsule that cannot be started locklessly: a buffer from
 * the SRQ needs one, and a queue not yet live keeps the capsule pending.
 * NULL when there is nothing to start now.
 */
static struct nvmet_rdma_slot *
nvmet_rdma_recv_slot(struct nvmet_rdma_queue *queue, struct nvmet_rdma_rbuf *rb)
{
	struct nvmet_rdma_slot *slot = rb->slot;
	unsigned long flags;

	spin_lock_irqsave(&queue->lock, flags);
	if (rb->srq) {
		slot = nvmet_rdma_srq_take_slot(queue, rb);
		if (!slot) {
			spin_unlock_irqrestore(&queue->lock, flags);
			return NULL;
		}
	}
	slot->recv_len = rb->len;
	if (unlikely(queue->state != NVMET_RDMA_Q_LIVE)) {
		/*
		 * The host may send as soon as it has our REP, before we see
		 * ESTABLISHED; such capsules wait for it.  A closing queue
		 * just keeps the slot off the receive queue.
		 */
		if (queue->state == NVMET_RDMA_Q_CONNECTING)
			list_add_tail(&slot->link, &queue->pending);
		slot = NULL;
	}
	spin_unlock_irqrestore(&queue->lock, flags);
	return slot;
}

static void nvmet_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvmet_rdma_rbuf *rb =
		container_of(wc->wr_cqe, struct nvmet_rdma_rbuf, cqe);
	/* A shared buffer may come from any QP on the SRQ. */
	struct nvmet_rdma_queue *queue =
		rb->srq ? wc->qp->qp_context : rb->slot->queue;
	struct nvmet_rdma_slot *slot = rb->slot;

	if (rb->srq) {
		atomic64_inc(&rb->srq->recvs);
		atomic64_inc(&queue->stats.srq_recvs);
	}
	if (!nvmet_rdma_recv_ok(queue, rb, wc))
		return;
	rb->len = wc->byte_len;
	ib_dma_sync_single_for_cpu(queue->dev->ibdev, rb->sge[0].addr,
				   rb->sge[0].length, DMA_FROM_DEVICE);

	/*
	 * A live queue's own slot needs no lock: the lock would not keep a
	 * close from following right after it either, and a command started
	 * on a closing queue is failed by nvmet and flushed like any other.
	 * Only the pending list and the SRQ's free slots need it.
	 */
	if (likely(!rb->srq &&
		   READ_ONCE(queue->state) == NVMET_RDMA_Q_LIVE)) {
		slot->recv_len = rb->len;
		nvmet_rdma_start_cmd(slot);
		return;
	}
	slot = nvmet_rdma_recv_slot(queue, rb);
	if (slot)
		nvmet_rdma_start_cmd(slot);
}

static void nvmet_rdma_read_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvmet_rdma_slot *slot =
		container_of(wc->wr_cqe, struct nvmet_rdma_slot, read_cqe);
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_req *req = &slot->req;

	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		/*
		 * An RC QP in error is dead: nobody would see a response.
		 * Closing first keeps the slot off the receive queue and
		 * drops the commands waiting for credits.
		 */
		nvmet_rdma_xfer_error(queue, wc, "RDMA READ");
		nvmet_rdma_slot_abort(slot);
		return;
	}

	/* Unmapping hands the data to the CPU before the backend reads it. */
	rdma_rw_ctx_destroy(&slot->rw, queue->qp, queue->port_num,
			    req->sg, req->sg_cnt, nvmet_data_dir(req));
	slot->rw_live = false;
	atomic64_add(req->transfer_len, &queue->stats.bytes_in);
	req->execute(req);
}

static void nvmet_rdma_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvmet_rdma_slot *slot =
		container_of(wc->wr_cqe, struct nvmet_rdma_slot, send_cqe);
	struct nvmet_rdma_queue *queue = slot->queue;

	/*
	 * Close first, as the other completion handlers do: finishing the
	 * slot on a queue still marked live would repost its buffer, start
	 * a capsule waiting for a slot and run the commands waiting for
	 * credits, all on a QP that has just failed.
	 */
	if (unlikely(wc->status != IB_WC_SUCCESS))
		nvmet_rdma_wc_error(queue, wc, "SEND");
	nvmet_rdma_slot_finish(slot);
}

/*
 * Post @slot's response chain, @first being its head (the RDMA WRITEs of
 * a read, or the SEND itself).  The slot is finished by the completion of
 * the chain's signalled SEND, or here when the post fails.
 */
void nvmet_rdma_post_response(struct nvmet_rdma_slot *slot,
			      struct ib_send_wr *first)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	const struct ib_send_wr *bad_wr = NULL;
	int ret;

	ib_dma_sync_single_for_device(queue->dev->ibdev, slot->send_sge.addr,
				      slot->send_sge.length, DMA_TO_DEVICE);
	ret = ib_post_send(queue->qp, first, &bad_wr);
	if (likely(!ret))
		return;
	pr_err_ratelimited("queue %d (qid %u): ib_post_send of a response failed: %d, closing\n",
			   queue->idx, queue->qid, ret);
	/*
	 * We may be in a bio completion, even hard IRQ context: close first,
	 * so that finishing the slot drops the commands waiting for credits
	 * instead of executing them here.  RDMA WRITEs posted ahead of the
	 * failed WR still read the data buffer, which the release work frees
	 * once the QP is drained.
	 */
	nvmet_rdma_queue_close(queue);
	if (bad_wr != first)
		slot->reclaim = true;
	nvmet_rdma_slot_finish(slot);
}

/* nvmet core's completion callback: may run in any context. */
void nvmet_rdma_queue_response(struct nvmet_req *req)
{
	struct nvmet_rdma_slot *slot =
		container_of(req, struct nvmet_rdma_slot, req);
	struct nvmet_rdma_queue *queue = slot->queue;
	struct ib_send_wr *first = &slot->send_wr;

	atomic_dec(&queue->inflight);
	/*
	 * The host may send its next command once it has this response:
	 * the count must be down before the response can reach it (the
	 * fault mode's responses included).
	 */
	smp_mb__after_atomic();
	if (nvmet_rdma_fault(slot))
		return;

	/* Data for the host goes only with a successful completion. */
	if (slot->rw_live && nvmet_data_dir(req) == DMA_TO_DEVICE &&
	    !req->cqe->status) {
		first = rdma_rw_ctx_wrs(&slot->rw, queue->qp,
					queue->port_num, NULL,
					&slot->send_wr);
		nvmet_rdma_xfer_tag(slot, first, &slot->send_wr);
		atomic64_add(req->transfer_len, &queue->stats.bytes_out);
		trace_nvmet_rdma_data_post(queue->idx, queue->qid,
					   req->cmd->common.command_id, true,
					   req->transfer_len);
	}
	trace_nvmet_rdma_rsp_send(queue->idx, queue->qid,
				  req->cqe->command_id,
				  le16_to_cpu(req->cqe->status),
				  slot->send_wr.opcode == IB_WR_SEND_WITH_INV ?
				  slot->send_wr.ex.invalidate_rkey : 0);

	nvmet_rdma_post_response(slot, first);
}
