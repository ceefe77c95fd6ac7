// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: controller setup and teardown.
 *
 * Bringing a controller up (new, or again after a reset or a lost
 * connection) is nvme_rdma_setup_ctrl(): admin queue, enable, identify, then as
 * many I/O queues as the controller grants. Tearing it down is the reverse
 * with every queue quiesced, stopped (bounded) and its requests cancelled
 * before anything is freed. Tag sets are created with the controller and
 * only removed when it is deleted, so requests can wait across a
 * reconnect.
 *
 * This layer drives the queues (nvme_rdma_queue.h) and is the one that
 * gives them their ops: responses go to the command path, a lost
 * connection to nvme_rdma_queue_broken().
 */
#include "nvme_rdma.h"
#include "nvme_rdma_calc.h"
#include "nvme_rdma_trace.h"

static unsigned int nvme_rdma_req_size(struct nvme_rdma_ctrl *ctrl)
{
	return struct_size((struct nvme_rdma_request *)NULL, sgl,
			   min_t(u32, ctrl->max_pages, NVME_RDMA_INLINE_SG_CNT));
}

/* The connection of an active queue is gone (rdma_cm said so). */
static void nvme_rdma_queue_lost(struct nvme_rdma_queue *q, const char *why)
{
	nvme_rdma_queue_broken(q, why);
}

static const struct nvme_rdma_queue_ops nvme_rdma_queue_ops = {
	.recv_done	= nvme_rdma_recv_done,
	.lost		= nvme_rdma_queue_lost,
};

static bool nvme_rdma_queue_is_polled(struct nvme_rdma_ctrl *ctrl, int qid)
{
	u32 first_poll = 1 + ctrl->io_queues[HCTX_TYPE_DEFAULT] +
			 ctrl->io_queues[HCTX_TYPE_READ];

	return qid && ctrl->io_queues[HCTX_TYPE_POLL] && qid >= first_poll;
}

/*
 * Create and connect queue @qid of @depth entries. The first queue of a
 * controller decides the pages per command for good: the tag sets are
 * sized for it, so every later queue must register as many.
 */
static int nvme_rdma_alloc_queue(struct nvme_rdma_ctrl *ctrl, int qid,
				 u16 depth)
{
	struct nvmf_ctrl_options *opts = ctrl->ctrl.opts;
	struct nvme_rdma_queue *q = &ctrl->queues[qid];
	struct nvme_rdma_queue_params p = {
		.dev		= ctrl->ctrl.device,
		.instance	= ctrl->ctrl.instance,
		.dst		= (struct sockaddr *)&ctrl->dst_addr,
		.tos		= opts->tos,
		.depth		= depth,
		/* The admin queue has a capsule slot more for the AEN. */
		.nr_slots	= qid ? depth : NVME_AQ_DEPTH,
		.polled		= nvme_rdma_queue_is_polled(ctrl, qid),
		.max_pages	= ctrl->max_pages,
		.ops		= &nvme_rdma_queue_ops,
	};
	int ret;

	if (opts->mask & NVMF_OPT_HOST_TRADDR)
		p.src = (struct sockaddr *)&ctrl->src_addr;
	ret = nvme_rdma_queue_alloc(q, &p);
	if (ret)
		return ret;
	if (!ctrl->max_pages)
		ctrl->max_pages = q->max_pages;
	return 0;
}

/* The NVMe-oF Connect on a connected queue, which makes it LIVE. */
static int nvme_rdma_start_queue(struct nvme_rdma_ctrl *ctrl, int qid)
{
	struct nvme_rdma_queue *q = &ctrl->queues[qid];
	int ret;

	/*
	 * The receives have been posted since the queue connected, before
	 * its tag set existed or covered it (first connect, added queues):
	 * only from here may a response be looked up in it. The barrier
	 * publishes the tag set to the completion handlers' acquire.
	 */
	smp_mb__before_atomic();
	set_bit(NVME_RDMA_Q_TAGGED, &q->flags);
	if (qid)
		ret = nvmf_connect_io_queue(&ctrl->ctrl, qid);
	else
		ret = nvmf_connect_admin_queue(&ctrl->ctrl);
	if (ret) {
		dev_err(ctrl->ctrl.device,
			"queue %d: NVMe-oF Connect failed: %d\n", qid, ret);
		nvme_rdma_queue_stop(q);
		return ret;
	}
	set_bit(NVME_RDMA_Q_LIVE, &q->flags);
	trace_nvme_rdma_queue_state(ctrl->ctrl.instance, qid, "live");
	return 0;
}

