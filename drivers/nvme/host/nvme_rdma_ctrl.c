// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: controller lifecycle.
 *
 * Bringing a controller up (new, or again after a reset or a lost
 * connection) is nvme_rdma_setup_ctrl(): admin queue, enable, identify, then as
 * many I/O queues as the controller grants. Tearing it down is the reverse
 * with every queue quiesced, stopped (bounded) and its requests cancelled
 * before anything is freed. Tag sets are created with the controller and
 * only removed when it is deleted, so requests can wait across a
 * reconnect.
 */
#include "nvme_rdma.h"
#include "nvme_rdma_calc.h"

#include <linux/inet.h>

static unsigned int nvme_rdma_req_size(struct nvme_rdma_ctrl *ctrl)
{
	return struct_size((struct nvme_rdma_request *)NULL, sgl, ctrl->max_pages);
}

static void nvme_rdma_free_ctrl(struct nvme_ctrl *nctrl)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(nctrl);
	u32 i;

	nvme_rdma_debugfs_ctrl_remove(ctrl);
	/* Only a controller that made it onto the list owns its options. */
	if (!list_empty(&ctrl->entry)) {
		mutex_lock(&nvme_rdma_ctrl_mutex);
		list_del(&ctrl->entry);
		mutex_unlock(&nvme_rdma_ctrl_mutex);
		nvmf_free_options(nctrl->opts);
	}
	for (i = 0; i < ctrl->max_queues; i++)
		mutex_destroy(&ctrl->queues[i].lock);
	kfree(ctrl->queues);
	kfree(ctrl);
}

static int nvme_rdma_configure_admin_queue(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	int ret;

	ret = nvme_rdma_queue_alloc(ctrl, 0, NVME_AQ_DEPTH);
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

	ret = nvme_rdma_queue_start(ctrl, 0);
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
		ret = nvme_rdma_queue_start(ctrl, i);
		if (ret)
			return ret;
	}
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
		ret = nvme_rdma_queue_alloc(ctrl, i, depth);
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
		nvme_start_freeze(nctrl);
		nvme_start_queues(nctrl);
		if (!nvme_wait_freeze_timeout(nctrl, NVME_IO_TIMEOUT)) {
			/* Something holds requests: do not resize under it. */
			dev_err(nctrl->device,
				"I/O queues did not freeze for a resize\n");
			nvme_unfreeze(nctrl);
			ret = -ENODEV;
			goto out_quiesce;
		}
		blk_mq_update_nr_hw_queues(nctrl->tagset,
					   nctrl->queue_count - 1);
		nvme_unfreeze(nctrl);
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
		dev_err(nctrl->device,
			"controller now allows queue depth %u, less than the %u in use\n",
			depth, in_use);
		/*
		 * nvme-core capped sqsize at this MQES; undo it, or every
		 * later attempt stays capped even once the controller
		 * allows the depth again.
		 */
		nctrl->sqsize = in_use - 1;
		return -EINVAL;
	}
	nctrl->sqsize = keep - 1;
	return 0;
}

/*
 * A queue that broke while connecting (see nvme_rdma_queue_error()) may have
 * been stopped by the timeout handler, or have ignored a protocol
 * violation; the controller must not go, or stay, LIVE on it.
 */
static bool nvme_rdma_queue_broke(struct nvme_rdma_ctrl *ctrl)
{
	u32 i;

	for (i = 0; i < ctrl->ctrl.queue_count; i++)
		if (test_bit(NVME_RDMA_Q_BROKEN, &ctrl->queues[i].flags))
			return true;
	return false;
}

int nvme_rdma_setup_ctrl(struct nvme_rdma_ctrl *ctrl, bool new)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	u32 capsule;
	int ret;

	ret = nvme_rdma_configure_admin_queue(ctrl, new);
	if (ret)
		goto out_unquiesce;

	if (nctrl->icdoff) {
		dev_err(nctrl->device,
			"controller wants in-capsule data at offset %u, not supported\n",
			nctrl->icdoff);
		ret = -EOPNOTSUPP;
		goto out_admin;
	}
	if (!nvme_ctrl_sgl_supported(nctrl)) {
		dev_err(nctrl->device, "controller does not support SGLs\n");
		ret = -EOPNOTSUPP;
		goto out_admin;
	}

	ret = nvme_rdma_negotiate_depth(ctrl, new);
	if (ret)
		goto out_admin;

	/* IOCCSZ counts 16-byte units and includes the 64-byte SQE. */
	capsule = nctrl->ioccsz * 16;
	ctrl->inline_bytes = capsule > sizeof(struct nvme_command) ?
			     capsule - sizeof(struct nvme_command) : 0;

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

