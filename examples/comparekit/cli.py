"""compare.py's command line: its options, and the exit codes (the
library below raises KitError; only this module exits)."""

import argparse
import shlex
import sys

from . import KitError, warn
from .cases import MATRICES, MATRIX_HELP
from .diff import diff
from .plots import plot
from .running import run_matrix
from .table import table

EXIT_FAILED_RUNS = 3
USAGE = """Compare io_uring buffer registration strategies with uring_folioreg.

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
with its 95 % percentile-bootstrap interval (comparekit/abstats.py).
With --client the runs go to a fio --server there: the engine's figures
are then the JSON it prints there on a line of its own for each job or
group ('uring_folioreg json: '), as fio's client JSON cannot carry them.
Only the Python standard library, fio, and (for plots) gnuplot are
needed.
"""


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
# makes the option take numbers. fio's own names where fio has the
# option (--iodepth, --filename, times in fio's syntax), the kit's older
# names accepted too (RUN_ALIASES).
RUN_OPTIONS = {
    "--reps": (3, "runs per case; tables show their median and its "
               "95 %% interval"),
    "--fio": ("fio", "the fio to run"),
    "--client": (None, "run on a fio --server there (fio's syntax, e.g. "
                 "ip:10.0.0.2,8765); the engine and --filename paths are "
                 "the server's"),
    "--filename": ("/tmp/uring_folioreg-compare.dat",
                   "scratch file for the I/O (needs no device)"),
    "--size": ("512m", "bytes of --filename the I/O covers (k, m, g)"),
    "--iodepth": (64, "buffers registered per job"),
    "--numjobs": (2, "jobs of the rfc matrix"),
    "--runtime": ("4", "I/O time per run, a fio time (4, 3s, 500ms; "
                  "strategies, rfc)"),
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
    "--spectrum-runtime": ("1", "re-registration time per spectrum run, "
                           "a fio time"),
    "--spectrum-rereg": ("5ms", "re-registration interval of the spectrum "
                         "(a fio time)"),
    "--engine": (None, "the engine the jobs load"),
}
# Older names of the options above, and the attribute each sets.
RUN_ALIASES = {"--filename": ("--file", "file"),
               "--iodepth": ("--depth", "depth")}


def parser(engine=None):
    """compare.py's parser; ENGINE is run's default --engine."""
    p = argparse.ArgumentParser(
        description=USAGE, formatter_class=HelpFormat)
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    r = sub.add_parser(
        "run", help="run a matrix of jobs, each case --reps times",
        description="Run MATRIX into --out: each case --reps times, each "
        "run one fio job; records every run and the provenance in "
        "OUT/runs.json.", epilog=MATRIX_HELP, formatter_class=HelpFormat)
    r.add_argument("matrix", help="what to run: %s (below), or a job "
                   "file (a case per section, with the ${UFR_*} variables "
                   "of strategies)" % ", ".join(sorted(MATRICES)))
    r.add_argument("--out", required=True,
                   help="results directory (made; runs.json, jobs/, json/, "
                   "logs/)")
    for flag, (default, text) in RUN_OPTIONS.items():
        old, dest = RUN_ALIASES.get(flag, (None, None))
        if flag == "--engine":
            default = engine
        r.add_argument(flag, *[old] if old else [], default=default,
                       help=text, dest=dest or flag[2:].replace("-", "_"),
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
        "the ratio of the medians with its 95 % interval (Welch's t, the "
        "figures that vary one family) and a verdict (same when the "
        "interval contains 1, lower, higher). "
        "Refuses two sets whose job options differ (other than the engine "
        "and scratch file paths) unless --allow-mismatch; lists the cases "
        "only one side has.")
    dfp.add_argument("a", help="results directory A (the baseline)")
    dfp.add_argument("b", help="results directory B")
    dfp.add_argument("--allow-mismatch", action="store_true",
                     help="compare even when the workloads differ (each "
                     "difference is still printed)")
    return p


def main(argv=None, engine=None):
    """compare.py: 0, 1 (a KitError, said in one line), or 3 (runs
    failed)."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser(engine).parse_args(argv)
    args.command = shlex.join(["compare.py"] + list(argv))
    try:
        if args.cmd == "run":
            return EXIT_FAILED_RUNS if run_matrix(args) else 0
        if args.cmd == "diff":
            diff(args.a, args.b, args.allow_mismatch)
        else:
            {"table": table, "plot": plot}[args.cmd](args.dir)
    except KitError as e:
        print("compare: %s" % e, file=sys.stderr)
        return 1
    return 0
