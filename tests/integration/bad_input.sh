#!/bin/bash
# Bad input and missing resources, one table: each row is a fio command
# line that must be refused, and how.
#
#   row NAME KIND SETUP PATTERN... -- FIO-ARGS...
#
# KIND says who refuses it:
#   engine  the engine: exactly one line "uring_folioreg: PATTERN" (the
#           option or resource, the value and the fix);
#   parse   fio's option parser: its own message matching every PATTERN,
#           no "uring_folioreg:" line and no job run.
# Either way fio exits non-zero, not by a timeout or a signal (no time
# bound: a loaded machine is slow; FIO_TIMEOUT only ends a hang), and, as
# root, every hugetlb page and pin taken is given back. SETUP is - or a
# function below that readies the case (and may skip it with the reason).
# fio runs with --name=NAME and FIO-ARGS.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

root=""
[ "$(id -u)" = 0 ] && root=1
# The pools as they were are put back at exit (lib.sh), whatever a row did.
if [ -n "$root" ]; then
	hp_reserve 2048 "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)"
	hp_reserve 1048576 "$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)"
fi

# refused KIND SETUP PATTERN... -- FIO-ARGS...: the check behind a row.
# SETUP may set RUN (the command that runs fio; ufio), AFTER (what undoes
# the set-up once fio has run) and ENGINE for this case only.
refused() {
	local kind=$1 setup=$2 pats=() p out=$SCRATCH/bad-$CASE.out rc free0 pins0
	local RUN=ufio AFTER=: ENGINE=$ENGINE
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $kind in
		engine) pats+=("^uring_folioreg: $1") ;;
		parse) pats+=("$1") ;;
		*) WHY="row with kind '$kind', not engine or parse" && return 1 ;;
		esac
		shift
	done
	shift
	if [ "$setup" != - ]; then
		"$setup" || return
	fi
	if [ -n "$root" ]; then
		free0=$(hp_total_free)
		pins0=$(pins)
	fi
	"$RUN" "$out" --name="$CASE" "$@"
	rc=$?
	# What fio held is judged before the set-up is undone: undoing it
	# (a hugetlb pool put back) changes the very counters compared.
	if [ -n "$root" ] && ! given_back "$free0" "$pins0"; then
		"$AFTER"
		return 1
	fi
	"$AFTER"
	expect_error "$out" "$rc" "${pats[@]}" || return 1
	if [ "$kind" = parse ]; then
		if grep -q '^uring_folioreg:' "$out"; then
			WHY="the engine spoke: $(grep -m1 '^uring_folioreg:' "$out")"
			return 1
		elif grep -q 'err= ' "$out"; then
			WHY="a job ran"
			return 1
		fi
	fi
}

row() {
	local name=$1
	shift
	verdict "$name" refused "$@"
}

# --- set-ups ------------------------------------------------------------

# memlock: fio as nobody under a 64 KiB RLIMIT_MEMLOCK.
memlock() {
	if [ -z "$root" ]; then
		WHY="needs root to run fio as nobody"
	elif ! id nobody >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
		WHY="no nobody user or runuser here"
	else
		chmod o+rx "$TOP" "$TOP/build" 2>/dev/null
		RUN=ufio_as_nobody
		return 0
	fi
	return "$SKIPPED"
}
ufio_as_nobody() {
	local out=$1
	shift
	runuser -u nobody -- bash -c 'ulimit -l 64 && cd /tmp && exec "$@"' \
		fio-as-nobody timeout -k 5 "$FIO_TIMEOUT" fio \
		--ioengine="external:$ENGINE" "$@" >"$out" 2>&1
}

# io_uring_off: io_uring switched off by the administrator for the run
# (and on again at exit, should the script be stopped meanwhile).
iou_old=""
io_uring_off() {
	local old
	old=$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null)
	if [ -z "$old" ]; then
		WHY="no kernel.io_uring_disabled sysctl"
	elif ! echo 2 2>/dev/null >/proc/sys/kernel/io_uring_disabled; then
		WHY="cannot set kernel.io_uring_disabled (not root?)"
	else
		iou_old=$old
		AFTER=io_uring_on
		return 0
	fi
	return "$SKIPPED"
}
io_uring_on() {
	[ -z "$iou_old" ] || echo "$iou_old" >/proc/sys/kernel/io_uring_disabled
	iou_old=""
}
trap 'io_uring_on; hp_restore; thp_restore' EXIT

