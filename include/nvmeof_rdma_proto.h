/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NVMe/RDMA transport binding rules shared by host and target: validation
 * of the RDMA CM private data and classification of the SGL descriptor in
 * a command capsule.  Everything here is a pure function of its arguments
 * so that both modules and KUnit can use it without any transport state.
 */
#ifndef _NVMEOF_RDMA_PROTO_H
#define _NVMEOF_RDMA_PROTO_H

#include <linux/string.h>
#include <linux/types.h>
#include <linux/nvme.h>
#include <linux/nvme-rdma.h>
#include <asm/unaligned.h>

/* Admin queues are sized by the host; the fabrics spec caps them here. */
#define NVMEOF_RDMA_ADMIN_DEPTH_MAX	NVME_AQ_DEPTH

/* What a controller accepts in a connect request's private data. */
struct nvmeof_rdma_cm_limits {
	u16	max_qid;	/* highest I/O queue id */
	u16	admin_depth;	/* entries of an admin submission queue */
	u16	io_depth;	/* entries of an I/O submission queue */
};

/* A connect request's private data, in host byte order and 1-based sizes. */
struct nvmeof_rdma_cm_params {
	u16	qid;
	u16	sq_depth;	/* HSQSIZE + 1: commands the host may queue */
	u16	rq_depth;	/* HRQSIZE: responses the host can receive */
};

/**
 * nvmeof_rdma_cm_req_check() - validate NVMe/RDMA connect private data
 * @data: private data of the connect request
 * @len: its length as delivered by the CM, which may pad it
 * @lim: what this controller supports
 * @out: the decoded parameters, valid only on success
 *
 * Return: 0, or the NVME_RDMA_CM_* status to reject the request with.
 */
static inline int nvmeof_rdma_cm_req_check(const void *data, size_t len,
					   const struct nvmeof_rdma_cm_limits *lim,
					   struct nvmeof_rdma_cm_params *out)
{
	const struct nvme_rdma_cm_req *req = data;
	u16 hsqsize, hrqsize, limit;

	if (!data || len < sizeof(*req))
		return NVME_RDMA_CM_INVALID_LEN;
	if (le16_to_cpu(req->recfmt) != NVME_RDMA_CM_FMT_1_0)
		return NVME_RDMA_CM_INVALID_RECFMT;

	out->qid = le16_to_cpu(req->qid);
	if (out->qid > lim->max_qid)
		return NVME_RDMA_CM_INVALID_QID;

	/*
	 * HSQSIZE is 0's based and a queue needs two entries to ever hold a
	 * command (one slot always separates head from tail).
	 */
	hsqsize = le16_to_cpu(req->hsqsize);
	limit = out->qid ? lim->io_depth : lim->admin_depth;
	if (hsqsize < 1 || hsqsize >= limit)
		return NVME_RDMA_CM_INVALID_HSQSIZE;

	/*
	 * HRQSIZE bounds the responses we may have outstanding towards the
	 * host: with fewer receive buffers than usable submission entries
	 * (HSQSIZE, one is always empty) our responses could overrun it.
	 */
	hrqsize = le16_to_cpu(req->hrqsize);
	if (hrqsize < hsqsize)
		return NVME_RDMA_CM_INVALID_HRQSIZE;

	out->sq_depth = hsqsize + 1;
	out->rq_depth = hrqsize;
	return 0;
}

/**
 * nvmeof_rdma_cm_rej_status() - decode a controller's connect reject
 * @data: private data of the reject, may be NULL
 * @len: its length
 *
 * Return: the NVME_RDMA_CM_* status, or 0 when the reject carries none
 * (a CM or transport level reject rather than an NVMe/RDMA one).
 */
static inline u16 nvmeof_rdma_cm_rej_status(const void *data, size_t len)
{
	const struct nvme_rdma_cm_rej *rej = data;

	if (!data || len < sizeof(*rej) ||
	    le16_to_cpu(rej->recfmt) != NVME_RDMA_CM_FMT_1_0)
		return 0;
	return le16_to_cpu(rej->sts);
}

