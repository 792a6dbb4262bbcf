"""compare.py plot: PNG plots of a results directory with gnuplot."""

import os
import shutil
import subprocess

from . import KitError
from .cases import size_bytes
from .model import load_rows, load_set
from .results import UNIT, folio_name
from .table import reps_text, unavailable_lines, workload_line


def gnuplot(script, cwd):
    if not shutil.which("gnuplot"):
        raise KitError("gnuplot is not installed; run: apt-get install "
                       "gnuplot-nox")
    subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd, check=True)


def gp_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace(
        "\n", "\\n")


def plot_title(title, d, rows, prov, stats=None, off=()):
    """A title, and under it what the figures were measured on, and the
    cases of OFF (rows not available here) with why."""
    engines = sorted({v for r in rows for v, _ in r.versions if v})
    client = set(prov.get("client_side") or ()) if prov else set()
    sub = "Linux %s%s, %s%s, uring_folioreg %s" % (
        prov["kernel"]["release"],
        " (client machine)" if "kernel" in client else "", prov["fio"],
        " (client machine)" if "fio" in client else "",
        ",".join(engines) or "?") if prov else "provenance not recorded"
    work = workload_line(d, rows, "")[len("workload: "):].rstrip("; ")
    stats = "%s: %s" % (reps_text(rows),
                        stats or "median, bars: 95 % interval")
    lines = [title, sub, work, stats] + unavailable_lines(off)
    return "set title %s\n" % gp_str("\n".join(lines))


STYLE = ("set terminal pngcairo noenhanced size 1000,700 "
         "font 'DejaVu Sans,11'\nset grid\nset tmargin 6\n")


def lohi(s):
    """A figure's median and interval, the median where there is none."""
    if s is None:
        return 0, 0, 0
    m = s.median
    return m, s.lo if s.lo is not None else m, \
        s.hi if s.hi is not None else m


def spectrum_line(r):
    """The plot line of a spectrum case: its backing, and for anonymous
    memory and a memfd whether THP (4 KiB pages up to PMD THP) or
    hugetlb."""
    series = r.case.rsplit("-", 1)[0]
    if series in ("anon", "memfd") and r.case.endswith(("-2m", "-1g")):
        return series + ", hugetlb"
    return {"anon": "anon, 4 KiB pages and THP",
            "memfd": "memfd, 4 KiB shmem and shmem THP",
            "hugetlbfs": "hugetlbfs file",
            "hugetlb_fast": "anon, hugetlb, hugetlb_fast"}.get(series, series)


