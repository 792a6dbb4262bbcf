#!/bin/bash
# Shared backings (reg_backing=memfd, hugetlbfs): per_page, coalesced and
# hugetlb_fast on a memfd (shmem 4 KiB pages, MFD_HUGETLB 2 MiB) and on an
# unlinked file in a hugetlbfs mounted here: every figure follows what the
# kernel built (bvecs == bvecs_observed, the kernel's pin counters), data
# verifies, every hugetlb page and pin comes back, and each bad
# combination is one line with its fix. Also on memfd with shmem THP on
# (transparent_hugepage/shmem_enabled always, then advise, put back at
# exit), and with reg_numa_node=0 on each backing, whose pages must all
# be counted on node 0. The mount is undone at exit.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip backings "needs root (mount, hugetlb, pin counters)"; exit 0; }
HP=/sys/kernel/mm/hugepages/hugepages-2048kB
hp_reserve 2048 $(($(cat "$HP/nr_hugepages") + 48)) ||
	{ skip backings "cannot reserve 2 MiB hugetlb pages"; exit 0; }

MNT=$(mktemp -d "$SCRATCH/hugetlbfs.XXXXXX")
cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	rmdir "$MNT"
	thp_restore
	hp_restore
}
trap cleanup EXIT
mount -t hugetlbfs -o pagesize=2M none "$MNT" ||
	{ skip backings "cannot mount a 2 MiB hugetlbfs"; exit 0; }

# 32 x 1 MiB buffers: 16 folios of 2 MiB, 8192 pages of 4 KiB.
job=(--filename=/dev/zero --rw=read --bs=1m --iodepth=32 --size=64m
	--output-format=json)

