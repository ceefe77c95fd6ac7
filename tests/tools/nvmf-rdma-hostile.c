// SPDX-License-Identifier: GPL-2.0
/*
 * nvmf-rdma-hostile: an NVMe/RDMA peer that breaks the rules on purpose.
 *
 * The tests run it in a guest against our kernel modules:
 *
 *   nvmf-rdma-hostile cm ADDR PORT CASE
 *	connect to a target with malformed CM private data; the target
 *	must reject with the NVMe/RDMA status the case expects.
 *   nvmf-rdma-hostile capsule ADDR PORT SUBNQN HOSTNQN CASE
 *	connect an admin queue properly (CM + Fabrics Connect), then send
 *	one kind of malformed capsule; the case expects a given NVMe status
 *	or a disconnect.
 *   nvmf-rdma-hostile target ADDR PORT CASE SECONDS
 *	listen like a target, accept every host, and answer its Fabrics
 *	Connect wrongly (or not at all), for at most SECONDS or until every
 *	host that connected has disconnected again.
 *   nvmf-rdma-hostile list
 *	the case names of every mode.
 *
 * A case prints "ok CASE: ..." and exits 0 when the peer behaved as
 * expected, "FAIL CASE: ..." and exits 1 when it did not; 2 is a setup
 * error of our own (no device, bad arguments).
 *
 * Everything on the wire is built here by hand from the NVMe base and
 * fabrics specifications (command capsule = 64-byte SQE, response
 * capsule = 16-byte CQE, little endian) so that nothing of the kernel's
 * own encoders can hide a bug on both sides at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/* NVMe/RDMA CM private data record format 1.0 and reject statuses. */
#define CM_FMT_1_0		0x0
#define CM_INVALID_LEN		0x01
#define CM_INVALID_RECFMT	0x02
#define CM_INVALID_QID		0x03
#define CM_INVALID_HSQSIZE	0x04
#define CM_INVALID_HRQSIZE	0x05

/* NVMe status codes (SCT << 8 | SC) and the Do Not Retry bit. */
#define SC_SUCCESS		0x000
#define SC_INVALID_FIELD	0x002
#define SC_CMD_SEQ_ERROR	0x00c
#define SC_SGL_INVALID_DATA	0x00f	/* Data SGL Length Invalid */
#define SC_SGL_INVALID_TYPE	0x011	/* SGL Descriptor Type Invalid */
#define SC_SGL_INVALID_OFFSET	0x016
#define SC_CONNECT_INVALID_HOST	0x184
#define SC_MORE			0x2000
#define SC_DNR			0x4000

#define OPC_FABRICS		0x7f
#define OPC_WRITE		0x01
#define OPC_READ		0x02
#define OPC_SET_FEATURES	0x09
#define FCTYPE_PROP_SET		0x00
#define FCTYPE_CONNECT		0x01
#define FCTYPE_PROP_GET		0x04
#define CMD_FLAGS_SGL		0x40	/* PSDT 01b: SGL, metadata buffer */
/* SGL identifier: descriptor type in the high nibble, subtype low. */
#define SGL_KEYED_ADDR		0x40
#define SGL_KEYED_BAD_SUBTYPE	0x43
#define SGL_DATA_OFFSET		0x01
#define SGL_BIT_BUCKET		0x10

#define SQE_SIZE		64
#define CQE_SIZE		16
#define NQN_LEN			256
#define CONNECT_DATA_LEN	1024

#define NR_SLOTS		128
#define SLOT_SIZE		(SQE_SIZE + 16384)
#define DATA_SIZE		(2u << 20)

#define ADMIN_DEPTH		32
#define IO_DEPTH		16

#define WAIT_MS			10000
/* The flood case gives up here if the target never closes the queue. */
#define FLOOD_CAPSULES		1000000

/* The kernel's names for these, as checkpatch asks for; userspace has none. */
#define __noreturn		__attribute((noreturn))
#define __printf(a, b)		__attribute((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct conn {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *buf;		/* NR_SLOTS recv slots, NR_SLOTS send slots, data */
	uint16_t qid;
	uint16_t cntlid;
	int disconnected;
	int send_next;
	/* hostile target: per connection */
	int answered;
	struct conn *next;
};

static const char *cur_case = "?";

static void say(const char *tag, const char *fmt, va_list ap)
{
	printf("%s %s: ", tag, cur_case);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static __noreturn void __printf(1, 2) pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("ok", fmt, ap);
	va_end(ap);
	exit(0);
}

static __noreturn void __printf(1, 2) failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("FAIL", fmt, ap);
	va_end(ap);
	exit(1);
}

static __noreturn void __printf(1, 2) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("ERROR", fmt, ap);
	va_end(ap);
	exit(2);
}

static void __printf(1, 2) note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("..", fmt, ap);
	va_end(ap);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }

static uint8_t *recv_slot(struct conn *c, int i) { return c->buf + (size_t)i * SLOT_SIZE; }
static uint8_t *send_slot(struct conn *c, int i)
{
	return c->buf + (size_t)(NR_SLOTS + i) * SLOT_SIZE;
}

static uint8_t *data_area(struct conn *c) { return c->buf + (size_t)2 * NR_SLOTS * SLOT_SIZE; }

/* ---- rdma_cm plumbing ------------------------------------------------ */

static struct rdma_cm_event *get_event(struct rdma_event_channel *ch, int ms)
{
	struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	if (poll(&pfd, 1, ms) <= 0)
		return NULL;
	if (rdma_get_cm_event(ch, &ev))
		return NULL;
	return ev;
}

