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
#include "nvme_rdma_queue.h"
#include "nvme_rdma_trace.h"

#include <linux/module.h>

/*
 * Ask the controller to invalidate each command's MR with its response.
 * Off, every keyed command costs a LOCAL_INV of ours; that is slower and
 * only useful to exercise that path or to work around a controller that
 * gets remote invalidation wrong. Read per command, so it may change live.
 */
static bool nvme_rdma_remote_inv = true;
module_param_named(remote_invalidate, nvme_rdma_remote_inv, bool, 0644);
MODULE_PARM_DESC(remote_invalidate,
		 "ask the controller to invalidate MRs (SEND with Invalidate); default true");

/* One MR per capsule slot, of q->max_pages and one for an offset start. */
int nvme_rdma_mrs_alloc(struct nvme_rdma_queue *q)
{
	u32 max_pages = q->max_pages + 1;
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
			dev_err(q->dev,
				"queue %u: allocating MR %u of %u (%u pages): %d\n",
				q->qid, i, q->nr_slots, max_pages, ret);
			nvme_rdma_mrs_free(q);
			return ret;
		}
		q->mrs[i] = mr;
	}
	return 0;
}

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
 * nvme_rdma_mr_map() - register the DMA-mapped data of a command
 * @q: its queue
 * @slot: the command's capsule slot, whose MR is used
 * @sgt: the mapped scatterlist (nents DMA segments)
 * @write: the controller reads the data (a write command)
 * @reg: the REG_MR work request to prepare; the caller posts it chained
 *	before the SEND
 * @reg_cqe: its completion (REG_MR is posted unsignaled: failures only)
 * @sgl: the command's keyed SGL descriptor to fill in
 *
 * Returns the MR, or an ERR_PTR.
 */
struct ib_mr *nvme_rdma_mr_map(struct nvme_rdma_queue *q, unsigned int slot,
			       struct sg_table *sgt, bool write,
			       struct ib_reg_wr *reg, struct ib_cqe *reg_cqe,
			       struct nvme_keyed_sgl_desc *sgl)
{
	struct ib_mr *mr = q->mrs[slot];
	int n;

	/* A fresh key: a late access through the previous one must fail. */
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	n = ib_map_mr_sg(mr, sgt->sgl, sgt->nents, NULL, SZ_4K);
	if (unlikely(n != sgt->nents))
		return ERR_PTR(n < 0 ? n : -EINVAL);

	reg->wr.opcode = IB_WR_REG_MR;
	reg->wr.wr_cqe = reg_cqe;
	reg->wr.send_flags = 0;
	reg->wr.num_sge = 0;
	reg->wr.next = NULL;
	reg->mr = mr;
	reg->key = mr->rkey;
	/* The controller only reads what we write, only writes what we read. */
	reg->access = write ? IB_ACCESS_REMOTE_READ :
		      IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE;

	trace_nvme_rdma_mr_reg(q->instance, q->qid, mr->rkey, mr->length);
	sgl->addr = cpu_to_le64(mr->iova);
	put_unaligned_le24(mr->length, sgl->length);
	put_unaligned_le32(mr->rkey, sgl->key);
	sgl->type = (NVME_KEY_SGL_FMT_DATA_DESC << 4) |
		    (READ_ONCE(nvme_rdma_remote_inv) ? NVME_SGL_FMT_INVALIDATE :
						       NVME_SGL_FMT_ADDRESS);
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_KEYED);
	return mr;
}

/* Invalidate @mr; @cqe completes when it no longer grants access. */
int nvme_rdma_mr_post_inv(struct nvme_rdma_queue *q, struct ib_mr *mr,
			  struct ib_cqe *cqe)
{
	struct ib_send_wr wr = {
		.opcode			= IB_WR_LOCAL_INV,
		.send_flags		= IB_SEND_SIGNALED,
		.wr_cqe			= cqe,
		.ex.invalidate_rkey	= mr->rkey,
	};

	trace_nvme_rdma_mr_local_inv(q->instance, q->qid, mr->rkey,
				     mr->length);
	nvme_rdma_stat_inc(q, NVME_RDMA_STAT_LOCAL_INV);
	return ib_post_send(q->qp, &wr, NULL);
}
