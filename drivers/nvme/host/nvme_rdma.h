/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the NVMe over Fabrics RDMA host transport.
 *
 * Include this first in every file of the module: it sets pr_fmt, which
 * must precede the kernel's printk.h.
 *
 * Object model (see Documentation/host.md):
 *
 *   nvme_rdma_ctrl   one per "nvme connect"; embeds the nvme_ctrl that nvme-core
 *              drives, owns the admin and I/O tag sets and an array of
 *              queues sized for the most queues it can ever use.
 *   nvme_rdma_queue  one RDMA connection (cm_id + QP + CQ + PD). Everything the
 *              hardware touches is owned by the queue and lives exactly as
 *              long as the connection: the command capsules, the response
 *              buffers and one fast-registration MR per tag.
 *   nvme_rdma_req    blk-mq payload of a request. It holds the nvme_command that
 *              nvme-core builds, the scatterlist and the completion state;
 *              it is copied into the queue's capsule slot of its tag on
 *              submission, so the tag sets survive reconnects to a
 *              different device without remapping anything.
 */
#ifndef _NVMEOF_RDMA_HOST_H
#define _NVMEOF_RDMA_HOST_H

/* Messages carry the module's file name, which users load and grep for. */
#define pr_fmt(fmt) "nvme-rdma: " fmt

#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/socket.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

#include "nvme.h"
#include "fabrics.h"
#include "nvmeof_rdma_common.h"
#include "nvmeof_rdma_proto.h"

/*
 * Deepest I/O queue we create. The 6.1 in-tree transports stop at 128;
 * we allow twice that when the controller's MQES and MAXCMD allow it.
 * Each entry costs three send WRs (REG_MR, SEND, LOCAL_INV), one receive
 * buffer and one MR, so this bounds per-queue memory too.
 */
#define NVME_RDMA_MAX_QUEUE_DEPTH	256

/*
 * Largest transfer in 4 KiB pages. The block layer splits anything bigger.
 * One page more is registered than transferred, for a buffer that does
 * not start on a page boundary. 128 pages = 512 KiB per command keeps the
 * preallocated scatterlist of every request at 4 KiB.
 */
#define NVME_RDMA_MAX_PAGES		128

/* Scatter entries we put after the capsule in one SEND for in-capsule data. */
#define NVME_RDMA_MAX_INLINE_SGES	4

/* Address and route resolution, each; rdma_cm times out on its own. */
#define NVME_RDMA_RESOLVE_TIMEOUT_MS	5000
/* How much longer than rdma_cm we wait for an event before giving up. */
#define NVME_RDMA_CM_SLACK_MS		2000
/* From rdma_connect() to ESTABLISHED or a reject. */
#define NVME_RDMA_CONNECT_TIMEOUT_MS	10000
/*
 * Flushing a queue that is in error state. Hardware that never flushes
 * (the target vanished mid-transfer) must not block disconnect or reset.
 */
#define NVME_RDMA_DRAIN_TIMEOUT_MS	5000

/* Bits of nvme_rdma_queue.flags. */
enum {
	NVME_RDMA_Q_ALLOCATED,	/* resources exist until nvme_rdma_queue_free() */
	NVME_RDMA_Q_ACTIVE,		/* connected, QP and CQ not yet quenched */
	NVME_RDMA_Q_LIVE,		/* fabrics connect done, I/O may be submitted */
	NVME_RDMA_Q_TAGGED,		/* a tag set maps it: responses can be looked up */
	NVME_RDMA_Q_BROKEN,		/* broke, recovery not started: no LIVE on it */
};

/* Bits of nvme_rdma_req.flags. */
enum {
	NVME_RDMA_R_RESPONDED,	/* a response arrived for this submission */
	NVME_RDMA_R_ABORTED,		/* expired early: its queue broke (connecting) */
};

struct nvme_rdma_ctrl;

