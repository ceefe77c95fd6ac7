# shellcheck shell=bash
# Guest-side helpers of scripts/bench.sh, sourced by its commands after
# lib.sh.  The guests boot with HOST_IMPL=TARGET_IMPL=intree, so the
# in-tree transports stay reachable through modprobe; ours are loaded by
# path from /xfer/modules (vm.sh copies them there in every mode).  That is
# what lets one pair of booted VMs measure every implementation in turn.

BENCH_PORT=1

# bench_nullblk CPUS: the benchmark's backend.  memory_backed=0 (no copy
# into a page store: reads return zeroes, writes are dropped) and
# irqmode=0 (completed in the submitting context, no timer or softirq
# hop) make null_blk as close to free as a block device gets, so what the
# tables show is the fabric; one submission queue per vCPU.
bench_nullblk() {
	modprobe null_blk nr_devices=1 gb=1 memory_backed=0 irqmode=0 \
		queue_mode=2 bs=4096 submit_queues="$1" hw_queue_depth=128
}

# bench_target_init NQN CPUS: null_blk namespace 1 of NQN, no port yet.
bench_target_init() {
	bench_nullblk "$2"
	nvmet_subsys "$1"
	nvmet_ns "$1" 1 /dev/nullb0
}

# bench_load_ours FILE: our module by path, after the modules it needs
# (from its own modinfo, so in-tree neighbours come through modprobe).
bench_load_ours() {
	local deps
	deps=$(modinfo -F depends "$1" | tr ',' ' ')
	# shellcheck disable=SC2086 # a list of module names
	[ -z "$deps" ] || modprobe -a $deps
	insmod "$1"
}

# bench_rmmod MODULE: unload if loaded; queues are released
# asynchronously after a disconnect, so the module may stay busy a moment.
bench_rmmod() {
	[ -d "/sys/module/$1" ] || return 0
	wait_for 30 rmmod "$1" || { echo "bench: cannot unload $1"; return 1; }
}

# bench_target_up IMPL NQN: load IMPL's target transport (ours|intree for
# rdma, tcp for in-tree nvmet-tcp), check which module it is, open the port.
bench_target_up() {
	local impl=$1 nqn=$2 tr=rdma
	modprobe nvmet
	case "$impl" in
	ours | ours2 | tgtours)
		bench_load_ours /xfer/modules/nvmet-rdma.ko
		module_is ours nvmet_rdma
		;;
	intree | hostours)
		modprobe nvmet-rdma
		module_is intree nvmet_rdma
		;;
	tcp)
		modprobe nvmet-tcp
		tr=tcp
		;;
	*) echo "bench_target_up: unknown implementation $impl"; return 1 ;;
	esac
	nvmet_port "$BENCH_PORT" "$tr" "$TARGET_ADDR" 4420
	nvmet_link "$BENCH_PORT" "$nqn"
	module_desc "nvmet_$tr"
}