static void wait_event(struct conn *c, enum rdma_cm_event_type want)
{
	struct rdma_cm_event *ev = get_event(c->ch, WAIT_MS);
	enum rdma_cm_event_type got;
	int status;

	if (!ev)
		die("no rdma_cm event (waiting for %s)", rdma_event_str(want));
	got = ev->event;
	status = ev->status;
	rdma_ack_cm_event(ev);
	if (got != want)
		die("rdma_cm event %s (status %d), expected %s",
		    rdma_event_str(got), status, rdma_event_str(want));
}

static void setup_qp(struct conn *c, struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr qa = {
		.cap = {
			.max_send_wr = NR_SLOTS, .max_recv_wr = NR_SLOTS,
			.max_send_sge = 1, .max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
	};
	size_t len = (size_t)2 * NR_SLOTS * SLOT_SIZE + DATA_SIZE;

	c->pd = ibv_alloc_pd(id->verbs);
	c->cq = c->pd ? ibv_create_cq(id->verbs, 2 * NR_SLOTS + 8, NULL, NULL, 0) : NULL;
	if (!c->cq)
		die("cannot allocate a PD/CQ: %s", strerror(errno));
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	if (rdma_create_qp(id, c->pd, &qa))
		die("rdma_create_qp: %s", strerror(errno));
	c->buf = aligned_alloc(4096, len);
	if (!c->buf)
		die("out of memory");
	memset(c->buf, 0, len);
	c->mr = ibv_reg_mr(c->pd, c->buf, len, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	if (!c->mr)
		die("ibv_reg_mr: %s", strerror(errno));
}

static void post_recv(struct conn *c, int i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)recv_slot(c, i), .length = SLOT_SIZE,
		.lkey = c->mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge, .num_sge = 1 }, *bad;

	if (ibv_post_recv(c->id->qp, &wr, &bad))
		die("ibv_post_recv: %s", strerror(errno));
}

static void post_all_recvs(struct conn *c)
{
	int i;

	for (i = 0; i < NR_SLOTS; i++)
		post_recv(c, i);
}

/*
 * Send @len bytes of a send slot.  Send completions carry wr_id
 * NR_SLOTS + slot so that they cannot be taken for receives.
 */
static int post_send(struct conn *c, int slot, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)send_slot(c, slot), .length = len,
		.lkey = c->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = NR_SLOTS + slot, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	return ibv_post_send(c->id->qp, &wr, &bad);
}

static uint8_t *next_send(struct conn *c, int *slot)
{
	*slot = c->send_next++ % NR_SLOTS;
	memset(send_slot(c, *slot), 0, SLOT_SIZE);
	return send_slot(c, *slot);
}

/* Fill the CM request private data (NVMe/RDMA binding, 32 bytes). */
static void cm_req(uint8_t *pd, uint16_t recfmt, uint16_t qid,
		   uint16_t hrqsize, uint16_t hsqsize)
{
	memset(pd, 0, 32);
	put16(pd + 0, recfmt);
	put16(pd + 2, qid);
	put16(pd + 4, hrqsize);
	put16(pd + 6, hsqsize);
}

/*
 * Resolve, create the QP and connect with @pdata.  Returns the final
 * rdma_cm event type; for a reject, *rej_sts is the NVMe/RDMA status of
 * its private data (-1 when it carries none).
 */
static enum rdma_cm_event_type client_connect(struct conn *c, const char *addr,
					      const char *port, const void *pdata,
					      uint8_t plen, int *rej_sts)
{
	struct rdma_conn_param cp = {
		.private_data = pdata, .private_data_len = plen,
		.responder_resources = 4, .initiator_depth = 4,
		.retry_count = 7, .rnr_retry_count = 7,
	};
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	enum rdma_cm_event_type got;
	struct rdma_cm_event *ev;
	int ret;

	memset(c, 0, sizeof(*c));
	c->ch = rdma_create_event_channel();
	if (!c->ch)
		die("rdma_create_event_channel: %s (is rdma_ucm loaded?)", strerror(errno));
	if (rdma_create_id(c->ch, &c->id, c, RDMA_PS_TCP))
		die("rdma_create_id: %s", strerror(errno));
	ret = getaddrinfo(addr, port, &hints, &ai);
	if (ret)
		die("%s:%s: %s", addr, port, gai_strerror(ret));
	if (rdma_resolve_addr(c->id, NULL, ai->ai_addr, 2000))
		die("rdma_resolve_addr: %s", strerror(errno));
	freeaddrinfo(ai);
	wait_event(c, RDMA_CM_EVENT_ADDR_RESOLVED);
	if (rdma_resolve_route(c->id, 2000))
		die("rdma_resolve_route: %s", strerror(errno));
	wait_event(c, RDMA_CM_EVENT_ROUTE_RESOLVED);
	setup_qp(c, c->id);
	post_all_recvs(c);
	if (rdma_connect(c->id, &cp))
		die("rdma_connect: %s", strerror(errno));

	ev = get_event(c->ch, WAIT_MS);
	if (!ev)
		failed("no answer to the CM connect request within %d ms", WAIT_MS);
	got = ev->event;
	*rej_sts = -1;
	if (got == RDMA_CM_EVENT_REJECTED && ev->param.conn.private_data &&
	    ev->param.conn.private_data_len >= 4) {
		const uint8_t *r = ev->param.conn.private_data;

		if (get16(r) == CM_FMT_1_0)
			*rej_sts = get16(r + 2);
	}
	if (got != RDMA_CM_EVENT_ESTABLISHED && got != RDMA_CM_EVENT_REJECTED)
		note("CM connect ended with %s (status %d)", rdma_event_str(got), ev->status);
	rdma_ack_cm_event(ev);
	return got;
}