# figures OUT BACKING: the job ran on BACKING, its bvecs (read back from
# the page tables) are what the kernel's pin counters saw, and every
# hugetlb page and pin is back afterwards.
figures() {
	local out=$1 backing=$2 rc=$3 got b src n obs
	if [ "$rc" != 0 ]; then
		WHY="fio exited $rc: $(grep -m1 uring_folioreg: "$out")"
		return 1
	fi
	got=$(jq -r '.jobs[0].uring_folioreg |
		"\(.backing) \(.segments.source) \(.segments.bvecs) \(.segments.bvecs_observed) \(.folio_bytes)"' "$out" 2>&1)
	echo "$CASE: backing source bvecs bvecs_observed folio_bytes: $got"
	read -r b src n obs _ <<<"$got"
	if [ "$b $src" != "$backing pagemap" ] || [ "$n" != "$obs" ]; then
		WHY="backing source bvecs bvecs_observed: $got"
		return 1
	fi
	# reg_numa_node=N: every registered page counted on node N.
	if [ -n "$NODE" ] && ! jq -e --argjson n "$NODE" '.jobs[0].uring_folioreg |
		.numa.requested == $n and .numa.pages_by_node["\($n)"] == .segments.pages' \
		"$out" >/dev/null; then
		WHY="reg_numa_node=$NODE: numa and pages: $(jq -c '.jobs[0].uring_folioreg |
			[.numa, .segments.pages]' "$out" 2>&1)"
		return 1
	fi
	given_back "$FREE0" "$PINS0"
}

# verified OUT RC: a verified write job ran clean and gave everything back.
verified() {
	job_ok "$1" "$2" && given_back "$FREE0" "$PINS0"
}

case_run() { # backing strategy[-label] [options...]
	local backing=$1 st=${2%%-*} name=$1-$2 out NODE
	shift 2
	NODE=$(printf '%s\n' "$@" | sed -n 's/^--reg_numa_node=//p')
	FREE0=$(hp_total_free)
	PINS0=$(pins)
	out=$SCRATCH/backing-$name.json
	ufio "$out" --name="$name" "${job[@]}" --reg_backing="$backing" \
		--reg_strategy="$st" "$@"
	verdict "$name" figures "$out" "$backing" $?
	out=$SCRATCH/backing-$name-verify.txt
	ufio "$out" --name="$name-verify" --filename="$SCRATCH/backing.dat" \
		--size=32m --rw=randwrite --bs=4k-1m --iodepth=16 --direct=1 \
		--verify=crc32c --reg_backing="$backing" --reg_strategy="$st" "$@"
	verdict "$name-verify" verified "$out" $?
	rm -f "$SCRATCH/backing.dat"
}

free_before=$(cat "$HP/free_hugepages")
case_run memfd per_page
case_run memfd coalesced --reg_folio=2m
case_run memfd hugetlb_fast
# One 1 GiB hugetlb folio for the whole pool, where one can be had.
G=/sys/kernel/mm/hugepages/hugepages-1048576kB
if [ -w "$G/nr_hugepages" ] &&
	{ [ "$(cat "$G/free_hugepages")" -ge 1 ] ||
		hp_reserve 1048576 $(($(cat "$G/nr_hugepages") + 1)); }; then
	g0=$(cat "$G/free_hugepages")
	case_run memfd coalesced-1g --reg_folio=1g
	if [ "$(cat "$G/free_hugepages")" = "$g0" ]; then
		pass memfd-1g-given-back
	else
		fail memfd-1g-given-back "1 GiB free_hugepages $g0 before, $(cat "$G/free_hugepages") after"
	fi
else
	skip memfd-coalesced-1g "no free 1 GiB hugetlb page and none can be reserved"
fi
case_run hugetlbfs coalesced --reg_hugetlbfs_path="$MNT"
case_run hugetlbfs hugetlb_fast --reg_hugetlbfs_path="$MNT"
# Bound to node 0 (mbind before the memory is faulted in).
case_run memfd per_page-numa0 --reg_numa_node=0
case_run memfd hugetlb_fast-numa0 --reg_numa_node=0
case_run hugetlbfs hugetlb_fast-numa0 --reg_hugetlbfs_path="$MNT" \
	--reg_numa_node=0
if [ "$(ls -A "$MNT")" = "" ]; then
	pass hugetlbfs-no-file-left
else
	fail hugetlbfs-no-file-left "$(ls -A "$MNT")"
fi
# memfd memory with shmem THP on: shmem may now back it with large
# folios, and whatever the kernel built, the engine's bvecs must be what
# it pinned. coalesced on memfd is MFD_HUGETLB, which shmem THP leaves
# alone; per_page is shmem's own.
SHMEM=/sys/kernel/mm/transparent_hugepage/shmem_enabled
if [ -w "$SHMEM" ]; then
	for mode in always advise; do
		thp_put "$SHMEM" "$mode"
		case_run memfd "per_page-shmem-thp-$mode"
		# per_page asks for 4 KiB pages (MADV_NOHUGEPAGE), and gets them.
		got=$(jq -r '.jobs[0].uring_folioreg.folio_bytes' \
			"$SCRATCH/backing-memfd-per_page-shmem-thp-$mode.json" 2>&1)
		if [ "$got" = 4096 ]; then
			pass "memfd-per_page-shmem-thp-$mode-4k"
		else
			fail "memfd-per_page-shmem-thp-$mode-4k" "folio_bytes $got"
		fi
		case_run memfd "coalesced-shmem-thp-$mode" --reg_folio=2m
	done
	thp_restore
else
	skip memfd-shmem-thp "no $SHMEM (a kernel without shmem THP)"
fi
free_after=$(cat "$HP/free_hugepages")
if [ "$free_before" = "$free_after" ]; then
	pass hugetlb-pages-given-back
else
	fail hugetlb-pages-given-back "free_hugepages $free_before before, $free_after after"
fi

# Bad combinations: one line each, with the fix.
bad() { # name pattern options...
	local name=$1 pat=$2 out=$SCRATCH/backing-bad-$1.txt
	shift 2
	ufio "$out" --name="$name" "${job[@]}" "$@"
	verdict "refuse-$name" expect_error "$out" $? "^uring_folioreg: $pat"
}
bad memfd-iomem 'reg_backing=memfd: reg_strategy=iomem runs on fio.s memory; use reg_strategy=per_page' \
	--reg_backing=memfd
bad memfd-none 'reg_backing=memfd: reg_strategy=none' --reg_backing=memfd \
	--reg_strategy=none
bad memfd-auto 'reg_backing=memfd: reg_strategy=auto chooses its memory itself' \
	--reg_backing=memfd --reg_strategy=auto
bad memfd-thp 'reg_folio=thp: reg_backing=memfd .*use reg_folio=2m or 1g' \
	--reg_backing=memfd --reg_strategy=coalesced --reg_folio=thp
bad memfd-64k 'reg_folio=64k: reg_backing=memfd' --reg_backing=memfd \
	--reg_strategy=coalesced --reg_folio=64k
bad hugetlbfs-no-path 'reg_backing=hugetlbfs: no directory .*add reg_hugetlbfs_path=DIR' \
	--reg_backing=hugetlbfs --reg_strategy=hugetlb_fast
bad hugetlbfs-not-mount "reg_hugetlbfs_path=$SCRATCH: not on a hugetlbfs mount" \
	--reg_backing=hugetlbfs --reg_strategy=hugetlb_fast \
	--reg_hugetlbfs_path="$SCRATCH"
bad path-without-hugetlbfs 'reg_hugetlbfs_path=.*: only reg_backing=hugetlbfs uses it' \
	--reg_strategy=hugetlb_fast --reg_hugetlbfs_path="$MNT"
bad hugetlbfs-per-page 'reg_backing=hugetlbfs: reg_strategy=per_page keeps buffers on 4 KiB pages' \
	--reg_backing=hugetlbfs --reg_strategy=per_page --reg_hugetlbfs_path="$MNT"
bad hugetlbfs-1g-on-2m 'reg_folio=1g: .* is a hugetlbfs of 2048 KiB pages; drop reg_folio' \
	--reg_backing=hugetlbfs --reg_strategy=hugetlb_fast --reg_folio=1g \
	--reg_hugetlbfs_path="$MNT"
