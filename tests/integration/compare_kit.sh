#!/bin/bash
# The comparison kit (examples/compare.py): every matrix (strategies, rfc,
# scaling) run locally and through fio --client on 127.0.0.1, each run one
# job, and every row of every table carrying the figures of the strategy
# it names; table, CSV and plots, and the two result sets compared. Then
# what makes its figures fit to post: help texts with defaults, repeats
# with medians and intervals, provenance, failed cases recorded and run
# around, diff's verdicts and its refusal of unlike workloads, and the
# per-region figures of coalesced labelled as such.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

KIT=$TOP/examples/compare.py
[ "$(id -u)" = 0 ] || { skip compare-kit "needs root for hugetlb pages"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 64 )) ||
	{ skip compare-kit "cannot reserve hugetlb pages"; exit 0; }
# 8 buffers of 1 MiB per job (rfc: 2 jobs); scaling: 16 and 64 x 64 KiB.
small=(--size 64m --depth 8 --numjobs 2 --runtime 1 --file "$SCRATCH/kit.dat")
# strategies and rfc once per case; scaling twice (an even count, whose
# median is the mean of the middle two).
small=("${small[@]}" --reps 1)
scaling=(--scaling-counts "16,64" --scaling-bs 64k --reps 2
	--scaling-strategies "per_page,hugetlb_fast,coalesced")

# run NAME DIR ARGS...: a matrix into DIR; progress shows run i of N.
run() {
	local name=$1 dir=$2
	shift 2
	rm -rf "$dir"
	if "$KIT" run "$@" --out "$dir" >"$dir.log" 2>&1 &&
		grep -q '^\[1/[0-9]*\] .* elapsed .*, eta' "$dir.log"; then
		pass "$name"
	else
		fail "$name" "$(tail -c 400 "$dir.log" | tr '\n' ' ')"
	fi
}

# one_job_each NAME DIR: every job file compare.py wrote holds one job
# (fio --client ignores --section: a file of several would run them all).
one_job_each() {
	local f bad=""
	for f in "$1"/jobs/*.fio; do
		[ "$(grep -E '^\[' "$f" | grep -vc '^\[global\]')" = 1 ] || bad="$bad ${f##*/}"
	done
	if [ -z "$bad" ] && [ -e "$f" ]; then
		pass "$2"
	else
		fail "$2" "job files of more or less than one job:${bad:- none written}"
	fi
}

# rows_ok NAME DIR CASES: DIR's results.csv (compare.py table) has one row
# per case in CASES, in that order, each with the figures of the strategy
# its case names. A run of another job under the case's name fails here:
# per_page's 256 bvecs per MiB are not hugetlb_fast's one per buffer.
#   per_page       bvecs = 4 KiB pages
#   hugetlb_fast   one bvec per buffer (each inside one 2 MiB folio)
#   coalesced      one region per job; one bvec per folio it covers
#   iomem          one per buffer on mmaphuge (1 MiB inside 2 MiB), else
#                  as fio's memory falls: buffers to pages
#   none           nothing registered
# bvecs observed (the kernel's pin count) equals bvecs wherever registered.
# strategies and rfc: 8 x 1 MiB per job, 2 jobs in rfc; scaling: COUNT x BS
# as the case says.
rows_ok() {
	local name=$1 dir=$2 cases=$3 why
	why=$(python3 - "$dir/results.csv" "$cases" 2>&1 <<'EOF'
import csv, math, sys

KIB = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def size(s):
    return int(s[:-1]) * KIB[s[-1]] if s[-1] in KIB else int(s)


rows = list(csv.DictReader(open(sys.argv[1])))
cases = sys.argv[2].split()
got = [r["case"] for r in rows]
if got != cases:
    sys.exit("cases %s, want %s" % (" ".join(got), " ".join(cases)))
for r in rows:
    case = r["case"]
    st = case.split("-")[0]
    if r["matrix"] == "scaling":
        jobs, per = 1, int(case.split("-")[2])
        bs = size(case.split("-")[1])
    else:
        jobs, per, bs = (2 if r["matrix"] == "rfc" else 1), 8, 1 << 20
    nbuf = jobs * per
    pages = nbuf * bs // 4096
    folio = size(r["folio"]) if r["folio"] != "-" else 0
    bvecs, buffers = int(r["bvecs"]), int(r["buffers"])
    mmaphuge = case == "iomem-mmaphuge" or (r["matrix"] == "rfc" and
                                             st == "iomem")
    if st == "per_page":
        want = (nbuf, [pages], "4k")
    elif st == "hugetlb_fast":
        want = (nbuf, [nbuf], "2m")
    elif st == "coalesced":
        want = (jobs, [jobs * math.ceil(per * bs / folio)] if folio else [],
                "2m")
    elif st == "iomem":
        want = (nbuf, [nbuf] if mmaphuge else range(nbuf, pages + 1),
                "2m" if mmaphuge else r["folio"])
    elif st == "none":
        want = (0, [0], "-")
    else:
        sys.exit("%s: no rule for strategy %s" % (case, st))
    bad = []
    if r["strategy"] != st:
        bad.append("strategy %s" % r["strategy"])
    if buffers != want[0]:
        bad.append("buffers %d, want %d" % (buffers, want[0]))
    if bvecs not in want[1]:
        bad.append("bvecs %d, want %s" % (bvecs, want[1] if
                   len(want[1]) < 3 else "%d..%d" % (nbuf, pages)))
    if r["folio"] != want[2]:
        bad.append("folio %s, want %s" % (r["folio"], want[2]))
    if st != "none" and (not r["bvecs_observed"] or
                         float(r["bvecs_observed"]) != bvecs):
        bad.append("bvecs observed %s" % (r["bvecs_observed"] or "none"))
    if bad:
        sys.exit("%s: %s" % (case, ", ".join(bad)))
EOF
	)
	if [ $? = 0 ]; then
		pass "$name"
	else
		fail "$name" "$why"
	fi
}

