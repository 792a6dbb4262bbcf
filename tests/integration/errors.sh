#!/bin/bash
# Bad input and missing resources: each gets one "uring_folioreg:" line
# naming the option or resource, the value and the fix, a non-zero exit
# (no time bound: a loaded machine is slow; FIO_TIMEOUT only ends a hang),
# and leaves no hugetlb page or pin behind.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip errors "needs root to set up the resources"; exit 0; }


z=(--filename=/dev/zero --rw=read --size=64m)

# case NAME PATTERN FIO-ARGS...: fio fails with PATTERN, and cleanly.
case_() {
	local name=$1 pat=$2 out=$SCRATCH/err-$1.out rc free0 pins0
	shift 2
	free0=$(hp_total_free)
	pins0=$(pins)
	ufio "$out" --name="$name" "$@"
	rc=$?
	expect_error "$name" "$out" $rc "^uring_folioreg: $pat" >/dev/null ||
		{ expect_error "$name" "$out" $rc "^uring_folioreg: $pat"; return; }
	given_back "$name" "$free0" "$pins0"
}

hp_reserve 2048 "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)"
hp_reserve 1048576 "$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)"

case_ hugetlb-fast-bs-over-folio 'bs=4194304: hugetlb_fast .* use reg_folio=1g' \
	"${z[@]}" --bs=4m --reg_strategy=hugetlb_fast --reg_folio=2m
case_ too-many-buffers 'iodepth=16385: .* at most 16384; lower iodepth' \
	"${z[@]}" --bs=4k --iodepth=16385 --reg_strategy=per_page
case_ region-over-1g 'bs=1153433600: .* over 1 GiB.*lower bs' \
	--filename=/dev/zero --rw=read --size=2g --bs=1100m --iodepth=1 \
	--reg_strategy=coalesced
case_ per-page-with-2m 'reg_folio=2m: reg_strategy=per_page keeps buffers on 4 KiB pages' \
	"${z[@]}" --bs=4k --reg_strategy=per_page --reg_folio=2m
case_ hugetlb-fast-with-thp 'reg_folio=thp: reg_strategy=hugetlb_fast needs hugetlb folios; use reg_folio=2m or 1g' \
	"${z[@]}" --bs=4k --reg_strategy=hugetlb_fast --reg_folio=thp
case_ iomem-with-reg-folio 'reg_folio=1g: reg_strategy=iomem uses fio.s memory; .*iomem=mmaphuge' \
	"${z[@]}" --bs=4k --reg_folio=1g
case_ numa-node-missing 'reg_numa_node=5: no such node with memory .*use one of them or -1' \
	"${z[@]}" --bs=4k --reg_strategy=per_page --reg_numa_node=5
case_ numa-with-iomem 'reg_numa_node=0: reg_strategy=iomem runs on fio.s memory; .*numa_mem_policy=bind:0' \
	"${z[@]}" --bs=4k --reg_numa_node=0
case_ iomem-with-own-memory 'iomem=: reg_strategy=coalesced allocates its own buffer memory' \
	"${z[@]}" --bs=4k --reg_strategy=coalesced --iomem=mmap

# Too few hugetlb pages: the line says how many and the command.
free2m=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)
need=$((free2m + 1))
case_ too-few-hugepages "reg_folio=2m: needs $need hugetlb pages of 2048 KiB, $free2m are free; reserve more: echo [0-9]+ > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" \
	--filename=/dev/zero --rw=read --size=64m --bs=1m --iodepth=$((need * 2)) \
	--reg_strategy=hugetlb_fast

# An unprivileged user under a low memlock limit.
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
	out=$SCRATCH/err-memlock.out
	chmod o+rx "$TOP" "$TOP/build" 2>/dev/null
	runuser -u nobody -- bash -c "ulimit -l 64; cd /tmp && timeout $FIO_TIMEOUT fio \
		--ioengine=external:$ENGINE --name=memlock --filename=/dev/zero \
		--rw=read --size=16m --bs=64k --iodepth=16 --reg_strategy=per_page" \
		>"$out" 2>&1
	expect_error memlock-too-low "$out" $? \
		'^uring_folioreg: per_page: registering 16 buffers pins 1048576 bytes but RLIMIT_MEMLOCK is 65536 bytes; raise it: ulimit -l'
