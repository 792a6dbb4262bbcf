#!/bin/bash
# A registration that fails halfway: the mapping succeeds, then faulting
# in the hugetlb pages fails because a hugetlb cgroup limit keeps free
# pages from the job (as when another process takes them between planning
# and mapping). The engine says why, and every page goes back.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip halfway "needs root for cgroups"; exit 0; }
grep -qw hugetlb /proc/cgroups || { skip halfway "no hugetlb cgroup controller"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 16 )) ||
	{ skip halfway "cannot reserve hugetlb pages"; exit 0; }

root=/sys/fs/cgroup/hugetlb
mounted=0
if [ ! -e $root/tasks ]; then
	mkdir -p $root && mount -t cgroup -o hugetlb none $root 2>/dev/null && mounted=1
fi
[ -e $root/tasks ] || { skip halfway "cannot mount the hugetlb cgroup (v1) hierarchy"; exit 0; }
grp=$root/ufr-halfway-$$
mkdir "$grp" || { skip halfway "cannot create a hugetlb cgroup"; exit 0; }
cleanup() {
	rmdir "$grp" 2>/dev/null
	[ $mounted = 1 ] && umount $root 2>/dev/null
	hp_restore
}
trap cleanup EXIT
echo $((4 << 20)) >"$grp/hugetlb.2MB.limit_in_bytes"

free0=$(hp_total_free)
pins0=$(pins)
out=$SCRATCH/halfway.out
# 16 buffers of 1 MiB need 8 pages; the group may have 2.
bash -c "echo \$\$ >$grp/tasks && cd $SCRATCH && exec timeout $FIO_TIMEOUT fio \
	--ioengine=external:$ENGINE --name=halfway --filename=/dev/zero \
	--rw=read --bs=1m --iodepth=16 --size=64m --reg_strategy=hugetlb_fast" \
	>"$out" 2>&1
rc=$?
verdict halfway-says-why expect_error "$out" $rc \
	'^uring_folioreg: reg_folio=2m: faulting in 8 hugetlb pages of 2048 KiB failed although [0-9]+ are free: a hugetlb cgroup limit .*hugetlb.2MB.limit_in_bytes'
verdict halfway-gives-everything-back given_back "$free0" "$pins0"
