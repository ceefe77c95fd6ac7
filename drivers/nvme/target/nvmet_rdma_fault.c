// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: test-only fault modes that
 * mistreat I/O queue responses, or answer before being asked when a
 * queue connects, so that a host's handling of a broken controller can
 * be exercised under live I/O and while it connects.
 *
 *   nvmet_rdma/fault   write "MODE COUNT" (MODE one of bogus-cid,
 *                      duplicate, error-status, short-response, drop,
 *                      early-response, early-aen) to spoil the next COUNT
 *                      responses on I/O queues, or to answer on the next
 *                      COUNT queues established, or "off"; read the mode,
 *                      what is left and what was applied.  Root only,
 *                      like the rest of debugfs.
 *
 * Disarmed, the response path and ESTABLISHED pay for one static branch
 * each.  Every fault leaves the slot to be finished exactly once: by the
 * completion of a SEND carrying the slot's own send_cqe, or, for a
 * dropped response, by the release work, which frees what the command
 * held once the QP is drained.  An early response has no slot: its own
 * buffer and send queue credit go back when its SEND completes, which
 * the drain before a queue is freed guarantees.
 *
 * The file also lists the set-up steps that fail_function may fail
 * (ALLOW_ERROR_INJECTION), at its end.
 */
#include "nvmet_rdma.h"

#include <linux/debugfs.h>
#include <linux/error-injection.h>
#include <linux/jump_label.h>
#include <linux/string.h>
#include <linux/uaccess.h>

enum nvmet_rdma_fault_mode {
	NVMET_RDMA_FAULT_NONE,
	NVMET_RDMA_FAULT_BOGUS_CID,
	NVMET_RDMA_FAULT_DUPLICATE,
	NVMET_RDMA_FAULT_ERROR_STATUS,
	NVMET_RDMA_FAULT_SHORT,
	NVMET_RDMA_FAULT_DROP,
	NVMET_RDMA_FAULT_EARLY_RSP,
	NVMET_RDMA_FAULT_EARLY_AEN,
	NVMET_RDMA_FAULT_NR,
};

/* Where a mode strikes; a mode is only spent where it strikes. */
enum nvmet_rdma_fault_at {
	NVMET_RDMA_FAULT_AT_NOWHERE,
	NVMET_RDMA_FAULT_AT_IO_RSP,	/* a response on an I/O queue */
	NVMET_RDMA_FAULT_AT_IO_UP,	/* an I/O queue established */
	NVMET_RDMA_FAULT_AT_ADMIN_UP,	/* an admin queue established */
};

static const char * const nvmet_rdma_fault_names[NVMET_RDMA_FAULT_NR] = {
	[NVMET_RDMA_FAULT_NONE]		= "off",
	[NVMET_RDMA_FAULT_BOGUS_CID]	= "bogus-cid",
	[NVMET_RDMA_FAULT_DUPLICATE]	= "duplicate",
	[NVMET_RDMA_FAULT_ERROR_STATUS]	= "error-status",
	[NVMET_RDMA_FAULT_SHORT]	= "short-response",
	[NVMET_RDMA_FAULT_DROP]		= "drop",
	[NVMET_RDMA_FAULT_EARLY_RSP]	= "early-response",
	[NVMET_RDMA_FAULT_EARLY_AEN]	= "early-aen",
};

static const u8 nvmet_rdma_fault_where[NVMET_RDMA_FAULT_NR] = {
	[NVMET_RDMA_FAULT_NONE]		= NVMET_RDMA_FAULT_AT_NOWHERE,
	[NVMET_RDMA_FAULT_BOGUS_CID]	= NVMET_RDMA_FAULT_AT_IO_RSP,
	[NVMET_RDMA_FAULT_DUPLICATE]	= NVMET_RDMA_FAULT_AT_IO_RSP,
	[NVMET_RDMA_FAULT_ERROR_STATUS]	= NVMET_RDMA_FAULT_AT_IO_RSP,
	[NVMET_RDMA_FAULT_SHORT]	= NVMET_RDMA_FAULT_AT_IO_RSP,
	[NVMET_RDMA_FAULT_DROP]		= NVMET_RDMA_FAULT_AT_IO_RSP,
	[NVMET_RDMA_FAULT_EARLY_RSP]	= NVMET_RDMA_FAULT_AT_IO_UP,
	[NVMET_RDMA_FAULT_EARLY_AEN]	= NVMET_RDMA_FAULT_AT_ADMIN_UP,
};

