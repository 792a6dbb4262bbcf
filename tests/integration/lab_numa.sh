#!/bin/bash
# The lab's NUMA guest (scripts/lab/lab.py --numa, scripts/lab/numa.py):
# a layout the lab cannot make gets one "lab:" line; then the NUMA matrix
# (scripts/lab/numa.fio) on a Debian kernel (CONFIG_NUMA) booted with two
# nodes holding memory (100 and 40 pages of 2 MiB) and a third with a CPU
# and no memory: every backing with reg_numa_node=0 and =1 must have all
# its pages on that node by the engine's numa.pages_by_node and by the
# guest's per-node counters (2 MiB hugetlb pages taken, AnonPages+Shmem
# grown), nothing left taken after; node 2 (memoryless), node 7 (none) and
# node 1 short of 2 MiB pages must each be refused with one
# uring_folioreg: line naming the node, holding no pin and no page.
# Skipped, with the reason, when QEMU cannot be had or start, or no kernel
# can be fetched. About 3 minutes per kernel under TCG on an idle host
# (bookworm 6 and sid 7 here beside other guests).
#
# LAB_NUMA_TEST_KERNELS (default "sid").
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

LAB=$TOP/scripts/lab/lab.py
CACHE=$TOP/build/lab
OUT=$SCRATCH/lab_numa
KERNELS=${LAB_NUMA_TEST_KERNELS:-sid}
LAYOUT=1536M/100,1536M/40,0
rm -rf "$OUT"
mkdir -p "$OUT"

# Layouts the lab refuses before anything boots: one "lab:" line.
while IFS='|' read -r name pat args; do
	# shellcheck disable=SC2086
	"$LAB" $args --out "$OUT/bad" bookworm >"$OUT/$name.log" 2>&1
	rc=$?
	last=$(tail -1 "$OUT/$name.log")
	if [ "$rc" != 0 ] && [ "$(wc -l <"$OUT/$name.log")" = 1 ] &&
		[[ $last == "lab: "*$pat* ]] && [ ! -e "$OUT/bad" ]; then
		pass "lab-numa-$name: $last"
	else
		fail "lab-numa-$name" "exit $rc: $(tr '\n' ' ' <"$OUT/$name.log")"
	fi
done <<'EOF'
memoryless-no-cpu|3 nodes need a CPU each|--numa 1536M/100,1536M/40,0 --smp 2
no-memory|no node has memory|--numa 0,0
bad-node|neither MEM/HUGE2M|--numa 1536M
EOF

# The check itself on made-up samples (no guest): a right case passes,
# each way of being wrong is said.
PYTHONPATH=$TOP/scripts/lab:$TOP/examples python3 -B - <<'EOF'
import numa

# Per node: free 2 MiB pages, MemUsed, AnonPages, Shmem (KiB).
base = {0: (100, 0, 1000, 0), 1: (40, 0, 1000, 0)}


def view(run, after=None):
    return numa.guest_view([("base", base), ("run", run),
                            ("after", after or base)])


huge = "reg_strategy=hugetlb_fast\nreg_folio=2m\nreg_numa_node=1\n"
anon = "reg_strategy=per_page\nreg_numa_node=0\n"
cases = [
    ("hugetlb-right", huge, 1, {1: 16384}, 16384,
     {0: (100, 0, 1000, 0), 1: (8, 0, 1000, 0)}, None, ""),
    ("hugetlb-other-node", huge, 1, {1: 16384}, 16384,
     {0: (68, 0, 1000, 0), 1: (40, 0, 1000, 0)}, None, "none wanted"),
    ("hugetlb-left-taken", huge, 1, {1: 16384}, 16384,
     {0: (100, 0, 1000, 0), 1: (8, 0, 1000, 0)},
     {0: (100, 0, 1000, 0), 1: (39, 0, 1000, 0)}, "still taken"),
    ("engine-wrong-node", huge, 1, {0: 16384}, 16384,
     {0: (68, 0, 1000, 0), 1: (40, 0, 1000, 0)}, None, "all on node 1"),
    ("engine-short-count", huge, 1, {1: 16000}, 16384,
     {0: (100, 0, 1000, 0), 1: (8, 0, 1000, 0)}, None, "add up to"),
    ("anon-right", anon, 0, {0: 16384}, 16384,
     {0: (100, 0, 67000, 0), 1: (40, 0, 9000, 0)}, None, ""),
    ("anon-other-node", anon, 0, {0: 16384}, 16384,
     {0: (100, 0, 9000, 0), 1: (40, 0, 67000, 0)}, None, "grew by"),
]
for name, job, req, pages, seg, run, after, want in cases:
    why = numa.check_placed({}, job, req, pages, view(run, after), seg)
    ok = why == "" if not want else want in why
    print("%s: lab-numa-check-%s%s" % (
        "PASS" if ok else "FAIL", name, ": " + (why or "ok") if ok else
        ": got '%s', want '%s'" % (why, want or "ok")))
