#!/usr/bin/env python3
"""Compare io_uring buffer registration strategies with uring_folioreg.

    compare.py run MATRIX --out DIR [--reps N] [--client HOST] ...
    compare.py table DIR            Markdown tables; DIR/results.csv
    compare.py plot DIR             PNG plots with gnuplot
    compare.py diff DIR_A DIR_B     B against A, a verdict per figure

MATRIX is one of (compare.py run --help says what each measures):
  strategies  examples/compare.fio, one case per strategy
  rfc         examples/rfc-hugetlb-fast.fio (the hugetlb fast-path RFC)
  scaling     examples/scaling.fio over buffer counts and block sizes
  spectrum    examples/spectrum.fio over folio sizes 4k to 1g and backings
  demo        strategies, then a scaling sweep (what make demo runs)

Each case runs --reps times (in rounds: every case once, then again), each
run one fio invocation on a job file of its own in DIR/jobs: the one
section of an example job file that the case names, with the [global]
sections before it, and the ${UFR_*} variables filled in. fio runs that
file whole, locally or with --client (a fio --client ignores --section,
so the file holds the one job: both ways run exactly that job). fio's
JSON goes to DIR/json, its messages to DIR/logs. A run that fails is
recorded as failed (fio's exit status, the engine's one 'uring_folioreg:'
line) and the others go on; run then exits 3. A case this machine cannot
have (probed before the runs: a page size its kernel lacks, perf events)
is recorded as not available here, with why, and not run; it does not
fail the run. DIR/runs.json holds every
run and the provenance: kernel, its command line, fio and engine
versions, CPU, virtualisation, hugetlb pools, THP settings, date and this
command line. Tables and plots show each figure's median over the repeats
with its 95 % percentile-bootstrap interval (scripts/lab/abstats.py).
With --client the runs go to a fio --server there: the engine's figures
are then read from the block the server prints, as fio's client JSON
cannot carry them. Only the Python standard library, fio, and (for
plots) gnuplot are needed.
"""

import argparse
import csv
import datetime
import glob
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(TOP, "examples")
# The statistics: scripts/lab/abstats.py of the source tree, or a copy
# beside this file.
for _d in (os.path.join(TOP, "scripts", "lab"), EXAMPLES):
    if os.path.exists(os.path.join(_d, "abstats.py")):
        sys.path.insert(0, _d)
        break
try:
    import abstats
except ImportError:     # an installed kit without it: medians only
    abstats = None

EXIT_FAILED_RUNS = 3

# What a figure is registered per: coalesced registers regions, which
# hold many io_u buffers; the other strategies one buffer per io_u.
UNIT = {"coalesced": "region", "none": "-"}

# Every column of the tables: key, header, unit.
HEADS = {k: (h, u) for k, h, u in (
    [x.strip() for x in line.split("|")] for line in """
    case | case |
    strategy | strategy |
    folio | folio |
    backing | backing |
    buffers | registered |
    unit | unit |
    reg_total_us | reg total | us
    per_buffer_mean_ns | reg mean per unit | ns
    per_buffer_p99_ns | reg p99 per unit | ns
    unreg_us | unreg | us
    bvecs | bvecs |
    bvecs_observed | bvecs observed |
    per_io_segments | segments per I/O |
    iops | IOPS |
    bw_mib_s | bandwidth | MiB/s
    cpu_pct | CPU usr+sys | %
    io_us | io_u buffers |
    reg_calls | register calls |
    reg_call_us | reg per call | us
    reg_per_io_u_ns | reg per io_u buffer | ns
    profile_samples | profile samples |
    profile_top | top kernel functions (share of samples) |
    """.strip().splitlines())}


def columns(keys):
    """[(key, header, unit)] of KEYS, in that order."""
    return [(k,) + HEADS[k] for k in keys.split()]


COLUMNS = columns(
    "case strategy folio buffers unit reg_total_us per_buffer_mean_ns "
    "per_buffer_p99_ns unreg_us bvecs bvecs_observed per_io_segments iops "
    "bw_mib_s cpu_pct")
# The spectrum's table: registration on each folio size and backing, and
# where its time goes in the kernel.
SPECTRUM_COLUMNS = columns(
    "case backing strategy folio io_us buffers unit reg_calls reg_call_us "
    "reg_per_io_u_ns bvecs bvecs_observed per_io_segments profile_samples "
    "profile_top")
LABELS = ("case", "strategy", "folio", "unit", "backing", "profile_top")
# Figures: a value per run, shown as a median with its interval.
FIGURES = [c for c in columns(" ".join(HEADS)) if c[0] not in LABELS]


def die(msg):
    print("compare: " + msg, file=sys.stderr)
    sys.exit(1)


def warn(msg):
    print("compare: " + msg, file=sys.stderr)


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
                runs.append(("scaling", "%s-%s-%d" % (st, bs, count),
                             "scaling.fio", "scaling", env))
    return runs


# The spectrum: which folio sizes each series (a line of the plots) can
# have, as the engine takes them: anonymous memory every size (per_page on
# 4 KiB pages, coalesced on multi-size THP, PMD THP and hugetlb); a memfd
# shmem 4 KiB pages, PMD shmem THP or MFD_HUGETLB; a hugetlbfs file hugetlb
# only; and hugetlb_fast, one buffer per io_u inside one hugetlb folio.
MTHP_FOLIOS = ("16k", "32k", "64k", "128k", "256k", "512k", "1m")
SPECTRUM_SERIES = {
    "anon": ("anon", ("4k",) + MTHP_FOLIOS + ("thp", "2m", "1g")),
    "memfd": ("memfd", ("4k", "thp", "2m", "1g")),
    "hugetlbfs": ("hugetlbfs", ("2m", "1g")),
    "hugetlb_fast": ("anon", ("2m", "1g")),
}


def spectrum_runs(args):
    runs = []
    folios = args.spectrum_folios.split(",")
    for bad in [f for f in folios if f not in SPECTRUM_SERIES["anon"][1]]:
        die("--spectrum-folios: no folio size %s (take %s)" %
            (bad, ",".join(SPECTRUM_SERIES["anon"][1])))
    skip = [c for c in (args.spectrum_skip or "").split(",") if c]
    known = ["%s-%s" % (series, f) for series, (_, takes) in
             SPECTRUM_SERIES.items() for f in takes]
    for bad in [c for c in skip if c not in known]:
        die("--spectrum-skip: no case %s (take SERIES-FOLIO: %s)" %
            (bad, ",".join(known)))
    for series in args.spectrum_series.split(","):
        if series not in SPECTRUM_SERIES:
            die("--spectrum-series: no series %s (take %s)" %
                (series, ",".join(SPECTRUM_SERIES)))
        backing, takes = SPECTRUM_SERIES[series]
        for folio in [f for f in takes if f in folios and
                      "%s-%s" % (series, f) not in skip]:
            strategy = "hugetlb_fast" if series == "hugetlb_fast" else \
                "per_page" if folio == "4k" else "coalesced"
            env = {"UFR_COUNT": str(args.depth), "UFR_STRATEGY": strategy,
                   "UFR_FOLIO": folio, "UFR_BACKING": backing,
                   "UFR_RUNTIME": str(args.spectrum_runtime),
                   "UFR_REREG": args.spectrum_rereg}
            section = "spectrum"
            if backing == "hugetlbfs":
                section = "spectrum-hugetlbfs"
                # compare.py run mounts one per page size (Host).
                env["UFR_HUGETLBFS"] = "/nonexistent/hugetlbfs-" + folio
            runs.append(("spectrum", "%s-%s" % (series, folio),
                         "spectrum.fio", section, env))
    return runs


def demo_runs(args):
    return strategies_runs(args) + scaling_runs(args)


MATRICES = {"strategies": strategies_runs, "rfc": rfc_runs,
            "scaling": scaling_runs, "spectrum": spectrum_runs,
            "demo": demo_runs}

