#!/usr/bin/env python3
"""Compare io_uring buffer registration strategies with uring_folioreg.

    compare.py run MATRIX --out DIR [--client HOST] [--engine PATH] ...
    compare.py table DIR            Markdown table; DIR/results.csv
    compare.py plot DIR             PNG plots with gnuplot
    compare.py diff DIR_A DIR_B     two result sets side by side, with ratios

MATRIX is one of:
  strategies  examples/compare.fio, one run per strategy
  rfc         examples/rfc-hugetlb-fast.fio (the hugetlb fast-path RFC)
  scaling     examples/scaling.fio over buffer counts and block sizes
  demo        strategies, then a short scaling sweep (what make demo runs)

Each run is one fio invocation on a job file of its own in DIR/jobs: the
one section of an example job file that the case names, with the [global]
sections before it, and the ${UFR_*} variables filled in. fio runs that
file whole, locally or with --client (a fio --client ignores --section,
so the file holds the one job: both ways run exactly that job). fio's
JSON goes to DIR/json. With --client the runs go to a fio --server there:
the engine's figures are then read from the block the server prints, as
fio's client JSON cannot carry them. Only the Python standard library,
fio, and (for plots) gnuplot are needed.
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(TOP, "examples")

COLUMNS = [
    # (key, header, unit)
    ("case", "case", ""),
    ("strategy", "strategy", ""),
    ("folio", "folio", ""),
    ("buffers", "buffers", ""),
    ("reg_total_us", "reg total", "us"),
    ("per_buffer_mean_ns", "per-buffer mean", "ns"),
    ("per_buffer_p99_ns", "per-buffer p99", "ns"),
    ("unreg_us", "unreg", "us"),
    ("bvecs", "bvecs", ""),
    ("bvecs_observed", "bvecs observed", ""),
    ("per_io_segments", "segments per I/O", ""),
    ("iops", "IOPS", ""),
    ("bw_mib_s", "bandwidth", "MiB/s"),
    ("cpu_pct", "CPU usr+sys", "%"),
]


def die(msg):
    print("compare: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- the matrices ----------------------------------------------------

def strategies_runs(args):
    env = {"UFR_FILE": args.file, "UFR_SIZE": args.size,
           "UFR_DEPTH": str(args.depth), "UFR_RUNTIME": str(args.runtime)}
    sections = ["per_page", "coalesced-thp", "coalesced-2m",
                "hugetlb_fast-2m", "iomem-mmaphuge", "iomem", "none"]
    return [("strategies", s, "compare.fio", s, env) for s in sections]


def rfc_runs(args):
    env = {"UFR_FILE": args.file, "UFR_SIZE": args.size,
           "UFR_DEPTH": str(args.depth), "UFR_RUNTIME": str(args.runtime),
           "UFR_NUMJOBS": str(args.numjobs)}
    return [("rfc", s, "rfc-hugetlb-fast.fio", s, env)
            for s in ["iomem", "hugetlb_fast", "coalesced", "per_page"]]


def size_bytes(s):
    m = re.fullmatch(r"(\d+)([kmg]?)", s.lower())
    if not m:
        die("bad size " + s)
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2)]


def scaling_runs(args):
    runs = []
    budget = size_bytes(args.scaling_budget)
    for bs in args.scaling_bs.split(","):
        for count in [int(c) for c in args.scaling_counts.split(",")]:
            if count * size_bytes(bs) > budget:
                continue
            for st in args.scaling_strategies.split(","):
                env = {"UFR_COUNT": str(count), "UFR_BS": bs,
                       "UFR_STRATEGY": st}
                for rep in range(1, args.scaling_reps + 1):
                    runs.append(("scaling", "%s-%s-%d-r%d" %
                                 (st, bs, count, rep), "scaling.fio",
                                 "scaling", env))
    return runs


def demo_runs(args):
    return strategies_runs(args) + scaling_runs(args)


MATRICES = {"strategies": strategies_runs, "rfc": rfc_runs,
            "scaling": scaling_runs, "demo": demo_runs}


# ---- running -----------------------------------------------------------

SECTION_RE = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def single_job(jobfile, section, env):
    """The job file for one case: the [global] sections that come before
    SECTION in the example job file, then SECTION, with the ${UFR_*}
    variables filled in. Nothing else of the file goes in, so whoever
    runs it (fio, or a fio --server through --client) runs that one job."""
    with open(os.path.join(EXAMPLES, jobfile)) as f:
        lines = f.read().splitlines()
    parts, name = [], None
    for line in lines:
        m = SECTION_RE.match(line)
        if m:
            name = m.group(1).strip()
            parts.append((name, [line]))
        elif name is not None:
            parts[-1][1].append(line)
    keep = []
    for name, body in parts:
        if name == "global":
            keep.append(body)
        elif name == section:
            keep.append(body)
            break
    else:
        die("%s has no section [%s]" % (jobfile, section))
    text = "; %s, section [%s], written by compare.py\n\n" % (
        jobfile, section)
    text += "\n".join("\n".join(b).rstrip("\n") + "\n" for b in keep)

    def sub(m):
        if m.group(1) not in env:
            die("%s [%s]: no value for ${%s}" % (jobfile, section, m.group(1)))
        return env[m.group(1)]
    return re.sub(r"\$\{(UFR_[A-Z_]+)\}", sub, text)


def fmt_secs(s):
    return "%dm%02ds" % (s // 60, s % 60)


def run_matrix(args):
    runs = MATRICES[args.matrix](args)
    if not runs:
        die("the %s matrix is empty with these settings" % args.matrix)
    for d in ("jobs", "json", "logs"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    engine = os.path.abspath(args.engine)
    meta = []
    start = time.monotonic()
    for i, (matrix, case, jobfile, section, env) in enumerate(runs, 1):
        env = dict(env, UFR_ENGINE=engine)
        name = "%s-%s" % (matrix, case)
        job = os.path.join(args.out, "jobs", name + ".fio")
        with open(job, "w") as f:
            f.write(single_job(jobfile, section, env))
        elapsed = time.monotonic() - start
        eta = elapsed / (i - 1) * (len(runs) - i + 1) if i > 1 else 0
        print("[%d/%d] %-34s elapsed %s, eta %s" %
              (i, len(runs), name, fmt_secs(elapsed),
               fmt_secs(eta) if i > 1 else "?"), file=sys.stderr)
        out = os.path.join(args.out, "json", name + ".json")
        log = os.path.join(args.out, "logs", name + ".log")
        cmd = [args.fio]
        if args.client:
            # The server prints the engine's block only for normal output.
            cmd += ["--client=" + args.client,
                    "--output-format=normal,json"]
        else:
            cmd += ["--output-format=json", "--output=" + out]
        cmd.append(job)
        with open(log, "w") as lf:
            p = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=lf, text=True)
        if args.client:
            with open(out, "w") as f:
                f.write(p.stdout)
        if p.returncode:
            with open(log) as lf:
                tail = lf.read()[-800:]
            die("%s failed (fio exit %d); see %s:\n%s" %
                (name, p.returncode, log, tail))
        meta.append({"matrix": matrix, "case": case, "json": name + ".json",
                     "section": section, "env": env,
                     "client": args.client or ""})
    with open(os.path.join(args.out, "runs.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("compare: %d runs in %s, results in %s" %
          (len(runs), fmt_secs(time.monotonic() - start), args.out),
          file=sys.stderr)


# ---- reading results -----------------------------------------------------

BLOCK_RE = {
    "head": re.compile(r"uring_folioreg \S+: strategy=(\S+), folio=(\d+)KiB"),
    "reg": re.compile(r"reg\s+: mode=(\w+), calls=(\d+), buffers=(\d+), "
                      r"bytes=(\d+), total_ns=(\d+), unreg_ns=(\d+)"),
    "perbuf": re.compile(r"per buf : \(ns\) min=(\S+), mean=(\S+), "
                         r"p50=(\S+), p99=(\S+), max=(\S+)"),
    "segs": re.compile(r"segments: pages=(\d+), bvecs=(\d+) \(from (\w+)\), "
                       r"bvecs_observed=(\S+), folios=(\d+), "
                       r"straddling=(\d+), per_io mean=(\S+) max=(\d+)"),
}


def num(s):
    return None if s in ("-", None) else float(s)


def from_block(text):
    """The engine's figures from the text blocks a fio server prints: one
    per job, also under group_reporting (numjobs > 1), where they are
    summed here as the engine sums a group: counts, times and bvecs
    added, the per-buffer mean and segments per I/O weighted by buffers.
    A group's p99 cannot be had from its jobs' p99s: it is left out."""
    heads = list(BLOCK_RE["head"].finditer(text))
    blocks = []
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        part = text[h.start():end]
        m = {k: r.search(part) for k, r in BLOCK_RE.items()}
        if not all(m.values()):
            return None
        pb = m["perbuf"].groups()
        blocks.append({
            "strategy": m["head"].group(1),
            "folio_bytes": int(m["head"].group(2)) << 10,
            "buffers": int(m["reg"].group(3)),
            "total_ns": int(m["reg"].group(5)),
            "unreg_ns": int(m["reg"].group(6)),
            "mean": num(pb[1]), "p99": num(pb[3]),
            "bvecs": int(m["segs"].group(2)),
            "observed": None if num(m["segs"].group(4)) is None
            else int(num(m["segs"].group(4))),
            "per_io": float(m["segs"].group(7)),
        })
    if not blocks:
        return None

    def total(k):
        vals = [b[k] for b in blocks]
        return None if None in vals else sum(vals)

    def weighted(k):
        n = sum(b["buffers"] for b in blocks)
        if any(b[k] is None for b in blocks):
            return None
        if not n:
            return blocks[0][k]
        return sum(b[k] * b["buffers"] for b in blocks) / n
    one = len(blocks) == 1
    return {
        "strategy": blocks[0]["strategy"],
        "folio_bytes": blocks[0]["folio_bytes"],
        "reg": {"buffers": total("buffers"), "total_ns": total("total_ns"),
                "unreg_ns": total("unreg_ns"),
                "per_buffer_ns": {"mean": weighted("mean"),
                                  "p99": blocks[0]["p99"] if one else None}},
        "segments": {"bvecs": total("bvecs"),
                     "bvecs_observed": total("observed"),
                     "per_io_mean": weighted("per_io")},
    }


def load_json(path):
    """fio's JSON document, and any text before it (client mode)."""
    with open(path) as f:
        text = f.read()
    at = text.find("\n{\n") + 1 if not text.startswith("{") else 0
    return json.loads(text[at:]), text[:at]


