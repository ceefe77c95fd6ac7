# shellcheck shell=bash
# Host-side VM control: boot guests of a topology, run commands in them
# through the 9p command channel, collect their logs, shut them down.
#
# Needs: RUN (output directory of this test), KVER, TOPOLOGY (one|two),
# HOST_IMPL, TARGET_IMPL, TRANSPORT.  Roles "target" and "host" name the
# VMs; in the one-VM topology both roles are the same guest.

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The Debian kernel the guests boot; exported so that a make run from a
# test (make style, make tools) builds for it too, not for the default KVER.
export KVER=${KVER:-6.1.0-56-amd64}
VM_MEM=${VM_MEM:-1536}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-240}
VM_CMD_TIMEOUT=${VM_CMD_TIMEOUT:-600}

# KERNEL=debian boots the distribution kernel; KERNEL=debug boots the
# KASAN/lockdep/kmemleak kernel of scripts/debug-kernel.sh (built and
# cached by `make debug-kernel debug-modules`), with its own initramfs and
# our modules built against it in build/debug-modules/.  Everything runs
# ~30x slower there, so every harness timeout (boot, command, teardown,
# guest-side waits) is multiplied by TIMEOUT_SCALE.
KERNEL=${KERNEL:-debian}
# vm_select_kernel: set the kernel image, modules and timeouts of $KERNEL;
# on failure VM_SETUP_ERROR says why (boot() retries, so a test may build
# the debug kernel after sourcing this file).
vm_select_kernel() {
	local msg
	VM_SETUP_ERROR=
	case "$KERNEL" in
	debian)
		TIMEOUT_SCALE=1
		VM_KVER=$KVER
		VM_KERNEL_IMAGE=/boot/vmlinuz-$KVER
		VM_MODSRC=$VM_ROOT
		VM_MODROOT=
		VM_APPEND=
		;;
	debug)
		TIMEOUT_SCALE=${DEBUG_TIMEOUT_SCALE:-10}
		if ! DEBUG_KERNEL_DIR=$("$VM_ROOT/scripts/debug-kernel.sh" dir 2>&1); then
			msg=${DEBUG_KERNEL_DIR#debug-kernel: }
			VM_SETUP_ERROR="KERNEL=debug: ${msg%%;*}; run 'make debug-modules' first"
			return 1
		fi
		# KVER stays the Debian release the tree builds for: make,
		# run from a test, must not see the debug one.
		VM_KVER=$(cat "$DEBUG_KERNEL_DIR/kernelrelease")
		VM_KERNEL_IMAGE=$DEBUG_KERNEL_DIR/bzImage
		VM_MODSRC=$VM_ROOT/build/debug-modules
		VM_MODROOT=$DEBUG_KERNEL_DIR/mods
		# nvme_core.multipath=N: 6.1's nvme-core multipath code makes
		# lockdep report open_mutex vs partition_scan_work at every
		# disconnect, after which lockdep is off for the boot; a
		# multipath test sets VM_NVME_MULTIPATH=Y and expects that
		# report.  kasan_multi_shot: report every KASAN error, not
		# only the first of the boot.  acpi=noirq: PCI interrupts from
		# the BIOS's $PIR table, because the ACPI interpreter, this
		# slow, hits its 30 s loop timeout in QEMU's \_SB.PCI0._PRT:
		# virtio-pci then gets no IRQ and the 9p mount hangs.
		# noirqdebug: without PCI_MSI the emulated NVMe drive runs on
		# a level-triggered INTx line, which under heavy I/O this slow
		# fired mostly with nothing to complete: the kernel counted
		# 99.9 % unhandled ("irq 11: nobody cared") and disabled it.
		VM_APPEND="nvme_core.multipath=${VM_NVME_MULTIPATH:-N} kasan_multi_shot acpi=noirq noirqdebug"
		;;
	*)
		VM_SETUP_ERROR="unknown KERNEL=$KERNEL (debian|debug)"
		TIMEOUT_SCALE=1
		return 1
		;;
	esac
	export KERNEL
}
vm_select_kernel || true
TARGET_ADDR=198.18.0.1
HOST_ADDR=198.18.0.2
VMS=()

vm_name() {	# role -> VM name
	if [ "$TOPOLOGY" = one ]; then echo one; else echo "$1"; fi
}

vm_dir() { echo "$RUN/vm-$(vm_name "$1")"; }