# no_free_2m: no free 2 MiB hugetlb page, the pool put back after.
no_free_2m() {
	if hp_reserve 2048 0 2>/dev/null && [ "$(hp_free 2048)" = 0 ]; then
		AFTER=hp_restore
		return 0
	fi
	WHY="2 MiB hugepages are in use here"
	return "$SKIPPED"
}

# shmem_thp_off: shmem THP off for a memfd (shmem_enabled never, the PMD
# size's own switch inherit), put back after.
shmem_thp_off() {
	local t=/sys/kernel/mm/transparent_hugepage pmd
	pmd=$t/hugepages-$(($(cat $t/hpage_pmd_size 2>/dev/null || echo 0) >> 10))kB/shmem_enabled
	if [ -z "$root" ] || [ ! -w $t/shmem_enabled ]; then
		WHY="needs root and $t/shmem_enabled"
		return "$SKIPPED"
	fi
	thp_put $t/shmem_enabled never
	[ ! -w "$pmd" ] || thp_put "$pmd" inherit
	AFTER=thp_restore
}

# fake_fio_version: the engine built as if for fio-9.99.
fake_fio_version() {
	local fake=$TOP/build/fake
	if ! make -s -C "$TOP" BUILD="$fake" FIO_SRC="$FIO_SRC" \
		UFR_FAKE_FIO_VERSION=fio-9.99 ENGINE="$fake/uring_folioreg.so" \
		"$fake/uring_folioreg.so" >"$SCRATCH/fake-build.out" 2>&1; then
		WHY="could not build the fake-version engine: $(tail -2 "$SCRATCH/fake-build.out" | tr '\n' ' ')"
		return 1
	fi
	ENGINE=$fake/uring_folioreg.so
}

# no_poll_queues: the scratch file's disk has no poll queues.
no_poll_queues() {
	[ "$(cat "/sys/dev/block/$(stat -c '%Hd:%Ld' "$SCRATCH")/queue/io_poll" 2>/dev/null)" = 0 ] &&
		return 0
	WHY="the scratch file's disk has poll queues (or no io_poll in sysfs)"
	return "$SKIPPED"
}

# --- the table ----------------------------------------------------------

z=(--filename=/dev/zero --rw=read --size=64m)
dat=$SCRATCH/bad-input.dat
dio=(--filename="$SCRATCH/bad-dio.dat" --size=16m --rw=randread --direct=1)

# Impossible combinations and limits.
row hugetlb-fast-bs-over-folio engine - \
	'bs=4m: hugetlb_fast places each buffer inside one folio, and it does not fit a 2048 KiB folio; lower bs to 2m or use reg_folio=1g' -- \
	"${z[@]}" --bs=4m --reg_strategy=hugetlb_fast --reg_folio=2m
row too-many-buffers engine - \
	'iodepth=16385: .* at most 16384; lower iodepth' -- \
	"${z[@]}" --bs=4k --iodepth=16385 --reg_strategy=per_page
# Over every kernel's cap on one buffer (1 GiB before Linux 7.2, 1 TiB
# from it), refused before any memory is mapped.
row buffer-over-cap engine - \
	"bs=2200096997376: one registered buffer would be over this kernel's cap of [0-9]+ bytes .*lower bs" -- \
	--filename=/dev/zero --rw=read --size=2049g --bs=2049g --iodepth=1 \
	--reg_strategy=coalesced
row per-page-with-2m engine - \
	'reg_folio=2m: reg_strategy=per_page keeps buffers on 4 KiB pages' -- \
	"${z[@]}" --bs=4k --reg_strategy=per_page --reg_folio=2m
row hugetlb-fast-with-thp engine - \
	'reg_folio=thp: reg_strategy=hugetlb_fast needs hugetlb folios; use reg_folio=2m or 1g' -- \
	"${z[@]}" --bs=4k --reg_strategy=hugetlb_fast --reg_folio=thp