# shellcheck disable=SC2034 # read as ${!cases}
strategies_cases="per_page coalesced-thp coalesced-2m hugetlb_fast-2m iomem-mmaphuge iomem none"
# shellcheck disable=SC2034
rfc_cases="iomem hugetlb_fast coalesced per_page"
# shellcheck disable=SC2034
scaling_cases="per_page-64k-16 hugetlb_fast-64k-16 coalesced-64k-16 per_page-64k-64 hugetlb_fast-64k-64 coalesced-64k-64"

# matrices MODE CLIENT-ARGS...: the three matrices, each checked row by
# row; the results in $SCRATCH/kit-MODE-MATRIX.
matrices() {
	local mode=$1 m cases dir
	shift
	for m in strategies rfc scaling; do
		dir=$SCRATCH/kit-$mode-$m
		case $m in
		scaling) run "kit-run-$mode-$m" "$dir" $m "${scaling[@]}" "$@" ;;
		*) run "kit-run-$mode-$m" "$dir" $m "${small[@]}" "$@" ;;
		esac
		one_job_each "$dir" "kit-one-job-per-file-$mode-$m"
		"$KIT" table "$dir" >"$dir.md" 2>&1
		cases=${m}_cases
		rows_ok "kit-rows-$mode-$m" "$dir" "${!cases}"
	done
}

matrices local
A=$SCRATCH/kit-local-strategies
ok=1
for st in $strategies_cases; do
	grep -q "^| $st | " "$A.md" || ok=0
done
if [ $ok = 1 ] && [ "$(grep -c ',' "$A/results.csv")" = 8 ] &&
	grep -q '^| hugetlb_fast-2m | hugetlb_fast | 2m | 8 | .* | 8 | 8 | 1.00 |' "$A.md"; then
	pass kit-table-and-csv
else
	fail kit-table-and-csv "$(head -c 600 "$A.md" | tr '\n' ' ')"
fi

# has FILE PATTERN...: FILE has a line matching each PATTERN.
has() {
	local f=$1 p
	shift
	for p in "$@"; do
		grep -q -- "$p" "$f" || return 1
	done
}

png_ok() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
"$KIT" plot "$A" >"$A.plots" 2>&1
if png_ok "$A/bvecs.png" && png_ok "$A/bandwidth.png"; then
	pass kit-plots
else
	fail kit-plots "$(cat "$A.plots")"
fi
"$KIT" plot "$SCRATCH/kit-local-scaling" >/dev/null 2>&1
png_ok "$SCRATCH/kit-local-scaling/reg-scaling.png" && pass kit-scaling-plot ||
	fail kit-scaling-plot "no reg-scaling.png"