# bench_target_down: close the port, unload the transports.
bench_target_down() {
	local p=$NVMET/ports/$BENCH_PORT l
	if [ -d "$p" ]; then
		for l in "$p"/subsystems/*; do
			[ -L "$l" ] && rm "$l"
		done
		rmdir "$p"
	fi
	bench_rmmod nvmet_rdma
	bench_rmmod nvmet_tcp
}

# bench_host_up IMPL NQN: load IMPL's host transport, connect, print the
# namespace's block device on the last line.
bench_host_up() {
	local impl=$1 nqn=$2 tr=rdma
	case "$impl" in
	ours | ours2 | hostours)
		bench_load_ours /xfer/modules/nvme-rdma.ko
		module_is ours nvme_rdma
		;;
	intree | tgtours)
		modprobe nvme-rdma
		module_is intree nvme_rdma
		;;
	tcp)
		modprobe nvme-tcp
		tr=tcp
		;;
	*) echo "bench_host_up: unknown implementation $impl"; return 1 ;;
	esac
	nvme connect -t "$tr" -a "$TARGET_ADDR" -s 4420 -n "$nqn" > /dev/null
	module_desc "nvme_$tr"
	host_ns "$nqn"
}

# bench_host_down NQN: disconnect, unload the transports.
bench_host_down() {
	nvme disconnect -n "$1" > /dev/null
	bench_rmmod nvme_rdma
	bench_rmmod nvme_tcp
}

# bench_cpu: the aggregate cpu line of /proc/stat and the uptime, for
# CPU time per I/O (busy jiffies over the window of one fio run).
bench_cpu() {
	head -n 1 /proc/stat
	cut -d ' ' -f 1 /proc/uptime
}

# bench_perftest_server TEST ARGS...: run TEST on rxe0 as the server
# (rdma_cm connection setup); bench_perftest_client adds the target address.
bench_perftest_server() {
	local t=$1
	shift
	"$t" -d rxe0 -R -F "$@"
}

# bench_perftest_listening TEST: TEST's perftest server waits on its
# rdma_cm port.  Clients were sometimes rejected with status 8 (no
# listener for the service ID) although a LISTEN id was shown, and
# perftest's client then segfaults, which fails the dmesg gate.  Two ways
# that can happen: the LISTEN entry was the previous test's server's, or
# the id shows LISTEN before rdma_listen() has registered the IB CM
# listeners on the devices.  So the entry must be TEST's own (its comm,
# where rdma shows it), and the caller lets a second pass.
bench_perftest_listening() {
	rdma resource show cm_id | awk -v t="$1" '/LISTEN/ {
		c = ""; for (i = 1; i < NF; i++) if ($i == "comm") c = $(i + 1)
		if (c == "" || c == t) f = 1 }
		END { exit !f }'
}

# A client rejected once is retried against a fresh server, and one that
# got through to a server being killed would wait for it for ever: the
# slowest raw cell (128 KiB at the MTU 9000 collapse) takes minutes, not ten.
bench_perftest_client() {
	local t=$1
	shift
	timeout 600 "$t" -d rxe0 -R -F "$@" "$TARGET_ADDR"
}

# Event counters of the fabric path, for BENCH_COUNTERS=1: which work the
# stack does per I/O, whatever the implementation.  Hist triggers count
# without writing to the trace buffer: rdma_core:cq_poll (calls, and the
# CQEs they returned: field rc), cq_schedule (a CQ handler scheduled by a
# completion event) and kprobes on rxe's post verbs (doorbells; a chained
# post counts once).
BENCH_TR=/sys/kernel/debug/tracing
BENCH_KPROBES="rxe_post_send rxe_post_recv rxe_post_srq_recv"

bench_counters_setup() {
	local f
	for f in $BENCH_KPROBES; do
		echo "p:bench_$f $f" >> $BENCH_TR/kprobe_events
		echo 'hist:keys=common_pid' > "$BENCH_TR/events/kprobes/bench_$f/trigger"
	done
	echo 'hist:keys=cq_id:vals=hitcount,rc' > $BENCH_TR/events/rdma_core/cq_poll/trigger
	echo 'hist:keys=cq_id' > $BENCH_TR/events/rdma_core/cq_schedule/trigger
}

# bench_hist_total EVENT_DIR [FIELD]: hits of a hist trigger, or the sum
# of FIELD over its entries.
bench_hist_total() {
	if [ -n "${2:-}" ]; then
		awk -v f="$2:" '{ for (i = 1; i < NF; i++) if ($i == f) s += $(i + 1) }
			END { print s + 0 }' "$1/hist"
	else
		awk '$1 == "Hits:" { print $2 }' "$1/hist"
	fi
}

# bench_counters: one snapshot, "name value" per line.
bench_counters() {
	local f e=$BENCH_TR/events
	awk '$1 == "ctxt" || $1 == "intr" { print $1, $2 }' /proc/stat
	awk 'NR > 1 { s = 0; for (i = 2; i <= NF; i++) s += $i; print "softirq_" $1, s }' /proc/softirqs |
		tr -d ':'
	awk 'NR > 1 { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i;
		sub(":", "", $1); print "irq_" $1 "_" $NF, s }' /proc/interrupts
	rdma statistic show link rxe0/1 2> /dev/null |
		awk '{ for (i = 3; i < NF; i += 2) print "rxe_" $i, $(i + 1) }'
	[ -d $e/rdma_core/cq_poll ] || return 0
	echo "cq_poll $(bench_hist_total $e/rdma_core/cq_poll)"
	echo "cqe $(bench_hist_total $e/rdma_core/cq_poll rc)"
	echo "cq_schedule $(bench_hist_total $e/rdma_core/cq_schedule)"
	for f in $BENCH_KPROBES; do
		[ -d "$e/kprobes/bench_$f" ] &&
			echo "$f $(bench_hist_total "$e/kprobes/bench_$f")"
	done
	return 0
}

# Where the target's CPU time goes, for BENCH_FGRAPH=1: function_graph
# on a few roots only (set_ftrace_filter limits the patched functions,
# max_graph_depth 1 hides their children), summed per function.  The
# durations are wall time, interrupts nested in a root included; both
# transports' completion handlers have the same names where they exist.
BENCH_FG_FUNCS="nvmet_rdma_recv_done nvmet_rdma_send_done nvmet_rdma_read_done
nvmet_rdma_read_data_done nvmet_rdma_write_data_done rxe_do_task virtnet_poll
virtnet_poll_tx vring_interrupt"

# MODE children: the transport handlers' direct callees instead, as
# fg_HANDLER>CALLEE (every function traced: slow, for analysis only).
BENCH_FG_HANDLERS="nvmet_rdma_recv_done nvmet_rdma_send_done nvmet_rdma_queue_response"

bench_fgraph_start() {
	local f
	echo 0 > $BENCH_TR/tracing_on
	echo nop > $BENCH_TR/current_tracer
	: > $BENCH_TR/set_ftrace_filter
	: > $BENCH_TR/set_graph_function
	if [ "${1:-}" = children ]; then
		for f in $BENCH_FG_HANDLERS; do
			echo "$f" >> $BENCH_TR/set_graph_function 2> /dev/null || true
		done
		echo 0 > $BENCH_TR/options/funcgraph-irqs
		echo 2 > $BENCH_TR/max_graph_depth
	else
		for f in $BENCH_FG_FUNCS; do
			echo "$f" >> $BENCH_TR/set_ftrace_filter 2> /dev/null || true
		done
		echo 1 > $BENCH_TR/max_graph_depth
	fi
	echo 1 > $BENCH_TR/options/funcgraph-tail
	echo 32768 > $BENCH_TR/buffer_size_kb
	echo function_graph > $BENCH_TR/current_tracer
	: > $BENCH_TR/trace
	echo 1 > $BENCH_TR/tracing_on
}

# bench_fgraph_stop: "fg_FUNCTION total_us calls" per root, and lost
# events (a full buffer) as fg_overrun.
bench_fgraph_stop() {
	echo 0 > $BENCH_TR/tracing_on
	# Depth 1 opens with "root() {" (children shown) or is "root();",
	# closes with "} /* root */"; a depth-2 line is a callee, a leaf.
	awk -F'|' 'NF >= 2 {
		d = $1; sub(/^ *[0-9]+\)/, "", d); gsub(/[^0-9.]/, "", d)
		l = $2; sub(/^ /, "", l); ind = match(l, /[^ ]/) - 1
		f = l; gsub(/^ +| +$/, "", f); sub(/ \[.*\]/, "", f)
		if (f ~ /\{$/) { sub(/\(\) \{$/, "", f); if (ind < 2) root = f; next }
		if (f ~ /^\} \/\*/) { sub(/^\} \/\* /, "", f); sub(/ \*\/$/, "", f) }
		else sub(/\(\);$/, "", f)
		if (d == "" || f == "}") next
		if (ind >= 2) f = root ">" f
		t[f] += d; n[f]++ }
		END { for (f in t) printf "fg_%s %d %d\n", f, t[f], n[f] }' $BENCH_TR/trace
	awk '/overrun:/ { s += $2 } END { print "fg_overrun", s + 0, 0 }' $BENCH_TR/per_cpu/cpu*/stats
	echo nop > $BENCH_TR/current_tracer
	: > $BENCH_TR/set_ftrace_filter
	: > $BENCH_TR/set_graph_function
	echo 1 > $BENCH_TR/options/funcgraph-irqs
	echo 0 > $BENCH_TR/options/funcgraph-tail
}
