#!/bin/bash
# The figures in fio's own output: JSON and json+ (stdout and --output),
# normal output, terse untouched, reg_stats, bvecs against the kernel's
# pin counters, and the registration times against the kernel's syscall
# tracepoints. UFR_FIO and UFR_ENGINE (lib.sh) run it in another fio.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
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
# The document is the fio under test's own (UFR_FIO: output_other_fio.sh
# runs this script in another fio).
jq_check json-is-this-fios "$out" '."fio version"' "$("$UFR_FIO" --version)"

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

# Notes go to stderr and the JSON notes, never into fio's output: with
# --thread (the jobs share fio's streams, --output's file among them) and
# without, to --output and to stdout. reg_strategy=auto always says what it
# chose.
for thread in 0 1; do
	for dest in file stdout; do
		name=note-thread$thread-$dest
		doc=$SCRATCH/$name.json
		to=(--output="$doc")
		[ $dest = file ] || to=()
		(cd "$SCRATCH" && timeout -k 5 "$FIO_TIMEOUT" "$UFR_FIO" \
			--ioengine="external:$ENGINE" --output-format=json \
			--name=$name --thread=$thread --filename=/dev/zero --rw=read \
			--bs=1m --iodepth=16 --size=64m --reg_strategy=auto "${to[@]}") \
			>"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
		rc=$?
		[ $dest = file ] || doc=$SCRATCH/$name.out
		if [ $rc = 0 ] && jq -e '.jobs[0].uring_folioreg.notes |
			any(startswith("reg_strategy=auto chose"))' "$doc" >/dev/null 2>&1 &&
			grep -q "^uring_folioreg note: $name: reg_strategy=auto chose" "$SCRATCH/$name.err"; then
			pass json-stays-json-$name
		else
			fail json-stays-json-$name "rc=$rc, jq: $(jq . "$doc" 2>&1 >/dev/null | head -c 100), starts: $(head -c 120 "$doc"), stderr: $(head -c 200 "$SCRATCH/$name.err")"
		fi
	done
