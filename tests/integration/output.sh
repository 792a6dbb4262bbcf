#!/bin/bash
# The figures in fio's own output: JSON and json+ (stdout and --output),
# normal output, terse untouched, reg_stats, bvecs against the kernel's
# pin counters, and reg.total_ns against the kernel's syscall tracepoints.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip output "needs root (pagemap, pin counters, hugetlb)"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 300 )) ||
	{ skip output "cannot reserve 2 MiB hugetlb pages"; exit 0; }
have_1g=0
hp_reserve 1048576 $(( $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages) + 1 )) &&
	have_1g=1

big=(--filename=/dev/zero --rw=read --bs=1m --iodepth=256 --size=512m)

# jq_check NAME FILE FILTER EXPECTED
jq_check() {
	local got
	got=$(jq -r "$3" "$2" 2>&1)
	if [ "$got" = "$4" ]; then
		pass "$1"
	else
		fail "$1" "$3 gave '$got', want '$4'"
	fi
}

out=$SCRATCH/out-hf.json
ufio "$out" --output-format=json --name=hf "${big[@]}" \
	--reg_strategy=hugetlb_fast --reg_folio=2m
jq_check json-hugetlb-fast-bvecs "$out" '.jobs[0].uring_folioreg.segments.bvecs' 256
jq_check json-hugetlb-fast-source "$out" '.jobs[0].uring_folioreg.segments.source' pagemap

# bvecs computed from the folio layout equal the kernel's own pin count.
observed() { # name, engine options...
	local name=$1 out=$SCRATCH/obs-$1.json
	shift
	ufio "$out" --output-format=json --name="$name" "$@"
	jq_check "bvecs-observed-$name" "$out" \
		'.jobs[0].uring_folioreg.segments | "\(.bvecs == .bvecs_observed) \(.bvecs_observed != null)"' \
		"true true"
}
observed per-page "${big[@]}" --reg_strategy=per_page
observed coalesced-thp "${big[@]}" --reg_strategy=coalesced --reg_folio=thp
observed coalesced-2m "${big[@]}" --reg_strategy=coalesced --reg_folio=2m
observed hugetlb-fast "${big[@]}" --reg_strategy=hugetlb_fast
if [ $have_1g = 1 ]; then
	observed coalesced-1g "${big[@]}" --reg_strategy=coalesced --reg_folio=1g
else
	skip bvecs-observed-coalesced-1g "no 1 GiB hugetlb page could be reserved"
fi
# fio's own hugepage memory, misaligned so that buffers straddle folios.
observed iomem-straddling --filename=/dev/zero --rw=read --bs=1m --iodepth=16 \
	--size=64m --iomem=mmaphuge --hugepage-size=2m --mem_align=4096
jq_check iomem-straddling-count "$SCRATCH/obs-iomem-straddling.json" \
	'.jobs[0].uring_folioreg.segments.straddling > 0' true

# json+ to a file; normal to stdout.
ufio "$SCRATCH/jp.txt" --output-format=json+ --output="$SCRATCH/jp.json" \
	--name=jp --filename=/dev/zero --rw=read --bs=64k --size=64m \
	--reg_strategy=per_page
if jq -e '.jobs[0].uring_folioreg.reg.buffers == 1 and
	  (.jobs[0].read.clat_ns.bins | length) > 0' "$SCRATCH/jp.json" >/dev/null 2>&1; then
	pass json-plus-to-file
else
	fail json-plus-to-file "$(head -c 300 "$SCRATCH/jp.json")"
fi
ufio "$SCRATCH/normal.txt" --name=normal --filename=/dev/zero --rw=read \
	--bs=64k --size=64m --reg_strategy=per_page
# The block sits after the job's own lines, before the group status.
if awk '/^normal: \(groupid=0/ { j = NR } /^  uring_folioreg .*: strategy=per_page/ { b = NR }
	/^Run status group/ { r = NR } END { exit !(j && b > j && r > b) }' "$SCRATCH/normal.txt"; then
	pass normal-block-next-to-job
else
	fail normal-block-next-to-job "no uring_folioreg block between the job and its group status"
fi
# Normal and JSON together to one file: both amended, in their places.
ufio "$SCRATCH/both.out" --output-format=normal,json --output="$SCRATCH/both.txt" \
	--name=both --filename=/dev/zero --rw=read --bs=64k --size=16m
if [ "$(grep -c '^  uring_folioreg .*: strategy=iomem' "$SCRATCH/both.txt")" = 1 ] &&
	sed -n '/^{/,/^}/p' "$SCRATCH/both.txt" | jq -e '.jobs[0].uring_folioreg.strategy == "iomem"' >/dev/null; then
	pass normal-and-json-to-one-file
else
	fail normal-and-json-to-one-file "$(head -c 300 "$SCRATCH/both.txt")"
fi

# group_reporting: one object per group, counts summed.
out=$SCRATCH/group.json
ufio "$out" --output-format=json --name=g --filename=/dev/zero --rw=read \
	--bs=64k --iodepth=8 --size=32m --numjobs=3 --group_reporting \
	--reg_strategy=per_page --reg_mode=each
