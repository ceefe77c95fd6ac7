/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the NVMe over Fabrics RDMA host transport, under
 * events/nvme_rdma/ in tracefs. They identify a command by controller
 * instance (the N of nvmeN), queue and command_id, which is what the
 * target's nvmet_rdma events and nvme-core's nvme events also print, so
 * one trace can follow a command across the layers.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM nvme_rdma

#if !defined(_NVME_RDMA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _NVME_RDMA_TRACE_H

#include <linux/tracepoint.h>

/* How a command's data travels; the values are stable for tools. */
#define NVME_RDMA_DATA_NONE		0
#define NVME_RDMA_DATA_INLINE		1
#define NVME_RDMA_DATA_KEYED		2

#define nvme_rdma_show_data(d)					\
	__print_symbolic(d, { NVME_RDMA_DATA_NONE, "none" },		\
			    { NVME_RDMA_DATA_INLINE, "inline" },	\
			    { NVME_RDMA_DATA_KEYED, "keyed" })

TRACE_EVENT(nvme_rdma_cmd_post,
	    TP_PROTO(int ctrl, u16 qid, u16 cid, u8 opcode, u8 data, u32 len),
	    TP_ARGS(ctrl, qid, cid, opcode, data, len),
	    TP_STRUCT__entry(__field(int, ctrl)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u8, opcode)
			     __field(u8, data)
			     __field(u32, len)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->opcode = opcode;
			   __entry->data = data;
			   __entry->len = len;),
	    TP_printk("nvme%d qid=%u cid=%#x opcode=%#x data=%s len=%u",
		      __entry->ctrl, __entry->qid, __entry->cid, __entry->opcode,
		      nvme_rdma_show_data(__entry->data), __entry->len)
);

TRACE_EVENT(nvme_rdma_cmd_done,
	    TP_PROTO(int ctrl, u16 qid, u16 cid, u16 status, bool remote_inv),
	    TP_ARGS(ctrl, qid, cid, status, remote_inv),
	    TP_STRUCT__entry(__field(int, ctrl)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u16, status)
			     __field(bool, remote_inv)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __entry->cid = cid;
			   __entry->status = status;
			   __entry->remote_inv = remote_inv;),
	    TP_printk("nvme%d qid=%u cid=%#x status=%#x remote_inv=%d",
		      __entry->ctrl, __entry->qid, __entry->cid, __entry->status,
		      __entry->remote_inv)
);

DECLARE_EVENT_CLASS(nvme_rdma_mr,
		    TP_PROTO(int ctrl, u16 qid, u32 rkey, u32 len),
		    TP_ARGS(ctrl, qid, rkey, len),
		    TP_STRUCT__entry(__field(int, ctrl)
				     __field(u16, qid)
				     __field(u32, rkey)
				     __field(u32, len)),
		    TP_fast_assign(__entry->ctrl = ctrl;
				   __entry->qid = qid;
				   __entry->rkey = rkey;
				   __entry->len = len;),
		    TP_printk("nvme%d qid=%u rkey=%#x len=%u", __entry->ctrl,
			      __entry->qid, __entry->rkey, __entry->len)
);

/* A REG_MR prepared for a keyed SGL. */
DEFINE_EVENT(nvme_rdma_mr, nvme_rdma_mr_reg,
	     TP_PROTO(int ctrl, u16 qid, u32 rkey, u32 len),
	     TP_ARGS(ctrl, qid, rkey, len)
);

/* A LOCAL_INV posted because the controller did not invalidate. */
DEFINE_EVENT(nvme_rdma_mr, nvme_rdma_mr_local_inv,
	     TP_PROTO(int ctrl, u16 qid, u32 rkey, u32 len),
	     TP_ARGS(ctrl, qid, rkey, len)
);

/* A response arrived with the MR already invalidated by the controller. */
DEFINE_EVENT(nvme_rdma_mr, nvme_rdma_mr_remote_inv,
	     TP_PROTO(int ctrl, u16 qid, u32 rkey, u32 len),
	     TP_ARGS(ctrl, qid, rkey, len)
);

TRACE_EVENT(nvme_rdma_queue_state,
	    TP_PROTO(int ctrl, u16 qid, const char *state),
	    TP_ARGS(ctrl, qid, state),
	    TP_STRUCT__entry(__field(int, ctrl)
			     __field(u16, qid)
			     __string(state, state)),
	    TP_fast_assign(__entry->ctrl = ctrl;
			   __entry->qid = qid;
			   __assign_str(state, state);),
	    TP_printk("nvme%d qid=%u state=%s", __entry->ctrl, __entry->qid,
		      __get_str(state))
);

#endif /* _NVME_RDMA_TRACE_H */

/* The header is not in include/trace/events, so tell define_trace.h. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE nvme_rdma_trace
#include <trace/define_trace.h>
