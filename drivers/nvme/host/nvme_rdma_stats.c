// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA host transport: debugfs statistics.
 *
 * /sys/kernel/debug/nvme_rdma/<nvmeN>/stats    per-queue counters
 * /sys/kernel/debug/nvme_rdma/<nvmeN>/latency  per-queue log2 histogram
 *                                              of submit-to-complete time
 *
 * Counters live in the queue array, which lasts as long as the controller,
 * so they add up across reconnects. They are plain atomics: one hardware
 * queue is submitted to from several CPUs, and nothing here allocates.
 */
#include "nvme_rdma.h"
#include "nvme_rdma_calc.h"

#include <linux/debugfs.h>
#include <linux/seq_file.h>

static struct dentry *nvme_rdma_debugfs_root;

static const char * const nvme_rdma_stat_names[NVME_RDMA_STAT_MAX] = {
	[NVME_RDMA_STAT_CMDS]		= "commands",
	[NVME_RDMA_STAT_INLINE]	= "inline_writes",
	[NVME_RDMA_STAT_KEYED]	= "keyed",
	[NVME_RDMA_STAT_REMOTE_INV]	= "remote_inv",
	[NVME_RDMA_STAT_LOCAL_INV]	= "local_inv",
	[NVME_RDMA_STAT_BAD_RSP]	= "bad_responses",
	[NVME_RDMA_STAT_WC_ERR]	= "wc_errors",
	[NVME_RDMA_STAT_CONNECTS]	= "connects",
};

void nvme_rdma_stat_latency(struct nvme_rdma_queue *q, u64 start_ns)
{
	u64 us = div_u64(ktime_get_ns() - start_ns, NSEC_PER_USEC);

	atomic_long_inc(&q->lat[nvme_rdma_lat_bucket(us, NVME_RDMA_LAT_BUCKETS)]);
}

static int nvme_rdma_stats_show(struct seq_file *m, void *unused)
{
	struct nvme_rdma_ctrl *ctrl = m->private;
	u32 i;
	int s;

	seq_printf(m, "recoveries %ld\n", atomic_long_read(&ctrl->recoveries));
	for (i = 0; i < ctrl->max_queues; i++) {
		struct nvme_rdma_queue *q = &ctrl->queues[i];

		seq_printf(m, "queue %u:", i);
		for (s = 0; s < NVME_RDMA_STAT_MAX; s++)
			seq_printf(m, " %s %ld", nvme_rdma_stat_names[s],
				   atomic_long_read(&q->stats[s]));
		seq_putc(m, '\n');
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvme_rdma_stats);

/* Bucket 0 is under 1 us, bucket b >= 1 is [2^(b-1), 2^b) us. */
static int nvme_rdma_latency_show(struct seq_file *m, void *unused)
{
	struct nvme_rdma_ctrl *ctrl = m->private;
	u32 i, b;

	for (i = 0; i < ctrl->max_queues; i++) {
		struct nvme_rdma_queue *q = &ctrl->queues[i];

		seq_printf(m, "queue %u:\n", i);
		for (b = 0; b < NVME_RDMA_LAT_BUCKETS; b++) {
			long n = atomic_long_read(&q->lat[b]);

			if (!n)
				continue;
			if (b == NVME_RDMA_LAT_BUCKETS - 1)
				seq_printf(m, "  >= %lu us: %ld\n",
					   1UL << (b - 1), n);
			else
				seq_printf(m, "  < %lu us: %ld\n", 1UL << b, n);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvme_rdma_latency);

void nvme_rdma_debugfs_ctrl_add(struct nvme_rdma_ctrl *ctrl)
{
	/* debugfs is optional: errors are ignored by design of its API. */
	ctrl->debugfs = debugfs_create_dir(dev_name(ctrl->ctrl.device),
					   nvme_rdma_debugfs_root);
	debugfs_create_file("stats", 0400, ctrl->debugfs, ctrl,
			    &nvme_rdma_stats_fops);
	debugfs_create_file("latency", 0400, ctrl->debugfs, ctrl,
			    &nvme_rdma_latency_fops);
}

/* Waits for readers of the files, so the controller may be freed after. */
void nvme_rdma_debugfs_ctrl_remove(struct nvme_rdma_ctrl *ctrl)
{
	debugfs_remove_recursive(ctrl->debugfs);
	ctrl->debugfs = NULL;
}

void nvme_rdma_debugfs_init(void)
{
	nvme_rdma_debugfs_root = debugfs_create_dir("nvme_rdma", NULL);
}

void nvme_rdma_debugfs_exit(void)
{
	debugfs_remove_recursive(nvme_rdma_debugfs_root);
}
