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
# expect NAME REGEX [TEXT]: a line of TEXT (default: $out) is REGEX.
expect() {
	local text=${3-$out}
	if grep -qxE "$2" <<<"$text"; then
		pass "lab_ab: $1"
	else
		fail "lab_ab: $1" "expected '$2' in: $(tr '\n' ';' <<<"$text")"
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

# ---- N-way: several variants -------------------------------------------
nway=$(cd "$LAB" && T="$T" python3 - <<'EOF' 2>&1
import json, os, random
import ab
T = os.environ["T"]
CASES = {"coalesced-anon-thp": 1.0, "per_folio-anon-thp": 0.5,
         "hugetlb_fast-anon-2m": 0.5, "none-ramdisk-write": 1.0}


def boot(out, name, scale, rng):
    d = os.path.join(out, "boots", name, "src-x")
    os.makedirs(os.path.join(d, "json"), exist_ok=True)
    runs, cases = [], []
    for case, gain in CASES.items():
        p50 = 8000 * (gain if scale else 1.0) * (1 + rng.gauss(0, 0.002))
        reg = 0 if case.startswith("none") else 1
        doc = {"jobs": [{"read": {"bw": 0, "total_ios": 0},
                         "write": {"bw": 102400, "total_ios": 1000},
                         "uring_folioreg": {"reg": {
                             "total_ns": p50 * 64 * reg, "unreg_ns": 5000,
                             "per_buffer_ns": {"mean": p50, "p50": p50,
                                               "p99": 2 * p50}},
                             "segments": {"bvecs": 64 * reg,
                                          "bvecs_observed": 64 * reg}}}]}
        with open(os.path.join(d, "json", case + ".json"), "w") as f:
            json.dump(doc, f)
        runs.append({"case": case, "json": case + ".json"})
        cases.append({"case": case, "pins": 64 * reg,
                      "pins_acquired": 256000 if not reg else 64})
    json.dump(runs, open(os.path.join(d, "runs.json"), "w"))
    json.dump(cases, open(os.path.join(d, "cases.json"), "w"))


def run(out, lower):
    # The noise of a boot is the round's, whatever the kernel (as under
    # -icount, where a kernel's figures repeat from boot to boot).
    vs = [{"name": n, "label": "src:x" + (" +%s.patch" % n if n != "A"
                                          else ""),
           "patches": [], "kernel": "k-" + n} for n in "ABC"]
    meta = {"base": "src:x", "variants": vs, "matrix": "spectrum",
            "clock": "TCG", "kit": [], "boots": []}
    for i in range(1, 4):
        for v in vs:
            name = "%02d-%s" % (i, v["name"])
            boot(out, name, v["name"] in lower, random.Random(i))
            meta["boots"].append({"dir": name, "side": v["name"],
                                  "ok": True})
    ab.save_meta(out, meta)
    with open(os.devnull, "w") as null:
        s, rows = ab.print_table(out, file=null)
    return s, rows, meta


s, rows, meta = run(os.path.join(T, "nway"), "C")
csv_path = ab.write_csv(os.path.join(T, "nway"), rows, meta)
for case, key, _, _, name, r in rows:
    print("row", case, key, name, r.verdict)
print("csv", sum(1 for _ in open(csv_path)) - 1, len(rows))
s3, rows3, _ = run(os.path.join(T, "aaa"), "")
print("aaa", len(rows3), sorted({r[-1].verdict for r in rows3}))
print("variants", ab.variant_patches(["-", "none"]))


# A variant that does not build, one that does not boot.
def fake_build(spec, patches, cache, who=""):
    if patches and patches[0].endswith("bad.patch"):
        raise ab.AbError("patch %s does not apply to x: f.c, hunk 1 "
                         "(@@ -1 @@); log: /x/patch.log" % patches[0])
    return os.path.join(T, "k"), 0.0


os.makedirs(os.path.join(T, "k"), exist_ok=True)
open(os.path.join(T, "k", "info"), "w").write("release=9.9\n")
ab.build = fake_build
open(os.path.join(T, "bad.patch"), "w").write("")
open(os.path.join(T, "good.patch"), "w").write("")
vs = ab.build_variants("src:x", ab.variant_patches(
    [os.path.join(T, "good.patch"), os.path.join(T, "bad.patch"), "-"]),
    "/nowhere")
print("built", [(v["name"], bool(v.get("failed"))) for v in vs])


class Opts:
    boots, resume, out, icount, append, smp, mem, matrix, cases = \
        2, False, os.path.join(T, "fails"), None, "", 1, None, "rfc", None


os.makedirs(os.path.join(Opts.out, "boots"), exist_ok=True)


def fake_boot(cmd, log):
    bdir = cmd[cmd.index("--out") + 1]
    open(log, "w").write("lab: 01 [1/1] x FAILED: panic\n")
    if bdir.endswith("-D"):
        return 1
    os.makedirs(os.path.join(bdir, "k"), exist_ok=True)
    open(os.path.join(bdir, "k", "runs.json"), "w").write("[]")
    return 0


ab.run_boot = fake_boot
meta = ab.ab_meta(Opts, [], "src:x", [dict(v, name=n) for v, n in
                                      zip(vs[:2] + vs[3:] * 2, "ABCD")])
ab.boot_all(Opts, [], "src:x", "/nowhere", meta)
print("boots", " ".join(b["dir"] + ("" if b["ok"] else "!")
                         for b in meta["boots"]))
EOF
)
expect "N-way: a row per case, metric and variant; C lower where its figures are" \
	"row per_folio-anon-thp per_buffer_p50_ns C lower" "$nway"
expect "N-way: B, the same figures as A, same" "row per_folio-anon-thp per_buffer_p50_ns B same" "$nway"
expect "N-way: C same where its figures are A's" "row coalesced-anon-thp per_buffer_p50_ns C same" "$nway"
expect "N-way: pins per I/O from the guest's counters" "row none-ramdisk-write pins_per_io C same" "$nway"
if grep -q "row none-ramdisk-write per_buffer_p50_ns" <<<"$nway"; then
	fail "lab_ab: N-way: no per-buffer row where nothing is registered" "$(grep none-ramdisk <<<"$nway" | tr '\n' ';')"
else
	pass "lab_ab: N-way: no per-buffer row where nothing is registered"
fi
expect "N-way: ab.csv, a line per row" "csv ([0-9]+) \1" "$nway"
expect "N-way: A/A/A of three identical variants: same on every row" "aaa [1-9][0-9]* \['same'\]" "$nway"
expect "N-way: - and none are the base" "variants \[\('A', \[\]\), \('B', \[\]\), \('C', \[\]\)\]" "$nway"
expect "N-way: a variant that does not build is marked, the others built" \
	"built \[\('A', False\), \('B', False\), \('C', True\), \('D', False\)\]" "$nway"
expect "N-way: a variant that does not boot is dropped, the others boot on" \
	"boots 01-A 01-B 01-C 01-D! 02-A 02-B 02-C" "$nway"
expect "N-way: one lab: line for the boot that fails: variant, boot, log" \
	"lab: variant D \(src:x \(no patch\)\): boot 01-D \(k\) failed: .*panic; log: .*/01-D\.log" "$nway"
tab=$(python3 "$LAB/ab.py" table "$T/nway" 2>&1)
if grep -qE "^per_folio-anon-thp: per-buffer reg p50 \(ns\) +C .* lower$" <<<"$tab" &&
	grep -q "^metric .* variant .* X/A" <<<"$tab"; then
	pass "lab_ab: N-way table: a variant column, the verdict last"
else
	fail "lab_ab: N-way table" "$(tr '\n' ';' <<<"$tab")"
fi
# 3 boots a side: the few-boots line; 5 (the table above): none. Both
# say how the interval is drawn.
if grep -q "^few boots: below 5 a side" <<<"$tab" &&
	! python3 "$LAB/ab.py" table "$T/ab" | grep -q "^few boots" &&
	grep -q "^X/A: the ratio of the medians; 95 % CI: Welch's t .* one family" <<<"$tab"; then
	pass "lab_ab: few boots said above the table at 3 boots a side, not at 5; the interval named"
else
	fail "lab_ab: few-boots line" "$(head -8 <<<"$tab" | tr '\n' ';')"
fi
if ! command -v gnuplot >/dev/null; then
	skip "lab_ab: N-way plots" "gnuplot is not installed"
else
	pl=$(python3 "$LAB/ab.py" plot "$T/nway" 2>&1)
	if [ -s "$T/nway/ab-reg-per_folio-anon.png" ] && [ -s "$T/nway/ab-reg-hugetlb_fast-anon-hugetlb.png" ]; then
		pass "lab_ab: N-way plots: a PNG per series of folio cases"
	else
		fail "lab_ab: N-way plots" "$(tr '\n' ';' <<<"$pl")"
	fi
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
# ab.py's build of a variant whose patch does not apply: the builder's
# one line names the variant and the step (LAB_WHO), said once.
err=$(cd "$LAB" && python3 -c '
import sys, ab
try:
    ab.build("src:" + sys.argv[1], [sys.argv[2]], sys.argv[3],
             "variant C (src:x +bad.patch): build")
except ab.AbError as e:
    print("raised: " + e.msg)
' "$tree" "$T/bad.patch" "$T/cache" 2>&1)
if [ "$(grep -c '^lab: ' <<<"$err")" = 1 ] &&
	grep -qE "^lab: variant C \(src:x \+bad\.patch\): build: patch .*bad\.patch does not apply .*hunk 2 .*; log: " <<<"$err" &&
	grep -qE "^raised: patch .*bad\.patch does not apply" <<<"$err"; then
	pass "lab_ab: a variant whose patch does not apply: one lab: line naming the variant, the step, the hunk and the log"
else
	fail "lab_ab: variant's bad patch" "$err"
fi
err=$("$LAB/kernel-build.sh" --check-only "src:$T/nowhere" "$T/cache" 2>&1 >/dev/null)
if [ $? != 0 ] && grep -qx "lab: .*nowhere: no such directory" <<<"$err"; then
	pass "lab_ab: a source tree that is not there: one line"
else
	fail "lab_ab: missing tree" "$err"
fi
