/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the NVMe over Fabrics RDMA target transport.
 *
 * Include this first in every file of the module: it sets pr_fmt, which
 * must precede the kernel's printk.h.
 */
#ifndef _NVMEOF_RDMA_TARGET_H
#define _NVMEOF_RDMA_TARGET_H

/* Messages carry the module's file name, which users load and grep for. */
#define pr_fmt(fmt) "nvmet-rdma: " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/jump_label.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include <rdma/rw.h>

#include "nvmet.h"
#include "nvmeof_rdma_common.h"
#include "nvmeof_rdma_proto.h"

/*
 * Largest data transfer of one command: MDTS is reported in units of the
 * 4 KiB minimum page size, so 8 means 1 MiB.
 */
#define NVMET_RDMA_MDTS			8
#define NVMET_RDMA_MAX_XFER		(SZ_4K << NVMET_RDMA_MDTS)

/* param_inline_data_size: default when unset, and the largest we accept. */
#define NVMET_RDMA_INLINE_DEFAULT	SZ_4K
#define NVMET_RDMA_INLINE_MAX		SZ_16K
/*
 * Pages of in-capsule buffer per slot.  Rounded up: with 64 KiB pages
 * 16K / PAGE_SIZE would be 0 while a queue needs one page.
 */
#define NVMET_RDMA_INLINE_PAGES		DIV_ROUND_UP(NVMET_RDMA_INLINE_MAX, PAGE_SIZE)

#define NVMET_RDMA_BACKLOG		128
/* Between attempts to listen again once the address or device is gone. */
#define NVMET_RDMA_RELISTEN_DELAY	(5 * HZ)
/*
 * A teardown still waiting after this long says what for, and again at
 * doubling intervals of at most the second value.
 */
#define NVMET_RDMA_STALL_REPORT		(5 * HZ)
#define NVMET_RDMA_STALL_REPORT_MAX	(60 * HZ)
/* Longest wait for a QP on an SRQ to report its last receive (see ib_destroy). */
#define NVMET_RDMA_LAST_WQE_TIMEOUT	HZ
/* Bits of nvmet_rdma_dev.last_wqe_flags. */
#define NVMET_RDMA_LAST_WQE_SEEN	0
#define NVMET_RDMA_LAST_WQE_MISSED	1

/* Module parameters (nvmet_rdma_main.c). */
extern unsigned int nvmet_rdma_max_queue_size;
extern bool nvmet_rdma_use_srq;
extern unsigned int nvmet_rdma_srq_size;

/*
 * The rdma_cm hands the listener's context to the ids of new connections,
 * and all of them share one event handler: this tag, first in both
 * context types, tells the handler which one it got.
 */
enum nvmet_rdma_ctx_kind {
	NVMET_RDMA_CTX_LISTENER,
	NVMET_RDMA_CTX_QUEUE,
};

struct nvmet_rdma_slot;
struct nvmet_rdma_srq;

/*
 * A receive buffer: one command capsule and its in-capsule data.  Either
 * one queue's own, tied to one slot for good, or one of a shared receive
 * queue's, lent to a slot of whichever queue it arrived on until that
 * command's response has been sent.
 */
struct nvmet_rdma_rbuf {
	struct nvme_command	*sqe;
	struct nvmet_rdma_srq	*srq;		/* NULL: a queue's own */
	struct nvmet_rdma_slot	*slot;		/* own buffers only */
	struct ib_cqe		cqe;
	struct ib_recv_wr	wr;
	struct ib_sge		sge[1 + NVMET_RDMA_INLINE_PAGES];
	struct page		*page[NVMET_RDMA_INLINE_PAGES];
	struct list_head	link;		/* queue->held */
	u32			len;		/* bytes received */
};

/*
 * A shared receive queue: one per RDMA device and in-capsule buffer size
 * (pages per buffer), living as long as the device object.
 */
