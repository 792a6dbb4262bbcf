#!/bin/bash
# The data path with fio's verify: every rw mode on an O_DIRECT file, 4 KiB
# and 1 MiB verified random read-writes (as examples/first.fio runs them),
# buffered I/O, syncs, batching, threads.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

f=$SCRATCH/data.dat
common=(--filename="$f" --iodepth=32 --verify=crc32c)

run() { # name, fio args...
	local name=$1 out=$SCRATCH/$1.out
	shift
	ufio "$out" --name="$name" "$@"
	verdict "$name" job_ok "$out" $?
}

# 256 MiB of verified O_DIRECT random read-writes at 4 KiB and 1 MiB on
# fio's own memory (the default strategy, iomem).
run accept-randrw-4k "${common[@]}" --size=256m --rw=randrw --bs=4k --direct=1
run accept-randrw-1m "${common[@]}" --size=256m --rw=randrw --bs=1m --direct=1
# Four writers verifying one file overwrite each other's blocks (fio's
# io_uring engine fails the same way), so each job gets its own file.
run accept-randrw-4k-thread-numjobs4 --iodepth=32 --verify=crc32c \
	--filename_format="$SCRATCH/nj.\$jobnum" --size=256m --rw=randrw \
	--bs=4k --direct=1 --thread=1 --numjobs=4 --group_reporting

# Every rw mode that carries data, verified; reads check what writes left.
for rw in write randwrite rw randrw; do
	run "direct-$rw" "${common[@]}" --size=64m --rw=$rw --bs=16k --direct=1
done
ufio "$SCRATCH/prep.out" --name=prep --filename="$f" --size=64m --rw=write \
	--bs=64k --direct=1 --verify=crc32c --do_verify=0
for rw in read randread; do
	run "direct-$rw" "${common[@]}" --size=64m --rw=$rw --bs=64k --direct=1
done

run buffered-randrw "${common[@]}" --size=64m --rw=randrw --bs=4k --direct=0
run syncs "${common[@]}" --size=32m --rw=randwrite --bs=4k --direct=1 \
	--fsync=7 --fdatasync=5 --end_fsync=1
run sync-file-range "${common[@]}" --size=32m --rw=write --bs=4k --direct=0 \
	--sync_file_range=write:8
run batching "${common[@]}" --size=64m --rw=randrw --bs=4k --direct=1 \
	--iodepth=64 --iodepth_batch_submit=16 --iodepth_batch_complete_min=4 \
	--iodepth_batch_complete_max=32
run processes-numjobs4 --iodepth=32 --verify=crc32c --filename_format="$SCRATCH/nj.\$jobnum" \
	--size=32m --rw=randrw --bs=4k --direct=1 --numjobs=4
run registerfiles "${common[@]}" --size=64m --rw=randrw --bs=4k --direct=1 \
	--registerfiles=1
run sqthread-poll "${common[@]}" --size=64m --rw=randrw --bs=4k --direct=1 \
	--sqthread_poll=1 --sqthread_poll_cpu=0
# Under an SQ thread no submission latency is recorded (the kernel's
# thread submits; ours only fills the SQE), as with fio's io_uring engine,
# while clat still is; the run before records slat as usual.
sq=$SCRATCH/sqthread-poll.out
if ! grep -q 'slat' "$SCRATCH/registerfiles.out"; then
	fail sqthread-poll-no-slat "no slat line without sqthread_poll either: nothing to tell"
elif grep -q 'slat' "$sq"; then
	fail sqthread-poll-no-slat "slat recorded under sqthread_poll: $(grep -m1 slat "$sq")"
elif ! grep -q 'clat' "$sq"; then
	fail sqthread-poll-no-slat "no clat under sqthread_poll"
else
	pass sqthread-poll-no-slat
fi
run nrfiles-openfiles "${common[@]/--filename=*/--directory=$SCRATCH}" \
	--size=64m --nrfiles=8 --openfiles=2 --rw=randrw --bs=4k --direct=1 \
	--registerfiles=1
run strategy-none "${common[@]}" --size=64m --rw=randrw --bs=4k --direct=1 \
	--reg_strategy=none
run strategy-per-page "${common[@]}" --size=64m --rw=randrw --bs=64k \
	--direct=1 --reg_strategy=per_page
run mem-align "${common[@]}" --size=64m --rw=randrw --bs=4k --direct=1 \
	--mem_align=512

# Trim punches holes in a regular file: its allocated blocks shrink.
ufio "$SCRATCH/fill.out" --name=fill --filename="$f" --size=32m --rw=write \
	--bs=1m --direct=1
before=$(stat -c %b "$f")
ufio "$SCRATCH/trim.out" --name=trim --filename="$f" --size=32m --rw=trim \
	--bs=1m
if verdict trim job_ok "$SCRATCH/trim.out" $?; then
	after=$(stat -c %b "$f")
	# Punching splits extents, which may cost a metadata block or two.
	if [ $((before - after)) -ge $((31 * 2048)) ]; then
		pass trim-punches-holes
	else
		fail trim-punches-holes "512-byte blocks before $before, after $after"
	fi
fi
for rw in randtrim trimwrite; do
	run "$rw" --filename="$f" --size=32m --rw=$rw --bs=64k --iodepth=8
done
rm -f "$f" "$SCRATCH"/nj.* "$SCRATCH"/nrfiles-openfiles.*
