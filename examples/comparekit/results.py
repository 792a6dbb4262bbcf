"""fio's JSON of a run read back: the engine's figures in it, a run's
figures as the tables' columns, and the engine's error line."""

import json
import re

from . import KitError


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


# What a fio server's engine says of each entry (a job or a group), once
# all its jobs have run: its own JSON member on a line of its own, which
# the client prints before fio's JSON document.
SERVER_LINE = "uring_folioreg json: "


def server_entries(text):
    """The entries of the engine's server lines in TEXT (a client's
    output before fio's JSON): [{"jobname", "groupid", "uring_folioreg"}]."""
    out = []
    for line in text.splitlines():
        at = line.find(SERVER_LINE)
        if at >= 0:
            try:
                out.append(json.loads(line[at + len(SERVER_LINE):]))
            except ValueError:
                pass
    return out


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


def load_json(path):
    """fio's JSON document, and any text before it (client mode)."""
    with open(path) as f:
        text = f.read()
    at = text.find("\n{\n") + 1 if not text.startswith("{") else 0
    return json.loads(text[at:]), text[:at]


def engine_figures(doc, pre):
    """The engine's figures of fio's first job (or group): its member of
    fio's JSON, or with --client the engine's line for it."""
    jobs = doc.get("jobs") or doc.get("client_stats") or []
    if not jobs:
        return None
    if "uring_folioreg" in jobs[0]:
        return jobs[0]["uring_folioreg"]
    entries = server_entries(pre)
    return entries[0].get("uring_folioreg") if entries else None


def folio_name(n):
    if not n:
        return "-"
    return "%dk" % (n >> 10) if n < 1 << 20 else \
        "%dm" % (n >> 20) if n < 1 << 30 else "%dg" % (n >> 30)


def row_of(run, doc, pre):
    jobs = doc.get("jobs") or doc.get("client_stats") or []
    if not jobs:
        raise KitError("%s: no job in fio's output" % run.json)
    job = jobs[0]
    # The job that ran is the one the case names, or the row would carry
    # another job's figures under its name.
    want = run.section
    if want and job.get("jobname") != want:
        raise KitError("%s: fio ran job '%s', not [%s]" %
                       (run.json, job.get("jobname"), want))
    u = engine_figures(doc, pre)
    if not u:
        raise KitError("%s: no uring_folioreg figures" % run.json)
    reg, seg = u["reg"], u["segments"]
    ddir = "write" if job["write"]["io_bytes"] else "read"
    io = run.matrix not in ("scaling", "spectrum")
    # The spectrum: every register call of the run (the first and the
    # re-registrations), per call and per io_u buffer it holds.
    rereg = u.get("rereg") or {"count": 0, "total_ns": 0}
    calls = 1 + rereg["count"]
    per_call = (reg["total_ns"] + rereg["total_ns"]) / calls
    io_us = int(run.env["UFR_COUNT"]) if run.matrix == "spectrum" \
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