static int nvme_rdma_configure_admin_queue(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	int ret;

	ret = nvme_rdma_alloc_queue(ctrl, 0, NVME_AQ_DEPTH);
	if (ret)
		return ret;

	if (new) {
		/* The first device decides the transfer size for good. */
		nctrl->max_segments = ctrl->max_pages;
		nctrl->max_hw_sectors = ctrl->max_pages <<
				       (ilog2(SZ_4K) - SECTOR_SHIFT);
		nctrl->numa_node = ibdev_to_node(ctrl->queues[0].ibdev);
		ret = nvme_alloc_admin_tag_set(nctrl, &ctrl->admin_set,
					       &nvme_rdma_admin_mq_ops,
					       nvme_rdma_req_size(ctrl));
		if (ret)
			goto out_free_queue;
	}

	ret = nvme_rdma_start_queue(ctrl, 0);
	if (ret)
		goto out_remove_set;

	ret = nvme_enable_ctrl(nctrl);
	if (ret)
		goto out_stop_queue;
	nvme_start_admin_queue(nctrl);

	ret = nvme_init_ctrl_finish(nctrl);
	if (ret)
		goto out_quiesce;
	return 0;

out_quiesce:
	nvme_stop_admin_queue(nctrl);
	blk_sync_queue(nctrl->admin_q);
out_stop_queue:
	nvme_rdma_queue_stop(&ctrl->queues[0]);
	nvme_cancel_admin_tagset(nctrl);
out_remove_set:
	if (new)
		nvme_remove_admin_tag_set(nctrl);
out_free_queue:
	nvme_rdma_queue_free(&ctrl->queues[0]);
	return ret;
}

void nvme_rdma_teardown_admin_queue(struct nvme_rdma_ctrl *ctrl, bool remove)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;

	nvme_stop_admin_queue(nctrl);
	blk_sync_queue(nctrl->admin_q);
	nvme_rdma_queue_stop(&ctrl->queues[0]);
	nvme_cancel_admin_tagset(nctrl);
	if (remove) {
		nvme_start_admin_queue(nctrl);
		nvme_remove_admin_tag_set(nctrl);
	}
	nvme_rdma_queue_free(&ctrl->queues[0]);
}

/*
 * Ask for the queues the options call for (each kind capped at the CPU
 * count, as more cannot be used), then hand out what the controller
 * grants: default queues first, then read, then poll queues.
 */
static int nvme_rdma_negotiate_queues(struct nvme_rdma_ctrl *ctrl)
{
	struct nvmf_ctrl_options *opts = ctrl->ctrl.opts;
	u32 cpus = num_online_cpus();
	u32 want[HCTX_MAX_TYPES], left;
	int granted, ret, t;

	if (opts->nr_write_queues) {
		want[HCTX_TYPE_DEFAULT] = min(opts->nr_write_queues, cpus);
		want[HCTX_TYPE_READ] = min(opts->nr_io_queues, cpus);
	} else {
		want[HCTX_TYPE_DEFAULT] = min(opts->nr_io_queues, cpus);
		want[HCTX_TYPE_READ] = 0;
	}
	want[HCTX_TYPE_POLL] = min(opts->nr_poll_queues, cpus);
	granted = want[HCTX_TYPE_DEFAULT] + want[HCTX_TYPE_READ] +
		  want[HCTX_TYPE_POLL];
	granted = min_t(int, granted, ctrl->max_queues - 1);

	ret = nvme_set_queue_count(&ctrl->ctrl, &granted);
	if (ret)
		return ret;
	if (!granted) {
		dev_err(ctrl->ctrl.device,
			"controller grants no I/O queues\n");
		return -ENOMEM;
	}

	left = granted;
	for (t = 0; t < HCTX_MAX_TYPES; t++) {
		ctrl->io_queues[t] = min(want[t], left);
		left -= ctrl->io_queues[t];
	}
	ctrl->ctrl.queue_count = granted + 1;
	dev_info(ctrl->ctrl.device,
		 "%d I/O queues (%u default, %u read, %u poll) of depth %u\n",
		 granted, ctrl->io_queues[HCTX_TYPE_DEFAULT],
		 ctrl->io_queues[HCTX_TYPE_READ],
		 ctrl->io_queues[HCTX_TYPE_POLL], ctrl->ctrl.sqsize + 1);
	return 0;
}

static void nvme_rdma_stop_io_queues(struct nvme_rdma_ctrl *ctrl)
{
	u32 i;

	for (i = 1; i < ctrl->ctrl.queue_count; i++)
		nvme_rdma_queue_stop(&ctrl->queues[i]);
}

