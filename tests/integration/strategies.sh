#!/bin/bash
# Registration strategies for real: the pins the kernel holds while a job
# runs, verify with every strategy (with and without re-registration), and
# hugetlb pages all given back.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip strategies "needs root for hugetlb pages and pin counters"; exit 0; }


have_1g=0
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 300 )) ||
	{ skip strategies "cannot reserve 2 MiB hugetlb pages"; exit 0; }
hp_reserve 1048576 $(( $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages) + 1 )) &&
	have_1g=1

# pins_while_running EXPECTED ENGINE-OPTIONS...: a check: iodepth=256 x
# 1 MiB, reading /dev/zero so no I/O pins pages of its own, runs, and
# EXPECTED pins are held at one reading; sampled from start to end,
# however long set-up takes.
pins_while_running() {
	local want=$1 out=$SCRATCH/$CASE.out base got pid
	shift
	# Transient pins of other I/O only add: the least reading is the base.
	base=$( (pins; sleep 0.1; pins; sleep 0.1; pins) | sort -n | head -1)
	ufio "$out" --name="$CASE" --filename=/dev/zero --rw=read --bs=1m \
		--iodepth=256 --size=1g --time_based --runtime=5 "$@" &
	pid=$!
	# Set-up (faulting in a fresh 1 GiB page in a VM) can take seconds,
	# more on a loaded machine, and the counters are system-wide: other I/O
	# pins pages for a moment. Sample until fio ends (its 5 s of I/O come
	# after set-up); one exact reading shows what the engine holds.
	got=""
	while kill -0 $pid 2>/dev/null; do
		sleep 0.3
		got="$got $(( $(pins) - base ))"
	done
	wait $pid
	job_ok "$out" $? || { WHY="the run: $WHY" && return 1; }
	[[ " $got " == *" $want "* ]] && return 0
	WHY="kernel holds$got pins while the job runs, want $want"
	return 1
}

free0=$(hp_total_free)
verdict pins-per-page pins_while_running 65536 --reg_strategy=per_page
verdict pins-hugetlb-fast-2m pins_while_running 256 --reg_strategy=hugetlb_fast --reg_folio=2m
verdict pins-coalesced-2m pins_while_running 128 --reg_strategy=coalesced --reg_folio=2m
verdict pins-coalesced-thp pins_while_running 128 --reg_strategy=coalesced --reg_folio=thp
# One buffer per io_u inside one folio: one pin per buffer on THP as on
# hugetlb.
verdict pins-per-folio-thp pins_while_running 256 --reg_strategy=per_folio --reg_folio=thp
verdict pins-per-folio-2m pins_while_running 256 --reg_strategy=per_folio --reg_folio=2m
verdict pins-per-page-each pins_while_running 65536 --reg_strategy=per_page --reg_mode=each
if [ $have_1g = 1 ]; then
	verdict pins-coalesced-1g pins_while_running 1 --reg_strategy=coalesced --reg_folio=1g
else
	skip pins-coalesced-1g "no 1 GiB hugetlb page could be reserved"
fi

# verify with every strategy: 4 KiB and 1 MiB, write-then-verify and
# randrw, with and without re-registration every 200 ms, in processes and
# in threads (threads also verify as they write: verify_backlog, with
# serialize_overlap, as fio needs when a time_based run rewrites a block
# whose verify read is still in flight: fio's own io_uring engine fails
# without it too).
f=$SCRATCH/strategies.dat
strategies="iomem none per_page coalesced per_folio hugetlb_fast auto"
for st in $strategies; do
	for bs in 4k 1m; do
		for rereg in 0 200ms; do
			[ "$st" = none ] && [ "$rereg" != 0 ] && continue
			for rw in randwrite randrw; do
				for thread in 0 1; do
					name=verify-$st-$bs-$rw-rereg$rereg-thread$thread
					extra=()
					[ $thread = 1 ] && extra+=(--verify_backlog=32 --serialize_overlap=1)
					[ "$rereg" != 0 ] && extra+=(--time_based --runtime=1)
					ufio "$SCRATCH/$name.out" --name="$name" \
						--filename="$f" --size=128m --bs=$bs \
						--rw=$rw --iodepth=16 --direct=1 \
						--verify=crc32c --reg_strategy=$st \
						--rereg_interval=$rereg --thread=$thread \
						"${extra[@]}"
					verdict "$name" job_ok "$SCRATCH/$name.out" $?
				done
			done
		done
	done
done
rm -f "$f"

if [ "$(hp_total_free)" = "$free0" ]; then
	pass hugepages-all-given-back
else
	fail hugepages-all-given-back "HugePages_Free was $free0, now $(hp_total_free)"
fi
