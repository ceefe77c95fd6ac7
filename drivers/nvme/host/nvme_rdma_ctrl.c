// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: controller lifecycle.
 */
#include "nvme_rdma.h"

struct nvme_ctrl *nvme_rdma_create_ctrl(struct device *dev,
					struct nvmf_ctrl_options *opts)
{
	/*
	 * Refuse at once: the writer of /dev/nvme-fabrics (nvme connect)
	 * blocks until we return, and nvme-fabrics frees opts on error.
	 */
	pr_err("%s: " NVMEOF_RDMA_NO_DATA_PATH "; refusing connect\n",
	       opts->traddr);
	return ERR_PTR(-EOPNOTSUPP);
}
