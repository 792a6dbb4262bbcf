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
#
# Two guards around every test, unit or integration:
# - a time limit, TEST_TIMEOUT seconds (3600 by default). It only ends a
#   hang (make check holds no wall-clock bound): a test still running
#   then fails with its name, and its processes are ended (TERM, then
#   KILL 10 s later): its process group, which is its own (setsid), and
#   every process it started that left the group (fio's job processes
#   call setsid()).
# - the kernel log: what the kernel logged while a test ran is scanned
#   for warnings, BUGs, oopses, lockups and page or pin accounting
#   complaints; one is a failure of the test, with the lines (all the
#   test's kernel lines are in build/test-logs/NAME.kmsg). Where the log
#   cannot be read (/dev/kmsg needs root, or kernel.dmesg_restrict=0),
#   "SKIP: kernel-log: ..." says so once and no test is scanned.
cd "$(dirname "$0")/.." || exit 1
mkdir -p build/test-logs/unit

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

TEST_TIMEOUT=${TEST_TIMEOUT:-3600}
if ! [[ $TEST_TIMEOUT =~ ^[1-9][0-9]*$ ]]; then
	echo "FAIL: TEST_TIMEOUT=$TEST_TIMEOUT: give a whole number of seconds, such as TEST_TIMEOUT=3600"
	exit 1
fi

# tree PID: PID, the processes of its process group and every descendant
# of either, one pid a line.
tree() {
	ps -e -o pid=,ppid=,pgid= | awk -v top="$1" '
		{ parent[$1] = $2; group[$1] = $3 }
		END {
			for (p in parent)
				if (p == top || group[p] == top)
					keep[p] = 1
			do {
				more = 0
				for (p in parent)
					if (!(p in keep) && (parent[p] in keep)) {
						keep[p] = 1
						more = 1
					}
			} while (more)
			for (p in keep)
				print p
		}'
}

# end_tree PID: TERM to PID's tree, KILL 10 s later to what is left of it
# (a zombie is not left: it waits for its parent to reap it).
end_tree() {
	local procs
	procs=$(tree "$1")
	[ -n "$procs" ] || return 0
	# shellcheck disable=SC2086 # one pid a word
	kill -TERM $procs 2>/dev/null
	for _ in $(seq 100); do
		ps -o stat= -p "$(paste -sd, <<<"$procs")" | grep -qv '^Z' || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $procs 2>/dev/null
}

# watchdog PID FLAG: after TEST_TIMEOUT seconds, the processes of PID's
# tree into FLAG (pid and command line), and the tree ended.
watchdog() {
	local s
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep "$TEST_TIMEOUT" &
	s=$!
	wait "$s"
	trap - TERM
	ps -o pid=,args= -p "$(tree "$1" | paste -sd,)" >"$2" 2>/dev/null
	echo >>"$2"
	end_tree "$1"
}

