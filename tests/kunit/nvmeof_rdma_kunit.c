// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the pure helpers both transports build on: CM private
 * data (request, reject), SGL descriptor classification and bounds, queue
 * depth negotiation and the latency histogram.  Loaded only in debug
 * kernel guests by tests/debug-kunit-transport-helpers.sh.
 *
 * Built with NVMEOF_RDMA_KUNIT_FORCE_FAILURE=y (a make variable), one
 * case fails on purpose, so that the harness can prove it notices a
 * failing case.  A module parameter would not do: 6.1 runs a module's
 * suites from the MODULE_STATE_COMING notifier, before it parses the
 * module's parameters.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "nvme_rdma_calc.h"
#include "nvmeof_rdma_proto.h"

#ifdef NVMEOF_RDMA_KUNIT_FORCE_FAILURE
static const bool force_failure = true;
#else
static const bool force_failure;
#endif

/* ---- CM private data ----------------------------------------------- */

static const struct nvmeof_rdma_cm_limits cm_lim = {
	.max_qid	= 8,
	.admin_depth	= NVMEOF_RDMA_ADMIN_DEPTH_MAX,
	.io_depth	= 128,
};

static void cm_req_fill(struct nvme_rdma_cm_req *req, u16 qid, u16 hsqsize,
			u16 hrqsize)
{
	memset(req, 0, sizeof(*req));
	req->recfmt = cpu_to_le16(NVME_RDMA_CM_FMT_1_0);
	req->qid = cpu_to_le16(qid);
	req->hsqsize = cpu_to_le16(hsqsize);
	req->hrqsize = cpu_to_le16(hrqsize);
}

static int cm_check(const struct nvme_rdma_cm_req *req, size_t len,
		    struct nvmeof_rdma_cm_params *p)
{
	return nvmeof_rdma_cm_req_check(req, len, &cm_lim, p);
}

static void cm_req_valid(struct kunit *test)
{
	struct nvme_rdma_cm_req req;
	struct nvmeof_rdma_cm_params p;

	cm_req_fill(&req, 0, NVME_AQ_DEPTH - 1, NVME_AQ_DEPTH);
	KUNIT_ASSERT_EQ(test, cm_check(&req, sizeof(req), &p), 0);
	KUNIT_EXPECT_EQ(test, p.qid, 0);
	KUNIT_EXPECT_EQ(test, p.sq_depth, NVME_AQ_DEPTH);
	KUNIT_EXPECT_EQ(test, p.rq_depth, NVME_AQ_DEPTH);

	cm_req_fill(&req, 8, 127, 200);
	KUNIT_ASSERT_EQ(test, cm_check(&req, sizeof(req), &p), 0);
	KUNIT_EXPECT_EQ(test, p.qid, 8);
	KUNIT_EXPECT_EQ(test, p.sq_depth, 128);
	KUNIT_EXPECT_EQ(test, p.rq_depth, 200);

	/* The smallest usable queue: two entries. */
	cm_req_fill(&req, 1, 1, 1);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p), 0);
	KUNIT_EXPECT_EQ(test, p.sq_depth, 2);
}

static void cm_req_length(struct kunit *test)
{
	u8 buf[sizeof(struct nvme_rdma_cm_req) + 32];
	struct nvmeof_rdma_cm_params p;

	memset(buf, 0xa5, sizeof(buf));
	cm_req_fill((struct nvme_rdma_cm_req *)buf, 1, 31, 32);
	/* The CM may pad private data: longer is fine, shorter is not. */
	KUNIT_EXPECT_EQ(test, cm_check((void *)buf, sizeof(buf), &p), 0);
	KUNIT_EXPECT_EQ(test, cm_check((void *)buf,
				       sizeof(struct nvme_rdma_cm_req) - 1, &p),
			NVME_RDMA_CM_INVALID_LEN);
	KUNIT_EXPECT_EQ(test, cm_check((void *)buf, 0, &p),
			NVME_RDMA_CM_INVALID_LEN);
	KUNIT_EXPECT_EQ(test, cm_check(NULL, sizeof(buf), &p),
			NVME_RDMA_CM_INVALID_LEN);
}

static void cm_req_recfmt(struct kunit *test)
{
	struct nvme_rdma_cm_req req;
	struct nvmeof_rdma_cm_params p;

	cm_req_fill(&req, 1, 31, 32);
	req.recfmt = cpu_to_le16(NVME_RDMA_CM_FMT_1_0 + 1);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_RECFMT);
	req.recfmt = cpu_to_le16(0xffff);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_RECFMT);
}

static void cm_req_qid(struct kunit *test)
{
	struct nvme_rdma_cm_req req;
	struct nvmeof_rdma_cm_params p;

	cm_req_fill(&req, cm_lim.max_qid + 1, 31, 32);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_QID);
	cm_req_fill(&req, 0xffff, 31, 32);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_QID);
}

