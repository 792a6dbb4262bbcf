#!/bin/bash
# The comparison kit (examples/compare.py): every matrix (strategies, rfc,
# scaling) run locally and through fio --client on 127.0.0.1, each run one
# job, and every row of every table carrying the figures of the strategy
# it names; table, CSV and plots, and the two result sets compared. Then
# what makes its figures fit to post: help texts with defaults, repeats
# with medians and intervals, provenance, failed cases recorded and run
# around, diff's verdicts and its refusal of unlike workloads, and the
# per-region figures of coalesced labelled as such. The spectrum matrix:
# its cases over folio sizes and backings, their figures, the THP
# switches (mTHP's, and shmem's for memfd thp) set per case, recorded and
# put back (also after a case the engine refused), its plots. With --client, the provenance says what is
# the server's and what the client machine's.
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
	trap 'kill "$(cat "$pidfile")" 2>/dev/null; hp_restore; switches_restore' EXIT
	matrices client --client "ip:127.0.0.1,$port"
	# The server's fio and hostname from its probe reply; what the kit
	# read on its own machine marked as the client machine's.
	C=$SCRATCH/kit-client-strategies
	if python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["provenance"]
s = p.get("server") or {}
sys.exit(not (s.get("fio") == sys.argv[2] == p["fio"] and s.get("hostname") and
              "kernel" in p["client_side"] and "fio" not in p["client_side"]))' \
		"$C/runs.json" "$(fio --version)" &&
		has "$C.md" '^kernel (client machine): Linux ' '^memory (client machine): ' \
			"^server: .*, Linux .*, $(fio --version) (its fio's probe reply" \
			"^software: $(fio --version), uring_folioreg "; then
		pass kit-client-provenance
	else
		fail kit-client-provenance "$(grep -m4 '^kernel\|^server\|^software\|^memory' "$C.md" | tr '\n' ' ')"
	fi
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
why=$(PYTHONPATH=$TOP/examples python3 - "$TOP/examples" 2>&1 <<'EOF'
import argparse, contextlib, io, subprocess, sys
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

# The spectrum: a small one (8 x 1 MiB, one run per case) on 4k, 64k
# (mTHP), thp (memfd: shmem THP), 2m and 1g; anon, memfd and hugetlbfs.
# The 1g cases run when a 1 GiB page can be had; on a kernel without 1 GiB
# hugetlb pages (probed: no hugepages-1048576kB) they are cases not
# available here, and the run still exits 0.
THP=/sys/kernel/mm/transparent_hugepage
# The THP switches the kit sets: each size's enabled, shmem_enabled and
# (Linux 6.11 on) each size's shmem_enabled.
switches_now() { grep -H . "$THP"/hugepages-*kB/enabled "$THP"/shmem_enabled "$THP"/hugepages-*kB/shmem_enabled 2>/dev/null; }
SWITCHES_FOUND=$(switches_now)
# Puts back what this test found, should the kit not have.
switches_restore() {
	local f mode
	while IFS=: read -r f mode; do
		mode=${mode#*[}
		echo "${mode%%]*}" >"$f" 2>/dev/null
	done <<<"$SWITCHES_FOUND"
}
trap 'kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; hp_restore; switches_restore' EXIT
folios=4k,64k,thp,2m
no1g=""
if [ ! -e /sys/kernel/mm/hugepages/hugepages-1048576kB ]; then
	folios=$folios,1g no1g=1g
elif hp_reserve 1048576 $(( $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages) + 1 )); then
	folios=$folios,1g
else
	skip kit-spectrum-1g "no 1 GiB hugetlb page to be had: the 1g cases are left out"
fi
P=$SCRATCH/kit-spectrum
run kit-run-spectrum "$P" spectrum --reps 1 --depth 8 --spectrum-folios "$folios" \
	--spectrum-series anon,memfd,hugetlbfs --spectrum-runtime 1
"$KIT" table "$P" >"$P.md" 2>&1
if [ "$(switches_now)" = "$SWITCHES_FOUND" ]; then
	pass kit-spectrum-switches-restored
else
	fail kit-spectrum-switches-restored "found $(echo "$SWITCHES_FOUND" | tr '\n' ' '), now $(switches_now | tr '\n' ' ')"
fi
# Each case's figures: 8 MiB on 4 KiB pages is 2048 bvecs, 256 segments
# per 1 MiB I/O; on 64 KiB folios 128 and 16; on 2 MiB (THP, shmem THP,
# hugetlb) 4 and 1; on 1 GiB
# 1 and 1; the kernel's pins agree; per_page on 4 KiB, coalesced above;
# the profile's top function per_page's gup_fast_fallback.
why=$(python3 - "$P" "$folios" "$no1g" 2>&1 <<'EOF'
import csv, sys
d, folios, off = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
rows = {r["case"]: r for r in csv.DictReader(open(d + "/results.csv"))}
want = {"4k": (2048, 256), "64k": (128, 16), "thp": (4, 1), "2m": (4, 1),
        "1g": (1, 1)}
takes = {"anon": folios, "memfd": [f for f in folios if f != "64k"],
         "hugetlbfs": [f for f in folios if f in ("2m", "1g")]}
cases = ["%s-%s" % (s, f) for s in takes for f in takes[s]]
bad = []
if list(rows) != cases:
    bad.append("cases %s, want %s" % (" ".join(rows), " ".join(cases)))
for case in cases:
    r = rows.get(case)
    if not r:
        continue
    series, folio = case.rsplit("-", 1)
    if folio == off:
        if (r["status"], r["reps"]) != ("unavailable", "0") or \
                not r["why"].startswith("not available here: this kernel "
                                        "has no 1 GiB hugetlb pages"):
            bad.append("%s: %s, %s reps: %s" % (case, r["status"],
                                                 r["reps"], r["why"]))
        continue
    bvecs, segs = want[folio]
    st = "per_page" if folio == "4k" else "coalesced"
    got = (r["status"], r["strategy"], r["backing"], r["bvecs"],
           r["bvecs_observed"], round(float(r["per_io_segments"] or 0)))
    exp = ("ok", st, series, str(bvecs), str(bvecs), segs)
    if got != exp:
        bad.append("%s: %s, want %s" % (case, got, exp))
    if not r["profile_samples"] or not float(r["reg_per_io_u_ns"] or 0) > 0 \
            or int(r["io_us"] or 0) != 8 or int(float(r["reg_calls"] or 0)) < 2:
        bad.append("%s: samples %s, reg per io_u %s, io_us %s, calls %s" % (
            case, r["profile_samples"], r["reg_per_io_u_ns"], r["io_us"],
            r["reg_calls"]))
    if folio == "4k" and not r["profile_top"].startswith("gup_fast_fallback"):
        bad.append("%s: top %s" % (case, r["profile_top"]))
sys.exit("; ".join(bad))
EOF
)
if [ -z "$why" ] && has "$P.md" '^### spectrum' \
	'^| case | backing | strategy | folio | io_u buffers | registered | unit | register calls | reg per call (us) | reg per io_u buffer (ns) |' \
	'^| anon-64k | anon | coalesced | 64k | 8 | 1 | region | ' '^spectrum: reg per call is the mean'; then
	pass kit-spectrum-table
else
	fail kit-spectrum-table "${why:-$(grep -m3 '^| anon\|^| case' "$P.md" | tr '\n' ' ')}"
fi
# Provenance: the switches each mTHP and shmem THP case ran with (memfd
# thp: shmem_enabled advise, the PMD size's own inherit where there is
# one), and that they were put back; shmem's settings as found; under the
# table too.
larger=$(cd "$THP" && for d in hugepages-*kB; do k=${d#hugepages-}; k=${k%kB}; [ "$k" -gt 64 ] && echo "${k}kB"; done | sort -n | paste -sd,)
shmem_top=$(sed 's/.*\[\(.*\)\].*/\1/' "$THP/shmem_enabled")
shmem_set="advise shmem_enabled"
[ -e "$THP/hugepages-2048kB/shmem_enabled" ] &&
	shmem_set="$shmem_set; inherit hugepages-2048kB/shmem_enabled"
if python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["provenance"]
want = dict({"64kB": "madvise"}, **{k: "never" for k in sys.argv[2].split(",")})
shmem = dict(m.split()[::-1] for m in sys.argv[4].split("; "))
sys.exit(not (p["mthp_set"].get("anon-64k") == want and
              p["mthp_set"].get("anon-thp") == {"2048kB": "madvise"} and
              p["mthp_set"].get("memfd-thp") == shmem and
              p["mthp_restored"] is True and p["thp"]["sizes"] and
              p["thp"]["shmem_enabled"] == sys.argv[3]))' "$P/runs.json" "$larger" "$shmem_top" "$shmem_set" &&
	has "$P.md" "^THP switches set by the kit per case (restored after): anon-64k madvise 64kB; never $larger; anon-thp madvise 2048kB; memfd-thp $shmem_set$" \
		"^memory: .*; THP .*; shmem THP $shmem_top, per size "; then
	pass kit-spectrum-provenance
else
	fail kit-spectrum-provenance "$(grep '^THP switches\|^memory' "$P.md"; python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["provenance"].get("mthp_set"))' "$P/runs.json")"
fi
# A case this host cannot have (no 1 GiB hugetlb pages here) is marked
# not available here in runs.json (not run: no log, no JSON), the table
# and its note, and is neither mounted for nor handed to the engine.
if [ -z "$no1g" ]; then
	skip kit-spectrum-unavailable "this host has 1 GiB hugetlb pages: no case is unavailable"
elif why=$(python3 -c 'import json, sys
runs = json.load(open(sys.argv[1] + "/runs.json"))["runs"]
off = [(r["case"], r["status"], r.get("json")) for r in runs if r["case"].endswith("-1g")]
ok = sorted(off) == [(c, "unavailable", None) for c in ("anon-1g", "hugetlbfs-1g", "memfd-1g")]
sys.exit(None if ok else "1g runs: %s" % off)' "$P") &&
	has "$P.md" '^| anon-1g | - | .* | not available here |$' '^| hugetlbfs-1g | - | .* | not available here |$' \
		'^not available here: anon-1g, memfd-1g, hugetlbfs-1g: this kernel has no 1 GiB hugetlb pages (no /sys/kernel/mm/hugepages/hugepages-1048576kB' &&
	has "$P.log" '^compare: spectrum-anon-1g not available here: ' &&
	! grep -q 'cannot mount\|reg_hugetlbfs_path\|FAILED' "$P.log" "$P.md"; then
	pass kit-spectrum-unavailable
else
	fail kit-spectrum-unavailable "${why:-$(grep -m4 '1g\|FAILED\|mount' "$P.md" "$P.log" | tr '\n' ' ')}"
fi
"$KIT" plot "$P" >"$P.plots" 2>&1
if png_ok "$P/spectrum-reg.png" && png_ok "$P/spectrum-segments.png" &&
	png_ok "$P/spectrum-profile.png" && grep -q '"anon-4k" 0\.[0-9]* ' "$P/spectrum-profile.dat"; then
	pass kit-spectrum-plots
else
	fail kit-spectrum-plots "$(cat "$P.plots")"
fi
# A case the engine refuses: a fio wrapper switches 64 KiB folios off
# after the kit switched them on; the engine says what to write, the case
# is FAILED, run exits 3, and the kit still puts back what it found.
cat >"$SCRATCH/kit-fio-nomthp" <<EOF
#!/bin/bash
echo never >$THP/hugepages-64kB/enabled
exec fio "\$@"
EOF
chmod +x "$SCRATCH/kit-fio-nomthp"
R=$SCRATCH/kit-spectrum-refused
rm -rf "$R"
"$KIT" run spectrum --reps 1 --depth 8 --spectrum-folios 4k,64k --spectrum-series anon \
	--fio "$SCRATCH/kit-fio-nomthp" --out "$R" >"$R.log" 2>&1
rc=$?
"$KIT" table "$R" >"$R.md" 2>&1
if [ "$rc" = 3 ] && [ "$(switches_now)" = "$SWITCHES_FOUND" ] &&
	has "$R.md" '^| anon-64k | - | - | - | - | .* | FAILED 0/1 |$' '^| anon-4k | anon | per_page | 4k | 8 | ' \
		'^FAILED: spectrum-anon-64k rep 1: fio exit [1-9][0-9]*: uring_folioreg: reg_folio=64k: .*hugepages-64kB/enabled'; then
	pass kit-spectrum-refused-case
else
	fail kit-spectrum-refused-case "exit $rc: $(grep -m3 'anon-64k' "$R.md" | tr '\n' ' ')"
fi
rm -f "$SCRATCH/kit-fio-nomthp"

# A hugetlbfs the kit cannot mount (mount fails: a wrapper in PATH): the
# kit says why, the case is FAILED without the engine being handed the
# directory, the others run, and run exits 3.
mkdir -p "$SCRATCH/kit-nomount"
printf '#!/bin/sh\necho "mount: refused by the test" >&2\nexit 32\n' >"$SCRATCH/kit-nomount/mount"
chmod +x "$SCRATCH/kit-nomount/mount"
U=$SCRATCH/kit-spectrum-unmounted
rm -rf "$U"
PATH=$SCRATCH/kit-nomount:$PATH "$KIT" run spectrum --reps 1 --depth 8 --spectrum-folios 4k,2m \
	--spectrum-series anon,hugetlbfs --out "$U" >"$U.log" 2>&1
rc=$?
"$KIT" table "$U" >"$U.md" 2>&1
if [ "$rc" = 3 ] && ! grep -q 'reg_hugetlbfs_path' "$U.log" "$U"/logs/* &&
	[ ! -e "$U/json/spectrum-hugetlbfs-2m-r1.json" ] &&
	has "$U.log" '^compare: the kit could not mount a 2m hugetlbfs (mount -t hugetlbfs .*: mount: refused by the test): its cases are recorded as failed, not run$' &&
	has "$U.md" '^| hugetlbfs-2m | - | .* | FAILED 0/1 |$' '^| anon-2m | anon | coalesced | 2m | 8 | ' \
		'^FAILED: spectrum-hugetlbfs-2m rep 1: not run: compare: the kit could not mount a 2m hugetlbfs'; then
	pass kit-spectrum-mount-failed
else
	fail kit-spectrum-mount-failed "exit $rc: $(grep -m3 'hugetlbfs' "$U.md" "$U.log" | tr '\n' ' ')"
fi
rm -rf "$SCRATCH/kit-nomount"