static void nvme_rdma_free_io_queues(struct nvme_rdma_ctrl *ctrl)
{
	u32 i;

	for (i = 1; i < ctrl->max_queues; i++)
		nvme_rdma_queue_free(&ctrl->queues[i]);
}

static int nvme_rdma_start_io_queues(struct nvme_rdma_ctrl *ctrl, u32 first, u32 end)
{
	u32 i;
	int ret;

	for (i = first; i < end; i++) {
		ret = nvme_rdma_start_queue(ctrl, i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A reconnect may be granted a different number of I/O queues: map the
 * tag set onto them with no request in flight.
 */
static int nvme_rdma_resize_io_queues(struct nvme_rdma_ctrl *ctrl)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;

	nvme_start_freeze(nctrl);
	nvme_start_queues(nctrl);
	if (!nvme_wait_freeze_timeout(nctrl, NVME_IO_TIMEOUT)) {
		/* Something holds requests: do not resize under it. */
		dev_err(nctrl->device,
			"I/O queues did not freeze for a resize\n");
		nvme_unfreeze(nctrl);
		return -ENODEV;
	}
	blk_mq_update_nr_hw_queues(nctrl->tagset, nctrl->queue_count - 1);
	nvme_unfreeze(nctrl);
	return 0;
}

static int nvme_rdma_configure_io_queues(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	u16 depth = nctrl->sqsize + 1;
	u32 i, nr_started;
	int ret;

	ret = nvme_rdma_negotiate_queues(ctrl);
	if (ret)
		return ret;

	for (i = 1; i < nctrl->queue_count; i++) {
		ret = nvme_rdma_alloc_queue(ctrl, i, depth);
		if (ret)
			goto out_free_queues;
	}

	if (new) {
		/*
		 * The number of maps is fixed for the tag set's life: decide
		 * it by what was asked, as a reconnect may grant poll queues
		 * this connect did not. Their hctxs need a map that gives
		 * them CPUs, or their Connect cannot even be allocated.
		 */
		ret = nvme_alloc_io_tag_set(nctrl, &ctrl->io_set,
					    &nvme_rdma_io_mq_ops,
					    nctrl->opts->nr_poll_queues ?
					    HCTX_MAX_TYPES : 2,
					    nvme_rdma_req_size(ctrl));
		if (ret)
			goto out_free_queues;
	}

	/* Queues the tag set does not map yet are started after resizing. */
	nr_started = min(nctrl->tagset->nr_hw_queues + 1, nctrl->queue_count);
	ret = nvme_rdma_start_io_queues(ctrl, 1, nr_started);
	if (ret)
		goto out_quiesce;

	if (!new) {
		ret = nvme_rdma_resize_io_queues(ctrl);
		if (ret)
			goto out_quiesce;
	}

	ret = nvme_rdma_start_io_queues(ctrl, nr_started,
					nctrl->tagset->nr_hw_queues + 1);
	if (ret)
		goto out_quiesce;
	return 0;

out_quiesce:
	nvme_stop_queues(nctrl);
	nvme_sync_io_queues(nctrl);
	nvme_rdma_stop_io_queues(ctrl);
	nvme_cancel_tagset(nctrl);
	if (new)
		nvme_remove_io_tag_set(nctrl);
out_free_queues:
	nvme_rdma_free_io_queues(ctrl);
	return ret;
}

void nvme_rdma_teardown_io_queues(struct nvme_rdma_ctrl *ctrl, bool remove)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;

	/* Never got as far as creating the I/O tag set. */
	if (!nctrl->tagset)
		return;
	nvme_stop_queues(nctrl);
	nvme_sync_io_queues(nctrl);
	nvme_rdma_stop_io_queues(ctrl);
	nvme_cancel_tagset(nctrl);
	if (remove) {
		nvme_start_queues(nctrl);
		nvme_remove_io_tag_set(nctrl);
	}
	nvme_rdma_free_io_queues(ctrl);
}

/*
 * The queue depth: what was asked for, as far as the controller (MQES,
 * applied by nvme-core, and MAXCMD) and this host allow. A reconnect may
 * not shrink it below the depth the I/O tag set was created with.
 */
static int nvme_rdma_negotiate_depth(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	u32 asked = nctrl->opts->queue_size;
	u32 offered = nctrl->sqsize + 1;
	u32 capped = min_t(u32, offered, NVME_RDMA_MAX_QUEUE_DEPTH);
	u32 in_use = !new && nctrl->tagset ? nctrl->tagset->queue_depth : 0;
	u32 depth, keep;

	depth = nvme_rdma_depth_limit(offered, NVME_RDMA_MAX_QUEUE_DEPTH,
				      nctrl->maxcmd);
	if (new && asked > offered)
		dev_warn(nctrl->device,
			 "queue_size %u > controller's maximum %u, using %u\n",
			 asked, offered, offered);
	if (new && capped < offered)
		dev_warn(nctrl->device,
			 "queue depth %u > this host's maximum %u, using %u\n",
			 offered, NVME_RDMA_MAX_QUEUE_DEPTH, NVME_RDMA_MAX_QUEUE_DEPTH);
	if (new && depth < capped)
		dev_warn(nctrl->device,
			 "queue depth %u > controller's MAXCMD %u, using %u\n",
			 capped, nctrl->maxcmd, nctrl->maxcmd);
	keep = nvme_rdma_depth_keep(depth, in_use);
	if (!keep) {
		/*
		 * The tag set cannot shrink, and the controller would refuse
		 * the commands beyond its depth: every further attempt ends
		 * here too, until someone changes the target. Say so once
		 * and let the controller go rather than retry until
		 * ctrl_loss_tmo.
		 */
		dev_err(nctrl->device,
			"controller now allows queue depth %u, less than the %u in use: removing it (connect again, with --queue-size=%u or less)\n",
			depth, in_use, depth);
		ctrl->hopeless = true;
		return -EINVAL;
	}
	nctrl->sqsize = keep - 1;
	return 0;
}

/*
 * What Identify Controller said, checked against what this transport can
 * do; sets the depth and the in-capsule data size the I/O queues use.
 */
static int nvme_rdma_check_identify(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	u32 capsule;
	int ret;

	if (nctrl->icdoff) {
		dev_err(nctrl->device,
			"controller wants in-capsule data at offset %u, not supported\n",
			nctrl->icdoff);
		return -EOPNOTSUPP;
	}
	if (!nvme_ctrl_sgl_supported(nctrl)) {
		dev_err(nctrl->device, "controller does not support SGLs\n");
		return -EOPNOTSUPP;
	}

	ret = nvme_rdma_negotiate_depth(ctrl, new);
	if (ret)
		return ret;

	/* IOCCSZ counts 16-byte units and includes the 64-byte SQE. */
	capsule = nctrl->ioccsz * 16;
	ctrl->inline_bytes = capsule > sizeof(struct nvme_command) ?
			     capsule - sizeof(struct nvme_command) : 0;
	return 0;
}

int nvme_rdma_setup_ctrl(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	int ret;

	ret = nvme_rdma_configure_admin_queue(ctrl, new);
	if (ret)
		goto out_unquiesce;

	ret = nvme_rdma_check_identify(ctrl, new);
	if (ret)
		goto out_admin;

	if (nctrl->queue_count > 1) {
		ret = nvme_rdma_configure_io_queues(ctrl, new);
		if (ret)
			goto out_admin;
	}

	if (nvme_rdma_queue_broke(ctrl)) {
		/* nvme_rdma_queue_error() said which queue and why. */
		ret = -EIO;
		goto out_io;
	}
	if (!nvme_change_ctrl_state(nctrl, NVME_CTRL_LIVE)) {
		/* Only a delete may have overtaken a setup in progress. */
		WARN_ON_ONCE(nctrl->state != NVME_CTRL_DELETING &&
			     nctrl->state != NVME_CTRL_DELETING_NOIO);
		ret = -EINVAL;
		goto out_io;
	}
	nvme_start_ctrl(nctrl);
	/* Pairs with nvme_rdma_queue_error(): a queue that broke just now. */
	smp_mb();
	if (nvme_rdma_queue_broke(ctrl))
		nvme_rdma_error_recovery(ctrl, "queue broke while connecting");
	return 0;

out_io:
	nvme_rdma_teardown_io_queues(ctrl, new);
out_admin:
	nvme_rdma_teardown_admin_queue(ctrl, new);
out_unquiesce:
	if (!new) {
		/*
		 * Until the next attempt, let queued requests see a queue
		 * that is not live: they requeue, or fail once
		 * fast_io_fail_tmo expired, instead of waiting quiesced.
		 */
		nvme_start_queues(nctrl);
		nvme_start_admin_queue(nctrl);
	}
	return ret;
}

void nvme_rdma_teardown_ctrl(struct nvme_rdma_ctrl *ctrl, bool shutdown)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;

	nvme_rdma_teardown_io_queues(ctrl, shutdown);
	nvme_stop_admin_queue(nctrl);
	if (shutdown)
		nvme_shutdown_ctrl(nctrl);
	else
		nvme_disable_ctrl(nctrl);
	nvme_rdma_teardown_admin_queue(ctrl, shutdown);
}
