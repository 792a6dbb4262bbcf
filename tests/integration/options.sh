#!/bin/bash
# Bad options and the version guard: a clear line, a non-zero exit, no
# crash.
. "$(dirname "$0")/../lib.sh"

f=$SCRATCH/opts.dat
base=(--name=opts --filename="$f" --size=16m --bs=4k --rw=read)

out=$SCRATCH/typo.out
ufio "$out" "${base[@]}" --reg_stratgy=iomem
expect_error option-typo "$out" $? "unrecognized option '--reg_stratgy=iomem'" 'Did you mean reg_strategy'

out=$SCRATCH/badval.out
ufio "$out" "${base[@]}" --reg_strategy=bogus
expect_error option-unknown-value "$out" $? 'reg_strategy' 'bogus'

out=$SCRATCH/iomem-conflict.out
ufio "$out" "${base[@]}" --reg_strategy=per_page --iomem=malloc
expect_error iomem-with-own-memory "$out" $? \
	'^uring_folioreg: iomem=: reg_strategy=per_page allocates its own buffer memory.*drop iomem='

out=$SCRATCH/mmaphuge.out
if hp_reserve 2048 0 2>/dev/null && [ "$(hp_free 2048)" = 0 ]; then
	ufio "$out" "${base[@]}" --iomem=mmaphuge --hugepage-size=2m
	expect_error mmaphuge-without-hugepages "$out" $? \
		'^uring_folioreg: iomem=mmaphuge: needs 1 hugetlb pages of 2048 KiB, 0 are free; reserve more: echo [0-9]+ > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
else
	skip mmaphuge-without-hugepages "2 MiB hugepages are in use here"
fi

# A build for another fio version refuses to run in this one.
fake=$TOP/build/fake
if make -s -C "$TOP" BUILD="$fake" FIO_SRC="$TOP/build/fio-src" \
	UFR_FAKE_FIO_VERSION=fio-9.99 ENGINE="$fake/uring_folioreg.so" \
	"$fake/uring_folioreg.so" >"$SCRATCH/fake-build.out" 2>&1; then
	out=$SCRATCH/version.out
	ENGINE=$fake/uring_folioreg.so ufio "$out" "${base[@]}"
	expect_error fio-version-mismatch "$out" $? \
		"^uring_folioreg: engine $(cat "$TOP/VERSION") built for fio-9.99 but loaded by $(fio --version);.*make clean && make"
else
	fail fio-version-mismatch "could not build the fake-version engine"
fi
rm -f "$f"

# hipri on a target without polled I/O says so once: at open when sysfs
# says the disk has no poll queues, else at the first I/O.
out=$SCRATCH/hipri.out
ufio "$out" --name=hipri --filename="$f" --size=16m --rw=randread --bs=4k \
	--direct=1 --hipri=1
expect_error hipri-unsupported "$out" $? \
	'^uring_folioreg: hipri: filename=.* (does not support polled I/O|is on a block device without poll queues).*drop hipri'
rm -f "$f"
