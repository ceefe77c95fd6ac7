// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: the command path.
 *
 * A request completes when three things have happened, in any order:
 * the SEND of its capsule completed (the capsule slot and any in-capsule
 * data are free again), its response arrived, and its MR (if any) was
 * invalidated. req->pending counts what is still missing: 3 at submission
 * (the submitter, SEND, response); a response that leaves the MR valid
 * hands its count over to the LOCAL_INV it posts.
 *
 * A request is started only once its data is mapped, so a response before
 * that names no started command. One that arrives while ib_post_send() is
 * still running (a hostile target guessing the next command_id) must not
 * post its LOCAL_INV there: the invalidation could overtake the REG_MR in
 * the send queue and leave the MR valid after completion. The response
 * and the submitter meet on R_INV_WANTED / R_POSTED, and only the one
 * that sees both posts it; the submitter's count keeps the request alive
 * until it has looked.
 *
 * Responses are untrusted input. One that names no outstanding command of
 * this queue, arrives twice for one submission, invalidates the wrong key
 * or comes from another submission queue starts error recovery, which
 * cancels everything outstanding; it never completes a request itself.
 *
 * Once nvme_rdma_queue_stop() cleared NVME_RDMA_Q_ACTIVE and waited for an RCU grace
 * period, completion handlers (softirq, hence RCU readers) and queue_rq
 * (RCU reader for non-blocking hctxs) neither post to the QP nor touch a
 * request any more: from then on the cancel path owns every request.
 */
#include "nvme_rdma.h"
#include "nvme_rdma_trace.h"

static bool nvme_rdma_wc_failed(struct nvme_rdma_queue *q, struct ib_wc *wc, const char *what)
{
	if (likely(wc->status == IB_WC_SUCCESS))
		return false;
	/*
	 * A stopped queue flushes its work, and its teardown owns the
	 * requests: an abort now would rearm timeouts already synced.
	 */
	if (!test_bit(NVME_RDMA_Q_ACTIVE, &q->flags))
		return true;
	/* Flushes are how a stopped queue returns its work: not news. */
	if (wc->status != IB_WC_WR_FLUSH_ERR) {
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_WC_ERR);
		dev_err_ratelimited(q->ctrl->ctrl.device,
				    "queue %u: %s failed: %s (%d)\n", q->qid,
				    what, ib_wc_status_msg(wc->status),
				    wc->status);
	}
	nvme_rdma_queue_error(q, what);
	return true;
}

/* Scatterlist entries in the request itself (nvme_rdma_req_size()). */
static unsigned int nvme_rdma_inline_sg(struct nvme_rdma_queue *q)
{
	return min_t(u32, q->max_pages, NVME_RDMA_INLINE_SG_CNT);
}

static void nvme_rdma_unmap_data(struct nvme_rdma_request *req, struct request *rq)
{
	if (!req->sgt.orig_nents)
		return;
	if (req->nr_mapped)
		ib_dma_unmap_sg(req->queue->ibdev, req->sgt.sgl,
				req->nr_mapped, rq_dma_dir(rq));
	req->nr_mapped = 0;
	sg_free_table_chained(&req->sgt, nvme_rdma_inline_sg(req->queue));
	req->sgt.orig_nents = 0;
}

/* blk_mq_ops.complete, and where every completion of ours ends. */
static void nvme_rdma_complete_rq(struct request *rq)
{
	struct nvme_rdma_request *req = blk_mq_rq_to_pdu(rq);

	nvme_rdma_unmap_data(req, rq);
	nvme_rdma_stat_latency(req->queue, req->start_ns);
	nvme_complete_rq(rq);
}

static void nvme_rdma_req_put(struct nvme_rdma_request *req)
{
	struct request *rq = blk_mq_rq_from_pdu(req);

	if (!atomic_dec_and_test(&req->pending))
		return;
	if (!nvme_try_complete_req(rq, req->status, req->result))
		nvme_rdma_complete_rq(rq);
}

static void nvme_rdma_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_request *req = container_of(wc->wr_cqe, struct nvme_rdma_request,
					   send_cqe);

	if (unlikely(!test_bit(NVME_RDMA_Q_ACTIVE, &req->queue->flags)))
		return;
	if (nvme_rdma_wc_failed(cq->cq_context, wc, "command send"))
		return;
	nvme_rdma_req_put(req);
}

