#!/usr/bin/env python3
"""A/B of kernels in the lab: a base kernel built from source (A) and
the same source with each of one or more patches (B, C, D, ...), booted
interleaved A B C ... A B C ..., each boot running one matrix of the
comparison kit; then one table: per case, metric and variant the median
of A, the variant's median, its ratio to A with a 95 % interval (the
table's rows that vary one family) and a verdict
(examples/comparekit/abstats.py); the same as
ab.csv, and plots of per-buffer registration against folio size.

  ab.py run --base sid --patch a.patch [--patch b.patch ...] \\
            --matrix rfc --out DIR [--boots 5] [--icount SHIFT] [-- KIT]
  ab.py table DIR
  ab.py plot DIR

--base: src:SUITE or src:DIR (a bare suite name means src:SUITE). Each
--patch is one variant: a patch file, several joined with "+" (applied
in order to one kernel), or "-" / "none" for the base itself (an A/A
variant: what "same" looks like). No --patch: one A/A variant. The
kernels come from scripts/lab/kernel-build.sh and are cached: a second
run builds nothing. Each boot is one scripts/lab/lab.py run (results in
DIR/boots/NN-X). KIT: compare.py run options (--runtime 2, --size 256m).

A variant whose patch does not apply, whose kernel does not build or
does not boot gets one "lab:" line naming it, the step and the log; the
other variants go on and are reported. Exit status: 0 when every variant
was measured, 1 when one or more could not be (the table shows the
others), 130 when interrupted.
"""

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
import lab  # noqa: E402  (beside this file)
from comparekit import abstats  # noqa: E402  (the kit's, linked here)
import abplot  # noqa: E402  (beside this file)

# (key, label, unit, getter on (uring_folioreg figures, fio job, the
# case's cases.json entry))
METRICS = [
    ("per_buffer_p50_ns", "per-buffer reg p50", "ns",
     lambda u, j, c: u["reg"]["per_buffer_ns"].get("p50")),
    ("per_buffer_mean_ns", "per-buffer reg mean", "ns",
     lambda u, j, c: u["reg"]["per_buffer_ns"].get("mean")),
    ("per_buffer_p99_ns", "per-buffer reg p99", "ns",
     lambda u, j, c: u["reg"]["per_buffer_ns"].get("p99")),
    ("reg_total_us", "reg total", "us",
     lambda u, j, c: u["reg"]["total_ns"] / 1000),
    ("unreg_us", "unreg", "us", lambda u, j, c: u["reg"]["unreg_ns"] / 1000),
    ("bvecs", "bvecs", "", lambda u, j, c: u["segments"]["bvecs"]),
    ("bvecs_observed", "bvecs observed", "",
     lambda u, j, c: u["segments"].get("bvecs_observed")),
    ("reg_pins_acquired", "pins taken by registration", "",
     lambda u, j, c: u["segments"].get("pins_acquired")),
    ("pins_acquired", "guest pins acquired", "",
     lambda u, j, c: c["pins_acquired"]),
    ("pins_per_io", "guest pins per I/O", "",
     lambda u, j, c: c["pins_acquired"] / ios(j)),
    ("bw_mib_s", "bandwidth", "MiB/s",
     lambda u, j, c: (j["read"]["bw"] + j["write"]["bw"]) / 1024),
]
# An empty figure where the engine reports nothing (reg_strategy=none
# registers no buffer): no row says "same" about what was not measured.
NO_REG = ("per_buffer_p50_ns", "per_buffer_mean_ns", "per_buffer_p99_ns")
NO_PATCH = ("-", "none")


def ios(job):
    n = job["read"]["total_ios"] + job["write"]["total_ios"]
    if not n:
        raise KeyError("no I/O")
    return n


def say(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)


class AbError(Exception):
    """Why the A/B stopped: its "lab:" line (None when the kernel builder
    already said why) and the exit status."""

    def __init__(self, msg, status=1):
        super().__init__(msg)
        self.msg, self.status = msg, status


def source_spec(base):
    return base if base.startswith("src:") else "src:" + base


