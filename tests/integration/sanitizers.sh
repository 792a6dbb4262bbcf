#!/bin/bash
# The fio-free code under ASan+UBSan and valgrind memcheck, a short pass
# of each fuzzer, and the engine built with ASan+UBSan loaded into fio.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

step() { # name, command...
	local name=$1 log=$SCRATCH/$1.log
	shift
	if "$@" >"$log" 2>&1; then
		pass "$name"
		# The unit tests' own skips, with their reasons.
		grep -E '^skip: ' "$log" | sort -u | sed "s|^|$name: |"
	else
		fail "$name" "$(grep -m3 -E 'ERROR|error|FAILED|runtime error|definitely' "$log" | tr '\n' ' ') (log: $log)"
	fi
}

step unit-asan-ubsan make -s asan
step unit-memcheck make -s memcheck
if command -v clang >/dev/null; then
	step fuzz-short make -s fuzz FUZZ_RUNS=30000
else
	skip fuzz-short "no clang here"
fi

if ! make -s asan-engine >"$SCRATCH/asan-engine.log" 2>&1; then
	fail asan-engine "build failed: $(tail -3 "$SCRATCH/asan-engine.log" | tr '\n' ' ')"
	exit 0
fi
rt="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
# san FIO-ARGS...: a check: fio with the ASan engine runs the job cleanly.
san() {
	local out=$SCRATCH/$CASE.out
	(cd "$SCRATCH" && LD_PRELOAD=$rt \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		timeout -k 5 "$FIO_TIMEOUT" fio --ioengine="external:$TOP/build/asan-engine/uring_folioreg.so" \
		--name="${CASE#asan-}" "$@") >"$out" 2>&1
	local rc=$?
	if grep -qE 'AddressSanitizer|runtime error:' "$out"; then
		WHY=$(grep -m2 -E 'AddressSanitizer|runtime error:' "$out" | tr '\n' ' ')
		return 1
	fi
	grep -q '^{' "$out" || { job_ok "$out" $rc; return; }
	# JSON output: the report went through the output splicing.
	[ $rc = 0 ] && sed -n '/^{/,/^}/p' "$out" |
		jq -e '.jobs[0].error == 0 and .jobs[0].uring_folioreg.segments.bvecs > 0' >/dev/null &&
		return 0
	WHY="rc=$rc: $(head -c 300 "$out" | tr '\n' ' ')"
	return 1
}
f=$SCRATCH/asan.dat
verdict asan-per-page-verify san --filename="$f" --size=32m --rw=randrw --bs=64k \
	--iodepth=8 --direct=1 --verify=crc32c --reg_strategy=per_page
verdict asan-coalesced-thp-each san --filename="$f" --size=32m --rw=randwrite --bs=4k \
	--iodepth=16 --direct=1 --verify=crc32c --reg_strategy=coalesced \
	--reg_mode=each --output-format=json
verdict asan-iomem-rereg-threads san --filename_format="$SCRATCH/asan.\$jobnum" --size=16m \
	--rw=randrw --bs=4k --iodepth=8 --direct=1 --verify=crc32c --thread \
	--numjobs=2 --time_based --runtime=1 --rereg_interval=100ms
rm -f "$f" "$SCRATCH"/asan.[0-9]*
