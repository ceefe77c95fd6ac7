// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: module entry points.
 */
#include "nvmet_rdma.h"

#include <linux/module.h>

/*
 * nvmet core calls these without a NULL check once a controller or request
 * exists on one of our ports; add_port refuses every port, so neither can.
 */
static void nvmet_rdma_queue_response(struct nvmet_req *req)
{
	WARN_ON_ONCE(1);
}

static void nvmet_rdma_delete_ctrl(struct nvmet_ctrl *ctrl)
{
}

/*
 * msdbd and NVMF_KEYED_SGLS state what the RDMA binding itself mandates
 * (one keyed SGL data block per command); metadata/PI support is optional
 * and left out until the data path provides it.  The other callbacks are
 * optional to nvmet core.
 */
static const struct nvmet_fabrics_ops nvmet_rdma_ops = {
	.owner		= THIS_MODULE,
	.type		= NVMF_TRTYPE_RDMA,
	.msdbd		= 1,
	.flags		= NVMF_KEYED_SGLS,
	.add_port	= nvmet_rdma_add_port,
	.remove_port	= nvmet_rdma_remove_port,
	.queue_response	= nvmet_rdma_queue_response,
	.delete_ctrl	= nvmet_rdma_delete_ctrl,
};

static int __init nvmet_rdma_init(void)
{
	return nvmet_register_transport(&nvmet_rdma_ops);
}

static void __exit nvmet_rdma_exit(void)
{
	nvmet_unregister_transport(&nvmet_rdma_ops);
}

module_init(nvmet_rdma_init);
module_exit(nvmet_rdma_exit);

MODULE_DESCRIPTION("NVMe over Fabrics RDMA target transport (skeleton)");
MODULE_LICENSE("GPL");
MODULE_VERSION(NVMEOF_RDMA_VERSION);
/* nvmet core requests "nvmet-transport-<trtype>"; NVMF_TRTYPE_RDMA is 1. */
MODULE_ALIAS("nvmet-transport-1");