/* For the message that confirms an arming. */
static const char * const nvmet_rdma_fault_what[] = {
	[NVMET_RDMA_FAULT_AT_IO_RSP]	= "I/O queue responses get",
	[NVMET_RDMA_FAULT_AT_IO_UP]	= "I/O queues established get",
	[NVMET_RDMA_FAULT_AT_ADMIN_UP]	= "admin queues established get",
};

/*
 * Mode and responses left share one atomic, so that a countdown racing
 * with a new arming never spends one arming's count on the other's mode.
 */
#define NVMET_RDMA_FAULT_MODE_SHIFT	24
#define NVMET_RDMA_FAULT_LEFT_MASK	((1 << NVMET_RDMA_FAULT_MODE_SHIFT) - 1)
#define NVMET_RDMA_FAULT_MAX_COUNT	65535
/*
 * All tag bits of the command_id set: Linux hosts put the tag there, and
 * no queue of at most 4095 entries has tag 0xfff.
 */
#define NVMET_RDMA_FAULT_BOGUS_TAG	0x0fff
/* Half a completion queue entry. */
#define NVMET_RDMA_FAULT_SHORT_LEN	8

DEFINE_STATIC_KEY_FALSE(nvmet_rdma_fault_key);
static atomic_t nvmet_rdma_fault_state;
static atomic_t nvmet_rdma_fault_applied;
/*
 * Duplicates that found no send queue credit and went out once, and
 * early responses not sent (the queue closed first, no memory).
 */
static atomic_t nvmet_rdma_fault_skipped;
/* Writers, and turning the static branch on and off. */
static DEFINE_MUTEX(nvmet_rdma_fault_lock);
static struct dentry *nvmet_rdma_fault_dbg;

/* Turning a static branch off sleeps: not from the response path. */
static void nvmet_rdma_fault_off_work(struct work_struct *work)
{
	mutex_lock(&nvmet_rdma_fault_lock);
	if (!(atomic_read(&nvmet_rdma_fault_state) &
	      NVMET_RDMA_FAULT_LEFT_MASK))
		static_branch_disable(&nvmet_rdma_fault_key);
	mutex_unlock(&nvmet_rdma_fault_lock);
}

static DECLARE_WORK(nvmet_rdma_fault_off, nvmet_rdma_fault_off_work);

/*
 * Spend one of the armed count if the armed mode strikes @at; returns the
 * mode, NONE when disarmed or armed for somewhere else.
 */
static int nvmet_rdma_fault_take(enum nvmet_rdma_fault_at at)
{
	int v = atomic_read(&nvmet_rdma_fault_state);

	do {
		if (!(v & NVMET_RDMA_FAULT_LEFT_MASK) ||
		    nvmet_rdma_fault_where[v >> NVMET_RDMA_FAULT_MODE_SHIFT] != at)
			return NVMET_RDMA_FAULT_NONE;
	} while (!atomic_try_cmpxchg(&nvmet_rdma_fault_state, &v, v - 1));
	if (!((v - 1) & NVMET_RDMA_FAULT_LEFT_MASK))
		schedule_work(&nvmet_rdma_fault_off);
	return v >> NVMET_RDMA_FAULT_MODE_SHIFT;
}

/*
 * Completion of the first of a duplicate's two SENDs, posted unsignalled
 * and so completing only in error: the second one carries the slot's
 * send_cqe and finishes the slot, flushed or not.
 */
