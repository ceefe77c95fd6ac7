/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arithmetic of the transports that depends on nothing but its arguments:
 * statistics buckets.  Kept here, apart from
 * the drivers' state, so that the KUnit tests in tests/kunit/ exercise the
 * very code the modules run.
 */
#ifndef _NVMEOF_RDMA_CALC_H
#define _NVMEOF_RDMA_CALC_H

#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/types.h>

/**
 * nvmeof_rdma_lat_bucket() - log2 histogram bucket of a latency
 * @us: the latency in microseconds
 * @nr: number of buckets, at least 1
 *
 * Bucket 0 counts latencies under 1 us, bucket b >= 1 those in
 * [2^(b-1), 2^b) us; the last bucket also takes everything beyond.
 */
static inline unsigned int nvmeof_rdma_lat_bucket(u64 us, unsigned int nr)
{
	unsigned int b = us ? ilog2(us) + 1 : 0;

	return min(b, nr - 1);
}

#endif /* _NVMEOF_RDMA_CALC_H */