# Through a fio server on this machine, as a lab drives other hosts.
pidfile=$SCRATCH/kit-server.pid
if port=$(start_fio_server "$pidfile"); then
	trap 'kill "$(cat "$pidfile")" 2>/dev/null; hp_restore' EXIT
	matrices client --client "ip:127.0.0.1,$port"
	B=$SCRATCH/kit-client-strategies
	"$KIT" diff "$A" "$B" >"$SCRATCH/kit-diff.md" 2>&1
	if grep -q '^| strategies-per_page | bvecs | 2048 | 2048 | 1.000 | \[1.000, 1.000\] | same |$' "$SCRATCH/kit-diff.md" &&
		grep -q '^| strategies-hugetlb_fast-2m | bvecs | 8 | 8 | 1.000 | \[1.000, 1.000\] | same |$' "$SCRATCH/kit-diff.md"; then
		pass kit-diff-ratios
	else
		fail kit-diff-ratios "$(head -c 400 "$SCRATCH/kit-diff.md")"
	fi
else
	skip kit-run-client "fio --server did not start"
fi

# Help: every option of every command says what it is and its default
# (an unset one says unset), and run's help says what each matrix runs.
why=$(python3 - "$TOP/examples" 2>&1 <<'EOF'
import argparse, contextlib, io, subprocess, sys
sys.path.insert(0, sys.argv[1])
import compare
p = compare.parser()
subs = next(a for a in p._actions
            if isinstance(a, argparse._SubParsersAction)).choices
bad = []
for name, sp in subs.items():
    text = subprocess.run([sys.executable, sys.argv[1] + "/compare.py",
                           name, "--help"], capture_output=True,
                          text=True).stdout
    for a in sp._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if not a.help:
            bad.append("%s %s: no help" % (name, a.dest))
        elif a.option_strings and not a.required:
            h = sp.formatter_class("x")._get_help_string(a)
            if "(default: " not in h:
                bad.append("%s %s: no default in its help" %
                           (name, a.option_strings[0]))
    if name == "run":
        for m in compare.MATRICES:
            if "\n  %-10s  examples/" % m not in text and \
                    "\n  %-10s  strategies, then" % m not in text:
                bad.append("run --help does not explain the matrix " + m)
        if "(default: 3)" not in text or "--scaling-reps" not in text:
            bad.append("run --help: no --reps default or alias")
with contextlib.redirect_stderr(io.StringIO()) as said:
    a = p.parse_args(["run", "scaling", "--out", "x", "--scaling-reps", "5"])
if a.reps != 5 or "deprecated" not in said.getvalue():
    bad.append("--scaling-reps 5 gave reps %s, said %r" %
               (a.reps, said.getvalue()))
sys.exit("; ".join(bad))
EOF
)
if [ -z "$why" ]; then pass kit-help; else fail kit-help "$why"; fi

# Repeats: the scaling matrix ran twice per case; each figure in the CSV
# is the median of the two runs' JSON (an even count: the mean of the
# middle two) inside its interval; the table shows intervals and says how
# they are made.
S=$SCRATCH/kit-local-scaling
why=$(python3 - "$S" 2>&1 <<'EOF'
import csv, json, statistics, sys
d = sys.argv[1]
runs = json.load(open(d + "/runs.json"))["runs"]
rows = {r["case"]: r for r in csv.DictReader(open(d + "/results.csv"))}
bad = []
for case, row in rows.items():
    mine = [r for r in runs if r["case"] == case]
    if sorted(r["rep"] for r in mine) != [1, 2] or row["reps"] != "2":
        bad.append("%s: reps %s" % (case, [r["rep"] for r in mine]))
        continue
    tot = [json.load(open(d + "/json/" + r["json"]))["jobs"][0]
           ["uring_folioreg"]["reg"]["total_ns"] / 1000 for r in mine]
    med, lo, hi = (float(row["reg_total_us" + s]) for s in ("", "_lo", "_hi"))
    if abs(med - statistics.median(tot)) > 1e-6 or not lo <= med <= hi or \
            (min(tot), max(tot)) != (lo, hi):
        bad.append("%s: reg total %s [%s, %s] from %s" %
                   (case, med, lo, hi, tot))
sys.exit("; ".join(bad) or (None if rows else "no rows"))
EOF
)
if [ -z "$why" ] && grep -q '^| per_page-64k-16 | per_page | 4k | 16 | io_u | [0-9.]* \[[0-9.]*, [0-9.]*\] |' "$S.md" &&
	grep -q '^cells: median of the repeats \[95 % percentile-bootstrap interval' "$S.md"; then
	pass kit-reps-median-interval