# guarded LOG CMD...: CMD in a session of its own, input from /dev/null,
# output in LOG, under the time limit. Sets RC, and HUNG to the processes
# the limit ended (empty when it did not fire).
current="" dog=""
guarded() {
	local log=$1 flag=$1.hung
	shift
	rm -f "$flag"
	setsid "$@" </dev/null >"$log" 2>&1 &
	current=$!
	watchdog "$current" "$flag" &
	dog=$!
	wait "$current"
	RC=$?
	if [ -e "$flag" ]; then
		wait "$dog"
		HUNG=$(awk 'NF { $1 = $1; printf "%s%s", sep, $0; sep = "; " }' "$flag")
		HUNG=${HUNG:-none left}
		rm -f "$flag"
	else
		kill "$dog" 2>/dev/null
		wait "$dog" 2>/dev/null
		HUNG=""
	fi
	current="" dog=""
}
# Interrupted: the running test goes too, and its watchdog.
stop() {
	[ -z "$dog" ] || kill "$dog" 2>/dev/null
	[ -z "$current" ] || end_tree "$current"
	exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM

# The kernel log, read from /dev/kmsg (one record a read; dd stops at
# the end with EAGAIN). kmsg_read FILE: the records now in the ring, raw;
# 1 with the reason in KMSG_WHY when it cannot be read.
KMSG=1 KMSG_WHY="" KMSG_SEQ=-1
kmsg_read() {
	local err
	err=$(dd if=/dev/kmsg of="$1" iflag=nonblock bs=64k status=none 2>&1)
	[[ -z $err || $err == *"Resource temporarily unavailable"* ]] && return 0
	KMSG_WHY=${err#dd: }
	return 1
}
# The newest record's sequence number, before a test.
kmsg_mark() {
	[ "$KMSG" = 1 ] || return 0
	kmsg_read build/test-logs/kmsg.now || return 0
	KMSG_SEQ=$(awk -F'[,;]' '/^[0-9]+,[0-9]+,/ { s = $2 } END { print s + 0 }' \
		build/test-logs/kmsg.now)
}
# What the kernel may say when something is wrong: WARN(), BUG(), oopses,
# sanitizers, lockups and stalls, lock debugging, and page and pin
# accounting (bad page state, a page's dump, pin counts).
KMSG_BAD='WARNING: CPU: |WARNING: at |cut here \]|kernel BUG at|BUG: |Oops|general protection fault|Internal error:|UBSAN:|KASAN:|KFENCE:|refcount_t: |soft lockup|hard LOCKUP|blocked for more than|self-detected stall|rcu: INFO:|possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage|Bad page|page dumped because|Bad rss-counter|pincount|unpin_user|FOLL_PIN'
# kmsg_scan NAME: the records logged since kmsg_mark into
# build/test-logs/NAME.kmsg; a FAIL line (returns 1) when one of them is
# a complaint.
kmsg_scan() {
	local name=$1 file=build/test-logs/$1.kmsg bad n
	[ "$KMSG" = 1 ] || return 0
	if ! kmsg_read build/test-logs/kmsg.now; then
		echo "FAIL: $name: the kernel log could be read before it ran but not after: $KMSG_WHY"
		return 1
	fi
	awk -F, -v seq="$KMSG_SEQ" '
		/^[0-9]+,[0-9]+,/ {
			if ($2 <= seq)
				next
			if (!seen++ && $2 > seq + 1)
				print "run.sh: " ($2 - seq - 1) " kernel log records were overwritten before they were read"
			sub(/^[^;]*;/, "")
			print
		}' build/test-logs/kmsg.now >"$file"
	[ -s "$file" ] || { rm -f "$file"; return 0; }
	bad=$(grep -E "$KMSG_BAD" "$file")
	[ -n "$bad" ] || return 0
	n=$(grep -c . <<<"$bad")
	echo "FAIL: $name: the kernel logged $n complaint line(s) while it ran: $(head -3 <<<"$bad" | paste -sd'|')$([ "$n" -le 3 ] || echo " ...") (all its kernel lines: $file)"
	return 1
}
if ! kmsg_read build/test-logs/kmsg.now; then
	KMSG=0
	echo "SKIP: kernel-log: $KMSG_WHY: no test's kernel messages are scanned (run as root, or sysctl kernel.dmesg_restrict=0)"
	skipped=$((skipped + 1))
fi

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
	log=build/test-logs/$name.log
	kmsg_mark
	guarded "$log" "build/tests/$t"
	rc=$RC
	out=$(cat "$log")
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' <<<"$out")
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test(s),.*/\1/p' <<<"$out")
	p=${p:-0} s=${s:-0} f=$rc why=""
	if [ -n "$HUNG" ]; then
		why="still running after TEST_TIMEOUT=$TEST_TIMEOUT s; ended: $HUNG"
		f=$((f + 1))
	elif [ "$rc" -ge 128 ]; then
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
	kmsg_scan "$name" || f=$((f + 1))
	count "$name" "$p" "$f" "$s"
done

for t in tests/integration/*.sh; do
	name=${t##*/}
	name=${name%.sh}
	selected "$name" || continue
	matched=$((matched + 1))
	start=$SECONDS
	log=build/test-logs/$name.log
	kmsg_mark
	guarded "$log" bash "$t"
	rc=$RC
	[ -z "$HUNG" ] ||
		echo "FAIL: $name: still running after TEST_TIMEOUT=$TEST_TIMEOUT s; ended: $HUNG" >>"$log"
	kmsg_scan "$name" >>"$log"
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
