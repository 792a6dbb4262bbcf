# Shared helpers for the integration tests; source it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The fio the tests run and the engine they load into it: UFR_FIO and
# UFR_ENGINE from the environment (another fio and the engine built for
# it: tests/integration/output_other_fio.sh), else fio on the PATH and
# this tree's engine.
UFR_FIO=${UFR_FIO:-fio}
ENGINE=${UFR_ENGINE:-${ENGINE:-$TOP/uring_folioreg.so}}
SCRATCH=${SCRATCH:-$TOP/build/scratch}
FIO_TIMEOUT=${FIO_TIMEOUT:-180}
# The installed fio's source tree (make deps), for its job files and the
# engine builds some tests make; FIO_SRC=DIR as for make.
FIO_SRC=${FIO_SRC:-$TOP/build/fio-src}
mkdir -p "$SCRATCH"

# A case's one line: "PASS: NAME", "FAIL: NAME: WHY" or "SKIP: NAME: WHY".
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# Checks (job_ok, expect_error, given_back and the scripts' own) print
# nothing: they return 0 when what they check holds, 1 when it does not
# and SKIPPED when it cannot be checked here, with the reason in WHY.
# verdict NAME CHECK [ARGS...] runs one with CASE=NAME (for its file
# names), prints the case's one line and returns the check's status.
SKIPPED=77
WHY=""
CASE=""
verdict() {
	local CASE=$1 rc
	shift
	WHY=""
	"$@"
	rc=$?
	case $rc in
	0) pass "$CASE" ;;
	"$SKIPPED") skip "$CASE" "${WHY:-no reason given}" ;;
	*) fail "$CASE" "${WHY:-$1 failed}" ;;
	esac
	return $rc
}

# ufio OUT ARGS...: run fio with the engine, output in OUT; returns fio's
# exit status (124 on timeout).
ufio() {
	local out=$1
	shift
	(cd "$SCRATCH" && timeout -k 5 "$FIO_TIMEOUT" "$UFR_FIO" \
		--ioengine="external:$ENGINE" "$@") >"$out" 2>&1
}

# job_ok OUT RC: the run exited 0, every job reports err= 0 and no
# verify or I/O error was printed.
job_ok() {
	local out=$1 rc=$2 bad='err= *[1-9]|verify: bad|io_u error|fio: pid='
	if [ "$rc" != 0 ]; then
		WHY="fio exited $rc: $(grep -m2 -E 'uring_folioreg:|fio:|verify' "$out" | tr '\n' ' ')"
	elif grep -qE "$bad" "$out"; then
		WHY=$(grep -m2 -E "$bad" "$out" | tr '\n' ' ')
	elif ! grep -qE 'err= *0' "$out"; then
		WHY="no job result in the output"
	else
		return 0
	fi
	return 1
}

# expect_error OUT RC PATTERN...: fio failed (not by a timeout or a
# signal), printed every PATTERN and at most one "uring_folioreg:" line
# (exactly one when a PATTERN starts "^uring_folioreg:").
expect_error() {
	local out=$1 rc=$2 p
	shift 2
	if [ "$rc" = 0 ]; then
		WHY="fio exited 0"
		return 1
	fi
	if [ "$rc" -ge 124 ]; then
		WHY="fio exited $rc (timeout or signal)"
		return 1
	fi
	for p in "$@"; do
		if ! grep -qE -- "$p" "$out"; then
			WHY="no line matching '$p' in: $(head -c 600 "$out" | tr '\n' ' ')"
			return 1
		fi
	done
	if [ "$(grep -c '^uring_folioreg:' "$out")" -gt 1 ]; then
		WHY="more than one uring_folioreg: line: $(grep -m3 '^uring_folioreg:' "$out" | tr '\n' ' ')"
		return 1
	fi
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
# THP settings (transparent_hugepage/enabled, shmem_enabled, the per-size
# hugepages-<N>kB/ ones): thp_setting FILE prints the bracketed word,
# thp_put FILE VALUE writes one and keeps the value it first had, and
# thp_restore (from the script's EXIT trap, with hp_restore) puts every
# one back.
declare -A THP_SAVED
thp_setting() { sed 's/.*\[\(.*\)\].*/\1/' "$1"; }
thp_put() {
	[ -n "${THP_SAVED[$1]}" ] || THP_SAVED[$1]=$(thp_setting "$1")
	echo "$2" >"$1"
}
thp_restore() {
	local f
	for f in "${!THP_SAVED[@]}"; do
		echo "${THP_SAVED[$f]}" >"$f"
	done
}
hp_free() { cat "/sys/kernel/mm/hugepages/hugepages-$1kB/free_hugepages"; }
hp_total_free() { awk '/^HugePages_Free/ { print $2 }' /proc/meminfo; }

# Pages the kernel holds pinned (FOLL_PIN), per-CPU deltas folded first.
pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '/^nr_foll_pin_acquired/ { a = $2 } /^nr_foll_pin_released/ { r = $2 }
		END { print a - r }' /proc/vmstat
}