def spectrum_plots(d, rows, prov, off):
    """spectrum-reg.png, spectrum-segments.png, spectrum-profile.png."""
    if not rows:
        return []
    lines = list(dict.fromkeys(spectrum_line(r) for r in rows))
    folios = sorted({size_bytes(r.folio) for r in rows if
                     r.folio != "-"})
    xtics = "set xtics (%s)\nset xrange [%g:%g]\n" % (", ".join(
        '"%s" %d' % (folio_name(f), f) for f in folios),
        folios[0] / 2 if folios else 1, folios[-1] * 2 if folios else 2)

    def series(key, tag):
        """One .dat per plot line (x: folio bytes; the figure's median,
        lo, hi) and gnuplot's plot clauses for them."""
        clauses = []
        for n, line in enumerate(lines):
            fn = "spectrum-%s-%d.dat" % (tag, n)
            with open(os.path.join(d, fn), "w") as f:
                f.write("# folio_bytes %s lo hi (%s)\n" % (key, line))
                for r in sorted((r for r in rows if spectrum_line(r) == line
                                 and r.stats[key]),
                                key=lambda r: size_bytes(r.folio)):
                    f.write("%d %f %f %f\n" % ((size_bytes(r.folio),) +
                                               lohi(r.stats[key])))
            clauses.append("'%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
                           "lc %d title '%s'" % (fn, n + 1, line))
        return clauses

    made = []
    axes = "set key below horizontal\nset logscale xy\n" \
        "set xlabel 'folio size (log)'\n" + xtics
    gnuplot(STYLE + "set output 'spectrum-reg.png'\n" +
            plot_title("Registration time per io_u buffer against folio "
                       "size (sampled by reg_profile=1)", d, rows, prov,
                       off=off) +
            axes + "set ylabel 'register call / io_u buffers (ns, log)'\n"
            "plot " + ", \\\n  ".join(series("reg_per_io_u_ns", "reg")) +
            "\n", d)
    made.append("spectrum-reg.png")
    gnuplot(STYLE.replace("1000,700", "1400,700") +
            "set output 'spectrum-segments.png'\n"
            "set multiplot layout 1,2 " + plot_title(
                "bio_vecs of the registered buffers, and segments per I/O, "
                "against folio size", d, rows, prov,
                off=off)[len("set "):] +
            "set tmargin 2\n" + axes +
            "set ylabel 'bio_vecs, all buffers (count, log)'\n"
            "plot " + ", \\\n  ".join(series("bvecs", "bvecs")) + "\n" +
            "set ylabel 'segments per I/O (count, log)'\n"
            "plot " + ", \\\n  ".join(series("per_io_segments", "segs")) +
            "\nunset multiplot\n", d)
    made.append("spectrum-segments.png")
    # The profile: each case's pooled shares of the functions that weigh
    # most over all cases, the rest as other.
    weight = {}
    for r in rows:
        for f, x in r.shares:
            weight[f] = weight.get(f, 0) + x
    top = sorted(weight, key=lambda f: -weight[f])[:5]
    with open(os.path.join(d, "spectrum-profile.dat"), "w") as f:
        f.write("# case %s other\n" % " ".join(top))
        for r in sorted(rows, key=lambda r: (lines.index(spectrum_line(r)),
                                             size_bytes(r.folio))):
            sh = dict(r.shares)
            got = [sh.get(fn, 0) for fn in top]
            f.write("%s %s %f\n" % (
                gp_str(r.case + ("" if r.shares else " (no profile)")),
                " ".join("%f" % x for x in got),
                1 - sum(got) if r.shares else 0))
    gnuplot(STYLE + "set output 'spectrum-profile.png'\n" +
            plot_title("Where registration time goes: share of the kernel "
                       "samples per function (reg_profile=1)", d, rows,
                       prov, "the samples of all repeats added up",
                       off) +
            "set style data histograms\nset style histogram rowstacked\n"
            "set style fill solid 0.85 border -1\nset boxwidth 0.75\n"
            "set key below horizontal\nset yrange [0:1]\n"
            "set xtics rotate by -30\nset bmargin 10\nset rmargin 8\n"
            "set ylabel 'share of the samples'\n"
            "plot " + ", \\\n  ".join(
                "'spectrum-profile.dat' using %d%s title '%s'" % (
                    i + 2, ":xtic(1)" if not i else "", fn)
                for i, fn in enumerate(top + ["other"])) + "\n", d)
    made.append("spectrum-profile.png")
    return made


def scaling_plot(d, scal, prov, off):
    """reg-scaling.png: the time per registered unit against the count,
    a line per strategy and block size."""
    plots = []
    for st, bs in sorted({(r.strategy, r.bs) for r in scal}):
        fn = "scaling-%s-%s.dat" % (st, bs)
        with open(os.path.join(d, fn), "w") as f:
            f.write("# buffers per_unit_ns lo hi\n")
            for r in sorted((r for r in scal if r.strategy == st and
                             r.bs == bs), key=lambda r: r.count):
                f.write("%d %f %f %f\n" % (
                    (r.count,) + lohi(r.stats["per_buffer_mean_ns"])))
        plots.append("'%s' using 1:2:3:4 with yerrorlines lw 2 "
                     "title '%s %s%s'" %
                     (fn, st, bs, " (per region)"
                      if UNIT.get(st) == "region" else ""))
    gnuplot(STYLE + "set output 'reg-scaling.png'\n" +
            plot_title("Registration time per buffer against buffer "
                       "count (reg_mode=batch)", d, scal, prov, off=off) +
            "set key below horizontal\n"
            "set logscale xy\nset xlabel 'registered buffers (count)'\n"
            "set ylabel 'time per registered unit (ns, log)'\n"
            "plot " + ", \\\n  ".join(plots) + "\n", d)
    return ["reg-scaling.png"]