else
	fail kit-reps-median-interval "${why:-$(grep -m3 '^| per_page\|^cells' "$S.md")}"
fi

# Provenance: in runs.json, and a few lines under every table.
why=$(python3 - "$A/runs.json" "$(uname -r)" "$(cat "$TOP/VERSION")" "$(fio --version)" 2>&1 <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
p = doc.get("provenance") or {}
bad = []
want = {"kernel release": (p.get("kernel") or {}).get("release") == sys.argv[2],
        "kernel cmdline": (p.get("kernel") or {}).get("cmdline"),
        "fio version": p.get("fio") == sys.argv[4],
        "engine version": p.get("engine") == [sys.argv[3]],
        "CPU model and count": (p.get("cpu") or {}).get("model") and
        (p.get("cpu") or {}).get("count"),
        "hugetlb pools": "2048kB" in (p.get("hugetlb") or {}),
        "THP settings": (p.get("thp") or {}).get("enabled") and
        "sizes" in p["thp"],
        "virtualisation": p.get("virtualisation"),
        "date": p.get("date") and p.get("finished"),
        "command line": "run strategies" in (p.get("command") or ""),
        "repeats": p.get("reps") == 1,
        "workload": (doc.get("workload") or {}).get("size") == "64m"}
sys.exit(", ".join("no " + k for k, ok in want.items() if not ok))
EOF
)
for f in "$A.md" "$S.md"; do
	for l in "^kernel: Linux $(uname -r) .*, cmdline: " "^machine: .*, [0-9]* CPUs .*virtualisation: " \
		"^memory: hugetlb .*2048kB [0-9]* ([0-9]* free).*; THP " \
		"^software: $(fio --version), uring_folioreg $(cat "$TOP/VERSION"), " \
		"^command: compare.py run " "^workload: .*bs=.*repeat"; do
		[ "$(grep -c "$l" "$f")" = "$(grep -c '^### ' "$f")" ] || why="$why ${f##*/}: not under every table: $l;"
	done
done
if [ -z "$why" ]; then pass kit-provenance; else fail kit-provenance "$why"; fi

# coalesced's figures are per region (buffers counts regions), the
# others' per io_u: the unit column says which.
if has "$A.md" '^| case | strategy | folio | registered | unit | reg total (us) | reg mean per unit (ns) |' \
	'^| coalesced-2m | coalesced | 2m | 1 | region | ' '^| per_page | per_page | 4k | 8 | io_u | ' \
	'^| none | none | - | 0 | - | ' '^unit: .*region, one coalesced region' &&
	has "$S.md" '^| coalesced-64k-16 | coalesced | 2m | 1 | region | '; then
	pass kit-per-region-label
else
	fail kit-per-region-label "$(grep -m4 '^| case\|^| coalesced\|^| per_page' "$A.md" | tr '\n' ' ')"
fi