static void nvme_rdma_inv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_request *req = container_of(wc->wr_cqe, struct nvme_rdma_request,
					   inv_cqe);

	if (unlikely(!test_bit(NVME_RDMA_Q_ACTIVE, &req->queue->flags)))
		return;
	if (nvme_rdma_wc_failed(cq->cq_context, wc, "local invalidate"))
		return;
	nvme_rdma_req_put(req);
}

/* REG_MR is posted unsignaled: this only ever sees failures. */
static void nvme_rdma_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	nvme_rdma_wc_failed(cq->cq_context, wc, "memory registration");
}

static void nvme_rdma_aen_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	nvme_rdma_wc_failed(cq->cq_context, wc, "async event request send");
}

static struct blk_mq_tags *nvme_rdma_queue_tags(struct nvme_rdma_queue *q)
{
	if (nvme_rdma_admin_queue(q))
		return q->ctrl->admin_set.tags[0];
	return q->ctrl->io_set.tags[q->qid - 1];
}

/*
 * Post the LOCAL_INV a response asked for, from whichever of the response
 * and the submitter gets here second (see the top of this file).
 */
static void nvme_rdma_post_inv_once(struct nvme_rdma_queue *q,
				    struct nvme_rdma_request *req)
{
	if (test_and_set_bit(NVME_RDMA_R_INV_CLAIMED, &req->flags))
		return;
	if (unlikely(nvme_rdma_mr_post_inv(q, req->mr, &req->inv_cqe)))
		nvme_rdma_queue_error(q, "local invalidate post");
}

/*
 * The MR of a command whose response arrived: checked when the controller
 * invalidated it, invalidated by us otherwise. True when the response may
 * complete the request now.
 */
static bool nvme_rdma_rsp_settle_mr(struct nvme_rdma_queue *q,
				    struct nvme_rdma_request *req,
				    struct nvme_completion *cqe,
				    struct ib_wc *wc)
{
	struct ib_mr *mr = req->mr;

	if (wc->wc_flags & IB_WC_WITH_INVALIDATE) {
		if (unlikely(!mr || wc->ex.invalidate_rkey != mr->rkey)) {
			dev_err(q->ctrl->ctrl.device,
				"queue %u: command_id %#x: controller invalidated rkey %#x, command registered %#x\n",
				q->qid, cqe->command_id,
				wc->ex.invalidate_rkey, mr ? mr->rkey : 0);
			nvme_rdma_stat_inc(q, NVME_RDMA_STAT_BAD_RSP);
			nvme_rdma_queue_error(q, "wrong remote invalidation");
			return false;
		}
		trace_nvme_rdma_mr_remote_inv(q->instance, q->qid, mr->rkey,
					      mr->length);
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_REMOTE_INV);
		return true;
	}
	if (!mr)
		return true;
	/* The LOCAL_INV completion completes in our stead. */
	set_bit(NVME_RDMA_R_INV_WANTED, &req->flags);
	/* Pairs with the submitter's: one of us sees both bits. */
	smp_mb__after_atomic();
	if (test_bit(NVME_RDMA_R_POSTED, &req->flags))
		nvme_rdma_post_inv_once(q, req);
	return false;
}

static void nvme_rdma_handle_rsp(struct nvme_rdma_queue *q, struct nvme_completion *cqe,
				 struct ib_wc *wc)
{
	struct nvme_ctrl *nctrl = &q->ctrl->ctrl;
	struct nvme_rdma_request *req;
	struct request *rq;

