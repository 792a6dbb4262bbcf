#!/bin/sh
# Benchmark uring_folioreg against fio's built-in io_uring engine.
#
# Every workload runs as pairs of fio jobs, interleaved A B A B: first the
# baseline, then ours (--ioengine=external:./uring_folioreg.so), with
# otherwise identical options. The baseline is fio's built-in engine
# (--ioengine=io_uring --fixedbufs=1), except for the "-metrics" workload,
# where it is this engine built without its per-I/O counters
# (build/nostats/uring_folioreg.so, -DUFR_NO_IO_STATS): what they cost.
# And the "-profile" workload, which checks that the data path's IOPS with
# reg_profile off are unchanged: there the baseline is this engine with
# reg_profile=0 and the other side the same engine with reg_profile=1.
# Why that pair: no build with the profiler compiled out exists (the
# engine has no such switch; -DUFR_NO_IO_STATS removes only the
# counters), and none is needed to know what "off" runs: the profiler's
# code is reached only around the register calls (engine/registrar.c:
# a NULL test of the thread's profiler before and after each, outside
# the timed window) and at job set-up (one test of the option, after
# which nothing is opened); no code on the submit or completion path
# reads it. So off's data path is the option-less one by construction,
# and what a measurement can still find is the profiler reaching the
# data path after all: reg_profile=1 keeps its perf event open and
# attached to the job's thread for the whole run (disabled outside the
# register calls), a superset of what off does. Its row's ratio is
# on/off; the verdict line gives it with the 95 % interval of the median
# of the per-pair ratios (examples/comparekit/abstats.py, median_interval), and
# says "same" when the interval holds 1. A reg_profile=1 run that got no
# profile (not root) would compare off with off: the script stops then.
# Per pair we take the ratio engine/baseline of the IOPS and of the CPU
# time spent per I/O; the table shows the median of those ratios, which is
# robust against one noisy run, with the median IOPS of each side.
#
# Every fio process, all its threads, runs on one CPU (BENCH_CPU): on a
# small VM the scheduler moving the job and fio's helper thread between
# CPUs swings single runs by 10 % and more; pinned, most pairs agree to
# within 2 %, both sides treated alike.
#
# Environment:
#   BENCH_PAIRS        pairs of runs per workload (default 11)
#   BENCH_RUNTIME      seconds measured per run, after a 1 s ramp (default 3)
#   BENCH_CPU          the CPU every run is pinned to (default the last
#                      one); "none" lets the scheduler place them
#   BENCH_WORKLOADS    space-separated subset of the workloads (default all)
#   BENCH_FILE         scratch file of the O_DIRECT workloads, relative to
#                      the top of the tree (default build/bench.dat, 1 GiB)
#   BENCH_ENGINE_OPTS  extra fio options for our engine only (default none)
#   FIO                the fio binary (default fio)
set -eu

cd "$(dirname "$0")/.."

ALL_WORKLOADS="devnull-write-4k-qd32 odirect-randread-4k-qd32 odirect-read-1m-qd8 \
devnull-write-4k-qd32-metrics devnull-write-4k-qd32-profile"

pairs=${BENCH_PAIRS:-11}
runtime=${BENCH_RUNTIME:-3}
cpu=${BENCH_CPU:-$(($(nproc) - 1))}
workloads=${BENCH_WORKLOADS:-$ALL_WORKLOADS}
file=${BENCH_FILE:-build/bench.dat}
engine_opts=${BENCH_ENGINE_OPTS:-}
fio=${FIO:-fio}
engine=./uring_folioreg.so
nostats_engine=build/nostats/uring_folioreg.so
file_size=1073741824 # 1 GiB

die() {
	echo "bench: $*" >&2
	exit 1
}

log() {
	echo "[bench] $*" >&2
}

is_count() { # a positive integer
	case $1 in
	'' | *[!0-9]* | 0*) return 1 ;;
	esac
}

is_count "$pairs" || die "BENCH_PAIRS must be a positive integer, not '$pairs'"
is_count "$runtime" ||
	die "BENCH_RUNTIME must be a positive integer, not '$runtime'"
command -v "$fio" >/dev/null || die "$fio not found; run: make deps"
if [ "$cpu" = none ]; then
	pin=""
else
	is_count "$cpu" || [ "$cpu" = 0 ] ||
		die "BENCH_CPU must be a CPU number or none, not '$cpu'"
	taskset -c "$cpu" true 2>/dev/null ||
		die "BENCH_CPU=$cpu: no such CPU online; pick one of $(cat /sys/devices/system/cpu/online) or none"
	pin="taskset -c $cpu"
fi
command -v jq >/dev/null || die "jq not found; run: make deps"
[ -f "$engine" ] || die "$engine is not built; run: make"

