#!/bin/bash
# Multi-size THP (reg_folio=16k .. 1m, Linux 6.8+): with only that size
# enabled (madvise) for anonymous memory, reg_strategy=coalesced on
# 256 x 1 MiB gets one bio_vec per folio, which the kernel's pin counters
# confirm, and reg_strategy=per_folio one per buffer (one folio each);
# with the size off, or a larger size enabled that a fault would
# take first, the job is refused with one line giving the settings to
# write. Every hugepages-*kB/enabled the test touches is put back at exit.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

THP=/sys/kernel/mm/transparent_hugepage
[ "$(id -u)" = 0 ] || { skip folio_sizes "needs root (THP settings, pagemap, pin counters)"; exit 0; }
[ -w "$THP/hugepages-64kB/enabled" ] ||
	{ skip folio_sizes "this kernel has no multi-size THP ($THP/hugepages-64kB/enabled; Linux 6.8+)"; exit 0; }

trap 'thp_restore; hp_restore' EXIT
# put KB VALUE: write a per-size setting (lib.sh: thp_put).
put() { thp_put "$THP/hugepages-$1kB/enabled" "$2"; }
# only KB [VALUE]: that size enabled (madvise), every other size never.
only() {
	local d kb
	for d in "$THP"/hugepages-*kB; do
		[ -w "$d/enabled" ] || continue
		kb=${d##*/hugepages-}
		kb=${kb%kB}
		if [ "$kb" = "$1" ]; then
			put "$kb" "${2:-madvise}"
		else
			put "$kb" never
		fi
	done
}

# The rules probe needs two large folios; with PMD THP off it takes 2 MiB
# hugetlb pages.
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 2 )) || true

big=(--filename=/dev/zero --rw=read --bs=1m --iodepth=256 --size=512m
	--reg_strategy=coalesced --output-format=json)

# judged NAME OUT RC FIELDS WANT: FIELDS (jq on the engine's object,
# space-separated) of fio's JSON in OUT against WANT; a skip where the
# kernel handed out smaller folios than asked.
judged() {
	local name=$1 out=$2 rc=$3 fields=$4 want=$5 got
	if [ "$rc" != 0 ]; then
		fail "$name" "fio exited $rc: $(grep -m1 uring_folioreg: "$out")"
		return
	fi
	got=$(jq -r ".jobs[0].uring_folioreg | [$fields] | map(tostring) | join(\" \")" "$out")
	if [ "$got" = "$want" ]; then
		pass "$name"
	elif grep -q 'got .* KiB ones' "$out"; then
		skip "$name" "the kernel handed out smaller folios (memory fragmented?): $(grep -m1 'got .* KiB ones' "$out")"
	else
		fail "$name" "$fields: got '$got', want '$want'"
	fi
}

# sized KB NAME: coalesced on KB folios: bvecs one per folio, the kernel's
# pins the same, each 1 MiB I/O as many segments as folios it spans.
sized() {
	local kb=$1 name=folio-$1k out=$SCRATCH/folio-$1k.json
	local per_io=$(( 1024 / kb ))
	only "$kb"
	ufio "$out" --name="$name" "${big[@]}" --reg_folio="$2"
	judged "$name" "$out" $? ".folio_bytes, .segments.bvecs, .segments.bvecs_observed, .segments.per_io_max, .segments.source" \
		"$((kb * 1024)) $((262144 / kb)) $((262144 / kb)) $per_io pagemap"
}
sized 64 64k
sized 16 16k
sized 1024 1m
for kb in 32 128 256 512; do
	sized "$kb" "${kb}k"
done

# per_folio KB NAME: buffers of KB less 4 KiB, 4 KiB into the folio
# (mem_align), one to a folio of KB: back to back they would cross folio
# boundaries, placed one per folio each is one bio_vec, the kernel's pins
# the same, no buffer across two folios, each I/O one segment.
per_folio() {
	local kb=$1 name=per-folio-$1k out=$SCRATCH/per-folio-$1k.json
	only "$kb"
	ufio "$out" --name="$name" --filename=/dev/zero --rw=read \
		--bs="$((kb - 4))k" --mem_align=4096 --iodepth=256 --size=64m \
		--reg_strategy=per_folio \
		--reg_folio="$2" --output-format=json
	judged "$name" "$out" $? ".folio_bytes, .segments.bvecs, .segments.bvecs_observed, .segments.straddling, .segments.per_io_max, .segments.source" \
		"$((kb * 1024)) 256 256 0 1 pagemap"
}
for kb in 16 32 64 128 256 512 1024; do
	if [ "$kb" = 1024 ]; then per_folio 1024 1m; else per_folio "$kb" "${kb}k"; fi
