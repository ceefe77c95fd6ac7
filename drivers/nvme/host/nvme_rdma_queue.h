/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The queue layer of the NVMe over Fabrics RDMA host transport: one RDMA
 * connection (cm_id, PD, CQ, QP, capsule and response buffers, one MR per
 * capsule slot) and the rdma_cm steps and memory registrations it is made
 * of (nvme_rdma_queue.c, nvme_rdma_cm.c, nvme_rdma_mr.c).
 *
 * The queue knows no controller: it is created from a
 * struct nvme_rdma_queue_params and tells the layer above about what
 * happens on it only through struct nvme_rdma_queue_ops. struct
 * nvme_rdma_ctrl is left incomplete here, so the compiler keeps the files
 * of this layer from reaching into it. See Documentation/design.md.
 *
 * Include this first in every file of the module: it sets pr_fmt, which
 * must precede the kernel's printk.h.
 */
#ifndef _NVMEOF_RDMA_HOST_QUEUE_H
#define _NVMEOF_RDMA_HOST_QUEUE_H

/* Messages carry the module's file name, which users load and grep for. */
#define pr_fmt(fmt) "nvme-rdma: " fmt

#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/nvme.h>
#include <linux/scatterlist.h>
#include <linux/socket.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

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
 * Largest transfer in 4 KiB pages: 256 pages = 1 MiB per command, what
 * an MDTS of 8 allows; the block layer splits anything bigger. One page
 * more is registered than transferred, for a buffer that does not start
 * on a page boundary.
 */
#define NVME_RDMA_MAX_PAGES		256

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

/* Per-queue counters, shown in debugfs (nvme_rdma_stats.c). */
enum {
	NVME_RDMA_STAT_CMDS,		/* capsules posted */
	NVME_RDMA_STAT_INLINE,	/* I/O writes with in-capsule data */
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

struct nvme_rdma_ctrl;
struct nvme_rdma_queue;

/* How a queue reports to the layer above. */
struct nvme_rdma_queue_ops {
	/*
	 * A response buffer was filled (or flushed): ib_cqe.done of
	 * receives. Softirq context, or the poller's on a polled queue and
	 * the draining thread's while the queue stops.
	 */
	void (*recv_done)(struct ib_cq *cq, struct ib_wc *wc);
	/*
	 * rdma_cm says the connection of an active queue is gone: process
	 * context, under rdma_cm's handler mutex of the queue's cm_id.
	 */
	void (*lost)(struct nvme_rdma_queue *q, const char *why);
};

/* What nvme_rdma_queue_alloc() builds. */
struct nvme_rdma_queue_params {
	struct device		*dev;		/* messages are about it */
	int			instance;	/* tracepoints name it */
	struct sockaddr		*dst;		/* lives as long as the queue */
	struct sockaddr		*src;		/* NULL: rdma_cm picks */
	int			tos;		/* < 0: the default */
	u16			depth;		/* responses: HRQSIZE */
	u16			nr_slots;	/* capsule slots and MRs */
	bool			polled;		/* IB_POLL_DIRECT CQ */
	u32			max_pages;	/* per MR; 0: what the device allows */
	const struct nvme_rdma_queue_ops *ops;
};

struct nvme_rdma_queue {
	/* The owner's, for the layers above; opaque to this one. */
	struct nvme_rdma_ctrl		*ctrl;
	struct device		*dev;
	int			instance;
	struct sockaddr		*dst;
	const struct nvme_rdma_queue_ops *ops;
	u16			qid;
	u16			depth;		/* entries we advertise: HRQSIZE */
	u16			nr_slots;	/* capsule slots: depth + AEN */
	u8			inline_sges;	/* SGEs for in-capsule data */
	u32			max_pages;	/* per command; the MRs have one more */
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

static inline bool nvme_rdma_admin_queue(const struct nvme_rdma_queue *q)
{
	return q->qid == 0;
}

static inline void nvme_rdma_stat_inc(struct nvme_rdma_queue *q, int stat)
{
	atomic_long_inc(&q->stats[stat]);
}

/* nvme_rdma_queue.c */
void nvme_rdma_queue_init(struct nvme_rdma_queue *q,
			  struct nvme_rdma_ctrl *ctrl, u16 qid);
void nvme_rdma_queue_exit(struct nvme_rdma_queue *q);
int nvme_rdma_queue_alloc(struct nvme_rdma_queue *q,
			  const struct nvme_rdma_queue_params *p);
void nvme_rdma_queue_stop(struct nvme_rdma_queue *q);
void nvme_rdma_queue_free(struct nvme_rdma_queue *q);
int nvme_rdma_queue_post_recv(struct nvme_rdma_queue *q,
			      struct nvme_rdma_rsp_slot *slot);
int nvme_rdma_queue_post_capsule(struct nvme_rdma_queue *q,
				 const struct nvme_command *c,
				 unsigned int slot, struct ib_sge *sge,
				 int nr_sge, struct ib_cqe *cqe,
				 struct ib_send_wr *before);
int nvme_rdma_queue_poll(struct nvme_rdma_queue *q);

/* nvme_rdma_cm.c */
int nvme_rdma_cm_handler(struct rdma_cm_id *cm_id, struct rdma_cm_event *ev);
int nvme_rdma_cm_resolve(struct nvme_rdma_queue *q, struct sockaddr *src);
int nvme_rdma_cm_connect(struct nvme_rdma_queue *q);

/* nvme_rdma_mr.c */
int nvme_rdma_mrs_alloc(struct nvme_rdma_queue *q);
void nvme_rdma_mrs_free(struct nvme_rdma_queue *q);
struct ib_mr *nvme_rdma_mr_map(struct nvme_rdma_queue *q, unsigned int slot,
			       struct sg_table *sgt, bool write,
			       struct ib_reg_wr *reg, struct ib_cqe *reg_cqe,
			       struct nvme_keyed_sgl_desc *sgl);
int nvme_rdma_mr_post_inv(struct nvme_rdma_queue *q, struct ib_mr *mr,
			  struct ib_cqe *cqe);

#endif /* _NVMEOF_RDMA_HOST_QUEUE_H */