	if (unlikely(le16_to_cpu(cqe->sq_id) != q->qid)) {
		dev_err(nctrl->device,
			"queue %u: response names submission queue %u\n",
			q->qid, le16_to_cpu(cqe->sq_id));
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_BAD_RSP);
		nvme_rdma_queue_error(q, "response for another queue");
		return;
	}

	if (unlikely(!test_bit_acquire(NVME_RDMA_Q_TAGGED, &q->flags))) {
		dev_err(nctrl->device,
			"queue %u: response for command_id %#x before any command was sent\n",
			q->qid, cqe->command_id);
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_BAD_RSP);
		nvme_rdma_queue_error(q, "unsolicited response");
		return;
	}
	rq = nvme_find_rq(nvme_rdma_queue_tags(q), cqe->command_id);
	if (unlikely(!rq || !blk_mq_request_started(rq))) {
		dev_err(nctrl->device,
			"queue %u: response for unknown command_id %#x\n",
			q->qid, cqe->command_id);
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_BAD_RSP);
		nvme_rdma_queue_error(q, "bogus response");
		return;
	}
	req = blk_mq_rq_to_pdu(rq);
	if (unlikely(test_and_set_bit(NVME_RDMA_R_RESPONDED, &req->flags))) {
		dev_err(nctrl->device,
			"queue %u: second response for command_id %#x\n",
			q->qid, cqe->command_id);
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_BAD_RSP);
		nvme_rdma_queue_error(q, "duplicate response");
		return;
	}
	req->status = cqe->status;
	req->result = cqe->result;
	trace_nvme_rdma_cmd_done(nctrl->instance, q->qid, cqe->command_id,
				 le16_to_cpu(cqe->status),
				 wc->wc_flags & IB_WC_WITH_INVALIDATE);
	if (nvme_rdma_rsp_settle_mr(q, req, cqe, wc))
		nvme_rdma_req_put(req);
}

/*
 * nvme-core only submits an Asynchronous Event Request to a LIVE
 * controller. A completion for one at any other time is unsolicited, and
 * passing it on would queue async event (or ANA) work on a controller
 * that a failing first connect frees without ever flushing that work.
 */
static void nvme_rdma_aen_done(struct nvme_rdma_queue *q, struct nvme_completion *cqe)
{
	struct nvme_ctrl *nctrl = &q->ctrl->ctrl;

	if (unlikely(READ_ONCE(nctrl->state) != NVME_CTRL_LIVE)) {
		dev_warn_ratelimited(nctrl->device,
				     "async event completion (command_id %#x) while not live, ignored\n",
				     cqe->command_id);
		return;
	}
	nvme_complete_async_event(nctrl, cqe->status, &cqe->result);
}

void nvme_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvme_rdma_rsp_slot *slot = container_of(wc->wr_cqe,
						 struct nvme_rdma_rsp_slot, cqe);
	struct nvme_rdma_queue *q = cq->cq_context;
	struct nvme_completion *buf = &q->rsp_buf[slot - q->rsp_slots];
	struct nvme_completion cqe;

	if (unlikely(!test_bit(NVME_RDMA_Q_ACTIVE, &q->flags)))
		return;
	if (nvme_rdma_wc_failed(q, wc, "response receive"))
		return;
	if (unlikely(wc->byte_len < sizeof(cqe))) {
		dev_err(q->ctrl->ctrl.device,
			"queue %u: response of %u bytes\n", q->qid,
			wc->byte_len);
		nvme_rdma_stat_inc(q, NVME_RDMA_STAT_BAD_RSP);
		nvme_rdma_queue_error(q, "short response");
		return;
	}

	/*
	 * Take the response out and give the buffer back before handling
	 * it: handling may complete the request and free its tag for a new
	 * command, whose response must find a receive posted, not an RNR
	 * NAK and the controller's retry timer.
	 */
	ib_dma_sync_single_for_cpu(q->ibdev, slot->sge.addr, sizeof(cqe),
				   DMA_FROM_DEVICE);
	cqe = *buf;
	ib_dma_sync_single_for_device(q->ibdev, slot->sge.addr, sizeof(cqe),
				      DMA_FROM_DEVICE);
	/* Without a buffer the controller's next response would be lost. */
	if (unlikely(nvme_rdma_queue_post_recv(q, slot))) {
		nvme_rdma_queue_error(q, "receive repost");
		return;
	}

	if (nvme_rdma_admin_queue(q) && nvme_is_aen_req(0, cqe.command_id))
		nvme_rdma_aen_done(q, &cqe);
	else
		nvme_rdma_handle_rsp(q, &cqe, wc);
}

void nvme_rdma_submit_async_event(struct nvme_ctrl *nctrl)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(nctrl);
	struct nvme_rdma_queue *q = &ctrl->queues[0];
	struct nvme_command c = {};
	struct ib_sge sge;
	int ret;

	/*
	 * nvme-core only calls this for a LIVE controller and recovery
	 * flushes async_event_work before stopping the queue; the bit and
	 * the RCU read section keep a racing late call off a stopped QP.
	 */
	rcu_read_lock();
	if (!test_bit(NVME_RDMA_Q_LIVE, &q->flags)) {
		rcu_read_unlock();
		return;
	}

	c.common.opcode = nvme_admin_async_event;
	c.common.command_id = NVME_AQ_BLK_MQ_DEPTH;
	c.common.flags = NVME_CMD_SGL_METABUF;
	c.common.dptr.ksgl.type = NVME_KEY_SGL_FMT_DATA_DESC << 4;
	ctrl->aen_cqe.done = nvme_rdma_aen_send_done;

	ret = nvme_rdma_queue_post_capsule(q, &c, NVME_AQ_BLK_MQ_DEPTH,
					   &sge, 1, &ctrl->aen_cqe, NULL);
	rcu_read_unlock();
	if (ret) {
		dev_err(nctrl->device, "posting async event request: %d\n",
			ret);
		nvme_rdma_error_recovery(ctrl, "async event request post");
	}
}

