// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: error recovery, reset and
 * reconnect work.
 *
 * nvme_rdma_error_recovery() (nvme_rdma_error.c) queues err_work once per
 * failure: it tears the queues down and leaves the controller CONNECTING.
 * nvme-core then fails requests fast once fast_io_fail_tmo expires, and
 * we try to reconnect every reconnect_delay seconds until ctrl_loss_tmo.
 */
#include "nvme_rdma.h"

#include <linux/random.h>

/*
 * Stop the controller after a failed (re)connect, or schedule the next
 * attempt. A connect that the controller refused with Do Not Retry will
 * be refused again: give up at once rather than wait out ctrl_loss_tmo.
 */
static void nvme_rdma_reconnect_or_remove(struct nvme_rdma_ctrl *ctrl, int error)
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
