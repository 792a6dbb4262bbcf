#!/bin/bash
# make bench's comparison script still runs and prints its table: one
# short pair per /dev/null workload (the figures themselves are make
# bench's business, not a test's), and bad settings are refused.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

out=$SCRATCH/bench-smoke.out
BENCH_PAIRS=1 BENCH_RUNTIME=1 \
	BENCH_WORKLOADS="devnull-write-4k-qd32 devnull-write-4k-qd32-metrics" \
	"$TOP/scripts/bench.sh" >"$out" 2>&1
rc=$?
# Per ratio: the median, its 95 % interval and the verdict.
ratio='[0-9]+\.[0-9]{3} \[[0-9]+\.[0-9]{3}, [0-9]+\.[0-9]{3}\] (same|lower|higher)'
row="^devnull-write-4k-qd32(-metrics)? +(builtin|nostats) +[1-9][0-9]* +[1-9][0-9]* +$ratio +$ratio\$"
if [ $rc != 0 ]; then
	fail bench-smoke "bench.sh exited $rc: $(tail -5 "$out" | tr '\n' ' ')"
elif [ "$(grep -cE "$row" "$out")" != 2 ]; then
	fail bench-smoke "no table of two rows in: $(tr '\n' ' ' <"$out")"
elif ! grep -qE '^devnull-write-4k-qd32-metrics: IOPS ratio [0-9.]+, target >= 0.99: (met|NOT met)$' "$out"; then
	fail bench-smoke "no metrics verdict in: $(tr '\n' ' ' <"$out")"
else
	pass bench-smoke
fi

# Each bad setting: exit 1 with one "bench:" line naming it.
bad_setting() { # NAME EXPECTED-WORDS VAR=VALUE...
	local name=$1 words=$2
	shift 2
	env BENCH_PAIRS=1 BENCH_RUNTIME=1 BENCH_WORKLOADS=devnull-write-4k-qd32 \
		"$@" "$TOP/scripts/bench.sh" >"$out" 2>&1
	rc=$?
	if [ $rc = 1 ] && [ "$(wc -l <"$out")" = 1 ] &&
		grep -qE "^bench: .*$words" "$out"; then
		pass "$name"
	else
		fail "$name" "exit $rc: $(tr '\n' ' ' <"$out")"
	fi
}
bad_setting bench-bad-cpu "BENCH_CPU=4096: no such CPU online" BENCH_CPU=4096
bad_setting bench-bad-cpu-word "BENCH_CPU must be a CPU number or none" \
	BENCH_CPU=fast
bad_setting bench-bad-pairs "BENCH_PAIRS must be a positive integer" \
	BENCH_PAIRS=0
bad_setting bench-bad-workload "unknown workload 'nope'" \
	BENCH_WORKLOADS=nope