/* Per-queue counters, shown in debugfs (nvme_rdma_stats.c). */
enum {
	NVME_RDMA_STAT_CMDS,		/* capsules posted */
	NVME_RDMA_STAT_INLINE,	/* writes with in-capsule data */
	NVME_RDMA_STAT_KEYED,		/* commands with a registered MR */
	NVME_RDMA_STAT_REMOTE_INV,	/* MRs the controller invalidated */
	NVME_RDMA_STAT_LOCAL_INV,	/* MRs we had to invalidate */
	NVME_RDMA_STAT_BAD_RSP,	/* responses that started recovery */
	NVME_RDMA_STAT_WC_ERR,	/* failed work requests other than flushes */
	NVME_RDMA_STAT_CONNECTS,	/* successful RDMA connects */
	NVME_RDMA_STAT_MAX
};

/* log2 microsecond buckets: < 1 us up to >= 2^22 us (about 4 s). */
#define NVME_RDMA_LAT_BUCKETS		24

/* One receive buffer of a queue; the NVMe completion itself is in rsp_buf. */
struct nvme_rdma_rsp_slot {
	struct ib_cqe		cqe;
	struct ib_sge		sge;
	struct ib_recv_wr	wr;
};

struct nvme_rdma_queue {
	struct nvme_rdma_ctrl		*ctrl;
	u16			qid;
	u16			depth;		/* entries we advertise: HRQSIZE */
	u16			nr_slots;	/* capsule slots: depth + AEN */
	u8			inline_sges;	/* SGEs for in-capsule data */
	unsigned long		flags;

	/* Serializes resource setup and teardown of this queue. */
	struct mutex		lock;

	struct rdma_cm_id	*cm_id;
	struct ib_device	*ibdev;		/* set while resources exist */
	struct ib_pd		*pd;
	struct ib_cq		*cq;
	struct ib_qp		*qp;
	int			cq_size;

	/* rdma_cm hands its events to the thread waiting in nvme_rdma_cm_wait(). */
	struct completion	cm_done;
	int			cm_status;

	/* Command capsules, one per tag (and one for the AEN on qid 0). */
	struct nvme_command	*sqe_buf;
	dma_addr_t		sqe_dma;
	/* Response buffers, posted as receives for the whole connection. */
	struct nvme_completion	*rsp_buf;
	dma_addr_t		rsp_dma;
	struct nvme_rdma_rsp_slot	*rsp_slots;
	/* Fast-registration MRs, one per tag. */
	struct ib_mr		**mrs;

	/* Bounded drain: a marker per work queue, flushed after everything. */
	struct ib_cqe		drain_sq_cqe;
	struct ib_cqe		drain_rq_cqe;
	struct completion	drain_sq_done;
	struct completion	drain_rq_done;
	/* IB_POLL_DIRECT CQs must not be polled from two contexts at once. */
	spinlock_t		poll_lock;
	bool			polled;

	atomic_long_t		stats[NVME_RDMA_STAT_MAX];
	atomic_long_t		lat[NVME_RDMA_LAT_BUCKETS];
};

/* Submission state of one request, in its blk-mq payload. */
struct nvme_rdma_request {
	/* nvme-core's per-request data must come first: nvme_req() casts. */
	struct nvme_request	nreq;
	struct nvme_command	cmd;
	struct nvme_rdma_queue	*queue;

	unsigned long		flags;
	/* SEND completion + response (or its LOCAL_INV) still to come. */
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

	/* orig_nents: entries mapped (0: none), nents: DMA segments. */
	struct sg_table		sgt;
	struct scatterlist	sgl[];		/* NVME_RDMA_MAX_PAGES entries */
};

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

	atomic_long_t		recoveries;
	struct dentry		*debugfs;
};

static inline struct nvme_rdma_ctrl *to_rdma_ctrl(struct nvme_ctrl *ctrl)
{
	return container_of(ctrl, struct nvme_rdma_ctrl, ctrl);
}

static inline bool nvme_rdma_admin_queue(const struct nvme_rdma_queue *q)
{
	return q->qid == 0;
}

/* nvme_rdma_main.c */
extern bool nvme_rdma_remote_inv;
extern struct mutex nvme_rdma_ctrl_mutex;
extern struct list_head nvme_rdma_ctrl_list;