/*
 * Describe the data of a command: none, in the capsule (writes on I/O
 * queues up to what the controller's IOCCSZ leaves after the SQE, in at
 * most inline_sges pieces) or a keyed SGL through the tag's MR.
 */
static int nvme_rdma_map_data(struct nvme_rdma_queue *q, struct nvme_rdma_request *req,
			      struct request *rq, int *nr_sge)
{
	struct nvme_command *c = &req->cmd;
	struct scatterlist *sg;
	struct ib_mr *mr;
	u32 len = blk_rq_payload_bytes(rq);
	int nents, i, ret;

	*nr_sge = 1;
	c->common.flags |= NVME_CMD_SGL_METABUF;
	if (!blk_rq_nr_phys_segments(rq)) {
		c->common.dptr.ksgl.type = NVME_KEY_SGL_FMT_DATA_DESC << 4;
		return 0;
	}

	req->sgt.sgl = req->sgl;
	ret = sg_alloc_table_chained(&req->sgt, blk_rq_nr_phys_segments(rq),
				     req->sgl, nvme_rdma_inline_sg(q));
	if (unlikely(ret)) {
		/* The pools ran dry: blk-mq retries the request later. */
		req->sgt.orig_nents = 0;
		return -ENOMEM;
	}
	req->nr_mapped = blk_rq_map_sg(rq->q, rq, req->sgt.sgl);
	nents = ib_dma_map_sg(q->ibdev, req->sgt.sgl, req->nr_mapped,
			      rq_dma_dir(rq));
	if (unlikely(nents <= 0)) {
		req->nr_mapped = 0;
		nvme_rdma_unmap_data(req, rq);
		return -EIO;
	}
	req->sgt.nents = nents;

	if (rq_data_dir(rq) == WRITE && !nvme_rdma_admin_queue(q) &&
	    len <= q->ctrl->inline_bytes && nents <= q->inline_sges) {
		struct nvme_sgl_desc *d = &c->common.dptr.sgl;

		for_each_sg(req->sgt.sgl, sg, nents, i) {
			req->sge[1 + i].addr = sg_dma_address(sg);
			req->sge[1 + i].length = sg_dma_len(sg);
			req->sge[1 + i].lkey = q->pd->local_dma_lkey;
		}
		*nr_sge = 1 + nents;
		d->addr = cpu_to_le64(q->ctrl->ctrl.icdoff);
		d->length = cpu_to_le32(len);
		d->type = (NVME_SGL_FMT_DATA_DESC << 4) | NVME_SGL_FMT_OFFSET;
		/* I/O writes only: a queue's Connect data is in-capsule too. */
		if (!nvme_is_fabrics(c))
			nvme_rdma_stat_inc(q, NVME_RDMA_STAT_INLINE);
		return 0;
	}

	mr = nvme_rdma_mr_map(q, rq->tag, &req->sgt, rq_data_dir(rq) == WRITE,
			      &req->reg_wr, &req->reg_cqe, &c->common.dptr.ksgl);
	if (IS_ERR(mr)) {
		ret = PTR_ERR(mr);
		dev_err_ratelimited(q->ctrl->ctrl.device,
				    "queue %u: registering %u bytes in %d segments: %d\n",
				    q->qid, len, nents, ret);
		nvme_rdma_unmap_data(req, rq);
		return ret;
	}
	req->mr = mr;
	return 0;
}

/* Post the REG_MR (if any) and the capsule of a mapped request. */
static int nvme_rdma_post_cmd(struct nvme_rdma_queue *q,
			      struct nvme_rdma_request *req,
			      struct request *rq, int nr_sge)
{
	u16 cid = req->cmd.common.command_id;
	u8 opcode = req->cmd.common.opcode;
	u8 kind = req->mr ? NVME_RDMA_DATA_KEYED :
		  nr_sge > 1 ? NVME_RDMA_DATA_INLINE : NVME_RDMA_DATA_NONE;
	u32 bytes = blk_rq_payload_bytes(rq);
	int ret;

