#!/bin/bash
# Registration cost of the engine against a bare liburing program
# (tests/tools/bare_register.c) registering the same iovecs in the same
# kind of memory, 256 x 1 MiB: interleaved runs; the medians and the
# least of each side, and their ratios.
#
#   scripts/reg-cost.sh [--check MAX_RATIO | --bound MAX_RATIO] CASE...
#
# CASE is per_page, coalesced (THP; the bare program registers the
# whole pool as one buffer, as the engine's regions do), hugetlb_2m or
# hugetlb_1g. REG_COST_SHAPE is COUNTxSIZE (default 256x1m; 16384x64k is
# the kernel's most buffers). Where perf can record the syscall
# tracepoints, every run of either side is traced alike: the longest
# IORING_REGISTER_BUFFERS call, entry to exit, is the kernel's time (its
# median per side: "bare kernel", "kernel median"), and "inside" is the
# median over the engine's runs of reg.total_ns over it: what the engine
# adds inside its timed window. The ratio (engine / bare) of
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
shape=${REG_COST_SHAPE:-256x1m}
count=${shape%x*} size=${shape#*x}
bytes=$(numfmt --from=iec "${size^^}") ||
	{ echo "reg-cost: REG_COST_SHAPE=$shape: not COUNTxSIZE" >&2; exit 1; }
trace=()
if perf record -q -o "$tmp/probe.data" -e syscalls:sys_enter_io_uring_register \
	true >/dev/null 2>&1; then
	trace=(perf record -q -o "$tmp/trace.data"
		-e syscalls:sys_enter_io_uring_register
		-e syscalls:sys_exit_io_uring_register --)
fi
# The longest IORING_REGISTER_BUFFERS call in $tmp/trace.data, in ns.
traced_ns() {
	perf script -i "$tmp/trace.data" --ns 2>/dev/null | awk '
	/sys_enter_io_uring_register:/ {
		t = $4; sub(":", "", t)
		start[$2] = $0 ~ /opcode: 0x00000000,/ ? t : ""
	}
	/sys_exit_io_uring_register:/ && start[$2] != "" {
		t = $4; sub(":", "", t)
		d = (t - start[$2]) * 1e9
		if (d > max) max = d
		start[$2] = ""
	}
	END { if (max) printf "%.0f\n", max }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
least() { sort -n | head -1; }

status=0 verdicts=""
echo "$count x $size:"
printf '%-12s %14s %14s %8s %14s %14s %8s %14s %14s %8s\n' case \
	"bare median" "engine median" ratio "bare least" "engine least" \
	ratio "bare kernel" "kernel median" inside
for c in "$@"; do
	case $c in
	per_page) bare=(--backing=4k) eng=(--reg_strategy=per_page) ;;
	coalesced) bare=(--backing=thp) eng=(--reg_strategy=coalesced) ;;
	hugetlb_2m) bare=(--backing=2m --layout=perbuf) eng=(--reg_strategy=hugetlb_fast --reg_folio=2m) ;;
	hugetlb_1g) bare=(--backing=1g --layout=perbuf) eng=(--reg_strategy=hugetlb_fast --reg_folio=1g) ;;
	*) echo "reg-cost: unknown case $c" >&2; exit 1 ;;
	esac
	: >"$tmp/bare" && : >"$tmp/eng" && : >"$tmp/inside" && : >"$tmp/kern"
	: >"$tmp/bkern"
	n=$count sz=$size
	[ "$c" != coalesced ] || n=1 sz=$((count * bytes))
	for _ in $(seq "$RUNS"); do
		"${trace[@]}" taskset -c "$CPU" "$BARE" "${bare[@]}" --count="$n" \
			--size="$sz" --mode=batch --reps=1 2>&1 |
			sed -n 's/.*summary.* median_reg_ns=\([0-9]*\).*/\1/p' >>"$tmp/bare"
		[ ${#trace[@]} = 0 ] || traced_ns >>"$tmp/bkern"
		"${trace[@]}" fio --output-format=json --name=reg-cost \
			--ioengine=external:$ENGINE --filename=/dev/zero --rw=read \
			--bs="$size" --iodepth="$count" --size=$((count * bytes)) \
			--number_ios=1 --cpus_allowed="$CPU" "${eng[@]}" 2>/dev/null |
			jq '.jobs[0].uring_folioreg.reg.total_ns' >"$tmp/one" 2>/dev/null
		cat "$tmp/one" >>"$tmp/eng"
		[ ${#trace[@]} = 0 ] && continue
		k=$(traced_ns)
		if [ -z "$k" ] || [ ! -s "$tmp/one" ]; then
			continue
		fi
		echo "$k" >>"$tmp/kern"
		awk -v t="$(cat "$tmp/one")" -v k="$k" 'BEGIN { printf "%.4f\n", t / k }' >>"$tmp/inside"
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
	bk=$(median <"$tmp/bkern")
	k=$(median <"$tmp/kern")
	ins=$(median <"$tmp/inside")
	printf '%-12s %14d %14d %8s %14d %14d %8s %14s %14s %8s\n' "$c" "$b" \
		"$e" "$r" "$bl" "$el" "$rl" "${bk:--}" "${k:--}" "${ins:--}"
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
