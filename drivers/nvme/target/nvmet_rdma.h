/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the NVMe over Fabrics RDMA target transport.
 *
 * Include this first in every file of the module: it sets pr_fmt, which
 * must precede the kernel's printk.h.
 */
#ifndef _NVMEOF_RDMA_TARGET_H
#define _NVMEOF_RDMA_TARGET_H

/* Messages carry the module's file name, which users load and grep for. */
#define pr_fmt(fmt) "nvmet-rdma: " fmt

#include "nvmet.h"
#include "nvmeof_rdma_common.h"

int nvmet_rdma_add_port(struct nvmet_port *nport);
void nvmet_rdma_remove_port(struct nvmet_port *nport);

#endif /* _NVMEOF_RDMA_TARGET_H */