struct nvmet_rdma_srq {
	struct nvmet_rdma_dev	*dev;
	struct ib_srq		*srq;
	unsigned int		pages;		/* in-capsule pages per buffer */
	u32			size;		/* buffers */
	u32			limit;		/* low-water mark armed */
	struct nvme_command	*sqes;
	dma_addr_t		sqes_dma;
	struct nvmet_rdma_rbuf	*rbufs;
	atomic64_t		recvs;
	atomic64_t		limit_events;
	struct delayed_work	rearm_work;	/* arm the limit again */
};

/* One per RDMA device with queues on it; holds what the queues share. */
struct nvmet_rdma_dev {
	struct list_head	entry;		/* nvmet_rdma_devices */
	struct kref		ref;		/* one per queue */
	struct ib_device	*ibdev;
	struct ib_pd		*pd;
	atomic_t		next_vector;	/* spread CQs over vectors */
	bool			removing;	/* device is going away */
	struct completion	*gone;		/* a drain waits for the release */
	/* Created on first use, under nvmet_rdma_lock; indexed by pages. */
	struct nvmet_rdma_srq	*srqs[NVMET_RDMA_INLINE_PAGES + 1];
	bool			no_srq;		/* device has none: don't retry */
	/* Whether the device has sent a Last WQE Reached event, or missed one. */
	unsigned long		last_wqe_flags;
};

/* nvmet_port->priv of an enabled port. */
struct nvmet_rdma_port {
	enum nvmet_rdma_ctx_kind kind;		/* must be first */
	struct nvmet_port	*nport;
	struct sockaddr_storage	addr;
	struct list_head	entry;		/* nvmet_rdma_ports */
	struct mutex		lock;		/* listener, stopping */
	struct rdma_cm_id	*listener;	/* NULL while not listening */
	bool			stopping;
	bool			warned;		/* relisten failure reported */
	bool			lost;		/* listener needs replacing */
	struct delayed_work	relisten_work;
};

enum nvmet_rdma_qstate {
	NVMET_RDMA_Q_CONNECTING,	/* accepted, not yet established */
	NVMET_RDMA_Q_LIVE,
	NVMET_RDMA_Q_CLOSING,		/* release queued or running */
};

/* Per-queue counters, exported in debugfs (nvmet_rdma_stats.c). */
struct nvmet_rdma_qstats {
	atomic64_t	cmds;
	atomic64_t	inline_cmds;
	atomic64_t	bytes_in;	/* host to controller */
	atomic64_t	bytes_out;	/* controller to host */
	atomic64_t	sgl_errors;
	atomic64_t	rw_waits;	/* commands that waited for SQ space */
	atomic64_t	srq_recvs;	/* capsules that came through an SRQ */
	atomic64_t	srq_backlog;	/* ... and found every slot busy */
	atomic64_t	xfer_errors;	/* failed RDMA READs and WRITEs */
	atomic64_t	sq_overflows;	/* capsules beyond the queue depth */
	atomic64_t	wc_errors[IB_WC_GENERAL_ERR + 1];
};

/*
 * A slot holds everything needed to answer the command in its receive
 * buffer.  Slots are preallocated per queue and a buffer goes back to
 * the receive queue only when its response has been sent, so the command
 * path never allocates and the number of responses in flight can never
 * exceed the number of receive buffers.
 */
struct nvmet_rdma_slot {
	struct nvmet_rdma_queue	*queue;
	struct nvmet_rdma_rbuf	*rb;		/* NULL: SRQ slot not in use */
	struct nvme_command	*sqe;		/* rb->sqe */
	struct nvme_completion	*cqe;		/* in queue->cqes */

	struct ib_cqe		send_cqe;
	struct ib_send_wr	send_wr;
	struct ib_sge		send_sge;

