"""The cases of the kit's matrices: each a job of an example job file
(one section, the [global] sections before it, its ${UFR_*} variables)
or a section of a job file given as the matrix."""

import os
import re
from dataclasses import dataclass, field

from . import EXAMPLES, KitError


@dataclass
class Case:
    """One case of a matrix: the section of JOBFILE (a name under
    examples/, or a path) to run with ENV's ${UFR_*} variables."""
    matrix: str
    case: str
    jobfile: str
    section: str
    env: dict = field(default_factory=dict)

    @property
    def name(self):
        return "%s-%s" % (self.matrix, self.case)


def strategies_runs(args):
    env = {"UFR_FILE": args.file, "UFR_SIZE": args.size,
           "UFR_DEPTH": str(args.depth), "UFR_RUNTIME": str(args.runtime)}
    sections = ["per_page", "coalesced-thp", "coalesced-2m",
                "hugetlb_fast-2m", "iomem-mmaphuge", "iomem", "none"]
    return [Case("strategies", s, "compare.fio", s, env) for s in sections]


def rfc_runs(args):
    env = {"UFR_FILE": args.file, "UFR_SIZE": args.size,
           "UFR_DEPTH": str(args.depth), "UFR_RUNTIME": str(args.runtime),
           "UFR_NUMJOBS": str(args.numjobs)}
    return [Case("rfc", s, "rfc-hugetlb-fast.fio", s, env)
            for s in ["iomem", "hugetlb_fast", "coalesced", "per_page"]]


def size_bytes(s):
    m = re.fullmatch(r"(\d+)([kmg]?)", s.lower())
    if not m:
        raise KitError("bad size " + s)
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
                runs.append(Case("scaling", "%s-%s-%d" % (st, bs, count),
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
        raise KitError("--spectrum-folios: no folio size %s (take %s)" %
                       (bad, ",".join(SPECTRUM_SERIES["anon"][1])))
    skip = [c for c in (args.spectrum_skip or "").split(",") if c]
    known = ["%s-%s" % (series, f) for series, (_, takes) in
             SPECTRUM_SERIES.items() for f in takes]
    for bad in [c for c in skip if c not in known]:
        raise KitError("--spectrum-skip: no case %s (take SERIES-FOLIO: "
                       "%s)" % (bad, ",".join(known)))
    for series in args.spectrum_series.split(","):
        if series not in SPECTRUM_SERIES:
            raise KitError("--spectrum-series: no series %s (take %s)" %
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
            runs.append(Case("spectrum", "%s-%s" % (series, folio),
                         "spectrum.fio", section, env))
    return runs


def demo_runs(args):
    return strategies_runs(args) + scaling_runs(args)


def jobfile_runs(path, args):
    """A job file given as the matrix: a case per section (but global),
    named after the file, with the variables of the strategies matrix."""
    name = os.path.splitext(os.path.basename(path))[0]
    env = {"UFR_FILE": args.file, "UFR_SIZE": args.size,
           "UFR_DEPTH": str(args.depth), "UFR_RUNTIME": str(args.runtime),
           "UFR_NUMJOBS": str(args.numjobs)}
    with open(path) as f:
        heads = [SECTION_RE.match(ln) for ln in f.read().splitlines()]
    sections = [m.group(1).strip() for m in heads if m and
                m.group(1).strip() != "global"]
    return [Case(name, s, os.path.abspath(path), s, env) for s in sections]


def matrix_cases(args):
    """The cases of args.matrix: a built-in matrix's, or a job file's."""
    if args.matrix in MATRICES:
        return MATRICES[args.matrix](args)
    if os.path.isfile(args.matrix):
        return jobfile_runs(args.matrix, args)
    raise KitError("no matrix %s: give one of %s, or a job file" %
                   (args.matrix, ", ".join(sorted(MATRICES))))


MATRICES = {"strategies": strategies_runs, "rfc": rfc_runs,
            "scaling": scaling_runs, "spectrum": spectrum_runs,
            "demo": demo_runs}


MATRIX_HELP = """matrices (each case runs --reps times; every table cell and plot point
is the median of the repeats with its 95 % interval):
  strategies  examples/compare.fio: one case per strategy (per_page,
              coalesced-thp, coalesced-2m, hugetlb_fast-2m, iomem-mmaphuge,
              iomem, none), each random 1 MiB O_DIRECT writes to
              --filename (--size, --iodepth, --runtime), every buffer's
              registration timed (reg_mode=each). Measures registration
              time (total and per buffer or region), unregistration,
              bio_vecs built and pinned, segments per I/O, IOPS, bandwidth
              and CPU.
              2 MiB hugetlb pages needed: --iodepth / 2 + 1.
  rfc         examples/rfc-hugetlb-fast.fio: the workload of the io_uring
              hugetlb fast-path RFC (--numjobs jobs, group_reporting) on
              iomem=mmaphuge (as the RFC ran fio), hugetlb_fast, coalesced
              and per_page. Measures the same as strategies: whether the
              per-buffer registration time falls and bandwidth stays.
              2 MiB hugetlb pages needed: --numjobs x (--iodepth / 2 + 1).
  scaling     examples/scaling.fio: registration alone (reg_mode=batch,
              one call) of COUNT buffers of BS on each of
              --scaling-strategies, for COUNT in --scaling-counts and BS
              in --scaling-bs while COUNT x BS <= --scaling-budget; reads
              one block of /dev/zero. Measures the time per registered
              buffer (coalesced: per region) against the count; no I/O
              figures.
  spectrum    examples/spectrum.fio: registration of --iodepth buffers of
              1 MiB (reg_mode=batch, one call), then again every
              --spectrum-rereg for --spectrum-runtime while reads
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
              Hugetlb pages needed: --iodepth / 2 + 1 of 2 MiB, one of 1 GiB.
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
        raise KitError("%s has no section [%s]" % (jobfile, section))
    text = "; %s, section [%s], written by compare.py\n\n" % (
        jobfile, section)
    text += "\n".join("\n".join(b).rstrip("\n") + "\n" for b in keep)

    def sub(m):
        if m.group(1) not in env:
            raise KitError("%s [%s]: no value for ${%s}" %
                           (jobfile, section, m.group(1)))
        return env[m.group(1)]
    return re.sub(r"\$\{(UFR_[A-Z_]+)\}", sub, text)


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