static void nvmet_rdma_fault_first_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvmet_rdma_queue *queue = wc->qp->qp_context;

	if (wc->status != IB_WC_WR_FLUSH_ERR)
		pr_err_ratelimited("queue %d (qid %u): duplicated response failed: %s (%d), closing\n",
				   queue->idx, queue->qid,
				   ib_wc_status_msg(wc->status), wc->status);
	nvmet_rdma_queue_close(queue);
}

static struct ib_cqe nvmet_rdma_fault_first_cqe = {
	.done = nvmet_rdma_fault_first_done,
};

/* A second SEND takes a send queue entry that only rw_credits can spare. */
static bool nvmet_rdma_fault_credit(struct nvmet_rdma_slot *slot)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&queue->lock, flags);
	ok = queue->state == NVMET_RDMA_Q_LIVE && queue->rw_credits;
	if (ok) {
		queue->rw_credits--;
		slot->rw_wrs++;
	}
	spin_unlock_irqrestore(&queue->lock, flags);
	return ok;
}

/*
 * The response twice, back to back.  The copy goes first, as a plain
 * SEND: a host that asked for remote invalidation takes it for a
 * response that left its MR valid and starts invalidating the MR itself,
 * so the command is still outstanding when the real response, which
 * invalidates, names it again.  The WRs live on the stack (a post copies
 * them): the slot's own send_wr never changes, and the slot is reused
 * only once the second SEND, which carries its send_cqe, has completed.
 */
static bool nvmet_rdma_fault_duplicate(struct nvmet_rdma_slot *slot)
{
	struct nvmet_rdma_queue *queue = slot->queue;
	struct nvmet_req *req = &slot->req;
	struct ib_send_wr first = slot->send_wr, second = slot->send_wr;
	struct ib_send_wr *head = &first;

	if (!nvmet_rdma_fault_credit(slot)) {
		atomic_inc(&nvmet_rdma_fault_skipped);
		return false;
	}
	first.opcode = IB_WR_SEND;
	first.wr_cqe = &nvmet_rdma_fault_first_cqe;
	first.send_flags &= ~IB_SEND_SIGNALED;
	first.next = &second;
	second.next = NULL;

	if (slot->rw_live && nvmet_data_dir(req) == DMA_TO_DEVICE &&
	    !req->cqe->status) {
		head = rdma_rw_ctx_wrs(&slot->rw, queue->qp, queue->port_num,
				       NULL, &first);
		atomic64_add(req->transfer_len, &queue->stats.bytes_out);
	}
	atomic_inc(&nvmet_rdma_fault_applied);
	nvmet_rdma_post_response(slot, head);
	return true;
}

/*
 * Fewer bytes than a completion queue entry, and no data: the host has
 * to fail the command whatever it was.
 */
static void nvmet_rdma_fault_short(struct nvmet_rdma_slot *slot)
{
	struct ib_sge sge = slot->send_sge;
	struct ib_send_wr wr = {
		.wr_cqe		= &slot->send_cqe,
		.sg_list	= &sge,
		.num_sge	= 1,
		.opcode		= IB_WR_SEND,
		.send_flags	= IB_SEND_SIGNALED,
	};

	sge.length = NVMET_RDMA_FAULT_SHORT_LEN;
	atomic_inc(&nvmet_rdma_fault_applied);
	nvmet_rdma_post_response(slot, &wr);
}

/*
 * Called by nvmet_rdma_queue_response() while the static branch is on.
 * Returns true when the response was dealt with here (sent spoilt, or
 * not at all), false when the normal path is to send it, spoilt or not.
 */