row coalesced-on-4k engine - \
	'reg_folio=4k: reg_strategy=coalesced needs large folios; use reg_folio=16k to 1m, thp, 2m or 1g' -- \
	"${z[@]}" --bs=4k --reg_strategy=coalesced --reg_folio=4k
row memfd-thp-shmem-off engine shmem_thp_off \
	'reg_folio=thp: reg_backing=memfd would get no [0-9]+ KiB shmem THP folios: shmem_enabled is never.*; write: echo advise > /sys/kernel/mm/transparent_hugepage/shmem_enabled \(or use reg_folio=2m' -- \
	"${z[@]}" --bs=1m --reg_strategy=coalesced --reg_backing=memfd --reg_folio=thp
row auto-with-thp engine - \
	'reg_folio=thp: reg_strategy=auto chooses the folio itself' -- \
	"${z[@]}" --bs=4k --reg_strategy=auto --reg_folio=thp
row iomem-with-reg-folio engine - \
	'reg_folio=1g: reg_strategy=iomem uses fio.s memory; .*iomem=mmaphuge' -- \
	"${z[@]}" --bs=4k --reg_folio=1g
row iomem-with-own-memory engine - \
	'iomem=: reg_strategy=coalesced allocates its own buffer memory.*drop iomem=' -- \
	"${z[@]}" --bs=4k --reg_strategy=coalesced --iomem=mmap
row rereg-without-buffers engine - \
	'rereg_interval: reg_strategy=none registers no buffers' -- \
	"${z[@]}" --bs=4k --reg_strategy=none --rereg_interval=1s
row rereg-negative engine - \
	'rereg_interval: not a time from 0 to 1h \(a negative value\?\)' -- \
	"${z[@]}" --bs=4k --reg_strategy=per_page --rereg_interval=-5
row each-without-buffers engine - \
	'reg_mode=each: reg_strategy=none registers no buffers' -- \
	"${z[@]}" --bs=4k --reg_strategy=none --reg_mode=each

# fio's NVMe passthrough options: accepted at their defaults, refused set.
row passthru-readfua engine - \
	'readfua: an NVMe passthrough option of fio.s io_uring_cmd engine; .*drop readfua' -- \
	"${z[@]}" --bs=4k --readfua=1
row passthru-pi-chk engine - \
	'pi_chk: an NVMe passthrough option of fio.s io_uring_cmd engine; .*drop pi_chk' -- \
	"${z[@]}" --bs=4k --pi_chk=GUARD,REFTAG

# NUMA.
row numa-node-missing engine - \
	'reg_numa_node=5: no such node with memory .*use one of them or -1' -- \
	"${z[@]}" --bs=4k --reg_strategy=per_page --reg_numa_node=5
row numa-node-negative engine - \
	'reg_numa_node=-2: not a node' -- \
	"${z[@]}" --bs=4k --reg_strategy=per_page --reg_numa_node=-2
row numa-with-iomem engine - \
	'reg_numa_node=0: reg_strategy=iomem runs on fio.s memory; .*numa_mem_policy=bind:0' -- \
	"${z[@]}" --bs=4k --reg_numa_node=0

# reg_stats is checked before any I/O, not found unwritable at the end.
row reg-stats-unwritable engine - \
	'reg_stats=/nonexistent/dir/s.json: cannot be written \(No such file or directory\); point reg_stats at a writable path' -- \
	"${z[@]}" --bs=4k --reg_stats=/nonexistent/dir/s.json
row reg-stats-each-no-file engine - \
	'reg_stats_each=1: there is no reg_stats file to write the times to; add reg_stats=PATH or drop reg_stats_each' -- \
	"${z[@]}" --bs=4k --reg_mode=each --reg_stats_each=1
row reg-stats-each-batch engine - \
	'reg_stats_each=1: reg_mode=batch registers every buffer in one call, so there is no time per buffer; add reg_mode=each or drop reg_stats_each' -- \
	"${z[@]}" --bs=4k --reg_stats="$SCRATCH/rt.json" --reg_stats_each=1