jq_check group-reporting "$out" \
	'[(.jobs | length), .jobs[0].uring_folioreg.reg.buffers, .jobs[0].uring_folioreg.segments.bvecs, (.jobs[0].uring_folioreg.reg.per_buffer_ns.p99 > 0)] | @tsv' \
	"$(printf '1\t24\t384\ttrue')"

# Terse output keeps its shape.
ufio "$SCRATCH/terse-e.txt" --output-format=terse --name=t --filename=/dev/zero \
	--rw=read --bs=64k --size=16m
(cd "$SCRATCH" && fio --output-format=terse --name=t --ioengine=io_uring \
	--filename=/dev/zero --rw=read --bs=64k --size=16m) >"$SCRATCH/terse-b.txt" 2>&1
fe=$(awk -F';' '{ print NF }' "$SCRATCH/terse-e.txt")
fb=$(awk -F';' '{ print NF }' "$SCRATCH/terse-b.txt")
if [ -n "$fe" ] && [ "$fe" = "$fb" ] && ! grep -q uring_folioreg "$SCRATCH/terse-e.txt"; then
	pass terse-untouched
else
	fail terse-untouched "fields $fe with the engine, $fb without"
fi

# reg_stats, with every output format, terse included.
rm -f "$SCRATCH/rs.json"
ufio "$SCRATCH/rs.out" --output-format=terse --name=rs --filename=/dev/zero \
	--rw=read --bs=64k --size=16m --reg_strategy=per_page \
	--reg_stats="$SCRATCH/rs.json"
jq_check reg-stats-file "$SCRATCH/rs.json" '.jobs[0].uring_folioreg.segments.bvecs' 16
# A job name JSON must escape, and a path longer than 256 bytes, both
# kept whole.
deep=$SCRATCH/$(printf 'd%.0s' $(seq 150))/$(printf 'e%.0s' $(seq 150))
mkdir -p "$deep"
ufio "$SCRATCH/rs-name.out" --name='q"uo\te' --filename=/dev/zero --rw=read \
	--bs=64k --size=16m --reg_strategy=per_page --reg_stats="$deep/rs.json"
jq_check reg-stats-escaped-long-path "$deep/rs.json" '.jobs[0].jobname' 'q"uo\te'
rm -rf "${deep%/*}"

# reg.total_ns against the kernel's own view of the same register call:
# sys_enter/sys_exit_io_uring_register tracepoints.
T=/sys/kernel/tracing
[ -d $T/events/syscalls ] || mount -t tracefs nodev $T 2>/dev/null
if [ -d $T/events/syscalls/sys_enter_io_uring_register ]; then
	echo 0 >$T/tracing_on
	echo mono >$T/trace_clock
	echo >$T/trace
	echo 1 >$T/events/syscalls/sys_enter_io_uring_register/enable
	echo 1 >$T/events/syscalls/sys_exit_io_uring_register/enable
	echo 1 >$T/tracing_on
	out=$SCRATCH/traced.json
	ufio "$out" --output-format=json --name=traced "${big[@]}" \
		--reg_strategy=per_page --size=256m --rw=read
	echo 0 >$T/tracing_on
	echo 0 >$T/events/syscalls/sys_enter_io_uring_register/enable
	echo 0 >$T/events/syscalls/sys_exit_io_uring_register/enable
	# The job's IORING_REGISTER_BUFFERS call (opcode 0 on entry, next
	# exit): the last one, after the engine's rules probe.
	kns=$(awk '/sys_io_uring_register\(/ && /opcode: 0,/ { t = $0; sub(/.* ([0-9]+\.[0-9]+): sys_io_uring_register.*/, "", t) }
		/sys_io_uring_register\(/ && /opcode: 0,/ { match($0, /[0-9]+\.[0-9]+: /); s = substr($0, RSTART, RLENGTH - 2); want = 1; next }
		want && /sys_io_uring_register ->/ { match($0, /[0-9]+\.[0-9]+: /); e = substr($0, RSTART, RLENGTH - 2); printf "%d\n", (e - s) * 1e9; want = 0 }' $T/trace | tail -1)
	echo >$T/trace
	ens=$(jq '.jobs[0].uring_folioreg.reg.total_ns' "$out")
	if [ -n "$kns" ] && [ -n "$ens" ] && awk -v k="$kns" -v e="$ens" \
		'BEGIN { d = e - k; if (d < 0) d = -d; exit !(k > 0 && d <= 0.05 * k) }'; then
		pass "reg-time-matches-tracepoints"
		echo "reg.total_ns=$ens, tracepoints=$kns"
	else
		fail reg-time-matches-tracepoints "engine $ens ns, tracepoints ${kns:-none} ns"
	fi
else
	skip reg-time-matches-tracepoints "no syscall tracepoints (tracefs)"
fi

# reg_numa_node: memory bound to node 0 before it is faulted in, and the
# pages counted where they landed (this machine may have one node only).
for st in per_page hugetlb_fast; do
	out=$SCRATCH/numa-$st.json
	ufio "$out" --output-format=json --name=numa-$st --filename=/dev/zero \
		--rw=read --bs=1m --iodepth=16 --size=64m --reg_strategy=$st \
		--reg_numa_node=0
	jq_check numa-node0-$st "$out" \
		'.jobs[0].uring_folioreg.numa | "\(.requested) \(.pages_by_node["0"])"' \
		"0 4096"
done
