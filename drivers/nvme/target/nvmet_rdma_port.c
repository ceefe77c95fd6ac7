// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: ports and RDMA devices.
 *
 * An enabled port owns one listening rdma_cm id.  When that id loses its
 * address or device, the port keeps retrying to listen until it can
 * again; a new RDMA device appearing makes it retry at once.
 */
#include "nvmet_rdma.h"

#include <linux/inet.h>
#include <linux/slab.h>

/* Ports for the ib_client to visit; lock order: this, then port->lock. */
static LIST_HEAD(nvmet_rdma_ports);
static DEFINE_MUTEX(nvmet_rdma_ports_lock);

static int nvmet_rdma_port_id(struct nvmet_rdma_port *port)
{
	return le16_to_cpu(port->nport->disc_addr.portid);
}

static void nvmet_rdma_unlisten(struct nvmet_rdma_port *port)
{
	lockdep_assert_held(&port->lock);
	if (!port->listener)
		return;
	rdma_destroy_id(port->listener);
	port->listener = NULL;
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_LISTENER, -1);
}

/*
 * On failure *@step names what failed, for the caller's one message; it
 * keeps the caller's value when the failure is injected (fail_function
 * skips the whole function; see nvmet_rdma_injectable).
 */
nvmet_rdma_injectable int nvmet_rdma_listen(struct nvmet_rdma_port *port,
					    const char **step)
{
	struct sockaddr *addr = (struct sockaddr *)&port->addr;
	struct rdma_cm_id *cm_id;
	int ret;

	lockdep_assert_held(&port->lock);
	cm_id = rdma_create_id(&init_net, nvmet_rdma_cm_handler, &port->kind,
			       RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(cm_id)) {
		*step = "rdma_create_id";
		return PTR_ERR(cm_id);
	}

	/* An IPv6 wildcard port must not take IPv4 connections as well. */
	*step = "rdma_set_afonly";
	ret = rdma_set_afonly(cm_id, 1);
	if (ret)
		goto out_destroy_id;
	*step = "rdma_bind_addr";
	ret = rdma_bind_addr(cm_id, addr);
	if (ret)
		goto out_destroy_id;
	*step = "rdma_listen";
	ret = rdma_listen(cm_id, NVMET_RDMA_BACKLOG);
	if (ret)
		goto out_destroy_id;

	port->listener = cm_id;
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_LISTENER, 1);
	return 0;

out_destroy_id:
	rdma_destroy_id(cm_id);
	return ret;
}

static void nvmet_rdma_relisten_work(struct work_struct *work)
{
	struct nvmet_rdma_port *port = container_of(to_delayed_work(work),
			struct nvmet_rdma_port, relisten_work);
	const char *step = "listen";
	int ret;

	mutex_lock(&port->lock);
	if (port->stopping)
		goto out_unlock;
	if (port->listener && !READ_ONCE(port->lost))
		goto out_unlock;
	WRITE_ONCE(port->lost, false);
	nvmet_rdma_unlisten(port);
	/* Retrying is the normal state while a device is away: say it once. */
	ret = nvmet_rdma_listen(port, &step);
	if (ret) {
		if (!port->warned)
			pr_warn("port %d: %s for %pISpc failed (%d), not listening, retrying every %d s\n",
				nvmet_rdma_port_id(port), step, &port->addr,
				ret, NVMET_RDMA_RELISTEN_DELAY / HZ);
		port->warned = true;
		schedule_delayed_work(&port->relisten_work,
				      NVMET_RDMA_RELISTEN_DELAY);
	} else {
		pr_info("port %d: listening on %pISpc again\n",
			nvmet_rdma_port_id(port), &port->addr);
		port->warned = false;
	}
out_unlock:
	mutex_unlock(&port->lock);
}

/*
 * From the listener's own event handler, which must not take port->lock:
 * whoever holds it may be destroying this very id, waiting for us.
 */
void nvmet_rdma_listener_lost(struct nvmet_rdma_port *port)
{
	WRITE_ONCE(port->lost, true);
	mod_delayed_work(system_wq, &port->relisten_work, 0);
}

static int nvmet_rdma_parse_addr(struct nvmet_rdma_port *port)
{
	struct nvmf_disc_rsp_page_entry *da = &port->nport->disc_addr;
	/* configfs may fill the fields to the last byte without a NUL. */
	char traddr[NVMF_TRADDR_SIZE + 1];
	char trsvcid[NVMF_TRSVCID_SIZE + 1];
	u16 af;
	int ret;

	switch (da->adrfam) {
	case NVMF_ADDR_FAMILY_IP4:
		af = AF_INET;
		break;
	case NVMF_ADDR_FAMILY_IP6:
		af = AF_INET6;
		break;
	default:
		pr_err("port %d: address family %u is not IPv4 or IPv6\n",
		       nvmet_rdma_port_id(port), da->adrfam);
		return -EINVAL;
	}

	memcpy(traddr, da->traddr, NVMF_TRADDR_SIZE);
	traddr[NVMF_TRADDR_SIZE] = '\0';
	memcpy(trsvcid, da->trsvcid, NVMF_TRSVCID_SIZE);
	trsvcid[NVMF_TRSVCID_SIZE] = '\0';
	ret = inet_pton_with_scope(&init_net, af, traddr, trsvcid, &port->addr);
	if (ret)
		pr_err("port %d: bad address %s:%s (%d)\n",
		       nvmet_rdma_port_id(port), traddr, trsvcid, ret);
	return ret;
}