def build(spec, patches, cache, who=""):
    """The kernel directory (built or cached) and the seconds it took.
    The builder's lines go to stderr as they come; when it fails, its
    last, one "lab:" line saying why, WHO put before the reason
    (LAB_WHO), is raised as AbError's reason (already said)."""
    cmd = [os.path.join(HERE, "kernel-build.sh")]
    for p in patches:
        cmd += ["--patch", p]
    cmd += [spec, cache]
    t0 = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, LAB_WHO=who))
    last = ""
    for line in child.stderr:
        sys.stderr.write(line)
        sys.stderr.flush()
        last = line.strip()
    out = child.stdout.read()
    rc = child.wait()
    if rc or not out.strip():
        why = last[len("lab: "):] if last.startswith("lab: ") else \
            "kernel-build.sh exited %d: %s" % (rc, last)
        raise AbError(why[len(who) + 2:] if who and why.startswith(who)
                      else why)
    return out.strip().splitlines()[-1], time.monotonic() - t0


def read_info(kdir):
    info = {}
    with open(os.path.join(kdir, "info")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            info[k] = v
    return info


def load_json(path):
    with open(path) as f:
        text = f.read()
    at = text.find("\n{\n") + 1 if not text.startswith("{") else 0
    return json.loads(text[at:])


def case_entries(d):
    """cases.json of one boot: {case: entry}."""
    try:
        with open(os.path.join(d, "cases.json")) as f:
            cj = json.load(f)
    except OSError:
        return {}
    return {c["case"]: c for c in (cj if isinstance(cj, list)
                                   else cj.values())
            if isinstance(c, dict) and "case" in c}


def figures(u, job, entry):
    fig = {}
    for key, _, _, get in METRICS:
        try:
            fig[key] = get(u, job, entry)
        except (KeyError, TypeError, ZeroDivisionError):
            fig[key] = None
    if not fig.get("reg_total_us"):
        for key in NO_REG:
            fig[key] = None
    return fig


def boot_figures(d):
    """{case: {metric: value}} and [(case, pins, bvecs_observed)] of one
    boot's result directory (lab.py's OUT/LABEL)."""
    with open(os.path.join(d, "runs.json")) as f:
        runs = json.load(f)
    entries = case_entries(d)
    cases, checks = {}, []
    for run in runs:
        doc = load_json(os.path.join(d, "json", run["json"]))
        job = doc["jobs"][0]
        u = job.get("uring_folioreg")
        if not u:
            continue
        entry = entries.get(run["case"], {})
        fig = figures(u, job, entry)
        cases[run["case"]] = fig
        if fig.get("bvecs"):
            checks.append((run["case"], entry.get("pins"),
                           fig.get("bvecs_observed")))
    return cases, checks


def result_dir(boot_dir):
    """The one kernel directory lab.py wrote under BOOT_DIR."""
    for name in sorted(os.listdir(boot_dir)):
        p = os.path.join(boot_dir, name)
        if os.path.isdir(p) and not name.endswith(".partial") and \
                os.path.exists(os.path.join(p, "runs.json")):
            return p
    return None


def variants_of(meta):
    """ab.json's variants; one written before there were several (its
    "a" and "b") read as two."""
    if "variants" in meta:
        return meta["variants"]
    return [dict(meta[k], name=k.upper(), label=meta[k]["spec"])
            for k in ("a", "b")]


def collect(out):
    """ab.json, {variant: {(case, metric): [figure per boot]}} and the
    pin checks [(boot, case, pins, bvecs_observed)]."""
    with open(os.path.join(out, "ab.json")) as f:
        meta = json.load(f)
    meta["variants"] = variants_of(meta)
    figs = {v["name"]: {} for v in meta["variants"]}
    checks = []
    for b in meta["boots"]:
        d = result_dir(os.path.join(out, "boots", b["dir"]))
        if not d or b["side"] not in figs:
            continue
        cases, ch = boot_figures(d)
        for case, fig in cases.items():
            for key, v in fig.items():
                figs[b["side"]].setdefault((case, key), []).append(v)
        checks += [(b["dir"],) + c for c in ch]
    return meta, figs, checks


def case_order(figs):
    cases = []
    for side in figs.values():
        for case, _ in side:
            if case not in cases:
                cases.append(case)
    return cases


def measured(meta, figs):
    """The variants after A with figures, in order."""
    return [v["name"] for v in meta["variants"][1:]
            if any(figs.get(v["name"], {}).values())]


def ratio_rows(meta, figs, cases):
    """(case, key, label, unit, variant, Ratio) per case, metric and
    measured variant; a metric no variant has on a case is left out.
    The rows are one family: their intervals hold together at 95 %."""
    rows, pairs = [], []
    a = figs.get("A", {})
    for case in cases:
        for key, label, unit, _ in METRICS:
            if not any(x is not None for f in figs.values()
                       for x in f.get((case, key), [])):
                continue
            for name in measured(meta, figs):
                rows.append((case, key, label, unit, name))
                pairs.append((a.get((case, key), []),
                              figs[name].get((case, key), [])))
    return [row + (r,) for row, r in zip(rows, abstats.ratios(pairs))]


def boots_of(meta, name):
    return sum(1 for b in meta["boots"] if b["side"] == name and b.get("ok"))


def head_lines(meta, family):
    """What the table is about: the variants, the boots, the clock, how
    the intervals are drawn."""
    text = ["%s: %s%s" % (v["name"], v.get("label", v.get("spec")),
                          " (%s)" % v["kernel"] if v.get("kernel") else "")
            for v in meta["variants"]]
    text.append("matrix %s, boots %s, interleaved; %s" % (
        meta["matrix"], ", ".join("%d of %s" % (boots_of(meta, v["name"]),
                                                v["name"])
                                  for v in meta["variants"]),
        meta["clock"]))
    if family:
        text.append("X/A: the ratio of the medians; %d %% CI: Welch's t on "
                    "the logarithms, the %d rows that vary from boot to boot "
                    "one family (each at %.4g %%, Bonferroni), the others "
                    "exact" % (round(abstats.LEVEL * 100), family,
                               100 - (1 - abstats.LEVEL) * 100 / family))
    else:
        text.append("X/A: the ratio of the medians; no row's figures vary "
                    "from boot to boot, so no interval is drawn")
    for v in meta["variants"]:
        if v.get("failed"):
            text.append("%s not measured: %s" % (v["name"], v["failed"]))
    few = min((boots_of(meta, v["name"]) for v in meta["variants"]
               if not v.get("failed")), default=0)
    if 0 < few < abstats.FEW_BOOTS:
        text.append("few boots: below %d a side, a figure that takes a few "
                    "values from boot to boot often shows one value on "
                    "every boot of a side, and two such sides compare as "
                    "exact: an A/A of identical kernels then says higher "
                    "or lower by chance; a verdict on a figure that varies "
                    "needs --boots %d%s" % (
                        abstats.FEW_BOOTS, abstats.FEW_BOOTS,
                        "; one boot a side cannot tell a change from noise, "
                        "so a difference there has no verdict (n/a)"
                        if few == 1 else ""))
    return text


def pins_line(checks):
    exact = [c for c in checks if c[2] is not None and c[3] is not None]
    bad = [c for c in exact if int(c[2]) != int(c[3])]
    return "pins: the guest's pin count equals bvecs_observed in %d of %d " \
        "cases%s" % (len(exact) - len(bad), len(exact),
                     "" if not bad else "; differs in " + ", ".join(
                         "%s %s (pins %s, bvecs_observed %s)" % c
                         for c in bad[:6]))


def resolution_line(rows, figs):
    """For the cases whose per-buffer p50 says same: how far the
    variant's figures would have to move for another verdict."""
    res = []
    for case, key, _, _, name, r in rows:
        if key != "per_buffer_p50_ns" or r.verdict != "same":
            continue
        down, up = abstats.detectable(figs["A"].get((case, key), []),
                                      figs[name].get((case, key), []),
                                      family=r.family)
        if down is not None or up is not None:
            res.append("%s %s -%s/+%s" % (
                case, name, "%.1f %%" % (down * 100)
                if down is not None else "?",
                "%.1f %%" % (up * 100) if up is not None else "?"))
    if not res:
        return ""
    return ("\nresolution, where per-buffer p50 says same: the variant's "
            "figures scaled down or up by this much would say lower or "
            "higher: " + ", ".join(res))


def print_table(out, cases_wanted=None, file=sys.stdout):
    meta, figs, checks = collect(out)
    cases = case_order(figs)
    if cases_wanted:
        cases = [c for c in cases if c in cases_wanted]
    rows = ratio_rows(meta, figs, cases)
    named = len(meta["variants"]) > 2
    body = abstats.table([("%s: %s" % (case, label), unit, r) +
                          ((name,) if named else ())
                          for case, _, label, unit, name, r in rows])
    tail = pins_line(checks) + resolution_line(rows, figs)
    family = rows[0][-1].family if rows else 0
    s = "\n".join(head_lines(meta, family)) + "\n\n" + body + "\n" + \
        tail + "\n"
    file.write(s)
    return s, rows


def write_csv(out, rows, meta):
    """OUT/ab.csv: a line per case, metric and variant."""
    labels = {v["name"]: v.get("label", "") for v in meta["variants"]}
    path = os.path.join(out, "ab.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "metric", "unit", "variant", "patches",
                    "boots_a", "boots_variant", "median_a",
                    "median_variant", "ratio", "ci_lo", "ci_hi",
                    "verdict"])
        for case, key, _, unit, name, r in rows:
            w.writerow([case, key, unit, name, labels.get(name, ""),
                        r.n_a, r.n_b, r.median_a, r.median_b, r.ratio,
                        r.lo, r.hi, r.verdict])
    return path