MATRIX_HELP = """matrices (each case runs --reps times; every table cell and plot point
is the median of the repeats with its 95 % interval):
  strategies  examples/compare.fio: one case per strategy (per_page,
              coalesced-thp, coalesced-2m, hugetlb_fast-2m, iomem-mmaphuge,
              iomem, none), each random 1 MiB O_DIRECT writes to --file
              (--size, --depth, --runtime), every buffer's registration
              timed (reg_mode=each). Measures registration time (total and
              per buffer or region), unregistration, bio_vecs built and
              pinned, segments per I/O, IOPS, bandwidth and CPU.
              2 MiB hugetlb pages needed: --depth / 2 + 1.
  rfc         examples/rfc-hugetlb-fast.fio: the workload of the io_uring
              hugetlb fast-path RFC (--numjobs jobs, group_reporting) on
              iomem=mmaphuge (as the RFC ran fio), hugetlb_fast, coalesced
              and per_page. Measures the same as strategies: whether the
              per-buffer registration time falls and bandwidth stays.
              2 MiB hugetlb pages needed: --numjobs x (--depth / 2 + 1).
  scaling     examples/scaling.fio: registration alone (reg_mode=batch,
              one call) of COUNT buffers of BS on each of
              --scaling-strategies, for COUNT in --scaling-counts and BS
              in --scaling-bs while COUNT x BS <= --scaling-budget; reads
              one block of /dev/zero. Measures the time per registered
              buffer (coalesced: per region) against the count; no I/O
              figures.
  spectrum    examples/spectrum.fio: registration of --depth buffers of
              1 MiB (reg_mode=batch, one call), then again every
              --spectrum-rereg for --spectrum-runtime seconds while reads
              of /dev/zero run, on each folio size of --spectrum-folios
              (4k, 16k..1m multi-size THP, thp, 2m and 1g hugetlb) and
              series of --spectrum-series: anon (per_page on 4k,
              coalesced above), memfd (4k shmem, thp shmem THP, 2m/1g
              MFD_HUGETLB), hugetlbfs (2m/1g, a file on a hugetlbfs the
              kit mounts in a temporary directory) and hugetlb_fast (anon
              2m/1g, one buffer per io_u: the RFC's fast path
              precondition), but the cases of --spectrum-skip. Only what
              the engine takes is a case. Every register call is
              sampled (reg_profile=1: needs root or CAP_PERFMON), so the
              times include the sampling's cost. Measures register calls,
              time per call and per io_u buffer (the call's time over the
              io_u buffers it registers: coalesced registers them as one
              region), bio_vecs built and pinned, segments per I/O and the
              profile's top kernel functions. Sets each multi-size THP
              size it runs to madvise and every larger size to never
              (thp: hugepages-2048kB to madvise; memfd thp: shmem_enabled
              to advise and hugepages-2048kB/shmem_enabled to inherit),
              and puts back what it found after each run and at the end
              (also on failure or a signal); with --client it changes
              nothing on the server.
              Hugetlb pages needed: --depth / 2 + 1 of 2 MiB, one of 1 GiB.
  demo        strategies, then scaling (what make demo runs, then a short
              spectrum).

a run that fails (fio exits non-zero, e.g. too few hugetlb pages) is
recorded as failed with fio's exit status and the engine's one
'uring_folioreg:' line; the other runs go on and run exits 3. A case
this machine cannot have (a hugetlb or multi-size THP size its kernel
lacks, THP, shmem THP, hugetlbfs, perf events), found by probing it
before the runs, is not run but recorded as "not available here" with
why; it does not make run fail (with --client the server is not
probed)."""


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


