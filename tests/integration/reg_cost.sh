#!/bin/bash
# make bench's registration-cost script (scripts/reg-cost.sh: the engine's
# timed registration against the bare liburing yardstick, 256 x 1 MiB on
# 4 KiB pages) still runs and prints its figures and its verdict. Whether
# the verdict is met is make bench's business: it compares wall-clock
# times, which a loaded machine can push past any bound.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

out=$SCRATCH/reg-cost.out
RUNS=3 "$TOP/scripts/reg-cost.sh" --bound 1.30 per_page >"$out" 2>&1
rc=$?
cat "$out"
# The kernel's time from the tracepoints in the bare program's and in the
# engine's runs, and the engine's over it, or "-" where perf cannot
# record them.
row='^per_page +[1-9][0-9]* +[1-9][0-9]* +[0-9]+\.[0-9]{3} +[1-9][0-9]* +[1-9][0-9]* +[0-9]+\.[0-9]{3} +([1-9][0-9]*|-) +([1-9][0-9]*|-) +([0-9]+\.[0-9]{4}|-)$'
if [ $rc != 0 ]; then
	fail reg-cost-per-page "reg-cost.sh exited $rc: $(tr '\n' ' ' <"$out")"
elif ! grep -qE "$row" "$out"; then
	fail reg-cost-per-page "no figures for per_page in: $(tr '\n' ' ' <"$out")"
elif ! grep -qE '^per_page: engine/bare [0-9]+\.[0-9]{3} \(least runs\), bound 1\.30: (met|NOT met)$' "$out"; then
	fail reg-cost-per-page "no verdict in: $(tr '\n' ' ' <"$out")"
else
	pass reg-cost-per-page
fi

# --check turns the verdict into the exit status: a bound no run can meet
# fails, one every run meets passes.
RUNS=1 "$TOP/scripts/reg-cost.sh" --check 0.000001 per_page >"$out" 2>&1
rc1=$?
RUNS=1 "$TOP/scripts/reg-cost.sh" --check 1000000 per_page >>"$out" 2>&1
rc2=$?
if [ $rc1 = 1 ] && [ $rc2 = 0 ]; then
	pass reg-cost-check-exit
else
	fail reg-cost-check-exit "exit $rc1 for a bound no run meets, $rc2 for one all meet: $(tr '\n' ' ' <"$out")"
fi
