"""compare.py run: every case of a matrix, --reps times in rounds, each
run one fio invocation on a job file of its own; runs.json kept as it
goes."""

import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

from . import KitError
from .cases import matrix_cases, parse_job, single_job
from .host import Host
from .probe import probe_host, unavailable
from .provenance import provenance, server_side
from .model import Run
from .results import engine_figures, error_line, load_json



def fmt_secs(s):
    return "%dm%02ds" % (s // 60, s % 60)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


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


def not_available(cases, facts):
    """{case name: 'not available here: why'} of the CASES the machine
    of FACTS (probe_host; None: not probed) cannot have."""
    off = {}
    for c in cases:
        why = unavailable(parse_job(single_job(
            c.jobfile, c.section, dict(c.env, UFR_ENGINE="-"))), facts)
        if why:
            off[c.name] = "not available here: " + why
    return off


def run_matrix(args):
    """Runs args.matrix into args.out; returns how many runs failed."""
    cases = matrix_cases(args)
    if not cases:
        raise KitError("the %s matrix is empty with these settings" %
                       args.matrix)
    if args.reps < 1:
        raise KitError("--reps must be 1 or more")
    # What the host cannot do is decided here, before anything runs: such
    # a case is recorded as not available, never run (nor mounted for).
    facts = None if args.client else probe_host()
    off = not_available(cases, facts)
    with Host(args, [c for c in cases if c.name not in off]) as host:
        return Runner(args, host, facts, off).run(cases)


class Runner:
    """The runs of one matrix into args.out, and their record."""

    def __init__(self, args, host, facts, off):
        self.args, self.host, self.off = args, host, off
        self.out = Path(args.out)
        self.prov = provenance(args)
        self.prov["probe"] = facts
        if host.found:
            self.prov["mthp_set"] = {}
        self.workload = {k: getattr(args, k) for k in (
            "matrix", "size", "depth", "numjobs", "runtime",
            "scaling_counts", "scaling_bs", "scaling_strategies",
            "scaling_budget", "spectrum_folios", "spectrum_series",
            "spectrum_skip", "spectrum_runtime", "spectrum_rereg")}
        self.runs = []

    def save(self):
        (self.out / "runs.json").write_text(json.dumps(
            {"format": 2, "provenance": self.prov,
             "workload": self.workload,
             "runs": [r.entry() for r in self.runs]}, indent=1))

    def write_jobs(self, cases):
        """Each case's job file in OUT/jobs, its engine and mount filled
        in: [(case, env)]."""
        engine = str(Path(self.args.engine).resolve())
        jobs = []
        for c in cases:
            env = self.host.path(dict(c.env, UFR_ENGINE=engine))
            (self.out / "jobs" / (c.name + ".fio")).write_text(
                single_job(c.jobfile, c.section, env))
            if c.name in self.off:
                print("compare: %s %s" % (c.name, self.off[c.name]),
                      file=sys.stderr)
            jobs.append((c, env))
        return jobs

    def run(self, cases):
        for d in ("jobs", "json", "logs"):
            (self.out / d).mkdir(parents=True, exist_ok=True)
        jobs = self.write_jobs(cases)
        reps = self.args.reps
        # Rounds, every case once in each: a drift of the machine (another
        # load, the page cache) spreads over all cases alike. A case not
        # available here is recorded once, in its place, and not run.
        order = [(rep, c, env) for rep in range(1, reps + 1)
                 for c, env in jobs if c.name not in self.off or rep == 1]
        total = len(order) - len(self.off)
        start = time.monotonic()
        i = 0
        for rep, c, env in order:
            if c.name in self.off:
                self.runs.append(Run(c.matrix, c.case, 0, c.section, env,
                                     self.args.client or "", "unavailable",
                                     why=self.off[c.name]))
                continue
            i += 1
            elapsed = time.monotonic() - start
            eta = fmt_secs(elapsed / (i - 1) * (total - i + 1)) \
                if i > 1 else "?"
            print("[%d/%d] %-34s rep %d/%d, elapsed %s, eta %s" %
                  (i, total, c.name, rep, reps, fmt_secs(elapsed), eta),
                  file=sys.stderr)
            run = self.run_one(c, env, rep)
            if run.status != "ok":
                print("[%d/%d] %s rep %d FAILED (%s): %s" %
                      (i, total, c.name, rep, run.why, run.error),
                      file=sys.stderr)
            self.runs.append(run)
            self.save()
        self.prov["finished"] = now()
        if self.host.found:
            self.prov["mthp_restored"] = self.host.restore()
        self.save()
        failed = sum(r.status == "failed" for r in self.runs)
        print("compare: %d runs (%d cases x %d reps) in %s, results in %s" %
              (total, len(jobs) - len(self.off), reps,
               fmt_secs(time.monotonic() - start), self.args.out),
              file=sys.stderr)
        if self.off:
            print("compare: %d case%s not available here, not run (see the "
                  "table, or runs.json)" % (
                      len(self.off), "" if len(self.off) == 1 else "s"),
                  file=sys.stderr)
        if failed:
            print("compare: %d of %d runs FAILED (see the table, or "
                  "runs.json)" % (failed, total), file=sys.stderr)
        return failed

    def run_one(self, c, env, rep):
        """One fio run of case C: its Run."""
        args = self.args
        base = "%s-r%d" % (c.name, rep)
        out = self.out / "json" / (base + ".json")
        log = self.out / "logs" / (base + ".log")
        run = Run(c.matrix, c.case, rep, c.section, env, args.client or "",
                  log=base + ".log")
        not_set_up = self.host.not_set_up(env)
        if not_set_up:
            # What the case needs is not there: the engine is not run on
            # a directory the kit failed to mount.
            log.write_text("compare: not run: %s\n" % not_set_up)
            run.status, run.why = "failed", "not run"
            run.error = "compare: " + not_set_up
            return run
        cmd = [args.fio]
        if args.client:
            # The server prints the engine's block only for normal output.
            cmd += ["--client=" + args.client, "--output-format=normal,json"]
        else:
            cmd += ["--output-format=json", "--output=%s" % out]
        cmd.append(str(self.out / "jobs" / (c.name + ".fio")))
        run.mthp = self.host.apply(env) or None
        if run.mthp and "mthp_set" in self.prov:
            self.prov["mthp_set"][c.case] = run.mthp
        with log.open("w") as lf:
            try:
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=lf,
                                   text=True)
            except OSError as e:
                raise KitError("cannot run %s: %s" % (args.fio, e))
        if args.client:
            out.write_text(p.stdout)
            server_side(self.prov, p.stdout)
        run.json, run.rc = base + ".json", p.returncode
        _, u, why = job_result(out) if not p.returncode else \
            (None, None, "fio exit %d" % p.returncode)
        if why:
            text = log.read_text() + "\n" + (p.stdout if args.client else "")
            run.status, run.why, run.error = "failed", why, error_line(text)
        elif u.get("version") and u["version"] not in self.prov["engine"]:
            self.prov["engine"].append(u["version"])
        return run
