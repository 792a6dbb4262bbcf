"""A results directory as data: the runs of runs.json (Run) and a row per
case (Row) with its figures and their statistics."""

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import KitError
from .provenance import lab_provenance
from .results import FIGURES, error_line, load_json, row_of
from .stats import pooled_shares, stat


@dataclass
class Run:
    """One entry of runs.json: a run of a case (rep 1 on), or a case not
    available here (rep 0, never run)."""
    matrix: str
    case: str
    rep: int = 1
    section: str = None
    env: dict = field(default_factory=dict)
    client: str = ""
    status: str = "ok"
    json: str = None
    log: str = None
    rc: int = None
    why: str = None
    error: str = None
    mthp: dict = None

    def entry(self):
        """The runs.json form: the fields that say something."""
        return {k: v for k, v in dataclasses.asdict(self).items()
                if v is not None}

    @classmethod
    def of(cls, entry):
        """A runs.json entry as a Run (what this kit does not know of it
        left out)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in entry.items() if k in names})


@dataclass
class Row:
    """A case of a results directory: its runs' figures (figure key ->
    [value per successful run]), their statistics, its failures, or why
    it is not available here."""
    matrix: str
    case: str
    env: dict
    section: str = None
    strategy: str = "-"
    folio: str = "-"
    unit: str = "-"
    backing: str = "-"
    count: int = 0
    bs: str = ""
    runs: int = 0
    ok: int = 0
    failures: list = field(default_factory=list)
    unavailable: str = None
    versions: set = field(default_factory=set)
    profiles: list = field(default_factory=list)
    figures: dict = field(default_factory=lambda: {
        k: [] for k, _, _ in FIGURES})
    stats: dict = field(default_factory=dict)
    shares: list = field(default_factory=list)
    profile_top: str = "-"

    def add(self, one):
        """One successful run's figures (results.row_of)."""
        for k in ("strategy", "folio", "unit", "backing"):
            setattr(self, k, one[k])
        if one["profile"]:
            self.profiles.append(one["profile"])
        self.versions.add((one["version"], one["fio"]))
        for k in self.figures:
            self.figures[k].append(one[k])

    def finish(self):
        """The statistics, once every run is in."""
        self.ok = self.runs - len(self.failures)
        self.stats = {k: stat(v) for k, v in self.figures.items()}
        self.shares = pooled_shares(self.profiles)
        self.profile_top = ", ".join(
            "%s %.0f%%" % (f, 100 * x) for f, x in self.shares[:3]) or "-"
        if not self.count and self.stats["buffers"]:
            self.count = self.stats["buffers"].median or 0


def lab_runs(d, runs):
    """The lab's runs.json (a list: its cases whose fio succeeded, and
    those its kernel cannot have) with its failed cases from cases.json."""
    try:
        cases = json.loads((Path(d) / "cases.json").read_text())
    except (OSError, ValueError):
        cases = []
    return runs + [
        {"matrix": c["matrix"], "case": c["case"], "rep": 1, "env": {},
         "status": "failed", "rc": c.get("rc"), "why": c.get("why"),
         "error": error_line(c.get("why") or "")}
        for c in cases if isinstance(c, dict) and
        c.get("status", "ok") not in ("ok", "unavailable") and "case" in c]


def load_set(d):
    """runs.json of a results directory: ([Run], provenance, workload).
    A list is the format of older kits and of the lab (scripts/lab):
    every run succeeded, provenance elsewhere (the lab's
    provenance.json)."""
    try:
        doc = json.loads((Path(d) / "runs.json").read_text())
    except OSError:
        raise KitError("%s has no runs.json; make it with: compare.py run"
                       % d)
    if isinstance(doc, list):
        doc = {"runs": lab_runs(d, doc), "provenance": lab_provenance(d),
               "workload": None}
    runs = []
    for entry in doc["runs"]:
        if "rep" not in entry:
            # Older kits named scaling's repeats CASE-rN.
            m = re.fullmatch(r"(.*)-r(\d+)", entry["case"])
            if entry["matrix"] == "scaling" and m:
                entry = dict(entry, case=m.group(1), rep=int(m.group(2)))
        runs.append(Run.of(entry))
    return runs, doc.get("provenance"), doc.get("workload")


def load_rows(d):
    """One Row per case, in the order of the runs."""
    runs, _, _ = load_set(d)
    rows = {}
    for run in runs:
        key = (run.matrix, run.case)
        if key not in rows:
            rows[key] = Row(run.matrix, run.case, run.env, run.section,
                            count=int(run.env.get("UFR_COUNT", 0)),
                            bs=run.env.get("UFR_BS", ""))
        r = rows[key]
        if run.status == "unavailable":
            r.unavailable = run.why or "not available here"
            continue
        r.runs += 1
        if run.status != "ok":
            r.failures.append(run)
            continue
        try:
            doc, pre = load_json(Path(d) / "json" / run.json)
        except (OSError, ValueError) as e:
            r.failures.append(dataclasses.replace(
                run, why="unreadable JSON: %s" % e, error=""))
            continue
        r.add(row_of(run, doc, pre))
    for r in rows.values():
        r.finish()
    return list(rows.values())
