# Shared helpers for the integration tests; source it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENGINE=${ENGINE:-$TOP/uring_folioreg.so}
SCRATCH=${SCRATCH:-$TOP/build/scratch}
FIO_TIMEOUT=${FIO_TIMEOUT:-180}
mkdir -p "$SCRATCH"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# ufio OUT ARGS...: run fio with the engine, output in OUT; returns fio's
# exit status (124 on timeout).
ufio() {
	local out=$1
	shift
	(cd "$SCRATCH" && timeout -k 5 "$FIO_TIMEOUT" fio \
		--ioengine="external:$ENGINE" "$@") >"$out" 2>&1
}

# job_ok NAME OUT RC: the run exited 0, every job reports err= 0 and no
# verify or I/O error was printed.
job_ok() {
	local name=$1 out=$2 rc=$3
	if [ "$rc" != 0 ]; then
		fail "$name" "fio exited $rc: $(grep -m2 -E 'uring_folioreg:|fio:|verify' "$out" | tr '\n' ' ')"
		return 1
	fi
	if grep -qE 'err= *[1-9]|verify: bad|io_u error|fio: pid=' "$out"; then
		fail "$name" "$(grep -m2 -E 'err= *[1-9]|verify: bad|io_u error|fio: pid=' "$out" | tr '\n' ' ')"
		return 1
	fi
	if ! grep -qE 'err= *0' "$out"; then
		fail "$name" "no job result in the output"
		return 1
	fi
	pass "$name"
}

# expect_error NAME OUT RC PATTERN...: fio failed, printed exactly one
# "uring_folioreg:" line (or fio's own parse error when PATTERN says so)
# matching every PATTERN, and dumped no core.
expect_error() {
	local name=$1 out=$2 rc=$3 p
	shift 3
	if [ "$rc" = 0 ]; then
		fail "$name" "fio exited 0"
		return 1
	fi
	if [ "$rc" -ge 124 ]; then
		fail "$name" "fio exited $rc (timeout or signal)"
		return 1
	fi
	for p in "$@"; do
		if ! grep -qE -- "$p" "$out"; then
			fail "$name" "no line matching '$p' in: $(head -c 600 "$out" | tr '\n' ' ')"
			return 1
		fi
	done
	if [ "$(grep -c '^uring_folioreg:' "$out")" -gt 1 ]; then
		fail "$name" "more than one uring_folioreg: line"
		return 1
	fi
	pass "$name"
}

# Hugetlb pages: reserve with hp_reserve SIZE_KB COUNT, and every
# reservation made is put back at exit.
declare -A HP_SAVED
hp_restore() {
	local kb
	for kb in "${!HP_SAVED[@]}"; do
		echo "${HP_SAVED[$kb]}" >"/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages"
	done
}
trap hp_restore EXIT
hp_reserve() {
	local kb=$1 want=$2 f=/sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages
	[ -w "$f" ] || return 1
	[ -n "${HP_SAVED[$kb]}" ] || HP_SAVED[$kb]=$(cat "$f")
	echo "$want" >"$f" 2>/dev/null
	[ "$(cat "$f")" -ge "$want" ]
}
hp_free() { cat "/sys/kernel/mm/hugepages/hugepages-$1kB/free_hugepages"; }
hp_total_free() { awk '/^HugePages_Free/ { print $2 }' /proc/meminfo; }

# Pages the kernel holds pinned (FOLL_PIN), per-CPU deltas folded first.
pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '/^nr_foll_pin_acquired/ { a = $2 } /^nr_foll_pin_released/ { r = $2 }
		END { print a - r }' /proc/vmstat
}

# given_back NAME FREE0 PINS0: pass NAME if every hugetlb page and pin
# taken since HugePages_Free was FREE0 and the pins PINS0 is back.
given_back() {
	if [ "$(hp_total_free)" != "$2" ]; then
		fail "$1" "HugePages_Free $2 before, $(hp_total_free) after"
	elif [ "$(pins)" -gt "$3" ]; then
		fail "$1" "pins $3 before, $(pins) after"
	else
		pass "$1"
	fi
}
