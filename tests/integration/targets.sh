#!/bin/bash
# Targets besides files: /dev/null and /dev/zero (the CPU-bound path), a
# loop block device with O_DIRECT and discard.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

out=$SCRATCH/devnull.out
ufio "$out" --name=devnull --filename=/dev/null --size=1g --rw=write \
	--bs=4k --iodepth=32
verdict devnull-write job_ok "$out" $?

out=$SCRATCH/devzero.out
ufio "$out" --name=devzero --filename=/dev/zero --size=1g --rw=read \
	--bs=4k --iodepth=32
verdict devzero-read job_ok "$out" $?

out=$SCRATCH/devzero-none.out
ufio "$out" --name=devzero-none --filename=/dev/zero --size=256m --rw=read \
	--bs=4k --iodepth=32 --reg_strategy=none
verdict devzero-read-none job_ok "$out" $?

out=$SCRATCH/devnull-trim.out
ufio "$out" --name=devnull-trim --filename=/dev/null --size=1m --rw=trim \
	--bs=4k
verdict devnull-trim-refused expect_error "$out" $? \
	'^uring_folioreg: filename=/dev/null: trim needs a block device'

if ! command -v losetup >/dev/null || [ "$(id -u)" != 0 ]; then
	skip loop-device "needs root and losetup"
	exit 0
fi
img=$SCRATCH/loop.img
truncate -s 256m "$img"
if ! dev=$(losetup --find --show --direct-io=on "$img" 2>/dev/null); then
	skip loop-device "no loop device could be attached"
	rm -f "$img"
	exit 0
fi
trap 'losetup -d "$dev"; rm -f "$img"; hp_restore' EXIT
out=$SCRATCH/loop.out
ufio "$out" --name=loop --filename="$dev" --size=128m --rw=randrw --bs=4k \
	--direct=1 --iodepth=32 --verify=crc32c
verdict loop-randrw-verify job_ok "$out" $?
out=$SCRATCH/loop-trim.out
ufio "$out" --name=loop-trim --filename="$dev" --size=64m --rw=randtrim \
	--bs=64k --direct=1 --iodepth=4
verdict loop-trim job_ok "$out" $?
