#!/bin/bash
# fio --server on 127.0.0.1 with fio --client: the engine runs on the
# server; its block reaches the client's output as the server's text, and
# reg_stats is written on the server.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# A port the kernel says is free; the server is waited for until it
# listens there (lib.sh: start_fio_server).
pidfile=$SCRATCH/fio-server.pid
rm -f "$SCRATCH/cs-stats.json"
if ! port=$(start_fio_server "$pidfile"); then
	skip client-server "fio --server did not start"
	exit 0
fi
trap 'kill "$(cat "$pidfile")" 2>/dev/null; hp_restore' EXIT

cat >"$SCRATCH/cs.fio" <<JOB
[cs]
ioengine=external:$ENGINE
filename=/dev/zero
rw=read
bs=64k
size=64m
reg_strategy=per_page
reg_stats=$SCRATCH/cs-stats.json
JOB
out=$SCRATCH/client.out
timeout -k 5 "$FIO_TIMEOUT" "$UFR_FIO" --client=ip:127.0.0.1,$port "$SCRATCH/cs.fio" >"$out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^  uring_folioreg .*: strategy=per_page' "$out" &&
	grep -q 'segments: pages=16, bvecs=16' "$out" && grep -q 'err= 0' "$out"; then
	pass client-sees-block
else
	fail client-sees-block "rc=$rc: $(head -c 400 "$out" | tr '\n' ' ')"
fi
if jq -e '.jobs[0].uring_folioreg.segments.bvecs == 16' "$SCRATCH/cs-stats.json" >/dev/null 2>&1; then
	pass server-writes-reg-stats
else
	fail server-writes-reg-stats "no usable $SCRATCH/cs-stats.json"
fi

# A client asking for JSON gets valid JSON: the server prints no text.
out=$SCRATCH/client.json
timeout -k 5 "$FIO_TIMEOUT" "$UFR_FIO" --client=ip:127.0.0.1,$port --output-format=json \
	"$SCRATCH/cs.fio" >"$out" 2>"$SCRATCH/client.err"
if jq -e '.client_stats[0].jobname == "cs"' "$out" >/dev/null 2>&1; then
	pass client-json-stays-valid
else
	fail client-json-stays-valid "$(head -c 300 "$out" | tr '\n' ' ')"
fi

# A long-lived fio server keeps no file descriptor from failed jobs. Each
# refused job has its own output, checked for its own refusal.
spid=$(cat "$pidfile")
fds0=$(ls /proc/"$spid"/fd | wc -l)
# refused NAME PATTERN JOB-LINES: a job the engine refuses on the server;
# the client prints the refusal (each server line after "<host> "),
# matching PATTERN.
refused() {
	local out=$SCRATCH/cs-$1.out rc
	printf '[bad]\nioengine=external:%s\nfilename=/dev/zero\nrw=read\nsize=16m\n%s\n' \
		"$ENGINE" "$3" >"$SCRATCH/cs-$1.fio"
	timeout -k 5 "$FIO_TIMEOUT" "$UFR_FIO" --client=ip:127.0.0.1,$port "$SCRATCH/cs-$1.fio" \
		>"$out" 2>&1
	rc=$?
	verdict "server-refuses-$1" expect_error "$out" "$rc" "$2"
}
refused hugetlb-fast-bs-over-folio 'uring_folioreg: bs=4m: hugetlb_fast places each buffer inside one folio' \
	"reg_strategy=hugetlb_fast
bs=4m"
refused no-such-node 'uring_folioreg: reg_numa_node=9: (no such node with memory|this kernel has no NUMA support)' "reg_numa_node=9
reg_strategy=per_page"
refused per-page-2m 'uring_folioreg: reg_folio=2m: reg_strategy=per_page' \
	"reg_strategy=per_page
reg_folio=2m"
# The server closes a connection's descriptors as it winds it down, maybe
# after the client has returned: waited for, a minute at most.
fds_at_most() { [ "$(ls /proc/"$1"/fd | wc -l)" -le "$2" ]; }
wait_until 60 fds_at_most "$spid" "$fds0"
fds1=$(ls /proc/"$spid"/fd | wc -l)
if [ "$fds1" -le "$fds0" ]; then
	pass server-keeps-no-fds
else
	fail server-keeps-no-fds "fds $fds0 -> $fds1 after three refused jobs"
fi
