/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by the nvme-rdma host and nvmet-rdma target modules.
 */
#ifndef _NVMEOF_RDMA_COMMON_H
#define _NVMEOF_RDMA_COMMON_H

/*
 * Both modules carry the in-tree names so that they override the in-tree
 * ones from updates/; the version string, set by the build from the release
 * and the git revision, is what tells them apart in modinfo.
 */
#ifndef NVMEOF_RDMA_VERSION
#error "NVMEOF_RDMA_VERSION is unset: build through the top-level Makefile"
#endif

#endif /* _NVMEOF_RDMA_COMMON_H */
