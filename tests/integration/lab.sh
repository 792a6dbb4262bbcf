#!/bin/bash
# The kernel lab (scripts/lab/lab.py): bad input gets one "lab:" line and
# leaves nothing behind; then the truth matrix (scripts/lab/truth.fio) on
# Debian 12's kernel and on the newest sid kernel, each booted under QEMU:
# for every strategy and folio size, the engine's bvecs, its
# bvecs_observed and the pins the guest kernel held while the buffers were
# registered must be one number; every verified job must pass; the result
# directories must read with compare.py table and diff and carry their
# provenance. Skipped, with the reason, when QEMU cannot be had or start,
# or no kernel can be fetched.
#
# LAB_TEST_KERNELS (default "bookworm sid"), LAB_TEST_QUICK=1: the bad
# input part only.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

LAB=$TOP/scripts/lab/lab.py
CACHE=$TOP/build/lab
OUT=$SCRATCH/lab
KERNELS=${LAB_TEST_KERNELS:-bookworm sid}
# The truth matrix's cases run here: every strategy on every backing, a
# multi-size THP size per strategy (unavailable before 6.8), THP on anon and memfd
# (its switch set in the guest), 2 MiB and 1 GiB hugetlb, and a verified
# job per strategy; LAB_TEST_TRUTH=all: all of them (make lab
# MATRIX=truth runs them all).
TRUTH_CASES='per_page|per_page-memfd|coalesced-(64k|thp|memfd-thp|1g|hugetlbfs-2m)|hugetlb_fast-(2m|memfd-1g|hugetlbfs-1g)|per_folio-(16k|memfd-2m|hugetlbfs-1g)|iomem-mmaphuge|none|verify-(per_page-memfd|coalesced-hugetlbfs-2m|hugetlb_fast-memfd-2m|per_folio-thp|iomem|none)'
[ "${LAB_TEST_TRUTH:-}" = all ] && TRUTH_CASES='.*'
rm -rf "$OUT"
mkdir -p "$OUT"

# Nothing of a lab run may be left: no QEMU of ours, no temporary dir, no
# partial result.
left_behind() {
	local what=""
	pgrep -f "qemu-system-x86_64.*$CACHE/lab\." >/dev/null && what="a QEMU process"
	compgen -G "$CACHE/lab.*" >/dev/null && what="$what $(echo "$CACHE"/lab.*)"
	compgen -G "$OUT/*/*.partial" >/dev/null && what="$what $(echo "$OUT"/*/*.partial)"
	compgen -G "$OUT/*.partial" >/dev/null && what="$what $(echo "$OUT"/*.partial)"
	echo "$what"
}

# bad NAME PATTERN LAB-ARGS...: the lab fails with one "lab:" error line
# matching PATTERN as its last line, and leaves nothing behind.
bad() {
	local name=$1 pat=$2 log=$OUT/$1.log rc
	shift 2
	timeout -k 5 300 "$LAB" --out "$OUT/$name" "$@" >"$log" 2>&1
	rc=$?
	local last
	last=$(tail -1 "$log")
	if [[ $last == *"cannot read Debian's index"* ]]; then
		skip "$name" "Debian's archive cannot be read: ${last#lab: }"
	elif [ "$rc" = 0 ]; then
		fail "$name" "the lab exited 0"
	elif [ "$rc" -ge 124 ]; then
		fail "$name" "the lab exited $rc (timeout or signal): $last"
	elif ! grep -qE "^lab: .*($pat)" <<<"$last"; then
		fail "$name" "last line is not a lab: line matching '$pat': $(tail -3 "$log" | tr '\n' ' ')"
	elif [ "$(grep -cE "$pat" "$log")" != 1 ]; then
		fail "$name" "more than one line matches '$pat'"
	elif [ -n "$(left_behind)" ]; then
		fail "$name" "left behind:$(left_behind)"
	else
		pass "$name: $last"
		return 0
	fi
	return 1
}

if ! "$LAB" --help >/dev/null 2>&1; then
	fail lab "scripts/lab/lab.py --help fails"
	exit 0
fi

