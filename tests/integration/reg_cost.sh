#!/bin/bash
# What the engine's timed registration costs against the bare liburing
# yardstick: 256 x 1 MiB on 4 KiB pages, interleaved runs, medians within
# 10 %. (Hugetlb calls take 0.5 ms, and on this VM they swing by more than
# 10 % from run to run; make bench prints that comparison instead.)
. "$(dirname "$0")/../lib.sh"

out=$SCRATCH/reg-cost.out
"$TOP/scripts/reg-cost.sh" --check 1.10 per_page >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc = 0 ]; then
	pass reg-cost-per-page
else
	fail reg-cost-per-page "$(tr '\n' ' ' <"$out")"
fi