def error_line(text):
    """The engine's one error line ('uring_folioreg: ...', maybe behind a
    client's prefix), else fio's last 'fio:' line or last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        m = re.search(r"(?:^|\s)(uring_folioreg: .*)$", ln)
        if m:
            return m.group(1)
    fio = [ln for ln in lines if re.search(r"(?:^|\s)fio: ", ln)]
    return (fio or lines or [""])[-1][:300]


def job_result(out):
    """fio's document at OUT and the engine's figures, or why there are
    none: (doc, figures, why)."""
    try:
        doc, pre = load_json(out)
    except (OSError, ValueError) as e:
        return None, None, "no fio JSON (%s)" % e
    jobs = doc.get("jobs") or doc.get("client_stats") or []
    if not jobs:
        return doc, None, "no job in fio's JSON"
    if jobs[0].get("error"):
        return doc, None, "job error %s" % jobs[0]["error"]
    u = engine_figures(doc, pre)
    return doc, u, None if u else "no uring_folioreg figures"


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def bracketed(s):
    """The chosen one of a sysfs mode list: 'always [madvise] never'."""
    m = re.search(r"\[([^\]]+)\]", s)
    return m.group(1) if m else s


def virtualisation():
    """The hypervisor and the container, as systemd-detect-virt names
    them; without it, the CPU's hypervisor flag."""
    found = []
    if shutil.which("systemd-detect-virt"):
        for kind in ("vm", "container"):
            p = subprocess.run(["systemd-detect-virt", "--" + kind],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
            if p.stdout.strip() not in ("", "none"):
                found.append("%s (%s)" % (p.stdout.strip(), kind))
    flags = re.search(r"^flags\s*:(.*)$", read("/proc/cpuinfo"), re.M)
    if not any(f.endswith("(vm)") for f in found) and flags and \
            "hypervisor" in flags.group(1).split():
        found.insert(0, "a hypervisor (cpuinfo flag)")
    return ", ".join(found) or "none"


THP_DIR = "/sys/kernel/mm/transparent_hugepage"


def by_size(sizes):
    """{'2048kB': ..., '64kB': ...} in the order of the sizes."""
    return dict(sorted(sizes.items(), key=lambda kv: int(kv[0][:-2])))


def provenance(args):
    """What the figures depend on, of the machine running compare.py."""
    cpu = re.search(r"^model name\s*:\s*(.*)$", read("/proc/cpuinfo"), re.M)
    hugetlb = {}
    for d in sorted(glob.glob("/sys/kernel/mm/hugepages/hugepages-*kB")):
        hugetlb[d.rsplit("-", 1)[1]] = {
            "nr": int(read(d + "/nr_hugepages", "0")),
            "free": int(read(d + "/free_hugepages", "0"))}
    sizes, shmem_sizes = {}, {}
    for d in glob.glob(THP_DIR + "/hugepages-*kB"):
        sizes[d.rsplit("-", 1)[1]] = bracketed(read(d + "/enabled", "?"))
        if os.path.exists(d + "/shmem_enabled"):
            shmem_sizes[d.rsplit("-", 1)[1]] = bracketed(
                read(d + "/shmem_enabled"))
    try:
        fio = subprocess.run([args.fio, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        fio = fio.stdout.strip()
    except OSError as e:
        fio = "unknown (%s)" % e
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    uname = platform.uname()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "command": shlex.join([os.path.basename(sys.argv[0])] +
                              sys.argv[1:]),
        "host": uname.node,
        "where": "fio server %s (what follows is of the machine running "
                 "compare.py)" % args.client if args.client else "local",
        "client_side": CLIENT_SIDE + ["fio"] if args.client else [],
        "kernel": {"release": uname.release, "version": uname.version,
                   "machine": uname.machine,
                   "cmdline": read("/proc/cmdline")},
        "cpu": {"model": cpu.group(1) if cpu else uname.processor,
                "count": os.cpu_count(), "usable": usable},
        "virtualisation": virtualisation(),
        "loadavg": read("/proc/loadavg"),
        "hugetlb": hugetlb,
        "thp": {"enabled": bracketed(read(THP_DIR + "/enabled", "absent")),
                "defrag": bracketed(read(THP_DIR + "/defrag", "absent")),
                "sizes": by_size(sizes),
                "shmem_enabled": bracketed(read(THP_DIR + "/shmem_enabled",
                                                "absent")),
                "shmem_sizes": by_size(shmem_sizes)},
        "fio": fio,
        "engine": [],
        "python": platform.python_version(),
        "reps": args.reps,
    }


# shmem's THP switches: the top level, and the PMD size's own (Linux 6.11
# and later), which a memfd follows as anonymous shmem.
SHMEM_TOP, SHMEM_PMD = "shmem_enabled", "hugepages-2048kB/shmem_enabled"


def switch_file(name):
    """The sysfs file of a THP switch the kit sets: a size ('64kB') names
    that size's enabled, anything else a file of THP_DIR."""
    if re.fullmatch(r"\d+kB", name):
        return "%s/hugepages-%s/enabled" % (THP_DIR, name)
    return "%s/%s" % (THP_DIR, name)


def switches_wanted(env):
    """The THP switches the case of ENV needs: for a multi-size THP folio
    its size on (madvise) and every larger one off, as a fault takes the
    largest enabled size that fits; for thp the PMD size on, in a memfd
    shmem's switches (the top level advise, the PMD size's own, where
    there is one, inherit); nothing for the others."""
    folio = env.get("UFR_FOLIO")
    if folio == "thp" and env.get("UFR_BACKING") == "memfd":
        want = {SHMEM_TOP: "advise"}
        if os.path.exists(switch_file(SHMEM_PMD)):
            want[SHMEM_PMD] = "inherit"
        return want
    if folio == "thp":
        return {"2048kB": "madvise"}
    if folio not in MTHP_FOLIOS:
        return {}
    kb = size_bytes(folio) >> 10
    want = {"%dkB" % kb: "madvise"}
    for d in glob.glob(THP_DIR + "/hugepages-*kB"):
        size = d.rsplit("-", 1)[1]
        if int(size[:-2]) > kb:
            want[size] = "never"
    return by_size(want)


# ---- what this host can do ------------------------------------------------

HUGETLB_DIR = "/sys/kernel/mm/hugepages"
# perf_event_open's number where the probe knows it; elsewhere only
# CONFIG_PERF_EVENTS is looked for and the engine says the rest.
PERF_SYSCALL = {"x86_64": 298, "aarch64": 241, "riscv64": 241,
                "ppc64le": 319, "s390x": 331}


def perf_probe():
    """None when this process may sample the kernel on the cpu-clock (what
    reg_profile=1 opens), else why not."""
    paranoid = read("/proc/sys/kernel/perf_event_paranoid", None)
    if paranoid is None:
        return ("this kernel has no perf events (no /proc/sys/kernel/"
                "perf_event_paranoid: CONFIG_PERF_EVENTS is off)")
    nr = PERF_SYSCALL.get(platform.machine())
    if nr is None:
        return None
    import ctypes
    import struct
    # struct perf_event_attr: PERF_TYPE_SOFTWARE, its size, the cpu-clock,
    # disabled; the kernel counted (exclude_kernel clear).
    attr = bytearray(128)
    struct.pack_into("=IIQ", attr, 0, 1, len(attr), 0)
    struct.pack_into("=Q", attr, 40, 1)
    buf = (ctypes.c_char * len(attr)).from_buffer(attr)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(ctypes.c_long(nr), buf, ctypes.c_int(0),
                      ctypes.c_int(-1), ctypes.c_int(-1), ctypes.c_ulong(0))
    if fd < 0:
        err = ctypes.get_errno()
        return ("kernel sampling is not allowed here (perf_event_open of "
                "the cpu-clock: %s, perf_event_paranoid %s; as root or "
                "with CAP_PERFMON it is)" % (os.strerror(err), paranoid))
    os.close(fd)
    return None


def probe_host():
    """What this machine offers the cases, read once before they run: its
    hugetlb page sizes and multi-size THP sizes (KiB), THP and shmem THP,
    hugetlbfs, whether the CPU has 1 GiB pages (pdpe1gb; None where
    /proc/cpuinfo does not say), fio's default hugepage-size and perf
    events (None when usable, else why not)."""
    def sizes(d):
        return sorted(int(p.rsplit("-", 1)[1][:-2])
                      for p in glob.glob(d + "/hugepages-*kB"))
    flags = re.search(r"^flags\s*:(.*)$", read("/proc/cpuinfo"), re.M)
    return {
        "hugetlb_kb": sizes(HUGETLB_DIR),
        "mthp_kb": sizes(THP_DIR),
        "thp": os.path.exists(THP_DIR + "/enabled"),
        "shmem_thp": os.path.exists(THP_DIR + "/" + SHMEM_TOP),
        "hugetlbfs": "hugetlbfs" in read("/proc/filesystems").split(),
        "pdpe1gb": "pdpe1gb" in flags.group(1).split() if flags and
        platform.machine() in ("x86_64", "i686") else None,
        "perf": perf_probe(),
    }


def parse_job(text):
    """A job file's options as {option: value}, later lines winning:
    comments and section heads left out (a file of one job)."""
    opts = {}
    for line in text.splitlines():
        line = line.split(";", 1)[0].split("#", 1)[0].strip()
        if not line or line.startswith("["):
            continue
        k, _, v = line.partition("=")
        opts[k.strip()] = v.strip()
    return opts


def kib_name(kb):
    return "%d GiB" % (kb >> 20) if kb >= 1 << 20 else \
        "%d MiB" % (kb >> 10) if kb >= 1 << 10 else "%d KiB" % kb


def case_needs(opts):
    """What the job of OPTS (parse_job) needs of the machine, as the
    engine resolves it: [('hugetlb', KiB) | ('mthp', KiB) | ('thp',) |
    ('shmem_thp',) | ('hugetlbfs',) | ('perf',)]."""
    strategy = opts.get("reg_strategy", "auto")
    backing = opts.get("reg_backing", "anon")
    folio = opts.get("reg_folio", "default")
    if folio == "default":
        folio = {"coalesced": "2m" if backing == "memfd" else "thp",
                 "hugetlb_fast": "2m"}.get(strategy, folio)
    needs = []
    if backing == "hugetlbfs":
        needs.append(("hugetlbfs",))
    if folio in ("2m", "1g"):
        needs.append(("hugetlb", size_bytes(folio) >> 10))
    elif folio == "thp":
        needs.append(("shmem_thp",) if backing == "memfd" else ("thp",))
    elif re.fullmatch(r"\d+[km]", folio) and folio != "4k":
        needs.append(("mthp", size_bytes(folio) >> 10))
    if opts.get("iomem", opts.get("mem")) in ("mmaphuge", "shmhuge"):
        # fio's hugepage-size: 2 MiB unless the job says
        needs.append(("hugetlb", size_bytes(opts.get(
            "hugepage-size", "2m").lower().rstrip("b")) >> 10))
    if opts.get("reg_profile", "0") not in ("0", "false", "off"):
        needs.append(("perf",))
    return needs


def unavailable(opts, facts):
    """Why the job of OPTS cannot run on the machine of FACTS
    (probe_host), or None. FACTS None (a --client run: the server is not
    probed) makes every case available."""
    if facts is None:
        return None
    for need in case_needs(opts):
        kind, kb = need[0], (need[1:] or [0])[0]
        if kind == "hugetlb" and kb not in facts["hugetlb_kb"]:
            return "this kernel has no %s hugetlb pages (no %s/hugepages-" \
                "%dkB%s)" % (kib_name(kb), HUGETLB_DIR, kb,
                             "; the CPU has no pdpe1gb flag" if kb == 1 << 20
                             and facts.get("pdpe1gb") is False else "")
        if kind == "mthp" and kb not in facts["mthp_kb"]:
            return "this kernel has no %s multi-size THP (no %s/hugepages-" \
                "%dkB: Linux 6.8 and later have them)" % (
                    kib_name(kb), THP_DIR, kb)
        if kind == "thp" and not facts["thp"]:
            return "this kernel has no transparent huge pages (no %s/" \
                "enabled)" % THP_DIR
        if kind == "shmem_thp" and not facts["shmem_thp"]:
            return "this kernel has no shmem THP (no %s/%s)" % (
                THP_DIR, SHMEM_TOP)
        if kind == "hugetlbfs" and not facts["hugetlbfs"]:
            return "this kernel has no hugetlbfs (not in /proc/filesystems)"
        if kind == "perf" and facts["perf"]:
            return "reg_profile=1: " + facts["perf"]
    return None


class Host:
    """What the spectrum changes on this machine for its runs, each put
    back on exit, failure or a signal: the THP switches, multi-size THP's
    and shmem's (set before each run to what it needs, the rest as found)
    and a hugetlbfs
    mounted in a temporary directory per page size. With --client the
    server is not this machine: nothing is changed."""

    def __init__(self, args, cases):
        self.local = not args.client
        self.found, self.mounts, self.said = {}, {}, set()
        self.unmounted = {}
        self.folios = sorted({env["UFR_FOLIO"] for _, _, _, _, env in cases
                              if "UFR_HUGETLBFS" in env})
        self.needs = any(switches_wanted(env) for _, _, _, _, env in cases)
        self.signals = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self.signals[sig] = signal.signal(sig, self.on_signal)
        if self.local and self.needs:
            names = [d.rsplit("-", 1)[1] for d in
                     glob.glob(THP_DIR + "/hugepages-*kB")]
            for name in names + [SHMEM_TOP, SHMEM_PMD]:
                if os.path.exists(switch_file(name)):
                    self.found[name] = bracketed(read(switch_file(name)))
        for folio in self.folios if self.local else ():
            d = tempfile.mkdtemp(prefix="ufr-hugetlbfs-%s-" % folio)
            self.mounts[folio] = d
            p = subprocess.run(["mount", "-t", "hugetlbfs", "-o",
                                "pagesize=" + folio.upper(), "none", d],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if p.returncode:
                self.unmounted[folio] = \
                    "the kit could not mount a %s hugetlbfs (mount -t " \
                    "hugetlbfs -o pagesize=%s none %s: %s)" % (
                        folio, folio.upper(), d,
                        " ".join(p.stdout.split()) or "exit %d" %
                        p.returncode)
                warn("%s: its cases are recorded as failed, not run" %
                     self.unmounted[folio])
                os.rmdir(d)
                del self.mounts[folio]
        return self

    def on_signal(self, signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    def path(self, env):
        """ENV with the hugetlbfs directory of its page size."""
        if "UFR_HUGETLBFS" not in env or env["UFR_FOLIO"] not in self.mounts:
            return env
        return dict(env, UFR_HUGETLBFS=self.mounts[env["UFR_FOLIO"]])

    def not_set_up(self, env):
        """Why the case of ENV cannot run as the kit failed to set up
        what it needs (its hugetlbfs), or None."""
        if "UFR_HUGETLBFS" not in env:
            return None
        return self.unmounted.get(env["UFR_FOLIO"])

    def write(self, name, mode):
        f = switch_file(name)
        try:
            if bracketed(read(f, "?")) != mode:
                with open(f, "w") as fh:
                    fh.write(mode)
            return None
        except OSError as e:
            if str(e) not in self.said:
                self.said.add(str(e))
                warn("cannot set %s to %s (%s): the engine will refuse "
                     "the cases that need it" % (f, mode, e.strerror))
            return e.strerror

    def apply(self, env):
        """Before a run: the switches as found, then what the case of ENV
        needs; returns what was set (or why not)."""
        want = switches_wanted(env)
        if want and not self.local:
            return {"not set": "--client: the server's own settings"}
        for name, mode in self.found.items():
            if name not in want:
                self.write(name, mode)
        done = {}
        for name, mode in want.items():
            why = self.write(name, mode)
            done[name] = "%s not set (%s)" % (mode, why) if why else mode
        return done

    def restore(self):
        """The switches as found; returns whether every one is."""
        for name, mode in self.found.items():
            self.write(name, mode)
        return all(bracketed(read(switch_file(name), "?")) == mode
                   for name, mode in self.found.items())

    def __exit__(self, *exc):
        self.restore()
        for d in self.mounts.values():
            if subprocess.run(["mountpoint", "-q", d]).returncode == 0:
                subprocess.run(["umount", d])
            try:
                os.rmdir(d)
            except OSError as e:
                warn("cannot remove %s: %s" % (d, e))
        for sig, handler in self.signals.items():
            signal.signal(sig, handler)
        return False


PROBE_RE = re.compile(r"hostname=([^,\n]*), be=\d+, (\d+-bit), "
                      r"os=([^,\n]*), arch=([^,\n]*), fio=([^,\n]*), flags=")
# What provenance() reads on the machine running compare.py: with
# --client, not the server's.
CLIENT_SIDE = ["kernel", "cpu", "virtualisation", "loadavg", "hugetlb",
               "thp"]


def server_side(prov, text):
    """What a fio client learns of its server, from the server's probe
    reply that the client prints (hostname, OS, architecture, fio
    version), into PROV. (The "fio version" of a client's JSON is the
    client's own.)"""
    m = PROBE_RE.search(text)
    if m:
        prov["server"] = dict(zip(("hostname", "bits", "os", "arch", "fio"),
                                  m.groups()))
        prov["fio"] = m.group(5)
        if "fio" in prov.get("client_side", []):
            prov["client_side"].remove("fio")


def run_matrix(args):
    cases = MATRICES[args.matrix](args)
    if not cases:
        die("the %s matrix is empty with these settings" % args.matrix)
    if args.reps < 1:
        die("--reps must be 1 or more")
    # What the host cannot do is decided here, before anything runs: such
    # a case is recorded as not available, never run (nor mounted for).
    facts = None if args.client else probe_host()
    off = {}
    for matrix, case, jobfile, section, env in cases:
        why = unavailable(parse_job(single_job(
            jobfile, section, dict(env, UFR_ENGINE="-"))), facts)
        if why:
            off[(matrix, case)] = "not available here: " + why
    with Host(args, [c for c in cases if (c[0], c[1]) not in off]) as host:
        run_cases(args, cases, host, facts, off)


def run_cases(args, cases, host, facts, off):
    for d in ("jobs", "json", "logs"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    engine = os.path.abspath(args.engine)
    prov = provenance(args)
    prov["probe"] = facts
    workload = {k: getattr(args, k) for k in (
        "matrix", "size", "depth", "numjobs", "runtime", "scaling_counts",
        "scaling_bs", "scaling_strategies", "scaling_budget",
        "spectrum_folios", "spectrum_series", "spectrum_skip",
        "spectrum_runtime", "spectrum_rereg")}
    if host.found:
        prov["mthp_set"] = {}
    meta = []

    def save():
        with open(os.path.join(args.out, "runs.json"), "w") as f:
            json.dump({"format": 2, "provenance": prov,
                       "workload": workload, "runs": meta}, f, indent=1)

    jobs = []
    for matrix, case, jobfile, section, env in cases:
        env = host.path(dict(env, UFR_ENGINE=engine))
        name = "%s-%s" % (matrix, case)
        with open(os.path.join(args.out, "jobs", name + ".fio"), "w") as f:
            f.write(single_job(jobfile, section, env))
        if (matrix, case) in off:
            print("compare: %s %s" % (name, off[matrix, case]),
                  file=sys.stderr)
        jobs.append((matrix, case, section, env, name))
    # Rounds, every case once in each: a drift of the machine (another
    # load, the page cache) spreads over all cases alike. A case not
    # available here is recorded once, in its place, and not run.
    runs = [(rep, j) for rep in range(1, args.reps + 1) for j in jobs
            if j[:2] not in off or rep == 1]
    total = len(runs) - len(off)
    start = time.monotonic()
    failed = i = 0
    for rep, (matrix, case, section, env, name) in runs:
        if (matrix, case) in off:
            meta.append({"matrix": matrix, "case": case, "rep": 0,
                         "section": section, "env": env,
                         "client": args.client or "",
                         "status": "unavailable", "why": off[matrix, case]})
            continue
        i += 1
        job = os.path.join(args.out, "jobs", name + ".fio")
        elapsed = time.monotonic() - start
        eta = elapsed / (i - 1) * (total - i + 1) if i > 1 else 0
        print("[%d/%d] %-34s rep %d/%d, elapsed %s, eta %s" %
              (i, total, name, rep, args.reps, fmt_secs(elapsed),
               fmt_secs(eta) if i > 1 else "?"), file=sys.stderr)
        base = "%s-r%d" % (name, rep)
        out = os.path.join(args.out, "json", base + ".json")
        log = os.path.join(args.out, "logs", base + ".log")
        cmd = [args.fio]
        if args.client:
            # The server prints the engine's block only for normal output.
            cmd += ["--client=" + args.client,
                    "--output-format=normal,json"]
        else:
            cmd += ["--output-format=json", "--output=" + out]
        cmd.append(job)
        not_set_up = host.not_set_up(env)
        if not_set_up:
            # What the case needs is not there: the engine is not run on
            # a directory the kit failed to mount.
            with open(log, "w") as lf:
                lf.write("compare: not run: %s\n" % not_set_up)
            entry = {"matrix": matrix, "case": case, "rep": rep,
                     "log": base + ".log", "section": section, "env": env,
                     "client": args.client or "", "rc": None,
                     "status": "failed", "why": "not run",
                     "error": "compare: " + not_set_up}
            failed += 1
            print("[%d/%d] %s rep %d FAILED (not run): %s" %
                  (i, total, name, rep, not_set_up), file=sys.stderr)
            meta.append(entry)
            save()
            continue
        mthp = host.apply(env)
        if mthp and "mthp_set" in prov:
            prov["mthp_set"][case] = mthp
        with open(log, "w") as lf:
            try:
                p = subprocess.run(cmd, stdout=subprocess.PIPE,
                                   stderr=lf, text=True)
            except OSError as e:
                die("cannot run %s: %s" % (args.fio, e))
        if args.client:
            with open(out, "w") as f:
                f.write(p.stdout)
        entry = {"matrix": matrix, "case": case, "rep": rep,
                 "json": base + ".json", "log": base + ".log",
                 "section": section, "env": env,
                 "client": args.client or "", "rc": p.returncode,
                 "status": "ok"}
        if mthp:
            entry["mthp"] = mthp
        doc, u, why = job_result(out) if not p.returncode else \
            (None, None, "fio exit %d" % p.returncode)
        if why:
            failed += 1
            text = read(log) + "\n" + (p.stdout if args.client else "")
            entry.update(status="failed", why=why, error=error_line(text))
            print("[%d/%d] %s rep %d FAILED (%s): %s" %
                  (i, total, name, rep, why, entry["error"]),
                  file=sys.stderr)
        else:
            if u.get("version") and u["version"] not in prov["engine"]:
                prov["engine"].append(u["version"])
        if args.client:
            server_side(prov, p.stdout)
        meta.append(entry)
        save()
    prov["finished"] = datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if host.found:
        prov["mthp_restored"] = host.restore()
    save()
    print("compare: %d runs (%d cases x %d reps) in %s, results in %s" %
          (total, len(jobs) - len(off), args.reps,
           fmt_secs(time.monotonic() - start), args.out), file=sys.stderr)
    if off:
        print("compare: %d case%s not available here, not run (see the "
              "table, or runs.json)" % (len(off), "" if len(off) == 1
                                        else "s"), file=sys.stderr)
    if failed:
        print("compare: %d of %d runs FAILED (see the table, or runs.json)"
              % (failed, total), file=sys.stderr)
        sys.exit(EXIT_FAILED_RUNS)


# ---- reading results -----------------------------------------------------

BLOCK_RE = {
    "head": re.compile(r"uring_folioreg (\S+): strategy=(\S+), "
                       r"folio=(\d+)KiB"),
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
            "version": m["head"].group(1),
            "strategy": m["head"].group(2),
            "folio_bytes": int(m["head"].group(3)) << 10,
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
        "version": blocks[0]["version"],
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


def engine_figures(doc, pre):
    jobs = doc.get("jobs") or doc.get("client_stats") or []
    return jobs and (jobs[0].get("uring_folioreg") or from_block(pre))


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
    u = engine_figures(doc, pre)
    if not u:
        die("%s: no uring_folioreg figures" % run["json"])
    reg, seg = u["reg"], u["segments"]
    ddir = "write" if job["write"]["io_bytes"] else "read"
    io = run["matrix"] not in ("scaling", "spectrum")
    # The spectrum: every register call of the run (the first and the
    # re-registrations), per call and per io_u buffer it holds.
    rereg = u.get("rereg") or {"count": 0, "total_ns": 0}
    calls = 1 + rereg["count"]
    per_call = (reg["total_ns"] + rereg["total_ns"]) / calls
    io_us = int(run["env"]["UFR_COUNT"]) if run["matrix"] == "spectrum" \
        else None
    prof = reg.get("profile")
    return {
        "backing": u.get("backing", "-"),
        "io_us": io_us,
        "reg_calls": calls if io_us else None,
        "reg_call_us": per_call / 1000 if io_us else None,
        "reg_per_io_u_ns": per_call / io_us if io_us else None,
        "profile_samples": prof["samples"] if prof else None,
        "profile": prof,
        "strategy": u["strategy"], "folio": folio_name(u["folio_bytes"]),
        "unit": UNIT.get(u["strategy"], "io_u"),
        "buffers": reg["buffers"],
        "reg_total_us": reg["total_ns"] / 1000,
        "per_buffer_mean_ns": reg["per_buffer_ns"]["mean"],
        "per_buffer_p99_ns": reg["per_buffer_ns"]["p99"],
        "unreg_us": reg["unreg_ns"] / 1000,
        "bvecs": seg["bvecs"], "bvecs_observed": seg["bvecs_observed"],
        "per_io_segments": seg["per_io_mean"],
        # A registration-only run does too little I/O for I/O figures.
        "iops": job[ddir]["iops"] if io else None,
        "bw_mib_s": job[ddir]["bw"] / 1024 if io else None,
        "cpu_pct": job["usr_cpu"] + job["sys_cpu"] if io else None,
        "version": u.get("version"), "fio": doc.get("fio version"),
    }


def load_set(d):
    """runs.json of a results directory: (runs, provenance, workload).
    A list is the format of older kits and of the lab (scripts/lab):
    every run succeeded, provenance elsewhere (the lab's
    provenance.json)."""
    try:
        with open(os.path.join(d, "runs.json")) as f:
            doc = json.load(f)
    except OSError:
        die("%s has no runs.json; make it with: compare.py run" % d)
    if isinstance(doc, list):
        doc = {"runs": doc, "provenance": lab_provenance(d),
               "workload": None}
        # The lab keeps its failed cases in cases.json.
        try:
            with open(os.path.join(d, "cases.json")) as f:
                cases = json.load(f)
        except (OSError, ValueError):
            cases = []
        doc["runs"] += [
            {"matrix": c["matrix"], "case": c["case"], "rep": 1, "env": {},
             "status": "failed", "rc": c.get("rc"), "why": c.get("why"),
             "error": error_line(c.get("why") or "")}
            for c in cases if isinstance(c, dict) and
            c.get("status", "ok") != "ok" and "case" in c]
    for run in doc["runs"]:
        if "rep" not in run:
            # Older kits named scaling's repeats CASE-rN.
            m = re.fullmatch(r"(.*)-r(\d+)", run["case"])
            if run["matrix"] == "scaling" and m:
                run["case"], run["rep"] = m.group(1), int(m.group(2))
            else:
                run["rep"] = 1
    return doc["runs"], doc.get("provenance"), doc.get("workload")


def lab_provenance(d):
    """The kernel lab's provenance.json (scripts/lab/lab.py) as this kit
    records its own, where a results directory has one."""
    try:
        with open(os.path.join(d, "provenance.json")) as f:
            p = json.load(f)
        k = p["kernel"]
        return {
            "date": p.get("date", "?"),
            "command": "lab.py --matrix %s, kit %s" % (
                p.get("matrix"), " ".join(p.get("kit_args") or []) or "-"),
            "where": "a QEMU guest (%s) of the kernel lab" % p.get("accel"),
            "kernel": {"release": "%s (%s)" % (k.get("release"),
                                               k.get("package")),
                       "machine": "", "cmdline": p.get("guest_cmdline")
                       or ""},
            "cpu": {"model": "%s on %s" % (p.get("cpu_model"),
                                           p.get("host_cpu_model")),
                    "count": int(p.get("guest_cpus") or 0),
                    "usable": int(p.get("guest_cpus") or 0)},
            "virtualisation": "QEMU %s" % p.get("accel"),
            "loadavg": "?",
            "hugetlb": {s: {"nr": int(n), "free": None} for s, n in
                        (p.get("hugepages") or {}).items()},
            "thp": {"enabled": bracketed(p.get("thp") or "?"),
                    "defrag": "?", "sizes": {}},
            "fio": p.get("fio") or "?",
            "engine": [(p.get("engine") or {}).get("version") or "?"],
            "python": "-", "reps": 1}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_rows(d):
    """One row per case, in the order of the runs: its runs' figures as
    lists (figure key -> [value per successful run]), its failures."""
    runs, _, _ = load_set(d)
    rows = {}
    for run in runs:
        key = (run["matrix"], run["case"])
        if key not in rows:
            rows[key] = {"matrix": run["matrix"], "case": run["case"],
                         "strategy": "-", "folio": "-", "unit": "-",
                         "backing": "-", "profiles": [],
                         "count": int(run["env"].get("UFR_COUNT", 0)),
                         "bs": run["env"].get("UFR_BS", ""),
                         "env": run["env"], "section": run.get("section"),
                         "runs": 0, "failures": [], "versions": set(),
                         "unavailable": None,
                         "figures": {k: [] for k, _, _ in FIGURES}}
        r = rows[key]
        if run.get("status") == "unavailable":
            r["unavailable"] = run.get("why") or "not available here"
            continue
        r["runs"] += 1
        if run.get("status", "ok") != "ok":
            r["failures"].append(run)
            continue
        try:
            doc, pre = load_json(os.path.join(d, "json", run["json"]))
        except (OSError, ValueError) as e:
            r["failures"].append(dict(run, why="unreadable JSON: %s" % e,
                                      error=""))
            continue
        one = row_of(run, doc, pre)
        for k in ("strategy", "folio", "unit", "backing"):
            r[k] = one[k]
        if one["profile"]:
            r["profiles"].append(one["profile"])
        r["versions"].add((one["version"], one["fio"]))
        for k in r["figures"]:
            r["figures"][k].append(one[k])
    for r in rows.values():
        r["ok"] = r["runs"] - len(r["failures"])
        r["stats"] = {k: stat(v) for k, v in r["figures"].items()}
        r["shares"] = pooled_shares(r["profiles"])
        r["profile_top"] = ", ".join(
            "%s %.0f%%" % (f, 100 * x) for f, x in r["shares"][:3]) or "-"
        if not r["count"] and r["stats"]["buffers"]:
            r["count"] = r["stats"]["buffers"].median or 0
    return list(rows.values())


def pooled_shares(profiles):
    """[(function, share)], most first: the samples of every run's
    profile (its top functions) added up, over all their samples."""
    total = sum(p["samples"] for p in profiles)
    by = {}
    for p in profiles:
        for t in p["top"]:
            by[t["function"]] = by.get(t["function"], 0) + t["samples"]
    return sorted(((f, n / total) for f, n in by.items()),
                  key=lambda fx: -fx[1]) if total else []


class Stat:
    """The median of a figure's repeats and its 95 % interval (lo, hi),
    whole numbers kept whole where every repeat gave one."""

    def __init__(self, vals):
        vals = [v for v in vals if v is not None]
        self.n = len(vals)
        if abstats:
            m = abstats.median_interval(vals)
            self.median, self.lo, self.hi = m.median, m.lo, m.hi
        else:
            self.median = statistics.median(vals) if vals else None
            self.lo = self.hi = None
        if vals and all(isinstance(v, int) for v in vals):
            self.median, self.lo, self.hi = (
                int(x) if isinstance(x, float) and x.is_integer() else x
                for x in (self.median, self.lo, self.hi))

    def spread(self):
        """Whether the interval says more than the median."""
        return self.lo is not None and not self.lo == self.hi == self.median


def stat(vals):
    s = Stat(vals)
    return s if s.n else None


# ---- provenance and workload, as text ------------------------------------

def mode_groups(sizes):
    """{'64kB': 'never', ...} as 'never: 8kB-64kB, ...; inherit: 2048kB'."""
    by = {}
    for size, mode in sizes.items():
        by.setdefault(mode, []).append(size)
    return "; ".join("%s %s" % (mode, ",".join(s)) for mode, s in by.items()
                     if mode != "?")


def provenance_lines(prov, versions=()):
    """A few lines saying where and on what the figures were measured."""
    if not prov:
        return ["provenance: not recorded (a results directory of an older "
                "compare.py or of the kernel lab: see its provenance.json)"]
    k, c = prov["kernel"], prov["cpu"]
    hp = ", ".join("%s %d (%s free)" % (s, v["nr"], "?" if v["free"] is None
                                        else v["free"])
                   for s, v in prov["hugetlb"].items()) or "none"
    thp = prov["thp"]
    engines = sorted({v for v, _ in versions if v} | set(prov["engine"]))
    cmdline = k["cmdline"] if len(k["cmdline"]) <= 100 else \
        k["cmdline"][:100] + "... (all of it in %s)" % (
            "provenance.json" if "lab" in prov["where"] else "runs.json")
    client = set(prov.get("client_side") or ())

    def of(*fields):
        """' (client machine)' where a --client run's FIELDS were read
        on the machine running compare.py, not on the fio server."""
        return " (client machine)" if client & set(fields) else ""
    lines = [
        "kernel%s: Linux %s, cmdline: %s" % (
            of("kernel"),
            " ".join(x for x in (k["release"], k["machine"]) if x), cmdline),
        "machine%s: %s, %d CPUs (%d usable), virtualisation: %s, load %s" %
        (of("cpu", "virtualisation", "loadavg"), c["model"], c["count"],
         c["usable"], prov["virtualisation"],
         " ".join(prov["loadavg"].split()[:3])),
        "memory%s: hugetlb %s; THP %s, defrag %s, mTHP %s; shmem THP %s, "
        "per size %s" %
        (of("hugetlb", "thp"), hp, thp["enabled"], thp["defrag"],
         mode_groups(thp["sizes"]) or "none",
         thp.get("shmem_enabled", "not recorded"),
         mode_groups(thp.get("shmem_sizes", {})) or "none"),
        "software: %s%s, uring_folioreg %s, Python %s; %s; %s" %
        (prov["fio"], of("fio"), ", ".join(engines) or "unknown",
         prov["python"], "run on this machine" if prov["where"] == "local"
         else "run on " + prov["where"], prov["date"]),
    ]
    srv = prov.get("server")
    if srv:
        lines.append("server: %s, %s %s %s, %s (its fio's probe reply; "
                     "the engine's version from its own block)" %
                     (srv["hostname"], srv["os"], srv["arch"], srv["bits"],
                      srv["fio"]))
    if prov.get("mthp_set"):
        lines.append(
            "THP switches set by the kit per case (%s after): %s" % (
                "restored" if prov.get("mthp_restored") else "NOT restored",
                "; ".join("%s %s" % (case, mode_groups(want))
                          for case, want in prov["mthp_set"].items())))
    return lines + ["command: " + prov["command"]]


FLAGS_LEFT_OUT = ("ioengine", "filename")
# The job option each variable of the example job files sets.
ENV_OPTION = {"UFR_SIZE": "size", "UFR_DEPTH": "iodepth",
              "UFR_NUMJOBS": "numjobs", "UFR_RUNTIME": "runtime",
              "UFR_BS": "bs", "UFR_COUNT": "iodepth",
              "UFR_STRATEGY": "reg_strategy"}


def job_options(d, run):
    """The options of a case's job file (DIR/jobs), without the engine's
    path and the scratch file's: what the case ran. Without the file, the
    variables it was made with."""
    path = os.path.join(d, "jobs", "%s-%s.fio" % (run["matrix"], run["case"]))
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {ENV_OPTION.get(k, k): v for k, v in run["env"].items()
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
    n = sorted({r["runs"] for r in rows if not r["unavailable"]}) or [0]
    return "%s repeat%s per case" % ("/".join(map(str, n)),
                                     "" if n == [1] else "s")


STATS_NOTE = ("cells: median of the repeats [95 %% percentile-bootstrap "
              "interval of the median, %d resamples, seed %d] "
              "(scripts/lab/abstats.py); one value where every repeat "
              "agreed" % (abstats.RESAMPLES, abstats.SEED) if abstats else
              "cells: median of the repeats (no interval: abstats.py, "
              "from the source tree's scripts/lab, is not beside "
              "compare.py)")


SPECTRUM_NOTE = (
    "spectrum: reg per call is the mean of the run's register calls (the "
    "first and every re-registration), each sampled by reg_profile=1, "
    "whose cost it includes; reg per io_u buffer is that over the io_u "
    "buffers one call registers (coalesced: all of them as one region); "
    "top kernel functions: the innermost function of each sample under "
    "io_uring_register, the samples of all repeats added up")


# ---- table ------------------------------------------------------------

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
    if key in r["stats"]:
        return stat_cell(r["stats"][key])
    return cell(r[key])


def reps_cell(r):
    if r["unavailable"]:
        return "not available here"
    if not r["failures"]:
        return str(r["runs"])
    return "%s %d/%d" % ("FAILED" if not r["ok"] else "failed",
                         r["ok"], r["runs"])


def unavailable_lines(rows):
    """'not available here: CASES: why', one line per reason."""
    by = {}
    for r in rows:
        if r["unavailable"]:
            by.setdefault(r["unavailable"], []).append(r["case"])
    prefix = "not available here: "
    return ["%s%s: %s" % (prefix, ", ".join(cases), why[len(prefix):]
                          if why.startswith(prefix) else why)
            for why, cases in by.items()]


def table(args):
    rows = load_rows(args.dir)
    _, prov, _ = load_set(args.dir)
    with open(os.path.join(args.dir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        head = ["matrix", "case", "status", "reps_ok", "reps", "strategy",
                "folio", "unit"]
        for k, _, _ in FIGURES:
            head += [k, k + "_lo", k + "_hi"]
        w.writerow(head + ["bs", "backing", "profile_top", "why"])
        for r in rows:
            line = [r["matrix"], r["case"],
                    "unavailable" if r["unavailable"] else
                    "ok" if not r["failures"] else
                    "failed" if not r["ok"] else "partly failed",
                    r["ok"], r["runs"], r["strategy"], r["folio"], r["unit"]]
            for k, _, _ in FIGURES:
                s = r["stats"][k]
                line += [s.median, s.lo, s.hi] if s else ["", "", ""]
            w.writerow(line + [r["bs"], r["backing"], r["profile_top"],
                               r["unavailable"] or ""])
    versions = set().union(*(r["versions"] for r in rows))
    for matrix in dict.fromkeys(r["matrix"] for r in rows):
        mrows = [r for r in rows if r["matrix"] == matrix]
        cols = SPECTRUM_COLUMNS if matrix == "spectrum" else COLUMNS
        print("\n### %s\n" % matrix)
        print("| " + " | ".join(h + (" (%s)" % u if u else "")
                                for _, h, u in cols) + " | reps |")
        print("|" + " --- |" * (len(cols) + 1))
        for r in mrows:
            print("| " + " | ".join(value(r, k) for k, _, _ in cols) +
                  " | " + reps_cell(r) + " |")
        print()
        for r in mrows:
            for f in r["failures"]:
                why, err = f.get("why") or "failed", f.get("error") or "-"
                print("FAILED: %s-%s rep %s: %s" %
                      (matrix, r["case"], f.get("rep", "?"),
                       why if err in why else why + ": " + err))
        for line in unavailable_lines(mrows):
            print(line)
        print("unit: what one registration figure is per: io_u, one "
              "buffer of each I/O unit; region, one coalesced region "
              "holding many (buffers = regions)")
        if matrix == "spectrum":
            print(SPECTRUM_NOTE)
        print(STATS_NOTE)
        print(workload_line(args.dir, mrows, reps_text(mrows)))
        for line in provenance_lines(prov, versions):
            print(line)
    ratio_line(rows)
    print("\ncompare: CSV in %s" % os.path.join(args.dir, "results.csv"))


def ratio_line(rows):
    """per_page against hugetlb_fast at 256 x 1 MiB, when both ran."""
    def pick(st):
        for r in rows:
            if r["strategy"] == st and r["stats"]["buffers"] and \
                    r["stats"]["buffers"].median == 256 and \
                    r["bs"] in ("", "1m") and \
                    r["stats"]["per_buffer_mean_ns"]:
                return r["figures"]["per_buffer_mean_ns"]
        return None
    a, b = pick("per_page"), pick("hugetlb_fast")
    if not (a and b):
        return
    if abstats and min(len(a), len(b)) > 1:
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


# ---- plots ------------------------------------------------------------

def gnuplot(script, cwd):
    if not shutil.which("gnuplot"):
        die("gnuplot is not installed; run: apt-get install gnuplot-nox")
    subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd, check=True)


def gp_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace(
        "\n", "\\n")


def plot_title(title, d, rows, prov, stats=None, off=()):
    """A title, and under it what the figures were measured on, and the
    cases of OFF (rows not available here) with why."""
    engines = sorted({v for r in rows for v, _ in r["versions"] if v})
    client = set(prov.get("client_side") or ()) if prov else set()
    sub = "Linux %s%s, %s%s, uring_folioreg %s" % (
        prov["kernel"]["release"],
        " (client machine)" if "kernel" in client else "", prov["fio"],
        " (client machine)" if "fio" in client else "",
        ",".join(engines) or "?") if prov else "provenance not recorded"
    work = workload_line(d, rows, "")[len("workload: "):].rstrip("; ")
    stats = "%s: %s" % (reps_text(rows), stats or "median" + (
        ", bars: 95 % interval" if abstats else ""))
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
    series = r["case"].rsplit("-", 1)[0]
    if series in ("anon", "memfd") and r["case"].endswith(("-2m", "-1g")):
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
    folios = sorted({size_bytes(r["folio"]) for r in rows if
                     r["folio"] != "-"})
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
                                 and r["stats"][key]),
                                key=lambda r: size_bytes(r["folio"])):
                    f.write("%d %f %f %f\n" % ((size_bytes(r["folio"]),) +
                                               lohi(r["stats"][key])))
            clauses.append("'%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
                           "lc %d title '%s'" % (fn, n + 1, line))
        return clauses

    made = []
    axes = "set key below horizontal\nset logscale xy\n" \
        "set xlabel 'folio size (log)'\n" + xtics
    gnuplot(STYLE + "set output 'spectrum-reg.png'\n" +
            plot_title("Registration time per io_u buffer against folio "
                       "size (sampled by reg_profile=1)", d, rows, prov, off=off) +
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
        for f, x in r["shares"]:
            weight[f] = weight.get(f, 0) + x
    top = sorted(weight, key=lambda f: -weight[f])[:5]
    with open(os.path.join(d, "spectrum-profile.dat"), "w") as f:
        f.write("# case %s other\n" % " ".join(top))
        for r in sorted(rows, key=lambda r: (lines.index(spectrum_line(r)),
                                             size_bytes(r["folio"]))):
            sh = dict(r["shares"])
            got = [sh.get(fn, 0) for fn in top]
            f.write("%s %s %f\n" % (
                gp_str(r["case"] + ("" if r["shares"] else " (no profile)")),
                " ".join("%f" % x for x in got),
                1 - sum(got) if r["shares"] else 0))
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


def plot(args):
    every = load_rows(args.dir)
    rows = [r for r in every if r["ok"]]

    def off(plotted):
        """The rows not available here of the matrices PLOTTED takes."""
        return [r for r in every if r["unavailable"] and
                plotted(r["matrix"])]
    _, prov, _ = load_set(args.dir)
    d = os.path.abspath(args.dir)
    made = spectrum_plots(d, [r for r in rows if r["matrix"] == "spectrum"],
                          prov, off(lambda m: m == "spectrum"))
    scal = [r for r in rows if r["matrix"] == "scaling"]
    if scal:
        series = sorted({(r["strategy"], r["bs"]) for r in scal})
        plots = []
        for st, bs in series:
            fn = "scaling-%s-%s.dat" % (st, bs)
            with open(os.path.join(d, fn), "w") as f:
                f.write("# buffers per_unit_ns lo hi\n")
                for r in sorted((r for r in scal if r["strategy"] == st and
                                 r["bs"] == bs), key=lambda r: r["count"]):
                    f.write("%d %f %f %f\n" % (
                        (r["count"],) +
                        lohi(r["stats"]["per_buffer_mean_ns"])))
            plots.append("'%s' using 1:2:3:4 with yerrorlines lw 2 "
                         "title '%s %s%s'" %
                         (fn, st, bs, " (per region)"
                          if UNIT.get(st) == "region" else ""))
        gnuplot(STYLE + "set output 'reg-scaling.png'\n" +
                plot_title("Registration time per buffer against buffer "
                           "count (reg_mode=batch)", d, scal, prov,
                           off=off(lambda m: m == "scaling")) +
                "set key below horizontal\n"
                "set logscale xy\nset xlabel 'registered buffers (count)'\n"
                "set ylabel 'time per registered unit (ns, log)'\n"
                "plot " + ", \\\n  ".join(plots) + "\n", d)
        made.append("reg-scaling.png")

    strat = [r for r in rows if r["matrix"] not in ("scaling", "spectrum")]
    if strat:
        one = len({r["matrix"] for r in strat}) == 1
        with open(os.path.join(d, "strategies.dat"), "w") as f:
            f.write("# case bvecs lo hi bw lo hi reg_ns lo hi reg_note "
                    "bvecs_note case_and_unit\n")
            for r in strat:
                label = r["case"] if one else r["matrix"] + "-" + r["case"]
                unit_label = label + (
                    " (per region)" if UNIT.get(r["strategy"]) == "region"
                    else "")
                st = r["stats"]
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
        bars = ("set style data histograms\n"
                "set style histogram errorbars gap 1 lw 1\n"
                "set style fill solid 0.8 border -1\nset boxwidth 0.8\n"
                "set xtics rotate by -30\nset key off\nset bmargin 9\n"
                "set xlabel 'case'\n")

        def bar_plot(png, title, ylabel, col, color, key=None, note=None,
                     xtic=1):
            """Columns COL..COL+2 of strategies.dat as bars with error bars;
            with KEY (a figure) on a log axis, where a zero has no place:
            its bar is left out and column NOTE's words stand at the foot
            of its slot instead."""
            axis = "set yrange [0:*]\n"
            foot = ""
            if key:
                low = min([x for x in (lohi(r["stats"][key])[1]
                                       for r in strat) if x > 0] or [1])
                axis = "set logscale y\nset yrange [%g:*]\n" % (low / 4)
                foot = ", '' using 0:(%g):%d with labels rotate by 90 " \
                    "left offset 0,0.5 tc rgb '#303030'" % (low / 3, note)
            gnuplot(STYLE + bars + "set output '%s'\n" % png +
                    plot_title(title, d, strat, prov, off=off(
                        lambda m: m not in ("scaling", "spectrum"))) +
                    axis +
                    "set ylabel '%s'\n" % ylabel +
                    "plot 'strategies.dat' using %d:%d:%d:xtic(%d) "
                    "lc rgb '%s'" % (col, col + 1, col + 2, xtic, color) +
                    foot + "\n", d)
            made.append(png)
        bar_plot("registration.png", "Registration time per registered "
                 "unit (reg_mode=each)", "time per buffer or region (ns, "
                 "log)", 8, "#308050", "per_buffer_mean_ns", 11, 13)
        bar_plot("bvecs.png", "bio_vecs the kernel built for the "
                 "registered buffers", "bio_vecs (count, log)", 2,
                 "#3060a0", "bvecs", 12)
        bar_plot("bandwidth.png", "Bandwidth per strategy",
                 "bandwidth (MiB/s)", 5, "#a05030")
    for m in made:
        print(os.path.join(args.dir, m))


# ---- two result sets --------------------------------------------------

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


def diff(args):
    if not abstats:
        die("diff needs abstats.py (scripts/lab/abstats.py of the source "
            "tree) beside compare.py")
    a = {(r["matrix"], r["case"]): r for r in load_rows(args.a)}
    b = {(r["matrix"], r["case"]): r for r in load_rows(args.b)}
    common = [k for k in a if k in b]
    only_a = [k for k in a if k not in b]
    only_b = [k for k in b if k not in a]
    for side, keys in (("A", only_a), ("B", only_b)):
        if keys:
            print("only in %s (%s): %s" % (
                side, args.a if side == "A" else args.b,
                ", ".join("%s-%s" % k for k in keys)))
    if not common:
        die("the two result sets have no case in common")
    differ = workload_differences(args.a, args.b, a, b, common)
    if differ:
        for line in differ:
            print("workload differs: " + line)
        if not args.allow_mismatch:
            die("the two result sets ran different workloads (above); "
                "compare like with like, or pass --allow-mismatch")
        warn("WARNING: comparing different workloads (--allow-mismatch)")
    for side, d in (("A", args.a), ("B", args.b)):
        _, prov, _ = load_set(d)
        rows = list((a if side == "A" else b).values())
        versions = set().union(*(r["versions"] for r in rows))
        print("\n%s: %s, %s" % (side, d, reps_text(rows)))
        for line in provenance_lines(prov, versions):
            print("  " + line)
    metrics = [c for c in FIGURES if c[0] != "buffers"]
    print("\nB / A per figure: the ratio of the medians, its 95 %% "
          "percentile-bootstrap interval (%d resamples, seed %d, "
          "scripts/lab/abstats.py) and the verdict: same when the "
          "interval contains 1, else lower or higher\n" %
          (abstats.RESAMPLES, abstats.SEED))
    print("| case | metric | A | B | B/A | 95% CI | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k in common:
        ra, rb = a[k], b[k]
        for side, r in (("A", ra), ("B", rb)):
            if r["unavailable"]:
                print("| %s-%s | %s in %s | | | | | |" %
                      (k[0], k[1], r["unavailable"], side))
            if r["failures"]:
                print("| %s-%s | runs failed in %s | %d of %d | | | | |" %
                      (k[0], k[1], side, len(r["failures"]), r["runs"]))
        for key, head, unit in metrics:
            fa, fb = ra["figures"][key], rb["figures"][key]
            if all(v is None for v in fa + fb):
                continue
            r = abstats.ratio(fa, fb)
            times, ci = abstats.fmt_ratio(r)
            verdict = r.verdict
            if min(r.n_a, r.n_b) < 2 and verdict not in ("same", "n/a"):
                # One run a side: its "interval" is a point, and any
                # difference would read as significant.
                ci, verdict = "none (1 run)", "differs, 1 run: no verdict"

            if key.startswith("per_buffer"):
                head = head.replace("unit", ra["unit"])
            print("| %s-%s | %s%s | %s | %s | %s | %s | %s |" %
                  (k[0], k[1], head, " (%s)" % unit if unit else "",
                   abstats.fmt_num(r.median_a), abstats.fmt_num(r.median_b),
                   times, ci, verdict))


# ---- options -------------------------------------------------------------

class HelpFormat(argparse.ArgumentDefaultsHelpFormatter,
                 argparse.RawDescriptionHelpFormatter):
    """Every option's default in its help (none where it has none), and
    the descriptions as written."""

    def _get_help_string(self, action):
        if action.required:
            return action.help
        if not action.option_strings or \
                action.default is argparse.SUPPRESS:
            return super()._get_help_string(action)
        if action.default is None:
            return action.help + " (default: unset)"
        if action.default is False:
            return action.help + " (default: off)"
        return super()._get_help_string(action)


class DeprecatedReps(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        warn("%s is deprecated: use --reps (every matrix repeats)" %
             option_string)
        namespace.reps = values


# compare.py run's options: flag: (default, help); a number's default
# makes the option take numbers.
RUN_OPTIONS = {
    "--reps": (3, "runs per case; tables show their median and its "
               "95 %% interval"),
    "--fio": ("fio", "the fio to run"),
    "--client": (None, "run on a fio --server there (fio's syntax, e.g. "
                 "ip:10.0.0.2,8765); the engine and --file paths are the "
                 "server's"),
    "--file": ("/tmp/uring_folioreg-compare.dat",
               "scratch file for the I/O (needs no device)"),
    "--size": ("512m", "bytes of --file the I/O covers (k, m, g)"),
    "--depth": (64, "iodepth: buffers registered per job"),
    "--numjobs": (2, "jobs of the rfc matrix"),
    "--runtime": (4, "seconds of I/O per run (strategies, rfc)"),
    "--scaling-counts": ("16,64,256,1024,4096,16384",
                         "buffer counts of the scaling matrix"),
    "--scaling-bs": ("4k,64k,1m,2m", "buffer sizes of the scaling matrix"),
    "--scaling-strategies": ("per_page,hugetlb_fast",
                             "strategies of the scaling matrix"),
    "--scaling-budget": ("1g",
                         "largest count x bs to register (scaling)"),
    "--spectrum-folios": ("4k,16k,64k,256k,1m,thp,2m,1g",
                          "folio sizes of the spectrum matrix (4k, 16k, "
                          "32k, 64k, 128k, 256k, 512k, 1m, thp, 2m, 1g)"),
    "--spectrum-series": ("anon,memfd,hugetlbfs,hugetlb_fast",
                          "lines of the spectrum matrix (anon, memfd, "
                          "hugetlbfs, hugetlb_fast)"),
    "--spectrum-skip": (None, "cases of the spectrum matrix to leave out, "
                        "SERIES-FOLIO (e.g. memfd-thp,anon-16k)"),
    "--spectrum-runtime": (1, "seconds of re-registration per spectrum "
                           "run"),
    "--spectrum-rereg": ("5ms", "re-registration interval of the spectrum "
                         "(a fio time)"),
    "--engine": (os.path.join(TOP, "uring_folioreg.so"),
                 "the engine the jobs load"),
}


def parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=HelpFormat)
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    r = sub.add_parser(
        "run", help="run a matrix of jobs, each case --reps times",
        description="Run MATRIX into --out: each case --reps times, each "
        "run one fio job; records every run and the provenance in "
        "OUT/runs.json.", epilog=MATRIX_HELP, formatter_class=HelpFormat)
    r.add_argument("matrix", choices=sorted(MATRICES),
                   help="what to run (below)")
    r.add_argument("--out", required=True,
                   help="results directory (made; runs.json, jobs/, json/, "
                   "logs/)")
    for flag, (default, text) in RUN_OPTIONS.items():
        r.add_argument(flag, default=default, help=text,
                       type=type(default) if default is not None else None)
    r.add_argument("--scaling-reps", type=int, dest="reps",
                   action=DeprecatedReps, default=argparse.SUPPRESS,
                   help="deprecated alias of --reps (default: as --reps)")
    for name, summary, desc in (
            ("table", "print Markdown tables, write DIR/results.csv",
             "One Markdown table per matrix of DIR: a row per case, each "
             "figure the median of its repeats with its 95 % percentile-"
             "bootstrap interval, failed runs marked; under each, the "
             "workload and the provenance. Writes DIR/results.csv (each "
             "figure with _lo and _hi)."),
            ("plot", "draw PNG plots with gnuplot",
             "PNG plots into DIR: reg-scaling.png (scaling), "
             "registration.png, bvecs.png and bandwidth.png (the others); "
             "medians with 95 % interval bars, the kernel, fio, engine, "
             "workload and repeats in the title.")):
        sub.add_parser(name, formatter_class=HelpFormat, help=summary,
                       description=desc).add_argument(
            "dir", help="a results directory (compare.py run --out)")
    dfp = sub.add_parser(
        "diff", formatter_class=HelpFormat,
        help="B against A, figure by figure, with a verdict",
        description="B against A for every figure of every case both ran: "
        "the ratio of the medians with its 95 % bootstrap interval and a "
        "verdict (same when the interval contains 1, lower, higher). "
        "Refuses two sets whose job options differ (other than the engine "
        "and scratch file paths) unless --allow-mismatch; lists the cases "
        "only one side has.")
    dfp.add_argument("a", help="results directory A (the baseline)")
    dfp.add_argument("b", help="results directory B")
    dfp.add_argument("--allow-mismatch", action="store_true",
                     help="compare even when the workloads differ (each "
                     "difference is still printed)")
    return p


def main():
    args = parser().parse_args()
    {"run": run_matrix, "table": table, "plot": plot, "diff": diff}[
        args.cmd](args)


if __name__ == "__main__":
    main()
