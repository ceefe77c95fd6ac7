// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: error recovery, reset and
 * reconnect work.
 *
 * nvme_rdma_error_recovery() (nvme_rdma_error.c) queues err_work once per
 * failure: it tears the queues down and leaves the controller CONNECTING.
 * nvme-core then fails requests fast once fast_io_fail_tmo expires, and
 * we try to reconnect after reconnect_delay seconds, doubling the delay
 * after every failed attempt up to reconnect_backoff_max times it, until
 * ctrl_loss_tmo has passed since the association was lost.
 */
#include "nvme_rdma.h"
#include "nvme_rdma_calc.h"
#include "nvmeof_rdma_common.h"

#include <linux/random.h>

#define NVME_RDMA_BACKOFF_MAX_LIMIT	64

static int nvme_rdma_set_backoff_max(const char *val,
				     const struct kernel_param *kp)
{
	return nvmeof_rdma_param_set_range(val, kp, 1,
					   NVME_RDMA_BACKOFF_MAX_LIMIT);
}

static const struct kernel_param_ops nvme_rdma_backoff_max_ops = {
	.set	= nvme_rdma_set_backoff_max,
	.get	= param_get_uint,
};

static unsigned int nvme_rdma_backoff_max = 4;
module_param_cb(reconnect_backoff_max, &nvme_rdma_backoff_max_ops,
		&nvme_rdma_backoff_max, 0644);
MODULE_PARM_DESC(reconnect_backoff_max,
		 "the reconnect delay doubles after each failed attempt up to this many times reconnect_delay, 1-64 (default 4; 1: a fixed delay)");

/* Longest wait before one attempt, whatever reconnect_delay says. */
#define NVME_RDMA_BACKOFF_CEILING_S	(24 * 3600)

/*
 * Stop the controller after a failed (re)connect, or schedule the next
 * attempt. A connect that the controller refused with Do Not Retry, or a
 * setup that found the controller can no longer serve the tag sets, will
 * fail again: give up at once rather than wait out ctrl_loss_tmo.
 */
static void nvme_rdma_reconnect_or_remove(struct nvme_rdma_ctrl *ctrl, int error)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	struct nvmf_ctrl_options *opts = nctrl->opts;
	u32 base = opts->reconnect_delay, cap = READ_ONCE(nvme_rdma_backoff_max);
	u32 attempt = nctrl->nr_reconnects + 1;
	u64 total = (u64)opts->max_reconnects * base;
	unsigned long delay, deadline, now;

	/* Resetting or deleting got here first and owns the controller. */
	if (nctrl->state != NVME_CTRL_CONNECTING)
		return;

	if (ctrl->hopeless) {
		nvme_delete_ctrl(nctrl);
		return;
	}
	if (error > 0 && (error & NVME_STATUS_DNR)) {
		dev_info(nctrl->device,
			 "controller refused the connect with status %#x (do not retry), removing it\n",
			 error);
		nvme_delete_ctrl(nctrl);
		return;
	}
	/*
	 * Jitter of up to a quarter of the delay keeps the hosts that lost
	 * one target at the same moment from coming back in one instant.
	 */
	delay = min_t(u64, nvme_rdma_backoff_delay(base, attempt, cap),
		      NVME_RDMA_BACKOFF_CEILING_S) * HZ;
	delay += get_random_u32_below(delay / 4 + 1);
	if (opts->max_reconnects < 0) {
		dev_info(nctrl->device,
			 "reconnect attempt %u/unlimited in %u ms\n",
			 attempt, jiffies_to_msecs(delay));
		queue_delayed_work(nvme_wq, &ctrl->reconnect_work, delay);
		return;
	}
	/*
	 * ctrl_loss_tmo (as nvme-fabrics keeps it: max_reconnects whole
	 * reconnect_delays) is time since the loss, whatever the delays:
	 * the last attempt is brought forward to the deadline, none is made
	 * after it.
	 */
	deadline = ctrl->lost_at +
		   (total < MAX_JIFFY_OFFSET / HZ ? total * HZ : MAX_JIFFY_OFFSET);
	now = jiffies;
	if (!time_before(now, deadline)) {
		dev_info(nctrl->device,
			 "no reconnect after %d attempts in %u ms (ctrl_loss_tmo), removing controller\n",
			 nctrl->nr_reconnects, jiffies_to_msecs(now - ctrl->lost_at));
		nvme_delete_ctrl(nctrl);
		return;
	}
	delay = min(delay, deadline - now);
	dev_info(nctrl->device, "reconnect attempt %u/%u in %u ms\n", attempt,
		 nvme_rdma_backoff_attempts(base, cap, total),
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
	/* A reset loses the association on purpose: ctrl_loss_tmo starts. */
	ctrl->lost_at = jiffies;
	ret = nvme_rdma_setup_ctrl(ctrl, false);
	if (ret) {
		dev_warn(nctrl->device, "setup after reset failed: %d\n", ret);
		++nctrl->nr_reconnects;
		nvme_rdma_reconnect_or_remove(ctrl, ret);
	}
}
