#!/bin/bash
# Command server.  The harness drops /xfer/cmd/N.sh (written to a temporary
# name, then renamed, so a file that exists is complete); each command runs
# in the background with the guest helpers sourced and errexit on, its output goes to
# /xfer/res/N.out and its exit code to /xfer/res/N.rc (again by rename).
# Commands run concurrently so a test can, say, pull a port while fio runs.
mkdir -p /xfer/cmd /xfer/res
# A fifo nobody writes to: read -t on it waits without forking a sleep
# process ten times a second, which under TCG costs measurable CPU.
mkfifo /run/agent.idle
exec 3<> /run/agent.idle
next=1
touch /xfer/ready
while :; do
	if [ -e "/xfer/cmd/$next.sh" ]; then
		n=$next
		(
			cd /tmp || exit 1
			bash -c '. /xfer/guest/lib.sh; set -eo pipefail; . "$1"' agent "/xfer/cmd/$n.sh" \
				> "/xfer/res/$n.out" 2>&1 < /dev/null
			echo $? > "/xfer/res/$n.rc.tmp"
			mv "/xfer/res/$n.rc.tmp" "/xfer/res/$n.rc"
		) &
		next=$((next + 1))
		continue
	fi
	read -r -t 0.1 -u 3 || true
done