/*
 * We advertise NVMF_METADATA_SUPPORTED only so that nvmet core hands
 * param_pi_enable to us instead of refusing it with a message that names
 * no device: this transport moves no protection information, so a port
 * asking for it is refused, saying which device it would have run on.
 * Running it without PI would leave configfs showing PI enabled while
 * hosts get namespaces without it.
 */
static int nvmet_rdma_pi_refuse(struct nvmet_rdma_port *port)
{
	struct ib_device *ibdev = port->listener->device;

	if (!ibdev)
		pr_err("port %d: T10-PI is not supported on %pISpc, which is no single RDMA device's address; refusing param_pi_enable\n",
		       nvmet_rdma_port_id(port), &port->addr);
	else if (!(ibdev->attrs.kernel_cap_flags & IBK_INTEGRITY_HANDOVER))
		pr_err("port %d: T10-PI is not supported on %s (no signature offload); refusing param_pi_enable\n",
		       nvmet_rdma_port_id(port), dev_name(&ibdev->dev));
	else
		pr_err("port %d: T10-PI is not supported on %s by this transport (not implemented); refusing param_pi_enable\n",
		       nvmet_rdma_port_id(port), dev_name(&ibdev->dev));
	return -EOPNOTSUPP;
}

/*
 * nvmet core reports this in IOCCSZ and cannot change it while the port
 * is enabled, so every queue of the port buffers the same.  Settled
 * before listening: a connection accepted by the listener reads it
 * straight away.
 */
static void nvmet_rdma_port_inline_size(struct nvmet_rdma_port *port)
{
	struct nvmet_port *nport = port->nport;

	if (nport->inline_data_size < 0) {
		nport->inline_data_size = NVMET_RDMA_INLINE_DEFAULT;
	} else if (nport->inline_data_size > NVMET_RDMA_INLINE_MAX) {
		pr_warn("port %d: param_inline_data_size %d is above the %d-byte maximum, using %d\n",
			nvmet_rdma_port_id(port), nport->inline_data_size,
			NVMET_RDMA_INLINE_MAX, NVMET_RDMA_INLINE_MAX);
		nport->inline_data_size = NVMET_RDMA_INLINE_MAX;
	}
}

/*
 * Listen, unless the port asks for what we cannot do.  Any failure
 * leaves nothing of the listener: a failed listen may have had an id
 * for a moment, as a refused one had a listener.
 */
static int nvmet_rdma_port_start(struct nvmet_rdma_port *port)
{
	const char *step = "listen";
	int ret;

	mutex_lock(&port->lock);
	ret = nvmet_rdma_listen(port, &step);
	if (ret) {
		pr_err("port %d: %s for %pISpc failed (%d), port not enabled\n",
		       nvmet_rdma_port_id(port), step, &port->addr, ret);
		goto out_unlisten;
	}
	if (port->nport->pi_enable) {
		ret = nvmet_rdma_pi_refuse(port);
		goto out_unlisten;
	}
	mutex_unlock(&port->lock);
	return 0;

out_unlisten:
	port->stopping = true;
	nvmet_rdma_unlisten(port);
	mutex_unlock(&port->lock);
	/*
	 * The listener may have lost its device or address while it
	 * existed, arming the relisten work on this port.
	 */
	cancel_delayed_work_sync(&port->relisten_work);
	/*
	 * A host may have connected in the moment the listener existed.  A
	 * port that failed to enable is never removed, so nothing else would
	 * close such a queue before the nvmet_port it points at is freed.
	 */
	nvmet_rdma_close_queues(port->nport, NULL, NULL);
	return ret;
}

int nvmet_rdma_add_port(struct nvmet_port *nport)
{
	int old_inline_size = nport->inline_data_size;
	struct nvmet_rdma_port *port;
	int ret;

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return -ENOMEM;
	port->kind = NVMET_RDMA_CTX_LISTENER;
	port->nport = nport;
	mutex_init(&port->lock);
	INIT_LIST_HEAD(&port->entry);
	INIT_DELAYED_WORK(&port->relisten_work, nvmet_rdma_relisten_work);

	ret = nvmet_rdma_parse_addr(port);
	if (ret)
		goto out_free_port;

	nvmet_rdma_port_inline_size(port);
	ret = nvmet_rdma_port_start(port);
	if (ret) {
		/* What configfs shows must be what the user set. */
		nport->inline_data_size = old_inline_size;
		goto out_free_port;
	}

	nport->priv = port;
	mutex_lock(&nvmet_rdma_ports_lock);
	list_add_tail(&port->entry, &nvmet_rdma_ports);
	mutex_unlock(&nvmet_rdma_ports_lock);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_PORT, 1);
	pr_info("port %d: listening on %pISpc, %d bytes in-capsule data\n",
		nvmet_rdma_port_id(port), &port->addr, nport->inline_data_size);
	return 0;

