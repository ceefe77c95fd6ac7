# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree NVMe-oF RDMA host (nvme-rdma.ko) and target (nvmet-rdma.ko)
# transports. This file only drives kbuild; what gets built is in Kbuild.
#
#   make [all]        build both modules against $(KDIR)
#   make install      install into /lib/modules/$(KVER)/updates, run depmod
#   make dkms         register, build and install through DKMS
#   make style        checkpatch --strict, then a W=1 C=2 (sparse) rebuild
#   make clean        kbuild clean and rm -rf build/
#   make tools        the userspace test tools (tests/tools/*.c) in build/tools/,
#                     which the VM harness copies into every guest
#   make demo|check|bench   build, then run scripts/{demo,run-tests,bench}.sh
#   make bench QUICK=1      the benchmark's ~5 min smoke version
#   make debug-kernel       build the KASAN/lockdep/kmemleak kernel (cached per machine)
#   make debug-modules      our modules against it, in build/debug-modules/
#   make check-debug        the test suite on the debug kernel (KERNEL=debug)
#
#   make deps         (root) install the packages the targets need; make
#                     itself never installs anything
#
# Variables: KVER, KDIR, KSRC (kernel tree to take the private headers
# from instead of the Debian source package), TESTS (passed to check),
# QUICK=1 (bench), INSTALL_MOD_PATH (staging root for install),
# FAULT_INJECTION=1 (build the test-only fault modes and error-injection
# points into the modules; check and check-debug set it, nothing else does).

# The Debian kernel the VM harness boots; check, demo, bench and
# check-debug always build and test against it.
HARNESS_KVER := 6.1.0-56-amd64
KSRC ?=
# By default, the running kernel when it can be built for: its headers
# are there and so are its private nvme headers, by the rules of
# scripts/extract-kheaders.sh (KSRC, its own source tree, or the matching
# linux-source); otherwise the harness kernel.
ifeq ($(origin KVER),undefined)
KVER := $(shell r=$$(uname -r); \
	if [ -d /lib/modules/$$r/build ] && \
	   KSRC='$(KSRC)' $(CURDIR)/scripts/extract-kheaders.sh --check $$r 2>/dev/null; \
	then echo $$r; else echo $(HARNESS_KVER); fi)
endif
KDIR ?= /lib/modules/$(KVER)/build

# The release version lives in dkms.conf, which DKMS reads as shell.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(CURDIR)/dkms.conf)
ifeq ($(VERSION),)
$(error cannot read PACKAGE_VERSION from dkms.conf)
endif

# The git revision, when built from a checkout; the copy handed to DKMS has
# no .git and carries the revision in .scmversion instead.
SCMVERSION := $(shell if [ -f $(CURDIR)/.scmversion ]; then cat $(CURDIR)/.scmversion; \
		elif [ -e $(CURDIR)/.git ]; then git -C $(CURDIR) describe --always --dirty 2>/dev/null; fi)
NVMEOF_RDMA_VERSION := $(VERSION)$(if $(SCMVERSION),-$(SCMVERSION))

# Module BTF is generated against $(KDIR)/vmlinux, which Debian's headers
# lack; kbuild would then print a "Skipping BTF" line per module.
KBUILD_BTF = $(if $(wildcard $(KDIR)/vmlinux),,CONFIG_DEBUG_INFO_BTF_MODULES=)

# Recursively expanded: check sets FAULT_INJECTION and KVER for its
# prerequisites.
FAULT_INJECTION ?=
KBUILD = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_BTF) \
	 NVMEOF_RDMA_VERSION=$(NVMEOF_RDMA_VERSION) \
	 NVMEOF_RDMA_FAULT_INJECTION=$(FAULT_INJECTION)

# The harness boots $(HARNESS_KVER) and loads the modules built in the
# tree: build them for that kernel whatever the default KVER is (a KVER
# given on the command line still wins).
check check-debug demo bench: KVER = $(HARNESS_KVER)

# DKMS_SOURCE_TREE and DKMS_FLAGS (e.g. --dkmstree, --installtree,
# --no-depmod) let a test run the same steps in private trees.
DKMS_SOURCE_TREE ?= /usr/src
DKMS_FLAGS ?=
DKMS_SRC = $(DKMS_SOURCE_TREE)/nvmeof-rdma-$(VERSION)
DKMS_RUN = dkms $(DKMS_FLAGS)
# DKMS builds in its own copy: hand it sources only, as a clone has them.
DKMS_EXCLUDES := --exclude=./build --exclude=./.git --exclude=./.scmversion \
	$(foreach p,*.o *.ko *.mod *.mod.c *.a *.symvers *.order .*.cmd .*.d *.dwo,--exclude='$(p)')

.PHONY: all deps kdir kheaders install dkms dkms-install style clean demo check bench \
	debug-kernel debug-modules check-debug tools

all: kheaders
	$(KBUILD) modules