vm_alive() {
	local pidf
	pidf="$(vm_dir "$1")/qemu.pid"
	[ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

# vm_start NAME ADDRS HOSTID [qemu args...]: boot one guest (no waiting).
# The arguments are kept in the VM's directory for vm_restart.
vm_start() {
	local name=$1 addrs=$2 hostid=$3
	local dir="$RUN/vm-$name" img
	mkdir -p "$dir"
	printf '%q ' "$@" > "$dir/start.args"
	shift 3
	img=$(KVER=$VM_KVER MODROOT=$VM_MODROOT "$VM_ROOT/scripts/guest-image.sh" "$VM_ROOT/build/guest") || return 1
	# A directory used before (a BENCH_OUT given twice) still has the old
	# command channel: its ready flag and numbered commands would be taken
	# for the new guest's and replayed.
	rm -rf "$dir/xfer/cmd" "$dir/xfer/res" "$dir/xfer/seq" "$dir/xfer/ready" \
		"$dir/xfer/boot.failed"
	mkdir -p "$dir/xfer/guest" "$dir/xfer/modules"
	cp "$VM_ROOT"/scripts/guest/*.sh "$dir/xfer/guest/"
	cp "$VM_MODSRC"/drivers/nvme/host/nvme-rdma.ko \
	   "$VM_MODSRC"/drivers/nvme/target/nvmet-rdma.ko "$dir/xfer/modules/" 2>/dev/null
	[ -d "$VM_ROOT/build/tools" ] && cp -r "$VM_ROOT/build/tools" "$dir/xfer/"
	cat > "$dir/xfer/config" <<-EOC
	VM_NAME=$name
	VM_ADDRS="$addrs"
	VM_HOSTID=$hostid
	TOPOLOGY=$TOPOLOGY
	HOST_IMPL=$HOST_IMPL
	TARGET_IMPL=$TARGET_IMPL
	TRANSPORT=$TRANSPORT
	TARGET_ADDR=$TARGET_ADDR
	HOST_ADDR=$HOST_ADDR
	MTU=${MTU:-1500}
	VIRTIO_NET_OPTS="${VIRTIO_NET_OPTS:-}"
	KERNEL=$KERNEL
	TIMEOUT_SCALE=$TIMEOUT_SCALE
	HUNG_TASK_SECS=$((60 * TIMEOUT_SCALE))
	FIO_SIZE=${FIO_SIZE:-}
	EOC
	qemu-system-x86_64 -name "$name" -accel tcg,thread=multi -m "$VM_MEM" \
		-smp "${VM_CPUS:-1}" -nodefaults -no-user-config -display none \
		-no-reboot -kernel "$VM_KERNEL_IMAGE" -initrd "$img" \
		-append "console=ttyS0 quiet panic=-1 nokaslr mitigations=off${VM_APPEND:+ $VM_APPEND}" \
		-serial "file:$dir/console.log" \
		-fsdev "local,id=xfer,path=$dir/xfer,security_model=none" \
		-device virtio-9p-pci,fsdev=xfer,mount_tag=xfer \
		-pidfile "$dir/qemu.pid" -daemonize "$@" > "$dir/qemu.log" 2>&1 ||
		{ echo "qemu failed to start $name: $(cat "$dir/qemu.log")"; return 1; }
	[[ " ${VMS[*]} " == *" $name "* ]] || VMS+=("$name")
}

# vm_kill ROLE: the guest's power cut: SIGKILL to its QEMU, nothing flushed
# or shut down inside; returns once the process is gone.
vm_kill() {
	local pid t=0
	pid=$(cat "$(vm_dir "$1")/qemu.pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ $t -lt 100 ]; do
		sleep 0.1
		t=$((t + 1))
	done
}

# vm_restart ROLE: boot a killed (or stopped) guest again with the same
# devices, disk images and link, and wait for it; its console log and
# dmesg of the first life are kept as console.log.1 and dmesg.log.1.
vm_restart() {
	local dir args
	dir=$(vm_dir "$1")
	vm_alive "$1" && vm_kill "$1"
	[ -e "$dir/console.log" ] && mv "$dir/console.log" "$dir/console.log.1"
	args=$(cat "$dir/start.args") || return 1
	eval "vm_start $args" || return 1
	vm_wait_ready "$(vm_name "$1")"
}

# vm_wait_ready NAME: wait for the agent, fail on boot error or death.
vm_wait_ready() {
	local name=$1 dir="$RUN/vm-$1" t=0
	while [ ! -e "$dir/xfer/ready" ]; do
		if [ -e "$dir/xfer/boot.failed" ]; then
			echo "$name boot failed: $(cat "$dir/xfer/boot.failed")"
			return 1
		fi
		if ! kill -0 "$(cat "$dir/qemu.pid" 2>/dev/null)" 2>/dev/null; then
			echo "$name died while booting"
			return 1
		fi
		if [ $t -ge $((VM_BOOT_TIMEOUT * TIMEOUT_SCALE * 10)) ]; then
			echo "$name did not boot within $((VM_BOOT_TIMEOUT * TIMEOUT_SCALE))s"
			return 1
		fi
		sleep 0.1
		t=$((t + 1))
	done
}

# udp_port: a free-looking UDP port pair base for the socket netdev.
udp_port() { echo $((20000 + (RANDOM % 20000) * 2)); }

# QEMU's UDP socket netdev receives with the default socket buffer
# (net.core.rmem_default, 208 KiB): a burst of rxe packets, e.g. a 128 KiB
# RDMA READ response, overflows it whenever the receiving VM's thread is
# not scheduled, and rxe then waits for its retransmit timer: writes of
# 128 KiB took seconds each.  A larger default, applied to the sockets QEMU
# creates from now on, keeps the link lossless in practice.
VM_UDP_RMEM=${VM_UDP_RMEM:-16777216}
vm_tune_udp() {
	local cur
	cur=$(sysctl -n net.core.rmem_default 2> /dev/null) || return 0
	[ "$cur" -ge "$VM_UDP_RMEM" ] && return 0
	sysctl -q -w net.core.rmem_default="$VM_UDP_RMEM" ||
		echo "warning: cannot raise net.core.rmem_default; the VM link may drop packets"
}

# vm_boot: boot the guests of $TOPOLOGY and wait for them.
# Extra QEMU arguments for the target VM come from TARGET_QEMU_ARGS (array).
vm_boot() {
	local p mac=52:54:00:00:00 hid_t hid_h
	[ -z "$VM_SETUP_ERROR" ] || vm_select_kernel || { echo "$VM_SETUP_ERROR"; return 1; }
	hid_t=$(cat /proc/sys/kernel/random/uuid)
	hid_h=$(cat /proc/sys/kernel/random/uuid)
	case "$TOPOLOGY" in
	one)
		vm_start one "$TARGET_ADDR" "$hid_h" "${TARGET_QEMU_ARGS[@]}" || return 1
		;;
	two)
		vm_tune_udp
		p=$(udp_port)
		vm_start target "$TARGET_ADDR" "$hid_t" \
			-netdev "socket,id=n0,udp=127.0.0.1:$((p + 1)),localaddr=127.0.0.1:$p" \
			-device "virtio-net-pci,netdev=n0,mac=$mac:01" \
			"${TARGET_QEMU_ARGS[@]}" || return 1
		vm_start host "$HOST_ADDR" "$hid_h" \
			-netdev "socket,id=n0,udp=127.0.0.1:$p,localaddr=127.0.0.1:$((p + 1))" \
			-device "virtio-net-pci,netdev=n0,mac=$mac:02" || return 1
		;;
	*)
		echo "unknown TOPOLOGY=$TOPOLOGY (one|two)"
		return 1
		;;
	esac
	for p in "${VMS[@]}"; do
		vm_wait_ready "$p" || return 1
	done
}

# on_bg ROLE CMD...: start CMD in the guest, print a handle for on_wait.
on_bg() {
	local dir n
	dir="$(vm_dir "$1")/xfer"
	shift
	n=$(( $(cat "$dir/seq" 2>/dev/null || echo 0) + 1 ))
	echo "$n" > "$dir/seq"
	printf '%s\n' "$*" > "$dir/cmd/.$n.tmp"
	mv "$dir/cmd/.$n.tmp" "$dir/cmd/$n.sh"
	echo "$n"
}

# on_wait ROLE HANDLE [TIMEOUT]: wait for a command, print its output,
# return its exit code (124 on timeout, 125 if the VM died).  TIMEOUT is
# for the Debian kernel: it is multiplied by TIMEOUT_SCALE.
on_wait() {
	local role=$1 n=$2 limit=$((${3:-$VM_CMD_TIMEOUT} * TIMEOUT_SCALE * 10)) t=0 dir
	dir="$(vm_dir "$role")/xfer"
	while [ ! -e "$dir/res/$n.rc" ]; do
		if ! vm_alive "$role"; then
			cat "$dir/res/$n.out" 2>/dev/null
			echo "VM $(vm_name "$role") died"
			return 125
		fi
		if [ $t -ge $limit ]; then
			cat "$dir/res/$n.out" 2>/dev/null
			echo "timeout after $((limit / 10))s in $(vm_name "$role"): $(head -c 200 "$dir/cmd/$n.sh")"
			return 124
		fi
		sleep 0.1
		t=$((t + 1))
	done
	cat "$dir/res/$n.out"
	return "$(cat "$dir/res/$n.rc")"
}

# on ROLE CMD...: run CMD in the guest and wait (VM_CMD_TIMEOUT seconds).
on() {
	local role=$1 n
	shift
	vm_alive "$role" || { echo "VM $(vm_name "$role") is not running"; return 125; }
	n=$(on_bg "$role" "$@")
	on_wait "$role" "$n"
}

# vm_stop_all: power the guests off (killed if they do not go in 20 s).
vm_stop_all() {
	local name dir pid t
	for name in "${VMS[@]}"; do
		dir="$RUN/vm-$name"
		pid=$(cat "$dir/qemu.pid" 2>/dev/null) || continue
		kill -0 "$pid" 2>/dev/null || continue
		on_bg "$name" 'poweroff -f' > /dev/null 2>&1
	done
	for name in "${VMS[@]}"; do
		pid=$(cat "$RUN/vm-$name/qemu.pid" 2>/dev/null) || continue
		t=0
		while kill -0 "$pid" 2>/dev/null && [ $t -lt 200 ]; do
			sleep 0.1
			t=$((t + 1))
		done
		kill -9 "$pid" 2>/dev/null
	done
	VMS=()
}
