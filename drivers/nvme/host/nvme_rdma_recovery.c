// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: error recovery, reset and
 * reconnect.
 *
 * Anything that finds a queue unusable (a failed work request, a bogus
 * response, a lost connection, a command timeout on a live controller)
 * calls nvme_rdma_error_recovery(). nvme-core's state machine lets only the
 * first caller move LIVE -> RESETTING, so the teardown runs once however
 * many completions fail. After it the controller is CONNECTING: nvme-core
 * then fails requests fast once fast_io_fail_tmo expires, and we try to
 * reconnect every reconnect_delay seconds until ctrl_loss_tmo.
 */
#include "nvme_rdma.h"

#include <linux/random.h>

/*
 * Safe from any context, including the completion softirq. True when this
 * call started the recovery.
 */
bool nvme_rdma_error_recovery(struct nvme_rdma_ctrl *ctrl, const char *why)
{
	if (!nvme_change_ctrl_state(&ctrl->ctrl, NVME_CTRL_RESETTING))
		return false;
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
 * milliseconds. Called from the queue's completion handlers, which run
 * only while the queue is active, so the tag sets are still there.
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
 * Stop the controller after a failed (re)connect, or schedule the next
 * attempt. A connect that the controller refused with Do Not Retry will
 * be refused again: give up at once rather than wait out ctrl_loss_tmo.
 */
void nvme_rdma_reconnect_or_remove(struct nvme_rdma_ctrl *ctrl, int error)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	int max = nctrl->opts->max_reconnects;
	unsigned long delay;

	/* Resetting or deleting got here first and owns the controller. */
	if (nctrl->state != NVME_CTRL_CONNECTING)
		return;

	if (error > 0 && (error & NVME_STATUS_DNR)) {
		dev_info(nctrl->device,
			 "controller refused the connect with status %#x (do not retry), removing it\n",
			 error);
		nvme_delete_ctrl(nctrl);
		return;
	}
	if (!nvmf_should_reconnect(nctrl)) {
		dev_info(nctrl->device,
			 "no reconnect after %d attempts (ctrl_loss_tmo), removing controller\n",
			 nctrl->nr_reconnects);
		nvme_delete_ctrl(nctrl);
		return;
	}

	/*
	 * A little jitter keeps the hosts that lost one target at the same
	 * moment from all coming back to it in the same instant.
	 */
	delay = nctrl->opts->reconnect_delay * HZ +
		get_random_u32_below(HZ / 4 + 1);
	if (max < 0)
		dev_info(nctrl->device,
			 "reconnect attempt %d/unlimited in %u ms\n",
			 nctrl->nr_reconnects + 1, jiffies_to_msecs(delay));
	else
		dev_info(nctrl->device, "reconnect attempt %d/%d in %u ms\n",
			 nctrl->nr_reconnects + 1, max,
			 jiffies_to_msecs(delay));
	queue_delayed_work(nvme_wq, &ctrl->reconnect_work, delay);
}

void nvme_rdma_reconnect_work(struct work_struct *work)
{
	struct nvme_rdma_ctrl *ctrl = container_of(to_delayed_work(work),
					     struct nvme_rdma_ctrl, reconnect_work);
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	int ret;

	++nctrl->nr_reconnects;
	ret = nvme_rdma_setup_ctrl(ctrl, false);
	if (ret) {
		dev_info(nctrl->device, "reconnect attempt %d failed: %d\n",
			 nctrl->nr_reconnects, ret);
		nvme_rdma_reconnect_or_remove(ctrl, ret);
		return;
	}
	dev_info(nctrl->device, "reconnected after %d attempt(s)\n",
		 nctrl->nr_reconnects);
	nctrl->nr_reconnects = 0;
}

void nvme_rdma_err_work(struct work_struct *work)
{
	struct nvme_rdma_ctrl *ctrl = container_of(work, struct nvme_rdma_ctrl, err_work);
	struct nvme_ctrl *nctrl = &ctrl->ctrl;

	/* No AEN may be submitted on a queue we are about to stop. */
	flush_work(&nctrl->async_event_work);
	nvme_rdma_teardown_io_queues(ctrl, false);
	/* Let queued I/O requeue or fail over instead of sitting quiesced. */
	nvme_start_queues(nctrl);
	nvme_rdma_teardown_admin_queue(ctrl, false);
	nvme_start_admin_queue(nctrl);
	/*
	 * Only now: in 6.1.y the keep-alive work waits for its command
	 * synchronously, and against a silent controller that command only
	 * ends when cancelled by the admin queue teardown above. Stopping
	 * keep-alive first would stall recovery for a whole KATO or more.
	 */
	nvme_stop_keep_alive(nctrl);
	nvme_auth_stop(nctrl);

	if (!nvme_change_ctrl_state(nctrl, NVME_CTRL_CONNECTING)) {
		/* Only a delete may overtake recovery. */
		WARN_ON_ONCE(nctrl->state != NVME_CTRL_DELETING &&
			     nctrl->state != NVME_CTRL_DELETING_NOIO);
		return;
	}
	nvme_rdma_reconnect_or_remove(ctrl, 0);
}

/* nvme reset: a clean disable and a fresh setup on new connections. */
void nvme_rdma_reset_work(struct work_struct *work)
{
	struct nvme_ctrl *nctrl = container_of(work, struct nvme_ctrl,
					       reset_work);
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(nctrl);
	int ret;

	nvme_stop_ctrl(nctrl);
	nvme_rdma_teardown_ctrl(ctrl, false);
	/*
	 * As after recovery: queued requests requeue or fail over while
	 * the setup runs, and a delete that overtook us can drain them.
	 */
	nvme_start_queues(nctrl);
	nvme_start_admin_queue(nctrl);

	if (!nvme_change_ctrl_state(nctrl, NVME_CTRL_CONNECTING)) {
		WARN_ON_ONCE(nctrl->state != NVME_CTRL_DELETING &&
			     nctrl->state != NVME_CTRL_DELETING_NOIO);
		return;
	}
	ret = nvme_rdma_setup_ctrl(ctrl, false);
	if (ret) {
		dev_warn(nctrl->device, "setup after reset failed: %d\n", ret);
		++nctrl->nr_reconnects;
		nvme_rdma_reconnect_or_remove(ctrl, ret);
	}
}
