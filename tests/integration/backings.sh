#!/bin/bash
# Shared backings (reg_backing=memfd, hugetlbfs): per_page, coalesced,
# per_folio and hugetlb_fast on a memfd (shmem 4 KiB pages, MFD_HUGETLB
# 2 MiB) and on an unlinked file in a hugetlbfs mounted here (per_folio on
# anonymous THP and 2 MiB hugetlb too): every figure follows what the
# kernel built (bvecs == bvecs_observed, the kernel's pin counters), data
# verifies, every hugetlb page and pin comes back, and each bad
# combination is one line with its fix. Also on memfd with shmem THP
# (reg_folio=thp on shmem_enabled always, advise and within_size, refused
# on never and deny, and the PMD size's own switch; the cases below, the
# settings put back at exit), and with reg_numa_node=0 on each backing,
# whose pages must all be counted on node 0. The mount is undone at exit.
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

# json OUT: fio's JSON in OUT, without the engine's notes (stderr) before it.
json() { sed -n '/^{/,$p' "$1"; }

# figures OUT BACKING: the job ran on BACKING, its bvecs (read back from
# the page tables) are what the kernel's pin counters saw, and every
# hugetlb page and pin is back afterwards.
figures() {
	local out=$1 backing=$2 rc=$3 got b src n obs
	if [ "$rc" != 0 ]; then
		WHY="fio exited $rc: $(grep -m1 uring_folioreg: "$out")"
		return 1
	fi
	got=$(json "$out" | jq -r '.jobs[0].uring_folioreg |
		"\(.backing) \(.segments.source) \(.segments.bvecs) \(.segments.bvecs_observed) \(.folio_bytes)"' 2>&1)
	echo "$CASE: backing source bvecs bvecs_observed folio_bytes: $got"
	read -r b src n obs _ <<<"$got"
	if [ "$b $src" != "$backing pagemap" ] || [ "$n" != "$obs" ]; then
		WHY="backing source bvecs bvecs_observed: $got"
		return 1
	fi
	# reg_numa_node=N: every registered page counted on node N.
	if [ -n "$NODE" ] && ! json "$out" | jq -e --argjson n "$NODE" '.jobs[0].uring_folioreg |
		.numa.requested == $n and .numa.pages_by_node["\($n)"] == .segments.pages' \
		>/dev/null; then
		WHY="reg_numa_node=$NODE: numa and pages: $(json "$out" | jq -c '.jobs[0].uring_folioreg |
			[.numa, .segments.pages]' 2>&1)"
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
# One buffer per io_u inside one folio: MFD_HUGETLB by default, 2 MiB
# hugetlb and THP in anonymous memory too.
case_run memfd per_folio
case_run anon per_folio-2m --reg_folio=2m
case_run anon per_folio-thp --reg_folio=thp
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
case_run hugetlbfs per_folio --reg_hugetlbfs_path="$MNT"
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
# folio_is OUT BYTES: the job's folio_bytes, read back, is BYTES.
folio_is() {
	local got
	got=$(json "$1" | jq -r '.jobs[0].uring_folioreg.folio_bytes' 2>&1)
	[ "$got" = "$2" ] && return 0
	WHY="folio_bytes $got, not $2"
	return 1
}

# thp_refused NAME PATTERN: memfd thp is refused with one line matching
# PATTERN, fio exits non-zero, and every hugetlb page and pin is back.
thp_refused() {
	local out=$SCRATCH/backing-refused-$1.txt rc
	FREE0=$(hp_total_free)
	PINS0=$(pins)
	ufio "$out" --name="$1" "${job[@]}" --reg_backing=memfd \
		--reg_strategy=coalesced --reg_folio=thp
	rc=$?
	verdict "refuse-$1" expect_error "$out" $rc "^uring_folioreg: $2" &&
		verdict "refuse-$1-given-back" given_back "$FREE0" "$PINS0"
}

# memfd memory with shmem THP on (shmem_enabled always, advise,
# within_size; the PMD size's own switch inherit): per_page keeps its
# 4 KiB pages (MADV_NOHUGEPAGE), coalesced with reg_folio=2m is
# MFD_HUGETLB, which shmem THP leaves alone, and reg_folio=thp is a plain
# memfd on PMD-sized shmem folios. Whatever the kernel built, the
# engine's bvecs must be what it pinned. Then the settings that give a
# memfd no PMD folios, each refused with the write that fixes it; a memfd
# follows the PMD size's own hugepages-<N>kB/shmem_enabled (it is
# anonymous shmem to the kernel); and a process with THP disabled
# (prctl PR_SET_THP_DISABLE) gets 4 KiB pages, which the engine notes.
SHMEM=/sys/kernel/mm/transparent_hugepage/shmem_enabled
PMD=$(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size 2>/dev/null)
PMD_SHMEM=/sys/kernel/mm/transparent_hugepage/hugepages-$((${PMD:-0} >> 10))kB/shmem_enabled
if [ -w "$SHMEM" ] && [ -n "$PMD" ]; then
	[ -w "$PMD_SHMEM" ] && thp_put "$PMD_SHMEM" inherit
	for mode in always advise within_size; do
		thp_put "$SHMEM" "$mode"
		if [ "$mode" != within_size ]; then
			case_run memfd "per_page-shmem-thp-$mode"
			verdict "memfd-per_page-shmem-thp-$mode-4k" folio_is \
				"$SCRATCH/backing-memfd-per_page-shmem-thp-$mode.json" 4096
			case_run memfd "coalesced-shmem-thp-$mode" --reg_folio=2m
		fi
		case_run memfd "coalesced-thp-shmem-$mode" --reg_folio=thp
		verdict "memfd-coalesced-thp-shmem-$mode-folios" folio_is \
			"$SCRATCH/backing-memfd-coalesced-thp-shmem-$mode.json" "$PMD"
		case_run memfd "per_folio-thp-shmem-$mode" --reg_folio=thp
		verdict "memfd-per_folio-thp-shmem-$mode-folios" folio_is \
			"$SCRATCH/backing-memfd-per_folio-thp-shmem-$mode.json" "$PMD"
	done
	for mode in never deny; do
		thp_put "$SHMEM" "$mode"
		thp_refused "memfd-thp-shmem-$mode" \
			"reg_folio=thp: reg_backing=memfd would get no [0-9]+ KiB shmem THP folios: shmem_enabled is $mode.*; write: echo advise > $SHMEM \\(or use reg_folio=2m"
	done
	if [ -w "$PMD_SHMEM" ]; then
		# The PMD size's own switch decides, whatever the top level.
		thp_put "$PMD_SHMEM" advise
		thp_put "$SHMEM" never
		case_run memfd coalesced-thp-pmd-shmem-advise --reg_folio=thp
		verdict memfd-coalesced-thp-pmd-shmem-advise-folios folio_is \
			"$SCRATCH/backing-memfd-coalesced-thp-pmd-shmem-advise.json" "$PMD"
		thp_put "$PMD_SHMEM" never
		thp_put "$SHMEM" advise
		thp_refused memfd-thp-pmd-shmem-never \
			"reg_folio=thp: .*shmem_enabled is advise, hugepages-[0-9]+kB/shmem_enabled is never; write: echo advise > $PMD_SHMEM \\("
		thp_put "$PMD_SHMEM" inherit
	else
		skip memfd-thp-pmd-shmem "no $PMD_SHMEM (a kernel before 6.11: the top level alone decides)"
	fi
	# THP disabled for the process: the check passes, the kernel gives
	# 4 KiB pages, and every figure follows them, with a note.
	thp_put "$SHMEM" advise
	NOTHP=$SCRATCH/fio-thp-disabled
	cat >"$NOTHP" <<EOF
#!/usr/bin/env python3
# $UFR_FIO with THP disabled for the process (PR_SET_THP_DISABLE).
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0):
    sys.exit("prctl(PR_SET_THP_DISABLE): " + os.strerror(ctypes.get_errno()))
os.execvp("$UFR_FIO", ["$UFR_FIO"] + sys.argv[1:])
EOF
	chmod +x "$NOTHP"
	# noted OUT: the run's notes say it got 4 KiB pages, on stderr too.
	noted() {
		json "$1" | jq -e '.jobs[0].uring_folioreg.notes |
			any(test("asked for [0-9]+ KiB folios, got 4 to 4 KiB ones"))' \
			>/dev/null 2>&1 &&
			grep -qE '^uring_folioreg note: .*asked for [0-9]+ KiB folios, got 4 to 4 KiB ones' "$1" &&
			return 0
		WHY="notes: $(json "$1" | jq -c '.jobs[0].uring_folioreg.notes' 2>&1)"
		return 1
	}
	# per_folio too, anonymous and memfd: the buffers span 256 pages
	# each now, and every figure (bvecs, the kernel's pins) says so.
	for b in memfd-coalesced memfd-per_folio anon-per_folio; do
		UFR_FIO=$NOTHP case_run "${b%%-*}" "${b#*-}-thp-disabled" --reg_folio=thp
		out=$SCRATCH/backing-$b-thp-disabled.json
		verdict "$b-thp-disabled-4k" folio_is "$out" 4096
		verdict "$b-thp-disabled-note" noted "$out"
	done
	rm -f "$NOTHP"
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
bad memfd-per-page-thp 'reg_folio=thp: reg_strategy=per_page keeps buffers on 4 KiB pages' \
	--reg_backing=memfd --reg_strategy=per_page --reg_folio=thp
bad memfd-hugetlb-fast-thp 'reg_folio=thp: reg_strategy=hugetlb_fast needs hugetlb folios' \
	--reg_backing=memfd --reg_strategy=hugetlb_fast --reg_folio=thp
bad memfd-64k 'reg_folio=64k: reg_backing=memfd .*multi-size THP in anonymous memory only; use reg_folio=thp, 2m or 1g' \
	--reg_backing=memfd --reg_strategy=coalesced --reg_folio=64k
bad memfd-per_folio-64k 'reg_folio=64k: reg_backing=memfd .*multi-size THP in anonymous memory only; use reg_folio=thp, 2m or 1g' \
	--reg_backing=memfd --reg_strategy=per_folio --reg_folio=64k
bad hugetlbfs-per_folio-too-big 'bs=4m: per_folio places each buffer inside one folio, and it does not fit a 2048 KiB folio; lower bs to 2m or use reg_hugetlbfs_path on a hugetlbfs mounted with pagesize=1G$' \
	--reg_backing=hugetlbfs --reg_strategy=per_folio --bs=4m \
	--reg_hugetlbfs_path="$MNT"
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
