#!/bin/bash
# SIGINT and SIGTERM in the middle of a run: fio stops, and every pin and
# hugetlb page the engine held is released.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip signals "needs root for hugetlb pages and pin counters"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 130 )) ||
	{ skip signals "cannot reserve hugetlb pages"; exit 0; }

# stop_mid_run NAME SIGNAL PINS ENGINE-OPTIONS...: PINS is what the
# registered buffers hold. Every wait polls for what it waits for, with a
# deadline of minutes that only ends a hang (a loaded machine is slow):
# the registration (the run lasts until the signal), fio's exit, and the
# pins and pages coming back (given_back).
holds() { [ $(( $(pins) - $1 )) -ge "$2" ] || ! kill -0 "$3" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
stop_mid_run() {
	local name=$1 sig=$2 want=$3 out=$SCRATCH/sig-$1.out free0 pins0 pid held
	shift 3
	free0=$(hp_total_free)
	pins0=$( (pins; sleep 0.1; pins) | sort -n | head -1)
	(cd "$SCRATCH" && exec fio --ioengine="external:$ENGINE" --name="$name" \
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
		fail "$name" "fio still running 300 s after SIG$sig"
		return
	fi
	wait $pid
	if [ $held = 0 ]; then
		fail "$name" "the buffers were never registered: $(head -c 300 "$out")"
	else
		given_back "$name" "$free0" "$pins0"
	fi
}

stop_mid_run sigint-hugetlb-fast INT 256 --reg_strategy=hugetlb_fast
stop_mid_run sigterm-hugetlb-fast TERM 256 --reg_strategy=hugetlb_fast
stop_mid_run sigint-per-page INT 65536 --reg_strategy=per_page
stop_mid_run sigterm-coalesced-thp TERM 128 --reg_strategy=coalesced --reg_folio=thp
