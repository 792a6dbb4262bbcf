"""compare.py diff: result set B against A, figure by figure, with the
ratio of the medians, its interval and a verdict."""

from . import KitError, abstats, warn
from .provenance import provenance_lines
from .model import load_rows, load_set
from .results import FIGURES
from .table import job_options, reps_text


def workload_differences(a, b, rows_a, rows_b, common):
    """Lines saying how the workloads of A and B differ, case by case,
    option by option (the job files each case ran)."""
    diffs = {}
    for key in common:
        oa, ob = job_options(a, rows_a[key]), job_options(b, rows_b[key])
        for opt in sorted(set(oa) | set(ob)):
            if oa.get(opt) != ob.get(opt):
                d = diffs.setdefault((opt, oa.get(opt), ob.get(opt)), [])
                d.append("%s-%s" % key)
    return ["%s: %s (A) against %s (B), in %s" %
            (opt, va if va is not None else "unset",
             vb if vb is not None else "unset",
             ", ".join(cases) if len(cases) <= 3 else
             "%d cases" % len(cases))
            for (opt, va, vb), cases in diffs.items()]


def diff(dir_a, dir_b, allow_mismatch=False):
    a = {(r.matrix, r.case): r for r in load_rows(dir_a)}
    b = {(r.matrix, r.case): r for r in load_rows(dir_b)}
    common = [k for k in a if k in b]
    only_a = [k for k in a if k not in b]
    only_b = [k for k in b if k not in a]
    for side, keys in (("A", only_a), ("B", only_b)):
        if keys:
            print("only in %s (%s): %s" % (
                side, dir_a if side == "A" else dir_b,
                ", ".join("%s-%s" % k for k in keys)))
    if not common:
        raise KitError("the two result sets have no case in common")
    differ = workload_differences(dir_a, dir_b, a, b, common)
    if differ:
        for line in differ:
            print("workload differs: " + line)
        if not allow_mismatch:
            raise KitError("the two result sets ran different workloads "
                           "(above); compare like with like, or pass "
                           "--allow-mismatch")
        warn("WARNING: comparing different workloads (--allow-mismatch)")
    for side, d in (("A", dir_a), ("B", dir_b)):
        _, prov, _ = load_set(d)
        rows = list((a if side == "A" else b).values())
        versions = set().union(*(r.versions for r in rows))
        print("\n%s: %s, %s" % (side, d, reps_text(rows)))
        for line in provenance_lines(prov, versions):
            print("  " + line)
    metrics = [c for c in FIGURES if c[0] != "buffers"]
    print("\nB / A per figure: the ratio of the medians, its 95 % interval "
          "and the verdict: same when the interval contains 1, else lower "
          "or higher. The interval: Welch's t on the logarithms of the "
          "repeats, the figures that vary from run to run one family "
          "(Bonferroni), figures that do not compared exactly "
          "(comparekit/abstats.py)\n")
    print("| case | metric | A | B | B/A | 95% CI | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    lines, pairs = [], []
    for k in common:
        ra, rb = a[k], b[k]
        for side, r in (("A", ra), ("B", rb)):
            if r.unavailable:
                lines.append("| %s-%s | %s in %s | | | | | |" %
                             (k[0], k[1], r.unavailable, side))
            if r.failures:
                lines.append("| %s-%s | runs failed in %s | %d of %d "
                             "| | | | |" % (k[0], k[1], side,
                                            len(r.failures), r.runs))
        for key, head, unit in metrics:
            fa, fb = ra.figures[key], rb.figures[key]
            if all(v is None for v in fa + fb):
                continue
            if key.startswith("per_buffer"):
                head = head.replace("unit", ra.unit)
            lines.append(("%s-%s" % k, head + (" (%s)" % unit
                                               if unit else "")))
            pairs.append((fa, fb))
    rs = iter(abstats.ratios(pairs))
    for line in lines:
        print(line if isinstance(line, str) else figure_row(line, next(rs)))


def figure_row(where, r):
    """One figure's row of the diff: case, metric, medians, ratio,
    interval, verdict."""
    times, ci = abstats.fmt_ratio(r)
    verdict = r.verdict
    if r.ratio is not None and r.lo is None:
        ci, verdict = "none (1 run)", "differs, 1 run: no verdict"
    return "| %s | %s | %s | %s | %s | %s | %s |" % (
        where + (abstats.fmt_num(r.median_a), abstats.fmt_num(r.median_b),
                 times, ci, verdict))