	struct ib_cqe		read_cqe;
	/*
	 * On every RDMA READ/WRITE WR that rdma_rw leaves without one: those
	 * are unsignalled, so this sees only their error completions, which
	 * ib_core would otherwise drop.
	 */
	struct ib_cqe		xfer_cqe;
	struct rdma_rw_ctx	rw;
	bool			rw_live;	/* rw is initialised */
	bool			sgl_owned;	/* req.sg from nvmet_req_alloc_sgls */
	bool			reclaim;	/* WRs may still use rw/sg: release frees them */
	u32			rw_wrs;		/* send queue credits held */
	u32			recv_len;
	u16			status;		/* set when mapping fails */

	struct list_head	link;		/* pending, rw_wait or free */
	struct scatterlist	inline_sg[NVMET_RDMA_INLINE_PAGES];
	struct nvmet_req	req;
};

struct nvmet_rdma_queue {
	enum nvmet_rdma_ctx_kind kind;		/* must be first */
	struct rdma_cm_id	*cm_id;		/* NULL once destroyed */
	/*
	 * Copied from cm_id: the release work destroys the id before it
	 * drains the QP, and completions seen then still need them.
	 */
	u32			port_num;
	struct sockaddr_storage	peer;
	struct sockaddr_storage	local;
	u16			portid;		/* nvmet port, for messages */
	struct ib_qp		*qp;
	struct ib_cq		*cq;
	unsigned int		cq_size;
	struct nvmet_rdma_dev	*dev;
	struct nvmet_port	*nport;
	struct list_head	entry;		/* nvmet_rdma_queues */
	bool			published;	/* on it; nvmet_rdma_lock */
	int			idx;

	struct nvmet_sq		nvme_sq;
	struct nvmet_cq		nvme_cq;
	u16			qid;
	u16			depth;		/* negotiated, our CRQSIZE */
	u16			nr_slots;	/* receive slots, depth + spares */
	u32			inline_size;
	u32			inline_pages;

	struct nvmet_rdma_slot	*slots;
	struct nvmet_rdma_srq	*srq;		/* NULL: own receive buffers */
	struct nvmet_rdma_rbuf	*rbufs;		/* own receive buffers */
	struct nvme_command	*sqes;		/* ... and their capsules */
	dma_addr_t		sqes_dma;
	struct nvme_completion	*cqes;
	dma_addr_t		cqes_dma;

	/*
	 * RDMA READ/WRITE work requests are what can exhaust the send queue:
	 * responses have one entry per slot reserved.  lock protects state,
	 * the two lists and rw_credits.
	 */
	spinlock_t		lock;
	enum nvmet_rdma_qstate	state;
	struct list_head	pending;	/* arrived before ESTABLISHED */
	struct list_head	rw_wait;	/* waiting for rw_credits */
	/*
	 * SRQ only: slots without a buffer, and buffers taken from the SRQ
	 * that have no slot (waiting for one, or left for the release work
	 * to give back).
	 */
	struct list_head	free_slots;
	struct list_head	held;
	u32			rw_credits;
	u32			rw_budget;
	/*
	 * Commands received and not answered yet, the host's view of its
	 * submission queue; more than depth is a flow control violation.
	 */
	atomic_t		inflight;
	/* Most commands outstanding at once, for debugfs. */
	int			inflight_max;
	/* The failure that closed a live queue, for the release work to name. */
	const char		*err_what;
	enum ib_wc_status	err_status;

	struct work_struct	release_work;
	struct work_struct	start_work;	/* capsules that beat ESTABLISHED */
	/*
	 * The release work's waits cannot be cut short (the backend or the
	 * device may still write into our buffers): this names what a
	 * teardown that takes too long is waiting for.
	 */
	struct delayed_work	stall_work;
	const char		*waiting_for;
	unsigned long		release_start;	/* jiffies */
	int			release_cntlid;	/* for the report: -1 none */
	unsigned int		stall_reports;
	/* SRQ only: the QP's Last WQE Reached event. */
	struct completion	last_wqe;
	struct nvmet_rdma_qstats stats;
	struct dentry		*dbg;
};

