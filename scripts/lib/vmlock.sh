# shellcheck shell=bash
# The machine's VM slots, shared by every test runner and benchmark on it.
#
# A TCG guest keeps one host core busy, so the machine holds as many guests
# as it has cores (VM_SLOTS, default nproc).  Slot i is an flock on
# "$VM_LOCK" (i = 0) or "$VM_LOCK.i": a one-VM test takes any free slot, a
# two-VM test or the benchmark takes them all, always in index order so two
# takers of "all" cannot deadlock.  Locks die with their holder, so a killed
# run frees its slots.  VM_LOCK=none takes nothing (the caller holds them).
#
# usage: vm_slots_take all|1 NAME   sets VM_SLOT_FDS; says when it has to wait
#        vm_slots_release

VM_LOCK=${VM_LOCK:-/tmp/nvmeof-rdma-vm.lock}
VM_SLOTS=${VM_SLOTS:-$(nproc)}
VM_SLOT_FDS=()

vm_slot_file() { [ "$1" -eq 0 ] && echo "$VM_LOCK" || echo "$VM_LOCK.$1"; }

vm_slots_take() {
	local want=$1 name=$2 i fd said=
	VM_SLOT_FDS=()
	[ "$VM_LOCK" = none ] && return 0
	if [ "$want" = all ]; then
		for ((i = 0; i < VM_SLOTS; i++)); do
			exec {fd}> "$(vm_slot_file "$i")"
			flock -n "$fd" || {
				echo "  ... $name: waiting for the VM slots (another run has VMs)"
				flock "$fd"
			}
			VM_SLOT_FDS+=("$fd")
		done
		return 0
	fi
	# Any one slot: flock cannot wait on several files at once, so poll.
	while :; do
		for ((i = 0; i < VM_SLOTS; i++)); do
			exec {fd}> "$(vm_slot_file "$i")"
			if flock -n "$fd"; then
				VM_SLOT_FDS=("$fd")
				return 0
			fi
			exec {fd}>&-
		done
		[ -n "$said" ] || echo "  ... $name: waiting for a VM slot (other runs have VMs)"
		said=1
		sleep 2
	done
}

vm_slots_release() {
	local fd
	for fd in "${VM_SLOT_FDS[@]}"; do
		exec {fd}>&-
	done
	VM_SLOT_FDS=()
}