/* nvme_rdma_ctrl.c */
struct nvme_ctrl *nvme_rdma_create_ctrl(struct device *dev,
					struct nvmf_ctrl_options *opts);
int nvme_rdma_setup_ctrl(struct nvme_rdma_ctrl *ctrl, bool new);
void nvme_rdma_teardown_io_queues(struct nvme_rdma_ctrl *ctrl, bool remove);
void nvme_rdma_teardown_admin_queue(struct nvme_rdma_ctrl *ctrl, bool remove);
void nvme_rdma_teardown_ctrl(struct nvme_rdma_ctrl *ctrl, bool shutdown);
void nvme_rdma_delete_ctrls_on(struct ib_device *ibdev);

/* nvme_rdma_queue.c */
int nvme_rdma_queue_alloc(struct nvme_rdma_ctrl *ctrl, int qid, u16 depth);
int nvme_rdma_queue_start(struct nvme_rdma_ctrl *ctrl, int qid);
void nvme_rdma_queue_stop(struct nvme_rdma_queue *q);
void nvme_rdma_queue_free(struct nvme_rdma_queue *q);
int nvme_rdma_post_recv(struct nvme_rdma_queue *q, struct nvme_rdma_rsp_slot *slot);

/* nvme_rdma_cm.c */
int nvme_rdma_cm_handler(struct rdma_cm_id *cm_id, struct rdma_cm_event *ev);
int nvme_rdma_cm_resolve(struct nvme_rdma_queue *q);
int nvme_rdma_cm_connect(struct nvme_rdma_queue *q);

/* nvme_rdma_mr.c */
int nvme_rdma_mrs_alloc(struct nvme_rdma_queue *q, u32 max_pages);
void nvme_rdma_mrs_free(struct nvme_rdma_queue *q);
int nvme_rdma_mr_map(struct nvme_rdma_queue *q, struct nvme_rdma_request *req, struct request *rq,
		     struct nvme_keyed_sgl_desc *sgl);
int nvme_rdma_mr_post_inv(struct nvme_rdma_queue *q, struct nvme_rdma_request *req);
void nvme_rdma_mr_inv_done(struct ib_cq *cq, struct ib_wc *wc);
void nvme_rdma_mr_reg_done(struct ib_cq *cq, struct ib_wc *wc);

/* nvme_rdma_cmd.c */
extern const struct blk_mq_ops nvme_rdma_admin_mq_ops;
extern const struct blk_mq_ops nvme_rdma_io_mq_ops;
void nvme_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc);
void nvme_rdma_submit_async_event(struct nvme_ctrl *nctrl);
void nvme_rdma_req_put(struct nvme_rdma_request *req);
bool nvme_rdma_wc_failed(struct nvme_rdma_queue *q, struct ib_wc *wc, const char *what);

/* nvme_rdma_stats.c */
static inline void nvme_rdma_stat_inc(struct nvme_rdma_queue *q, int stat)
{
	atomic_long_inc(&q->stats[stat]);
}

void nvme_rdma_stat_latency(struct nvme_rdma_queue *q, u64 start_ns);
void nvme_rdma_debugfs_ctrl_add(struct nvme_rdma_ctrl *ctrl);
void nvme_rdma_debugfs_ctrl_remove(struct nvme_rdma_ctrl *ctrl);
void nvme_rdma_debugfs_init(void);
void nvme_rdma_debugfs_exit(void);

/* nvme_rdma_recovery.c */
bool nvme_rdma_error_recovery(struct nvme_rdma_ctrl *ctrl, const char *why);
void nvme_rdma_queue_error(struct nvme_rdma_queue *q, const char *why);
bool nvme_rdma_queue_broken(struct nvme_rdma_queue *q, const char *why);
void nvme_rdma_err_work(struct work_struct *work);
void nvme_rdma_reconnect_work(struct work_struct *work);
void nvme_rdma_reset_work(struct work_struct *work);
void nvme_rdma_reconnect_or_remove(struct nvme_rdma_ctrl *ctrl, int error);

#endif /* _NVMEOF_RDMA_HOST_H */
