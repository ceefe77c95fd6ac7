// SPDX-License-Identifier: GPL-2.0
/* Instantiates the tracepoints declared in nvme_rdma_trace.h. */
#include <linux/types.h>

#define CREATE_TRACE_POINTS
#include "nvme_rdma_trace.h"
