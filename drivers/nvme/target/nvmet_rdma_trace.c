// SPDX-License-Identifier: GPL-2.0
/* Instantiates the tracepoints declared in nvmet_rdma_trace.h. */
#include "nvmet_rdma.h"

#define CREATE_TRACE_POINTS
#include "nvmet_rdma_trace.h"