else
	skip memlock-too-low "no nobody user or runuser here"
fi

# io_uring switched off by the administrator.
old=$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null)
if [ -n "$old" ]; then
	echo 2 >/proc/sys/kernel/io_uring_disabled
	out=$SCRATCH/err-disabled.out
	ufio "$out" --name=disabled "${z[@]}" --bs=4k
	rc=$?
	echo "$old" >/proc/sys/kernel/io_uring_disabled
	expect_error io-uring-disabled "$out" $rc \
		'^uring_folioreg: io_uring_setup: not permitted .*sysctl -w kernel.io_uring_disabled=0'
else
	skip io-uring-disabled "no kernel.io_uring_disabled sysctl"
fi

# O_DIRECT rules the file system states (statx STATX_DIOALIGN).
case_ odirect-unaligned-bs 'bs=1000: O_DIRECT on filename=.* needs sizes and offsets in multiples of [0-9]+ bytes' \
	--filename="$SCRATCH/err-dio.dat" --size=16m --rw=randread --direct=1 --bs=1000
case_ odirect-unaligned-memory 'mem_align=100: O_DIRECT on filename=.* needs buffers aligned to [0-9]+ bytes' \
	--filename="$SCRATCH/err-dio.dat" --size=16m --rw=randread --direct=1 --bs=4k --mem_align=100
case_ numa-node-negative 'reg_numa_node=-2: not a node' \
	"${z[@]}" --bs=4k --reg_strategy=per_page --reg_numa_node=-2
rm -f "$SCRATCH/err-dio.dat"
case_ coalesced-on-4k 'reg_folio=4k: reg_strategy=coalesced needs large folios; use reg_folio=16k to 1m, thp, 2m or 1g' \
	"${z[@]}" --bs=4k --reg_strategy=coalesced --reg_folio=4k
case_ auto-with-thp 'reg_folio=thp: reg_strategy=auto chooses the folio itself' \
	"${z[@]}" --bs=4k --reg_strategy=auto --reg_folio=thp
case_ rereg-without-buffers 'rereg_interval: reg_strategy=none registers no buffers' \
	"${z[@]}" --bs=4k --reg_strategy=none --rereg_interval=1s
case_ rereg-negative 'rereg_interval: not a time from 0 to 1h \(a negative value\?\)' \
	"${z[@]}" --bs=4k --reg_strategy=per_page --rereg_interval=-5
case_ each-without-buffers 'reg_mode=each: reg_strategy=none registers no buffers' \
	"${z[@]}" --bs=4k --reg_strategy=none --reg_mode=each
# reg_stats is checked before any I/O, not found unwritable at the end.
case_ reg-stats-unwritable 'reg_stats=/nonexistent/dir/s.json: cannot be written \(No such file or directory\); point reg_stats at a writable path' \
	"${z[@]}" --bs=4k --reg_stats=/nonexistent/dir/s.json
# Polled completions on a file whose disk has no poll queues: refused at
# open, not left to fail (and hang a polled ring) at the first I/O.
if [ "$(cat "/sys/dev/block/$(stat -c '%Hd:%Ld' "$SCRATCH")/queue/io_poll" 2>/dev/null)" = 0 ]; then
	case_ hipri-without-poll-queues 'hipri: filename=.* is on a block device without poll queues .*; give the device poll queues .* or drop hipri' \
		--filename="$SCRATCH/err-hipri.dat" --size=16m --rw=read --direct=1 \
		--bs=16k --iodepth=58 --thread=1 --hipri
	rm -f "$SCRATCH/err-hipri.dat"
else
	skip hipri-without-poll-queues "the scratch file's disk has poll queues (or no io_poll in sysfs)"
fi
