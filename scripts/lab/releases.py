#!/usr/bin/env python3
"""Registration cost across kernel releases (docs/releases.md).

    releases.py run --out DIR [--boots N] KERNEL... [-- lab.py options]
    releases.py render DIR

run: the lab's releases matrices (scripts/lab/releases.fio: 4 KiB pages
and 2 MiB hugetlb; releases-16k.fio: 16 KiB multi-size THP, booted with
thp_anon=16K:always) on every KERNEL, N rounds (default 3), each round
booting every kernel once per matrix, kernels interleaved, so that each
kernel's figures come from N boots. Every guest runs under QEMU's -icount
(--icount 0 unless given): its clock counts instructions, 1 ns each, so a
"time" is a deterministic count of guest instructions, not time, and
compares only with other runs under the same -icount. Results go to
DIR/boot-R/MATRIX/KERNEL/ as the lab writes them, each case's reg_stats
(json/NAME.stats.json) holding every buffer's registration time in the
order the buffers went into the sparse table.

render: DIR/releases.png (per-buffer registration against the buffers
registered before it, a line per kernel, a panel per buffer and page
size), DIR/releases.md (the per-buffer cost at 16, 1024 and 16384
buffers per kernel, the median over boots with its 95 % interval) and
DIR/releases.csv (every bin of every kernel).
"""

import argparse
import glob
import json
import math
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
from comparekit import KitError, abstats  # noqa: E402
from comparekit.plots import gnuplot, gp_str  # noqa: E402

MATRICES = (("releases", []), ("releases-16k", ["--append",
                                                 "thp_anon=16K:always"]))
# The guest: one vCPU (icount's clock is one instruction counter), the
# hugetlb pages the 2m cases take, no 1 GiB page.
LAB_DEFAULTS = ["--icount", "0", "--smp", "1", "--mem", "3G", "--huge1g",
                "0", "--huge2m", "520", "--boot-timeout", "900"]
CASES = ("64k-4k", "64k-16k", "64k-2m", "1m-4k", "1m-16k", "1m-2m")
AT = (16, 1024, 16384)
PAGES = {"4k": "4 KiB pages", "16k": "16 KiB mTHP", "2m": "2 MiB hugetlb"}


def say(msg):
    print("releases: " + msg, file=sys.stderr, flush=True)


# ---- run ---------------------------------------------------------------

def run(opts, lab_opts):
    given = set(a.split("=")[0] for a in lab_opts if a.startswith("--"))
    base = []
    for i in range(0, len(LAB_DEFAULTS), 2):
        if LAB_DEFAULTS[i] not in given:
            base += LAB_DEFAULTS[i:i + 2]
    failed = 0
    for b in range(1, opts.boots + 1):
        for matrix, extra in MATRICES:
            out = os.path.join(opts.out, "boot-%d" % b, matrix)
            cmd = [os.path.join(HERE, "lab.py"), "--matrix", matrix,
                   "--out", out] + base + extra + lab_opts + opts.kernels
            say("round %d of %d, %s: %s" % (b, opts.boots, matrix,
                                             " ".join(cmd[1:])))
            # A kernel whose cases fail (16k on 6.1) is no reason to stop.
            failed |= subprocess.run(cmd).returncode
    say("draw it: scripts/lab/releases.py render %s" % opts.out)
    return 1 if failed else 0


# ---- render ------------------------------------------------------------

