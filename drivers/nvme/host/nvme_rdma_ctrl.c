// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: controller lifecycle.
 *
 * Creating a controller (what "nvme connect" writes to /dev/nvme-fabrics
 * ends in), the nvme_ctrl_ops that nvme-core drives it with, deleting
 * and freeing it, and the list of controllers that device removal and
 * module unload walk. Setting it up and tearing it down is
 * nvme_rdma_setup.c's.
 */
#include "nvme_rdma.h"

#include <linux/inet.h>

/* Every controller that completed its first setup; free_ctrl unlinks. */
static DEFINE_MUTEX(nvme_rdma_ctrl_mutex);
static LIST_HEAD(nvme_rdma_ctrl_list);

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
		nvme_rdma_queue_exit(&ctrl->queues[i]);
	kfree(ctrl->queues);
	kfree(ctrl);
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
	for (i = 0; i < ctrl->max_queues; i++)
		nvme_rdma_queue_init(&ctrl->queues[i], ctrl, i);

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
		nvme_rdma_queue_exit(&ctrl->queues[i]);
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
