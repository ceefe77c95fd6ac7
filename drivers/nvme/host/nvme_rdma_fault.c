// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: the set-up steps that
 * fail_function may fail (tests/debug-fault-inject-connect.sh), built only
 * by make FAULT_INJECTION=1.
 *
 * Each is an external function of another file, called across files only,
 * so none is inlined and no noinline is needed in the product. The kernel
 * keeps the entries only with CONFIG_FUNCTION_ERROR_INJECTION.
 */
#include "nvme_rdma_queue.h"

#include <linux/error-injection.h>

ALLOW_ERROR_INJECTION(nvme_rdma_queue_alloc, ERRNO);
ALLOW_ERROR_INJECTION(nvme_rdma_mrs_alloc, ERRNO);
ALLOW_ERROR_INJECTION(nvme_rdma_cm_resolve, ERRNO);
ALLOW_ERROR_INJECTION(nvme_rdma_cm_connect, ERRNO);
