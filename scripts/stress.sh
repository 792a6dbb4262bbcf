#!/bin/bash
# make stress: the long reliability runs.
#  - 16 jobs of 256 registered buffers each, every strategy that owns its
#    memory, verified, pins and hugetlb pages back afterwards;
#  - one job with 16384 buffers;
#  - the registration cost curve against buffer count (it must stay near
#    linear: the time per buffer at 16384 within 3x of that at 256).
# (not set -u: tests/lib.sh reads unset array slots)
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
[ "$(id -u)" = 0 ] || { echo "stress: needs root" >&2; exit 1; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 700 )) ||
	{ echo "stress: cannot reserve hugetlb pages" >&2; exit 1; }
status=0
pins0=$(pins)
free0=$(hp_total_free)

for st in per_page coalesced hugetlb_fast; do
	out=$SCRATCH/stress-$st.out
	ufio "$out" --name=stress-$st --filename_format="$SCRATCH/stress.\$jobnum" \
		--numjobs=16 --iodepth=256 --bs=64k --size=64m --rw=randrw \
		--direct=1 --verify=crc32c --reg_strategy=$st --group_reporting \
		--output-format=json
	rc=$?
	# fio may warn before its JSON document; keep the document.
	sed -i -n '/^{/,$p' "$out"
	if [ $rc = 0 ] && jq -e '.jobs[0].error == 0 and
		.jobs[0].uring_folioreg.reg.buffers > 0' "$out" >/dev/null; then
		echo "stress: 16 jobs x 256 buffers, $st: ok," \
			"$(jq -r '.jobs[0].uring_folioreg | "\(.reg.buffers) buffers, \(.segments.bvecs) bvecs, reg \(.reg.total_ns) ns"' "$out")"
	else
		echo "stress: 16 jobs x 256 buffers, $st: FAILED ($out)"
		status=1
	fi
done
rm -f "$SCRATCH"/stress.*

out=$SCRATCH/stress-16384.out
ufio "$out" --name=stress-16384 --filename=/dev/zero --rw=read --bs=4k \
	--iodepth=16384 --size=256m --reg_strategy=per_page --output-format=json
if jq -e '.jobs[0].error == 0 and .jobs[0].uring_folioreg.reg.buffers == 16384' \
	"$out" >/dev/null 2>&1; then
	echo "stress: one job, 16384 buffers: ok, reg $(jq '.jobs[0].uring_folioreg.reg.total_ns' "$out") ns"
else
	echo "stress: one job, 16384 buffers: FAILED ($out)"
	status=1
fi

echo "stress: registration cost against buffer count (per_page, 64 KiB, batch):"
for n in 16 64 256 1024 4096 16384; do
	ufio "$SCRATCH/curve.json" --output-format=json --name=curve \
		--filename=/dev/zero --rw=read --bs=64k --size=64k --number_ios=1 \
		--iodepth=$n --reg_strategy=per_page
	ns=$(jq '.jobs[0].uring_folioreg.reg.total_ns' "$SCRATCH/curve.json")
	echo "  $n buffers: $ns ns, $((ns / n)) ns per buffer"
	eval "per_$n=$((ns / n))"
done
# shellcheck disable=SC2154
if [ "$per_16384" -le $((3 * per_256)) ]; then
	echo "stress: near linear (per buffer: $per_256 ns at 256, $per_16384 ns at 16384)"
else
	echo "stress: NOT linear (per buffer: $per_256 ns at 256, $per_16384 ns at 16384)"
	status=1
fi

# The kernel gives a ring's pins back in a work item after fio exits.
wait_until 60 back_yet "$free0" "$pins0"
if [ "$(hp_total_free)" != "$free0" ] || [ "$(pins)" -gt "$pins0" ]; then
	echo "stress: leaked: HugePages_Free $free0 -> $(hp_total_free), pins $pins0 -> $(pins)"
	status=1
fi
exit $status
