#!/usr/bin/env bash
# Bad use_srq / srq_size values are refused at load with a message naming
# the value and nothing loaded; both are read-only once loaded; good
# values load and read back.
# topology: one
# transport: rdma
# impl: intree/ours
# timeout: 300
# shellcheck source=scripts/lib/test.sh
. "$(dirname "$0")/../scripts/lib/test.sh"

p=/sys/module/nvmet_rdma/parameters
boot
check target 'modprobe nvmet'
for v in 100 255 65537 lots -1; do
	progress "srq_size=$v"
	expect_fail target "modprobe nvmet-rdma srq_size=$v"
	check target '[ ! -d /sys/module/nvmet_rdma ]'
	check target "dmesg | grep -qF 'nvmet-rdma: srq_size $v refused: must be 256-65536'"
done
progress "use_srq=maybe"
expect_fail target 'modprobe nvmet-rdma use_srq=maybe'
check target '[ ! -d /sys/module/nvmet_rdma ]'
check target 'dmesg | grep -q "maybe. invalid for parameter .use_srq"'
progress "good values"
check target 'modprobe nvmet-rdma use_srq=1 srq_size=65536'
assert_module target ours nvmet_rdma
check target "[ \"\$(cat $p/use_srq)\" = Y ] && [ \"\$(cat $p/srq_size)\" = 65536 ]"
expect_fail target "echo 1024 > $p/srq_size"
expect_fail target "echo 0 > $p/use_srq"
check target 'rmmod nvmet_rdma && modprobe nvmet-rdma'
check target "[ \"\$(cat $p/use_srq)\" = N ] && [ \"\$(cat $p/srq_size)\" = 1024 ]"
