// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: memory registration.
 *
 * Every capsule slot of a queue (that is, every tag) owns one fast
 * registration MR, allocated with the queue. A command can only use the
 * MR of its own tag, and a tag is reused only after its command completed,
 * which in turn waits for the MR to be invalidated: so no pool, no lock
 * and no allocation on the I/O path, and an MR can never be handed out
 * while the controller may still access it.
 *
 * Remote buffers are always registered. The alternatives are not safe
 * enough to be worth their speed: the device-wide "unsafe global rkey"
 * exposes all of host memory to the target for the life of the PD, and
 * the local DMA lkey cannot be used by the remote side at all. Data that
 * travels inside the capsule needs no registration; see nvme_rdma_cmd.c.
 *
 * The command asks the controller to invalidate the MR with its response
 * (SEND with Invalidate). When it does not, we post a LOCAL_INV and hold
 * the completion back until that is done, so the pages are never handed
 * back to the block layer while still reachable through the rkey.
 */
#include "nvme_rdma.h"
#include "nvme_rdma_trace.h"

#include <linux/error-injection.h>

int nvme_rdma_mrs_alloc(struct nvme_rdma_queue *q, u32 max_pages)
{
	u16 i;
	int ret;

	q->mrs = kcalloc(q->nr_slots, sizeof(*q->mrs), GFP_KERNEL);
	if (!q->mrs)
		return -ENOMEM;
	for (i = 0; i < q->nr_slots; i++) {
		struct ib_mr *mr;

		mr = ib_alloc_mr(q->pd, IB_MR_TYPE_MEM_REG, max_pages);
		if (IS_ERR(mr)) {
			ret = PTR_ERR(mr);
			dev_err(q->ctrl->ctrl.device,
				"queue %u: allocating MR %u of %u (%u pages): %d\n",
				q->qid, i, q->nr_slots, max_pages, ret);
			nvme_rdma_mrs_free(q);
			return ret;
		}
		q->mrs[i] = mr;
	}
	return 0;
}

ALLOW_ERROR_INJECTION(nvme_rdma_mrs_alloc, ERRNO);

void nvme_rdma_mrs_free(struct nvme_rdma_queue *q)
{
	u16 i;

	if (!q->mrs)
		return;
	for (i = 0; i < q->nr_slots; i++)
		if (q->mrs[i])
			ib_dereg_mr(q->mrs[i]);
	kfree(q->mrs);
	q->mrs = NULL;
}

/**
 * nvme_rdma_mr_map() - register the DMA-mapped data of a request
 * @q: its queue
 * @req: the request; req->sgt holds the mapped scatterlist
 * @rq: the block request
 * @sgl: the command's keyed SGL descriptor to fill in
 *
 * Prepares req->reg_wr; the caller posts it chained before the SEND.
 */
int nvme_rdma_mr_map(struct nvme_rdma_queue *q, struct nvme_rdma_request *req, struct request *rq,
		     struct nvme_keyed_sgl_desc *sgl)
{
	struct ib_mr *mr = q->mrs[rq->tag];
	int n;

	/* A fresh key: a late access through the previous one must fail. */
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	n = ib_map_mr_sg(mr, req->sgt.sgl, req->sgt.nents, NULL, SZ_4K);
	if (unlikely(n != req->sgt.nents))
		return n < 0 ? n : -EINVAL;

	req->mr = mr;
	req->reg_wr.wr.opcode = IB_WR_REG_MR;
	req->reg_wr.wr.wr_cqe = &req->reg_cqe;
	req->reg_wr.wr.send_flags = 0;
	req->reg_wr.wr.num_sge = 0;
	req->reg_wr.wr.next = NULL;
	req->reg_wr.mr = mr;
	req->reg_wr.key = mr->rkey;
	/* The controller only reads what we write, only writes what we read. */
	req->reg_wr.access = rq_data_dir(rq) == WRITE ?
			     IB_ACCESS_REMOTE_READ :
			     IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE;

	trace_nvme_rdma_mr_reg(q->ctrl->ctrl.instance, q->qid, mr->rkey,
			       mr->length);
	sgl->addr = cpu_to_le64(mr->iova);
	put_unaligned_le24(mr->length, sgl->length);
	put_unaligned_le32(mr->rkey, sgl->key);
	sgl->type = (NVME_KEY_SGL_FMT_DATA_DESC << 4) |
		    (READ_ONCE(nvme_rdma_remote_inv) ? NVME_SGL_FMT_INVALIDATE :
						 NVME_SGL_FMT_ADDRESS);
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_KEYED);
	return 0;
}

int nvme_rdma_mr_post_inv(struct nvme_rdma_queue *q, struct nvme_rdma_request *req)
{
	struct ib_send_wr wr = {
		.opcode			= IB_WR_LOCAL_INV,
		.send_flags		= IB_SEND_SIGNALED,
		.wr_cqe			= &req->inv_cqe,
		.ex.invalidate_rkey	= req->mr->rkey,
	};

	trace_nvme_rdma_mr_local_inv(q->ctrl->ctrl.instance, q->qid,
				     req->mr->rkey, req->mr->length);
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_LOCAL_INV);
	return ib_post_send(q->qp, &wr, NULL);
}

void nvme_rdma_mr_inv_done(struct ib_cq *cq, struct ib_wc *wc)
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
void nvme_rdma_mr_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	nvme_rdma_wc_failed(cq->cq_context, wc, "memory registration");
}
