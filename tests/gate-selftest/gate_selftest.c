// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: proves that the debug kernel's gate can fail.
 *
 *   insmod gate_selftest.ko mode=kasan   reads one byte past a kmalloc'd
 *                                        buffer: a KASAN slab-out-of-bounds
 *                                        report in the kernel log
 *   insmod gate_selftest.ko mode=leak    allocates buffers and drops the only
 *                                        pointers to them: kmemleak reports
 *                                        them after a scan
 *
 * Built and loaded only by tests/debug-gate-catches-kasan-and-kmemleak.sh;
 * it is not part of the shipped Kbuild or DKMS package.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "none, kasan (out-of-bounds read) or leak (unreferenced allocations)");

/* Not a multiple of KASAN's 8-byte granule: the byte after the end is caught. */
#define GATE_SELFTEST_SIZE	100
/*
 * A stale copy of a pointer (in a register spilled to a freed but cached
 * stack, say) hides that object from kmemleak: leak several.
 */
#define GATE_SELFTEST_LEAKS	8

static noinline int gate_selftest_oob_read(void)
{
	size_t size = GATE_SELFTEST_SIZE;
	char *buf;
	int val;

	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, size);
	OPTIMIZER_HIDE_VAR(size);
	val = READ_ONCE(buf[size]);
	kfree(buf);
	pr_info("read %d past the end of a %d-byte buffer\n", val, GATE_SELFTEST_SIZE);
	return 0;
}

static noinline int gate_selftest_leak(void)
{
	void *buf;
	int i;

	for (i = 0; i < GATE_SELFTEST_LEAKS; i++) {
		buf = kmalloc(GATE_SELFTEST_SIZE, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		memset(buf, 0x5a, GATE_SELFTEST_SIZE);
		OPTIMIZER_HIDE_VAR(buf);
		buf = NULL;
	}
	pr_info("leaked %d buffers of %d bytes\n", GATE_SELFTEST_LEAKS, GATE_SELFTEST_SIZE);
	return 0;
}

static int __init gate_selftest_init(void)
{
	if (!strcmp(mode, "kasan"))
		return gate_selftest_oob_read();
	if (!strcmp(mode, "leak"))
		return gate_selftest_leak();
	if (strcmp(mode, "none")) {
		pr_err("unknown mode '%s' (none, kasan, leak)\n", mode);
		return -EINVAL;
	}
	return 0;
}

static void __exit gate_selftest_exit(void)
{
}

module_init(gate_selftest_init);
module_exit(gate_selftest_exit);

MODULE_DESCRIPTION("Deliberate KASAN and kmemleak errors for the test harness's gate");
MODULE_LICENSE("GPL");