static void cm_req_hsqsize(struct kunit *test)
{
	struct nvme_rdma_cm_req req;
	struct nvmeof_rdma_cm_params p;

	/* A one-entry queue can never hold a command. */
	cm_req_fill(&req, 1, 0, 32);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_HSQSIZE);
	/* Limits are entries; HSQSIZE is 0's based. */
	cm_req_fill(&req, 1, cm_lim.io_depth, 0xffff);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_HSQSIZE);
	cm_req_fill(&req, 1, cm_lim.io_depth - 1, 0xffff);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p), 0);
	/* The admin queue has its own, smaller limit. */
	cm_req_fill(&req, 0, NVME_AQ_DEPTH, 0xffff);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_HSQSIZE);
	cm_req_fill(&req, 0, 0xffff, 0xffff);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_HSQSIZE);
}

static void cm_req_hrqsize(struct kunit *test)
{
	struct nvme_rdma_cm_req req;
	struct nvmeof_rdma_cm_params p;

	cm_req_fill(&req, 1, 31, 30);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_HRQSIZE);
	cm_req_fill(&req, 1, 31, 31);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p), 0);
	cm_req_fill(&req, 1, 31, 0);
	KUNIT_EXPECT_EQ(test, cm_check(&req, sizeof(req), &p),
			NVME_RDMA_CM_INVALID_HRQSIZE);
}

/* What the host builds, the target accepts unchanged. */
static void cm_req_build_roundtrip(struct kunit *test)
{
	static const struct nvmeof_rdma_cm_params in[] = {
		{ .qid = 0, .sq_depth = NVME_AQ_DEPTH, .rq_depth = NVME_AQ_DEPTH },
		{ .qid = 1, .sq_depth = 2, .rq_depth = 2 },
		{ .qid = 8, .sq_depth = 128, .rq_depth = 128 },
	};
	struct nvme_rdma_cm_req req;
	struct nvmeof_rdma_cm_params out;
	int i;

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		memset(&req, 0xff, sizeof(req));
		nvmeof_rdma_cm_req_build(&req, &in[i]);
		KUNIT_EXPECT_EQ(test, le16_to_cpu(req.hsqsize),
				in[i].sq_depth - 1);
		KUNIT_EXPECT_EQ(test, le16_to_cpu(req.hrqsize), in[i].rq_depth);
		KUNIT_EXPECT_TRUE(test, !memchr_inv(req.rsvd, 0,
						    sizeof(req.rsvd)));
		KUNIT_ASSERT_EQ(test, cm_check(&req, sizeof(req), &out), 0);
		KUNIT_EXPECT_EQ(test, out.qid, in[i].qid);
		KUNIT_EXPECT_EQ(test, out.sq_depth, in[i].sq_depth);
		KUNIT_EXPECT_EQ(test, out.rq_depth, in[i].rq_depth);
	}
}

static void cm_rej_status(struct kunit *test)
{
	struct nvme_rdma_cm_rej rej = {
		.recfmt	= cpu_to_le16(NVME_RDMA_CM_FMT_1_0),
		.sts	= cpu_to_le16(NVME_RDMA_CM_INVALID_HSQSIZE),
	};

	KUNIT_EXPECT_EQ(test, nvmeof_rdma_cm_rej_status(&rej, sizeof(rej)),
			NVME_RDMA_CM_INVALID_HSQSIZE);
	/* A CM-level reject: no or short private data, another format. */
	KUNIT_EXPECT_EQ(test, nvmeof_rdma_cm_rej_status(NULL, 0), 0);
	KUNIT_EXPECT_EQ(test, nvmeof_rdma_cm_rej_status(&rej, sizeof(rej) - 1),
			0);
	rej.recfmt = cpu_to_le16(NVME_RDMA_CM_FMT_1_0 + 1);
	KUNIT_EXPECT_EQ(test, nvmeof_rdma_cm_rej_status(&rej, sizeof(rej)), 0);

	KUNIT_EXPECT_STREQ(test, nvmeof_rdma_cm_status_str(0),
			   "no NVMe/RDMA status");
	KUNIT_EXPECT_STRNEQ(test,
			    nvmeof_rdma_cm_status_str(NVME_RDMA_CM_INVALID_QID),
			    "no NVMe/RDMA status");
}

static struct kunit_case cm_cases[] = {
	KUNIT_CASE(cm_req_valid),
	KUNIT_CASE(cm_req_length),
	KUNIT_CASE(cm_req_recfmt),
	KUNIT_CASE(cm_req_qid),
	KUNIT_CASE(cm_req_hsqsize),
	KUNIT_CASE(cm_req_hrqsize),
	KUNIT_CASE(cm_req_build_roundtrip),
	KUNIT_CASE(cm_rej_status),
	{}
};

