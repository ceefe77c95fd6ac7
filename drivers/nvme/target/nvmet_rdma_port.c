// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: port lifecycle.
 */
#include "nvmet_rdma.h"

int nvmet_rdma_add_port(struct nvmet_port *nport)
{
	struct nvmf_disc_rsp_page_entry *addr = &nport->disc_addr;

	/*
	 * Failing here fails the configfs link of a subsystem into the port,
	 * so no controller, queue or request can ever reach this transport.
	 * configfs may fill the fixed-size address fields to the last byte,
	 * leaving no terminating NUL, hence the bounded prints.
	 */
	pr_err("port %d (%.*s:%.*s): " NVMEOF_RDMA_NO_DATA_PATH "\n",
	       le16_to_cpu(addr->portid),
	       (int)sizeof(addr->traddr), addr->traddr,
	       (int)sizeof(addr->trsvcid), addr->trsvcid);
	return -EOPNOTSUPP;
}

void nvmet_rdma_remove_port(struct nvmet_port *nport)
{
	/* add_port never succeeds, so no port holds state to release. */
}