# A failing case (hugetlb_fast refuses reg_folio=64k, which a fio
# wrapper adds to that case's job) does not stop the run: it is recorded
# with fio's status and the engine's line, the others run, the table marks
# it, and run exits 3.
F=$SCRATCH/kit-failing
cat >"$SCRATCH/kit-fio-failing" <<EOF
#!/bin/bash
job=\${!#}
case \${job##*/} in
*hugetlb_fast*)
	{ cat "\$job"; echo reg_folio=64k; } >"$SCRATCH/kit-forced.fio"
	set -- "\${@:1:\$#-1}" "$SCRATCH/kit-forced.fio" ;;
esac
exec fio "\$@"
EOF
chmod +x "$SCRATCH/kit-fio-failing"
rm -rf "$F"
"$KIT" run strategies "${small[@]}" --fio "$SCRATCH/kit-fio-failing" --out "$F" >"$F.log" 2>&1
rc=$?
"$KIT" table "$F" >"$F.md" 2>&1
why=$(python3 - "$F" 2>&1 <<'EOF'
import csv, json, sys
d = sys.argv[1]
runs = json.load(open(d + "/runs.json"))["runs"]
bad = []
for r in runs:
    failed = r["case"] == "hugetlb_fast-2m"
    if failed != (r["status"] == "failed") or failed != (r["rc"] != 0):
        bad.append("%s: status %s, rc %s" % (r["case"], r["status"], r["rc"]))
    if failed and not r.get("error", "").startswith("uring_folioreg: "):
        bad.append("%s: error line %r" % (r["case"], r.get("error")))
rows = {r["case"]: r["status"] for r in csv.DictReader(open(d + "/results.csv"))}
want = {c: "failed" if c == "hugetlb_fast-2m" else "ok" for c in
        "per_page coalesced-thp coalesced-2m hugetlb_fast-2m "
        "iomem-mmaphuge iomem none".split()}
if rows != want:
    bad.append("CSV statuses %s" % rows)
sys.exit("; ".join(bad))
EOF
)
if [ "$rc" = 3 ] && [ -z "$why" ] && has "$F.log" 'runs FAILED' &&
	has "$F.md" '^| hugetlb_fast-2m | - | - | - | - | .* | FAILED 0/1 |$' \
		'^FAILED: strategies-hugetlb_fast-2m rep 1: fio exit [1-9][0-9]*: uring_folioreg: .*reg_folio' \
		'^| per_page | per_page | 4k | 8 | io_u | .* | 1 |$'; then
	pass kit-failed-case-recorded
else
	fail kit-failed-case-recorded "exit $rc; $why $(grep -m3 'hugetlb_fast\|FAILED' "$F.md" | tr '\n' ' ')"
fi

# diff: the set with a failed case against the good one lists it; a copy
# of A with another size is refused (each difference named) unless
# --allow-mismatch; a case on one side only is listed, not dropped.
"$KIT" diff "$A" "$F" >"$F.diff" 2>&1
rc=$?
if [ "$rc" = 0 ] && has "$F.diff" '^| strategies-hugetlb_fast-2m | runs failed in B | 1 of 1 |' \
	'^| strategies-per_page | bvecs | 2048 | 2048 | 1.000 | \[1.000, 1.000\] | same |$' \
	'^B: .*, 1 repeat per case$' '^  kernel: Linux '; then
	pass kit-diff-failed-case
else
	fail kit-diff-failed-case "exit $rc: $(head -c 500 "$F.diff")"
fi
M=$SCRATCH/kit-other-size
rm -rf "$M" && cp -r "$A" "$M"
sed -i 's/^size=64m$/size=32m/' "$M"/jobs/*.fio
python3 - "$M/runs.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["runs"] = [r for r in doc["runs"] if r["case"] != "none"]
json.dump(doc, open(sys.argv[1], "w"))
EOF
"$KIT" diff "$A" "$M" >"$M.diff" 2>&1
rc=$?
"$KIT" diff --allow-mismatch "$A" "$M" >"$M.forced" 2>&1
rc2=$?
if [ "$rc" != 0 ] && ! grep -q '^| strategies-' "$M.diff" &&
	has "$M.diff" '^workload differs: size: 64m (A) against 32m (B), in 6 cases$' \
		'compare: the two result sets ran different workloads' &&
	[ "$rc2" = 0 ] && has "$M.forced" '^compare: WARNING: comparing different workloads' \
		'^only in A (.*): strategies-none$' '^| strategies-per_page | bvecs | '; then
	pass kit-diff-refuses-other-workload
else
	fail kit-diff-refuses-other-workload "exit $rc, $rc2: $(head -c 300 "$M.diff") / $(head -c 300 "$M.forced")"
fi

# Plots: registration per strategy too, none's zero noted rather than lost
# on the log axis.
if png_ok "$A/registration.png" && grep -q '"none" .*"0: nothing registered"' "$A/strategies.dat"; then
	pass kit-plot-registration-none
else
	fail kit-plot-registration-none "$(grep none "$A/strategies.dat")"
fi
rm -f "$SCRATCH/kit.dat" "$SCRATCH/kit-forced.fio"