/* Take a pending DISCONNECTED event, if any, without waiting. */
static void check_disconnect(struct conn *c)
{
	struct rdma_cm_event *ev = get_event(c->ch, 0);

	if (!ev)
		return;
	if (ev->event == RDMA_CM_EVENT_DISCONNECTED)
		c->disconnected = 1;
	else
		note("rdma_cm event %s", rdma_event_str(ev->event));
	rdma_ack_cm_event(ev);
}

/*
 * Wait for one completion.  1: got one; 0: timed out; -1: the peer
 * disconnected (event or flushed/failed work request).
 */
static int poll_wc(struct conn *c, struct ibv_wc *wc, int ms)
{
	long end = now_ms() + ms;
	int n;

	for (;;) {
		n = ibv_poll_cq(c->cq, 1, wc);
		if (n < 0)
			die("ibv_poll_cq failed");
		if (n == 1) {
			if (wc->status != IBV_WC_SUCCESS) {
				note("work request %lu failed: %s", (unsigned long)wc->wr_id,
				     ibv_wc_status_str(wc->status));
				return -1;
			}
			return 1;
		}
		check_disconnect(c);
		if (c->disconnected)
			return -1;
		if (now_ms() >= end)
			return 0;
		usleep(1000);
	}
}

struct rsp {
	uint32_t result;
	uint16_t sq_head, sq_id, cid, status;	/* status: phase bit dropped */
};

/* The next response capsule: 1, 0 on timeout, -1 on disconnect. */
static int get_rsp(struct conn *c, struct rsp *r, int ms)
{
	struct ibv_wc wc;
	const uint8_t *p;
	long end = now_ms() + ms;
	int ret;

	for (;;) {
		ret = poll_wc(c, &wc, end - now_ms() > 0 ? end - now_ms() : 0);
		if (ret <= 0)
			return ret;
		if (wc.wr_id >= NR_SLOTS)
			continue;	/* our SEND completed */
		if (wc.byte_len < CQE_SIZE)
			failed("response of %u bytes", wc.byte_len);
		p = recv_slot(c, wc.wr_id);
		r->result = get32(p);
		r->sq_head = get16(p + 8);
		r->sq_id = get16(p + 10);
		r->cid = get16(p + 12);
		r->status = get16(p + 14) >> 1;
		post_recv(c, wc.wr_id);
		return 1;
	}
}

/* ---- command capsules ------------------------------------------------ */

static void sgl_keyed(uint8_t *sqe, uint8_t type, uint64_t addr, uint32_t len,
		      uint32_t key)
{
	put64(sqe + 24, addr);
	sqe[32] = len & 0xff;	/* 24-bit length */
	sqe[33] = (len >> 8) & 0xff;
	sqe[34] = (len >> 16) & 0xff;
	put32(sqe + 35, key);
	sqe[39] = type;
}

static void sgl_offset(uint8_t *sqe, uint64_t off, uint32_t len)
{
	put64(sqe + 24, off);
	put32(sqe + 32, len);
	sqe[39] = SGL_DATA_OFFSET;
}

static uint8_t *fabrics_cmd(struct conn *c, int *slot, uint8_t fctype, uint16_t cid)
{
	uint8_t *sqe = next_send(c, slot);

	sqe[0] = OPC_FABRICS;
	sqe[1] = CMD_FLAGS_SGL;
	put16(sqe + 2, cid);
	sqe[4] = fctype;
	/* No data: a keyed descriptor of length 0 is how a host says so. */
	sgl_keyed(sqe, SGL_KEYED_ADDR, 0, 0, 0);
	return sqe;
}

/* A Property Get of CAP (8 bytes at offset 0): no data, always allowed. */
static uint8_t *prop_get_cap(struct conn *c, int *slot, uint16_t cid)
{
	uint8_t *sqe = fabrics_cmd(c, slot, FCTYPE_PROP_GET, cid);

	sqe[40] = 1;		/* ATTRIB: 8-byte property */
	put32(sqe + 44, 0);	/* OFST: CAP */
	return sqe;
}

static void send_or_die(struct conn *c, int slot, uint32_t len)
{
	if (post_send(c, slot, len))
		die("ibv_post_send: %s", strerror(errno));
}

static struct rsp expect_rsp(struct conn *c, uint16_t cid, const char *what)
{
	struct rsp r;
	int ret = get_rsp(c, &r, WAIT_MS);

	if (ret == 0)
		failed("no response to %s within %d ms", what, WAIT_MS);
	if (ret < 0)
		failed("disconnected while waiting for the response to %s", what);
	if (r.cid != cid)
		failed("response to %s carries command_id %#x, sent %#x", what, r.cid, cid);
	return r;
}