# Set the wl_* variables describing workload $1; fail if it is unknown.
# wl_dir is the direction fio reports the workload's I/O under.
set_workload() {
	case $1 in
	devnull-write-4k-qd32)
		wl_file=/dev/null wl_direct=0 wl_rw=write wl_dir=write
		wl_bs=4k wl_qd=32 wl_size=100g wl_base=builtin
		;;
	devnull-write-4k-qd32-metrics)
		wl_file=/dev/null wl_direct=0 wl_rw=write wl_dir=write
		wl_bs=4k wl_qd=32 wl_size=100g wl_base=nostats
		;;
	devnull-write-4k-qd32-profile)
		wl_file=/dev/null wl_direct=0 wl_rw=write wl_dir=write
		wl_bs=4k wl_qd=32 wl_size=100g wl_base=profoff
		;;
	odirect-randread-4k-qd32)
		wl_file=$file wl_direct=1 wl_rw=randread wl_dir=read
		wl_bs=4k wl_qd=32 wl_size=$file_size wl_base=builtin
		;;
	odirect-read-1m-qd8)
		wl_file=$file wl_direct=1 wl_rw=read wl_dir=read
		wl_bs=1m wl_qd=8 wl_size=$file_size wl_base=builtin
		;;
	*) return 1 ;;
	esac
}

need_file=0
for w in $workloads; do
	set_workload "$w" ||
		die "unknown workload '$w' in BENCH_WORKLOADS; known: $ALL_WORKLOADS"
	if [ "$wl_file" = "$file" ]; then
		need_file=1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ufr-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# On a signal, exit so that the EXIT trap removes $tmp.
trap 'exit 130' INT TERM
trap 'exit 1' HUP PIPE

# Run fio with the given options, JSON into $tmp/out.json and its messages
# into $tmp/out.log.  On failure (non-zero exit, unreadable JSON or a job
# error) print what failed, described by $run_desc, and exit.
run_fio() {
	rc=0
	# Word splitting of $pin is intended.
	# shellcheck disable=SC2086
	$pin "$fio" --output-format=json --output="$tmp/out.json" "$@" \
		>"$tmp/out.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		# The first non-zero job error, 0 if none, "" if the JSON is bad.
		jerr=$(jq -r '[.jobs[].error | select(. != 0)] | first // 0' \
			"$tmp/out.json" 2>/dev/null) || jerr=""
		case $jerr in
		0) return 0 ;;
		"") why="its JSON output is missing or unreadable" ;;
		*) why="job error $jerr" ;;
		esac
	else
		why="exit status $rc"
	fi
	{
		echo "bench: fio failed for $run_desc: $why"
		echo "bench: command: $fio $*"
		sed 's/^/  /' "$tmp/out.log"
	} >&2
	exit 1
}

# The scratch file: 1 GiB fully written by the built-in engine, so that it
# is neither sparse nor unwritten preallocation and reads reach the disk.
# An existing regular file of the right size with all its blocks allocated
# is taken as such a file and kept.
prepare_file() {
	if [ -e "$file" ] && [ ! -f "$file" ]; then
		die "BENCH_FILE=$file exists and is not a regular file"
	fi
	if [ -f "$file" ]; then
		# Size in bytes, allocated blocks and their size.
		read -r size blocks bsize <<-EOF
			$(stat -c '%s %b %B' "$file")
		EOF
		if [ "$size" -eq "$file_size" ] &&
			[ $((blocks * bsize)) -ge "$file_size" ]; then
			log "reusing $file"
			return
		fi
		rm -f "$file"
	fi
	mkdir -p "$(dirname "$file")"
	log "writing $file (1 GiB)"
	run_desc="writing $file"
	run_fio --name=bench-prep --filename="$file" --ioengine=io_uring \
		--direct=1 --rw=write --bs=1m --iodepth=8 --size="$file_size" \
		--end_fsync=1
}

# Print "IOPS CPU-µs-per-I/O" from $tmp/out.json, for direction $1.
# CPU per I/O = (usr_cpu+sys_cpu)/100 * runtime_ms*1000 / total_ios.
extract() {
	jq -r --arg d "$1" '.jobs[0] |
		[.[$d].iops, .[$d].total_ios, .job_runtime, .usr_cpu, .sys_cpu] |
		@tsv' "$tmp/out.json" |
		awk -F '\t' '$2 > 0 && $3 > 0 {
			printf "%.0f %.4f\n", $1, ($4 + $5) / 100 * $3 * 1000 / $2
		}'
}