done

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
(cd "$SCRATCH" && "$UFR_FIO" --output-format=terse --name=t --ioengine=io_uring \
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
# reg_stats_each: every update's time, buffer 0 first, the same times
# the distribution is taken from (their least, greatest and count);
# without it, no times.
ufio "$SCRATCH/rt.out" --name=rt --filename=/dev/zero --rw=read --bs=64k \
	--size=16m --iodepth=24 --reg_strategy=per_page --reg_mode=each \
	--reg_stats="$SCRATCH/rt.json" --reg_stats_each=1
jq_check reg-stats-each "$SCRATCH/rt.json" \
	'.jobs[0] | [(.reg_times_ns | length, min, max, all(. > 0))] == [.uring_folioreg.reg.buffers, .uring_folioreg.reg.per_buffer_ns.min, .uring_folioreg.reg.per_buffer_ns.max, true] and .uring_folioreg.reg.buffers == 24' true
jq_check reg-stats-each-off "$SCRATCH/rs.json" '.jobs[0] | has("reg_times_ns")' false

# The engine's registration times against the kernel's own view of the
# same calls: the sys_enter/sys_exit_io_uring_register tracepoints, in a
# trace instance of our own that follows this fio and its children only.
#
# No wall-clock bound that a loaded machine can break: the engine reads
# CLOCK_MONOTONIC just before and just after each register call, so its
# interval contains the tracepoints' (same clock: trace_clock mono), and
# load only ever adds to the engine's side. A preemption between the
# syscall's exit and the engine's second clock read (likely on a busy
# machine, when the scheduler switches on the return to user space) can
# add milliseconds to any one call, so one call or a sum proves nothing
# against an upper bound. Hence reg_mode=each, 256 calls, and:
#   - the calls are the same: 256 BUFFERS_UPDATE calls, + the sparse
#     BUFFERS2 = reg.calls;
#   - lower bounds that hold whatever the load: the engine's total, least
#     and median are at least the tracepoints' (less 1 us per call: the
#     trace prints microseconds);
#   - an upper bound on the median only: the engine's median call is at
#     most 10 us over the tracepoints' median (a call's own overhead
#     outside the tracepoints is about 1 us; anything else timed, faulting
#     the buffer in say, is tens of us). Preemption touches a few calls
#     in a hundred, never half of them.
T=/sys/kernel/tracing
[ -d $T/instances ] || mount -t tracefs nodev $T 2>/dev/null
I=$T/instances/ufr-output-$$
if [ -d $T/events/syscalls/sys_enter_io_uring_register ] && mkdir "$I" 2>/dev/null; then
	trap 'rmdir "$I" 2>/dev/null; hp_restore' EXIT
	echo mono >"$I/trace_clock"
	echo 1 >"$I/options/event-fork"
	echo 1 >"$I/events/syscalls/sys_enter_io_uring_register/enable"
	echo 1 >"$I/events/syscalls/sys_exit_io_uring_register/enable"
	out=$SCRATCH/traced.json
	(
		echo "$BASHPID" >"$I/set_event_pid"
		echo 1 >"$I/tracing_on"
		ufio "$out" --output-format=json --name=traced "${big[@]}" \
			--reg_strategy=per_page --size=256m --reg_mode=each
	)
	echo 0 >"$I/tracing_on"
	# One line per call: opcode and duration in us.
	awk '/ sys_io_uring_register\(/ { match($0, /opcode: [0-9a-fx]+/)
			op = substr($0, RSTART + 8, RLENGTH - 8)
			match($0, /[0-9]+\.[0-9]+: /); s = substr($0, RSTART, RLENGTH - 2); next }
		/ sys_io_uring_register -> / && op != "" { match($0, /[0-9]+\.[0-9]+: /)
			e = substr($0, RSTART, RLENGTH - 2)
			printf "%s %d\n", op, (e - s) * 1e6 + 0.5; op = "" }
		/LOST/ { print "lost" }' "$I/trace" >"$SCRATCH/traced.calls"
	rmdir "$I"
	read -r calls total min p50 < <(jq -r '.jobs[0].uring_folioreg.reg |
		"\(.calls) \(.total_ns) \(.per_buffer_ns.min) \(.per_buffer_ns.p50)"' "$out" 2>/dev/null)
	# The opcodes: 15 BUFFERS2, 16 BUFFERS_UPDATE (hex or decimal).
	why=$(awk -v calls="$calls" -v total="$total" -v min="$min" -v p50="$p50" '
		$1 == "lost" { lost = 1 }
		$1 == "0x10" || $1 == "16" { u[++n] = $2; sum += $2 }
		$1 == "0xf" || $1 == "15" { sparse++; sum += $2 }
		END {
			if (lost) { print "the trace lost events"; exit }
			if (n != 256 || sparse != 1 || calls != n + sparse) {
				printf "traced %d updates and %d sparse registrations, the engine %s calls", n, sparse, calls
				exit
			}
			# Nearest-rank median, as the engine reports p50.
			for (i = 2; i <= n; i++) {
				v = u[i]
				for (j = i - 1; j >= 1 && u[j] > v; j--)
					u[j + 1] = u[j]
				u[j + 1] = v
			}
			m = u[int((n + 1) / 2)]
			if (total < (sum - calls) * 1000)
				printf "engine total %d ns under the tracepoints %d us", total, sum
			else if (min < (u[1] - 1) * 1000)
				printf "engine least call %d ns under the tracepoints %d us", min, u[1]
			else if (p50 < (m - 1) * 1000)
				printf "engine median %d ns under the tracepoints %d us", p50, m
			else if (p50 > (m + 1 + 10) * 1000)
				printf "engine median %d ns over the tracepoints %d us + 10 us", p50, m
			else
				printf "ok total %d ns >= %d us, median %d ns against %d us", total, sum, p50, m
		}' "$SCRATCH/traced.calls")
	if [[ $why == ok* ]]; then
		pass reg-time-matches-tracepoints
		echo "reg-time-matches-tracepoints: ${why#ok }"
	else
		fail reg-time-matches-tracepoints "$why"
	fi
else
	skip reg-time-matches-tracepoints "no syscall tracepoints or trace instances (tracefs)"
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