static struct kunit_suite cm_suite = {
	.name = "nvmeof_rdma_cm",
	.test_cases = cm_cases,
};

/* ---- SGL descriptors ------------------------------------------------ */

static enum nvmeof_rdma_sgl_kind sgl_kind(u8 type, u8 subtype)
{
	return nvmeof_rdma_sgl_classify(type << 4 | subtype);
}

static void sgl_classify_valid(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test,
			sgl_kind(NVME_KEY_SGL_FMT_DATA_DESC, NVME_SGL_FMT_ADDRESS),
			NVMEOF_RDMA_SGL_KEYED);
	KUNIT_EXPECT_EQ(test,
			sgl_kind(NVME_KEY_SGL_FMT_DATA_DESC,
				 NVME_SGL_FMT_INVALIDATE),
			NVMEOF_RDMA_SGL_KEYED_INV);
	KUNIT_EXPECT_EQ(test,
			sgl_kind(NVME_SGL_FMT_DATA_DESC, NVME_SGL_FMT_OFFSET),
			NVMEOF_RDMA_SGL_INCAPSULE);
}

static void sgl_classify_invalid(struct kunit *test)
{
	enum nvmeof_rdma_sgl_kind k;
	unsigned int t, s;

	/* Known descriptor types with any other subtype. */
	for (s = 0; s < 16; s++) {
		k = sgl_kind(NVME_KEY_SGL_FMT_DATA_DESC, s);
		if (s != NVME_SGL_FMT_ADDRESS && s != NVME_SGL_FMT_INVALIDATE)
			KUNIT_EXPECT_EQ_MSG(test, k, NVMEOF_RDMA_SGL_BAD_SUBTYPE,
					    "keyed, subtype %u", s);
		k = sgl_kind(NVME_SGL_FMT_DATA_DESC, s);
		if (s != NVME_SGL_FMT_OFFSET)
			KUNIT_EXPECT_EQ_MSG(test, k, NVMEOF_RDMA_SGL_BAD_SUBTYPE,
					    "data block, subtype %u", s);
	}
	/* Segments, bit buckets, transport descriptors, reserved types. */
	for (t = 0; t < 16; t++) {
		if (t == NVME_KEY_SGL_FMT_DATA_DESC ||
		    t == NVME_SGL_FMT_DATA_DESC)
			continue;
		for (s = 0; s < 16; s++)
			KUNIT_EXPECT_EQ_MSG(test, sgl_kind(t, s),
					    NVMEOF_RDMA_SGL_BAD_TYPE,
					    "type %u subtype %u", t, s);
	}
}

static void sgl_keyed_fields(struct kunit *test)
{
	struct {
		u8 pad;
		struct nvme_keyed_sgl_desc d;
	} __packed buf;

	/* Deliberately misaligned, as in a capsule that is not. */
	memset(&buf, 0, sizeof(buf));
	buf.d.length[0] = 0x56;
	buf.d.length[1] = 0x34;
	buf.d.length[2] = 0x12;
	buf.d.key[0] = 0xef;
	buf.d.key[1] = 0xbe;
	buf.d.key[2] = 0xad;
	buf.d.key[3] = 0xde;
	KUNIT_EXPECT_EQ(test, nvmeof_rdma_keyed_len(&buf.d), 0x123456);
	KUNIT_EXPECT_EQ(test, nvmeof_rdma_keyed_key(&buf.d), 0xdeadbeef);

	memset(buf.d.length, 0xff, sizeof(buf.d.length));
	KUNIT_EXPECT_EQ(test, nvmeof_rdma_keyed_len(&buf.d), 0xffffff);
}

static void sgl_incapsule_bounds(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, nvmeof_rdma_incapsule_fits(0, 0, 0));
	KUNIT_EXPECT_TRUE(test, nvmeof_rdma_incapsule_fits(0, 4096, 4096));
	KUNIT_EXPECT_FALSE(test, nvmeof_rdma_incapsule_fits(0, 4097, 4096));
	KUNIT_EXPECT_TRUE(test, nvmeof_rdma_incapsule_fits(96, 4000, 4096));
	KUNIT_EXPECT_FALSE(test, nvmeof_rdma_incapsule_fits(97, 4000, 4096));
	KUNIT_EXPECT_TRUE(test, nvmeof_rdma_incapsule_fits(4096, 0, 4096));
	KUNIT_EXPECT_FALSE(test, nvmeof_rdma_incapsule_fits(4097, 0, 4096));
	/* Offsets a sum would wrap around to something small. */
	KUNIT_EXPECT_FALSE(test, nvmeof_rdma_incapsule_fits(U64_MAX, 2, 4096));
	KUNIT_EXPECT_FALSE(test,
			   nvmeof_rdma_incapsule_fits(U64_MAX - 4095, 4096,
						      4096));
	KUNIT_EXPECT_FALSE(test,
			   nvmeof_rdma_incapsule_fits(1ULL << 32, 0, 4096));
	KUNIT_EXPECT_FALSE(test,
			   nvmeof_rdma_incapsule_fits(1, U32_MAX, U32_MAX));
	KUNIT_EXPECT_FALSE(test, nvmeof_rdma_incapsule_fits(0, 1, 0));
}