CHILD = []      # the lab.py running a boot


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    """Stop the boot under way (lab.py removes its QEMU and temporary
    files on SIGTERM), then stop (cmd_run waits for it)."""
    for c in CHILD:
        c.terminate()
    raise Interrupted()


def variant_patches(words):
    """[(name, [patch paths])]: A the base, then one variant per word
    ("-" or "none": the base again; "a.patch+b.patch": both, in order).
    No word: one A/A variant."""
    words = list(words) or ["-"]
    if len(words) > 25:
        raise AbError("%d variants: at most 25 (B to Z)" % len(words))
    out = [("A", [])]
    for i, w in enumerate(words):
        patches = [] if w in NO_PATCH else \
            [os.path.abspath(p) for p in w.split("+") if p]
        for p in patches:
            if not os.path.isfile(p):
                raise AbError("variant %s: patch %s: no such file" %
                              (chr(ord("B") + i), p))
        out.append((chr(ord("B") + i), patches))
    return out


def variant_label(spec, patches):
    return spec + ("".join(" +" + os.path.basename(p) for p in patches)
                   if patches else " (no patch)")


def build_variants(spec, variants, cache):
    """ab.json's variants: each built (or found cached) once; a variant
    that cannot be built is said in one line and marked failed. A base
    that cannot be built stops the A/B."""
    built, out = {}, []
    for name, patches in variants:
        v = {"name": name, "patches": patches,
             "label": variant_label(spec, patches)}
        key = tuple(patches)
        who = "variant %s (%s): build" % (name, v["label"])
        try:
            if key not in built:
                built[key] = build(spec, patches, cache, who)
            kdir, secs = built[key]
            v.update(kernel=os.path.basename(kdir), kdir=kdir,
                     build_secs=round(secs),
                     release=read_info(kdir).get("release"))
            say("%s: %s (%s, %.0f s here)" % (name, v["kernel"],
                                              v["release"], secs))
        except AbError as e:
            # The builder said why, on one line naming the variant.
            if name == "A":
                raise AbError(None)
            v["failed"] = "build: %s" % e.msg
        out.append(v)
    return out