static void fabrics_connect(struct conn *c, uint16_t qid, uint16_t sqsize,
			    uint16_t cntlid, const char *subnqn, const char *hostnqn)
{
	uint8_t *d = data_area(c), *sqe;
	struct rsp r;
	int slot;

	memset(d, 0, CONNECT_DATA_LEN);
	memcpy(d, "hostile-host-id!", 16);		/* HOSTID */
	put16(d + 16, cntlid);
	strncpy((char *)d + 256, subnqn, NQN_LEN - 1);
	strncpy((char *)d + 512, hostnqn, NQN_LEN - 1);

	sqe = fabrics_cmd(c, &slot, FCTYPE_CONNECT, 1);
	sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)d, CONNECT_DATA_LEN, c->mr->rkey);
	put16(sqe + 40, 0);		/* RECFMT */
	put16(sqe + 42, qid);
	put16(sqe + 44, sqsize);	/* 0's based */
	put32(sqe + 48, 0);		/* KATO: no keep-alive */
	send_or_die(c, slot, SQE_SIZE);
	r = expect_rsp(c, 1, "Fabrics Connect");
	if (r.status)
		failed("Fabrics Connect qid %u failed with status %#x", qid, r.status);
	c->qid = qid;
	c->cntlid = r.result & 0xffff;
}

/* CC.EN with the entry sizes nvmet insists on (IOSQES 6, IOCQES 4). */
static void enable_ctrl(struct conn *c)
{
	struct rsp r;
	int slot;
	uint8_t *sqe = fabrics_cmd(c, &slot, FCTYPE_PROP_SET, 2);

	put32(sqe + 44, 0x14);			/* CC */
	put64(sqe + 48, 0x00460001);
	send_or_die(c, slot, SQE_SIZE);
	r = expect_rsp(c, 2, "Property Set CC");
	if (r.status)
		failed("Property Set CC.EN failed with status %#x", r.status);
}

static void admin_open(struct conn *c, const char *addr, const char *port,
		       const char *subnqn, const char *hostnqn)
{
	uint8_t pd[32];
	int sts;

	cm_req(pd, CM_FMT_1_0, 0, ADMIN_DEPTH, ADMIN_DEPTH - 1);
	if (client_connect(c, addr, port, pd, sizeof(pd), &sts) != RDMA_CM_EVENT_ESTABLISHED)
		failed("valid admin queue CM connect not established (reject status %d)", sts);
	fabrics_connect(c, 0, ADMIN_DEPTH - 1, 0xffff, subnqn, hostnqn);
}

static void io_open(struct conn *c, const struct conn *admin, const char *addr,
		    const char *port, const char *subnqn, const char *hostnqn)
{
	uint8_t pd[32];
	int sts;

	cm_req(pd, CM_FMT_1_0, 1, IO_DEPTH, IO_DEPTH - 1);
	if (client_connect(c, addr, port, pd, sizeof(pd), &sts) != RDMA_CM_EVENT_ESTABLISHED)
		failed("valid I/O queue CM connect not established (reject status %d)", sts);
	fabrics_connect(c, 1, IO_DEPTH - 1, admin->cntlid, subnqn, hostnqn);
}

static void expect_status(struct conn *c, uint16_t cid, uint16_t want, const char *what)
{
	struct rsp r = expect_rsp(c, cid, what);

	/* The More bit only says the error log has an entry for it. */
	if ((r.status & ~SC_MORE) != want)
		failed("%s: status %#x, expected %#x", what, r.status, want);
	pass("%s answered with status %#x", what, r.status);
}

/* The queue must go away: a DISCONNECTED event or failed work requests. */
static void expect_disconnect(struct conn *c, const char *what)
{
	struct rsp r;
	int ret = get_rsp(c, &r, WAIT_MS);

	if (ret > 0)
		failed("%s: got a response (command_id %#x status %#x) instead of a disconnect",
		       what, r.cid, r.status);
	if (ret == 0)
		failed("%s: still connected after %d ms", what, WAIT_MS);
	pass("%s: the target closed the queue", what);
}

/* ---- mode cm --------------------------------------------------------- */

struct cm_case {
	const char *name;
	uint16_t recfmt, qid, hrqsize, hsqsize;
	uint8_t len;
	int sts;
	const char *why;
};

static const struct cm_case cm_cases[] = {
	{ "bad-recfmt", 1, 0, 32, 31, 32, CM_INVALID_RECFMT, "record format 1" },
	{ "qid-beyond-max", 0, 1024, 32, 31, 32, CM_INVALID_QID, "qid 1024" },
	{ "hsqsize-zero", 0, 0, 32, 0, 32, CM_INVALID_HSQSIZE, "admin hsqsize 0" },
	{ "hsqsize-admin-too-big", 0, 0, 33, 32, 32, CM_INVALID_HSQSIZE,
	  "admin hsqsize 32 (33 entries)" },
	{ "hsqsize-io-too-big", 0, 1, 4096, 4095, 32, CM_INVALID_HSQSIZE,
	  "I/O hsqsize 4095" },
	{ "hrqsize-below-hsqsize", 0, 1, 8, 15, 32, CM_INVALID_HRQSIZE,
	  "hsqsize 15 with hrqsize 8" },
	/*
	 * IB CM (RoCE) pads a REQ's private data with zeroes to its fixed
	 * size, so a target cannot see that it was short: 2 bytes of record
	 * format read as hsqsize 0.  On iWARP this would be INVALID_LEN.
	 */
	{ "short-private-data", 0, 0, 0, 0, 2, CM_INVALID_HSQSIZE,
	  "2 bytes of private data" },
};

static int run_cm(const char *addr, const char *port, const char *name)
{
	const struct cm_case *k = NULL;
	enum rdma_cm_event_type got;
	struct conn c;
	uint8_t pd[32];
	size_t i;
	int sts;

	for (i = 0; i < ARRAY_SIZE(cm_cases); i++)
		if (!strcmp(cm_cases[i].name, name))
			k = &cm_cases[i];
	if (!k)
		die("no such cm case");
	cm_req(pd, k->recfmt, k->qid, k->hrqsize, k->hsqsize);
	got = client_connect(&c, addr, port, pd, k->len, &sts);
	if (got != RDMA_CM_EVENT_REJECTED)
		failed("%s: %s, expected a reject", k->why, rdma_event_str(got));
	if (sts != k->sts)
		failed("%s: rejected with NVMe/RDMA status %d, expected %d", k->why, sts, k->sts);
	pass("%s: rejected with NVMe/RDMA status %d", k->why, sts);
}

