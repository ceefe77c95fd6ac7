// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: reporting a queue that broke.
 *
 * Anything that finds a queue unusable (a failed work request, a bogus
 * response, a lost connection, a command timeout on a live controller)
 * ends here. A live controller recovers as a whole: nvme-core's state
 * machine lets only the first caller move LIVE -> RESETTING, so the
 * teardown (nvme_rdma_recovery.c) runs once however many completions
 * fail. A controller that is still connecting has nothing to recover
 * yet: the queue is marked BROKEN so that the setup does not go LIVE on
 * it.
 */
#include "nvme_rdma.h"

/*
 * Safe from any context, including the completion softirq. True when this
 * call started the recovery.
 */
bool nvme_rdma_error_recovery(struct nvme_rdma_ctrl *ctrl, const char *why)
{
	if (!nvme_change_ctrl_state(&ctrl->ctrl, NVME_CTRL_RESETTING))
		return false;
	/* ctrl_loss_tmo counts from here, not from the end of the teardown. */
	ctrl->lost_at = jiffies;
	atomic_long_inc(&ctrl->recoveries);
	dev_warn(ctrl->ctrl.device, "starting error recovery: %s\n", why);
	queue_work(nvme_reset_wq, &ctrl->err_work);
	return true;
}

/*
 * A queue is unusable, seen from a context that must not walk the tag
 * sets (a CM event handler, submission, the timeout handler): recover a
 * live controller, or keep a setup in progress from making it LIVE on the
 * queue, with the marking protocol of nvme_rdma_queue_error().  True when this
 * call started recovery, which then owns the queue's requests.
 */
bool nvme_rdma_queue_broken(struct nvme_rdma_queue *q, const char *why)
{
	struct nvme_rdma_ctrl *ctrl = q->ctrl;

	if (nvme_rdma_error_recovery(ctrl, why))
		return true;
	set_bit(NVME_RDMA_Q_BROKEN, &q->flags);
	/* Pairs with the barrier in nvme_rdma_setup_ctrl(). */
	smp_mb__after_atomic();
	return READ_ONCE(ctrl->ctrl.state) == NVME_CTRL_LIVE &&
	       nvme_rdma_error_recovery(ctrl, why);
}

static bool nvme_rdma_abort_queue_rq(struct request *rq, void *data)
{
	struct nvme_rdma_request *req = blk_mq_rq_to_pdu(rq);

	if (req->queue == data) {
		set_bit(NVME_RDMA_R_ABORTED, &req->flags);
		blk_abort_request(rq);
	}
	return true;
}

/*
 * A queue broke the protocol or lost its QP. A live controller recovers
 * as a whole. While (re)connecting there is nothing to recover yet: the
 * setup path is blocked on a command of this queue (Connect, a property
 * access, Identify) that can no longer complete properly. Rather than
 * leave it to the admin or I/O timeout, expire it now: the timeout
 * handler stops the queue and fails the command, so the attempt fails in
 * milliseconds. Called from the queue's completion handlers, and from
 * submission when the LOCAL_INV a response asked for fails to post; both
 * run only while the queue is active (its stop waits for them), so the
 * tag sets are still there. Walking them takes only the tags' spinlock
 * and aborting a request only schedules work.
 */
void nvme_rdma_queue_error(struct nvme_rdma_queue *q, const char *why)
{
	struct nvme_rdma_ctrl *ctrl = q->ctrl;
	bool first;

	if (nvme_rdma_error_recovery(ctrl, why))
		return;
	/*
	 * Mark the queue before looking at the state again (a value-returning
	 * atomic is a full barrier); nvme_rdma_setup_ctrl() makes the controller
	 * LIVE before it looks for marks. So a queue that breaks while the
	 * setup finishes is seen by one of us, and a LIVE controller is never
	 * left with a queue the timeout handler stopped.
	 */
	first = !test_and_set_bit(NVME_RDMA_Q_BROKEN, &q->flags);
	switch (READ_ONCE(ctrl->ctrl.state)) {
	case NVME_CTRL_CONNECTING:
		break;
	case NVME_CTRL_LIVE:
		nvme_rdma_error_recovery(ctrl, why);
		return;
	default:
		return;
	}
	/* Every receive still posted flushes with an error: say it once. */
	if (first)
		dev_warn(ctrl->ctrl.device,
			 "queue %u: %s while connecting, failing its commands\n",
			 q->qid, why);
	/* Not started: no command of it to fail, maybe no tag set to walk. */
	if (!test_bit_acquire(NVME_RDMA_Q_TAGGED, &q->flags))
		return;
	blk_mq_tagset_busy_iter(nvme_rdma_admin_queue(q) ? &ctrl->admin_set :
				&ctrl->io_set, nvme_rdma_abort_queue_rq, q);
}

/*
 * A queue that broke while connecting (see nvme_rdma_queue_error()) may have
 * been stopped by the timeout handler, or have ignored a protocol
 * violation; the controller must not go, or stay, LIVE on it.
 */
bool nvme_rdma_queue_broke(struct nvme_rdma_ctrl *ctrl)
{
	u32 i;

	for (i = 0; i < ctrl->ctrl.queue_count; i++)
		if (test_bit(NVME_RDMA_Q_BROKEN, &ctrl->queues[i].flags))
			return true;
	return false;
}