def ab_meta(opts, kit, spec, variants):
    """ab.json before the first boot."""
    clock = ("TCG -icount shift=%d (guest time counts instructions)" %
             opts.icount if opts.icount is not None else "TCG, host clock")
    return {"base": spec, "variants": variants, "matrix": opts.matrix,
            "clock": clock, "kit": kit, "smp": opts.smp,
            "append": opts.append, "boots": []}


def save_meta(out, meta):
    with open(os.path.join(out, "ab.json"), "w") as f:
        json.dump(meta, f, indent=1)


def lab_cmd(opts, kit, spec, patches, bdir, cache):
    """The scripts/lab/lab.py command of one boot."""
    cmd = [sys.executable, os.path.join(HERE, "lab.py"),
           "--matrix", opts.matrix, "--out", bdir, "--cache", cache,
           "--accel", "tcg", "--smp", str(opts.smp), "--max-boots", "1"]
    if opts.mem:
        cmd += ["--mem", opts.mem]
    if opts.icount is not None:
        cmd += ["--icount", str(opts.icount)]
    if opts.append:
        cmd += ["--append", opts.append]
    if opts.cases:
        cmd += ["--cases", "|".join(re.escape(c) for c in opts.cases)]
    for p in patches:
        cmd += ["--patch", p]
    return cmd + [spec, "--"] + kit


