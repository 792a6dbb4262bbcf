#!/usr/bin/env python3
"""A/B of two kernels in the lab: a base kernel built from source (A) and
the same source with a patch (B), booted alternately A B A B ..., each
boot running one matrix of the comparison kit; then one table: per metric
the median of A, the median of B, B/A with its 95 % bootstrap interval,
and a verdict (examples/comparekit/abstats.py).

  ab.py run --base sid --patch examples/kernel/hugetlb-fast-path.patch \\
            --matrix rfc --out DIR [--boots 5] [--icount SHIFT] [-- KIT]
  ab.py table DIR

--base: src:SUITE or src:DIR (a bare suite name means src:SUITE); no
--patch: A/A, the same kernel on both sides (what "same" looks like).
Both kernels come from scripts/lab/kernel-build.sh and are cached: a
second run builds nothing. Each boot is one scripts/lab/lab.py run
(results in DIR/boots/NN-A, NN-B). KIT: compare.py run options
(--runtime 2, --size 256m, ...).

Exit status: 0 when the table was printed, 1 when a kernel could not be
built or booted (one "lab:" line says which and where the log is).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
import lab  # noqa: E402  (beside this file)
from comparekit import abstats  # noqa: E402  (the kit's, linked here)

# (key, label, unit, getter on (uring_folioreg figures, fio job))
METRICS = [
    ("per_buffer_p50_ns", "per-buffer reg p50", "ns",
     lambda u, j: u["reg"]["per_buffer_ns"].get("p50")),
    ("per_buffer_mean_ns", "per-buffer reg mean", "ns",
     lambda u, j: u["reg"]["per_buffer_ns"].get("mean")),
    ("per_buffer_p99_ns", "per-buffer reg p99", "ns",
     lambda u, j: u["reg"]["per_buffer_ns"].get("p99")),
    ("reg_total_us", "reg total", "us",
     lambda u, j: u["reg"]["total_ns"] / 1000),
    ("unreg_us", "unreg", "us", lambda u, j: u["reg"]["unreg_ns"] / 1000),
    ("bvecs", "bvecs", "", lambda u, j: u["segments"]["bvecs"]),
    ("bvecs_observed", "bvecs observed", "",
     lambda u, j: u["segments"].get("bvecs_observed")),
    ("bw_mib_s", "write bandwidth", "MiB/s",
     lambda u, j: j["write"]["bw"] / 1024),
]


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


def build(spec, patches, cache):
    """The kernel directory (built or cached); raises AbError when the
    builder fails (it said why, on one line, to stderr)."""
    cmd = [os.path.join(HERE, "kernel-build.sh")]
    for p in patches:
        cmd += ["--patch", p]
    cmd += [spec, cache]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if r.returncode or not r.stdout.strip():
        # kernel-build.sh said why, on one line, to stderr.
        raise AbError(None)
    return r.stdout.strip().splitlines()[-1], time.monotonic() - t0


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


def boot_figures(d):
    """{case: {metric: value}} and [(case, pins, bvecs_observed)] of one
    boot's result directory (lab.py's OUT/LABEL)."""
    with open(os.path.join(d, "runs.json")) as f:
        runs = json.load(f)
    cases = {}
    try:
        with open(os.path.join(d, "cases.json")) as f:
            cj = json.load(f)
    except OSError:
        cj = []
    pins = {}
    for c in cj if isinstance(cj, list) else cj.values():
        if isinstance(c, dict) and "case" in c:
            pins[c["case"]] = c.get("pins")
    checks = []
    for run in runs:
        doc = load_json(os.path.join(d, "json", run["json"]))
        job = doc["jobs"][0]
        u = job.get("uring_folioreg")
        if not u:
            continue
        fig = {}
        for key, _, _, get in METRICS:
            try:
                fig[key] = get(u, job)
            except (KeyError, TypeError):
                fig[key] = None
        cases[run["case"]] = fig
        checks.append((run["case"], pins.get(run["case"]),
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


def collect(out):
    with open(os.path.join(out, "ab.json")) as f:
        meta = json.load(f)
    sides = {"A": {}, "B": {}}
    checks = []
    for b in meta["boots"]:
        d = result_dir(os.path.join(out, "boots", b["dir"]))
        if not d:
            continue
        cases, ch = boot_figures(d)
        for case, fig in cases.items():
            for key, v in fig.items():
                sides[b["side"]].setdefault((case, key), []).append(v)
        checks += [(b["dir"],) + c for c in ch]
    return meta, sides, checks


def print_table(out, cases_wanted=None, file=sys.stdout):
    meta, sides, checks = collect(out)
    cases = []
    for side in ("A", "B"):
        for case, _ in sides[side]:
            if case not in cases:
                cases.append(case)
    if cases_wanted:
        cases = [c for c in cases if c in cases_wanted]
    rows = []
    for case in cases:
        for key, label, unit, _ in METRICS:
            r = abstats.ratio(sides["A"].get((case, key), []),
                              sides["B"].get((case, key), []))
            rows.append(("%s: %s" % (case, label), unit, r))
    na = sum(1 for b in meta["boots"] if b["side"] == "A" and b.get("ok"))
    nb = sum(1 for b in meta["boots"] if b["side"] == "B" and b.get("ok"))
    text = []
    text.append("A: %s (%s)" % (meta["a"]["spec"], meta["a"]["kernel"]))
    text.append("B: %s (%s)" % (meta["b"]["spec"], meta["b"]["kernel"]))
    text.append("matrix %s, %d boots of A and %d of B, alternating; %s; "
                "%d %% bootstrap interval of the ratio of medians "
                "(%d resamples, seed %d)" %
                (meta["matrix"], na, nb, meta["clock"],
                 round(abstats.LEVEL * 100), abstats.RESAMPLES,
                 abstats.SEED))
    text.append("")
    body = abstats.table(rows)
    exact = [c for c in checks if c[2] is not None and c[3] is not None]
    bad = [c for c in exact if int(c[2]) != int(c[3])]
    tail = "pins: the guest's pin count equals bvecs_observed in %d of %d " \
        "cases%s" % (len(exact) - len(bad), len(exact),
                     "" if not bad else "; differs in " + ", ".join(
                         "%s %s (pins %s, bvecs_observed %s)" % c
                         for c in bad[:6]))
    res = []
    for case in cases:
        if abstats.ratio(sides["A"].get((case, "per_buffer_p50_ns"), []),
                         sides["B"].get((case, "per_buffer_p50_ns"), [])
                         ).verdict != "same":
            continue
        down, up = abstats.detectable(
            sides["A"].get((case, "per_buffer_p50_ns"), []),
            sides["B"].get((case, "per_buffer_p50_ns"), []))
        if down is not None or up is not None:
            res.append("%s -%s/+%s" % (
                case, "%.1f %%" % (down * 100) if down is not None else "?",
                "%.1f %%" % (up * 100) if up is not None else "?"))
    if res:
        tail += ("\nresolution, where per-buffer p50 says same: B's figures "
                 "scaled down or up by this much would say lower or "
                 "higher: " + ", ".join(res))
    s = "\n".join(text) + "\n" + body + "\n" + tail + "\n"
    file.write(s)
    return s, rows


CHILD = []      # the lab.py running a boot


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    """Stop the boot under way (lab.py removes its QEMU and temporary
    files on SIGTERM), then stop (cmd_run waits for it)."""
    for c in CHILD:
        c.terminate()
    raise Interrupted()


def patch_paths(opts):
    patches = [os.path.abspath(p) for p in opts.patch if p]
    for p in patches:
        if not os.path.isfile(p):
            raise AbError("patch %s: no such file" % p)
    return patches


def build_sides(spec, patches, cache):
    """A's and B's kernel directories and build times, said."""
    say("A: %s; B: %s%s" % (spec, spec, "".join(
        " + " + os.path.relpath(p) for p in patches) or " (A/A: no patch)"))
    ka, ta = build(spec, [], cache)
    kb, tb = (ka, 0.0) if not patches else build(spec, patches, cache)
    ia, ib = read_info(ka), read_info(kb)
    say("A: %s (%s, %.0f s here)" % (os.path.basename(ka),
                                      ia.get("release"), ta))
    say("B: %s (%s, %.0f s here)" % (os.path.basename(kb),
                                      ib.get("release"), tb))
    return ka, ta, kb, tb


def ab_meta(opts, kit, spec, patches, ka, ta, kb, tb):
    """ab.json before the first boot."""
    clock = ("TCG -icount shift=%d (guest time counts instructions)" %
             opts.icount if opts.icount is not None else "TCG, host clock")
    return {"a": {"spec": spec, "kernel": os.path.basename(ka),
                  "build_secs": ta},
            "b": {"spec": spec + "".join(" +" + os.path.basename(p)
                                         for p in patches),
                  "kernel": os.path.basename(kb), "build_secs": tb},
            "matrix": opts.matrix, "clock": clock, "kit": kit,
            "smp": opts.smp, "boots": []}


def save_meta(out, meta):
    with open(os.path.join(out, "ab.json"), "w") as f:
        json.dump(meta, f, indent=1)


def lab_cmd(opts, kit, spec, patches, side, bdir, cache):
    """The scripts/lab/lab.py command of one boot."""
    cmd = [sys.executable, os.path.join(HERE, "lab.py"),
           "--matrix", opts.matrix, "--out", bdir, "--cache", cache,
           "--accel", "tcg", "--smp", str(opts.smp), "--max-boots", "1",
           "--mem", opts.mem]
    if opts.icount is not None:
        cmd += ["--icount", str(opts.icount)]
    if side == "B":
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


def boot_failure(name, kernel, log):
    """AbError for a failed boot: the log's line that says why."""
    why = ""
    with open(log) as lf:
        lines = [x.strip() for x in lf if x.strip()]
    for x in lines:
        if "did not boot" in x or "exited before" in x or \
                "FAILED" in x or "panic" in x.lower():
            why = x
            break
    return AbError("boot %s (%s) failed: %s; log: %s" %
                   (name, os.path.basename(kernel),
                    why or (lines[-1] if lines else "no output"), log))