bool nvmet_rdma_fault_response(struct nvmet_rdma_slot *slot)
{
	struct nvmet_req *req = &slot->req;

	/*
	 * The admin queue and Fabrics commands (the I/O queues' Connect)
	 * are spared: the faults are meant for a live controller.
	 */
	if (!slot->queue->qid ||
	    req->cmd->common.opcode == nvme_fabrics_command)
		return false;

	switch (nvmet_rdma_fault_take(NVMET_RDMA_FAULT_AT_IO_RSP)) {
	case NVMET_RDMA_FAULT_BOGUS_CID:
		req->cqe->command_id |= NVMET_RDMA_FAULT_BOGUS_TAG;
		break;
	case NVMET_RDMA_FAULT_ERROR_STATUS:
		/* DNR: the host must not retry, its caller sees the error. */
		req->cqe->status =
			cpu_to_le16((NVME_SC_INTERNAL | NVME_STATUS_DNR) << 1);
		break;
	case NVMET_RDMA_FAULT_DUPLICATE:
		return nvmet_rdma_fault_duplicate(slot);
	case NVMET_RDMA_FAULT_SHORT:
		nvmet_rdma_fault_short(slot);
		return true;
	case NVMET_RDMA_FAULT_DROP:
		/*
		 * Nothing is posted, so nothing would finish the slot: it
		 * stays taken, its receive buffer and credits with it, as
		 * the host's command stays outstanding, until the queue is
		 * released.  The release work frees the command's data once
		 * the QP is drained (reclaim) and takes the buffer back.
		 */
		slot->reclaim = true;
		atomic_inc(&nvmet_rdma_fault_applied);
		return true;
	default:
		return false;
	}
	atomic_inc(&nvmet_rdma_fault_applied);
	return false;
}

/*
 * A completion the host never asked for, sent on a queue just
 * established.  It belongs to no slot, so it brings its own CQE buffer,
 * and takes one of the send queue credits that RDMA READ/WRITEs share
 * (every slot has its SEND reserved, the drain WR the last entry).
 */
struct nvmet_rdma_fault_send {
	struct nvme_completion	rsp;
	struct ib_cqe		cqe;
	struct nvmet_rdma_queue	*queue;
	dma_addr_t		dma;
};

static void nvmet_rdma_fault_send_free(struct nvmet_rdma_fault_send *fs)
{
	if (fs->dma)
		ib_dma_unmap_single(fs->queue->dev->ibdev, fs->dma,
				    sizeof(fs->rsp), DMA_TO_DEVICE);
	kfree(fs);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_FAULT_SEND, -1);
}

/*
 * Success or flush, this is the last the queue sees of the SEND: the
 * release work drains the QP before it frees the queue.
 */
static void nvmet_rdma_fault_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct nvmet_rdma_fault_send *fs =
		container_of(wc->wr_cqe, struct nvmet_rdma_fault_send, cqe);
	struct nvmet_rdma_queue *queue = fs->queue;

	if (unlikely(wc->status != IB_WC_SUCCESS))
		nvmet_rdma_wc_error(queue, wc, "early response SEND");
	nvmet_rdma_fault_send_free(fs);
	nvmet_rdma_put_credits(queue, 1);
}

/*
 * The early response for @mode, mapped: an I/O queue gets a success for
 * a command_id whose tag no queue has, the admin queue one for the AEN
 * command_id, as if an Asynchronous Event Request, which the host cannot
 * have sent yet, reported a namespace change.
 */
static struct nvmet_rdma_fault_send *
nvmet_rdma_fault_send_alloc(struct nvmet_rdma_queue *queue, int mode)
{
	struct ib_device *ibdev = queue->dev->ibdev;
	struct nvmet_rdma_fault_send *fs;

	fs = kzalloc(sizeof(*fs), GFP_KERNEL);
	if (!fs)
		return NULL;
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_FAULT_SEND, 1);
	fs->queue = queue;
	fs->cqe.done = nvmet_rdma_fault_send_done;
	fs->rsp.sq_id = cpu_to_le16(queue->qid);
	if (mode == NVMET_RDMA_FAULT_EARLY_AEN) {
		fs->rsp.command_id = NVME_AQ_BLK_MQ_DEPTH;
		fs->rsp.result.u32 = cpu_to_le32(NVME_AER_NOTICE |
						 NVME_AER_NOTICE_NS_CHANGED << 8);
	} else {
		/* Before or after the host's Connect, it names nothing. */
		fs->rsp.command_id = NVMET_RDMA_FAULT_BOGUS_TAG;
	}
	fs->dma = ib_dma_map_single(ibdev, &fs->rsp, sizeof(fs->rsp),
				    DMA_TO_DEVICE);
	if (ib_dma_mapping_error(ibdev, fs->dma)) {
		fs->dma = 0;
		nvmet_rdma_fault_send_free(fs);
		return NULL;
	}
	return fs;
}

