#!/usr/bin/env python3
"""Randomized fio jobs against the engine; called by random_jobs.sh.

Each case is drawn from (seed, case number) alone, so any case can be run
again on its own (UFR_RANDOM_ONLY=N with the same UFR_RANDOM_SEED), and its
full fio command line is printed before it runs. A case passes when

  - fio exits 0, stdout is one valid JSON document, every job has err 0,
    no verify or I/O error was printed, every job carries a uring_folioreg
    member whose figures are the ones predicted from the options (the
    strategy, the buffers, the pages, the bvecs from the layout, and
    bvecs_observed, the kernel's own count, equal to bvecs), and the
    combination was one that should run; or
  - fio exits non-zero (not by a timeout or a signal) with exactly one
    distinct line starting "uring_folioreg:" that names the reason the
    combination should be refused, and no crash sign;

and, either way, the pins the kernel holds (nr_foll_pin_acquired -
nr_foll_pin_released) and the free hugetlb pages are back to what they were
before it. Python 3's standard library only.
"""

import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
PAGE = 4096
MAX_REGION = GIB

ENGINE = os.environ["ENGINE"]
SCRATCH = os.environ["SCRATCH"]
SEED = os.environ.get("UFR_RANDOM_SEED", "20261122")
CASES = int(os.environ.get("UFR_RANDOM_CASES", "130"))
BUDGET = float(os.environ.get("UFR_RANDOM_BUDGET", "150"))
ONLY = os.environ.get("UFR_RANDOM_ONLY", "")
TIMEOUT = int(os.environ.get("UFR_RANDOM_TIMEOUT", "30"))
SETTLE = float(os.environ.get("UFR_RANDOM_SETTLE", "10"))
FIO = os.environ.get("FIO", "fio")
STRICT_LINE = os.environ.get("UFR_RANDOM_STRICT_LINE", "") == "1"

HP_DIR = "/sys/kernel/mm/hugepages/hugepages-%dkB/%s"