def run_boot(cmd, log):
    """Run one lab.py boot, its output in LOG; its exit status. An
    interrupt stops it and raises AbError with status 130."""
    with open(log, "w") as lf:
        child = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT)
        CHILD[:] = [child]
        try:
            return child.wait()
        except Interrupted:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
            raise AbError("interrupted; the boots done so far stay "
                          "(ab.py run --resume)", 130)
        finally:
            CHILD[:] = []


def boot_failure(name, v, log):
    """The "lab:" line of a failed boot: the variant, the boot, the log's
    line that says why, the log."""
    why = ""
    with open(log) as lf:
        lines = [x.strip() for x in lf if x.strip()]
    for x in lines:
        if "did not boot" in x or "exited before" in x or \
                "FAILED" in x or "panic" in x.lower():
            why = x
            break
    return "boot %s (%s) failed: %s; log: %s" % (
        name, v["kernel"], why or (lines[-1] if lines else "no output"), log)


def one_boot(opts, kit, spec, v, name, cache, meta, n_boots):
    """Boot NAME (OUT/boots/NAME) of variant V, recorded in ab.json; a
    boot that fails marks the variant failed, said in one line."""
    out = os.path.abspath(opts.out)
    bdir = os.path.join(out, "boots", name)
    if os.path.exists(os.path.join(bdir, ".done")) and opts.resume:
        meta["boots"].append({"dir": name, "side": v["name"], "ok": True})
        return
    t0 = time.monotonic()
    log = os.path.join(out, "boots", name + ".log")
    rc = run_boot(lab_cmd(opts, kit, spec, v["patches"], bdir, cache), log)
    secs = time.monotonic() - t0
    d = result_dir(bdir) if os.path.isdir(bdir) else None
    ok = rc == 0 and d is not None
    meta["boots"].append({"dir": name, "side": v["name"], "ok": ok,
                          "secs": round(secs, 1)})
    if not ok:
        v["failed"] = boot_failure(name, v, log)
        say("variant %s (%s): %s" % (v["name"], v["label"], v["failed"]))
    else:
        open(os.path.join(bdir, ".done"), "w").close()
        say("boot %s done in %.0f s (%d of %d)" %
            (name, secs, len(meta["boots"]), n_boots))
    save_meta(out, meta)


def boot_all(opts, kit, spec, cache, meta):
    """Every variant's boots interleaved, A B C ... A B C ...; a variant
    that failed is left out of the rounds after."""
    vs = meta["variants"]
    n_boots = opts.boots * len(vs)
    for i in range(1, opts.boots + 1):
        for v in vs:
            if v.get("failed"):
                continue
            one_boot(opts, kit, spec, v, "%02d-%s" % (i, v["name"]),
                     cache, meta, n_boots)
            if v["name"] == "A" and v.get("failed"):
                raise AbError(None)


