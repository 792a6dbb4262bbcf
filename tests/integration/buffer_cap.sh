#!/bin/bash
# The running kernel's cap on one registered buffer, as the engine probes
# it (segments.max_buffer_bytes, max_buffer_how probe), against what the
# kernel does: plain liburing (bare_register, which shares no code with
# the engine) registers a buffer of the cap and is refused one 2 MiB over
# it, or registers 1 GiB + 2 MiB where the cap allows it. Then a coalesced
# pool of 1.5 GiB (1536 x 1 MiB) on THP and on 2 MiB hugetlb is laid out in
# regions of at most the cap (one where the cap takes the whole pool), its
# bvecs read back from the page tables and equal to the kernel's pin
# counters (bvecs_observed), one segment per 1 MiB I/O.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip buffer_cap "needs root (pin counters, hugetlb)"; exit 0; }
BARE=$TOP/build/tools/bare_register
[ -x "$BARE" ] || { skip buffer_cap "no $BARE (make tools)"; exit 0; }
trap 'thp_restore; hp_restore' EXIT
MIB=$((1 << 20))

# The probe's answer, from a small job.
out=$SCRATCH/cap-probe.json
ufio "$out" --name=cap-probe --filename=/dev/zero --rw=read --bs=64k \
	--iodepth=4 --size=4m --reg_strategy=per_page --output-format=json
read -r cap how < <(sed -n '/^{/,$p' "$out" | jq -r '.jobs[0].uring_folioreg.segments |
	"\(.max_buffer_bytes) \(.max_buffer_how)"' 2>/dev/null)
if [[ ! "$cap" =~ ^[0-9]+$ ]] || [ "$how" != probe ]; then
	fail cap-probe "max_buffer_bytes=$cap max_buffer_how=$how: $(grep -m1 -E 'uring_folioreg( note)?:' "$out")"
	exit 0
fi
echo "the probe: max_buffer_bytes=$cap ($how) on $(uname -r)"
pass cap-probe

# registers BYTES: bare_register takes one buffer of BYTES on THP, or
# prints the kernel's error.
registers() { "$BARE" --backing=thp --count=1 --size="$1" --reps=1 >"$SCRATCH/cap-bare.out" 2>&1; }
over=$((1024 * MIB + 2 * MIB))
if [ "$cap" -ge "$over" ]; then
	if registers "$over"; then
		pass cap-kernel-agrees
	else
		fail cap-kernel-agrees "the probe says $cap bytes, but $over was refused: $(cat "$SCRATCH/cap-bare.out")"
	fi
elif [ "$((cap + 2 * MIB))" -gt $((4096 * MIB)) ]; then
	skip cap-kernel-agrees "a cap of $cap bytes is too large to register here"
elif ! registers "$cap"; then
	fail cap-kernel-agrees "the probe says $cap bytes, but the kernel refused that much: $(cat "$SCRATCH/cap-bare.out")"
elif registers $((cap + 2 * MIB)); then
	fail cap-kernel-agrees "the probe says $cap bytes, but the kernel took $((cap + 2 * MIB))"
elif grep -qE 'Bad address|Invalid argument' "$SCRATCH/cap-bare.out"; then
	echo "the kernel took $cap bytes and refused $((cap + 2 * MIB)): $(cat "$SCRATCH/cap-bare.out")"
	pass cap-kernel-agrees
else
	fail cap-kernel-agrees "$((cap + 2 * MIB)) bytes failed for another reason: $(cat "$SCRATCH/cap-bare.out")"
fi

# pool NAME FOLIO: 1536 x 1 MiB coalesced on FOLIO: regions of at most the
# cap (whole 1 MiB buffers each), one bio_vec per 2 MiB folio, the pins
# the same.
per=$((cap / MIB))
want_regions=$(((1536 + per - 1) / per))
pool() {
	local name=$1 out=$SCRATCH/cap-$1.json got want rc
	ufio "$out" --name="$name" --filename=/dev/zero --rw=read --bs=1m \
		--iodepth=1536 --size=1536m --reg_strategy=coalesced \
		--reg_folio="$2" --output-format=json
	rc=$?
	if [ $rc != 0 ]; then
		fail "$name" "fio exited $rc: $(grep -m1 uring_folioreg: "$out")"
		return
	fi
	got=$(sed -n '/^{/,$p' "$out" | jq -r '.jobs[0].uring_folioreg |
		"\(.reg.buffers) \(.segments.bvecs) \(.segments.bvecs_observed) \(.segments.per_io_max) \(.segments.source)"')
	want="$want_regions 768 768 1 pagemap"
	if [ "$got" = "$want" ]; then
		echo "$name: regions bvecs bvecs_observed per_io_max source: $got"
		pass "$name"
	elif grep -q 'got .* KiB ones' "$out"; then
		skip "$name" "the kernel handed out smaller folios (memory fragmented?): $(grep -m1 'got .* KiB ones' "$out")"
	else
		fail "$name" "regions bvecs bvecs_observed per_io_max source: got '$got', want '$want'"
	fi
}
if [ "$(thp_setting /sys/kernel/mm/transparent_hugepage/enabled)" = never ]; then
	skip cap-pool-thp "THP is off (transparent_hugepage/enabled is never)"
else
	pool cap-pool-thp thp
fi
if hp_reserve 2048 $(($(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 768)); then
	pool cap-pool-2m 2m
else
	skip cap-pool-2m "cannot reserve 768 more 2 MiB hugetlb pages"
fi
