#!/bin/bash
# Run every test: the cmocka unit test programs of the fio-free code (one
# per tests/unit/test_*.c, built into build/tests by make unit-tests), then
# the integration scripts that drive the real fio with the built engine.
#
# A unit test program's exit status is its number of failed tests
# (cmocka's count, errors included); its passed and skipped tests are
# read from cmocka's summary. One that is not built, dies by a signal or
# runs no test is a failure. Integration scripts report cases as lines
# "PASS: name", "FAIL: name: why" or "SKIP: name: why"; one that exits
# non-zero without a FAIL line, or reports no case at all, is a failure.
# TESTS=word runs the tests whose name contains word (unit/test_plan,
# bad_input), TESTS="word1 word2" those that contain either; a word no
# test has is a failure. Ends with "N passed, N
# failed, N skipped", and exits non-zero if a test failed or none passed.
cd "$(dirname "$0")/.." || exit 1

passed=0 failed=0 skipped=0
failures=()
only=${TESTS:-}
matched=0
declare -A used # the TESTS words some test matched

selected() {
	local w hit=1
	[ -z "$only" ] && return 0
	for w in $only; do
		if [[ $1 == *"$w"* ]]; then
			used[$w]=1
			hit=0
		fi
	done
	return $hit
}

# count NAME P F S: add a test's figures and print its line.
count() {
	passed=$((passed + $2))
	failed=$((failed + $3))
	skipped=$((skipped + $4))
	[ "$3" = 0 ] || failures+=("$1")
	echo "$1: $2 passed, $3 failed, $4 skipped${5:+ $5}"
}

units=()
for src in tests/unit/test_*.c; do
	t=${src##*/}
	t=${t%.c}
	selected "unit/$t" && units+=("$t")
done
matched=$((matched + ${#units[@]}))
built=0
for t in "${units[@]}"; do
	[ -x "build/tests/$t" ] && built=$((built + 1))
done
if [ ${#units[@]} != 0 ] && [ $built = 0 ]; then
	echo "FAIL: unit: no unit tests were built (make unit-tests)"
	count unit 0 1 0
	units=()
fi

for t in "${units[@]}"; do
	name=unit/$t
	if [ ! -x "build/tests/$t" ]; then
		echo "FAIL: $name: not built (make unit-tests)"
		count "$name" 0 1 0
		continue
	fi
	out=$("build/tests/$t" 2>&1)
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' <<<"$out")
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test(s),.*/\1/p' <<<"$out")
	p=${p:-0} s=${s:-0} f=$rc why=""
	if [ "$rc" -ge 128 ]; then
		why="killed by signal $((rc - 128))"
		f=1
	elif [ $((p + f + s)) = 0 ]; then
		why="ran no test"
		f=1
	fi
	if [ "$f" != 0 ]; then
		[ -z "$why" ] || echo "FAIL: $name: $why"
		grep -E "FAILED|ERROR|error" <<<"$out" | sed "s|^|$name: |"
	fi
	count "$name" "$p" "$f" "$s"
done

for t in tests/integration/*.sh; do
	name=${t##*/}
	name=${name%.sh}
	selected "$name" || continue
	matched=$((matched + 1))
	start=$SECONDS
	log=build/test-logs/$name.log
	mkdir -p build/test-logs
	bash "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL: $name: exited $rc without reporting a failure" >>"$log"
		f=1
	elif [ $((p + f + s)) = 0 ]; then
		echo "FAIL: $name: exited 0 without reporting a case" >>"$log"
		f=1
	fi
	grep -E '^(FAIL|SKIP): ' "$log" | sed "s|^|$name: |"
	count "$name" "$p" "$f" "$s" "($((SECONDS - start)) s)"
	[ "$f" = 0 ] || failures[-1]="$name (log: $log)"
done

for w in $only; do
	[ -n "${used[$w]:-}" ] && continue
	echo "FAIL: no test matches TESTS word '$w'"
	failed=$((failed + 1))
	matched=$((matched + 1))
done
if [ "$matched" = 0 ]; then
	echo "FAIL: no test matches TESTS=$only"
	failed=$((failed + 1))
fi
if [ ${#failures[@]} != 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