def strategies_dat(d, strat):
    """strategies.dat: a line per case, the figures the bars show."""
    one = len({r.matrix for r in strat}) == 1
    with open(os.path.join(d, "strategies.dat"), "w") as f:
        f.write("# case bvecs lo hi bw lo hi reg_ns lo hi reg_note "
                "bvecs_note case_and_unit\n")
        for r in strat:
            label = r.case if one else r.matrix + "-" + r.case
            unit_label = label + (
                " (per region)" if UNIT.get(r.strategy) == "region" else "")
            st = r.stats
            reg = lohi(st["per_buffer_mean_ns"])
            note = "0: nothing registered" if not reg[0] else ""
            f.write("%s %s %s %s %s %s %s\n" % (
                gp_str(label),
                " ".join("%f" % x for x in lohi(st["bvecs"])),
                " ".join("%f" % x for x in lohi(st["bw_mib_s"])),
                " ".join("%f" % x for x in reg),
                gp_str(note if note else ""),
                gp_str("0: none" if not lohi(st["bvecs"])[0] else ""),
                gp_str(unit_label)))


BARS = ("set style data histograms\n"
        "set style histogram errorbars gap 1 lw 1\n"
        "set style fill solid 0.8 border -1\nset boxwidth 0.8\n"
        "set xtics rotate by -30\nset key off\nset bmargin 9\n"
        "set xlabel 'case'\n")


def bar_plot(d, strat, prov, off, png, title, ylabel, col, color, key=None,
             note=None, xtic=1):
    """Columns COL..COL+2 of strategies.dat as bars with error bars;
    with KEY (a figure) on a log axis, where a zero has no place: its
    bar is left out and column NOTE's words stand at the foot of its
    slot instead."""
    axis = "set yrange [0:*]\n"
    foot = ""
    if key:
        low = min([x for x in (lohi(r.stats[key])[1] for r in strat)
                   if x > 0] or [1])
        axis = "set logscale y\nset yrange [%g:*]\n" % (low / 4)
        foot = ", '' using 0:(%g):%d with labels rotate by 90 " \
            "left offset 0,0.5 tc rgb '#303030'" % (low / 3, note)
    gnuplot(STYLE + BARS + "set output '%s'\n" % png +
            plot_title(title, d, strat, prov, off=off) + axis +
            "set ylabel '%s'\n" % ylabel +
            "plot 'strategies.dat' using %d:%d:%d:xtic(%d) "
            "lc rgb '%s'" % (col, col + 1, col + 2, xtic, color) +
            foot + "\n", d)
    return png


def strategy_plots(d, strat, prov, off):
    """registration.png, bvecs.png, bandwidth.png: a bar per case."""
    strategies_dat(d, strat)
    return [
        bar_plot(d, strat, prov, off, "registration.png",
                 "Registration time per registered unit (reg_mode=each)",
                 "time per buffer or region (ns, log)", 8, "#308050",
                 "per_buffer_mean_ns", 11, 13),
        bar_plot(d, strat, prov, off, "bvecs.png", "bio_vecs the kernel "
                 "built for the registered buffers", "bio_vecs (count, "
                 "log)", 2, "#3060a0", "bvecs", 12),
        bar_plot(d, strat, prov, off, "bandwidth.png", "Bandwidth per "
                 "strategy", "bandwidth (MiB/s)", 5, "#a05030")]


def plot(d):
    """compare.py plot DIR: the PNGs of its matrices, their paths
    printed."""
    every = load_rows(d)
    _, prov, _ = load_set(d)
    out = os.path.abspath(d)

    def kind(r):
        return r.matrix if r.matrix in ("scaling", "spectrum") else "other"
    made = []
    for k, draw in (("spectrum", spectrum_plots), ("scaling", scaling_plot),
                    ("other", strategy_plots)):
        rows = [r for r in every if r.ok and kind(r) == k]
        off = [r for r in every if r.unavailable and kind(r) == k]
        if rows:
            made += draw(out, rows, prov, off)
    for m in made:
        print(os.path.join(d, m))