def folio_name(n):
    if not n:
        return "-"
    return "%dk" % (n >> 10) if n < 1 << 20 else \
        "%dm" % (n >> 20) if n < 1 << 30 else "%dg" % (n >> 30)


def row_of(run, doc, pre):
    jobs = doc.get("jobs") or doc.get("client_stats") or []
    if not jobs:
        die("%s: no job in fio's output" % run["json"])
    job = jobs[0]
    # The job that ran is the one the case names, or the row would carry
    # another job's figures under its name.
    want = run.get("section")
    if want and job.get("jobname") != want:
        die("%s: fio ran job '%s', not [%s]" %
            (run["json"], job.get("jobname"), want))
    u = job.get("uring_folioreg") or from_block(pre)
    if not u:
        die("%s: no uring_folioreg figures" % run["json"])
    reg, seg = u["reg"], u["segments"]
    ddir = "write" if job["write"]["io_bytes"] else "read"
    return {
        "matrix": run["matrix"], "case": run["case"],
        "strategy": u["strategy"], "folio": folio_name(u["folio_bytes"]),
        "buffers": reg["buffers"],
        "reg_total_us": reg["total_ns"] / 1000,
        "per_buffer_mean_ns": reg["per_buffer_ns"]["mean"],
        "per_buffer_p99_ns": reg["per_buffer_ns"]["p99"],
        "unreg_us": reg["unreg_ns"] / 1000,
        "bvecs": seg["bvecs"], "bvecs_observed": seg["bvecs_observed"],
        "per_io_segments": seg["per_io_mean"],
        "iops": job[ddir]["iops"], "bw_mib_s": job[ddir]["bw"] / 1024,
        "cpu_pct": job["usr_cpu"] + job["sys_cpu"],
        "rep": run["case"].rsplit("-r", 1)[0] if run["matrix"] == "scaling"
        else run["case"],
        "count": int(run["env"].get("UFR_COUNT", reg["buffers"])),
        "bs": run["env"].get("UFR_BS", ""),
    }


