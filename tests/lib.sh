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

# given_back NAME FREE0 PINS0: pass NAME if every hugetlb page and pin
# taken since HugePages_Free was FREE0 and the pins PINS0 is back. The
# kernel tears a ring down in a work item after its process has exited,
# so the release is waited for (GIVEN_BACK_WAIT seconds at most).
back_yet() { [ "$(hp_total_free)" = "$1" ] && [ "$(pins)" -le "$2" ]; }
given_back() {
	wait_until "${GIVEN_BACK_WAIT:-60}" back_yet "$2" "$3"
	if [ "$(hp_total_free)" != "$2" ]; then
		fail "$1" "HugePages_Free $2 before, $(hp_total_free) after"
	elif [ "$(pins)" -gt "$3" ]; then
		fail "$1" "pins $3 before, $(pins) after"
	else
		pass "$1"
	fi
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
		fio --server="ip:127.0.0.1,$port" --daemonize="$pidfile" \
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