# One run of workload $w (already set with set_workload) on side $side
# (builtin or engine) of pair $i; appends "IOPS CPU/IO" to $tmp/$w.$side.
run_one() {
	run_desc="$w pair $i/$pairs $side"
	log "$run_desc ..."
	if [ "$side" = builtin ] && [ "$wl_base" = nostats ]; then
		[ -f "$nostats_engine" ] ||
			die "$nostats_engine is not built; run: make bench"
		set -- --ioengine=external:"$nostats_engine"
	elif [ "$side" = builtin ] && [ "$wl_base" = profoff ]; then
		# shellcheck disable=SC2086
		set -- --ioengine=external:"$engine" $engine_opts --reg_profile=0
	elif [ "$side" = builtin ]; then
		set -- --ioengine=io_uring --fixedbufs=1
	else
		# Word splitting of the extra options is intended.
		# shellcheck disable=SC2086
		set -- --ioengine=external:"$engine" $engine_opts
		[ "$wl_base" != profoff ] || set -- "$@" --reg_profile=1
	fi
	run_fio --name="$w" --filename="$wl_file" --direct="$wl_direct" \
		--rw="$wl_rw" --bs="$wl_bs" --iodepth="$wl_qd" --size="$wl_size" \
		--time_based --runtime="$runtime" --ramp_time=1 "$@"
	res=$(extract "$wl_dir")
	[ -n "$res" ] || die "fio did no $wl_dir I/O for $run_desc"
	if [ "$side" = engine ] && [ "$wl_base" = profoff ] &&
		! jq -e '.jobs[0].uring_folioreg.reg.profile != null' \
			"$tmp/out.json" >/dev/null; then
		die "$run_desc: reg_profile=1 opened no profiler ($(jq -r \
			'.jobs[0].uring_folioreg.reg.profile_note' "$tmp/out.json")), so on and off would be alike; run as root"
	fi
	echo "$res" >>"$tmp/$w.$side"
	log "$run_desc: $(echo "$res" |
		awk '{ printf "%d IOPS, %.3f us CPU per I/O", $1, $2 }')"
}

# profile_verdict NAME: the per-pair IOPS ratios on stdin, reg_profile=1
# over reg_profile=0: their median, its 95 % bootstrap interval and
# whether that holds 1.
profile_verdict() {
	PYTHONPATH=examples python3 -c '
import sys
from comparekit import abstats
m = abstats.median_interval(float(x) for x in sys.stdin)
print("%s: IOPS ratio reg_profile=1/reg_profile=0 %.3f [%.3f, %.3f] over %d pairs: %s" %
      (sys.argv[1], m.median, m.lo, m.hi, m.n, abstats.verdict(m.lo, m.hi)))' "$1"
}

if [ "$need_file" -eq 1 ]; then
	prepare_file
fi

log "$pairs pairs per workload, ${runtime}s per run, CPU ${cpu}," \
	"engine options: ${engine_opts:-none}"
for w in $workloads; do
	set_workload "$w"
	: >"$tmp/$w.builtin"
	: >"$tmp/$w.engine"
	i=1
	while [ "$i" -le "$pairs" ]; do
		for side in builtin engine; do
			run_one
		done
		i=$((i + 1))
	done
done

# The table: one row per workload from the per-pair results, line i of
# $w.builtin pairing with line i of $w.engine.
echo
echo "Medians over $pairs pairs of ${runtime}s runs on CPU $cpu" \
	"(engine options: ${engine_opts:-none}):"
printf '%-30s %-9s %14s %13s %11s %13s\n' workload baseline \
	"baseline IOPS" "engine IOPS" "IOPS ratio" "CPU/IO ratio"
for w in $workloads; do
	set_workload "$w"
	paste -d ' ' "$tmp/$w.builtin" "$tmp/$w.engine" |
		awk -v name="$w" -v base="$wl_base" -v verdict="$tmp/verdict" '
	# Median of a[1..n], sorting a in place (insertion sort, n is small).
	function median(a, n,    i, j, v) {
		for (i = 2; i <= n; i++) {
			v = a[i]
			for (j = i - 1; j >= 1 && a[j] > v; j--)
				a[j + 1] = a[j]
			a[j + 1] = v
		}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	# Fields: builtin IOPS, builtin CPU/IO, engine IOPS, engine CPU/IO.
	{
		n++
		biops[n] = $1
		eiops[n] = $3
		riops[n] = $3 / $1
		rcpu[n] = $2 > 0 ? $4 / $2 : 0
	}
	END {
		r = median(riops, n)
		printf "%-30s %-9s %14.0f %13.0f %11.3f %13.3f\n", name, base,
			median(biops, n), median(eiops, n), r, median(rcpu, n)
		# The metrics promise: no visible cost, an IOPS ratio >= 0.99.
		if (base == "nostats")
			printf("%s: IOPS ratio %.3f, target >= 0.99: %s\n",
			       name, r, (r >= 0.99 ? "met" : "NOT met")) > verdict
		if (base == "profoff")
			for (i = 1; i <= n; i++)
				print riops[i] > (verdict "." name)
	}'
	[ ! -s "$tmp/verdict.$w" ] || profile_verdict "$w" <"$tmp/verdict.$w" >>"$tmp/verdict"
done
if [ -s "$tmp/verdict" ]; then
	echo
	cat "$tmp/verdict"
fi
echo
echo "IOPS ratio > 1 means the engine is faster than the baseline;" \
	"CPU/IO ratio < 1 means it spends less CPU per I/O."
echo "Baselines: builtin = fio's io_uring engine with fixedbufs=1;" \
	"nostats = this engine without its per-I/O counters;" \
	"profoff = this engine with reg_profile=0 (the other side: reg_profile=1)."
