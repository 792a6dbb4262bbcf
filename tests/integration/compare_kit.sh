#!/bin/bash
# The comparison kit (examples/compare.py): every matrix (strategies, rfc,
# scaling) run locally and through fio --client on 127.0.0.1, each run one
# job, and every row of every table carrying the figures of the strategy
# it names; table, CSV and plots, and the two result sets compared.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

KIT=$TOP/examples/compare.py
[ "$(id -u)" = 0 ] || { skip compare-kit "needs root for hugetlb pages"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 64 )) ||
	{ skip compare-kit "cannot reserve hugetlb pages"; exit 0; }
# 8 buffers of 1 MiB per job (rfc: 2 jobs); scaling: 16 and 64 x 64 KiB.
small=(--size 64m --depth 8 --numjobs 2 --runtime 1 --file "$SCRATCH/kit.dat")
scaling=(--scaling-counts "16,64" --scaling-bs 64k --scaling-reps 1
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
	if grep -q '^| strategies-per_page | bvecs | 2048 | 2048 | 1.000 |' "$SCRATCH/kit-diff.md" &&
		grep -q '^| strategies-hugetlb_fast-2m | bvecs | 8 | 8 | 1.000 |' "$SCRATCH/kit-diff.md"; then
		pass kit-diff-ratios
	else
		fail kit-diff-ratios "$(head -c 400 "$SCRATCH/kit-diff.md")"
	fi
else
	skip kit-run-client "fio --server did not start"
fi
rm -f "$SCRATCH/kit.dat"
