// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: module entry points.
 */
#include "nvme_rdma.h"

#include <linux/module.h>

/*
 * nvme-fabrics always accepts the transport-independent options (queue_size,
 * nr_io_queues, keep_alive_tmo, fast_io_fail_tmo, duplicate_connect, ...);
 * these are the ones RDMA adds on top, as in the 6.1 in-tree transport, so
 * that connect strings valid there are valid here.
 *
 * Not const: nvmf_register_transport() links it into its list.
 */
static struct nvmf_transport_ops nvme_rdma_transport = {
	.name		= "rdma",
	.module		= THIS_MODULE,
	.required_opts	= NVMF_OPT_TRADDR,
	.allowed_opts	= NVMF_OPT_TRSVCID | NVMF_OPT_RECONNECT_DELAY |
			  NVMF_OPT_HOST_TRADDR | NVMF_OPT_CTRL_LOSS_TMO |
			  NVMF_OPT_NR_WRITE_QUEUES | NVMF_OPT_NR_POLL_QUEUES |
			  NVMF_OPT_TOS,
	.create_ctrl	= nvme_rdma_create_ctrl,
};

static int __init nvme_rdma_init_module(void)
{
	return nvmf_register_transport(&nvme_rdma_transport);
}

static void __exit nvme_rdma_cleanup_module(void)
{
	nvmf_unregister_transport(&nvme_rdma_transport);
}

module_init(nvme_rdma_init_module);
module_exit(nvme_rdma_cleanup_module);

MODULE_DESCRIPTION("NVMe over Fabrics RDMA host transport (skeleton)");
MODULE_LICENSE("GPL");
MODULE_VERSION(NVMEOF_RDMA_VERSION);