# Userspace peers for the tests, linked against rdma-core (libibverbs-dev,
# librdmacm-dev); the guests run them from the 9p share with the host's
# libraries, which the guest image carries.
TOOLS_CC ?= gcc
TOOLS_CFLAGS ?= -O2 -g -Wall -Wextra -Wno-unused-parameter
TOOLS := $(patsubst tests/tools/%.c,build/tools/%,$(wildcard tests/tools/*.c))

tools: $(TOOLS)

build/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	$(TOOLS_CC) $(TOOLS_CFLAGS) -o $@ $< -lrdmacm -libverbs

# The full installer (qemu, nvme-cli, fio, rdma-core, ...) for the targets
# that boot VMs; it returns at once when everything is there.  Only this
# target installs: a plain make stops and says what is missing.
deps:
	@KVER=$(KVER) scripts/install-deps.sh

kdir:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "make: $(KDIR) is missing: no kernel headers for KVER=$(KVER)." >&2; \
		echo "make: as root, 'make deps KVER=$(KVER)' installs linux-headers-$(KVER);" \
			"or set KDIR= to a configured kernel build directory." >&2; \
		exit 1; \
	fi

kheaders: kdir
	@KSRC=$(KSRC) scripts/extract-kheaders.sh $(KVER) build/ksrc

# Debian ships no module signing key, so signing would only print errors;
# kbuild skips its own depmod for want of System.map, hence ours.
install: all
	$(KBUILD) INSTALL_MOD_DIR=updates CONFIG_MODULE_SIG_ALL= modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)

dkms dkms-install:
	@command -v dkms >/dev/null || { \
		echo "dkms is not installed: make deps (as root) installs it, or use 'make install'" >&2; \
		exit 1; }
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	tar -cf - $(DKMS_EXCLUDES) . | tar -xf - -C $(DKMS_SRC)
	$(if $(SCMVERSION),echo '$(SCMVERSION)' > $(DKMS_SRC)/.scmversion)
	if [ -n "$$($(DKMS_RUN) status -m nvmeof-rdma -v $(VERSION))" ]; then \
		$(DKMS_RUN) remove -m nvmeof-rdma -v $(VERSION) --all; fi
	$(DKMS_RUN) add -m nvmeof-rdma -v $(VERSION)
	$(DKMS_RUN) build -m nvmeof-rdma -v $(VERSION) -k $(KVER)
	$(DKMS_RUN) install -m nvmeof-rdma -v $(VERSION) -k $(KVER)

style: kheaders
	@KDIR=$(KDIR) KBUILD_ARGS='$(KBUILD_BTF)' \
		NVMEOF_RDMA_VERSION=$(NVMEOF_RDMA_VERSION) scripts/style.sh

clean:
	@if [ -d "$(KDIR)" ]; then $(KBUILD) clean; fi
	rm -rf build

demo: deps all
	KVER=$(KVER) scripts/demo.sh

# A full run includes the debug smoke test, which needs the debug kernel:
# when the machine has none, its build starts now, in the background and
# niced, so that it overlaps the other tests (the runner runs the tests
# pinned to the debug kernel last; they wait for the build on its lock).
# The tests drive the fault modes: build them in (a plain make leaves them out).
check check-debug debug-modules: FAULT_INJECTION = 1

check: deps all tools
	@if [ -z '$(TESTS)' ] && ! scripts/debug-kernel.sh dir > /dev/null 2>&1; then \
		mkdir -p build; \
		echo "check: building the debug kernel in the background (log: build/debug-kernel.log)"; \
		scripts/debug-kernel.sh > build/debug-kernel.log 2>&1 & \
	fi
	KVER=$(KVER) TESTS='$(TESTS)' KERNEL=debian scripts/run-tests.sh

# The debug kernel lives in a machine-wide cache (scripts/debug-kernel.sh).
# Our modules for it are built in a copy of the sources, so the Debian
# build in the tree stays as it is; the private headers come from the
# debug kernel's own tree (the same source version).
DEBUG_MOD_DIR := build/debug-modules

debug-kernel: deps
	@scripts/debug-kernel.sh > /dev/null

debug-modules: debug-kernel
	@set -e; dir=$$(scripts/debug-kernel.sh dir); \
	mkdir -p $(DEBUG_MOD_DIR); \
	tar -cf - $(DKMS_EXCLUDES) --exclude=./tests . | tar -xf - -C $(DEBUG_MOD_DIR); \
	echo '$(SCMVERSION)' > $(DEBUG_MOD_DIR)/.scmversion; \
	$(MAKE) --no-print-directory -C $(DEBUG_MOD_DIR) KDIR=$$dir/linux \
		KVER=$$(cat $$dir/kernelrelease) KSRC=$$dir/linux \
		FAULT_INJECTION=$(FAULT_INJECTION) all

check-debug: deps debug-modules tools
	KVER=$(KVER) TESTS='$(TESTS)' KERNEL=debug scripts/run-tests.sh

# ~40 min on 2 cores; QUICK=1 is the ~5 min smoke version.  Results in
# build/bench/<date>/ (build/bench/latest); see Documentation/benchmarks.md.
bench: deps all
	KVER=$(KVER) QUICK='$(QUICK)' scripts/bench.sh
