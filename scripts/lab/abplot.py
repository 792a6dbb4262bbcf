"""Plots of a lab A/B (scripts/lab/ab.py plot DIR): per-buffer
registration time against folio size, one PNG per series of cases (a
strategy on a backing, THP and hugetlb apart), one line per variant.

A case is on a plot when its name ends in a folio size,
STRATEGY-BACKING-FOLIO (scripts/lab/spectrum.fio's cases: per_folio-
anon-thp, coalesced-memfd-2m, ...). Left: each variant's median of the
per-buffer p50 over its boots, bars its 95 % bootstrap interval; right:
the variant's ratio to A with the interval of the ratio (the table's:
Welch's t, the table's rows one family, scripts/lab/ab.py ratio_rows).
"""

import os

import ab
from comparekit import KitError, abstats
from comparekit.cases import size_bytes
from comparekit.plots import STYLE, gnuplot, gp_str

PlotError = KitError
FOLIOS = ("4k", "16k", "32k", "64k", "128k", "256k", "512k", "1m", "thp",
          "2m", "1g")
KEY = "per_buffer_p50_ns"


def folio_bytes(folio):
    return 2 << 20 if folio == "thp" else size_bytes(folio)


def series_of(case):
    """(series title, folio bytes) of a spectrum case, or None."""
    parts = case.rsplit("-", 2)
    if len(parts) != 3 or parts[2] not in FOLIOS:
        return None
    strategy, backing, folio = parts
    kind = "hugetlb" if folio in ("2m", "1g") or backing == "hugetlbfs" \
        else "4 KiB pages and THP"
    return "%s, %s, %s" % (strategy, backing, kind), folio_bytes(folio)


def folio_label(b):
    return "%d%s" % ((b >> 30, "G") if b >= 1 << 30 else
                     (b >> 20, "M") if b >= 1 << 20 else (b >> 10, "K"))


def title(meta, series):
    """The plot's title: what, the kernels, the workload, the boots."""
    vs = meta["variants"]
    kernel = "kernel: %s %s; %s" % (meta.get("base", vs[0].get("spec", "")),
                                    vs[0].get("release") or "",
                                    "; ".join("%s = %s" % (
                                        v["name"], v.get("label", ""))
                                        for v in vs[1:]))
    work = "workload: matrix %s %s; %s" % (
        meta["matrix"], " ".join(meta.get("kit") or []), meta["clock"])
    boots = "boots: %s, interleaved; points: median of the boots; bars: " \
        "left its 95 %% bootstrap interval, right the table's 95 %% " \
        "interval of the ratio" % ", ".join(
            "%s %d" % (v["name"], ab.boots_of(meta, v["name"])) for v in vs)
    return "set title %s\n" % gp_str("\n".join([
        "Per-buffer registration p50 against folio size: " + series,
        kernel, work, boots]))


def write_dat(d, fn, points):
    with open(os.path.join(d, fn), "w") as f:
        f.write("# folio_bytes value lo hi\n")
        for x, (m, lo, hi) in sorted(points):
            f.write("%d %f %f %f\n" % (x, m, lo, hi))


def series_dats(d, tag, meta, figs, cases, ratios):
    """Per variant the .dat of its medians and of its ratios to A (the
    table's, RATIOS by case and variant); gnuplot's plot clauses for the
    left and the right panel."""
    left, right = [], []
    for n, v in enumerate(meta["variants"]):
        name, med, rat = v["name"], [], []
        for case, x in cases:
            xs = figs.get(name, {}).get((case, KEY), [])
            m = abstats.median_interval(xs)
            if m.median is not None:
                med.append((x, (m.median, m.lo, m.hi)))
            r = ratios.get((case, name))
            if r and r.ratio is not None and r.lo is not None:
                rat.append((x, (r.ratio, r.lo, r.hi)))
        for which, pts, clauses in (("med", med, left), ("ratio", rat, right)):
            if not pts:
                continue
            fn = "ab-%s-%s-%s.dat" % (tag, which, name)
            write_dat(d, fn, pts)
            clauses.append("'%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
                           "lc %d title '%s'" % (fn, n + 1, name))
    return left, right


def plot_series(d, tag, series, meta, figs, cases, ratios):
    xs = sorted({x for _, x in cases})
    axes = ("set key below horizontal\nset logscale x\n"
            "set xlabel 'folio size (log)'\nset xtics (%s)\n"
            "set xrange [%g:%g]\n" % (", ".join(
                '"%s" %d' % (folio_label(x), x) for x in xs),
                xs[0] / 2, xs[-1] * 2))
    left, right = series_dats(d, tag, meta, figs, cases, ratios)
    png = "ab-reg-%s.png" % tag
    script = (STYLE.replace("1000,700", "1500,750") +
              "set output '%s'\nset multiplot layout 1,2 " % png +
              title(meta, series)[len("set "):] + "set tmargin 2\n" + axes +
              "set logscale y\nset ylabel 'per-buffer registration p50 "
              "(ns, log)'\nplot " + ", \\\n  ".join(left) + "\n")
    if right:
        script += ("unset logscale y\nset ylabel 'variant / A (95 % "
                   "interval)'\nplot " + ", \\\n  ".join(right) +
                   ", 1 with lines dt 2 lc rgb '#808080' notitle\n")
    gnuplot(script + "unset multiplot\n", d)
    return os.path.join(d, png)


def plot(out):
    """The PNGs of the A/B in OUT, their paths."""
    meta, figs, _ = ab.collect(out)
    ratios = {(case, name): r for case, key, _, _, name, r in
              ab.ratio_rows(meta, figs, ab.case_order(figs)) if key == KEY}
    groups = {}
    for case in ab.case_order(figs):
        s = series_of(case)
        if s and any(f.get((case, KEY)) for f in figs.values()):
            groups.setdefault(s[0], []).append((case, s[1]))
    made = []
    for series, cases in groups.items():
        tag = series.split(",")[0] + "-" + series.split(", ")[1] + (
            "-hugetlb" if series.endswith("hugetlb") else "")
        made.append(plot_series(os.path.abspath(out), tag, series, meta,
                                figs, cases, ratios))
    return made