# O_DIRECT rules the file system states (statx STATX_DIOALIGN).
row odirect-unaligned-bs engine - \
	'bs=1000: O_DIRECT on filename=.* needs sizes and offsets in multiples of [0-9]+ bytes' -- \
	"${dio[@]}" --bs=1000
row odirect-unaligned-memory engine - \
	'mem_align=100: O_DIRECT on filename=.* needs buffers aligned to [0-9]+ bytes' -- \
	"${dio[@]}" --bs=4k --mem_align=100

# Missing resources: hugetlb pages (the line says how many and the
# command), memlock for an unprivileged user, io_uring itself.
free2m=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)
need=$((free2m + 1))
row too-few-hugepages engine - \
	"reg_folio=2m: needs $need hugetlb pages of 2048 KiB, $free2m are free; reserve more: echo [0-9]+ > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" -- \
	--filename=/dev/zero --rw=read --size=64m --bs=1m --iodepth=$((need * 2)) \
	--reg_strategy=hugetlb_fast
row mmaphuge-without-hugepages engine no_free_2m \
	'iomem=mmaphuge: needs 1 hugetlb pages of 2048 KiB, 0 are free; reserve more: echo [0-9]+ > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages' -- \
	--filename="$dat" --size=16m --bs=4k --rw=read --iomem=mmaphuge \
	--hugepage-size=2m
row memlock-too-low engine memlock \
	'per_page: registering 16 buffers pins 1048576 bytes but RLIMIT_MEMLOCK is 65536 bytes; raise it: ulimit -l' -- \
	--filename=/dev/zero --rw=read --size=16m --bs=64k --iodepth=16 \
	--reg_strategy=per_page
row io-uring-disabled engine io_uring_off \
	'io_uring_setup: not permitted .*sysctl -w kernel.io_uring_disabled=0' -- \
	"${z[@]}" --bs=4k

# Polled completions where there are none: refused once, at open when
# sysfs says the disk has no poll queues (not left to fail, and hang a
# polled ring, at the first I/O: the random test's replay), else at the
# first I/O.
row hipri-without-poll-queues engine no_poll_queues \
	'hipri: filename=.* is on a block device without poll queues .*; give the device poll queues .* or drop hipri' -- \
	--filename="$SCRATCH/bad-hipri.dat" --size=16m --rw=read --direct=1 \
	--bs=16k --iodepth=58 --thread=1 --hipri
row hipri-unsupported engine - \
	'hipri: filename=.* (does not support polled I/O|is on a block device without poll queues).*drop hipri' -- \
	--filename="$dat" --size=16m --rw=randread --bs=4k --direct=1 --hipri=1

# A build for another fio version refuses to run in this one.
row fio-version-mismatch engine fake_fio_version \
	"engine $(cat "$TOP/VERSION") built for fio-9.99 but loaded by $(fio --version);.*make clean && make" -- \
	--filename="$dat" --size=16m --bs=4k --rw=read

# Values and names fio's option parser refuses for the engine's options:
# its message names the option (and, for choices, the valid values).
p=(--filename=/dev/zero --size=1m)
row bad-reg-mode parse - 'failed parsing reg_mode=bogus' -- \
	"${p[@]}" --reg_mode=bogus
row bad-reg-folio parse - 'valid values: 4k' -- "${p[@]}" --reg_folio=3m
row bad-reg-strategy parse - \
	'failed parsing reg_strategy=bogus' 'valid values: iomem' -- \
	"${p[@]}" --reg_strategy=bogus
row bad-rereg-interval parse - 'failed parsing rereg_interval=soon' -- \
	"${p[@]}" --rereg_interval=soon
row bad-sqpoll-cpu parse - 'failed parsing sqthread_poll_cpu=x' -- \
	"${p[@]}" --sqthread_poll_cpu=x
row bad-reg-stats-empty parse - 'failed parsing reg_stats=' -- \
	"${p[@]}" --reg_stats=
row option-typo parse - \
	"unrecognized option '--reg_stratgy=iomem'" 'Did you mean reg_strategy' -- \
	"${p[@]}" --reg_stratgy=iomem

rm -f "$dat" "$SCRATCH/bad-dio.dat" "$SCRATCH/bad-hipri.dat"
