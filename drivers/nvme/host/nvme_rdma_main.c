// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: module entry points, the
 * transport registration and the RDMA device removal hook.
 */
#include "nvme_rdma.h"

#include <linux/module.h>

/*
 * nvme-fabrics always accepts the transport-independent options (queue_size,
 * nr_io_queues, keep_alive_tmo, fast_io_fail_tmo, duplicate_connect, ...).
 * RDMA adds the same set as the 6.1 in-tree transport, so that connect
 * strings valid there are valid here; anything else nvme-fabrics refuses
 * with "unknown parameter or missing value".
 */
#define NVME_RDMA_OPTS (NVMF_OPT_TRSVCID |		/* default 4420 */	\
		  NVMF_OPT_HOST_TRADDR |	/* picks the device */	\
		  NVMF_OPT_TOS |		/* rdma_set_service_type */ \
		  NVMF_OPT_NR_WRITE_QUEUES |	/* a read queue map */	\
		  NVMF_OPT_NR_POLL_QUEUES |	/* a polled queue map */ \
		  NVMF_OPT_RECONNECT_DELAY |	/* recovery */		\
		  NVMF_OPT_CTRL_LOSS_TMO)

/* Not const: nvmf_register_transport() links it into its list. */
static struct nvmf_transport_ops nvme_rdma_transport = {
	.module		= THIS_MODULE,
	.name		= "rdma",
	.create_ctrl	= nvme_rdma_create_ctrl,
	.required_opts	= NVMF_OPT_TRADDR,
	.allowed_opts	= NVME_RDMA_OPTS,
};

/* Nothing to set up per device: queues open what they need themselves. */
static int nvme_rdma_add_one(struct ib_device *ibdev)
{
	return 0;
}

/*
 * The device goes away: its controllers must be gone before we return,
 * because rdma_cm (removed after us, as it registered before us) then
 * waits for every cm_id on the device to be destroyed.
 */
static void nvme_rdma_remove_one(struct ib_device *ibdev, void *client_data)
{
	nvme_rdma_delete_ctrls_on(ibdev);
}

static struct ib_client nvme_rdma_ib_client = {
	.name	= "nvme_rdma",
	.add	= nvme_rdma_add_one,
	.remove	= nvme_rdma_remove_one,
};

static int __init nvme_rdma_init_module(void)
{
	int ret;

	/*
	 * Device callbacks come first: a controller created the moment the
	 * transport is registered must already be found by device removal.
	 */
	nvme_rdma_debugfs_init();
	ret = ib_register_client(&nvme_rdma_ib_client);
	if (!ret) {
		ret = nvmf_register_transport(&nvme_rdma_transport);
		if (!ret)
			return 0;
		ib_unregister_client(&nvme_rdma_ib_client);
	}
	nvme_rdma_debugfs_exit();
	return ret;
}

static void __exit nvme_rdma_cleanup_module(void)
{
	/*
	 * First stop new controllers and device callbacks, then remove the
	 * controllers left, including those waiting to reconnect with no
	 * queue on any device.
	 */
	nvmf_unregister_transport(&nvme_rdma_transport);
	ib_unregister_client(&nvme_rdma_ib_client);
	nvme_rdma_delete_ctrls_on(NULL);
	nvme_rdma_debugfs_exit();
}

module_init(nvme_rdma_init_module);
module_exit(nvme_rdma_cleanup_module);

MODULE_DESCRIPTION("NVMe over Fabrics RDMA host transport");
MODULE_LICENSE("GPL");
MODULE_VERSION(NVMEOF_RDMA_VERSION);