/* A queue closed before it was established sends nothing. */
static bool nvmet_rdma_fault_early_credit(struct nvmet_rdma_queue *queue)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&queue->lock, flags);
	ok = queue->state == NVMET_RDMA_Q_CONNECTING && queue->rw_credits;
	if (ok)
		queue->rw_credits--;
	spin_unlock_irqrestore(&queue->lock, flags);
	return ok;
}

/*
 * Called from the ESTABLISHED handler while the static branch is on,
 * before the queue is marked live: the early response goes out ahead of
 * the answer to anything the host sent, its Connect included.
 */
void nvmet_rdma_fault_established(struct nvmet_rdma_queue *queue)
{
	struct nvmet_rdma_fault_send *fs;
	struct ib_sge sge;
	struct ib_send_wr wr = {
		.sg_list	= &sge,
		.num_sge	= 1,
		.opcode		= IB_WR_SEND,
		.send_flags	= IB_SEND_SIGNALED,
	};
	int mode, ret;
	u16 cid;

	mode = nvmet_rdma_fault_take(queue->qid ? NVMET_RDMA_FAULT_AT_IO_UP :
				     NVMET_RDMA_FAULT_AT_ADMIN_UP);
	if (mode == NVMET_RDMA_FAULT_NONE)
		return;

	fs = nvmet_rdma_fault_send_alloc(queue, mode);
	if (!fs)
		goto out_skip;
	if (!nvmet_rdma_fault_early_credit(queue))
		goto out_free_send;

	sge.addr = fs->dma;
	sge.length = sizeof(fs->rsp);
	sge.lkey = queue->dev->pd->local_dma_lkey;
	wr.wr_cqe = &fs->cqe;
	/* Once posted, fs is the completion's, and may be gone already. */
	cid = fs->rsp.command_id;
	ret = ib_post_send(queue->qp, &wr, NULL);
	if (ret) {
		pr_err_ratelimited("queue %d (qid %u): ib_post_send of an early response failed: %d, closing\n",
				   queue->idx, queue->qid, ret);
		nvmet_rdma_queue_close(queue);
		goto out_put_credit;
	}
	atomic_inc(&nvmet_rdma_fault_applied);
	pr_info("queue %d (qid %u): %s: command_id %#x sent ahead of any answer\n",
		queue->idx, queue->qid, nvmet_rdma_fault_names[mode], cid);
	return;

out_put_credit:
	nvmet_rdma_put_credits(queue, 1);
out_free_send:
	nvmet_rdma_fault_send_free(fs);
out_skip:
	atomic_inc(&nvmet_rdma_fault_skipped);
}

static int nvmet_rdma_fault_show(struct seq_file *m, void *unused)
{
	int v = atomic_read(&nvmet_rdma_fault_state);
	int mode = v >> NVMET_RDMA_FAULT_MODE_SHIFT;

	seq_printf(m, "mode %s\nleft %d\napplied %d\nskipped %d\n",
		   nvmet_rdma_fault_names[mode],
		   v & NVMET_RDMA_FAULT_LEFT_MASK,
		   atomic_read(&nvmet_rdma_fault_applied),
		   atomic_read(&nvmet_rdma_fault_skipped));
	return 0;
}

static int nvmet_rdma_fault_open(struct inode *inode, struct file *file)
{
	return single_open(file, nvmet_rdma_fault_show, NULL);
}