def one_boot(opts, kit, spec, patches, side, name, kernel, cache, meta,
             n_boots):
    """Boot NAME (OUT/boots/NAME), recorded in ab.json."""
    out = os.path.abspath(opts.out)
    bdir = os.path.join(out, "boots", name)
    if os.path.exists(os.path.join(bdir, ".done")) and opts.resume:
        meta["boots"].append({"dir": name, "side": side, "ok": True})
        return
    t0 = time.monotonic()
    log = os.path.join(out, "boots", name + ".log")
    rc = run_boot(lab_cmd(opts, kit, spec, patches, side, bdir, cache), log)
    secs = time.monotonic() - t0
    d = result_dir(bdir) if os.path.isdir(bdir) else None
    ok = rc == 0 and d is not None
    meta["boots"].append({"dir": name, "side": side, "ok": ok,
                          "secs": round(secs, 1)})
    save_meta(out, meta)
    if not ok:
        raise boot_failure(name, kernel, log)
    open(os.path.join(bdir, ".done"), "w").close()
    say("boot %s done in %.0f s (%d of %d)" %
        (name, secs, len(meta["boots"]), n_boots))


def cmd_run(opts, kit):
    """ab.py run: build A and B, boot them alternately, print the table
    (and write it to OUT/ab.txt)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    out = os.path.abspath(opts.out)
    cache = os.path.abspath(opts.cache)
    spec = source_spec(opts.base)
    patches = patch_paths(opts)
    ka, ta, kb, tb = build_sides(spec, patches, cache)
    os.makedirs(os.path.join(out, "boots"), exist_ok=True)
    meta = ab_meta(opts, kit, spec, patches, ka, ta, kb, tb)
    save_meta(out, meta)
    order = []
    for i in range(1, opts.boots + 1):
        order += [(i, "A"), (i, "B")]
    t_all = time.monotonic()
    for i, side in order:
        one_boot(opts, kit, spec, patches, side, "%02d-%s" % (i, side),
                 ka if side == "A" else kb, cache, meta, len(order))
    meta["run_secs"] = round(time.monotonic() - t_all)
    save_meta(out, meta)
    s, _ = print_table(out, opts.cases)
    with open(os.path.join(out, "ab.txt"), "w") as f:
        f.write(s)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="build, boot alternately, print the table")
    r.add_argument("--base", default="sid",
                   help="src:SUITE, src:DIR, or a Debian suite")
    r.add_argument("--patch", action="append", default=[],
                   help="the patch of B (repeat for more; none: A/A)")
    r.add_argument("--matrix", default="rfc")
    r.add_argument("--out", required=True)
    r.add_argument("--boots", type=int, default=5,
                   help="boots of each kernel (default 5)")
    r.add_argument("--icount", type=int, metavar="SHIFT",
                   help="QEMU -icount shift=SHIFT: deterministic guest time")
    r.add_argument("--smp", type=int, default=1)
    r.add_argument("--mem", default="3G")
    r.add_argument("--cases", help="only these cases in the table "
                   "(comma-separated)")
    r.add_argument("--resume", action="store_true",
                   help="keep the boots an earlier run of OUT finished")
    r.add_argument("--cache", default=os.path.join(TOP, "build", "lab"))
    t = sub.add_parser("table", help="print the table of an earlier run")
    t.add_argument("dir")
    t.add_argument("--cases")
    argv, kit = lab.split_kit_argv(sys.argv[1:])
    opts = p.parse_args(argv)
    if opts.cases:
        opts.cases = opts.cases.split(",")
    if opts.cmd == "table":
        if not os.path.exists(os.path.join(opts.dir, "ab.json")):
            say("%s has no ab.json; make it with: ab.py run" % opts.dir)
            return 1
        print_table(opts.dir, opts.cases)
        return 0
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
