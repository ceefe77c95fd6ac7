/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arithmetic of the transports that depends on nothing but its arguments:
 * queue depth negotiation, the reconnect schedule and statistics buckets.
 * Kept here, apart from the drivers' state, so that the KUnit tests in
 * tests/kunit/ exercise the very code the modules run.
 */
#ifndef _NVME_RDMA_CALC_H
#define _NVME_RDMA_CALC_H

#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/types.h>

/**
 * nvme_rdma_lat_bucket() - log2 histogram bucket of a latency
 * @us: the latency in microseconds
 * @nr: number of buckets, at least 1
 *
 * Bucket 0 counts latencies under 1 us, bucket b >= 1 those in
 * [2^(b-1), 2^b) us; the last bucket also takes everything beyond.
 */
static inline unsigned int nvme_rdma_lat_bucket(u64 us, unsigned int nr)
{
	unsigned int b = us ? ilog2(us) + 1 : 0;

	return min(b, nr - 1);
}

/**
 * nvme_rdma_depth_limit() - the I/O queue depth a host can use
 * @offered: entries the controller allows (MQES + 1, queue_size applied)
 * @host_max: entries this host supports
 * @maxcmd: the controller's MAXCMD, 0 when it sets none
 *
 * MAXCMD bounds the commands outstanding on a queue, so a deeper queue
 * could only hold commands the controller may refuse.
 */
static inline u32 nvme_rdma_depth_limit(u32 offered, u32 host_max,
					u32 maxcmd)
{
	u32 depth = min(offered, host_max);

	if (maxcmd && depth > maxcmd)
		depth = maxcmd;
	return depth;
}

/**
 * nvme_rdma_depth_keep() - the queue depth of a reconnected controller
 * @allowed: what nvme_rdma_depth_limit() gives for the new association
 * @in_use: the depth the I/O tag set was created with, 0 if there is none
 *
 * The tag set outlives reconnects and cannot shrink: its depth is kept
 * when the controller still allows it.
 *
 * Return: the depth to use, or 0 when the controller now allows fewer
 * entries than the tag set already hands out.
 */
static inline u32 nvme_rdma_depth_keep(u32 allowed, u32 in_use)
{
	if (!in_use)
		return allowed;
	return allowed < in_use ? 0 : in_use;
}

/**
 * nvme_rdma_backoff_delay() - wait before a reconnect attempt
 * @base: reconnect_delay, in seconds
 * @attempt: the attempt about to be scheduled, 1 for the first
 * @cap: at most this many times @base; 1 gives a fixed delay
 *
 * Doubles from @base with every failed attempt, up to @cap * @base, so
 * that hosts which lost one target do not keep hammering it while it
 * restarts.
 *
 * Return: the delay in seconds.
 */
static inline u64 nvme_rdma_backoff_delay(u32 base, u32 attempt, u32 cap)
{
	u64 d = base, max = (u64)base * (cap ?: 1);
	u32 n = attempt > 1 ? attempt - 1 : 0;

	while (n-- && d < max)
		d <<= 1;
	return min(d, max);
}

/**
 * nvme_rdma_backoff_attempts() - reconnect attempts that fit a deadline
 * @base: reconnect_delay, in seconds
 * @cap: as for nvme_rdma_backoff_delay()
 * @total: seconds from the loss until the controller goes
 *         (ctrl_loss_tmo, rounded up to whole reconnect_delays)
 *
 * Every attempt scheduled to start before @total is made, the last one
 * brought forward to @total itself; none starts after it.
 *
 * Return: the number of attempts that schedule makes (each attempt's own
 * duration and the jitter not counted, so the real number may be lower).
 */
static inline u32 nvme_rdma_backoff_attempts(u32 base, u32 cap, u64 total)
{
	u64 max = nvme_rdma_backoff_delay(base, U32_MAX, cap), at = 0, d;
	u32 n = 0;

	if (!base || !total)
		return 0;
	/* The doubling steps (at most 32) ... */
	while ((d = nvme_rdma_backoff_delay(base, n + 1, cap)) < max) {
		n++;
		at += d;
		if (at >= total)
			return n;
	}
	/* ...then every max seconds, the last one at the deadline. */
	return min_t(u64, n + (total - at + max - 1) / max, U32_MAX);
}

#endif /* _NVME_RDMA_CALC_H */
