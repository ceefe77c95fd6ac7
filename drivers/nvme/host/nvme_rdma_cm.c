// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: rdma_cm events.
 *
 * The thread that connects a queue walks it through address resolution,
 * route resolution and the connection handshake itself, one step at a
 * time, and waits for each with a deadline. The event handler therefore
 * only records how the current step ended and wakes that thread; it never
 * allocates resources or issues the next step, so there is no state shared
 * between the two beyond one status word. Once a queue is connected, the
 * events that mean the connection is gone are reported to the queue's
 * owner through ops->lost.
 */
#include "nvme_rdma_queue.h"

static void nvme_rdma_cm_step_done(struct nvme_rdma_queue *q, int status)
{
	q->cm_status = status;
	complete(&q->cm_done);
}

/*
 * An NVMe/RDMA controller rejects with a status in the private data; a CM
 * or transport level reject carries none. Say which, in words.
 */
static int nvme_rdma_cm_rejected(struct nvme_rdma_queue *q, struct rdma_cm_event *ev)
{
	struct rdma_cm_id *cm_id = q->cm_id;
	const void *data;
	u8 len = 0;
	u16 sts;

	data = rdma_consumer_reject_data(cm_id, ev, &len);
	sts = nvmeof_rdma_cm_rej_status(data, len);
	dev_err(q->dev,
		"queue %u: connect rejected by %pISpc: %s (CM reason %d), NVMe/RDMA status %u: %s\n",
		q->qid, q->dst, rdma_reject_msg(cm_id, ev->status),
		ev->status, sts, nvmeof_rdma_cm_status_str(sts));
	return -ECONNREFUSED;
}

/* The connection of an active queue went away: the owner must recover. */
static void nvme_rdma_cm_lost(struct nvme_rdma_queue *q, struct rdma_cm_event *ev)
{
	/* Our own rdma_disconnect() in nvme_rdma_queue_stop() ends here, too. */
	if (!test_bit(NVME_RDMA_Q_ACTIVE, &q->flags))
		return;
	dev_info(q->dev, "queue %u: %s\n", q->qid,
		 rdma_event_msg(ev->event));
	/*
	 * While connecting, the commands may well go on completing (a
	 * device being removed works until it is gone): only the mark
	 * keeps the setup from going LIVE on a connection that is lost.
	 */
	q->ops->lost(q, rdma_event_msg(ev->event));
}

int nvme_rdma_cm_handler(struct rdma_cm_id *cm_id, struct rdma_cm_event *ev)
{
	struct nvme_rdma_queue *q = cm_id->context;

	dev_dbg(q->dev, "queue %u: %s (status %d)\n", q->qid,
		rdma_event_msg(ev->event), ev->status);

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
	case RDMA_CM_EVENT_ESTABLISHED:
		nvme_rdma_cm_step_done(q, 0);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		dev_err(q->dev, "queue %u: %s to %pISpc: %d\n",
			q->qid, rdma_event_msg(ev->event), q->dst,
			ev->status);
		nvme_rdma_cm_step_done(q, ev->status < 0 ? ev->status :
				 -EHOSTUNREACH);
		break;
	case RDMA_CM_EVENT_REJECTED:
		nvme_rdma_cm_step_done(q, nvme_rdma_cm_rejected(q, ev));
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		nvme_rdma_cm_step_done(q, -ECONNRESET);
		nvme_rdma_cm_lost(q, ev);
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/*
		 * Never return non-zero to have rdma_cm destroy the id: the
		 * queue owns it. Our ib_client deletes the controllers on the
		 * device; a queue caught mid-connect fails its step here.
		 */
		nvme_rdma_cm_step_done(q, -ENODEV);
		nvme_rdma_cm_lost(q, ev);
		break;
	default:
		dev_dbg(q->dev, "queue %u: ignoring %s\n",
			q->qid, rdma_event_msg(ev->event));
		break;
	}
	return 0;
}

/* Wait for the event that ends the step just started. */
static int nvme_rdma_cm_wait(struct nvme_rdma_queue *q, unsigned int ms, const char *step)
{
	if (!wait_for_completion_timeout(&q->cm_done, msecs_to_jiffies(ms))) {
		dev_err(q->dev,
			"queue %u: %s with %pISpc timed out after %u ms\n",
			q->qid, step, q->dst, ms);
		return -ETIMEDOUT;
	}
	return q->cm_status;
}

/* Resolve the queue's address and route, from @src if given. */
int nvme_rdma_cm_resolve(struct nvme_rdma_queue *q, struct sockaddr *src)
{
	int ret;

	reinit_completion(&q->cm_done);
	ret = rdma_resolve_addr(q->cm_id, src, q->dst,
				NVME_RDMA_RESOLVE_TIMEOUT_MS);
	if (ret) {
		dev_err(q->dev,
			"queue %u: cannot resolve %pISpc: %d\n", q->qid,
			q->dst, ret);
		return ret;
	}
	ret = nvme_rdma_cm_wait(q, NVME_RDMA_RESOLVE_TIMEOUT_MS + NVME_RDMA_CM_SLACK_MS,
				"address resolution");
	if (ret)
		return ret;

	reinit_completion(&q->cm_done);
	ret = rdma_resolve_route(q->cm_id, NVME_RDMA_RESOLVE_TIMEOUT_MS);
	if (ret) {
		dev_err(q->dev,
			"queue %u: cannot resolve a route to %pISpc: %d\n",
			q->qid, q->dst, ret);
		return ret;
	}
	return nvme_rdma_cm_wait(q, NVME_RDMA_RESOLVE_TIMEOUT_MS + NVME_RDMA_CM_SLACK_MS,
			   "route resolution");
}

int nvme_rdma_cm_connect(struct nvme_rdma_queue *q)
{
	struct nvmeof_rdma_cm_params p = {
		.qid		= q->qid,
		.sq_depth	= q->depth,
		.rq_depth	= q->depth,
	};
	struct nvme_rdma_cm_req priv;
	struct rdma_conn_param param = {
		.private_data		= &priv,
		.private_data_len	= sizeof(priv),
		.qp_num			= q->qp->qp_num,
		.flow_control		= 1,
		/* The controller reads write data from us: be its responder. */
		.responder_resources	= q->ibdev->attrs.max_qp_rd_atom,
		/*
		 * A receive is reposted before its response is handled, so
		 * a well-behaved controller never meets an RNR NAK from us;
		 * should one, it retries for ever rather than fail the
		 * connection.
		 */
		.retry_count		= 7,
		.rnr_retry_count	= 7,
	};
	int ret;

	nvmeof_rdma_cm_req_build(&priv, &p);
	/*
	 * And then after a fraction of a millisecond: a timer of 0 means
	 * 655 ms per retry (IB and RoCE only).
	 */
	ret = rdma_set_min_rnr_timer(q->cm_id, IB_RNR_TIMER_000_32);
	if (ret) {
		dev_err(q->dev, "queue %u: rdma_set_min_rnr_timer: %d\n",
			q->qid, ret);
		return ret;
	}
	reinit_completion(&q->cm_done);
	ret = rdma_connect(q->cm_id, &param);
	if (ret) {
		dev_err(q->dev, "queue %u: rdma_connect: %d\n",
			q->qid, ret);
		return ret;
	}
	return nvme_rdma_cm_wait(q, NVME_RDMA_CONNECT_TIMEOUT_MS, "connection");
}