static void nvme_rdma_delete_ctrl(struct nvme_ctrl *nctrl)
{
	nvme_rdma_teardown_ctrl(to_rdma_ctrl(nctrl), true);
}

/* Called by nvme_stop_ctrl(): nothing of ours may run past it. */
static void nvme_rdma_stop_ctrl(struct nvme_ctrl *nctrl)
{
	struct nvme_rdma_ctrl *ctrl = to_rdma_ctrl(nctrl);

	flush_work(&ctrl->err_work);
	cancel_delayed_work_sync(&ctrl->reconnect_work);
}

static const struct nvme_ctrl_ops nvme_rdma_ctrl_ops = {
	/* sysfs "transport" and nvme-cli show this name. */
	.name			= "rdma",
	.module			= THIS_MODULE,
	.flags			= NVME_F_FABRICS,
	/*
	 * Fabrics has no register BAR: registers are properties that
	 * Property Get/Set commands carry, which nvme-fabrics implements
	 * for every transport, as it does the sysfs address string.
	 */
	.get_address		= nvmf_get_address,
	.subsystem_reset	= nvmf_subsystem_reset,
	.reg_write32		= nvmf_reg_write32,
	.reg_read64		= nvmf_reg_read64,
	.reg_read32		= nvmf_reg_read32,
	/* The controller's lifecycle is ours. */
	.stop_ctrl		= nvme_rdma_stop_ctrl,
	.delete_ctrl		= nvme_rdma_delete_ctrl,
	.free_ctrl		= nvme_rdma_free_ctrl,
	.submit_async_event	= nvme_rdma_submit_async_event,
};

static bool nvme_rdma_ctrl_exists(struct nvmf_ctrl_options *opts)
{
	struct nvme_rdma_ctrl *ctrl;
	bool found = false;

	mutex_lock(&nvme_rdma_ctrl_mutex);
	list_for_each_entry(ctrl, &nvme_rdma_ctrl_list, entry) {
		if (nvmf_ip_options_match(&ctrl->ctrl, opts)) {
			found = true;
			break;
		}
	}
	mutex_unlock(&nvme_rdma_ctrl_mutex);
	return found;
}

/* Addresses, defaults and duplicate check: all before nvme_init_ctrl(). */
static int nvme_rdma_parse_addresses(struct nvme_rdma_ctrl *ctrl,
				     struct nvmf_ctrl_options *opts)
{
	int ret;

	if (!(opts->mask & NVMF_OPT_TRSVCID)) {
		opts->trsvcid = kstrdup(__stringify(NVME_RDMA_IP_PORT),
					GFP_KERNEL);
		if (!opts->trsvcid)
			return -ENOMEM;
		opts->mask |= NVMF_OPT_TRSVCID;
	}

	ret = inet_pton_with_scope(&init_net, AF_UNSPEC, opts->traddr,
				   opts->trsvcid, &ctrl->dst_addr);
	if (ret) {
		pr_err("traddr %s trsvcid %s is not an IP address and port\n",
		       opts->traddr, opts->trsvcid);
		return ret;
	}
	if (opts->mask & NVMF_OPT_HOST_TRADDR) {
		ret = inet_pton_with_scope(&init_net, AF_UNSPEC,
					   opts->host_traddr, NULL,
					   &ctrl->src_addr);
		if (ret) {
			pr_err("host_traddr %s is not an IP address\n",
			       opts->host_traddr);
			return ret;
		}
	}
	if (!opts->duplicate_connect && nvme_rdma_ctrl_exists(opts))
		return -EALREADY;
	return 0;
}

/*
 * The connect that "nvme connect" waits for. Only a controller that made
 * it goes on the list that device removal and unload walk; until then its
 * creator owns it alone.
 */
static int nvme_rdma_first_connect(struct nvme_rdma_ctrl *ctrl)
{
	struct nvme_ctrl *nctrl = &ctrl->ctrl;
	int ret;

	if (WARN_ON_ONCE(!nvme_change_ctrl_state(nctrl, NVME_CTRL_CONNECTING)))
		return -EINTR;
	ret = nvme_rdma_setup_ctrl(ctrl, true);
	if (ret)	/* an NVMe status is no errno for the options writer */
		return ret < 0 ? ret : -EIO;

	mutex_lock(&nvme_rdma_ctrl_mutex);
	list_add_tail(&ctrl->entry, &nvme_rdma_ctrl_list);
	mutex_unlock(&nvme_rdma_ctrl_mutex);
	/* Log parsers know nvme-core transports by this line's start. */
	dev_info(nctrl->device,
		 "new ctrl: NQN \"%s\", addr %pISpc, %u I/O queues of depth %u\n",
		 nvmf_ctrl_subsysnqn(nctrl), &ctrl->dst_addr,
		 nctrl->queue_count - 1, nctrl->sqsize + 1);
	return 0;
}