/* ---- mode capsule ---------------------------------------------------- */

static const char * const capsule_cases[] = {
	"sgl-bad-type", "sgl-bad-subtype", "keyed-beyond-mdts", "zero-length",
	"incapsule-offset-beyond", "incapsule-length-beyond", "incapsule-not-write",
	"incapsule-admin", "oversized-capsule",
	"short-capsule", "sq-overflow", "flood", "duplicate-cid",
	"bogus-rkey-write", "bogus-rkey-read",
	"qid-in-use", "disconnect-mid-transfer", NULL,
};

static int run_capsule(const char *addr, const char *port, const char *subnqn,
		       const char *hostnqn, const char *name)
{
	struct conn a, io, io2;
	uint8_t *sqe;
	struct rsp r;
	int slot, i, n;

	admin_open(&a, addr, port, subnqn, hostnqn);
	note("admin queue connected, cntlid %u", a.cntlid);

	if (!strcmp(name, "sgl-bad-type")) {
		sqe = prop_get_cap(&a, &slot, 10);
		sgl_keyed(sqe, SGL_BIT_BUCKET, 0, 8, 0);
		send_or_die(&a, slot, SQE_SIZE);
		expect_status(&a, 10, SC_SGL_INVALID_TYPE | SC_DNR, "bit bucket SGL");
	}
	if (!strcmp(name, "sgl-bad-subtype")) {
		sqe = prop_get_cap(&a, &slot, 11);
		sgl_keyed(sqe, SGL_KEYED_BAD_SUBTYPE, (uintptr_t)data_area(&a), 8, a.mr->rkey);
		send_or_die(&a, slot, SQE_SIZE);
		expect_status(&a, 11, SC_SGL_INVALID_TYPE | SC_DNR, "keyed SGL subtype 3");
	}
	if (!strcmp(name, "keyed-beyond-mdts")) {
		sqe = prop_get_cap(&a, &slot, 12);
		sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)data_area(&a), DATA_SIZE, a.mr->rkey);
		send_or_die(&a, slot, SQE_SIZE);
		expect_status(&a, 12, SC_SGL_INVALID_DATA | SC_DNR, "2 MiB keyed SGL");
	}
	if (!strcmp(name, "zero-length")) {
		sqe = prop_get_cap(&a, &slot, 13);
		send_or_die(&a, slot, SQE_SIZE);
		r = expect_rsp(&a, 13, "Property Get with a 0-length keyed SGL");
		if (r.status || !r.result)
			failed("Property Get CAP: status %#x, CAP low %#x", r.status, r.result);
		pass("0-length keyed SGL: Property Get CAP succeeded (CAP low %#x)", r.result);
	}
	if (!strcmp(name, "incapsule-not-write")) {
		/* Property Set moves no data to the controller (fctype even). */
		sqe = fabrics_cmd(&a, &slot, FCTYPE_PROP_SET, 14);
		put32(sqe + 44, 0x14);
		sgl_offset(sqe, 0, 8);
		send_or_die(&a, slot, SQE_SIZE);
		expect_status(&a, 14, SC_INVALID_FIELD | SC_DNR,
			      "in-capsule data on a command that writes none");
	}
	if (!strcmp(name, "oversized-capsule")) {
		/* Admin receive buffers hold a bare SQE: this overruns one. */
		sqe = prop_get_cap(&a, &slot, 19);
		send_or_die(&a, slot, SQE_SIZE + 512);
		expect_disconnect(&a, "576-byte capsule on the admin queue");
	}
	if (!strcmp(name, "short-capsule")) {
		sqe = prop_get_cap(&a, &slot, 15);
		send_or_die(&a, slot, 32);
		expect_disconnect(&a, "32-byte capsule");
	}
	if (!strcmp(name, "duplicate-cid")) {
		for (i = 0; i < 2; i++) {
			prop_get_cap(&a, &slot, 16);
			send_or_die(&a, slot, SQE_SIZE);
		}
		for (i = 0; i < 2; i++) {
			r = expect_rsp(&a, 16, "a command sharing its command_id");
			if (r.status)
				failed("duplicate command_id: status %#x", r.status);
		}
		pass("two commands with command_id 0x10: both answered");
	}

	/* The remaining cases need an enabled controller. */
	enable_ctrl(&a);
	if (!strcmp(name, "incapsule-admin")) {
		/*
		 * Admin queues buffer no in-capsule data at all: a Set
		 * Features (a write) claiming 8 bytes of it points beyond.
		 */
		sqe = next_send(&a, &slot);
		sqe[0] = OPC_SET_FEATURES;
		sqe[1] = CMD_FLAGS_SGL;
		put16(sqe + 2, 18);
		put32(sqe + 40, 0x07);		/* FID: Number of Queues */
		sgl_offset(sqe, 0, 8);
		send_or_die(&a, slot, SQE_SIZE);
		expect_status(&a, 18, SC_SGL_INVALID_DATA | SC_DNR,
			      "8 bytes of in-capsule data on the admin queue");
	}
	io_open(&io, &a, addr, port, subnqn, hostnqn);
	note("I/O queue 1 connected");

	if (!strcmp(name, "incapsule-offset-beyond") ||
	    !strcmp(name, "incapsule-length-beyond")) {
		int beyond_off = !strcmp(name, "incapsule-offset-beyond");

		sqe = next_send(&io, &slot);
		sqe[0] = OPC_WRITE;
		sqe[1] = CMD_FLAGS_SGL;
		put16(sqe + 2, 20);
		put32(sqe + 4, 1);		/* NSID */
		put64(sqe + 40, 0);		/* SLBA */
		put16(sqe + 48, 0);		/* NLB 0's based: one block */
		if (beyond_off)
			sgl_offset(sqe, 8192, 512);
		else
			sgl_offset(sqe, 0, 4096);
		/* Only 512 bytes of data follow the SQE. */
		send_or_die(&io, slot, SQE_SIZE + 512);
		if (beyond_off)
			expect_status(&io, 20, SC_SGL_INVALID_OFFSET | SC_DNR,
				      "in-capsule offset 8192 with 512 bytes received");
		expect_status(&io, 20, SC_SGL_INVALID_DATA | SC_DNR,
			      "in-capsule length 4096 with 512 bytes received");
	}
	if (!strcmp(name, "bogus-rkey-write") || !strcmp(name, "bogus-rkey-read")) {
		/*
		 * 4 KiB behind a key we never registered: the target's RDMA
		 * READ (our Write) or RDMA WRITE (our Read) fails at our end
		 * with a remote access error, which kills its QP.
		 */
		int wr = !strcmp(name, "bogus-rkey-write");

		sqe = next_send(&io, &slot);
		sqe[0] = wr ? OPC_WRITE : OPC_READ;
		sqe[1] = CMD_FLAGS_SGL;
		put16(sqe + 2, 17);
		put32(sqe + 4, 1);
		put16(sqe + 48, 7);		/* 8 blocks of 512 */
		sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)data_area(&io), 4096,
			  io.mr->rkey ^ 0x5a5a5a00);
		send_or_die(&io, slot, SQE_SIZE);
		expect_disconnect(&io, wr ? "Write whose data has a bogus rkey" :
				  "Read whose buffer has a bogus rkey");
	}
	if (!strcmp(name, "sq-overflow")) {
		/*
		 * Twice the negotiated depth without waiting for a single
		 * response.  Namespace 2 must complete commands slowly (the
		 * test gives it a null_blk with a completion delay): the
		 * capsule past the depth then arrives while the first ones
		 * are certainly still unanswered.  The target must close the
		 * queue; the commands it answered before must have succeeded.
		 */
		n = 2 * IO_DEPTH;
		for (i = 0; i < n; i++) {
			sqe = next_send(&io, &slot);
			sqe[0] = OPC_READ;
			sqe[1] = CMD_FLAGS_SGL;
			put16(sqe + 2, 100 + i);
			put32(sqe + 4, 2);		/* NSID 2: the slow one */
			put16(sqe + 48, 7);		/* 8 blocks of 512 */
			sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)data_area(&io),
				  4096, io.mr->rkey);
			send_or_die(&io, slot, SQE_SIZE);
		}
		for (i = 0; i < n; i++) {
			int ret = get_rsp(&io, &r, WAIT_MS);

			if (ret < 0)
				pass("%d reads on a %d-entry queue: closed after %d responses",
				     n, IO_DEPTH, i);
			if (ret == 0)
				failed("%d reads on a %d-entry queue: %d responses, then silence",
				       n, IO_DEPTH, i);
			if (r.status)
				failed("command_id %#x: status %#x", r.cid, r.status);
		}
		failed("%d reads on a %d-entry queue: all answered, the overflow went unnoticed",
		       n, IO_DEPTH);
	}
	if (!strcmp(name, "flood")) {
		/*
		 * Like sq-overflow, but never stopping: capsules as fast as
		 * our send queue takes them, until the target's closing of
		 * the queue fails our work requests.  Everything that landed
		 * before that completes at the target, on a CQ it shares
		 * with other hosts' queues; with use_srq=1 that can be many
		 * more receives than the queue's depth.
		 */
		long sent = 0, answered = 0, idle_since = now_ms();
		int outstanding = 0, broken = 0, k;
		struct ibv_wc wc[16];

		while (!broken) {
			while (outstanding < NR_SLOTS - 1 && sent < FLOOD_CAPSULES) {
				sqe = next_send(&io, &slot);
				sqe[0] = OPC_READ;
				sqe[1] = CMD_FLAGS_SGL;
				put16(sqe + 2, sent & 0xffff);
				put32(sqe + 4, 2);		/* the slow namespace */
				put16(sqe + 48, 7);
				sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)data_area(&io),
					  4096, io.mr->rkey);
				if (post_send(&io, slot, SQE_SIZE)) {
					broken = 1;
					break;
				}
				outstanding++;
				sent++;
			}
			n = ibv_poll_cq(io.cq, ARRAY_SIZE(wc), wc);
			if (n < 0)
				die("ibv_poll_cq failed");
			for (k = 0; k < n; k++) {
				if (wc[k].status != IBV_WC_SUCCESS) {
					broken = 1;
				} else if (wc[k].wr_id >= NR_SLOTS) {
					outstanding--;
				} else {
					const uint8_t *p = recv_slot(&io, wc[k].wr_id);

					if (get16(p + 14) >> 1)
						failed("command_id %#x: status %#x",
						       get16(p + 12), get16(p + 14) >> 1);
					answered++;
					post_recv(&io, wc[k].wr_id);
				}
			}
			check_disconnect(&io);
			broken |= io.disconnected;
			if (n)
				idle_since = now_ms();
			else if (now_ms() - idle_since > WAIT_MS)
				failed("%ld sent, %ld answered, then %d ms of silence",
				       sent, answered, WAIT_MS);
			else
				usleep(100);
		}
		pass("the target closed the queue after %ld capsules, %ld answered",
		     sent, answered);
	}
	if (!strcmp(name, "qid-in-use")) {
		uint8_t pd[32];
		int sts;

		cm_req(pd, CM_FMT_1_0, 1, IO_DEPTH, IO_DEPTH - 1);
		if (client_connect(&io2, addr, port, pd, sizeof(pd), &sts) !=
		    RDMA_CM_EVENT_ESTABLISHED)
			pass("second CM connect for qid 1 rejected (status %d)", sts);
		memset(data_area(&io2), 0, CONNECT_DATA_LEN);
		put16(data_area(&io2) + 16, a.cntlid);
		strncpy((char *)data_area(&io2) + 256, subnqn, NQN_LEN - 1);
		strncpy((char *)data_area(&io2) + 512, hostnqn, NQN_LEN - 1);
		sqe = fabrics_cmd(&io2, &slot, FCTYPE_CONNECT, 1);
		sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)data_area(&io2),
			  CONNECT_DATA_LEN, io2.mr->rkey);
		put16(sqe + 42, 1);
		put16(sqe + 44, IO_DEPTH - 1);
		send_or_die(&io2, slot, SQE_SIZE);
		r = expect_rsp(&io2, 1, "a second Fabrics Connect for qid 1");
		if (!r.status)
			failed("a second connect for qid 1 of cntlid %u succeeded", a.cntlid);
		pass("second Fabrics Connect for qid 1 refused with status %#x", r.status);
	}
	if (!strcmp(name, "disconnect-mid-transfer")) {
		/* 1 MiB for the target to RDMA READ, and we leave at once. */
		sqe = next_send(&io, &slot);
		sqe[0] = OPC_WRITE;
		sqe[1] = CMD_FLAGS_SGL;
		put16(sqe + 2, 21);
		put32(sqe + 4, 1);
		put16(sqe + 48, 2047);		/* 2048 blocks of 512 */
		sgl_keyed(sqe, SGL_KEYED_ADDR, (uintptr_t)data_area(&io), 1u << 20,
			  io.mr->rkey);
		send_or_die(&io, slot, SQE_SIZE);
		usleep(2000);
		rdma_disconnect(io.id);
		rdma_disconnect(a.id);
		/* The process exits with its QPs and MRs: the worst case. */
		pass("disconnected with a 1 MiB write in flight");
	}
	die("no such capsule case");
}

