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