/* Live objects of each type, for leak checks (nvmet_rdma_stats.c). */
enum nvmet_rdma_obj {
	NVMET_RDMA_OBJ_PORT,
	NVMET_RDMA_OBJ_LISTENER,
	NVMET_RDMA_OBJ_DEV,
	NVMET_RDMA_OBJ_QUEUE,
	NVMET_RDMA_OBJ_SLOT,
	NVMET_RDMA_OBJ_SRQ,
#ifdef NVMEOF_RDMA_FAULT_INJECTION
	NVMET_RDMA_OBJ_FAULT_SEND,	/* early responses in flight */
#endif
	NVMET_RDMA_OBJ_NR,
};

/* Global counters that have no queue to live in. */
enum nvmet_rdma_gstat {
	NVMET_RDMA_GS_CONNECTS,
	NVMET_RDMA_GS_REJECTS,
	/* Totals over every queue ever: the per-queue files go with them. */
	NVMET_RDMA_GS_WC_ERRORS,
	NVMET_RDMA_GS_XFER_ERRORS,
	NVMET_RDMA_GS_SQ_OVERFLOWS,
	NVMET_RDMA_GS_NR,
};

extern atomic_long_t nvmet_rdma_live[NVMET_RDMA_OBJ_NR];
extern atomic64_t nvmet_rdma_gstats[NVMET_RDMA_GS_NR];

static inline void nvmet_rdma_obj_add(enum nvmet_rdma_obj t, long n)
{
	atomic_long_add(n, &nvmet_rdma_live[t]);
}

/*
 * Objects the module keeps track of; nvmet_rdma_lock protects both lists
 * and every nvmet_rdma_dev.removing flag.
 */
extern struct mutex nvmet_rdma_lock;
extern struct list_head nvmet_rdma_queues;
extern struct workqueue_struct *nvmet_rdma_wq;
extern const struct nvmet_fabrics_ops nvmet_rdma_ops;

/*
 * Set-up steps that fail_function may fail in FAULT_INJECTION builds:
 * nvmet_rdma_fault.c lists them with ALLOW_ERROR_INJECTION, which records
 * a function's address and so needs it visible there, hence not static.
 * A kprobe on the function only sees the calls that reach it, and each
 * is called from its own file, where the compiler may inline it even
 * though it is global: those builds keep it out of line.  The product
 * build lets the compiler choose.
 */
#ifdef NVMEOF_RDMA_FAULT_INJECTION
#define nvmet_rdma_injectable	noinline
#else
#define nvmet_rdma_injectable
#endif

/* nvmet_rdma_port.c */
int nvmet_rdma_add_port(struct nvmet_port *nport);
void nvmet_rdma_remove_port(struct nvmet_port *nport);
void nvmet_rdma_disc_traddr(struct nvmet_req *req, struct nvmet_port *nport,
			    char *traddr);
void nvmet_rdma_listener_lost(struct nvmet_rdma_port *port);
int nvmet_rdma_listen(struct nvmet_rdma_port *port, const char **step);
int nvmet_rdma_client_register(void);
void nvmet_rdma_client_unregister(void);

/* nvmet_rdma_cm.c */
int nvmet_rdma_cm_handler(struct rdma_cm_id *cm_id,
			  struct rdma_cm_event *event);
int nvmet_rdma_accept(struct rdma_cm_id *cm_id, struct nvmet_rdma_queue *queue,
		      const struct rdma_conn_param *req);

/* nvmet_rdma_queue.c */
struct nvmet_rdma_dev *nvmet_rdma_dev_get(struct ib_device *ibdev);
void nvmet_rdma_dev_put(struct nvmet_rdma_dev *dev);
void nvmet_rdma_dev_drain(struct ib_device *ibdev);
bool nvmet_rdma_dev_usable(struct ib_device *ibdev);
int nvmet_rdma_srq_setup(struct nvmet_rdma_srq *srq);
int nvmet_rdma_bufs_alloc(struct nvmet_rdma_queue *queue);
int nvmet_rdma_ib_create(struct nvmet_rdma_queue *queue);
struct nvmet_rdma_queue *
nvmet_rdma_queue_create(struct rdma_cm_id *cm_id, struct nvmet_rdma_dev *dev,
			struct nvmet_port *nport,
			const struct nvmeof_rdma_cm_params *params, int *cm_sts);