static ssize_t nvmet_rdma_fault_write(struct file *file,
				      const char __user *ubuf, size_t len,
				      loff_t *ppos)
{
	char buf[48], name[24], *s;
	unsigned int count = 0;
	int mode;

	if (len >= sizeof(buf)) {
		pr_err("fault: %zu-byte write refused: write \"MODE COUNT\" or \"off\" (%d)\n",
		       len, -EINVAL);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	s = strim(buf);

	if (!strcmp(s, "off")) {
		mode = NVMET_RDMA_FAULT_NONE;
	} else {
		if (sscanf(s, "%23s %u", name, &count) != 2) {
			pr_err("fault: \"%s\" refused: write \"MODE COUNT\" or \"off\" (%d)\n",
			       s, -EINVAL);
			return -EINVAL;
		}
		mode = match_string(nvmet_rdma_fault_names,
				    NVMET_RDMA_FAULT_NR, name);
		if (mode <= NVMET_RDMA_FAULT_NONE) {
			pr_err("fault: unknown mode \"%s\": bogus-cid, duplicate, error-status, short-response, drop, early-response or early-aen (%d)\n",
			       name, -EINVAL);
			return -EINVAL;
		}
		if (!count || count > NVMET_RDMA_FAULT_MAX_COUNT) {
			pr_err("fault: count %u refused: 1-%d (%d)\n", count,
			       NVMET_RDMA_FAULT_MAX_COUNT, -EINVAL);
			return -EINVAL;
		}
	}

	mutex_lock(&nvmet_rdma_fault_lock);
	atomic_set(&nvmet_rdma_fault_applied, 0);
	atomic_set(&nvmet_rdma_fault_skipped, 0);
	atomic_set(&nvmet_rdma_fault_state,
		   (mode << NVMET_RDMA_FAULT_MODE_SHIFT) | count);
	if (count)
		static_branch_enable(&nvmet_rdma_fault_key);
	else
		static_branch_disable(&nvmet_rdma_fault_key);
	mutex_unlock(&nvmet_rdma_fault_lock);
	if (count)
		pr_warn("fault: the next %u %s %s\n", count,
			nvmet_rdma_fault_what[nvmet_rdma_fault_where[mode]],
			nvmet_rdma_fault_names[mode]);
	return len;
}

static const struct file_operations nvmet_rdma_fault_fops = {
	.owner		= THIS_MODULE,
	.open		= nvmet_rdma_fault_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
	.write		= nvmet_rdma_fault_write,
};

void nvmet_rdma_fault_init(struct dentry *root)
{
	nvmet_rdma_fault_dbg = debugfs_create_file("fault", 0600, root, NULL,
						   &nvmet_rdma_fault_fops);
}

/* Module exit: no queue is left to take a fault or schedule the work. */
void nvmet_rdma_fault_exit(void)
{
	debugfs_remove(nvmet_rdma_fault_dbg);
	nvmet_rdma_fault_dbg = NULL;
	cancel_work_sync(&nvmet_rdma_fault_off);
	static_branch_disable(&nvmet_rdma_fault_key);
}

/*
 * Set-up steps fail_function may fail: their callers handle a failure
 * that skipped the whole step as they do one of its own.  All but
 * nvmet_rdma_queue_publish(), which is called from another file anyway,
 * are marked nvmet_rdma_injectable to stay out of line.
 */
ALLOW_ERROR_INJECTION(nvmet_rdma_listen, ERRNO);
ALLOW_ERROR_INJECTION(nvmet_rdma_srq_setup, ERRNO);
ALLOW_ERROR_INJECTION(nvmet_rdma_bufs_alloc, ERRNO);
ALLOW_ERROR_INJECTION(nvmet_rdma_ib_create, ERRNO);
ALLOW_ERROR_INJECTION(nvmet_rdma_queue_publish, ERRNO);
ALLOW_ERROR_INJECTION(nvmet_rdma_accept, ERRNO);