struct nvme_ctrl *nvme_rdma_create_ctrl(struct device *dev,
					struct nvmf_ctrl_options *opts)
{
	u32 cpus = num_online_cpus();
	struct nvme_rdma_ctrl *ctrl;
	u32 i;
	int ret;

	ctrl = kzalloc(sizeof(*ctrl), GFP_KERNEL);
	if (!ctrl)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&ctrl->entry);
	INIT_WORK(&ctrl->err_work, nvme_rdma_err_work);
	INIT_DELAYED_WORK(&ctrl->reconnect_work, nvme_rdma_reconnect_work);
	INIT_WORK(&ctrl->ctrl.reset_work, nvme_rdma_reset_work);
	ctrl->ctrl.opts = opts;
	ctrl->ctrl.kato = opts->kato;
	ctrl->ctrl.sqsize = opts->queue_size - 1;

	ret = nvme_rdma_parse_addresses(ctrl, opts);
	if (ret)
		goto out_free_ctrl;

	/* As many queues as the options could ever make us use. */
	ctrl->max_queues = 1 + min(opts->nr_io_queues, cpus) +
			   min(opts->nr_write_queues, cpus) +
			   min(opts->nr_poll_queues, cpus);
	ctrl->ctrl.queue_count = ctrl->max_queues;
	ctrl->queues = kcalloc(ctrl->max_queues, sizeof(*ctrl->queues),
			       GFP_KERNEL);
	if (!ctrl->queues) {
		ret = -ENOMEM;
		goto out_free_ctrl;
	}
	for (i = 0; i < ctrl->max_queues; i++) {
		struct nvme_rdma_queue *q = &ctrl->queues[i];

		q->ctrl = ctrl;
		q->qid = i;
		mutex_init(&q->lock);
		spin_lock_init(&q->poll_lock);
		init_completion(&q->cm_done);
		init_completion(&q->drain_sq_done);
		init_completion(&q->drain_rq_done);
	}

	ret = nvme_init_ctrl(&ctrl->ctrl, dev, &nvme_rdma_ctrl_ops, 0);
	if (ret)
		goto out_free_queues;

	/* From here on the last nvme_put_ctrl() frees through free_ctrl. */
	nvme_rdma_debugfs_ctrl_add(ctrl);
	ret = nvme_rdma_first_connect(ctrl);
	if (ret) {
		nvme_uninit_ctrl(&ctrl->ctrl);
		nvme_put_ctrl(&ctrl->ctrl);
		return ERR_PTR(ret);
	}
	return &ctrl->ctrl;

out_free_queues:
	for (i = 0; i < ctrl->max_queues; i++)
		mutex_destroy(&ctrl->queues[i].lock);
	kfree(ctrl->queues);
out_free_ctrl:
	kfree(ctrl);
	return ERR_PTR(ret);
}

/* Does any queue of @ctrl live on @ibdev? */
static bool nvme_rdma_ctrl_on_device(struct nvme_rdma_ctrl *ctrl, struct ib_device *ibdev)
{
	u32 i;

	for (i = 0; i < ctrl->max_queues; i++)
		if (READ_ONCE(ctrl->queues[i].ibdev) == ibdev)
			return true;
	return false;
}

/*
 * Delete every controller with a queue on @ibdev, or every controller at
 * all when @ibdev is NULL (module unload), and return once they are gone:
 * both callers are about to pull something the controllers stand on.
 */
void nvme_rdma_delete_ctrls_on(struct ib_device *ibdev)
{
	struct nvme_rdma_ctrl *ctrl;

	mutex_lock(&nvme_rdma_ctrl_mutex);
	list_for_each_entry(ctrl, &nvme_rdma_ctrl_list, entry) {
		if (ibdev) {
			if (!nvme_rdma_ctrl_on_device(ctrl, ibdev))
				continue;
			dev_info(ctrl->ctrl.device,
				 "RDMA device %s removed, deleting controller\n",
				 dev_name(&ibdev->dev));
		}
		nvme_delete_ctrl(&ctrl->ctrl);
	}
	mutex_unlock(&nvme_rdma_ctrl_mutex);
	flush_workqueue(nvme_delete_wq);
}