	ret = nvme_rdma_queue_post_capsule(q, &req->cmd, rq->tag, req->sge,
					   nr_sge, &req->send_cqe,
					   req->mr ? &req->reg_wr.wr : NULL);
	if (unlikely(ret)) {
		/*
		 * The QP refused work: it is broken, and a REG_MR ahead of
		 * the failed SEND may have gone through. Only a new QP (and
		 * so new MRs) can be trusted again.
		 */
		dev_err_ratelimited(q->ctrl->ctrl.device,
				    "queue %u: posting command_id %#x: %d\n",
				    q->qid, cid, ret);
		nvme_rdma_queue_broken(q, "command post");
		return ret;
	}
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_CMDS);
	trace_nvme_rdma_cmd_post(q->instance, q->qid, cid, opcode, kind,
				 bytes);

	/* Any LOCAL_INV from now on is queued behind the REG_MR. */
	set_bit(NVME_RDMA_R_POSTED, &req->flags);
	/* Pairs with nvme_rdma_rsp_settle_mr(): one of us sees both bits. */
	smp_mb__after_atomic();
	if (unlikely(test_bit(NVME_RDMA_R_INV_WANTED, &req->flags)))
		nvme_rdma_post_inv_once(q, req);
	nvme_rdma_req_put(req);
	return 0;
}

static blk_status_t nvme_rdma_queue_rq(struct blk_mq_hw_ctx *hctx,
				       const struct blk_mq_queue_data *bd)
{
	struct nvme_rdma_queue *q = hctx->driver_data;
	struct request *rq = bd->rq;
	struct nvme_rdma_request *req = blk_mq_rq_to_pdu(rq);
	bool live = test_bit(NVME_RDMA_Q_LIVE, &q->flags);
	blk_status_t sts;
	int nr_sge, ret;

	if (!nvme_check_ready(&q->ctrl->ctrl, rq, live))
		return nvme_fail_nonready_command(&q->ctrl->ctrl, rq);

	sts = nvme_setup_cmd(hctx->queue->queuedata, rq);
	if (unlikely(sts))
		return sts;

	/* Connect is sent before LIVE; the QP must exist all the same. */
	if (unlikely(!test_bit(NVME_RDMA_Q_ACTIVE, &q->flags))) {
		nvme_cleanup_cmd(rq);
		return nvme_host_path_error(rq);
	}

	req->mr = NULL;
	req->flags = 0;
	req->sgt.orig_nents = 0;
	req->nr_mapped = 0;
	atomic_set(&req->pending, 3);

	ret = nvme_rdma_map_data(q, req, rq, &nr_sge);
	if (unlikely(ret))
		goto out_err;
	req->start_ns = ktime_get_ns();
	nvme_start_request(rq);
	ret = nvme_rdma_post_cmd(q, req, rq, nr_sge);
	if (unlikely(ret)) {
		nvme_rdma_unmap_data(req, rq);
		goto out_err;
	}
	return BLK_STS_OK;

out_err:
	if (ret == -ENOMEM || ret == -EAGAIN)
		sts = BLK_STS_RESOURCE;
	else
		return nvme_host_path_error(rq);
	nvme_cleanup_cmd(rq);
	return sts;
}

static int nvme_rdma_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	return nvme_rdma_queue_poll(hctx->driver_data);
}

static enum blk_eh_timer_return nvme_rdma_timeout(struct request *rq)
{
	struct nvme_rdma_request *req = blk_mq_rq_to_pdu(rq);
	struct nvme_rdma_queue *q = req->queue;
	struct nvme_rdma_ctrl *ctrl = q->ctrl;

	dev_warn(ctrl->ctrl.device, "queue %u: command_id %#x (opcode %#x) %s\n",
		 q->qid, nvme_cid(rq), req->cmd.common.opcode,
		 test_bit(NVME_RDMA_R_ABORTED, &req->flags) ?
		 "failed: the queue broke" : "timed out");

	/* Recovery of a live controller stops the queues and cancels it. */
	if (nvme_rdma_queue_broken(q, "command timeout"))
		return BLK_EH_RESET_TIMER;