done

# inherit counts when the top-level setting lets MADV_HUGEPAGE have THP.
if [ "$(thp_setting "$THP/enabled")" != never ]; then
	only 64 inherit
	out=$SCRATCH/folio-inherit.json
	ufio "$out" --name=inherit "${big[@]}" --reg_folio=64k
	if [ "$(jq -r '.jobs[0].uring_folioreg.segments.bvecs_observed' "$out" 2>/dev/null)" = 4096 ]; then
		pass folio-inherit
	else
		fail folio-inherit "$(grep -m1 uring_folioreg: "$out" || head -c 300 "$out")"
	fi
else
	skip folio-inherit "top-level THP is never here, and this test leaves it alone"
fi

# Refusals: the size off, a larger size on; one line with the fix.
only 2048 never
out=$SCRATCH/folio-off.txt
ufio "$out" --name=off "${big[@]}" --reg_folio=64k
verdict refuse-size-off expect_error "$out" $? \
	'reg_folio=64k: anonymous 64 KiB THP is off' \
	"echo madvise > $THP/hugepages-64kB/enabled"

only 64
put 256 madvise
put 2048 madvise
out=$SCRATCH/folio-larger.txt
ufio "$out" --name=larger "${big[@]}" --reg_folio=64k
verdict refuse-larger-enabled expect_error "$out" $? \
	'larger sizes, which a fault tries first, are enabled' \
	"echo never > $THP/hugepages-256kB/enabled" \
	"echo never > $THP/hugepages-2048kB/enabled"
if [ "$(thp_setting "$THP/hugepages-64kB/enabled")" = madvise ] &&
	[ "$(thp_setting "$THP/hugepages-2048kB/enabled")" = madvise ]; then
	pass refuse-changes-nothing
else
	fail refuse-changes-nothing "the engine changed a THP setting"
fi

# Which strategies take which sizes.
only 64
for s in per_page hugetlb_fast auto; do
	out=$SCRATCH/folio-$s.txt
	ufio "$out" --name="$s" "${big[@]}" --reg_strategy="$s" --reg_folio=64k
	verdict "refuse-64k-$s" expect_error "$out" $? "reg_folio=64k: reg_strategy=$s"
done

# A buffer larger than its folio: refused with the bs that fits and the
# folio that holds it, before any THP switch is looked at.
only 64
out=$SCRATCH/folio-per-folio-too-big.txt
ufio "$out" --name=too-big "${big[@]}" --bs=64k --reg_strategy=per_folio --reg_folio=16k
verdict refuse-per-folio-16k-bs-64k expect_error "$out" $? \
	'^uring_folioreg: bs=64k: per_folio places each buffer inside one folio, and it does not fit a 16 KiB folio; lower bs to 16k or use reg_folio=64k$'

# Data goes where it should: verified writes on 64 KiB folios.
out=$SCRATCH/folio-verify.txt
ufio "$out" --name=verify --filename="$SCRATCH/folio-verify.dat" --size=64m \
	--rw=randwrite --bs=4k-1m --iodepth=32 --direct=1 --verify=crc32c \
	--reg_strategy=coalesced --reg_folio=64k
verdict verify-64k job_ok "$out" $?
out=$SCRATCH/folio-verify-per-folio.txt
ufio "$out" --name=verify-per-folio --filename="$SCRATCH/folio-verify.dat" \
	--size=64m --rw=randwrite --bs=4k-64k --iodepth=32 --direct=1 \
	--verify=crc32c --reg_strategy=per_folio --reg_folio=64k
verdict verify-per-folio-64k job_ok "$out" $?
rm -f "$SCRATCH/folio-verify.dat"