out_free_port:
	mutex_destroy(&port->lock);
	kfree(port);
	return ret;
}

void nvmet_rdma_remove_port(struct nvmet_port *nport)
{
	struct nvmet_rdma_port *port = nport->priv;

	mutex_lock(&nvmet_rdma_ports_lock);
	list_del_init(&port->entry);
	mutex_unlock(&nvmet_rdma_ports_lock);

	mutex_lock(&port->lock);
	port->stopping = true;
	nvmet_rdma_unlisten(port);
	mutex_unlock(&port->lock);
	/* No handler can rearm it now that the listener is gone. */
	cancel_delayed_work_sync(&port->relisten_work);

	/*
	 * nvmet core deletes the controllers; queues that have none yet
	 * must be closed here.  Waiting for them is not possible: the
	 * caller holds nvmet_config_sem, which a connect command on them
	 * may need.  Their release work runs on nvmet_wq, which nvmet
	 * core flushes before it frees the port.
	 */
	nvmet_rdma_close_queues(nport, NULL, NULL);

	nport->priv = NULL;
	mutex_destroy(&port->lock);
	kfree(port);
	nvmet_rdma_obj_add(NVMET_RDMA_OBJ_PORT, -1);
}

void nvmet_rdma_disc_traddr(struct nvmet_req *req, struct nvmet_port *nport,
			    char *traddr)
{
	struct nvmet_rdma_slot *slot =
		container_of(req, struct nvmet_rdma_slot, req);
	struct nvmet_rdma_port *port = nport->priv;

	/* A wildcard port is reached through the address the host used. */
	if (port && inet_addr_is_any((struct sockaddr *)&port->addr))
		sprintf(traddr, "%pISc",
			&slot->queue->cm_id->route.addr.src_addr);
	else
		memcpy(traddr, nport->disc_addr.traddr, NVMF_TRADDR_SIZE);
}

static struct ib_client nvmet_rdma_ib_client;

/*
 * Whether queues may be created on @ibdev: from our client's add until
 * its remove.  The per-device object cannot say so alone, as it only
 * exists while queues use it, and rdma_cm, removed after us, still
 * delivers connect requests to a wildcard port's listener on the device.
 * Called under nvmet_rdma_lock, which the remove takes to clear it.
 */
bool nvmet_rdma_dev_usable(struct ib_device *ibdev)
{
	lockdep_assert_held(&nvmet_rdma_lock);
	return ib_get_client_data(ibdev, &nvmet_rdma_ib_client);
}

static int nvmet_rdma_add_one(struct ib_device *ibdev)
{
	struct nvmet_rdma_port *port;

	/* Any non-NULL value marks it; the device is all there is to say. */
	mutex_lock(&nvmet_rdma_lock);
	ib_set_client_data(ibdev, &nvmet_rdma_ib_client, ibdev);
	mutex_unlock(&nvmet_rdma_lock);

	/* A port waiting for its address may find it on this device. */
	mutex_lock(&nvmet_rdma_ports_lock);
	list_for_each_entry(port, &nvmet_rdma_ports, entry)
		if (!READ_ONCE(port->listener))
			mod_delayed_work(system_wq, &port->relisten_work, 0);
	mutex_unlock(&nvmet_rdma_ports_lock);
	return 0;
}

static void nvmet_rdma_remove_one(struct ib_device *ibdev, void *client_data)
{
	struct nvmet_rdma_port *port;

	mutex_lock(&nvmet_rdma_lock);
	ib_set_client_data(ibdev, &nvmet_rdma_ib_client, NULL);
	mutex_unlock(&nvmet_rdma_lock);

	/*
	 * A listener bound to the device would hold it; drop it and try to
	 * listen again later, when the address may be on another device.
	 */
	mutex_lock(&nvmet_rdma_ports_lock);
	list_for_each_entry(port, &nvmet_rdma_ports, entry) {
		mutex_lock(&port->lock);
		if (port->listener && port->listener->device == ibdev) {
			pr_info("port %d: %s is going away, not listening on %pISpc\n",
				nvmet_rdma_port_id(port), dev_name(&ibdev->dev),
				&port->addr);
			nvmet_rdma_unlisten(port);
			if (!port->stopping)
				mod_delayed_work(system_wq,
						 &port->relisten_work,
						 NVMET_RDMA_RELISTEN_DELAY);
		}
		mutex_unlock(&port->lock);
	}
	mutex_unlock(&nvmet_rdma_ports_lock);

	nvmet_rdma_dev_drain(ibdev);
}

static struct ib_client nvmet_rdma_ib_client = {
	.name	= "nvmet_rdma",
	.add	= nvmet_rdma_add_one,
	.remove	= nvmet_rdma_remove_one,
};

int nvmet_rdma_client_register(void)
{
	return ib_register_client(&nvmet_rdma_ib_client);
}

void nvmet_rdma_client_unregister(void)
{
	ib_unregister_client(&nvmet_rdma_ib_client);
}