/**
 * nvmeof_rdma_cm_req_build() - fill a host's connect request private data
 * @req: the private data to send with rdma_connect()
 * @p: queue id and 1-based depths, as nvmeof_rdma_cm_req_check() returns them
 *
 * HSQSIZE is 0's based on the wire, HRQSIZE is not: a host that can take
 * as many responses as it may have commands outstanding sends
 * HRQSIZE = HSQSIZE + 1.
 */
static inline void nvmeof_rdma_cm_req_build(struct nvme_rdma_cm_req *req,
					    const struct nvmeof_rdma_cm_params *p)
{
	memset(req, 0, sizeof(*req));
	req->recfmt = cpu_to_le16(NVME_RDMA_CM_FMT_1_0);
	req->qid = cpu_to_le16(p->qid);
	req->hsqsize = cpu_to_le16(p->sq_depth - 1);
	req->hrqsize = cpu_to_le16(p->rq_depth);
}

/* nvme_rdma_cm_msg() with a name for "no NVMe/RDMA status at all". */
static inline const char *nvmeof_rdma_cm_status_str(u16 sts)
{
	return sts ? nvme_rdma_cm_msg(sts) : "no NVMe/RDMA status";
}

/* How a command capsule describes its data, per the RDMA binding. */
enum nvmeof_rdma_sgl_kind {
	NVMEOF_RDMA_SGL_KEYED,		/* remote buffer, host invalidates */
	NVMEOF_RDMA_SGL_KEYED_INV,	/* remote buffer, we invalidate */
	NVMEOF_RDMA_SGL_INCAPSULE,	/* data follows the SQE in the capsule */
	NVMEOF_RDMA_SGL_BAD_SUBTYPE,	/* known descriptor, unknown subtype */
	NVMEOF_RDMA_SGL_BAD_TYPE,	/* descriptor type the binding lacks */
};

/**
 * nvmeof_rdma_sgl_classify() - classify the SGL identifier of a capsule
 * @type: the identifier byte (descriptor type << 4 | subtype)
 *
 * The binding allows exactly one descriptor per command: a keyed data
 * block (plain or with remote invalidation) or an offset data block that
 * points into the capsule.  Segments and any other type are refused.
 */
static inline enum nvmeof_rdma_sgl_kind nvmeof_rdma_sgl_classify(u8 type)
{
	u8 subtype = type & 0xf;

	switch (type >> 4) {
	case NVME_KEY_SGL_FMT_DATA_DESC:
		if (subtype == NVME_SGL_FMT_ADDRESS)
			return NVMEOF_RDMA_SGL_KEYED;
		if (subtype == NVME_SGL_FMT_INVALIDATE)
			return NVMEOF_RDMA_SGL_KEYED_INV;
		return NVMEOF_RDMA_SGL_BAD_SUBTYPE;
	case NVME_SGL_FMT_DATA_DESC:
		if (subtype == NVME_SGL_FMT_OFFSET)
			return NVMEOF_RDMA_SGL_INCAPSULE;
		return NVMEOF_RDMA_SGL_BAD_SUBTYPE;
	default:
		return NVMEOF_RDMA_SGL_BAD_TYPE;
	}
}

/* The keyed descriptor packs a 24-bit length and a 32-bit key unaligned. */
static inline u32 nvmeof_rdma_keyed_len(const struct nvme_keyed_sgl_desc *d)
{
	return get_unaligned_le24(d->length);
}

static inline u32 nvmeof_rdma_keyed_key(const struct nvme_keyed_sgl_desc *d)
{
	return get_unaligned_le32(d->key);
}

/**
 * nvmeof_rdma_incapsule_fits() - is in-capsule data inside what arrived
 * @off: offset of the data block from the end of the SQE
 * @len: length of the data block
 * @avail: bytes of in-capsule data actually received (and buffered)
 *
 * Written so that no sum can wrap, whatever the host put in @off.
 */
static inline bool nvmeof_rdma_incapsule_fits(u64 off, u32 len, u32 avail)
{
	return off <= avail && len <= avail - off;
}

#endif /* _NVMEOF_RDMA_PROTO_H */
