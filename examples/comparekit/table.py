"""compare.py table: a Markdown table per matrix, DIR/results.csv, and
the lines under each table (workload, statistics, provenance)."""

import csv
import os
import statistics

from . import abstats
from .cases import parse_job
from .provenance import provenance_lines
from .model import load_rows, load_set
from .results import COLUMNS, FIGURES, SPECTRUM_COLUMNS


FLAGS_LEFT_OUT = ("ioengine", "filename", "reg_hugetlbfs_path")


# The job option each variable of the example job files sets.
ENV_OPTION = {"UFR_SIZE": "size", "UFR_DEPTH": "iodepth",
              "UFR_NUMJOBS": "numjobs", "UFR_RUNTIME": "runtime",
              "UFR_BS": "bs", "UFR_COUNT": "iodepth",
              "UFR_STRATEGY": "reg_strategy"}


def job_options(d, run):
    """The options of a case's job file (DIR/jobs), without the engine's
    path and the scratch file's: what the case ran. Without the file, the
    variables it was made with."""
    path = os.path.join(d, "jobs", "%s-%s.fio" % (run.matrix, run.case))
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {ENV_OPTION.get(k, k): v for k, v in run.env.items()
                if k not in ("UFR_ENGINE", "UFR_FILE")}
    return {k: v for k, v in parse_job(text).items()
            if k not in FLAGS_LEFT_OUT}


WORKLOAD_SHOWN = ("rw", "bs", "size", "iodepth", "numjobs", "runtime",
                  "direct", "reg_mode", "rereg_interval", "reg_profile")


def workload_line(d, rows, reps):
    """The job options of ROWS' cases, each value once."""
    vals = {}
    for r in rows:
        for k, v in job_options(d, r).items():
            vals.setdefault(k, [])
            if v not in vals[k]:
                vals[k].append(v)
    shown = ["%s=%s" % (k, ",".join(vals[k])) for k in WORKLOAD_SHOWN
             if k in vals]
    return "workload: %s; %s" % (" ".join(shown) or "-", reps)


def reps_text(rows):
    n = sorted({r.runs for r in rows if not r.unavailable}) or [0]
    return "%s repeat%s per case" % ("/".join(map(str, n)),
                                     "" if n == [1] else "s")


STATS_NOTE = ("cells: median of the repeats [95 %% percentile-bootstrap "
              "interval of the median, %d resamples, seed %d] "
              "(comparekit/abstats.py); one value where every repeat "
              "agreed" % (abstats.RESAMPLES, abstats.SEED))


SPECTRUM_NOTE = (
    "spectrum: reg per call is the mean of the run's register calls (the "
    "first and every re-registration), each sampled by reg_profile=1, "
    "whose cost it includes; reg per io_u buffer is that over the io_u "
    "buffers one call registers (coalesced: all of them as one region); "
    "top kernel functions: the innermost function of each sample under "
    "io_uring_register, the samples of all repeats added up")


