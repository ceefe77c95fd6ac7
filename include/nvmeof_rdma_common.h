/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by the nvme-rdma host and nvmet-rdma target modules.
 */
#ifndef _NVMEOF_RDMA_COMMON_H
#define _NVMEOF_RDMA_COMMON_H

/*
 * Both modules carry the in-tree names so that they override the in-tree
 * ones from updates/; the version string, set by the build from the release
 * and the git revision, is what tells them apart in modinfo.
 */
#ifndef NVMEOF_RDMA_VERSION
#error "NVMEOF_RDMA_VERSION is unset: build through the top-level Makefile"
#endif

#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/string.h>

/*
 * param_set_uint_minmax() for a module parameter that must lie in
 * [@min, @max], saying which value it refused and why. Inline, so that the
 * message carries the pr_fmt prefix of the module that includes it.
 */
static inline int nvmeof_rdma_param_set_range(const char *val,
					      const struct kernel_param *kp,
					      unsigned int min, unsigned int max)
{
	int ret = param_set_uint_minmax(val, kp, min, max);

	/* Written through sysfs, val usually ends in a newline. */
	if (ret)
		pr_err("%s %.*s refused: must be %u-%u (%d)\n", kp->name,
		       (int)strcspn(val, "\n"), val, min, max, ret);
	return ret;
}

#endif /* _NVMEOF_RDMA_COMMON_H */
