/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the NVMe over Fabrics RDMA host transport.
 *
 * Include this first in every file of the module: it sets pr_fmt, which
 * must precede the kernel's printk.h.
 */
#ifndef _NVMEOF_RDMA_HOST_H
#define _NVMEOF_RDMA_HOST_H

/* Messages carry the module's file name, which users load and grep for. */
#define pr_fmt(fmt) "nvme-rdma: " fmt

#include "nvme.h"
#include "fabrics.h"
#include "nvmeof_rdma_common.h"

struct nvme_ctrl *nvme_rdma_create_ctrl(struct device *dev,
					struct nvmf_ctrl_options *opts);

#endif /* _NVMEOF_RDMA_HOST_H */