def version_of(release):
    m = re.match(r"(\d+)\.(\d+)", release or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def case_of(name):
    """releases-64k-2m -> 64k-2m; None for another matrix's case."""
    m = re.match(r"releases(?:-16k)?-(\d+[km]-\d+[km])$", name)
    return m.group(1) if m else None


class Kernel:
    """One kernel's results over its boots."""

    def __init__(self, label):
        self.label = label
        self.release = None
        self.icount = set()
        self.times = {}     # case -> [per-boot list of times]
        self.why = {}       # case -> why it is not there


def no_16k_folios(case, c, kdir, sibling):
    """Why a 16k case that ran did not run on 16 KiB folios, or None:
    the folio size the engine read (pagemap) where it could, else the
    guest's pins against those of the same buffers on 4 KiB pages (the
    4k case of the same round: from 6.10 a 16 KiB folio is one pin)."""
    try:
        with open(os.path.join(kdir, "json", c["name"] + ".json")) as f:
            seg = json.load(f)["jobs"][0]["uring_folioreg"]
    except (OSError, ValueError, IndexError, KeyError):
        seg = {}
    if seg.get("segments", {}).get("source") == "pagemap" and \
            seg.get("folio_bytes") not in (None, 16384):
        return ("the engine read folios of %s bytes, not 16 KiB" %
                seg["folio_bytes"])
    base = sibling.get(case.replace("-16k", "-4k"))
    if base is None or c.get("pins") is None:
        return None
    if c["pins"] >= base:
        return ("the guest pinned %d pages, as many as on 4 KiB pages "
                "(%d): no 16 KiB folios" % (c["pins"], base))
    return None


def unavailable(k, case, cases, prov, kdir, sibling):
    """Why CASE is not a figure on this kernel, or None."""
    c = cases.get(case)
    v = version_of(k.release)
    if case.endswith("-16k") and v and v < (6, 8):
        return ("Linux %s has no multi-size THP (it came in 6.8: no "
                "hugepages-16kB)" % k.release)
    if c is None:
        return "not run"
    if c.get("status") != "ok":
        return c.get("why") or c.get("status")
    if case.endswith("-16k"):
        return no_16k_folios(case, c, kdir, sibling)
    return None


def pins_of(kdir):
    """{case: the guest's pins} of a results directory, {} without one."""
    try:
        with open(os.path.join(kdir, "cases.json")) as f:
            return {case_of(c["name"]): c.get("pins") for c in json.load(f)
                    if case_of(c["name"])}
    except (OSError, ValueError):
        return {}


def load(d):
    """{label: Kernel} from every DIR/boot-*/MATRIX/LABEL."""
    kernels = {}
    for kdir in sorted(glob.glob(os.path.join(d, "boot-*", "*", "*", ""))):
        prov_path = os.path.join(kdir, "provenance.json")
        if not os.path.exists(prov_path):
            continue
        with open(prov_path) as f:
            prov = json.load(f)
        label = os.path.basename(os.path.dirname(kdir))
        k = kernels.setdefault(label, Kernel(label))
        k.release = prov["kernel"].get("release") or k.release
        k.icount.add(prov.get("icount_shift"))
        with open(os.path.join(kdir, "cases.json")) as f:
            cases = {case_of(c["name"]): c for c in json.load(f)
                     if case_of(c["name"])}
        # The 4 KiB cases of the same round, for the 16 KiB ones.
        sibling = pins_of(os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(kdir))), "releases", label))
        for case in cases:
            why = unavailable(k, case, cases, prov, kdir, sibling)
            if why:
                k.why.setdefault(case, why)
                continue
            path = os.path.join(kdir, "json", cases[case]["name"] +
                                ".stats.json")
            try:
                with open(path) as f:
                    job = json.load(f)["jobs"][0]
            except (OSError, ValueError, IndexError, KeyError) as e:
                k.why.setdefault(case, "no reg_stats file (%s)" % e)
                continue
            t = job.get("reg_times_ns")
            if not t:
                k.why.setdefault(case, "reg_stats has no per-buffer times")
                continue
            k.times.setdefault(case, []).append(t)
    if not kernels:
        raise KitError("%s holds no results of releases.py run "
                       "(boot-*/MATRIX/KERNEL/provenance.json)" % d)
    return kernels


def bins(n):
    """The buffers registered before each bin's buffers: [lo, hi) in
    powers of two (0, 1, 2-3, 4-7, ... up to N)."""
    out, lo = [(0, 1)], 1
    while lo < n:
        out.append((lo, min(2 * lo, n)))
        lo *= 2
    return out