# QEMU: the lab's packages (scripts/deps.sh lab, as make lab runs it);
# that it can start is seen on the first boot below.
if ! "$TOP/scripts/deps.sh" lab >"$OUT/deps-lab.log" 2>&1; then
	skip lab "the lab's packages are not installable here: $(grep -m1 -E '^E:|uring_folioreg:' "$OUT/deps-lab.log")"
	exit 0
fi

# ---- bad input ---------------------------------------------------------

bad lab-unknown-suite "unknown Debian suite 'nosuchsuite'" nosuchsuite
[ -d "$CACHE/apt/nosuchsuite" ] && fail lab-unknown-suite-apt "left $CACHE/apt/nosuchsuite"
bad lab-unknown-version "no cloud-amd64 kernel package with version or name '99.99.1-1'" 99.99.1-1

# A guest switch that is no PATH=VALUE: refused before anything is fetched.
mkdir -p "$OUT/badthp"
# shellcheck disable=SC2016
printf '[global]\nioengine=external:${UFR_ENGINE}\nfilename=/dev/null\n\n[one]\n; lab-thp: hugepages-64kB/enabled\nreg_strategy=per_page\n' >"$OUT/badthp/bad.fio"
bad lab-thp-malformed "one: '; lab-thp: hugepages-64kB/enabled': give PATH=VALUE words" \
	--matrix "$OUT/badthp/bad.fio" bookworm

# QEMU that cannot be had (here: a path apt cannot put it at).
bad lab-qemu-missing "QEMU is not installable here" \
	--qemu /nonexistent/qemu-system-x86_64 bookworm

# A kernel package without io_uring: refused from its /boot/config-*.
fake=$OUT/fake-deb
mkdir -p "$fake/pkg/DEBIAN" "$fake/pkg/boot"
printf 'Package: linux-image-0.0.0-fake\nVersion: 0.0.0-1\nArchitecture: amd64\nMaintainer: lab test <root@localhost>\nDescription: not a kernel\n' >"$fake/pkg/DEBIAN/control"
head -c 4096 /dev/zero >"$fake/pkg/boot/vmlinuz-0.0.0-fake"
printf 'CONFIG_HUGETLBFS=y\n# CONFIG_IO_URING is not set\nCONFIG_BLK_DEV_INITRD=y\n' >"$fake/pkg/boot/config-0.0.0-fake"
dpkg-deb -b "$fake/pkg" "$fake/linux-image-0.0.0-fake.deb" >/dev/null 2>&1
bad lab-no-io_uring "CONFIG_IO_URING is not set" "$fake/linux-image-0.0.0-fake.deb"
rm -rf "$CACHE"/kernels/linux-image-0.0.0-fake* "$fake"

# A bzImage that is garbage: QEMU will not load it, and the lab says so.
mkdir -p "$OUT/garbage"
head -c 3000000 /dev/urandom >"$OUT/garbage/bzImage"
bad lab-garbage-bzimage "exited before the guest's init" \
	--kvm-timeout 10 --boot-timeout 20 "$OUT/garbage/bzImage"
# A real kernel's header on a garbage body: QEMU loads it, it never
# reaches /init: a timeout.
kdir=$("$TOP/scripts/lab/kernel.sh" bookworm "$CACHE" 2>"$OUT/fetch.log")
if [ -n "$kdir" ]; then
	{
		head -c 65536 "$kdir/vmlinuz"
		head -c 3000000 /dev/urandom
	} >"$OUT/garbage/bzImage"
	bad lab-broken-bzimage "did not boot within 20 s|exited before the guest's init" \
		--kvm-timeout 10 --boot-timeout 20 "$OUT/garbage/bzImage"
else
	skip lab-broken-bzimage "no kernel to take a header from: $(tail -1 "$OUT/fetch.log")"
fi
rm -rf "$OUT/garbage" "$CACHE"/kernels/bzimage-*

[ "${LAB_TEST_QUICK:-0}" = 1 ] && exit 0

# ---- the truth matrix ----------------------------------------------------

# Each kernel fetched first: one that cannot be is skipped, with why.
have=()
for k in $KERNELS; do
	if "$TOP/scripts/lab/kernel.sh" "$k" "$CACHE" >/dev/null 2>"$OUT/fetch-$k.log"; then
		have+=("$k")
	else
		skip "lab-$k" "no kernel: $(tail -1 "$OUT/fetch-$k.log" | sed 's/^lab: //')"
	fi
