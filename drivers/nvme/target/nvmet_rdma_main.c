// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: module entry points.
 */
#include "nvmet_rdma.h"

#include <linux/module.h>
#include <linux/moduleparam.h>

/*
 * 6.1 nvmet core checks every queue's Connect SQSIZE against MQES, the
 * admin queue's too, and hosts ask for NVME_AQ_DEPTH there: any smaller
 * maximum would refuse every controller.  nvmet core allows up to 1024.
 */
#define NVMET_RDMA_QUEUE_SIZE_MIN	NVME_AQ_DEPTH

unsigned int nvmet_rdma_max_queue_size = 256;

static int nvmet_rdma_set_queue_size(const char *val,
				     const struct kernel_param *kp)
{
	return nvmeof_rdma_param_set_range(val, kp, NVMET_RDMA_QUEUE_SIZE_MIN,
					   NVMET_QUEUE_SIZE);
}

static const struct kernel_param_ops nvmet_rdma_queue_size_ops = {
	.set	= nvmet_rdma_set_queue_size,
	.get	= param_get_uint,
};

module_param_cb(max_queue_size, &nvmet_rdma_queue_size_ops,
		&nvmet_rdma_max_queue_size, 0644);
MODULE_PARM_DESC(max_queue_size,
		 "largest I/O queue a host may create, 32-1024 (default 256); applies to new controllers and connections");

bool nvmet_rdma_use_srq;
module_param_named(use_srq, nvmet_rdma_use_srq, bool, 0444);
MODULE_PARM_DESC(use_srq,
		 "share receive buffers between the queues of an RDMA device (default off)");

#define NVMET_RDMA_SRQ_SIZE_MIN		256
#define NVMET_RDMA_SRQ_SIZE_MAX		65536

unsigned int nvmet_rdma_srq_size = 1024;

static int nvmet_rdma_set_srq_size(const char *val,
				   const struct kernel_param *kp)
{
	return nvmeof_rdma_param_set_range(val, kp, NVMET_RDMA_SRQ_SIZE_MIN,
					   NVMET_RDMA_SRQ_SIZE_MAX);
}

static const struct kernel_param_ops nvmet_rdma_srq_size_ops = {
	.set	= nvmet_rdma_set_srq_size,
	.get	= param_get_uint,
};

module_param_cb(srq_size, &nvmet_rdma_srq_size_ops, &nvmet_rdma_srq_size,
		0444);
MODULE_PARM_DESC(srq_size,
		 "receive buffers per shared receive queue, 256-65536 (default 1024)");

struct workqueue_struct *nvmet_rdma_wq;

static u8 nvmet_rdma_get_mdts(const struct nvmet_ctrl *ctrl)
{
	return NVMET_RDMA_MDTS;
}

static u16 nvmet_rdma_get_max_queue_size(const struct nvmet_ctrl *ctrl)
{
	return READ_ONCE(nvmet_rdma_max_queue_size);
}

const struct nvmet_fabrics_ops nvmet_rdma_ops = {
	.type			= NVMF_TRTYPE_RDMA,
	.owner			= THIS_MODULE,
	/*
	 * What the RDMA binding mandates: one keyed SGL data block per
	 * command.  NVMF_METADATA_SUPPORTED only makes nvmet core leave
	 * param_pi_enable to add_port, which refuses it naming the RDMA
	 * device (see nvmet_rdma_pi_refuse()).
	 */
	.flags			= NVMF_KEYED_SGLS | NVMF_METADATA_SUPPORTED,
	.msdbd			= 1,
	/* Limits nvmet core advertises: MDTS and CAP.MQES. */
	.get_max_queue_size	= nvmet_rdma_get_max_queue_size,
	.get_mdts		= nvmet_rdma_get_mdts,
	/* Ports and the address discovery reports for them. */
	.disc_traddr		= nvmet_rdma_disc_traddr,
	.remove_port		= nvmet_rdma_remove_port,
	.add_port		= nvmet_rdma_add_port,
	/* Controllers and the command path. */
	.delete_ctrl		= nvmet_rdma_delete_ctrl,
	.queue_response		= nvmet_rdma_queue_response,
};

static int __init nvmet_rdma_init(void)
{
	int ret;

	/*
	 * Starting early capsules, reporting slow teardowns, re-arming SRQ
	 * limits: the release work, on nvmet_wq (WQ_MEM_RECLAIM), cancels
	 * these synchronously, which it may only do on a reclaim-safe queue.
	 */
	nvmet_rdma_wq = alloc_workqueue("nvmet-rdma",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!nvmet_rdma_wq)
		return -ENOMEM;
	nvmet_rdma_stats_init();

	ret = nvmet_rdma_client_register();
	if (ret)
		goto out_stats;
	ret = nvmet_register_transport(&nvmet_rdma_ops);
	if (ret)
		goto out_client;
	return 0;

out_client:
	nvmet_rdma_client_unregister();
out_stats:
	nvmet_rdma_stats_exit();
	destroy_workqueue(nvmet_rdma_wq);
	return ret;
}

/*
 * Every port holds a module reference, so none is left here; queues may
 * be, and unregistering the ib_client closes them and waits until each
 * has dropped its device.  Their release works (on nvmet_wq, which is
 * not ours to destroy) still run the last lines of our code after that.
 */
static void __exit nvmet_rdma_exit(void)
{
	nvmet_unregister_transport(&nvmet_rdma_ops);
	nvmet_rdma_client_unregister();
	flush_workqueue(nvmet_wq);
	destroy_workqueue(nvmet_rdma_wq);
	nvmet_rdma_queues_exit();
	nvmet_rdma_stats_exit();
}

module_init(nvmet_rdma_init);
module_exit(nvmet_rdma_exit);

MODULE_DESCRIPTION("NVMe over Fabrics RDMA target transport");
MODULE_LICENSE("GPL");
MODULE_VERSION(NVMEOF_RDMA_VERSION);
/* nvmet core requests "nvmet-transport-<trtype>"; NVMF_TRTYPE_RDMA is 1. */
MODULE_ALIAS("nvmet-transport-1");