/* ---- mode target ----------------------------------------------------- */

static const char * const target_cases[] = {
	"bogus-cid", "duplicate", "wrong-sqid", "silent", "error-status",
	"short-response", NULL,
};

static void tgt_send_cqe(struct conn *c, uint32_t result, uint16_t sq_head,
			 uint16_t sq_id, uint16_t cid, uint16_t status, uint32_t len)
{
	int slot;
	uint8_t *p = next_send(c, &slot);

	put32(p, result);
	put16(p + 8, sq_head);
	put16(p + 10, sq_id);
	put16(p + 12, cid);
	put16(p + 14, status << 1);
	if (post_send(c, slot, len))
		note("qid %u: cannot post a response: %s", c->qid, strerror(errno));
}

static void tgt_capsule(struct conn *c, const uint8_t *sqe, uint32_t len, const char *k)
{
	uint16_t cid = get16(sqe + 2);
	int is_connect = sqe[0] == OPC_FABRICS && sqe[4] == FCTYPE_CONNECT;

	note("qid %u: %u-byte capsule, opcode %#x fctype %#x command_id %#x",
	     c->qid, len, sqe[0], sqe[4], cid);
	if (!is_connect || c->answered++)
		return;		/* everything after the connect: silence */

	if (!strcmp(k, "bogus-cid")) {
		/* Another tag of the same generation: never issued. */
		tgt_send_cqe(c, 1, 1, c->qid, (cid & 0xf000) | ((cid + 7) & 0xfff), 0, CQE_SIZE);
	} else if (!strcmp(k, "duplicate")) {
		tgt_send_cqe(c, 1, 1, c->qid, cid, 0, CQE_SIZE);
		tgt_send_cqe(c, 1, 1, c->qid, cid, 0, CQE_SIZE);
	} else if (!strcmp(k, "wrong-sqid")) {
		tgt_send_cqe(c, 1, 0xffff, c->qid + 3, cid, 0, CQE_SIZE);
	} else if (!strcmp(k, "error-status")) {
		tgt_send_cqe(c, 0, 1, c->qid, cid, SC_CONNECT_INVALID_HOST | SC_DNR, CQE_SIZE);
	} else if (!strcmp(k, "short-response")) {
		tgt_send_cqe(c, 1, 1, c->qid, cid, 0, 8);
	}
	/* silent: nothing */
}