def hp_count(page_bytes, what):
    try:
        with open(HP_DIR % (page_bytes // KIB, what)) as f:
            return int(f.read())
    except OSError:
        return -1


def hp_avail(page_bytes):
    free = hp_count(page_bytes, "free_hugepages")
    resv = max(hp_count(page_bytes, "resv_hugepages"), 0)
    return max(free - resv, 0)


def pins():
    with open("/proc/sys/vm/stat_refresh", "w") as f:
        f.write("1\n")
    acq = rel = 0
    with open("/proc/vmstat") as f:
        for line in f:
            k, _, v = line.partition(" ")
            if k == "nr_foll_pin_acquired":
                acq = int(v)
            elif k == "nr_foll_pin_released":
                rel = int(v)
    return acq - rel


def thp_mode():
    try:
        return thp_setting(THP + "/enabled")
    except (OSError, AttributeError):
        return "never"


# mTHP settings changed for the case running, and what they were.
THP_SAVED = {}


def thp_setting(path):
    with open(path) as f:
        return re.search(r"\[(\w+)\]", f.read()).group(1)


def mthp_only(size):
    """A fault takes the largest enabled size that fits: for one job, the
    size's enabled madvise and every larger one never (what each was is
    kept for mthp_restore). Returns the writes as shell commands."""
    kb, cmds = MTHP_ALL[size] // KIB, []
    for d in sorted(os.listdir(THP)):
        m = re.match(r"hugepages-(\d+)kB$", d)
        path = os.path.join(THP, d, "enabled")
        if not m or int(m.group(1)) < kb or not os.access(path, os.W_OK):
            continue
        THP_SAVED.setdefault(path, thp_setting(path))
        value = "madvise" if int(m.group(1)) == kb else "never"
        with open(path, "w") as f:
            f.write(value)
        cmds.append("echo %s > %s" % (value, path))
    return cmds


def mthp_restore():
    for path, value in THP_SAVED.items():
        with open(path, "w") as f:
            f.write(value)
    THP_SAVED.clear()


def spanned(off, length, unit):
    return (off + length - 1) // unit - off // unit + 1


def range_bvecs(off, length, folio):
    """io_check_coalesce_buffer()'s result for one registered range."""
    pages = spanned(off, length, PAGE)
    if pages <= 1 or folio <= PAGE:
        return pages
    return spanned(off, length, folio)


def size_str(n):
    for unit, suffix in ((GIB, "g"), (MIB, "m"), (KIB, "k")):
        if n % unit == 0:
            return "%d%s" % (n // unit, suffix)
    return str(n)


THP = "/sys/kernel/mm/transparent_hugepage"
# Anonymous multi-size THP (Linux 6.8+): reg_folio=16k .. 1m, drawn for
# every case alike and used where this kernel has the size's setting.
MTHP_ALL = {"16k": 16 * KIB, "32k": 32 * KIB, "64k": 64 * KIB,
            "128k": 128 * KIB, "256k": 256 * KIB, "512k": 512 * KIB,
            "1m": MIB}
MTHP = {k: v for k, v in MTHP_ALL.items()
        if os.access("%s/hugepages-%dkB/enabled" % (THP, v // KIB), os.W_OK)}
FOLIO_BYTES = dict({"4k": PAGE, "2m": 2 * MIB, "1g": GIB}, **MTHP_ALL)


def folio_bytes(folio):
    """Bytes of a folio option; thp is this machine's PMD size."""
    if folio == "thp":
        with open(THP + "/hpage_pmd_size") as f:
            return int(f.read())
    return FOLIO_BYTES[folio]


STRATEGIES = ["per_page", "coalesced", "hugetlb_fast", "iomem", "none", "auto",
              "per_folio"]
MATCHING_FOLIOS = {
    "per_page": ["4k"],
    "coalesced": ["thp", "2m", "1g"],
    "hugetlb_fast": ["2m", "1g"],
    "per_folio": ["thp", "2m", "1g"],
    "auto": ["2m", "1g"],
    "iomem": [],
    "none": [],
}


def draw(case):
    """The options of case number @case: a function of the seed and @case."""
    r = random.Random("%s/%d" % (SEED, case))
    o = {}
    o["strategy"] = r.choice(STRATEGIES)
    x = r.random()
    match = MATCHING_FOLIOS[o["strategy"]]
    if x < 0.35 and match:
        o["folio"] = r.choice(match)
    elif x < 0.5:
        o["folio"] = r.choice(["4k", "thp", "2m", "1g"])  # on purpose, any
    else:
        o["folio"] = None
    # 1 GiB folios are slow to fault in; keep them rarer.
    if o["folio"] == "1g" and r.random() < 0.5:
        o["folio"] = "2m" if o["strategy"] != "per_page" else None
    o["mode"] = r.choice(["batch", "each"])
    x = r.random()
    o["rereg"] = "100ms" if x < 0.3 else "-5" if x < 0.34 else None
    o["bs"] = r.choice([4 * KIB, 8 * KIB, 16 * KIB, 64 * KIB, 128 * KIB,
                        256 * KIB, 1 * MIB])
    o["rw"] = r.choice(["read", "write", "randrw", "randwrite"])
    o["iodepth"] = r.choice([1, 2, 4, 8, 16, 32, 64, r.randint(1, 64)])
    o["numjobs"] = r.choice([1, 1, 1, 2, 3, 4])
    o["thread"] = r.random() < 0.5
    targets = {"read": ["zero", "file"], "write": ["null", "zero", "file"],
               "randrw": ["zero", "file"], "randwrite": ["null", "file"]}
    o["target"] = r.choice(targets[o["rw"]])
    o["direct"] = o["target"] == "file" and r.random() < 0.75
    o["verify"] = (o["target"] == "file" and o["rw"] != "read"
                   and r.random() < 0.5)
    o["mem_align"] = r.choice([0, 0, 0, 4096, 4096, 512])
    o["registerfiles"] = r.random() < 0.25
    o["sqpoll"] = r.random() < 0.15
    o["hipri"] = r.random() < 0.04
    mmaphuge = {"iomem": 0.4, "none": 0.2}.get(o["strategy"], 0.06)
    o["mmaphuge"] = r.random() < mmaphuge
    o["batch_submit"] = (r.randint(1, o["iodepth"]) if r.random() < 0.3
                         else None)
    o["group_reporting"] = o["numjobs"] > 1 and r.random() < 0.5
    if o["verify"]:
        o["size"] = r.choice([4 * MIB, 8 * MIB, 16 * MIB])
        o["runtime"] = None
    else:
        o["size"] = 32 * MIB
        o["runtime"] = "1" if o["rereg"] == "100ms" else r.choice(
            ["300ms", "500ms"])
    # Last, so that a kernel without multi-size THP changes no other
    # option: coalesced and per_folio on an mTHP size, and now and then
    # any strategy on one, which must be refused.
    x, size = r.random(), r.choice(sorted(MTHP_ALL))
    if size in MTHP and (x < 0.03 or (x < 0.35 and o["strategy"] in
                                      ("coalesced", "per_folio"))):
        o["folio"] = size
    return o


def command(case, o):
    name = "random-%d" % case
    a = [FIO, "--ioengine=external:" + ENGINE, "--output-format=json",
         "--name=" + name, "--rw=" + o["rw"], "--bs=" + size_str(o["bs"]),
         "--iodepth=%d" % o["iodepth"], "--size=" + size_str(o["size"])]
    if o["target"] == "zero":
        a.append("--filename=/dev/zero")
    elif o["target"] == "null":
        a.append("--filename=/dev/null")
    elif o["verify"]:
        # $jobname, $jobnum and $filenum: fio sees one file per writer and
        # does not warn that writers may overwrite each other's blocks.
        a.append("--filename_format=%s/rj.$jobname.$jobnum.$filenum"
                 % SCRATCH)
    else:
        a.append("--filename=%s/rj.dat" % SCRATCH)
    if o["target"] == "file":
        a.append("--direct=%d" % o["direct"])
    if o["verify"]:
        a.append("--verify=crc32c")
    if o["runtime"]:
        a += ["--time_based", "--runtime=" + o["runtime"]]
    if o["numjobs"] > 1:
        a.append("--numjobs=%d" % o["numjobs"])
    if o["thread"]:
        a.append("--thread=1")
    if o["group_reporting"]:
        a.append("--group_reporting")
    if o["mem_align"]:
        a.append("--mem_align=%d" % o["mem_align"])
    if o["mmaphuge"]:
        a += ["--iomem=mmaphuge", "--hugepage-size=2m"]
    if o["batch_submit"]:
        a.append("--iodepth_batch_submit=%d" % o["batch_submit"])
    a.append("--reg_strategy=" + o["strategy"])
    if o["folio"]:
        a.append("--reg_folio=" + o["folio"])
    a.append("--reg_mode=" + o["mode"])
    if o["rereg"]:
        a.append("--rereg_interval=" + o["rereg"])
    if o["registerfiles"]:
        a.append("--registerfiles")
    if o["sqpoll"]:
        a.append("--sqthread_poll")
    if o["hipri"]:
        a.append("--hipri")
    return a


class Layout:
    """What one job registers: its registered ranges and its io_us'
    buffers as offsets in memory that starts on a folio boundary, and the
    folio size (None when it is THP, a request and not a promise)."""

    def __init__(self, ranges, bufs, folio):
        self.ranges = ranges
        self.bufs = bufs
        self.folio = folio


def layout(o, strategy, folio):
    n, bs, align = o["iodepth"], o["bs"], o["mem_align"]
    if strategy == "none":
        return Layout([], [], PAGE)
    bufs = [align + i * bs for i in range(n)]
    if strategy == "iomem":
        # fio's own memory (backend.c init_io_u_buffers): the buffers back
        # to back from mem_align past a page boundary (past the start of
        # the hugetlb mapping), or from where malloc put them.
        if not o["mmaphuge"] and not (o["direct"] or align):
            return None  # malloc's address: not predictable
        f = 2 * MIB if o["mmaphuge"] else PAGE
        return Layout([(b, bs) for b in bufs], bufs, f)
    fb = FOLIO_BYTES.get(folio)  # None for thp
    if strategy == "per_page":
        return Layout([(b, bs) for b in bufs], bufs, PAGE)
    if strategy in ("hugetlb_fast", "per_folio"):
        step = fb or folio_bytes(folio)
        per = (step - align) // bs
        bufs = [(i // per) * step + align + (i % per) * bs
                for i in range(n)]
        return Layout([(b, bs) for b in bufs], bufs, fb)
    # coalesced: regions of whole buffers, at most 1 GiB each, each on a
    # folio boundary (offsets here are within a region's own stride).
    per = min(n, (MAX_REGION - align) // bs)
    ranges = [(align, min(per, n - first) * bs) for first in range(0, n, per)]
    bufs = [align + (i % per) * bs for i in range(n)]
    return Layout(ranges, bufs, fb)


def hugetlb_need(o, strategy, folio):
    """Hugetlb pages of (2 MiB count, 1 GiB count) one job takes."""
    n, bs, align = o["iodepth"], o["bs"], o["mem_align"]
    if strategy in ("iomem", "none"):
        if not o["mmaphuge"]:
            return 0, 0
        # backend.c init_io_u_buffers() and memory.c allocate_io_mem().
        size = n * bs
        aligned = o["direct"] or align
        if aligned:
            size += PAGE - 1 + align
        size = spanned(0, size, 2 * MIB) * 2 * MIB
        if aligned:
            size += PAGE - 1 + max(align - PAGE, 0)
        return spanned(0, size, 2 * MIB), 0
    if folio not in ("2m", "1g"):
        return 0, 0
    fb = FOLIO_BYTES[folio]
    if strategy in ("hugetlb_fast", "per_folio"):
        per = (fb - align) // bs
        need = (n + per - 1) // per
    else:
        per = min(n, (MAX_REGION - align) // bs)
        regions = (n + per - 1) // per
        stride = spanned(0, align + per * bs, fb)
        need = regions * stride
    return (need, 0) if folio == "2m" else (0, need)


def predict(o, avail2m, avail1g):
    """('ok' | 'refuse' | 'either', [reasons as regexes], strategy, folio).

    The engine's rules (docs/options.md: Strategies: the rules, and Errors): each refusal is one
    line naming the option."""
    s, folio, nj = o["strategy"], o["folio"], o["numjobs"]
    if not folio:
        folio = {"per_page": "4k", "coalesced": "thp", "per_folio": "thp",
                 "hugetlb_fast": "2m"}.get(s)
    why = []
    own = s not in ("iomem", "none")
    if own and o["mmaphuge"]:
        why.append(r"iomem=")
    if o["rereg"] == "-5":
        why.append(r"rereg_interval")
    if o["rereg"] and s == "none":
        why.append(r"rereg_interval")
    if o["mode"] == "each" and s == "none":
        why.append(r"reg_mode")
    if o["folio"]:
        if s in ("iomem", "none"):
            why.append(r"reg_folio=")
        elif s == "per_page" and folio != "4k":
            why.append(r"reg_folio=")
        elif s in ("coalesced", "per_folio") and folio == "4k":
            why.append(r"reg_folio=")
        elif s in ("hugetlb_fast", "auto") and (
                folio in ("4k", "thp") or folio in MTHP_ALL):
            why.append(r"reg_folio=")
    if why:
        return "refuse", why, s, folio

    either = []
    if o["hipri"]:
        either.append(r"hipri")
    if s == "auto":
        f = folio or "2m"
        n2, n1 = hugetlb_need(o, "hugetlb_fast", f)
        avail = avail2m if f == "2m" else avail1g
        need = n2 + n1
        if need * nj <= avail:
            s, folio = "hugetlb_fast", f
        elif need > avail:
            s, folio = "coalesced", "thp"
        else:
            # Some jobs find the pages free, the ones after them do not.
            either.append(r"hugetlb pages")
            return "either", either, "auto", f
    if s in ("hugetlb_fast", "per_folio") and (
            o["mem_align"] + o["bs"] > folio_bytes(folio)):
        return "refuse", [r"bs="], s, folio
    n2, n1 = hugetlb_need(o, s, folio)
    for need, avail, what in ((n2, avail2m, "2m"), (n1, avail1g, "1g")):
        if need and need * nj > avail:
            # Not one job gets its pages, or only the first few do.
            return "refuse", [r"hugetlb pages"], s, folio
    if either:
        return "either", either, s, folio
    return "ok", [], s, folio


def expected_figures(o, strategy, folio):
    """Per-job figures predicted from the options, or None where the
    layout is not known in advance. Keys as in the JSON member."""
    n = o["iodepth"]
    lay = layout(o, strategy, folio)
    exp = {"strategy": strategy, "reg.mode": o["mode"]}
    if strategy == "none":
        exp.update({"reg.buffers": 0, "segments.pages": 0,
                    "segments.bvecs": 0})
        return exp
    if strategy == "coalesced":
        exp["reg.buffers"] = len(layout(o, strategy, "2m").ranges)
    else:
        exp["reg.buffers"] = n
    if not o["rereg"]:
        exp["reg.calls"] = (1 + exp["reg.buffers"] if o["mode"] == "each"
                            else 1)
    if lay is None:
        return exp
    exp["segments.pages"] = sum(spanned(a, ln, PAGE) for a, ln in lay.ranges)
    # THP is a request, not a promise; fio's malloc memory may get THP
    # when it is "always".
    if lay.folio is None or (strategy == "iomem" and lay.folio == PAGE
                             and thp_mode() == "always"):
        return exp
    f, bs = lay.folio, o["bs"]
    exp["segments.bvecs"] = sum(range_bvecs(a, ln, f) for a, ln in lay.ranges)
    exp["segments.straddling"] = sum(spanned(b, bs, f) > 1 for b in lay.bufs)
    # Per I/O (every I/O here is a whole bs): the folios its buffer spans
    # where the kernel coalesced, else the pages (io_import_fixed()).
    unit = f if exp["segments.bvecs"] < exp["segments.pages"] else PAGE
    segs = [spanned(b, bs, unit) for b in lay.bufs]
    exp["per_io"] = (min(segs), max(segs))
    return exp


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return KeyError
        d = d[k]
    return d


STATS = {"ok": 0, "refused": 0, "observed_null_note": 0,
         "observed_null_bare": 0, "observed_null_none": 0,
         "repeated_line": 0, "bad_json": 0, "fio_lines": 0,
         "interference": 0, "mthp": 0, "mthp_smaller": 0}
FAILED = []
NULL_CASES = []
CRASH = re.compile(r"fio: pid=\d+, got signal|core dumped|Segmentation fault|"
                   r"AddressSanitizer|Aborted|stack smashing|double free")
VERIFY = re.compile(r"verify: bad|verify failed|bad magic|bad header|"
                   r"io_u error|crc32c: verify")


def check_ok(o, exp, stdout, text):
    """Problems with a run that exited 0, as a list of strings."""
    bad = []
    doc = None
    i = stdout.find("{")
    pre = stdout[:i].strip().splitlines() if i >= 0 else []
    # fio's own warnings (log_info) land before the document with any
    # engine; a line of this engine's there breaks the JSON.
    engine_pre = [ln for ln in pre if not ln.startswith("fio: ")]
    if len(engine_pre) < len(pre):
        STATS["fio_lines"] += 1
    try:
        doc = json.loads(stdout[i:] if i >= 0 and not engine_pre
                         else stdout)
    except ValueError:
        STATS["bad_json"] += 1
        bad.append("stdout is not valid JSON (%d line(s) before the "
                   "document%s)" % (len(engine_pre), ": " + engine_pre[0]
                                    if engine_pre else ""))
        if i >= 0:
            try:
                doc = json.loads(stdout[i:])
            except ValueError as e:
                bad.append("no JSON document from the first '{' either: %s"
                           % e)
    m = VERIFY.search(text)
    if m:
        bad.append("printed: " + text[max(m.start() - 40, 0):m.end() + 60]
                   .replace("\n", " "))
    if doc is None:
        return bad
    jobs = doc.get("jobs", [])
    want = 1 if o["group_reporting"] else o["numjobs"]
    if len(jobs) != want:
        bad.append("%d job entries, want %d" % (len(jobs), want))
    factor = o["numjobs"] if o["group_reporting"] else 1
    for j in jobs:
        tag = "job %s" % j.get("jobname")
        if j.get("error") != 0:
            bad.append("%s: error=%s" % (tag, j.get("error")))
        u = j.get("uring_folioreg")
        if not isinstance(u, dict):
            bad.append("%s: no uring_folioreg member" % tag)
            continue
        job_exp = exp
        if o["folio"] in MTHP_ALL and any(
                "asked for" in n for n in u.get("notes") or []):
            # mTHP is a request too: smaller folios (fragmented memory)
            # change the folio figures; bvecs_observed must still agree.
            STATS["mthp_smaller"] += 1
            job_exp = {k: v for k, v in exp.items() if k not in (
                "segments.bvecs", "segments.straddling", "per_io")}
        seg = u.get("segments", {})
        obs, bvecs = seg.get("bvecs_observed"), seg.get("bvecs")
        if obs is None:
            if u.get("strategy") == "none":
                STATS["observed_null_none"] += 1
            elif seg.get("observed_note"):
                STATS["observed_null_note"] += 1
                NULL_CASES.append("%s (note: %s)" % (
                    j.get("jobname"), seg.get("observed_note")))
            else:
                # A figure left out says why (segments.observed_note).
                STATS["observed_null_bare"] += 1
                bad.append("%s: bvecs_observed is null with no "
                           "observed_note" % tag)
        elif obs != bvecs:
            bad.append("%s: segments.bvecs_observed=%s but segments.bvecs=%s"
                       % (tag, obs, bvecs))
        for key, val in job_exp.items():
            if key == "per_io":
                ios = sum(get(j, d + ".total_ios") or 0 for d in
                          ("read", "write") if get(j, d + ".total_ios")
                          is not KeyError)
                if not ios:
                    continue
                mean = get(u, "segments.per_io_mean")
                mx = get(u, "segments.per_io_max")
                lo, hi = val
                # A short transfer is retried for the rest, so the mean
                # may dip below the least.
                if not (isinstance(mx, int) and lo <= mx <= hi and
                        isinstance(mean, (int, float)) and
                        0 < mean <= hi + 0.001):
                    bad.append("%s: segments.per_io_mean=%s, per_io_max=%s,"
                               " predicted between %d and %d" % (
                                   tag, mean, mx, lo, hi))
                continue
            if isinstance(val, int):
                val = val * factor
            got = get(u, key)
            if got != val:
                bad.append("%s: %s=%s, predicted %s" % (
                    tag, key, "missing" if got is KeyError else got, val))
        rc = get(u, "rereg.count")
        if o["rereg"] and o["runtime"] == "1" and not (
                isinstance(rc, int) and rc >= factor):
            bad.append("%s: rereg.count=%s after 1 s at rereg_interval=100ms"
                       % (tag, rc))
        if not o["rereg"] and rc != 0:
            bad.append("%s: rereg.count=%s without rereg_interval" % (tag, rc))
    return bad


def check_refused(rc, why, text):
    """(problems, the uring_folioreg line) for a run that exited non-zero."""
    lines = [ln for ln in text.splitlines() if ln.startswith("uring_folioreg:")]
    distinct = list(dict.fromkeys(lines))
    bad = []
    line = distinct[0] if distinct else ""
    if len(distinct) != 1:
        bad.append("%d distinct uring_folioreg: lines, want 1: %s" % (
            len(distinct), " | ".join(distinct) or
            " ".join(text.split())[:300]))
    elif len(lines) > 1:
        # One per job that refused (numjobs=N clones): the same line.
        STATS["repeated_line"] += 1
        if STRICT_LINE:
            bad.append("the line came %d times, want once" % len(lines))
    if line and why and not any(re.search(w, line) for w in why):
        bad.append("refused for another reason than %s: %s" % (
            "/".join(why), line))
    return bad, line


def hp_used(page_bytes):
    """Hugetlb pages of that size in use: the pool less its free pages, so
    that someone else resizing the pool meanwhile does not count."""
    total = hp_count(page_bytes, "nr_hugepages") + max(
        hp_count(page_bytes, "surplus_hugepages"), 0)
    return total - hp_count(page_bytes, "free_hugepages")


def procs(comm=None):
    """(pid, command line) of every process (named @comm, if given)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if comm:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().strip() != comm:
                        continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        yield int(d), cmd.strip()


def ours(cmd, name):
    return ("--name=%s " % name) in cmd + " " and ENGINE in cmd


def hugetlb_holders():
    """(pid, kB, command) of the processes that map hugetlb pages."""
    out = []
    for pid, cmd in procs():
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("HugetlbPages:"):
                        kb = int(line.split()[1])
                        if kb:
                            out.append((pid, kb, cmd))
        except (OSError, ValueError):
            pass
    return out


def buffer_holders():
    """(pid, registered buffers, command) of the processes whose io_uring
    rings hold registered buffers (fdinfo's UserBufs)."""
    out = []
    for pid, cmd in procs():
        n = 0
        try:
            for fd in os.listdir("/proc/%d/fdinfo" % pid):
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    for line in f:
                        if line.startswith("UserBufs:"):
                            n += int(line.split()[1])
                            break
        except (OSError, ValueError):
            pass
        if n:
            out.append((pid, n, cmd))
    return out


def describe(holders):
    return ", ".join("pid %d (%s: %s)" % (pid, n, cmd[:80])
                     for pid, n, cmd in holders[:4])


def kill_leftovers(name):
    """Kill, by pid, the processes of this case that outlived fio's main
    process (a job process that hangs), and wait for them to go."""
    time.sleep(0.1)
    left = [pid for pid, cmd in procs("fio") if ours(cmd, name)]
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
            ours(cmd, name) for _, cmd in procs("fio")):
        time.sleep(0.05)
    return left


def settle(name, pins0, used2m0, used1g0):
    """Wait (with a deadline) until the pins and hugetlb pages are back.
    Returns (failures, interference): interference when what is missing is
    held by processes that are not this case's (other users of this
    machine), which the leak check cannot tell from a leak."""
    deadline = time.monotonic() + SETTLE
    while True:
        p, u2, u1 = pins(), hp_used(2 * MIB), hp_used(GIB)
        if p <= pins0 and u2 <= used2m0 and u1 <= used1g0:
            return [], []
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    bad, other = [], []
    left = [(pid, cmd) for pid, cmd in procs("fio") if ours(cmd, name)]
    if left:
        bad.append("fio processes left behind: %s" % ", ".join(
            "%d" % pid for pid, _ in left))
    if p > pins0:
        msg = "pins held: %d before, %d after %g s" % (pins0, p, SETTLE)
        others = [h for h in buffer_holders() if not ours(h[2], name)]
        (other if others and not left else bad).append(
            msg + ("; other processes hold registered buffers: " +
                   describe(others) if others else ""))
    for used0, used, size in ((used2m0, u2, "2 MiB"), (used1g0, u1, "1 GiB")):
        if used > used0:
            msg = "%s hugetlb pages in use: %d before, %d after" % (
                size, used0, used)
            others = [h for h in hugetlb_holders() if not ours(h[2], name)]
            (other if others and not left else bad).append(
                msg + ("; other processes map hugetlb pages: " +
                       describe(others) if others else ""))
    return bad, other


def run_case(case):
    o = draw(case)
    avail2m, avail1g = hp_avail(2 * MIB), hp_avail(GIB)
    outcome, why, strategy, folio = predict(o, avail2m, avail1g)
    cmd = command(case, o)
    settings = mthp_only(o["folio"]) if o["folio"] in MTHP else []
    STATS["mthp"] += bool(settings)
    replay = "%scd %s && %s" % ("".join(c + "; " for c in settings),
                                shlex.quote(SCRATCH),
                                " ".join(shlex.quote(a) for a in cmd))
    print("# random-%d: expect %s%s; %s" % (
        case, outcome, " (" + "/".join(why) + ")" if why else "", replay),
        flush=True)
    name = "random-%d" % case

    used2m0, used1g0 = hp_used(2 * MIB), hp_used(GIB)
    pins0 = pins()
    start = time.monotonic()
    # Files, not pipes: fio's job processes call setsid(), so timeout(1)
    # cannot reach one that hangs, and it would hold a pipe open.
    out_path = os.path.join(SCRATCH, "rj-%d.stdout" % case)
    err_path = os.path.join(SCRATCH, "rj-%d.stderr" % case)
    with open(out_path, "w") as fo, open(err_path, "w") as fe:
        p = subprocess.Popen(["timeout", "-k", "5", str(TIMEOUT)] + cmd,
                             cwd=SCRATCH, stdout=fo, stderr=fe,
                             stdin=subprocess.DEVNULL)
        try:
            rc = p.wait(timeout=TIMEOUT + 15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = 124
            p.wait()
    took = time.monotonic() - start
    left = kill_leftovers(name)
    mthp_restore()
    with open(out_path, errors="replace") as f:
        stdout = f.read()
    with open(err_path, errors="replace") as f:
        stderr = f.read()
    os.unlink(out_path)
    os.unlink(err_path)
    text = stdout + "\n" + stderr
    bad = []
    summary = ""
    m = CRASH.search(text)
    if left:
        bad.append("fio job processes still running %.0f s after the start "
                   "(killed now: pid %s)" % (took, " ".join(map(str, left))))
    if rc >= 124 or rc < 0:
        bad.append("fio exited %d after %.0f s (hang guard %d s, or a "
                   "signal)" % (rc, took, TIMEOUT))
    elif m:
        bad.append("crash sign: " + text[max(m.start() - 60, 0):m.end() + 60]
                   .replace("\n", " "))
    elif rc == 0:
        if outcome == "refuse":
            bad.append("fio exited 0, but this should be refused (%s)"
                       % "/".join(why))
        # Figures are predicted for what should run, and for what should
        # be refused for a reason that leaves the layout as it is.
        exp = {}
        if strategy != "auto" and (outcome != "refuse" or set(why) <= {
                "rereg_interval", "reg_mode"}):
            exp = expected_figures(o, strategy, folio)
        bad += check_ok(o, exp, stdout, text)
        STATS["ok"] += 1
        summary = "ran, %s" % strategy
    else:
        problems, line = check_refused(rc, why, text)
        if outcome == "ok":
            problems.insert(0, "fio exited %d, but this should run" % rc)
        elif not problems:
            STATS["refused"] += 1
        bad += problems
        summary = "refused: %s" % line
    if o["verify"]:
        for f in os.listdir(SCRATCH):
            if f.startswith("rj.%s." % name):
                os.unlink(os.path.join(SCRATCH, f))
    leaks, other = settle(name, pins0, used2m0, used1g0)
    bad += leaks
    if other and not bad:
        STATS["interference"] += 1
        print("SKIP: %s: cannot tell a leak from another user of this "
              "machine: %s; replay: %s" % (name, "; ".join(other), replay),
              flush=True)
    elif bad:
        FAILED.append(case)
        print("FAIL: %s: %s; replay: %s" % (name, "; ".join(bad), replay),
              flush=True)
        tail = (stdout[-1500:] + "\n--- stderr ---\n" + stderr[-1500:])
        print("\n".join("#   " + ln for ln in tail.splitlines()), flush=True)
    else:
        print("PASS: %s (%.1f s) %s" % (name, took, summary), flush=True)


def main():
    if ONLY:
        cases = [int(c) for c in ONLY.split(",")]
    else:
        cases = list(range(1, CASES + 1))
    print("# seed %s, %d case(s), budget %g s, hang guard %d s; replay one "
          "with UFR_RANDOM_SEED=%s UFR_RANDOM_ONLY=N" % (
              SEED, len(cases), BUDGET, TIMEOUT, SEED), flush=True)
    print("# hugetlb pages available: %d of 2 MiB, %d of 1 GiB; THP %s" % (
        hp_avail(2 * MIB), hp_avail(GIB), thp_mode()), flush=True)
    print("# multi-size THP sizes drawn: %s" % (
        " ".join(sorted(MTHP, key=MTHP.get)) or
        "none (no %s/hugepages-*kB)" % THP), flush=True)
    start = time.monotonic()
    ran = 0
    # A signal ends the run through the finally below, which puts back
    # the mTHP settings of a case cut short.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    try:
        for case in cases:
            if time.monotonic() - start > BUDGET:
                print("# budget of %g s spent after %d case(s); the rest "
                      "are not run" % (BUDGET, ran), flush=True)
                break
            run_case(case)
            ran += 1
    finally:
        mthp_restore()
    print("# seed %s: %d case(s) in %.0f s: %d ran, %d refused as expected, "
          "%d failed%s" % (SEED, ran, time.monotonic() - start, STATS["ok"],
                           STATS["refused"], len(FAILED),
                           " (" + " ".join(map(str, FAILED)) + ")"
                           if FAILED else ""))
    print("# bvecs_observed null: %d with segments.observed_note, %d "
          "without, %d under reg_strategy=none; refusals whose line "
          "was repeated once per job: %d; stdout not valid JSON: %d; fio's "
          "own warnings before the JSON: %d; skipped for another user's "
          "pins or pages: %d; on multi-size THP: %d (%d given smaller "
          "folios)" % (
              STATS["observed_null_note"], STATS["observed_null_bare"],
              STATS["observed_null_none"], STATS["repeated_line"],
              STATS["bad_json"], STATS["fio_lines"],
              STATS["interference"], STATS["mthp"], STATS["mthp_smaller"]))
    if NULL_CASES:
        print("# bvecs_observed null in: " + ", ".join(NULL_CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
