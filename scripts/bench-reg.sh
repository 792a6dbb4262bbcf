#!/bin/bash
# make bench, second part: registration cost of the engine against the
# bare liburing yardstick, on 4 KiB pages and on hugetlb pages (reserved
# here for the run and given back after), with a verdict per case.
set -u
cd "$(dirname "$0")/.." || exit 1
hp=/sys/kernel/mm/hugepages
saved2=$(cat $hp/hugepages-2048kB/nr_hugepages 2>/dev/null || echo 0)
saved1=$(cat $hp/hugepages-1048576kB/nr_hugepages 2>/dev/null || echo 0)
restore() {
	echo "$saved2" >$hp/hugepages-2048kB/nr_hugepages 2>/dev/null
	echo "$saved1" >$hp/hugepages-1048576kB/nr_hugepages 2>/dev/null
}
trap restore EXIT
cases=per_page
if echo $((saved2 + 128)) >$hp/hugepages-2048kB/nr_hugepages 2>/dev/null &&
	[ "$(cat $hp/hugepages-2048kB/free_hugepages)" -ge 128 ]; then
	cases="$cases hugetlb_2m"
fi
if echo $((saved1 + 1)) >$hp/hugepages-1048576kB/nr_hugepages 2>/dev/null &&
	[ "$(cat $hp/hugepages-1048576kB/free_hugepages)" -ge 1 ]; then
	cases="$cases hugetlb_1g"
fi
echo
echo "Registration of 256 x 1 MiB, engine vs bare liburing (${RUNS:-9} interleaved runs each):"
# The verdicts: the engine's least run at most 1.3 times the bare
# program's (two runs of the same program differ by up to 30 % on a
# shared VM; a real overhead goes past it). A timing bound, so make
# bench's and not make check's.
# shellcheck disable=SC2086
scripts/reg-cost.sh --bound 1.30 $cases
