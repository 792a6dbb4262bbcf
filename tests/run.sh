#!/bin/bash
# Run every test: the cmocka unit tests of the fio-free code, then the
# integration tests that drive the real fio with the built engine.
# Integration scripts report cases as lines "PASS: name", "FAIL: name: why"
# or "SKIP: name: why"; a script that dies without reporting counts as one
# failure. Ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1

passed=0 failed=0 skipped=0
failures=()
only=${TESTS:-}

for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	name=unit/${t##*/}
	[ -n "$only" ] && [[ $name != *$only* ]] && continue
	out=$("$t" 2>&1)
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out")
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out")
	skipped=$((skipped + ${s:-0}))
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ] || [ "${f:-0}" != 0 ] || [ -z "$p" ]; then
		[ -z "$f" ] && failed=$((failed + 1))
		failures+=("$name")
		echo "$out" | grep -E "FAILED|ERROR|error" | sed "s|^|$name: |"
	fi
	echo "$name: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
done

for t in tests/integration/*.sh; do
	name=${t##*/}
	name=${name%.sh}
	[ -n "$only" ] && [[ $name != *$only* ]] && continue
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
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	grep -E '^(FAIL|SKIP): ' "$log" | sed "s|^|$name: |"
	[ "$f" != 0 ] && failures+=("$name (log: $log)")
	echo "$name: $p passed, $f failed, $s skipped ($((SECONDS - start)) s)"
done

if [ ${#failures[@]} != 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
