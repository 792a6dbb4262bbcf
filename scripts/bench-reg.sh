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
	{ echo "$saved2" >$hp/hugepages-2048kB/nr_hugepages; } 2>/dev/null
	# A kernel without 1 GiB pages has no such pool to put back.
	[ ! -e $hp/hugepages-1048576kB ] ||
		echo "$saved1" >$hp/hugepages-1048576kB/nr_hugepages
}
trap restore EXIT
cases="per_page coalesced"
# 16384 x 64 KiB is 1 GiB: 512 pages of 2 MiB and a few for the probes.
if echo $((saved2 + 520)) >$hp/hugepages-2048kB/nr_hugepages 2>/dev/null &&
	[ "$(cat $hp/hugepages-2048kB/free_hugepages)" -ge 520 ]; then
	cases="$cases hugetlb_2m"
fi
if [ -e $hp/hugepages-1048576kB ] &&
	echo $((saved1 + 1)) >$hp/hugepages-1048576kB/nr_hugepages &&
	[ "$(cat $hp/hugepages-1048576kB/free_hugepages)" -ge 1 ]; then
	cases="$cases hugetlb_1g"
fi
echo
echo "Registration, engine (reg.total_ns) vs bare liburing and the kernel's syscall time (${RUNS:-9} interleaved runs each):"
# The verdicts: the engine's least run at most 1.3 times the bare
# program's (two runs of the same program differ by up to 30 % on a
# shared VM; a real overhead goes past it). A timing bound, so make
# bench's and not make check's.
status=0
for shape in 256x1m 16384x64k; do
	# shellcheck disable=SC2086
	REG_COST_SHAPE=$shape scripts/reg-cost.sh --bound 1.30 $cases || status=1
done
exit $status
