#!/bin/bash
# SIGINT and SIGTERM in the middle of a run: fio stops, and every pin and
# hugetlb page the engine held is released.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip signals "needs root for hugetlb pages and pin counters"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 130 )) ||
	{ skip signals "cannot reserve hugetlb pages"; exit 0; }

# stop_mid_run SIGNAL PINS ENGINE-OPTIONS...: a check: a run stopped by
# SIGNAL once the registered buffers hold PINS gives back every pin and
# hugetlb page. Every wait polls for what it waits for, with a
# deadline of minutes that only ends a hang (a loaded machine is slow):
# the registration (the run lasts until the signal), fio's exit, and the
# pins and pages coming back (given_back).
holds() { [ $(( $(pins) - $1 )) -ge "$2" ] || ! kill -0 "$3" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
stop_mid_run() {
	local sig=$1 want=$2 out=$SCRATCH/sig-$CASE.out free0 pins0 pid held
	shift 2
	free0=$(hp_total_free)
	pins0=$( (pins; sleep 0.1; pins) | sort -n | head -1)
	(cd "$SCRATCH" && exec fio --ioengine="external:$ENGINE" --name="$CASE" \
		--filename=/dev/zero --rw=read --bs=1m --iodepth=256 --size=1g \
		--time_based --runtime=600 "$@") >"$out" 2>&1 &
	pid=$!
	# Wait until the buffers are registered, then interrupt.
	held=0
	wait_until 300 holds "$pins0" "$want" $pid && kill -0 $pid 2>/dev/null &&
		held=1
	kill -"$sig" $pid 2>/dev/null
	if ! wait_until 300 gone $pid; then
		kill -9 $pid
		WHY="fio still running 300 s after SIG$sig"
		return 1
	fi
	wait $pid
	if [ $held = 0 ]; then
		WHY="the buffers were never registered: $(head -c 300 "$out")"
		return 1
	fi
	given_back "$free0" "$pins0"
}

verdict sigint-hugetlb-fast stop_mid_run INT 256 --reg_strategy=hugetlb_fast
verdict sigterm-hugetlb-fast stop_mid_run TERM 256 --reg_strategy=hugetlb_fast
verdict sigint-per-page stop_mid_run INT 65536 --reg_strategy=per_page
verdict sigterm-coalesced-thp stop_mid_run TERM 128 --reg_strategy=coalesced --reg_folio=thp