def median_ci(xs, level=0.95):
    """The median of XS and its distribution-free interval: the order
    statistics whose ranks a binomial(n, 1/2) puts around the middle
    (the interval over the buffers of one boot)."""
    xs = sorted(xs)
    n = len(xs)
    if n > 100:
        # the normal approximation of the binomial (z for 95 %)
        k = max(int(math.floor(n / 2.0 - 1.96 * math.sqrt(n) / 2.0)), 0)
    else:
        tail, k = 0.0, 0
        # the largest k with P(Bin(n, 1/2) < k) <= (1 - level) / 2
        while k < n // 2:
            p = tail + math.comb(n, k) / (1 << n)
            if p > (1 - level) / 2:
                break
            tail, k = p, k + 1
    return statistics.median(xs), xs[max(k - 1, 0)], xs[min(n - k, n - 1)]


def interval(slices):
    """(median, lo, hi, what the interval is over) of per-boot SLICES of
    times: over boots when there are several (each boot's median), else
    over the buffers of the one boot."""
    if len(slices) > 1:
        m = abstats.median_interval([statistics.median(s) for s in slices])
        return m.median, m.lo, m.hi, "%d boots" % len(slices)
    m, lo, hi = median_ci(slices[0])
    return m, lo, hi, "%d buffers of 1 boot" % len(slices[0])


def per_bin(times):
    """[(lo, hi, interval)] over the boots' times (buffer i registered
    with i before it)."""
    n = min(len(t) for t in times)
    return [(lo, hi, interval([t[lo:hi] for t in times]))
            for lo, hi in bins(n)]


