#!/bin/bash
# make bench, third part: what the per-I/O counters cost, in instructions.
# Wall-clock ratios on a shared VM swing by more than the 1 % in question;
# callgrind's count of the instructions executed in the engine's own code
# (uring_folioreg.so and liburing) per I/O does not. Compared: this engine
# and its build without per-I/O counters, 4 KiB writes to /dev/null, QD32.
set -u
cd "$(dirname "$0")/.." || exit 1
command -v valgrind >/dev/null || { echo "bench-instr: valgrind missing; run: make deps" >&2; exit 1; }
ios=${INSTR_IOS:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# count ENGINE: instructions per I/O in the engine's objects.
count() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
		fio --thread --name=instr --filename=/dev/null --rw=write --bs=4k \
		--iodepth=32 --number_ios="$ios" --size=100g \
		--ioengine=external:"$1" >"$tmp/log" 2>&1 ||
		{ echo "bench-instr: $1 failed:" >&2; tail -5 "$tmp/log" >&2; exit 1; }
	callgrind_annotate --threshold=100 "$tmp/out" 2>/dev/null |
		awk -v ios="$ios" '/\[.*(uring_folioreg\.so|liburing\.so[^]]*)\]$/ {
			gsub(",", "", $1); sum += $1 }
			END { printf "%.1f", sum / ios }'
}

e=$(count ./uring_folioreg.so)
n=$(count build/nostats/uring_folioreg.so)
echo
echo "Engine-code instructions per I/O (callgrind, $ios x 4 KiB writes to /dev/null, QD32):"
awk -v e="$e" -v n="$n" 'BEGIN {
	printf "  with per-I/O counters     %8.1f\n", e
	printf "  without                   %8.1f\n", n
	printf "  the counters cost         %+8.1f instructions per I/O\n", e - n
}'
