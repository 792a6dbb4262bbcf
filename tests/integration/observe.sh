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

# exact_or_null FILE: every job's bvecs_observed equals bvecs, or is null
# with a reason; prints the offenders.
exact_or_null() {
	jq -r '.jobs[].uring_folioreg.segments |
		select(.bvecs_observed != .bvecs and
			(.bvecs_observed != null or .observed_note == null)) |
		"bvecs=\(.bvecs) observed=\(.bvecs_observed) note=\(.observed_note)"' "$1" 2>&1
}

numjobs_case() { # name, fio options...
	local name=$1 out=$SCRATCH/obs-$1.json i bad="" nulls=0 rc
	shift
	for i in $(seq "$runs"); do
		ufio "$out" --name="$name" "$@" 2>/dev/null
		rc=$?
		if [ $rc != 0 ]; then
			bad="run $i: fio exited $rc: $(grep -m1 uring_folioreg: "$out")"
			break
		fi
		bad=$(exact_or_null "$out")
		[ -n "$bad" ] && { bad="run $i: $bad"; break; }
		nulls=$((nulls + $(jq '[.jobs[].uring_folioreg.segments |
			select(.bvecs_observed == null)] | length' "$out")))
	done
	if [ -n "$bad" ]; then
		fail "$name" "$bad"
	else
		echo "$name: $runs runs x 4 jobs, $nulls observations null"
		pass "$name"
	fi
}

numjobs_case numjobs4-processes "${nj[@]}"
numjobs_case numjobs4-threads "${nj[@]}" --thread=1
numjobs_case numjobs4-rereg "${nj[@]}" --rereg_interval=100ms
# Threads re-registering every 300 ms, summed by group_reporting.
numjobs_case numjobs4-threads-per-page --output-format=json --runtime=2 \
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
# Wait until it really does I/O: the pin counters move.
p0=$(awk '/^nr_foll_pin_acquired/ { print $2 }' /proc/vmstat)
for _ in $(seq 600); do
	[ "$(awk '/^nr_foll_pin_acquired/ { print $2 }' /proc/vmstat)" -gt $((p0 + 1000)) ] && break
	sleep 0.1
done
out=$SCRATCH/obs-disturbed.json
ufio "$out" --name=disturbed --output-format=json --runtime=1 \
	--filename=/dev/zero --size=64m --reg_strategy=per_page --bs=64k \
	--rw=write --iodepth=64 --numjobs=2 2>/dev/null
rc=$?
kill "$loadpid" 2>/dev/null
wait "$loadpid" 2>/dev/null
rm -f "$load"
bad=$(exact_or_null "$out")
if [ $rc != 0 ] || [ -n "$bad" ]; then
	fail observed-beside-pinning-load "rc=$rc $bad"
else
	echo "beside the load: $(jq -c '[.jobs[].uring_folioreg.segments.bvecs_observed]' "$out")"
	pass observed-beside-pinning-load
fi

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