EOF

if ! "$TOP/scripts/deps.sh" lab >"$OUT/deps-lab.log" 2>&1; then
	skip lab-numa "the lab's packages are not installable here: $(grep -m1 -E '^E:|uring_folioreg:' "$OUT/deps-lab.log")"
	exit 0
fi

sections=$(grep '^\[.*-node[0-9]\]$' "$TOP/scripts/lab/numa.fio" | grep -vc '^\[refused-')
for k in $KERNELS; do
	if ! "$TOP/scripts/lab/kernel.sh" "$k" "$CACHE" >/dev/null 2>"$OUT/fetch-$k.log"; then
		skip "lab-numa-$k" "no kernel: $(tail -1 "$OUT/fetch-$k.log" | sed 's/^lab: //')"
		continue
	fi
	log=$OUT/$k.log
	start=$SECONDS
	timeout -k 10 1200 "$LAB" --numa "$LAYOUT" --smp 3 \
		--matrix "$TOP/scripts/lab/numa.fio" --out "$OUT/res" "$k" \
		>"$log" 2>&1
	echo "lab: numa matrix on $k: exit $? in $((SECONDS - start)) s"
	d=$OUT/res/$k
	if [ ! -f "$d/cases.json" ]; then
		why=$(grep -E "^lab: $k: " "$log" | tail -1)
		case $why in
		*"QEMU"*"exited before"* | *"not installable"*)
			skip "lab-numa-$k" "QEMU cannot start: ${why#lab: }" ;;
		*) fail "lab-numa-$k" "no results: ${why:-$(tail -1 "$log")}" ;;
		esac
		continue
	fi
	rel=$(jq -r .kernel.release "$d/provenance.json")
	check=$(jq -r .numa_check "$d/provenance.json")
	[ "$check" = ok ] && pass "lab-numa-$k: the guest's nodes are the layout's ($(jq -c .numa_nodes "$d/provenance.json"))" ||
		fail "lab-numa-$k: the guest's nodes" "$check"
	n=$(jq '[.[] | select(.numa.check == "ok" and .numa.pages_by_node != null)] | length' "$d/cases.json")
	[ "$n" = "$sections" ] || fail "lab-numa-$k" "$n of the $sections placed cases checked"
	while IFS=$'\t' read -r case status pages guest refusal why; do
		name="lab-numa-$k: $case ($rel)"
		if [ "$status" != ok ]; then
			fail "$name" "$why"
		elif [ -n "$refusal" ]; then
			pass "$name: $(grep -m1 '^uring_folioreg:' "$d/logs/numa-$case.log" | cut -c1-150)"
		else
			pass "$name: engine $pages, guest $guest"
		fi
	done < <(jq -r '.[] | [.case, .status, (.numa.pages_by_node | tostring),
		(.numa.guest // {} | to_entries | map("node \(.key): \(.value.huge2m_taken) x 2M, \(.value.anon_shmem_kb) KiB") | join("; ")),
		(.numa.expected_refusal // ""), (.why // "")] | @tsv' "$d/cases.json")
	"$TOP/scripts/lab/numa.py" table "$d" >"$OUT/table-$k.md" 2>&1 &&
		grep -q '^| numa-anon-4k-node1 | node 1: ' "$OUT/table-$k.md" &&
		pass "lab-numa-$k: numa.py table" ||
		fail "lab-numa-$k: numa.py table" "$(tail -2 "$OUT/table-$k.md" | tr '\n' ' ')"
done