done
[ ${#have[@]} = 0 ] && exit 0
KERNELS=${have[*]}

log=$OUT/truth.log
start=$SECONDS
# The lab's own progress goes to the log; the test's lines come after.
# shellcheck disable=SC2086
timeout -k 10 2400 "$LAB" --matrix truth --cases "$TRUTH_CASES" \
	--out "$OUT/truth" $KERNELS -- --runtime 3 >"$log" 2>&1
rc=$?
echo "lab: truth matrix on $KERNELS: exit $rc in $((SECONDS - start)) s"
grep -E 'booted under|KVM cannot|cases ok' "$log"
[ -n "$(left_behind)" ] && fail lab-truth-cleanup "left behind:$(left_behind)"

dirs=()
for k in $KERNELS; do
	d=$OUT/truth/$k
	if [ ! -f "$d/cases.json" ]; then
		why=$(grep -E "^lab: $k: " "$log" | tail -1)
		case $why in
		*"cannot read Debian's index"* | *"could not download"*)
			skip "lab-$k" "no kernel: ${why#lab: }" ;;
		*"QEMU"*"exited before"* | *"not installable"*)
			skip "lab-$k" "QEMU cannot start: ${why#lab: }" ;;
		*) fail "lab-$k" "no results: ${why:-$(tail -1 "$log")}" ;;
		esac
		continue
	fi
	dirs+=("$d")
	rel=$(jq -r .kernel.release "$d/provenance.json")
	accel=$(jq -r .accel "$d/provenance.json")
	# One line per case, with the three numbers: each there (a missing one
	# is "-"), a count of at least one, and all three the same.
	jq -e 'length > 0' "$d/cases.json" >/dev/null 2>&1 ||
		fail "lab-$k" "no cases in $d/cases.json"
	# Multi-size THP came with 6.8: before, its cases must be unavailable
	# for that reason; from 6.8 on, they must run.
	mthp=no
	[ "$(printf '%s\n' 6.8 "$rel" | sort -V | head -1)" = 6.8 ] && mthp=yes
	while IFS=$'\t' read -r case status bvecs obs pins pages taken why; do
		name="lab-$k: $case ($rel, $accel)"
		if [[ $case =~ ^(coalesced|per_folio)-([0-9]+k|1m)$ ]] && [ $mthp = no ]; then
			if [ "$status" = unavailable ] && [[ $why == *"multi-size THP"* ]]; then
				pass "$name: unavailable: $why"
			else
				fail "$name" "a $rel kernel has no multi-size THP, yet the case is $status: $why"
			fi
		elif [ "$status" != ok ]; then
			fail "$name" "$status: $why"
		elif [[ $case == verify-* ]]; then
			pass "$name: verify=crc32c"
		elif [ "$case" = none ]; then
			# Nothing registered: nothing to observe, nothing pinned.
			if [ "$bvecs" = 0 ] && [ "$pins" = 0 ] && [[ $obs == 0 || $obs == - ]]; then
				pass "$name: bvecs=0 guest_pins=0"
			else
				fail "$name" "registers nothing, yet bvecs=$bvecs bvecs_observed=$obs guest_pins=$pins"
			fi
		elif [[ $bvecs =~ ^[1-9][0-9]*$ ]] && [ "$bvecs" = "$obs" ] &&
			[ "$obs" = "$pins" ] && [ "$taken" = "$pages" ]; then
			# A released kernel pins every 4 KiB page, then keeps one
			# pin per bio_vec.
			pass "$name: bvecs=$bvecs bvecs_observed=$obs guest_pins=$pins pins_acquired=$taken"
		else
			fail "$name" "bvecs=$bvecs bvecs_observed=$obs guest_pins=$pins pins_acquired=$taken pages=$pages"
		fi
	done < <(jq -r '.[] | [.case, .status, (.bvecs // "-"),
		(.bvecs_observed // "-"), (.pins // "-"), (.pages // "-"),
		(.reg_pins_acquired // "-"), (.why // "")] | @tsv' \
		"$d/cases.json")
	# The guest's THP switches: each case's set as asked and put back to
	# what it was (the next case finds the boot's defaults), recorded in
	# the provenance.
	sw=$(jq -r '[.[] | select(.thp_switches) | .case as $c | .thp_switches as $s
		| ($s | map(capture("^(?<p>[^ =]+)=(?<v>[^ ]+) \\(was (?<w>[^,]+), reads (?<r>[^)]+)\\)$")))
		as $set | ($s | map(capture("^(?<p>[^ ]+) put back to (?<w>[^,]+), reads (?<r>.+)$")))
		as $back | if ($set | length) == 0 or ($set | length) != ($back | length)
		or any($set[]; .v != .r) or any($back[]; .w != .r)
		then "\($c): \($s | join("; "))" else empty end] | join(" | ")' \
		"$d/cases.json" 2>&1)
	nsw=$(jq '[.[] | select(.thp_switches)] | length' "$d/cases.json")
	nprov=$(jq '.thp_switches | length' "$d/provenance.json")
	# truth.fio's cases with `; lab-thp:` lines: mTHP and memfd THP.
	unset=$(jq -r '[.[] | select(.status == "ok" and (.thp_switches | not)
		and (.case | test("^(coalesced|per_folio)-([0-9]+k|1m|memfd-thp)$"))) | .case]
		| join(" ")' "$d/cases.json")
	if [ -n "$sw" ]; then
		fail "lab-$k: thp switches" "$sw"
	elif [ -n "$unset" ]; then
		fail "lab-$k: thp switches" "ran without the switches their job file asks for: $unset"
	elif [ "$nprov" != "$nsw" ]; then
		fail "lab-$k: thp switches" "provenance.json records $nprov cases' switches, cases.json $nsw"
	else
		pass "lab-$k: thp switches set and put back in $nsw cases, recorded in the provenance"
	fi
	# Provenance: kernel release, config, accel, CPU, fio, engine.
	miss=$(jq -r '[["kernel.release", .kernel.release], ["accel", .accel],
		["cpu_model", .cpu_model], ["fio", .fio],
		["engine.version", .engine.version],
		["CONFIG_IO_URING", (.kernel.config | objects | .CONFIG_IO_URING)]]
		| map(select(.[1] == null or .[1] == "")) | map(.[0]) | join(" ")' \
		"$d/provenance.json" 2>&1)
	[ -z "$miss" ] && pass "lab-$k: provenance" ||
		fail "lab-$k: provenance" "missing: $miss"
	if python3 "$TOP/examples/compare.py" table "$d" >"$OUT/table-$k.md" 2>&1 &&
		grep -q '^| per_page |' "$OUT/table-$k.md"; then
		pass "lab-$k: compare.py table"
	else
		fail "lab-$k: compare.py table" "$(tail -2 "$OUT/table-$k.md" | tr '\n' ' ')"
	fi
done
if [ ${#dirs[@]} -ge 2 ]; then
	if python3 "$TOP/examples/compare.py" diff "${dirs[0]}" "${dirs[1]}" \
		>"$OUT/diff.md" 2>&1 && grep -q 'truth-per_page | bvecs' "$OUT/diff.md"; then
		pass "lab: compare.py diff ${dirs[0]##*/} ${dirs[1]##*/}"
	else
		fail "lab: compare.py diff" "$(tail -2 "$OUT/diff.md" | tr '\n' ' ')"
	fi
fi

# ---- a local bzImage -------------------------------------------------------

# The first kernel's image given as a bzImage path, with a job file of one
# section as the matrix.
# lab_global RUNTIME: the [global] section of the small job files below
# (the guest fills in UFR_ENGINE).
lab_global() {
	# shellcheck disable=SC2016
	printf '[global]\nioengine=external:${UFR_ENGINE}\nfilename=/dev/null\nrw=write\nbs=64k\niodepth=16\nsize=64m\ntime_based\nruntime=%s\n\n' "$1"
}
k=${KERNELS%% *}
kimg=$(jq -r .kernel.sha256 "$OUT/truth/$k/provenance.json" 2>/dev/null)
kdir=$(grep -l "^sha256=$kimg" "$CACHE"/kernels/*/info 2>/dev/null | head -1)
if [ -n "$kdir" ]; then
	mkdir -p "$OUT/bz"
	cp "${kdir%/info}/vmlinuz" "$OUT/bz/bzImage"
	{
		lab_global 2
		printf '[hugetlb_fast-2m]\nreg_strategy=hugetlb_fast\nreg_folio=2m\n'
	} >"$OUT/bz/one.fio"
	"$LAB" --matrix "$OUT/bz/one.fio" --out "$OUT/bz/res" "$OUT/bz/bzImage" \
		>"$OUT/bz.log" 2>&1
	d=$OUT/bz/res/bzImage
	# The kernel's own counts must agree; the engine's prediction is the
	# truth matrix's business.
	got=$(jq -r '.[0] | "\(.status) \(.bvecs_observed) \(.pins)"' \
		"$d/cases.json" 2>/dev/null)
	if [[ $got =~ ^ok\ ([0-9]+)\ ([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
		[ "$(jq -r .kernel.kind "$d/provenance.json")" = bzimage ]; then
		pass "lab-bzimage: a local bzImage boots and runs a job file (bvecs_observed = guest pins = ${BASH_REMATCH[1]})"
	else
		fail lab-bzimage "got '$got': $(tail -2 "$OUT/bz.log" | tr '\n' ' ')"
	fi
	rm -f "$OUT/bz/bzImage"
	rm -rf "$CACHE"/kernels/bzimage-*
fi

# ---- guests lacking a host feature -----------------------------------------

# --profile no1g (a CPU without pdpe1gb) and nothp (transparent_hugepage=
# never) on the first kernel (bookworm's 6.1 has no mTHP either): each
# case runs with bvecs = bvecs_observed = the guest's pins, or is refused
# as unavailable: by the lab, which finds the kernel lacks what the case
# needs and runs nothing (no1g: the 1 GiB hugetlb size), or by the engine
# with one uring_folioreg: line, holding no pin (nothp: THP's switch is
# there, set to never); the cases that need the missing feature must be
# the refused ones (the guest really lacks it), nothing else.
if [ -f "$OUT/truth/$k/cases.json" ]; then
	mkdir -p "$OUT/prof"
	{
		# shellcheck disable=SC2016
		printf '[global]\nioengine=external:${UFR_ENGINE}\nfilename=/dev/null\nrw=write\nbs=1m\niodepth=4\nsize=64m\ntime_based\nruntime=1\n\n'
		for c in per_page coalesced-thp coalesced-2m coalesced-1g hugetlb_fast-2m hugetlb_fast-1g per_folio-thp per_folio-1g; do
			printf '[%s]\nreg_strategy=%s\n' "$c" "${c%%-*}"
			[ "$c" = "${c#*-}" ] || printf 'reg_folio=%s\n' "${c#*-}"
		done
	} >"$OUT/prof/lacking.fio"
	# profile | the cases it takes away | what their one line says | what
	# the guest's provenance must show (jq)
	while IFS='|' read -r prof gone line guest; do
		d=$OUT/prof/$prof/$k
		"$LAB" --profile "$prof" --matrix "$OUT/prof/lacking.fio" \
			--out "$OUT/prof/$prof" "$k" >"$OUT/prof-$prof.log" 2>&1
		if [ ! -f "$d/cases.json" ]; then
			fail "lab-$prof" "no results: $(tail -2 "$OUT/prof-$prof.log" | tr '\n' ' ')"
			continue
		fi
		seen=$(jq -r "$guest" "$d/provenance.json")
		if [ "$seen" != true ]; then
			fail "lab-$prof: the guest" "does not lack the feature ($guest is $seen): $(jq -c '{thp, hugepages, guest_cmdline}' "$d/provenance.json")"
			continue
		fi
		while IFS=$'\t' read -r case status bvecs obs pins after why; do
			name="lab-$prof: $case"
			clog=$d/logs/lacking-$case.log
			errs=$(grep -c '^uring_folioreg:' "$clog" 2>/dev/null)
			if [[ " $gone " == *" $case "* ]]; then
				if [ "$status" = unavailable ]; then
					if [[ $why =~ $line ]] && [ ! -f "$clog" ]; then
						pass "$name: unavailable, not run: $why"
					else
						fail "$name" "unavailable, but why is '$why'$([ -f "$clog" ] && echo ", and it ran")"
					fi
				elif [ "$status" = ok ]; then
					fail "$name" "ran, in a guest without what it needs"
				elif [ "$errs" != 1 ] || [ "$pins" != 0 ] || [ "$after" != 0 ]; then
					fail "$name" "refused with ${errs:-no} uring_folioreg: line(s), pins $pins, pins after $after: $(head -3 "$clog" 2>/dev/null | tr '\n' ' ')"
				elif ! grep -qE "^uring_folioreg: .*$line" "$clog"; then
					fail "$name" "refused, but not as unavailable: $(grep '^uring_folioreg:' "$clog")"
				else
					pass "$name: not available here: $(grep '^uring_folioreg:' "$clog" | cut -c1-120)"
				fi
			elif [ "$status" != ok ]; then
				fail "$name" "failed in a guest that has what it needs: $(grep -m1 '^uring_folioreg:' "$clog" 2>/dev/null)"
			elif [[ $bvecs =~ ^[0-9]+$ ]] && [ "$bvecs" = "$obs" ] && [ "$obs" = "$pins" ]; then
				pass "$name: bvecs=$bvecs bvecs_observed=$obs guest_pins=$pins"
			else
				fail "$name" "bvecs=$bvecs bvecs_observed=$obs guest_pins=$pins"
			fi
		done < <(jq -r '.[] | [.case, .status, (.bvecs // "null"),
			(.bvecs_observed // "null"), (.pins // "null"),
			(.pins_after // "null"), (.why // "")] | @tsv' "$d/cases.json")
	done <<'EOF'
no1g|coalesced-1g hugetlb_fast-1g per_folio-1g|this kernel has no 1[ 0-9]*[GK]iB hugetlb pages|(.hugepages | has("1048576kB") | not) and .guest_profile.cpu_flags == ["-pdpe1gb"]
nothp|coalesced-thp per_folio-thp|transparent hugepages are off|(.thp | test("\\[never\\]")) and (.guest_cmdline | test("transparent_hugepage=never"))
EOF
fi

# ---- a kernel that dies mid-matrix -----------------------------------------

# The middle case crashes the guest (sysrq): it is recorded as failed with
# the panic, the guest boots again and the last case runs.
if [ -f "$OUT/truth/$k/cases.json" ]; then
	mkdir -p "$OUT/crash"
	{
		lab_global 1
		cat <<'EOF'
[before]
reg_strategy=per_page

[crash]
reg_strategy=per_page
exec_prerun=sh -c 'echo c >/proc/sysrq-trigger'

[after]
reg_strategy=per_page
EOF
	} >"$OUT/crash/crash.fio"
	"$LAB" --matrix "$OUT/crash/crash.fio" --out "$OUT/crash/res" "$k" \
		>"$OUT/crash.log" 2>&1
	got=$(jq -r 'map("\(.case)=\(.status)") | join(" ")' \
		"$OUT/crash/res/$k/cases.json" 2>/dev/null)
	why=$(jq -r '.[1].why' "$OUT/crash/res/$k/cases.json" 2>/dev/null)
	if [ "$got" = "before=ok crash=failed after=ok" ] && [[ $why == *panic* ]] &&
		[ -f "$OUT/crash/res/$k/json/crash-after.json" ] && [ -z "$(left_behind)" ]; then
		pass "lab-crash: a case that kills the guest is recorded ($why), the rest runs on a new boot"
	else
		fail lab-crash "cases: '$got' ($why): $(tail -2 "$OUT/crash.log" | tr '\n' ' ')"
	fi
fi

# ---- Ctrl-C --------------------------------------------------------------

# Interrupted mid-case: QEMU and every temporary file go, exit 130.
k=${KERNELS%% *}
if [ -f "$OUT/truth/$k/cases.json" ]; then
	ilog=$OUT/interrupt.log
	"$LAB" --matrix truth --out "$OUT/interrupt" "$k" -- --runtime 3 >"$ilog" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q '\[1/' "$ilog" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	if [ "$rc" != 130 ]; then
		fail lab-interrupt "exit $rc after SIGINT: $(tail -1 "$ilog")"
	elif [ -n "$(left_behind)" ] || [ -d "$OUT/interrupt/$k" ]; then
		fail lab-interrupt "left behind:$(left_behind) $(ls "$OUT/interrupt" 2>/dev/null)"
	else
		pass "lab-interrupt: $(tail -1 "$ilog")"
	fi
fi
