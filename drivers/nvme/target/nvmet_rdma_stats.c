// SPDX-License-Identifier: GPL-2.0
/*
 * NVMe over Fabrics RDMA target transport: debugfs counters.
 *
 *   nvmet_rdma/objects      live objects per type (all 0 when idle) and
 *                           connection counters
 *   nvmet_rdma/queues/<n>   one file per queue
 *   nvmet_rdma/fault        test-only response faults (nvmet_rdma_fault.c,
 *                           FAULT_INJECTION builds only)
 *
 * debugfs being optional, failures to create files are ignored.
 */
#include "nvmet_rdma.h"

#include <linux/debugfs.h>
#include <linux/seq_file.h>

atomic_long_t nvmet_rdma_live[NVMET_RDMA_OBJ_NR];
atomic64_t nvmet_rdma_gstats[NVMET_RDMA_GS_NR];

static struct dentry *nvmet_rdma_dbg_root;
static struct dentry *nvmet_rdma_dbg_queues;

static const char * const nvmet_rdma_obj_names[NVMET_RDMA_OBJ_NR] = {
	[NVMET_RDMA_OBJ_PORT]		= "ports",
	[NVMET_RDMA_OBJ_LISTENER]	= "listeners",
	[NVMET_RDMA_OBJ_DEV]		= "devices",
	[NVMET_RDMA_OBJ_QUEUE]		= "queues",
	[NVMET_RDMA_OBJ_SLOT]		= "slots",
	[NVMET_RDMA_OBJ_SRQ]		= "srqs",
#ifdef NVMEOF_RDMA_FAULT_INJECTION
	[NVMET_RDMA_OBJ_FAULT_SEND]	= "fault_sends",
#endif
};

static const char * const nvmet_rdma_gstat_names[NVMET_RDMA_GS_NR] = {
	[NVMET_RDMA_GS_CONNECTS]	= "connect_requests",
	[NVMET_RDMA_GS_REJECTS]		= "rejects",
	[NVMET_RDMA_GS_WC_ERRORS]	= "wc_errors",
	[NVMET_RDMA_GS_XFER_ERRORS]	= "xfer_errors",
	[NVMET_RDMA_GS_SQ_OVERFLOWS]	= "sq_overflows",
};

static int nvmet_rdma_objects_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < NVMET_RDMA_OBJ_NR; i++)
		seq_printf(m, "%s %ld\n", nvmet_rdma_obj_names[i],
			   atomic_long_read(&nvmet_rdma_live[i]));
	for (i = 0; i < NVMET_RDMA_GS_NR; i++)
		seq_printf(m, "%s %lld\n", nvmet_rdma_gstat_names[i],
			   atomic64_read(&nvmet_rdma_gstats[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvmet_rdma_objects);

static const char * const nvmet_rdma_qstate_names[] = {
	[NVMET_RDMA_Q_CONNECTING]	= "connecting",
	[NVMET_RDMA_Q_LIVE]		= "live",
	[NVMET_RDMA_Q_CLOSING]		= "closing",
};

/* debugfs removes the file, waiting for readers, before the queue goes. */
static int nvmet_rdma_queue_show(struct seq_file *m, void *unused)
{
	struct nvmet_rdma_queue *queue = m->private;
	struct nvmet_rdma_qstats *st = &queue->stats;
	/* Set by the connect command at any time; read the pointer once. */
	struct nvmet_ctrl *ctrl = READ_ONCE(queue->nvme_sq.ctrl);
	int i;

	seq_printf(m, "host %pISpc\nqid %u\ncntlid %d\nstate %s\n",
		   &queue->peer, queue->qid, ctrl ? ctrl->cntlid : -1,
		   nvmet_rdma_qstate_names[READ_ONCE(queue->state)]);
	seq_printf(m, "depth %u\nslots %u\ninline_size %u\nrw_budget %u\nrw_credits %u\ncq_entries %u\n",
		   queue->depth, queue->nr_slots, queue->inline_size, queue->rw_budget,
		   READ_ONCE(queue->rw_credits), queue->cq_size);
	seq_printf(m, "commands %lld\ninline_commands %lld\n",
		   atomic64_read(&st->cmds), atomic64_read(&st->inline_cmds));
	seq_printf(m, "bytes_in %lld\nbytes_out %lld\n",
		   atomic64_read(&st->bytes_in), atomic64_read(&st->bytes_out));
	seq_printf(m, "sgl_errors %lld\nrw_waits %lld\n",
		   atomic64_read(&st->sgl_errors), atomic64_read(&st->rw_waits));
	seq_printf(m, "srq %s\nsrq_receives %lld\nsrq_backlog %lld\n",
		   queue->srq ? "yes" : "no", atomic64_read(&st->srq_recvs),
		   atomic64_read(&st->srq_backlog));
	seq_printf(m, "inflight %d\ninflight_max %d\nxfer_errors %lld\nsq_overflows %lld\n",
		   atomic_read(&queue->inflight), READ_ONCE(queue->inflight_max),
		   atomic64_read(&st->xfer_errors),
		   atomic64_read(&st->sq_overflows));
	for (i = 0; i <= IB_WC_GENERAL_ERR; i++) {
		s64 n = atomic64_read(&st->wc_errors[i]);

		if (n)
			seq_printf(m, "wc_error %s %lld\n",
				   ib_wc_status_msg(i), n);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvmet_rdma_queue);

static int nvmet_rdma_srqs_dbg_show(struct seq_file *m, void *unused)
{
	nvmet_rdma_srqs_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvmet_rdma_srqs_dbg);

void nvmet_rdma_stats_queue_add(struct nvmet_rdma_queue *queue)
{
	char name[16];

	snprintf(name, sizeof(name), "%d", queue->idx);
	queue->dbg = debugfs_create_file(name, 0400, nvmet_rdma_dbg_queues,
					 queue, &nvmet_rdma_queue_fops);
}

void nvmet_rdma_stats_queue_del(struct nvmet_rdma_queue *queue)
{
	debugfs_remove(queue->dbg);
	queue->dbg = NULL;
}

void nvmet_rdma_stats_init(void)
{
	nvmet_rdma_dbg_root = debugfs_create_dir("nvmet_rdma", NULL);
	debugfs_create_file("objects", 0400, nvmet_rdma_dbg_root, NULL,
			    &nvmet_rdma_objects_fops);
	debugfs_create_file("srqs", 0400, nvmet_rdma_dbg_root, NULL,
			    &nvmet_rdma_srqs_dbg_fops);
	nvmet_rdma_dbg_queues = debugfs_create_dir("queues",
						   nvmet_rdma_dbg_root);
	nvmet_rdma_fault_init(nvmet_rdma_dbg_root);
}

void nvmet_rdma_stats_exit(void)
{
	nvmet_rdma_fault_exit();
	debugfs_remove_recursive(nvmet_rdma_dbg_root);
}
