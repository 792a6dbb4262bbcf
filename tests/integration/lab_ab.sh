#!/bin/bash
# The kernel lab's A/B (make lab-ab), the quick parts only: no kernel is
# built or booted here (that takes an hour on two cores; docs/ab.md).
#   - the kit's abstats (examples/comparekit) on synthetic figures: two
#     samples of one distribution say "same", a 20 % shift says "lower" /
#     "higher", a constant says "same" with a ratio of 1, and the interval
#     is the same on every run (fixed seed);
#   - scripts/lab/ab.py table on made-up boot results: one row a metric,
#     its verdict the last word;
#   - scripts/lab/kernel-build.sh --check-only on a small fake kernel tree:
#     a patch that applies is taken out again afterwards, one that does not
#     gets one "lab:" line naming the patch, the file and the hunk.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

LAB=$TOP/scripts/lab
T=$SCRATCH/lab_ab
rm -rf "$T"
mkdir -p "$T"

if ! command -v python3 >/dev/null; then
	skip lab_ab "no python3"
	exit 0
fi

# ---- statistics ---------------------------------------------------------
out=$(cd "$LAB" && python3 - <<'EOF' 2>&1
import random
from comparekit import abstats
rng = random.Random(1)
a = [3000 + rng.gauss(0, 60) for _ in range(7)]
a2 = [3000 + rng.gauss(0, 60) for _ in range(7)]
b = [x * 0.8 for x in [3000 + rng.gauss(0, 60) for _ in range(7)]]
r_same = abstats.ratio(a, a2)
r_lower = abstats.ratio(a, b)
r_higher = abstats.ratio(b, a)
r_const = abstats.ratio([1, 1, 1, 1, 1], [1, 1, 1, 1, 1])
r_again = abstats.ratio(a, b)
r_none = abstats.ratio([None, None], [1, 2])
print("same", r_same.verdict, "%.3f" % r_same.ratio)
print("lower", r_lower.verdict, "%.3f" % r_lower.ratio)
print("higher", r_higher.verdict)
print("const", r_const.verdict, r_const.ratio, r_const.lo, r_const.hi)
print("repeat", r_again == r_lower)
print("none", r_none.verdict)
EOF
)
expect() {
	if grep -qx "$2" <<<"$out"; then
		pass "lab_ab: $1"
	else
		fail "lab_ab: $1" "expected '$2' in: $(tr '\n' ';' <<<"$out")"
	fi
}
expect "stats: one distribution twice is same" "same same .*"
expect "stats: B 20 % below A is lower" "lower lower 0.[78].*"
expect "stats: B 25 % above A is higher" "higher higher"
expect "stats: a constant is same, ratio 1" "const same 1.0 1.0 1.0"
expect "stats: the interval is the same on every run (fixed seed)" "repeat True"
expect "stats: a metric not reported is n/a" "none n/a"

# ---- the table from boot results ---------------------------------------
mkboot() { # DIR SIDE P50 BW
	local d=$T/ab/boots/$1/src-x
	mkdir -p "$d/json"
	echo '[{"matrix": "rfc", "case": "hugetlb_fast", "json": "rfc-hugetlb_fast.json", "env": {}}]' >"$d/runs.json"
	echo '[{"case": "hugetlb_fast", "pins": 128}]' >"$d/cases.json"
	cat >"$d/json/rfc-hugetlb_fast.json" <<EOF
{"jobs": [{"jobname": "hugetlb_fast", "write": {"bw": $4, "io_bytes": 1},
 "uring_folioreg": {"reg": {"total_ns": $(($3 * 128)), "unreg_ns": 5000,
  "per_buffer_ns": {"mean": $3, "p50": $3, "p99": $(($3 * 2))}},
  "segments": {"bvecs": 128, "bvecs_observed": 128}}}]}
EOF
}
boots=""
for i in 1 2 3 4 5; do
	mkboot "0$i-A" A $((3000 + i * 10)) 102400
	mkboot "0$i-B" B $((2400 + i * 10)) $((102400 + i))
	boots="$boots{\"dir\": \"0$i-A\", \"side\": \"A\", \"ok\": true}, {\"dir\": \"0$i-B\", \"side\": \"B\", \"ok\": true},"
