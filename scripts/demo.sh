#!/bin/bash
# make demo: compare the registration strategies on a scratch file (no
# device needed), then a short folio spectrum (registration on 4k to 1g
# folios, anon, memfd and hugetlbfs), print the tables and the paths of
# the plots. Reserves the hugetlb pages it needs (2 MiB ones, and one of
# 1 GiB if it can: without it the 1g cases are recorded as failed) and
# gives back what it found on exit; the kit puts back the mTHP switches
# and removes the hugetlbfs it mounts. What this machine cannot do (a
# page size or multi-size THP size its kernel lacks, perf events) the kit
# reports as not available here: the demo exits 0 when every other case
# ran, 3 when one failed.
set -u
cd "$(dirname "$0")/.." || exit 1

out=${DEMO_OUT:-build/demo}
file=${DEMO_FILE:-build/demo.dat}
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
hp1g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
# 1 GiB of hugetlb_fast buffers in the scaling sweep, plus the comparison.
want=600

saved=$(cat $hp 2>/dev/null)
saved1g=$(cat $hp1g 2>/dev/null)
restore() {
	[ -n "$saved" ] && echo "$saved" >$hp 2>/dev/null
	[ -n "$saved1g" ] && echo "$saved1g" >$hp1g 2>/dev/null
	rm -f "$file"
}
trap restore EXIT
trap 'exit 130' INT TERM
if [ -n "$saved" ] && [ "$saved" -lt "$want" ]; then
	if ! echo "$want" >$hp 2>/dev/null; then
		echo "demo: cannot reserve hugetlb pages (run as root); the 2m" \
			"and hugetlb_fast runs will fail" >&2
	fi
fi
if [ -z "$saved1g" ]; then
	echo "demo: this kernel has no 1 GiB hugetlb pages; the spectrum's 1g" \
		"cases are reported as not available here" >&2
elif [ "$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages)" = 0 ] &&
	! { echo $((saved1g + 1)) >$hp1g && [ "$(cat $hp1g)" -gt "$saved1g" ]; } 2>/dev/null; then
	echo "demo: no 1 GiB hugetlb page to be had; the spectrum's 1g cases" \
		"will fail" >&2
fi
echo "demo: $(fio --version) with ./uring_folioreg.so $(cat VERSION)," \
	"$(grep HugePages_Free /proc/meminfo | awk '{ print $2 }') hugetlb pages free"

rm -rf "$out"
mkdir -p "$(dirname "$file")"
# A case that fails (exit 3) is marked in the table; the others are shown.
examples/compare.py run demo --out "$out" --file "$file" \
	--scaling-bs 64k,1m
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || exit 1
# The spectrum, short: five folio sizes, three backings (memfd without
# thp, which the full spectrum has), 2 repeats.
examples/compare.py run spectrum --out "$out/spectrum" --reps 2 \
	--spectrum-folios 4k,64k,thp,2m,1g --spectrum-series anon,memfd,hugetlbfs \
	--spectrum-skip memfd-thp
src=$?
[ "$src" = 0 ] || [ "$src" = 3 ] || exit 1
[ "$rc" = 0 ] && rc=$src
examples/compare.py table "$out" || exit 1
examples/compare.py table "$out/spectrum" || exit 1
echo
echo "Plots:"
examples/compare.py plot "$out" || exit 1
examples/compare.py plot "$out/spectrum" || exit 1
exit "$rc"
