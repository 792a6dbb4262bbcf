#!/bin/bash
# make bench, third part: instructions per I/O, which a shared VM does not
# disturb as it does CPU time. Per workload and side, the fio job thread's
# instructions (callgrind, --thread: one process) in a run of N I/Os and
# in one of 3N; their difference over 2N is the cost of one I/O, start-up
# and tear-down cancelled. The engine's set-up (ufr_post_init, which
# reads the buffers' page map: its cost varies with where the pages are)
# is taken out of each run first. Sides: fio's io_uring engine
# (fixedbufs=1), this engine, and this engine without its per-I/O
# counters; each fio given as FIO:ENGINE:NOSTATS_ENGINE in INSTR_FIOS
# (default the installed fio with ./uring_folioreg.so and
# build/nostats/uring_folioreg.so). Where the host has hardware counters
# this is what perf stat -e instructions:u would count; here it has none.
set -u
cd "$(dirname "$0")/.." || exit 1
command -v valgrind >/dev/null || { echo "bench-instr: valgrind missing; run: make deps" >&2; exit 1; }
fios=${INSTR_FIOS:-fio:./uring_folioreg.so:build/nostats/uring_folioreg.so}
file=${BENCH_FILE:-build/bench.dat}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# job_instr N FIO OPTS...: the job thread's instructions, less post_init.
job_instr() {
	local n=$1 fio=$2 f s p
	shift 2
	rm -f "$tmp"/out*
	valgrind --tool=callgrind --separate-threads=yes \
		--callgrind-out-file="$tmp/out" "$fio" --thread --name=instr \
		--number_ios="$n" "$@" >"$tmp/log" 2>&1 ||
		{ echo "bench-instr: $fio $* failed:" >&2; tail -5 "$tmp/log" >&2; exit 1; }
	f=$(grep -l 'td_io_queue$' "$tmp"/out-*) ||
		{ echo "bench-instr: no job thread in the profile of $fio $*" >&2; exit 1; }
	s=$(sed -n 's/^summary: //p' "$f")
	p=$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
		sed -n 's/^ *\([0-9,]*\) .*:ufr_post_init \[.*/\1/p' | tr -d , | head -1)
	echo $((s - ${p:-0}))
}

# per_io N FIO OPTS...: instructions per I/O.
per_io() {
	local n=$1 a b
	shift
	a=$(job_instr "$n" "$@") || exit 1
	b=$(job_instr $((3 * n)) "$@") || exit 1
	awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.0f", (b - a) / (2 * n) }'
}

devnull="--filename=/dev/null --rw=write --bs=4k --iodepth=32 --size=100g"
rr4k="--filename=$file --direct=1 --rw=randread --bs=4k --iodepth=32 --size=1g"
rd1m="--filename=$file --direct=1 --rw=read --bs=1m --iodepth=8 --size=1g"
# name, N, options before --ioengine, engine options after it
workloads=(
	"devnull-write-4k-qd32|20000|$devnull|"
	"odirect-randread-4k-qd32|20000|$rr4k|"
	"odirect-read-1m-qd8|300|$rd1m|"
	"odirect-randread-4k-qd32-registerfiles|20000|$rr4k|--registerfiles"
	"odirect-randread-4k-qd32-sqpoll|20000|$rr4k|--sqthread_poll=1"
	"devnull-write-4k-qd32-batch|20000|$devnull|--iodepth_batch_submit=8 --iodepth_batch_complete_min=8"
)
# keep_workloads PATTERN...: only the workloads whose name one of the
# shell patterns matches.
keep_workloads() {
	local keep=() w pat
	for w in "${workloads[@]}"; do
		for pat in "$@"; do
			# shellcheck disable=SC2053
			if [[ ${w%%|*} == $pat ]]; then
				keep+=("$w")
				break
			fi
		done
	done
	workloads=("${keep[@]}")
}
# INSTR_WORKLOADS: a space-separated subset of the names (default all).
if [ -n "${INSTR_WORKLOADS:-}" ]; then
	read -ra names <<<"$INSTR_WORKLOADS"
	keep_workloads "${names[@]}"
	[ ${#workloads[@]} -gt 0 ] || { echo "bench-instr: INSTR_WORKLOADS=$INSTR_WORKLOADS names none of the workloads" >&2; exit 1; }
fi
if [ ! -f "$file" ]; then
	echo "bench-instr: $file missing (scripts/bench.sh writes it); only /dev/null" >&2
	keep_workloads 'devnull-*'
fi

for spec in $fios; do
	IFS=: read -r fio eng nostats <<<"$spec"
	echo
	echo "Instructions per I/O, fio job thread, callgrind ($("$fio" --version)):"
	printf '%-40s %9s %9s %9s %8s %9s\n' workload "fio" engine nostats \
		"eng/fio" counters
	for w in "${workloads[@]}"; do
		IFS='|' read -r name n pre post <<<"$w"
		# Word splitting of the option strings is intended.
		# shellcheck disable=SC2086
		{
			b=$(per_io "$n" "$fio" $pre --ioengine=io_uring --fixedbufs=1 $post) &&
			e=$(per_io "$n" "$fio" $pre --ioengine=external:"$eng" $post) &&
			s=$(per_io "$n" "$fio" $pre --ioengine=external:"$nostats" $post)
		} || exit 1
		awk -v w="$name" -v b="$b" -v e="$e" -v s="$s" 'BEGIN {
			printf "%-40s %9d %9d %9d %8.3f %+9d\n", w, b, e, s, e / b, e - s }'
	done
done
echo
echo "eng/fio below 1: the engine runs fewer instructions per I/O than fio's" \
	"io_uring engine; counters: what the per-I/O figures cost."
echo "With sqthread_poll, fio's engine spins on the CQ while it waits;" \
	"this engine waits in the kernel."