done
cat >"$T/ab/ab.json" <<EOF
{"a": {"spec": "src:x", "kernel": "k-a"}, "b": {"spec": "src:x +p.patch", "kernel": "k-b"},
 "matrix": "rfc", "clock": "TCG", "boots": [${boots%,}]}
EOF
tab=$(python3 "$LAB/ab.py" table "$T/ab" 2>&1)
row() { grep -E "^hugetlb_fast: $1" <<<"$tab" | awk '{ print $NF }'; }
if [ "$(row 'per-buffer reg p50')" = lower ] && [ "$(row 'unreg')" = same ] &&
	[ "$(row 'bvecs +[0-9]')" = same ] && grep -q 'pins: .* in 10 of 10 cases' <<<"$tab"; then
	pass "lab_ab: ab.py table: p50 lower, unreg and bvecs same, pins checked"
else
	fail "lab_ab: ab.py table" "$(tr '\n' ';' <<<"$tab")"
fi

# ---- patches on a fake tree ---------------------------------------------
tree=$T/linux-fake
mkdir -p "$tree/io_uring" "$tree/arch/x86"
printf 'all:\n' >"$tree/Makefile"
: >"$tree/arch/x86/Makefile"
printf 'int a;\nint b;\nint c;\n\nint d;\nint e;\nint f;\n' >"$tree/io_uring/rsrc.c"
cp "$tree/io_uring/rsrc.c" "$T/orig.c"
cat >"$T/good.patch" <<'EOF'
--- a/io_uring/rsrc.c
+++ b/io_uring/rsrc.c
@@ -1,3 +1,3 @@
 int a;
-int b;
+int bb;
 int c;
EOF
# The good hunk, then one that does not apply.
cp "$T/good.patch" "$T/bad.patch"
cat >>"$T/bad.patch" <<'EOF'
@@ -5,3 +5,3 @@
 int d;
-int x;
+int y;
 int f;
EOF
err=$("$LAB/kernel-build.sh" --check-only --patch "$T/good.patch" "src:$tree" "$T/cache" 2>&1 >/dev/null)
rc=$?
copy=
for d in "$T"/cache/ktree/src-linux-fake-*; do
	[ -d "$d" ] && copy=$d
done
if [ $rc = 0 ] && [ -n "$copy" ] && cmp -s "$copy/io_uring/rsrc.c" "$T/orig.c" &&
	cmp -s "$tree/io_uring/rsrc.c" "$T/orig.c"; then
	pass "lab_ab: a patch that applies is checked, then taken out; the original tree untouched"
else
	fail "lab_ab: good patch" "rc=$rc copy=$copy: $err"
fi
err=$("$LAB/kernel-build.sh" --check-only --patch "$T/bad.patch" "src:$tree" "$T/cache" 2>&1 >/dev/null)
rc=$?
lines=$(grep -c . <<<"$err")
if [ $rc != 0 ] && [ "$lines" = 1 ] &&
	grep -qE "^lab: patch .*bad\.patch does not apply .*io_uring/rsrc\.c, hunk 2 \(@@ -5 @@\); log: " <<<"$err" &&
	cmp -s "$copy/io_uring/rsrc.c" "$T/orig.c"; then
	pass "lab_ab: a patch that does not apply: one line naming the patch, the file and the hunk"
else
	fail "lab_ab: bad patch" "rc=$rc, $lines line(s): $err"
fi
err=$("$LAB/kernel-build.sh" --check-only "src:$T/nowhere" "$T/cache" 2>&1 >/dev/null)
if [ $? != 0 ] && grep -qx "lab: .*nowhere: no such directory" <<<"$err"; then
	pass "lab_ab: a source tree that is not there: one line"
else
	fail "lab_ab: missing tree" "$err"
fi