# wait_until SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds;
# returns 1 if SECONDS pass first. The deadline only ends a wait for what
# never comes: make it generous (minutes), as a loaded machine is slow.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# given_back FREE0 PINS0: every hugetlb page and pin taken since
# HugePages_Free was FREE0 and the pins PINS0 is back. The kernel tears a
# ring down in a work item after its process has exited, so the release
# is waited for (GIVEN_BACK_WAIT seconds at most).
back_yet() { [ "$(hp_total_free)" = "$1" ] && [ "$(pins)" -le "$2" ]; }
given_back() {
	wait_until "${GIVEN_BACK_WAIT:-60}" back_yet "$1" "$2" && return 0
	if [ "$(hp_total_free)" != "$1" ]; then
		WHY="HugePages_Free $1 before, $(hp_total_free) after"
	elif [ "$(pins)" -gt "$2" ]; then
		WHY="pins $2 before, $(pins) after"
	else
		return 0
	fi
	return 1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on or uses now,
# chosen by the kernel.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# fio_listens PIDFILE PORT: the fio server whose pid PIDFILE holds listens
# on 127.0.0.1:PORT.
fio_listens() {
	local pid
	pid=$(cat "$1" 2>/dev/null)
	[ -n "$pid" ] && ss -Hltnp "sport = :$2" | grep -q "pid=$pid,"
}

# fio_server_settled PIDFILE PORT: nothing more to wait for: the server
# listens, or it has died.
fio_server_settled() {
	local pid
	fio_listens "$1" "$2" && return 0
	pid=$(cat "$1" 2>/dev/null)
	[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null
}

# start_fio_server PIDFILE: a fio --server on 127.0.0.1 at a free port,
# daemonized (its pid in PIDFILE), waited for until it listens; prints the
# port. It must be the port's only listener: fio sets SO_REUSEPORT, and a
# second server there would take half of the connections. A port someone
# took meanwhile means another port, up to 5 times.
start_fio_server() {
	local pidfile=$1 port pid _
	for _ in 1 2 3 4 5; do
		port=$(free_port) || return 1
		rm -f "$pidfile"
		"$UFR_FIO" --server="ip:127.0.0.1,$port" --daemonize="$pidfile" \
			>/dev/null 2>&1 || continue
		wait_until 120 fio_server_settled "$pidfile" "$port"
		if fio_listens "$pidfile" "$port" &&
			[ "$(ss -Hltn "sport = :$port" | grep -c .)" = 1 ]; then
			echo "$port"
			return 0
		fi
		pid=$(cat "$pidfile" 2>/dev/null)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	return 1
}

# other_fio: find the second fio to test the engine in (docs/packaging.md:
# fio versions): OTHER_FIO_SRC, its source tree (configured in place if it is
# not), and OTHER_FIO_BIN, the binary built from it (fio 3.42 built from
# git, say); unset, the fio of Debian unstable that make other-fio
# prepares (make check does, before the tests) in build/other-fio. Sets
# both as absolute paths and OTHER_FIO to its version; returns SKIPPED
# when there is none, 1 when binary and tree are of different versions.
other_fio() {
	if [ -z "${OTHER_FIO_SRC:-}" ] || [ -z "${OTHER_FIO_BIN:-}" ]; then
		OTHER_FIO_SRC=$(readlink -f "$TOP/build/other-fio/current")
		OTHER_FIO_BIN=$OTHER_FIO_SRC/fio
		if [ ! -x "$OTHER_FIO_BIN" ]; then
			WHY="not prepared"
			[ -s "$TOP/build/other-fio/unavailable" ] &&
				WHY="its preparation failed: $(tail -1 "$TOP/build/other-fio/unavailable")"
			WHY="no second fio: $WHY (make other-fio, or set OTHER_FIO_SRC and OTHER_FIO_BIN)"
			return $SKIPPED
		fi
	fi
	OTHER_FIO_SRC=$(readlink -f "$OTHER_FIO_SRC")
	OTHER_FIO_BIN=$(readlink -f "$OTHER_FIO_BIN")
	OTHER_FIO=$("$OTHER_FIO_BIN" --version)
	local tree
	tree=$(sed -n 's/^FIO_VERSION = //p' "$OTHER_FIO_SRC/FIO-VERSION-FILE" 2>/dev/null)
	if [ "$OTHER_FIO" != "$tree" ]; then
		WHY="OTHER_FIO_BIN is ${OTHER_FIO:-not a fio} but OTHER_FIO_SRC is ${tree:-not a configured fio tree}"
		return 1
	fi
}

# other_fio_engine LOG: build the engine against OTHER_FIO_SRC (checked
# against OTHER_FIO_BIN) into build/engine-for-$OTHER_FIO, make's output
# in LOG; sets OTHER_ENGINE to it. 1 with the errors in WHY if it fails.
other_fio_engine() {
	local b=build/engine-for-$OTHER_FIO
	# shellcheck disable=SC2034 # for the scripts that source this file
	OTHER_ENGINE=$TOP/$b/uring_folioreg.so
	make -s -C "$TOP" FIO="$OTHER_FIO_BIN" FIO_SRC="$OTHER_FIO_SRC" \
		BUILD="$b" ENGINE="$b/uring_folioreg.so" "$b/uring_folioreg.so" \
		>"$1" 2>&1 && return 0
	WHY="building the engine for $OTHER_FIO failed: $(grep -m3 -E 'error|warning' "$1" | tr '\n' ' ')"
	return 1
}
