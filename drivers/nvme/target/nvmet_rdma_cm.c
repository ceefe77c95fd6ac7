// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: rdma_cm events.
 *
 * Listener ids and queue ids share this handler (a new connection's id
 * inherits the listener's handler and context); the context's first
 * field says which of the two it is.
 */
#include "nvmet_rdma.h"

#include <rdma/ib_cm.h>

static void nvmet_rdma_reject(struct rdma_cm_id *cm_id,
			      struct nvmet_rdma_port *port, int sts)
{
	struct nvme_rdma_cm_rej rej = {
		.recfmt	= cpu_to_le16(NVME_RDMA_CM_FMT_1_0),
		.sts	= cpu_to_le16(sts),
	};

	atomic64_inc(&nvmet_rdma_gstats[NVMET_RDMA_GS_REJECTS]);
	/* Anyone may send connect requests, as fast as they like. */
	pr_warn_ratelimited("port %d: rejecting connection from %pISpc: %s\n",
			    le16_to_cpu(port->nport->disc_addr.portid),
			    &cm_id->route.addr.dst_addr, nvme_rdma_cm_msg(sts));
	rdma_reject(cm_id, &rej, sizeof(rej), IB_CM_REJ_CONSUMER_DEFINED);
}

/* An error-injection point (see nvmet_rdma_injectable). */
nvmet_rdma_injectable int nvmet_rdma_accept(struct rdma_cm_id *cm_id,
					    struct nvmet_rdma_queue *queue,
					    const struct rdma_conn_param *req)
{
	struct nvme_rdma_cm_rep rep = {
		.recfmt		= cpu_to_le16(NVME_RDMA_CM_FMT_1_0),
		.crqsize	= cpu_to_le16(queue->depth),
	};
	/*
	 * Our RDMA READs are bounded by what both ends can track.  The
	 * device limit is an int that may exceed what the u8 field holds:
	 * compare in int, narrow only the result (at most the host's u8).
	 */
	int rd_atom = max(queue->dev->ibdev->attrs.max_qp_init_rd_atom, 0);
	struct rdma_conn_param param = {
		.private_data		= &rep,
		.private_data_len	= sizeof(rep),
		.initiator_depth	= min_t(int, req->initiator_depth, rd_atom),
		.flow_control		= 1,
		/*
		 * The IB CM gives each side's QP the RNR retry count its peer
		 * sent: this one is the host's, for capsules that find none
		 * of our receives posted (slots still waiting for their SEND
		 * completion, an SRQ running low).  Retry those for ever
		 * rather than fail the connection.
		 */
		.rnr_retry_count	= 7,
	};

	return rdma_accept(cm_id, &param);
}

/*
 * Returning non-zero makes the rdma_cm destroy @cm_id, which is what a
 * refused connection needs; nothing of ours may refer to it by then.
 */
static int nvmet_rdma_connect_request(struct rdma_cm_id *cm_id,
				      struct rdma_cm_event *event,
				      struct nvmet_rdma_port *port)
{
	const struct rdma_conn_param *conn = &event->param.conn;
	struct nvmeof_rdma_cm_limits lim = {
		.max_qid	= NVMET_NR_QUEUES,
		.admin_depth	= NVMEOF_RDMA_ADMIN_DEPTH_MAX,
		.io_depth	= READ_ONCE(nvmet_rdma_max_queue_size),
	};
	struct nvmeof_rdma_cm_params params;
	struct nvmet_rdma_queue *queue;
	struct nvmet_rdma_dev *dev;
	int sts, ret;

	atomic64_inc(&nvmet_rdma_gstats[NVMET_RDMA_GS_CONNECTS]);
	sts = nvmeof_rdma_cm_req_check(conn->private_data,
				       conn->private_data_len, &lim, &params);
	if (sts) {
		nvmet_rdma_reject(cm_id, port, sts);
		return -ECONNREFUSED;
	}

	dev = nvmet_rdma_dev_get(cm_id->device);
	if (IS_ERR(dev)) {
		nvmet_rdma_reject(cm_id, port, NVME_RDMA_CM_NO_RSC);
		return PTR_ERR(dev);
	}

	queue = nvmet_rdma_queue_create(cm_id, dev, port->nport, &params,
					&sts);
	if (IS_ERR(queue)) {
		nvmet_rdma_dev_put(dev);
		nvmet_rdma_reject(cm_id, port, sts);
		return PTR_ERR(queue);
	}

	/*
	 * Publish before accepting: once accepted, a receive completion may
	 * close the queue and its release work must find it listed.  A
	 * device on its way out refuses the queue while it is still ours
	 * alone to undo.
	 */
	if (nvmet_rdma_queue_publish(queue)) {
		nvmet_rdma_queue_destroy(queue);
		nvmet_rdma_reject(cm_id, port, NVME_RDMA_CM_NO_RSC);
		return -ENODEV;
	}
	pr_debug("queue %d: qid %u, %u entries, from %pISpc\n", queue->idx,
		 queue->qid, queue->depth, &cm_id->route.addr.dst_addr);

	/*
	 * From here on the queue owns the id and destroys it in its release
	 * work, so this handler returns 0 whatever happens, and touches the
	 * queue no more once it has asked for the accept.
	 */
	cm_id->context = &queue->kind;
	ret = nvmet_rdma_accept(cm_id, queue, conn);
	if (ret) {
		pr_err("port %d: queue %d (qid %u): rdma_accept of %pISpc failed: %d\n",
		       le16_to_cpu(port->nport->disc_addr.portid), queue->idx,
		       queue->qid, &cm_id->route.addr.dst_addr, ret);
		nvmet_rdma_queue_close(queue);
	}
	return 0;
}

static int nvmet_rdma_listener_event(struct rdma_cm_id *cm_id,
				     struct rdma_cm_event *event,
				     struct nvmet_rdma_port *port)
{
	switch (event->event) {
	case RDMA_CM_EVENT_CONNECT_REQUEST:
		return nvmet_rdma_connect_request(cm_id, event, port);
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/* The id cannot be destroyed from its own handler. */
		pr_info("port %d: %s, listening again\n",
			le16_to_cpu(port->nport->disc_addr.portid),
			rdma_event_msg(event->event));
		nvmet_rdma_listener_lost(port);
		return 0;
	default:
		pr_debug("port %d: listener event %s (%d)\n",
			 le16_to_cpu(port->nport->disc_addr.portid),
			 rdma_event_msg(event->event), event->status);
		return 0;
	}
}

static void nvmet_rdma_queue_event(struct nvmet_rdma_queue *queue,
				   struct rdma_cm_event *event)
{
	struct rdma_cm_id *cm_id = queue->cm_id;

	switch (event->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		nvmet_rdma_queue_established(queue);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		pr_debug("queue %d: %s\n", queue->idx,
			 rdma_event_msg(event->event));
		nvmet_rdma_queue_close(queue);
		break;
	case RDMA_CM_EVENT_REJECTED:
		pr_warn("queue %d (qid %u, host %pISpc): host rejected our accept: %s\n",
			queue->idx, queue->qid, &cm_id->route.addr.dst_addr,
			rdma_reject_msg(cm_id, event->status));
		nvmet_rdma_queue_close(queue);
		break;
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		pr_warn("queue %d (qid %u, host %pISpc): %s (%d), closing\n",
			queue->idx, queue->qid, &cm_id->route.addr.dst_addr,
			rdma_event_msg(event->event), event->status);
		nvmet_rdma_queue_close(queue);
		break;
	default:
		pr_debug("queue %d: event %s (%d)\n", queue->idx,
			 rdma_event_msg(event->event), event->status);
		break;
	}
}

int nvmet_rdma_cm_handler(struct rdma_cm_id *cm_id,
			  struct rdma_cm_event *event)
{
	enum nvmet_rdma_ctx_kind *kind = cm_id->context;

	if (*kind == NVMET_RDMA_CTX_LISTENER)
		return nvmet_rdma_listener_event(cm_id, event,
				container_of(kind, struct nvmet_rdma_port, kind));

	/* Queue ids are destroyed by the release work, never by returning 1. */
	nvmet_rdma_queue_event(container_of(kind, struct nvmet_rdma_queue,
					    kind), event);
	return 0;
}
