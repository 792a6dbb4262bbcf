#!/bin/bash
# Registration cost of the engine against a bare liburing program
# (tests/tools/bare_register.c) registering the same iovecs in the same
# kind of memory, 256 x 1 MiB: interleaved runs; the medians and the
# least of each side, and their ratios.
#
#   scripts/reg-cost.sh [--check MAX_RATIO | --bound MAX_RATIO] CASE...
#
# CASE is per_page, hugetlb_2m or hugetlb_1g. The ratio (engine / bare) of
# the least runs is the cost: on a shared VM interference only adds time.
# With --bound, a verdict line per case says whether it is at most
# MAX_RATIO (make bench); with --check, the script also exits non-zero
# when it is not. Either is a wall-clock comparison, which a loaded
# machine can break: make check runs this script for its figures only.
# Hugetlb cases need the pages reserved. RUNS (default 9) runs per side.
# Both sides run on the same CPU (REG_COST_CPU, default the last one), so
# that neither shares its CPU with the other's neighbours (fio's own
# threads, for one).
set -u
cd "$(dirname "$0")/.." || exit 1

check="" strict=0
case ${1:-} in
--check) check=$2 strict=1 && shift 2 ;;
--bound) check=$2 && shift 2 ;;
esac
RUNS=${RUNS:-9}
CPU=${REG_COST_CPU:-$(($(nproc) - 1))}
BARE=build/tools/bare_register
ENGINE=./uring_folioreg.so
[ -x "$BARE" ] || { echo "reg-cost: $BARE is not built (make tools)" >&2; exit 1; }
[ -f "$ENGINE" ] || { echo "reg-cost: $ENGINE is not built (make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
least() { sort -n | head -1; }

status=0 verdicts=""
printf '%-12s %14s %14s %8s %14s %14s %8s\n' case "bare median" \
	"engine median" ratio "bare least" "engine least" ratio
for c in "$@"; do
	case $c in
	per_page) bare=(--backing=4k) eng=(--reg_strategy=per_page) ;;
	hugetlb_2m) bare=(--backing=2m --layout=perbuf) eng=(--reg_strategy=hugetlb_fast --reg_folio=2m) ;;
	hugetlb_1g) bare=(--backing=1g --layout=perbuf) eng=(--reg_strategy=hugetlb_fast --reg_folio=1g) ;;
	*) echo "reg-cost: unknown case $c" >&2; exit 1 ;;
	esac
	: >"$tmp/bare" && : >"$tmp/eng"
	for _ in $(seq "$RUNS"); do
		taskset -c "$CPU" "$BARE" "${bare[@]}" --count=256 --size=1m \
			--mode=batch --reps=1 2>&1 |
			sed -n 's/.*summary.* median_reg_ns=\([0-9]*\).*/\1/p' >>"$tmp/bare"
		fio --output-format=json --name=reg-cost --ioengine=external:$ENGINE \
			--filename=/dev/zero --rw=read --bs=1m --iodepth=256 \
			--size=256m --cpus_allowed="$CPU" "${eng[@]}" 2>/dev/null |
			jq '.jobs[0].uring_folioreg.reg.total_ns' >>"$tmp/eng" 2>/dev/null
	done
	b=$(median <"$tmp/bare")
	e=$(median <"$tmp/eng")
	bl=$(least <"$tmp/bare")
	el=$(least <"$tmp/eng")
	if [ -z "$b" ] || [ -z "$e" ] || [ "$bl" = 0 ]; then
		echo "reg-cost: $c: no figures (bare '${b}', engine '${e}')" >&2
		status=1
		continue
	fi
	r=$(awk -v b="$b" -v e="$e" 'BEGIN { printf "%.3f", e / b }')
	rl=$(awk -v b="$bl" -v e="$el" 'BEGIN { printf "%.3f", e / b }')
	printf '%-12s %14d %14d %8s %14d %14d %8s\n' "$c" "$b" "$e" "$r" \
		"$bl" "$el" "$rl"
	[ -n "$check" ] || continue
	if awk -v r="$rl" -v m="$check" 'BEGIN { exit !(r > m) }'; then
		verdicts="$verdicts$c: engine/bare $rl (least runs), bound $check: NOT met
"
		[ $strict = 1 ] && status=1
	else
		verdicts="$verdicts$c: engine/bare $rl (least runs), bound $check: met
"
	fi
done
[ -z "$verdicts" ] || printf '\n%s' "$verdicts"
exit $status
