/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the controller layers of the NVMe over Fabrics
 * RDMA host transport; the queue layer below them is nvme_rdma_queue.h.
 *
 * Object model (see Documentation/design.md):
 *
 *   nvme_rdma_ctrl   one per "nvme connect"; embeds the nvme_ctrl that nvme-core
 *              drives, owns the admin and I/O tag sets and an array of
 *              queues sized for the most queues it can ever use.
 *   nvme_rdma_queue  one RDMA connection (cm_id + QP + CQ + PD). Everything the
 *              hardware touches is owned by the queue and lives exactly as
 *              long as the connection: the command capsules, the response
 *              buffers and one fast-registration MR per tag.
 *   nvme_rdma_request blk-mq payload of a request. It holds the nvme_command that
 *              nvme-core builds, the scatterlist and the completion state;
 *              it is copied into the queue's capsule slot of its tag on
 *              submission, so the tag sets survive reconnects to a
 *              different device without remapping anything.
 */
#ifndef _NVMEOF_RDMA_HOST_H
#define _NVMEOF_RDMA_HOST_H

#include "nvme_rdma_queue.h"

#include <linux/blk-mq.h>

#include "nvme.h"
#include "fabrics.h"

/* Bits of nvme_rdma_request.flags. */
enum {
	NVME_RDMA_R_RESPONDED,	/* a response arrived for this submission */
	NVME_RDMA_R_ABORTED,		/* expired early: its queue broke (connecting) */
	NVME_RDMA_R_POSTED,		/* ib_post_send() of REG_MR + SEND returned */
	NVME_RDMA_R_INV_WANTED,	/* the response left the MR for us to invalidate */
	NVME_RDMA_R_INV_CLAIMED,	/* whoever set this posts the LOCAL_INV */
};

/* Submission state of one request, in its blk-mq payload. */
struct nvme_rdma_request {
	/* nvme-core's per-request data must come first: nvme_req() casts. */
	struct nvme_request	nreq;
	struct nvme_command	cmd;
	struct nvme_rdma_queue	*queue;

	unsigned long		flags;
	/*
	 * SEND completion + response (or its LOCAL_INV) still to come, and
	 * the submitter until it has looked at the flags after posting.
	 */
	atomic_t		pending;
	__le16			status;
	union nvme_result	result;
	u64			start_ns;	/* for the latency histogram */

	struct ib_mr		*mr;		/* registered for this command */
	struct ib_cqe		send_cqe;
	struct ib_cqe		reg_cqe;
	struct ib_cqe		inv_cqe;
	struct ib_reg_wr	reg_wr;
	/* The capsule, then in-capsule data. */
	struct ib_sge		sge[1 + NVME_RDMA_MAX_INLINE_SGES];

	/*
	 * sgt: from sg_alloc_table_chained() over sgl[] (orig_nents: its
	 * entries, 0 when there is none), nents: DMA segments; nr_mapped:
	 * the entries blk_rq_map_sg() filled and ib_dma_map_sg() mapped.
	 */
	struct sg_table		sgt;
	u32			nr_mapped;
	struct scatterlist	sgl[];		/* NVME_RDMA_INLINE_SG_CNT */
};

/*
 * Scatterlist entries every request carries: a command of up to 128
 * segments (512 KiB in pages) maps with no allocation; a bigger one
 * chains entries from the kernel's scatterlist pools. 128 entries keep
 * the request at about 4 KiB.
 */
#define NVME_RDMA_INLINE_SG_CNT		128

struct nvme_rdma_ctrl {
	struct nvme_ctrl	ctrl;
	struct list_head	entry;		/* in nvme_rdma_ctrl_list */

	struct sockaddr_storage	dst_addr;
	struct sockaddr_storage	src_addr;

	struct nvme_rdma_queue	*queues;
	u32			max_queues;	/* entries of queues[] */
	u32			io_queues[HCTX_MAX_TYPES];

	struct blk_mq_tag_set	admin_set;
	struct blk_mq_tag_set	io_set;

	/* Decided at the first connect, kept across reconnects. */
	u32			max_pages;
	/* Bytes of in-capsule write data per I/O command, 0 for none. */
	u32			inline_bytes;

	/* Capsule state of the one outstanding Asynchronous Event Request. */
	struct ib_cqe		aen_cqe;

	struct work_struct	err_work;
	struct delayed_work	reconnect_work;
	/* When the association was lost (jiffies): ctrl_loss_tmo counts from it. */
	unsigned long		lost_at;
	/* Set by a failed setup that no retry can mend: remove, do not retry. */
	bool			hopeless;

	atomic_long_t		recoveries;
	struct dentry		*debugfs;
};

static inline struct nvme_rdma_ctrl *to_rdma_ctrl(struct nvme_ctrl *ctrl)
{
	return container_of(ctrl, struct nvme_rdma_ctrl, ctrl);
}

/*
 * The controller layers, lowest first; a file calls only into its own
 * layer or lower ones (scripts/check-host-layers.py checks it).
 */

/* nvme_rdma_error.c */
bool nvme_rdma_error_recovery(struct nvme_rdma_ctrl *ctrl, const char *why);
void nvme_rdma_queue_error(struct nvme_rdma_queue *q, const char *why);
bool nvme_rdma_queue_broken(struct nvme_rdma_queue *q, const char *why);
bool nvme_rdma_queue_broke(struct nvme_rdma_ctrl *ctrl);

/* nvme_rdma_stats.c */
void nvme_rdma_stat_latency(struct nvme_rdma_queue *q, u64 start_ns);
void nvme_rdma_debugfs_ctrl_add(struct nvme_rdma_ctrl *ctrl);
void nvme_rdma_debugfs_ctrl_remove(struct nvme_rdma_ctrl *ctrl);
void nvme_rdma_debugfs_init(void);
void nvme_rdma_debugfs_exit(void);

/* nvme_rdma_cmd.c */
extern const struct blk_mq_ops nvme_rdma_admin_mq_ops;
extern const struct blk_mq_ops nvme_rdma_io_mq_ops;
void nvme_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc);
void nvme_rdma_submit_async_event(struct nvme_ctrl *nctrl);

/* nvme_rdma_setup.c */
int nvme_rdma_setup_ctrl(struct nvme_rdma_ctrl *ctrl, bool new);
void nvme_rdma_teardown_io_queues(struct nvme_rdma_ctrl *ctrl, bool remove);
void nvme_rdma_teardown_admin_queue(struct nvme_rdma_ctrl *ctrl, bool remove);
void nvme_rdma_teardown_ctrl(struct nvme_rdma_ctrl *ctrl, bool shutdown);

/* nvme_rdma_recovery.c */
void nvme_rdma_err_work(struct work_struct *work);
void nvme_rdma_reconnect_work(struct work_struct *work);
void nvme_rdma_reset_work(struct work_struct *work);

/* nvme_rdma_ctrl.c */
struct nvme_ctrl *nvme_rdma_create_ctrl(struct device *dev,
					struct nvmf_ctrl_options *opts);
void nvme_rdma_delete_ctrls_on(struct ib_device *ibdev);

#endif /* _NVMEOF_RDMA_HOST_H */