	/*
	 * Connecting, resetting or deleting: setup or teardown is waiting
	 * for this very command (Connect, a property access, Identify), so
	 * nobody else will cancel it. Quench the queue so no completion
	 * races with ours, then fail it, unless its response won the race
	 * and it completed, or even ended, before the queue stopped.
	 */
	nvme_rdma_queue_stop(q);
	nvmf_complete_timed_out_request(rq);
	return BLK_EH_DONE;
}

static int nvme_rdma_init_request(struct blk_mq_tag_set *set, struct request *rq,
				  unsigned int hctx_idx, unsigned int numa_node)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(set->driver_data);
	struct nvme_rdma_request *req = blk_mq_rq_to_pdu(rq);
	int qid = set == &ctrl->io_set ? hctx_idx + 1 : 0;

	nvme_req(rq)->ctrl = &ctrl->ctrl;
	nvme_req(rq)->cmd = &req->cmd;
	req->queue = &ctrl->queues[qid];
	req->send_cqe.done = nvme_rdma_send_done;
	req->reg_cqe.done = nvme_rdma_reg_done;
	req->inv_cqe.done = nvme_rdma_inv_done;
	return 0;
}

static int nvme_rdma_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			       unsigned int hctx_idx)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(data);

	hctx->driver_data = &ctrl->queues[hctx_idx + 1];
	return 0;
}

static int nvme_rdma_init_admin_hctx(struct blk_mq_hw_ctx *hctx, void *data,
				     unsigned int hctx_idx)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(data);

	hctx->driver_data = &ctrl->queues[0];
	return 0;
}

/*
 * Queue ids run default, then read, then poll queues. With separate write
 * queues (nr_write_queues) the default map holds those and reads get
 * their own; otherwise reads share the default queues.
 */
static void nvme_rdma_map_queues(struct blk_mq_tag_set *set)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(set->driver_data);
	struct blk_mq_queue_map *def = &set->map[HCTX_TYPE_DEFAULT];
	struct blk_mq_queue_map *rd = &set->map[HCTX_TYPE_READ];
	u32 *n = ctrl->io_queues;

	def->nr_queues = n[HCTX_TYPE_DEFAULT];
	def->queue_offset = 0;
	if (n[HCTX_TYPE_READ]) {
		rd->nr_queues = n[HCTX_TYPE_READ];
		rd->queue_offset = n[HCTX_TYPE_DEFAULT];
	} else {
		rd->nr_queues = n[HCTX_TYPE_DEFAULT];
		rd->queue_offset = 0;
	}
	blk_mq_map_queues(def);
	blk_mq_map_queues(rd);

	/*
	 * blk-mq clears only the CPU table before remapping: a reconnect
	 * granted no poll queues must say so, or the last connect's count
	 * sends polled I/O to hctx 0 and marks that interrupt-driven
	 * queue a poll queue.
	 */
	if (set->nr_maps > HCTX_TYPE_POLL) {
		struct blk_mq_queue_map *poll = &set->map[HCTX_TYPE_POLL];

		poll->nr_queues = n[HCTX_TYPE_POLL];
		poll->queue_offset = n[HCTX_TYPE_DEFAULT] + n[HCTX_TYPE_READ];
		if (poll->nr_queues)
			blk_mq_map_queues(poll);
	}
	dev_info(ctrl->ctrl.device,
		 "mapped %u default, %u read, %u poll queues\n",
		 n[HCTX_TYPE_DEFAULT], n[HCTX_TYPE_READ], n[HCTX_TYPE_POLL]);
}

const struct blk_mq_ops nvme_rdma_admin_mq_ops = {
	.queue_rq	= nvme_rdma_queue_rq,
	.complete	= nvme_rdma_complete_rq,
	.init_request	= nvme_rdma_init_request,
	.init_hctx	= nvme_rdma_init_admin_hctx,
	.timeout	= nvme_rdma_timeout,
};

const struct blk_mq_ops nvme_rdma_io_mq_ops = {
	.queue_rq	= nvme_rdma_queue_rq,
	.complete	= nvme_rdma_complete_rq,
	.init_request	= nvme_rdma_init_request,
	.init_hctx	= nvme_rdma_init_hctx,
	.timeout	= nvme_rdma_timeout,
	.map_queues	= nvme_rdma_map_queues,
	.poll		= nvme_rdma_poll,
};