def at(times, n):
    """Per boot, the times of the buffers registered with n/2 to n-1
    before them (the bin ending at N buffers); None past the end."""
    if min(len(t) for t in times) < n:
        return None
    return [t[n // 2:n] for t in times]


def fmt_us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1000.0)


def cell(slices):
    if slices is None:
        return None
    m, lo, hi, over = interval(slices)
    return "%s [%s, %s] (%s)" % (fmt_us(m), fmt_us(lo), fmt_us(hi), over)


def order(kernels):
    return sorted(kernels.values(),
                  key=lambda k: (version_of(k.release) or (99, 0),
                                 k.label))


def shift_text(ks):
    shifts = {s for k in ks for s in k.icount}
    if shifts == {0}:
        return ("guest time under QEMU -icount shift=0: 1 ns per guest "
                "instruction, so 1 us = 1000 instructions, deterministic, "
                "not time")
    return ("guest time, QEMU -icount shift %s: a count of guest "
            "instructions (2^shift ns each), not time" %
            ",".join(str(s) for s in sorted(shifts, key=str)))


def write_table(d, ks):
    lines = ["# Registration cost across releases", "",
             "Per-buffer registration (reg_mode=each, one "
             "IORING_REGISTER_BUFFERS_UPDATE per buffer into a sparse "
             "table), in us of " + shift_text(ks) + ". A cell is the "
             "median time of the buffers registered with N/2 to N-1 already "
             "there [95 % interval]: over boots (the median of each boot's "
             "median) where the kernel booted more than once, else over "
             "those buffers of its one boot (the order statistics around "
             "the median).", ""]
    head = "| case | " + " | ".join("%s (%s)" % (k.label, k.release)
                                     for k in ks) + " |"
    lines += [head, "| --- |" + " --- |" * len(ks)]
    for case in CASES:
        for n in AT:
            row = []
            for k in ks:
                t = k.times.get(case)
                if not t:
                    row.append("unavailable")
                    continue
                c = cell(at(t, n))
                row.append(c or "- (%d buffers at most)" %
                           min(map(len, t)))
            lines.append("| %s, %d buffers | %s |" % (case, n,
                                                       " | ".join(row)))
    notes = sorted({(k.label, case, why) for k in ks
                    for case, why in k.why.items()})
    if notes:
        lines += ["", "Unavailable:", ""]
        lines += ["- %s %s: %s" % n for n in notes]
    with open(os.path.join(d, "releases.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return "\n".join(lines)


def write_data(d, ks):
    """releases.csv, and one gnuplot data file per kernel and case."""
    rows = ["kernel,release,case,registered_lo,registered_hi,over,"
            "median_ns,lo_ns,hi_ns"]
    files = {}
    for k in ks:
        for case, t in k.times.items():
            name = "releases-%s-%s.dat" % (k.label, case)
            with open(os.path.join(d, name), "w") as f:
                for lo, hi, (m, mlo, mhi, over) in per_bin(t):
                    x = (lo * max(hi - 1, 1)) ** 0.5 if lo else 0.5
                    f.write("%g %g %g %g\n" % (x, m / 1000.0, mlo / 1000.0,
                                               mhi / 1000.0))
                    rows.append("%s,%s,%s,%d,%d,%s,%g,%g,%g" % (
                        k.label, k.release, case, lo, hi, over, m, mlo,
                        mhi))
            files[(k.label, case)] = name
    with open(os.path.join(d, "releases.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    return files


def plot(d, ks, files):
    script = ("set terminal pngcairo noenhanced size 1260,800 "
              "font 'DejaVu Sans,9'\nset output 'releases.png'\n"
              "set tmargin 4\nset multiplot layout 2,3 title %s\n"
              "set logscale xy\nset grid\nset key top left Left reverse\n"
              "set xlabel 'buffers registered before it'\n"
              "set ylabel 'per-buffer registration (us, -icount)'\n" %
              gp_str("Per-buffer registration vs buffers already registered"
                     " (fio's buffers, unprivileged, reg_mode=each)\n" +
                     shift_text(ks) + "\nline: median of the buffers in "
                     "each power-of-two bin, bars: its 95 % interval (over "
                     "boots, or over the bin's buffers with one boot)"))
    for case in CASES:
        size, page = case.split("-")
        plots = []
        for i, k in enumerate(ks):
            name = files.get((k.label, case))
            if name:
                # Dash and point types apart: kernels that agree
                # (7.2 and 7.3) draw on top of each other.
                plots.append("'%s' using 1:2:3:4 with yerrorlines lc %d "
                             "dt %d pt %d ps 0.7 title %s" % (
                                 name, i + 1, i + 1, i + 4, gp_str(
                                     "%s %s" % (k.label, k.release))))
        title = "%s buffers, %s" % ({"64k": "64 KiB", "1m": "1 MiB"}[size],
                                    PAGES[page])
        off = ["%s: %s" % (k.label, k.why[case][:60]) for k in ks
               if case in k.why and (k.label, case) not in files]
        script += "set title %s\n" % gp_str("\n".join([title] + off))
        if plots:
            script += "plot " + ", \\\n  ".join(plots) + "\n"
        else:
            script += ("unset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
                       "set label 1 'no figures' at 0.5,0.5 center\n"
                       "plot 2 notitle\nunset label 1\nset logscale xy\n"
                       "set autoscale\n")
    script += "unset multiplot\n"
    gnuplot(script, d)
    return os.path.join(d, "releases.png")


def render(d):
    ks = order(load(d))
    files = write_data(d, ks)
    print(write_table(d, ks))
    png = plot(d, ks, files)
    say("wrote %s, %s, %s" % (png, os.path.join(d, "releases.md"),
                              os.path.join(d, "releases.csv")))
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="boot every kernel, N rounds")
    r.add_argument("--out", required=True)
    r.add_argument("--boots", type=int, default=3)
    r.add_argument("kernels", nargs="+", metavar="KERNEL")
    sub.add_parser("render", help="the plot and the table").add_argument(
        "dir")
    lab_opts = []
    if "--" in argv:
        at_ = argv.index("--")
        argv, lab_opts = argv[:at_], argv[at_ + 1:]
    opts = p.parse_args(argv)
    try:
        if opts.cmd == "run":
            if opts.boots < 1:
                raise KitError("--boots %d: give 1 or more" % opts.boots)
            return run(opts, lab_opts)
        return render(opts.dir)
    except KitError as e:
        print("releases: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
