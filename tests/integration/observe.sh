#!/bin/bash
# Figures that are exact or absent: bvecs_observed with several jobs of one
# fio (processes, threads, re-registration) and beside a program that pins
# pages, the kernel's coalescing rules and the ring's flags in the report,
# and engine notes that keep a JSON document JSON.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip observe "needs root (pin counters, hugetlb)"; exit 0; }
hp_reserve 2048 $(($(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 100)) ||
	{ skip observe "cannot reserve 2 MiB hugetlb pages"; exit 0; }

# More runs for a firmer answer: UFR_OBSERVE_RUNS=20 (three by default,
# enough to catch a figure that is not one number).
runs=${UFR_OBSERVE_RUNS:-3}

# Four jobs of 128 x 64 KiB buffers, each buffer inside one 2 MiB folio:
# 128 bio_vecs each on any kernel.
nj=(--output-format=json --runtime=2 --filename=/dev/zero --size=256m
	--reg_strategy=hugetlb_fast --reg_folio=2m --reg_mode=batch --bs=64k
	--rw=write --iodepth=128 --direct=0 --numjobs=4 --mem_align=512
	--iodepth_batch_submit=4 --iodepth_batch_complete_min=8)

# exact_or_null FILE JOBS: FILE is one JSON document with JOBS entries that
# carry a uring_folioreg block, each with bvecs > 0 and bvecs_observed
# equal to it, or null with a reason; and pins_acquired equal to the pages
# the buffers span (this kernel pins each 4 KiB page, then keeps one pin
# per bio_vec), or null with bvecs_observed. Prints what is wrong, else
# nothing.
exact_or_null() {
	jq -nr --argjson want "$2" '[inputs] |
		if length != 1 then "\(length) JSON documents, want 1" else
		[.[0].jobs[]? | .uring_folioreg.segments | select(. != null)] |
		if length != $want then
			"\(length) jobs report a uring_folioreg block, want \($want)"
		else .[] | select((.bvecs | type) != "number" or .bvecs < 1 or
			(.bvecs_observed != .bvecs and
			(.bvecs_observed != null or (.observed_note // "") == "")) or
			(.pins_acquired != .pages and
			(.pins_acquired != null or .bvecs_observed != null))) |
			"bvecs=\(.bvecs) observed=\(.bvecs_observed) pages=\(.pages) pins_acquired=\(.pins_acquired) note=\(.observed_note)"
		end end' "$1" 2>&1
}
# null_notes FILE: the reason of each null observation, one a line.
null_notes() {
	jq -r '.jobs[].uring_folioreg.segments | select(.bvecs_observed == null) |
		.observed_note' "$1"
}

# numjobs_case NAME JOBS FIO-OPTIONS...: UFR_OBSERVE_RUNS runs, JOBS report
# entries each; nothing disturbs them, so at most a quarter of the
# observations may be null (the pins of the host's other work).
numjobs_case() {
	local name=$1 jobs=$2 out=$SCRATCH/obs-$1.json i bad="" nulls=0 rc
	local notes=$SCRATCH/obs-$1.notes
	shift 2
	: >"$notes"
	for i in $(seq "$runs"); do
		ufio "$out" --name="$name" "$@" 2>/dev/null
		rc=$?
		if [ $rc != 0 ]; then
			bad="run $i: fio exited $rc: $(grep -m1 uring_folioreg: "$out")"
			break
		fi
		bad=$(exact_or_null "$out" "$jobs")
		[ -n "$bad" ] && { bad="run $i: $bad"; break; }
		null_notes "$out" >>"$notes"
	done
	nulls=$(grep -c . "$notes")
	if [ -z "$bad" ] && [ $((nulls * 4)) -gt $((runs * jobs)) ]; then
		bad="$nulls of $((runs * jobs)) observations null: $(sort "$notes" | uniq -c | tr -s ' \n' ' ')"
	fi
	if [ -n "$bad" ]; then
		fail "$name" "$bad"
	else
		echo "$name: $runs runs x $jobs report entries, $nulls observations null"
		pass "$name"
	fi
}

numjobs_case numjobs4-processes 4 "${nj[@]}"
numjobs_case numjobs4-threads 4 "${nj[@]}" --thread=1
numjobs_case numjobs4-rereg 4 "${nj[@]}" --rereg_interval=100ms
# The same layout on THP: 32 buffers of 64 KiB in each 2 MiB folio.
numjobs_case numjobs4-per-folio-thp 4 "${nj[@]}" --reg_strategy=per_folio \
	--reg_folio=thp
# Threads re-registering every 300 ms, summed by group_reporting into one
# entry.
numjobs_case numjobs4-threads-per-page 1 --output-format=json --runtime=2 \
	--filename=/dev/zero --size=256m --reg_strategy=per_page --bs=64k \
	--rw=write --iodepth=1 --numjobs=4 --thread=1 --group_reporting \
	--rereg_interval=300ms

# A program beside it that pins and unpins all the time (O_DIRECT through
# psync, no fixed buffers): each figure is exact or null with the reason.
load=$SCRATCH/pinload
fio --name=pinload --ioengine=psync --direct=1 --filename="$load" --size=32m \
	--bs=4k --rw=randread --time_based --runtime=120 --numjobs=2 \
	>"$SCRATCH/pinload.out" 2>&1 &
loadpid=$!
# It really does I/O: the pin counters move (fio lays the file out first).
acquired() { awk '/^nr_foll_pin_acquired/ { print $2 }' /proc/vmstat; }
p0=$(acquired)
moving() { ! kill -0 "$loadpid" 2>/dev/null || [ "$(acquired)" -gt $((p0 + 1000)) ]; }
wait_until 120 moving
if ! kill -0 "$loadpid" 2>/dev/null; then
	fail observed-beside-pinning-load "the pinning load (fio psync direct=1) ended early: $(grep -m2 -E 'err=|fio:|error' "$SCRATCH/pinload.out" | tr '\n' ' ')"
elif [ "$(acquired)" -le $((p0 + 1000)) ]; then
	skip observed-beside-pinning-load "O_DIRECT reads did not move nr_foll_pin_acquired here in 120 s ($p0 -> $(acquired)): this kernel or file system does not pin them with FOLL_PIN, so there is no load to disturb the counters"
else
	out=$SCRATCH/obs-disturbed.json
	p1=$(acquired)
	ufio "$out" --name=disturbed --output-format=json --runtime=1 \
		--filename=/dev/zero --size=64m --reg_strategy=per_page --bs=64k \
		--rw=write --iodepth=64 --numjobs=2 2>/dev/null
	rc=$?
	moved=$(($(acquired) - p1))
	bad=$(exact_or_null "$out" 2)
	if ! kill -0 "$loadpid" 2>/dev/null; then
		fail observed-beside-pinning-load "the pinning load ended before the job did: $(tail -2 "$SCRATCH/pinload.out" | tr '\n' ' ')"
	elif [ $rc != 0 ] || [ -n "$bad" ]; then
		fail observed-beside-pinning-load "rc=$rc $bad"
	else
		echo "beside the load ($moved pins taken meanwhile): $(jq -c '[.jobs[].uring_folioreg.segments.bvecs_observed]' "$out")"
		pass observed-beside-pinning-load
	fi
fi
kill "$loadpid" 2>/dev/null
wait "$loadpid" 2>/dev/null
rm -f "$load"

# The kernel's rules, found by the probe, as the version says for a stock
# kernel; the ring's set-up flags.
out=$SCRATCH/obs-rules.json
ufio "$out" --name=rules --output-format=json --filename=/dev/zero \
	--size=16m --bs=1m --iodepth=4 --reg_strategy=hugetlb_fast 2>/dev/null
release=$(uname -r)
case $release in
[0-5].* | 6.[0-2].* | 6.[0-2]-*) want=per_page ;;
6.[3-9].* | 6.[3-9]-*) want=single_folio ;;
*) want=multi_folio ;;
esac
got=$(jq -r '.jobs[0].uring_folioreg.segments.rules | "\(.name) \(.how)"' "$out" 2>&1)
if [[ $got == "$want probe: "* ]]; then
	pass rules-probed
else
	fail rules-probed "kernel $release: got '$got', want '$want probe: ...'"
fi
got=$(jq -r '.jobs[0].uring_folioreg.ring_flags' "$out" 2>&1)
if [[ $got =~ ^[a-z_]+( [a-z_]+)*$ ]]; then
	pass ring-flags-reported
else
	fail ring-flags-reported "ring_flags '$got'"
fi

# Engine notes go to stderr and into the notes array, never in front of
# fio's JSON document: --output keeps a file jq can read.
out=$SCRATCH/obs-auto.json
ufio "$SCRATCH/obs-auto.txt" --name=auto --output-format=json --output="$out" \
	--filename=/dev/zero --size=16m --bs=1m --iodepth=4 --reg_strategy=auto
rc=$?
if [ $rc = 0 ] && jq -e '.jobs[0].uring_folioreg.notes[0] |
	startswith("reg_strategy=auto chose")' "$out" >/dev/null 2>&1 &&
	grep -q '^uring_folioreg note: auto: reg_strategy=auto chose' "$SCRATCH/obs-auto.txt"; then
	pass json-output-file-with-auto
else
	fail json-output-file-with-auto "rc=$rc: $(head -c 200 "$out" | tr '\n' ' ')"
fi
# Standard output alone (ufio would merge standard error into it).
if (cd "$SCRATCH" && timeout 60 fio --ioengine="external:$ENGINE" --name=auto \
	--output-format=json --filename=/dev/zero --size=16m --bs=1m --iodepth=4 \
	--reg_strategy=auto 2>/dev/null) | jq -e . >/dev/null 2>&1; then
	pass json-stdout-with-auto
else
	fail json-stdout-with-auto "fio's standard output is not one JSON document"
fi