int nvmet_rdma_queue_publish(struct nvmet_rdma_queue *queue);
void nvmet_rdma_queue_destroy(struct nvmet_rdma_queue *queue);
void nvmet_rdma_queue_established(struct nvmet_rdma_queue *queue);
void nvmet_rdma_queue_close(struct nvmet_rdma_queue *queue);
void nvmet_rdma_close_queues(struct nvmet_port *nport, struct nvmet_ctrl *ctrl,
			     struct ib_device *ibdev);
void nvmet_rdma_delete_ctrl(struct nvmet_ctrl *ctrl);
void nvmet_rdma_queues_exit(void);
void nvmet_rdma_srqs_show(struct seq_file *m);

/* nvmet_rdma_cmd.c */
void nvmet_rdma_slot_init(struct nvmet_rdma_slot *slot);
void nvmet_rdma_rbuf_init(struct nvmet_rdma_rbuf *rb);
int nvmet_rdma_post_recv(struct nvmet_rdma_rbuf *rb);
void nvmet_rdma_start_cmd(struct nvmet_rdma_slot *slot);
void nvmet_rdma_slot_reclaim(struct nvmet_rdma_slot *slot);
void nvmet_rdma_slot_finish(struct nvmet_rdma_slot *slot);
void nvmet_rdma_post_response(struct nvmet_rdma_slot *slot,
			      struct ib_send_wr *first);
void nvmet_rdma_queue_response(struct nvmet_req *req);
void nvmet_rdma_wc_error(struct nvmet_rdma_queue *queue, struct ib_wc *wc,
			 const char *what);

/*
 * nvmet_rdma_fault.c: test-only faults of responses and connections,
 * built with FAULT_INJECTION=1 only.  Without it the hooks are empty and
 * the module has no fault code, debugfs file or error-injection points.
 */
#ifdef NVMEOF_RDMA_FAULT_INJECTION
DECLARE_STATIC_KEY_FALSE(nvmet_rdma_fault_key);
bool nvmet_rdma_fault_response(struct nvmet_rdma_slot *slot);
void nvmet_rdma_fault_established(struct nvmet_rdma_queue *queue);
void nvmet_rdma_fault_init(struct dentry *root);
void nvmet_rdma_fault_exit(void);
void nvmet_rdma_put_credits(struct nvmet_rdma_queue *queue, u32 n);

/* True when a fault took the response over; free while disarmed. */
static inline bool nvmet_rdma_fault(struct nvmet_rdma_slot *slot)
{
	return static_branch_unlikely(&nvmet_rdma_fault_key) &&
	       nvmet_rdma_fault_response(slot);
}

/* A queue is established: a fault may answer before it is asked. */
static inline void nvmet_rdma_fault_up(struct nvmet_rdma_queue *queue)
{
	if (static_branch_unlikely(&nvmet_rdma_fault_key))
		nvmet_rdma_fault_established(queue);
}
#else
static inline bool nvmet_rdma_fault(struct nvmet_rdma_slot *slot)
{
	return false;
}

static inline void nvmet_rdma_fault_up(struct nvmet_rdma_queue *queue)
{
}

static inline void nvmet_rdma_fault_init(struct dentry *root)
{
}

static inline void nvmet_rdma_fault_exit(void)
{
}
#endif

/* nvmet_rdma_stats.c */
void nvmet_rdma_stats_init(void);
void nvmet_rdma_stats_exit(void);
void nvmet_rdma_stats_queue_add(struct nvmet_rdma_queue *queue);
void nvmet_rdma_stats_queue_del(struct nvmet_rdma_queue *queue);

#endif /* _NVMEOF_RDMA_TARGET_H */