def finish(out, opts, meta):
    """The table (also OUT/ab.txt), ab.csv and the plots."""
    s, rows = print_table(out, opts.cases)
    with open(os.path.join(out, "ab.txt"), "w") as f:
        f.write(s)
    say("table: %s; csv: %s" % (os.path.join(out, "ab.txt"),
                                write_csv(out, rows, meta)))
    try:
        for png in abplot.plot(out):
            say("plot: %s" % png)
    except abplot.PlotError as e:
        say("no plots: %s" % e)


def cmd_run(opts, kit):
    """ab.py run: build the variants, boot them interleaved, print the
    table (and write it to OUT/ab.txt, OUT/ab.csv, the plots)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    out = os.path.abspath(opts.out)
    cache = os.path.abspath(opts.cache)
    spec = source_spec(opts.base)
    variants = variant_patches(opts.patch)
    say("A: %s; %s" % (spec, "; ".join(
        "%s: %s" % (n, variant_label(spec, p)) for n, p in variants[1:])))
    os.makedirs(os.path.join(out, "boots"), exist_ok=True)
    meta = ab_meta(opts, kit, spec, build_variants(spec, variants, cache))
    save_meta(out, meta)
    t_all = time.monotonic()
    boot_all(opts, kit, spec, cache, meta)
    meta["run_secs"] = round(time.monotonic() - t_all)
    save_meta(out, meta)
    finish(out, opts, meta)
    return 1 if any(v.get("failed") for v in meta["variants"]) else 0


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="build, boot interleaved, print the "
                       "table")
    r.add_argument("--base", default="sid",
                   help="src:SUITE, src:DIR, or a Debian suite")
    r.add_argument("--patch", action="append", default=[],
                   help="one variant: a patch, a+b for two applied in "
                   "order, - or none for the base (repeat for more "
                   "variants; none given: A/A)")
    r.add_argument("--matrix", default="rfc")
    r.add_argument("--out", required=True)
    r.add_argument("--boots", type=int, default=5,
                   help="boots of each kernel (default 5)")
    r.add_argument("--icount", type=int, metavar="SHIFT",
                   help="QEMU -icount shift=SHIFT: deterministic guest time")
    r.add_argument("--smp", type=int, default=1)
    r.add_argument("--mem", help="guest memory (default: the lab's)")
    r.add_argument("--append", default="",
                   help="more guest kernel command line (lab.py --append)")
    r.add_argument("--cases", help="only these cases (comma-separated): "
                   "run, and in the table")
    r.add_argument("--resume", action="store_true",
                   help="keep the boots an earlier run of OUT finished")
    r.add_argument("--cache", default=os.path.join(TOP, "build", "lab"))
    for name, what in (("table", "print the table of an earlier run"),
                       ("plot", "the plots of an earlier run")):
        t = sub.add_parser(name, help=what)
        t.add_argument("dir")
        t.add_argument("--cases")
    return p


def cmd_other(opts):
    """ab.py table DIR / ab.py plot DIR."""
    if not os.path.exists(os.path.join(opts.dir, "ab.json")):
        say("%s has no ab.json; make it with: ab.py run" % opts.dir)
        return 1
    if opts.cmd == "table":
        print_table(opts.dir, opts.cases)
        return 0
    try:
        for png in abplot.plot(opts.dir):
            print(png)
    except abplot.PlotError as e:
        say("no plots: %s" % e)
        return 1
    return 0


def main():
    argv, kit = lab.split_kit_argv(sys.argv[1:])
    opts = parser().parse_args(argv)
    if opts.cases:
        opts.cases = opts.cases.split(",")
    if opts.cmd != "run":
        return cmd_other(opts)
    if opts.boots < 1:
        say("--boots must be at least 1")
        return 1
    try:
        return cmd_run(opts, kit)
    except AbError as e:
        if e.msg is not None:
            say(e.msg)
        return e.status


if __name__ == "__main__":
    sys.exit(main())
