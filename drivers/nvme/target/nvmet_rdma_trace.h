/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the NVMe over Fabrics RDMA target transport, under
 * events/nvmet_rdma/ in tracefs. A queue is named by its debugfs index
 * (queues/<idx>) and its qid; a command by its command_id, as the host
 * sent it, so host and target traces can be lined up.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM nvmet_rdma

#if !defined(_NVMET_RDMA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _NVMET_RDMA_TRACE_H

#include <linux/in6.h>
#include <linux/tracepoint.h>

TRACE_EVENT(nvmet_rdma_capsule_recv,
	    TP_PROTO(int queue, u16 qid, u16 cid, u8 opcode, u8 sgl_type,
		     u32 len),
	    TP_ARGS(queue, qid, cid, opcode, sgl_type, len),
	    TP_STRUCT__entry(__field(int, queue)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u8, opcode)
			     __field(u8, sgl_type)
			     __field(u32, len)),
	    TP_fast_assign(__entry->queue = queue;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->opcode = opcode;
			   __entry->sgl_type = sgl_type;
			   __entry->len = len;),
	    TP_printk("queue=%d qid=%u cid=%#x opcode=%#x sgl_type=%#x len=%u",
		      __entry->queue, __entry->qid, __entry->cid, __entry->opcode,
		      __entry->sgl_type, __entry->len)
);

/* RDMA READ (host write data) or WRITE (host read data) posted. */
TRACE_EVENT(nvmet_rdma_data_post,
	    TP_PROTO(int queue, u16 qid, u16 cid, bool to_host, u32 len),
	    TP_ARGS(queue, qid, cid, to_host, len),
	    TP_STRUCT__entry(__field(int, queue)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(bool, to_host)
			     __field(u32, len)),
	    TP_fast_assign(__entry->queue = queue;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->to_host = to_host;
			   __entry->len = len;),
	    TP_printk("queue=%d qid=%u cid=%#x %s len=%u", __entry->queue,
		      __entry->qid, __entry->cid,
		      __entry->to_host ? "rdma_write" : "rdma_read", __entry->len)
);

TRACE_EVENT(nvmet_rdma_rsp_send,
	    TP_PROTO(int queue, u16 qid, u16 cid, u16 status, u32 inv_rkey),
	    TP_ARGS(queue, qid, cid, status, inv_rkey),
	    TP_STRUCT__entry(__field(int, queue)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u16, status)
			     __field(u32, inv_rkey)),
	    TP_fast_assign(__entry->queue = queue;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->status = status;
			   __entry->inv_rkey = inv_rkey;),
	    TP_printk("queue=%d qid=%u cid=%#x status=%#x inv_rkey=%#x",
		      __entry->queue, __entry->qid, __entry->cid, __entry->status,
		      __entry->inv_rkey)
);

/* Queue lifecycle: established (connect), closing (disconnect), released. */
TRACE_EVENT(nvmet_rdma_queue_state,
	    TP_PROTO(int queue, u16 qid, const struct sockaddr_storage *peer,
		     const char *state),
	    TP_ARGS(queue, qid, peer, state),
	    TP_STRUCT__entry(__field(int, queue)
			     __field(u16, qid)
			     __array(u8, peer, sizeof(struct sockaddr_in6))
			     __string(state, state)),
	    TP_fast_assign(__entry->queue = queue;
			   __entry->qid = qid;
			   memcpy(__entry->peer, peer, sizeof(__entry->peer));
			   __assign_str(state, state);),
	    TP_printk("queue=%d qid=%u host=%pISpc state=%s", __entry->queue,
		      __entry->qid, __entry->peer, __get_str(state))
);

#endif /* _NVMET_RDMA_TRACE_H */

/* The header is not in include/trace/events, so tell define_trace.h. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE nvmet_rdma_trace
#include <trace/define_trace.h>