static void tgt_conn_free(struct conn *c)
{
	rdma_destroy_qp(c->id);
	ibv_dereg_mr(c->mr);
	ibv_destroy_cq(c->cq);
	ibv_dealloc_pd(c->pd);
	free(c->buf);
	rdma_destroy_id(c->id);
	free(c);
}

static void tgt_conn_unlink(struct conn **conns, struct conn *c)
{
	struct conn **pp;

	for (pp = conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

/* Accept with valid private data: the host must get as far as Connect. */
static struct conn *tgt_accept(struct rdma_cm_id *id, const uint8_t *p)
{
	uint8_t rep[32] = { 0 };
	struct rdma_conn_param cp = {
		.private_data = rep, .private_data_len = sizeof(rep),
		.responder_resources = 4, .initiator_depth = 4,
		.rnr_retry_count = 7,
	};
	struct conn *c = calloc(1, sizeof(*c));

	if (!c || !p)
		die("connect request without private data");
	c->id = id;
	c->qid = get16(p + 2);
	id->context = c;
	setup_qp(c, id);
	post_all_recvs(c);
	put16(rep, CM_FMT_1_0);
	put16(rep + 2, get16(p + 6) + 1);	/* CRQSIZE */
	note("connect request: qid %u hrqsize %u hsqsize %u",
	     c->qid, get16(p + 4), get16(p + 6));
	if (rdma_accept(id, &cp))
		die("rdma_accept: %s", strerror(errno));
	return c;
}

static void tgt_cm_event(struct rdma_cm_event *ev, struct conn **conns, int *nconn)
{
	enum rdma_cm_event_type type = ev->event;
	struct rdma_cm_id *id = ev->id;
	struct conn *c;

	switch (type) {
	case RDMA_CM_EVENT_CONNECT_REQUEST:
		c = tgt_accept(id, ev->param.conn.private_data);
		c->next = *conns;
		*conns = c;
		(*nconn)++;
		rdma_ack_cm_event(ev);
		return;
	case RDMA_CM_EVENT_DISCONNECTED:
		c = id->context;
		note("qid %u: %s", c->qid, rdma_event_str(type));
		rdma_ack_cm_event(ev);
		tgt_conn_unlink(conns, c);
		rdma_disconnect(id);
		tgt_conn_free(c);
		return;
	default:
		note("rdma_cm event %s (status %d)", rdma_event_str(type), ev->status);
		rdma_ack_cm_event(ev);
		return;
	}
}

static void tgt_poll(struct conn *conns, const char *k, int *ncaps)
{
	struct ibv_wc wc;
	struct conn *c;

	for (c = conns; c; c = c->next) {
		while (ibv_poll_cq(c->cq, 1, &wc) == 1) {
			if (wc.status != IBV_WC_SUCCESS) {
				note("qid %u: work request failed: %s", c->qid,
				     ibv_wc_status_str(wc.status));
				continue;
			}
			if (wc.wr_id >= NR_SLOTS)
				continue;
			(*ncaps)++;
			tgt_capsule(c, recv_slot(c, wc.wr_id), wc.byte_len, k);
			post_recv(c, wc.wr_id);
		}
	}
}

static int run_target(const char *addr, const char *port, const char *k, int secs)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_cm_id *listen_id;
	struct conn *conns = NULL;
	long end = now_ms() + secs * 1000L;
	int nconn = 0, ncaps = 0, ret;

	if (!ch)
		die("rdma_create_event_channel: %s", strerror(errno));
	if (rdma_create_id(ch, &listen_id, NULL, RDMA_PS_TCP))
		die("rdma_create_id: %s", strerror(errno));
	ret = getaddrinfo(addr, port, &hints, &ai);
	if (ret)
		die("%s:%s: %s", addr, port, gai_strerror(ret));
	if (rdma_bind_addr(listen_id, ai->ai_addr) || rdma_listen(listen_id, 16))
		die("cannot listen on %s:%s: %s", addr, port, strerror(errno));
	freeaddrinfo(ai);
	note("listening on %s:%s for %d s", addr, port, secs);

	while (now_ms() < end) {
		struct rdma_cm_event *ev = get_event(ch, 5);

		if (ev)
			tgt_cm_event(ev, &conns, &nconn);
		tgt_poll(conns, k, &ncaps);
		/* The host gave up and left: the case is over. */
		if (nconn && !conns)
			break;
	}
	printf("done %s: %d connections, %d capsules\n", k, nconn, ncaps);
	return 0;
}

static void list_cases(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cm_cases); i++)
		printf("cm %s\n", cm_cases[i].name);
	for (i = 0; capsule_cases[i]; i++)
		printf("capsule %s\n", capsule_cases[i]);
	for (i = 0; target_cases[i]; i++)
		printf("target %s\n", target_cases[i]);
}

static int known(const char * const *list, const char *k)
{
	for (; *list; list++)
		if (!strcmp(*list, k))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		list_cases();
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "cm")) {
		cur_case = argv[4];
		return run_cm(argv[2], argv[3], argv[4]);
	}
	if (argc == 7 && !strcmp(argv[1], "capsule")) {
		cur_case = argv[6];
		if (!known(capsule_cases, argv[6]))
			die("no such capsule case");
		return run_capsule(argv[2], argv[3], argv[4], argv[5], argv[6]);
	}
	if (argc == 6 && !strcmp(argv[1], "target")) {
		cur_case = argv[4];
		if (!known(target_cases, argv[4]))
			die("no such target case");
		return run_target(argv[2], argv[3], argv[4], atoi(argv[5]));
	}
	fprintf(stderr,
		"usage: %s cm ADDR PORT CASE\n"
		"       %s capsule ADDR PORT SUBNQN HOSTNQN CASE\n"
		"       %s target ADDR PORT CASE SECONDS\n"
		"       %s list\n", argv[0], argv[0], argv[0], argv[0]);
	return 2;
}