static struct kunit_case sgl_cases[] = {
	KUNIT_CASE(sgl_classify_valid),
	KUNIT_CASE(sgl_classify_invalid),
	KUNIT_CASE(sgl_keyed_fields),
	KUNIT_CASE(sgl_incapsule_bounds),
	{}
};

static struct kunit_suite sgl_suite = {
	.name = "nvmeof_rdma_sgl",
	.test_cases = sgl_cases,
};

/* ---- Queue depth negotiation ----------------------------------------- */

static void depth_limit(struct kunit *test)
{
	/* Nothing to clamp. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(128, 256, 0), 128);
	/* This host's maximum. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(1024, 256, 0), 256);
	/* MAXCMD below the queue size, then below the host's maximum. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(128, 256, 64), 64);
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(1024, 256, 100), 100);
	/* MAXCMD above what is used anyway changes nothing. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(128, 256, 1024), 128);
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(1024, 256, 512), 256);
	/* Equal values are limits, not violations. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(256, 256, 256), 256);
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(2, 256, 0), 2);
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_limit(65536, 256, 0xffff),
			256);
}

static void depth_keep(struct kunit *test)
{
	/* A new controller has no tag set: whatever is allowed. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_keep(128, 0), 128);
	/* A reconnect keeps the tag set's depth if still allowed... */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_keep(128, 128), 128);
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_keep(256, 128), 128);
	/* ...and is refused when the controller now allows less. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_depth_keep(127, 128), 0);
	KUNIT_EXPECT_EQ(test,
			nvme_rdma_depth_keep(nvme_rdma_depth_limit(1024, 256,
								   32),
					       64),
			0);
}

static struct kunit_case depth_cases[] = {
	KUNIT_CASE(depth_limit),
	KUNIT_CASE(depth_keep),
	{}
};

static struct kunit_suite depth_suite = {
	.name = "nvmeof_rdma_depth",
	.test_cases = depth_cases,
};

/* ---- Statistics ------------------------------------------------------- */

static void lat_bucket_bounds(struct kunit *test)
{
	const unsigned int nr = 24;
	unsigned int b;

	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(0, nr), 0);
	/* Bucket b >= 1 holds [2^(b-1), 2^b) us. */
	for (b = 1; b < nr - 1; b++) {
		u64 lo = 1ULL << (b - 1), hi = (1ULL << b) - 1;

		KUNIT_EXPECT_EQ_MSG(test, nvme_rdma_lat_bucket(lo, nr), b,
				    "%llu us", lo);
		KUNIT_EXPECT_EQ_MSG(test, nvme_rdma_lat_bucket(hi, nr), b,
				    "%llu us", hi);
	}
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(3, nr), 2);
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(1000, nr), 10);
}

static void lat_bucket_clamp(struct kunit *test)
{
	const unsigned int nr = 24;

	/* The last bucket is open-ended: 2^22 us (4.2 s) and beyond. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(1ULL << (nr - 2), nr),
			nr - 1);
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(1ULL << (nr - 1), nr),
			nr - 1);
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(1ULL << 40, nr), nr - 1);
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(U64_MAX, nr), nr - 1);
	/* A single bucket takes everything. */
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(0, 1), 0);
	KUNIT_EXPECT_EQ(test, nvme_rdma_lat_bucket(U64_MAX, 1), 0);
}

/* Fails only in the FORCE_FAILURE build: the harness must report it. */
static void forced_failure(struct kunit *test)
{
	KUNIT_EXPECT_FALSE_MSG(test, force_failure,
			       "failing on purpose (NVMEOF_RDMA_KUNIT_FORCE_FAILURE)");
}

static struct kunit_case stats_cases[] = {
	KUNIT_CASE(lat_bucket_bounds),
	KUNIT_CASE(lat_bucket_clamp),
	KUNIT_CASE(forced_failure),
	{}
};

static struct kunit_suite stats_suite = {
	.name = "nvmeof_rdma_stats",
	.test_cases = stats_cases,
};

kunit_test_suites(&cm_suite, &sgl_suite, &depth_suite, &stats_suite);

MODULE_DESCRIPTION("KUnit tests of the NVMe/RDMA transports' pure helpers");
MODULE_LICENSE("GPL");