def cell(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.0f" % v if abs(v) >= 100 else "%.2f" % v
    return str(v)


def stat_cell(s):
    if s is None:
        return "-"
    if not s.spread():
        return cell(s.median)
    return "%s [%s, %s]" % (cell(s.median), cell(s.lo), cell(s.hi))


def value(r, key):
    """A row's cell: its median (and interval) or its label."""
    if key in r.stats:
        return stat_cell(r.stats[key])
    return cell(getattr(r, key))


def reps_cell(r):
    if r.unavailable:
        return "not available here"
    if not r.failures:
        return str(r.runs)
    return "%s %d/%d" % ("FAILED" if not r.ok else "failed",
                         r.ok, r.runs)


def unavailable_lines(rows):
    """'not available here: CASES: why', one line per reason."""
    by = {}
    for r in rows:
        if r.unavailable:
            by.setdefault(r.unavailable, []).append(r.case)
    prefix = "not available here: "
    return ["%s%s: %s" % (prefix, ", ".join(cases), why[len(prefix):]
                          if why.startswith(prefix) else why)
            for why, cases in by.items()]


CSV_HEAD = (["matrix", "case", "status", "reps_ok", "reps", "strategy",
             "folio", "unit"] +
            [k + s for k, _, _ in FIGURES for s in ("", "_lo", "_hi")] +
            ["bs", "backing", "profile_top", "why"])


def status(r):
    return "unavailable" if r.unavailable else "ok" if not r.failures \
        else "failed" if not r.ok else "partly failed"


def csv_line(r):
    """A row's line of results.csv (CSV_HEAD)."""
    line = [r.matrix, r.case, status(r), r.ok, r.runs, r.strategy, r.folio,
            r.unit]
    for k, _, _ in FIGURES:
        s = r.stats[k]
        line += [s.median, s.lo, s.hi] if s else ["", "", ""]
    return line + [r.bs, r.backing, r.profile_top, r.unavailable or ""]


def markdown(matrix, rows):
    """The Markdown table of MATRIX's ROWS, and the lines under it that
    speak of its cases (failed runs, cases not available here)."""
    cols = SPECTRUM_COLUMNS if matrix == "spectrum" else COLUMNS
    lines = ["| " + " | ".join(h + (" (%s)" % u if u else "")
                               for _, h, u in cols) + " | reps |",
             "|" + " --- |" * (len(cols) + 1)]
    for r in rows:
        lines.append("| " + " | ".join(value(r, k) for k, _, _ in cols) +
                     " | " + reps_cell(r) + " |")
    lines.append("")
    for r in rows:
        for f in r.failures:
            why, err = f.why or "failed", f.error or "-"
            lines.append("FAILED: %s-%s rep %s: %s" % (
                matrix, r.case, f.rep,
                why if err in why else why + ": " + err))
    return lines + unavailable_lines(rows)


def table(d):
    """compare.py table DIR: the tables on stdout, DIR/results.csv."""
    rows = load_rows(d)
    _, prov, _ = load_set(d)
    with open(os.path.join(d, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_HEAD)
        for r in rows:
            w.writerow(csv_line(r))
    versions = set().union(*(r.versions for r in rows))
    for matrix in dict.fromkeys(r.matrix for r in rows):
        mrows = [r for r in rows if r.matrix == matrix]
        print("\n### %s\n" % matrix)
        print("\n".join(markdown(matrix, mrows)))
        print("unit: what one registration figure is per: io_u, one "
              "buffer of each I/O unit; region, one coalesced region "
              "holding many (buffers = regions)")
        if matrix == "spectrum":
            print(SPECTRUM_NOTE)
        print(STATS_NOTE)
        print(workload_line(d, mrows, reps_text(mrows)))
        for line in provenance_lines(prov, versions):
            print(line)
    ratio_line(rows)
    print("\ncompare: CSV in %s" % os.path.join(d, "results.csv"))


def ratio_line(rows):
    """per_page against hugetlb_fast at 256 x 1 MiB, when both ran."""
    def pick(st):
        for r in rows:
            if r.strategy == st and r.stats["buffers"] and \
                    r.stats["buffers"].median == 256 and \
                    r.bs in ("", "1m") and \
                    r.stats["per_buffer_mean_ns"]:
                return r.figures["per_buffer_mean_ns"]
        return None
    a, b = pick("per_page"), pick("hugetlb_fast")
    if not (a and b):
        return
    if min(len(a), len(b)) > 1:
        # median(per_page) / median(hugetlb_fast), with its interval
        r = abstats.ratio(b, a)
        times, ci = abstats.fmt_ratio(r)
        print("\nPer-buffer registration, 256 x 1 MiB: per_page %.0f ns, "
              "hugetlb_fast %.0f ns: %sx, 95 %% interval %s" %
              (r.median_b, r.median_a, times, ci))
    else:
        a, b = statistics.median(a), statistics.median(b)
        print("\nPer-buffer registration, 256 x 1 MiB: per_page %.0f ns, "
              "hugetlb_fast %.0f ns: %.1fx" % (a, b, a / b))
