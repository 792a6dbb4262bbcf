#!/bin/bash
# Job files written for fio's io_uring engine run unchanged but for the
# ioengine: every io_uring option is accepted and does what it does there,
# fio's own io_uring jobs (t/jobs/t0018.fio, examples/xnvme-compare.fio's
# io_uring use) and the hugetlb fast-path RFC's command line run, and
# their JSON parses.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip iouring_jobs "needs root (hugetlb pages)"; exit 0; }
dat=$SCRATCH/iou.dat

# Every option fio's io_uring engine has, this engine has by that name.
missing=""
ours=$(fio --enghelp="$ENGINE" 2>&1 | awk '{ print $1 }')
for opt in $(fio --enghelp=io_uring 2>&1 | awk '{ print $1 }'); do
	grep -qx -- "$opt" <<<"$ours" || missing="$missing $opt"
done
if [ -z "$missing" ]; then
	pass io-uring-options-accepted
else
	fail io-uring-options-accepted "not accepted:$missing"
fi

# json_ok OUT RC [JQ-CONDITION]: fio ran, its output is one JSON
# document in which every job has error 0, a uring_folioreg member and
# CONDITION.
json_ok() {
	local out=$1 rc=$2 cond=${3:-true}
	if [ "$rc" != 0 ]; then
		WHY="fio exited $rc: $(grep -m2 -E 'uring_folioreg:|fio:|error' "$out.err" "$out" | tr '\n' ' ')"
	elif ! jq -e "[.jobs[] | .error == 0 and .uring_folioreg != null and ($cond)] | all" \
		"$out" >/dev/null 2>&1; then
		WHY=$(head -c 300 "$out" | tr '\n' ' ')
	else
		return 0
	fi
	return 1
}

# run NAME FIO-ARGS...: fio with the engine, JSON in $SCRATCH/NAME.json.
run() {
	local name=$1
	shift
	(cd "$SCRATCH" && timeout -k 5 "$FIO_TIMEOUT" fio --output-format=json \
		"$@") >"$SCRATCH/$name.json" 2>"$SCRATCH/$name.json.err"
}

# fio's own io_uring job, its ioengine line switched.
if [ -f "$FIO_SRC/t/jobs/t0018.fio" ]; then
	sed "s|^ioengine=io_uring|ioengine=external:$ENGINE|" \
		"$FIO_SRC/t/jobs/t0018.fio" >"$SCRATCH/t0018.fio"
	run t0018 "$SCRATCH/t0018.fio"
	verdict fio-t0018 json_ok "$SCRATCH/t0018.json" $?
	rm -f "$SCRATCH"/test.*
else
	skip fio-t0018 "no fio source tree at $FIO_SRC"
fi

# examples/xnvme-compare.fio's default section with the io_uring options
# its README gives, on a sparse scratch file of the job's 12 GiB instead
# of /dev/nvme0n1 (the job file creates no files: allow_file_create=0).
if [ -f "$FIO_SRC/examples/xnvme-compare.fio" ]; then
	truncate -s 12G "$dat"
	run xnvme --ioengine="external:$ENGINE" --sqthread_poll=1 \
		--filename="$dat" "$FIO_SRC/examples/xnvme-compare.fio" \
		--section=default
	verdict fio-xnvme-compare-io-uring json_ok "$SCRATCH/xnvme.json" $? \
		'.uring_folioreg.ring_flags | contains("sqpoll")'
	rm -f "$dat"
else
	skip fio-xnvme-compare-io-uring "no fio source tree at $FIO_SRC"
fi

# The RFC's command line (1 MiB random writes at QD256, five jobs, fixed
# buffers and files on fio's 2 MiB hugetlb memory), 64 MiB per job.
if hp_reserve 2048 $(($(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 660)); then
	run rfc --name=rfc --ioengine="external:$ENGINE" --rw=randwrite \
		--bs=1M --size=64m --iodepth=256 --direct=1 --numjobs=5 \
		--fixedbufs=1 --registerfiles=1 --iomem=mmaphuge \
		--hugepage-size=2M --filename_format="$SCRATCH/rfc.\$jobnum"
	verdict rfc-command-line json_ok "$SCRATCH/rfc.json" $? \
		'.uring_folioreg.strategy == "iomem" and .uring_folioreg.segments.bvecs == 256'
	rm -f "$SCRATCH"/rfc.[0-9]*
else
	skip rfc-command-line "cannot reserve 660 2 MiB hugetlb pages"
fi

# What each option does here.
small=(--name=opt --ioengine="external:$ENGINE" --filename="$dat"
	--size=16m --bs=64k)
run fixedbufs0 "${small[@]}" --rw=randrw --fixedbufs=0
verdict fixedbufs-0-is-none json_ok "$SCRATCH/fixedbufs0.json" $? \
	'.uring_folioreg.strategy == "none" and .uring_folioreg.segments.bvecs == 0'
run fixedbufs1 "${small[@]}" --rw=randrw --fixedbufs=1
verdict fixedbufs-1-is-iomem json_ok "$SCRATCH/fixedbufs1.json" $? \
	'.uring_folioreg.strategy == "iomem" and .uring_folioreg.reg.buffers == 1'
out=$SCRATCH/fixedbufs-conflict.out
ufio "$out" "${small[@]:1}" --name=conflict --rw=read --fixedbufs=0 \
	--reg_strategy=per_page
verdict fixedbufs-0-with-a-strategy expect_error "$out" $? \
	'^uring_folioreg: fixedbufs=0: reg_strategy=per_page registers its buffers; drop fixedbufs=0, or use reg_strategy=none'
run vectored "${small[@]}" --rw=randrw --fixedbufs=0 --nonvectored=0 \
	--verify=crc32c
verdict nonvectored-0-verifies json_ok "$SCRATCH/vectored.json" $?
run async "${small[@]}" --rw=randrw --force_async=2 --verify=crc32c
verdict force-async-verifies json_ok "$SCRATCH/async.json" $?
run prio "${small[@]}" --rw=randread --cmdprio_percentage=50 --cmdprio_class=1
verdict cmdprio json_ok "$SCRATCH/prio.json" $?
# RWF_NOWAIT on O_DIRECT reads, which do not block on this file.
run nowait "${small[@]}" --rw=randread --direct=1 --nowait=1
verdict nowait-direct json_ok "$SCRATCH/nowait.json" $?
# Uncached buffered I/O where the kernel and file system have it, else
# one line saying so.
run uncached "${small[@]}" --rw=randrw --uncached=1
rc=$?
if [ $rc = 0 ]; then
	verdict uncached json_ok "$SCRATCH/uncached.json" $rc
else
	verdict uncached expect_error "$SCRATCH/uncached.json.err" $rc \
		'^uring_folioreg: uncached=1: filename=.* does not do uncached buffered I/O'
fi
rm -f "$dat"

# SQPOLL: the kernel's thread may take queued SQEs before the engine
# counts them; every job must still end (this once spun forever).
hung=""
for i in 1 2 3 4 5; do
	run sqpoll-$i --name=sqpoll --ioengine="external:$ENGINE" --rw=write \
		--bs=8k --iodepth=64 --size=32m --filename=/dev/null --time_based \
		--runtime=500ms --reg_strategy=coalesced --sqthread_poll
	rc=$?
	[ $rc = 0 ] || hung="$hung run $i: rc=$rc"
done
if [ -z "$hung" ]; then
	pass sqpoll-jobs-end
else
	fail sqpoll-jobs-end "$hung"
fi
