#!/bin/bash
# make demo: compare the registration strategies on a scratch file (no
# device needed), print the table and the paths of the plots. Reserves the
# hugetlb pages it needs and gives back what it found on exit.
set -u
cd "$(dirname "$0")/.." || exit 1

out=${DEMO_OUT:-build/demo}
file=${DEMO_FILE:-build/demo.dat}
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
# 1 GiB of hugetlb_fast buffers in the scaling sweep, plus the comparison.
want=600

saved=$(cat $hp 2>/dev/null)
restore() {
	[ -n "$saved" ] && echo "$saved" >$hp 2>/dev/null
	rm -f "$file"
}
trap restore EXIT
if [ -n "$saved" ] && [ "$saved" -lt "$want" ]; then
	if ! echo "$want" >$hp 2>/dev/null; then
		echo "demo: cannot reserve hugetlb pages (run as root); the 2m" \
			"and hugetlb_fast runs will fail" >&2
	fi
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
examples/compare.py table "$out" || exit 1
echo
echo "Plots:"
examples/compare.py plot "$out" || exit 1
exit "$rc"