def load_rows(d):
    try:
        with open(os.path.join(d, "runs.json")) as f:
            runs = json.load(f)
    except OSError:
        die("%s has no runs.json; make it with: compare.py run" % d)
    rows = []
    for run in runs:
        doc, pre = load_json(os.path.join(d, "json", run["json"]))
        rows.append(row_of(run, doc, pre))
    return merge_reps(rows)


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    return vals[(len(vals) - 1) // 2] if vals else None


def merge_reps(rows):
    """One row per scaling point, each figure the median of its runs; a
    registration-only run does too little I/O for I/O figures."""
    out, groups = [], {}
    for r in rows:
        if r["matrix"] != "scaling":
            out.append(r)
            continue
        if r["rep"] not in groups:
            groups[r["rep"]] = []
            out.append(groups[r["rep"]])
        groups[r["rep"]].append(r)
    merged = []
    for r in out:
        if isinstance(r, dict):
            merged.append(r)
            continue
        m = dict(r[0], case=r[0]["rep"])
        for k, v in m.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                m[k] = median(x[k] for x in r)
        m.update(iops=None, bw_mib_s=None, cpu_pct=None)
        merged.append(m)
    return merged


# ---- table ------------------------------------------------------------

def cell(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.0f" % v if abs(v) >= 100 else "%.2f" % v
    return str(v)


def table(args):
    rows = load_rows(args.dir)
    with open(os.path.join(args.dir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["matrix"] + [k for k, _, _ in COLUMNS] + ["bs"])
        for r in rows:
            w.writerow([r["matrix"]] + [r[k] for k, _, _ in COLUMNS] +
                       [r["bs"]])
    for matrix in dict.fromkeys(r["matrix"] for r in rows):
        mrows = [r for r in rows if r["matrix"] == matrix]
        print("\n### %s\n" % matrix)
        print("| " + " | ".join(h + (" (%s)" % u if u else "")
                                for _, h, u in COLUMNS) + " |")
        print("|" + " --- |" * len(COLUMNS))
        for r in mrows:
            print("| " + " | ".join(cell(r[k]) for k, _, _ in COLUMNS) +
                  " |")
    ratio_line(rows)
    print("\ncompare: CSV in %s" % os.path.join(args.dir, "results.csv"))


def ratio_line(rows):
    """per_page against hugetlb_fast at 256 x 1 MiB, when both ran."""
    def pick(st):
        for r in rows:
            if r["strategy"] == st and r["buffers"] == 256 and \
                    r["bs"] in ("", "1m") and r["per_buffer_mean_ns"]:
                return r["per_buffer_mean_ns"]
        return None
    a, b = pick("per_page"), pick("hugetlb_fast")
    if a and b:
        print("\nPer-buffer registration, 256 x 1 MiB: per_page %.0f ns, "
              "hugetlb_fast %.0f ns: %.1fx" % (a, b, a / b))


# ---- plots ------------------------------------------------------------

def gnuplot(script, cwd):
    if not shutil.which("gnuplot"):
        die("gnuplot is not installed; run: apt-get install gnuplot-nox")
    subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd, check=True)


def plot(args):
    rows = load_rows(args.dir)
    d = os.path.abspath(args.dir)
    made = []
    style = ("set terminal pngcairo noenhanced size 1000,640 font 'DejaVu Sans,12'\n"
             "set grid\nset key outside right top\n")

    scal = [r for r in rows if r["matrix"] == "scaling"]
    if scal:
        series = sorted({(r["strategy"], r["bs"]) for r in scal})
        plots = []
        for st, bs in series:
            fn = "scaling-%s-%s.dat" % (st, bs)
            with open(os.path.join(d, fn), "w") as f:
                f.write("# buffers per_buffer_ns\n")
                for r in sorted((r for r in scal if r["strategy"] == st and
                                 r["bs"] == bs), key=lambda r: r["count"]):
                    f.write("%d %f\n" % (r["count"], r["per_buffer_mean_ns"]))
            plots.append("'%s' using 1:2 with linespoints lw 2 "
                         "title '%s, bs=%s'" % (fn, st, bs))
        gnuplot(style + "set output 'reg-scaling.png'\n"
                "set title 'Registration time per buffer against buffer "
                "count (reg_mode=batch)'\n"
                "set logscale xy\nset xlabel 'registered buffers'\n"
                "set ylabel 'time per buffer (ns)'\n"
                "plot " + ", \\\n  ".join(plots) + "\n", d)
        made.append("reg-scaling.png")

    strat = [r for r in rows if r["matrix"] != "scaling"]
    if strat:
        with open(os.path.join(d, "strategies.dat"), "w") as f:
            f.write("# case bvecs bw_mib_s\n")
            one = len({r["matrix"] for r in strat}) == 1
            for r in strat:
                label = r["case"] if one else r["matrix"] + "-" + r["case"]
                f.write("%s %d %f\n" % (label, r["bvecs"], r["bw_mib_s"]))
        bars = ("set style data histograms\nset style fill solid 0.8 "
                "border -1\nset boxwidth 0.8\nset xtics rotate by -30\n"
                "set key off\nset bmargin 8\n")
        gnuplot(style + bars + "set output 'bvecs.png'\n"
                "set title 'bio_vecs the kernel built for the registered "
                "buffers'\nset logscale y\nset yrange [0.5:*]\n"
                "set ylabel 'bio_vecs (log)'\n"
                "plot 'strategies.dat' using 2:xtic(1) lc rgb '#3060a0'\n", d)
        gnuplot(style + bars + "set output 'bandwidth.png'\n"
                "set title 'Bandwidth per strategy'\nset yrange [0:*]\n"
                "set ylabel 'bandwidth (MiB/s)'\n"
                "plot 'strategies.dat' using 3:xtic(1) lc rgb '#a05030'\n",
                d)
        made += ["bvecs.png", "bandwidth.png"]
    for m in made:
        print(os.path.join(args.dir, m))


# ---- two result sets --------------------------------------------------

def diff(args):
    a = {(r["matrix"], r["case"]): r for r in load_rows(args.a)}
    b = {(r["matrix"], r["case"]): r for r in load_rows(args.b)}
    keys = [k for k in a if k in b]
    if not keys:
        die("the two result sets have no case in common")
    metrics = [c for c in COLUMNS if c[0] not in
               ("case", "strategy", "folio", "buffers")]
    print("B / A per metric: %s (A) and %s (B)\n" % (args.a, args.b))
    print("| case | metric | A | B | B/A |")
    print("| --- | --- | --- | --- | --- |")
    for k in keys:
        for key, head, unit in metrics:
            va, vb = a[k][key], b[k][key]
            r = "%.3f" % (vb / va) if va and vb is not None else "-"
            print("| %s-%s | %s%s | %s | %s | %s |" %
                  (k[0], k[1], head, " (%s)" % unit if unit else "",
                   cell(va), cell(vb), r))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a matrix of jobs")
    r.add_argument("matrix", choices=sorted(MATRICES))
    r.add_argument("--out", required=True, help="results directory")
    r.add_argument("--engine", default=os.path.join(TOP, "uring_folioreg.so"))
    r.add_argument("--fio", default="fio")
    r.add_argument("--client", help="run on a fio --server there")
    r.add_argument("--file", default="/tmp/uring_folioreg-compare.dat",
                   help="scratch file for the I/O (needs no device)")
    r.add_argument("--size", default="512m")
    r.add_argument("--depth", type=int, default=64)
    r.add_argument("--numjobs", type=int, default=2)
    r.add_argument("--runtime", type=int, default=4)
    r.add_argument("--scaling-counts",
                   default="16,64,256,1024,4096,16384")
    r.add_argument("--scaling-bs", default="4k,64k,1m,2m")
    r.add_argument("--scaling-strategies", default="per_page,hugetlb_fast")
    r.add_argument("--scaling-reps", type=int, default=3,
                   help="runs per scaling point; the median is kept")
    r.add_argument("--scaling-budget", default="1g",
                   help="largest count x bs to register")
    t = sub.add_parser("table", help="print the table, write results.csv")
    t.add_argument("dir")
    g = sub.add_parser("plot", help="draw PNG plots with gnuplot")
    g.add_argument("dir")
    dfp = sub.add_parser("diff", help="two result sets side by side")
    dfp.add_argument("a")
    dfp.add_argument("b")
    args = p.parse_args()
    {"run": run_matrix, "table": table, "plot": plot, "diff": diff}[
        args.cmd](args)


if __name__ == "__main__":
    main()
