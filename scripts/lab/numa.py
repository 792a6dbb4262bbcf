#!/usr/bin/env python3
"""The lab's NUMA guest (lab.py --numa): its layout on QEMU's command line,
the per-node hugetlb reservation handed to the guest, and the check of
each case against the guest's per-node counters.

A layout is N (N nodes sharing --mem and --huge2m equally) or a comma list
of nodes, each MEM/HUGE2M (its memory, its 2 MiB hugetlb pages) or 0 (a
node with a CPU and no memory: a memoryless node). CPU i is on node
i % N; every node needs one.

While a case runs the guest samples, per node, the free 2 MiB hugetlb
pages (nodeN/hugepages/hugepages-2048kB/free_hugepages) and nodeN/meminfo's
MemUsed, AnonPages and Shmem (logs/CASE.nodes: one line before fio starts,
one per sample, one after it ends). judge() sets those against the
engine's numa.pages_by_node (move_pages(2) in query mode) in cases.json.
"""

import json
import os
import re
import sys

from comparekit.results import load_json

HUGE_KB = 2048


class NumaError(Exception):
    pass


def size_mb(text):
    """A QEMU memory size (1536M, 3G, 512) in MiB."""
    m = re.fullmatch(r"(\d+)([MG]?)", text.strip(), re.I)
    if not m:
        raise NumaError("'%s' is not a memory size (give 1536M or 2G)" %
                        text)
    return int(m.group(1)) << (10 if m.group(2).upper() == "G" else 0)


def layout(spec, mem, huge2m, smp):
    """The nodes of SPEC: [{"node", "mem_mb", "huge2m", "cpus"}]."""
    nodes = []
    if re.fullmatch(r"\d+", spec):
        n = int(spec)
        if n < 1:
            raise NumaError("--numa %s: give 1 or more nodes" % spec)
        total = size_mb(mem)
        for i in range(n):
            nodes.append({"mem_mb": total // n, "huge2m": huge2m // n})
    else:
        for part in spec.split(","):
            if part.strip() == "0":
                nodes.append({"mem_mb": 0, "huge2m": 0})
                continue
            m = re.fullmatch(r"([^/]+)/(\d+)", part.strip())
            if not m:
                raise NumaError("--numa %s: '%s' is neither MEM/HUGE2M "
                                "(1536M/100) nor 0 (a memoryless node)" %
                                (spec, part))
            nodes.append({"mem_mb": size_mb(m.group(1)),
                          "huge2m": int(m.group(2))})
    if not any(n["mem_mb"] for n in nodes):
        raise NumaError("--numa %s: no node has memory" % spec)
    for i, n in enumerate(nodes):
        n["node"] = i
        n["cpus"] = []
        if n["huge2m"] * 2 > n["mem_mb"] // 2 and n["mem_mb"]:
            raise NumaError("--numa %s: node %d's %d pages of 2 MiB take "
                            "over half of its %d MiB" %
                            (spec, i, n["huge2m"], n["mem_mb"]))
    # CPU i on node i % N: the guest kernel numbers its nodes in the order
    # the ACPI SRAT's CPU entries name them first, so that every node
    # needs a CPU to keep QEMU's number (and a memoryless one needs one
    # to exist at all).
    if smp < len(nodes):
        raise NumaError("--numa %s: %d nodes need a CPU each (the guest "
                        "numbers nodes by their CPUs); give --smp %d" %
                        (spec, len(nodes), len(nodes)))
    for c in range(smp):
        nodes[c % len(nodes)]["cpus"].append(c)
    return nodes


def qemu_args(nodes):
    """-m and the -object/-numa arguments of NODES."""
    args = ["-m", "%dM" % sum(n["mem_mb"] for n in nodes)]
    for n in nodes:
        node = "node,nodeid=%d" % n["node"]
        if n["mem_mb"]:
            args += ["-object", "memory-backend-ram,id=ram%d,size=%dM" %
                     (n["node"], n["mem_mb"])]
            node += ",memdev=ram%d" % n["node"]
        for c in n["cpus"]:
            node += ",cpus=%d" % c
        args += ["-numa", node]
    return args


def layout_check(nodes, guest):
    """Why the guest's nodes (guest.txt's nodeN=... lines) are not those
    of the layout, or ""."""
    seen = {int(k[4:]): v for k, v in guest.items()
            if re.fullmatch(r"node\d+", k)}
    for n in nodes:
        g = seen.get(n["node"])
        if g is None:
            return "the guest has no node %d" % n["node"]
        mem = re.search(r"mem_kb=(\d+)", g)
        huge = re.search(r"huge2m=(\d+)", g)
        if bool(n["mem_mb"]) != bool(mem and int(mem.group(1))):
            return "the guest's node %d (%s) is not the layout's (%d MiB)" \
                % (n["node"], g, n["mem_mb"])
        if not huge or int(huge.group(1)) != n["huge2m"]:
            return "the guest's node %d holds %s 2 MiB pages, %d asked " \
                "for" % (n["node"], huge.group(1) if huge else "no",
                         n["huge2m"])
    if len(seen) != len(nodes):
        return "the guest has %d nodes, the layout %d" % (len(seen),
                                                          len(nodes))
    return ""


def settings(nodes):
    """The guest's /lab/settings line: 2 MiB pages per node, in order."""
    return "NUMA_HUGE2M=\"%s\"\n" % " ".join(str(n["huge2m"])
                                             for n in nodes)


# ---- the check ---------------------------------------------------------

EXPECT = re.compile(r"^;\s*lab-expect-refusal:\s*(.+?)\s*$", re.M)


def expected_refusal(text):
    """The `; lab-expect-refusal: REGEX` of a case's job text, or None."""
    m = EXPECT.search(text)
    return m.group(1) if m else None


def read_samples(path):
    """logs/CASE.nodes: [(label, {node: (free2m, used_kb, anon_kb,
    shmem_kb)})], label "base", "run" or "after"."""
    out = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            label, vals = words[0], words[1:]
            nodes = {}
            for i in range(0, len(vals) - 4, 5):
                nodes[int(vals[i])] = tuple(int(v) for v in vals[i + 1:i + 5])
            out.append((label, nodes))
    return out


def guest_view(samples):
    """Per node, from the samples: hugetlb pages of 2 MiB taken, KiB of
    AnonPages+Shmem and of MemUsed added, each at its peak while the case
    ran; hugetlb pages left taken after it."""
    base = [s for l, s in samples if l == "base"]
    run = [s for l, s in samples if l == "run"]
    after = [s for l, s in samples if l == "after"]
    if not base or not after:
        return None
    base, after = base[0], after[-1]
    run = run or [after]

    def peak(n, f):
        return max(f(s[n]) - f(base[n]) for s in run if n in s)
    view = {}
    for n in base:
        view[n] = {
            "huge2m_taken": peak(n, lambda v: -v[0]),
            "anon_shmem_kb": peak(n, lambda v: v[2] + v[3]),
            "memused_kb": peak(n, lambda v: v[1]),
            "huge2m_left_taken": base[n][0] - after[n][0],
        }
    return view


def engine_numa(doc):
    """numa of the engine's JSON report: (requested, {node: 4 KiB pages}
    or None, the 4 KiB pages of the registered buffers: segments.pages)."""
    u = doc["jobs"][0].get("uring_folioreg") or {}
    numa = u.get("numa") or {}
    pages = numa.get("pages_by_node")
    return numa.get("requested"), \
        None if pages is None else {int(k): v for k, v in pages.items()}, \
        (u.get("segments") or {}).get("pages")


def check_placed(c, job_text, requested, pages, view, seg_pages):
    """Why a case that ran does not agree with the guest, or ""."""
    if pages is None:
        return "the engine reported no pages_by_node"
    if sum(pages.values()) != seg_pages:
        return "the engine's pages by node %s add up to %d, its " \
            "segments.pages is %s" % (pages, sum(pages.values()), seg_pages)
    if view is None:
        return "the guest sent no per-node samples"
    want = int(re.search(r"^reg_numa_node=(\d+)", job_text, re.M).group(1))
    if requested != want:
        return "numa.requested is %s, the job asked for %d" % (requested,
                                                               want)
    wrong = {n: p for n, p in pages.items() if n != want and p}
    if wrong or not pages.get(want):
        return "the engine's pages by node are %s, all on node %d wanted" \
            % (pages, want)
    total_kb = pages[want] * 4
    hugetlb = re.search(r"^reg_folio=(2m|1g)|^reg_backing=hugetlbfs",
                        job_text, re.M)
    for n, v in sorted(view.items()):
        if v["huge2m_left_taken"]:
            return "node %d: %d hugetlb pages of 2 MiB still taken after " \
                "the case" % (n, v["huge2m_left_taken"])
        if hugetlb:
            taken_kb = v["huge2m_taken"] * HUGE_KB
            if n == want and not total_kb <= taken_kb < total_kb + 2 * \
                    HUGE_KB:
                return "node %d: the engine's %d KiB there, the guest's " \
                    "free 2 MiB hugetlb pages fell by %d (%d KiB)" % \
                    (n, total_kb, v["huge2m_taken"], taken_kb)
            if n != want and v["huge2m_taken"]:
                return "node %d: %d hugetlb pages of 2 MiB taken there, " \
                    "none wanted" % (n, v["huge2m_taken"])
        else:
            if v["huge2m_taken"]:
                return "node %d: %d hugetlb pages taken by a case without " \
                    "hugetlb" % (n, v["huge2m_taken"])
            # The guest's anon+shmem on the node grew by the buffers, less
            # what other processes gave back meanwhile (2 %); fio's own
            # memory, a few MiB, lands wherever it runs.
            if n == want and v["anon_shmem_kb"] < total_kb * 49 // 50:
                return "node %d: the engine's %d KiB there, the guest's " \
                    "AnonPages+Shmem grew by %d KiB" % \
                    (n, total_kb, v["anon_shmem_kb"])
            if n != want and v["anon_shmem_kb"] > total_kb // 4:
                return "node %d: AnonPages+Shmem grew by %d KiB, the " \
                    "buffers' %d KiB wanted on node %d" % \
                    (n, v["anon_shmem_kb"], total_kb, want)
    return ""


def check_refused(c, log_text, regex, view):
    """Why a case expected to be refused was not as it should be, or ""."""
    lines = [ln for ln in log_text.splitlines()
             if ln.startswith("uring_folioreg:")]
    if c.get("rc") in (None, 0):
        return "fio exited %s, a refusal wanted" % c.get("rc")
    if len(lines) != 1:
        return "%d uring_folioreg: lines, one wanted: %s" % (
            len(lines), " | ".join(lines)[:300])
    if not re.search(regex, lines[0]):
        return "the refusal '%s' does not match '%s'" % (lines[0], regex)
    if c.get("pins_after"):
        return "%d pins left after the refusal" % c["pins_after"]
    for n, v in sorted((view or {}).items()):
        if v["huge2m_left_taken"]:
            return "node %d: %d hugetlb pages of 2 MiB left taken" % (
                n, v["huge2m_left_taken"])
    return ""


def judge(work, name, job_text, c):
    """When the guest sampled its nodes in case NAME (WORK/logs/NAME.nodes):
    set cases.json's entry C's "numa" (the engine's and the guest's view)
    and, where they disagree, its status and why. A refusal the job
    expects (`; lab-expect-refusal: REGEX`) that went as expected is ok."""
    samples = os.path.join(work, "logs", name + ".nodes")
    if not os.path.exists(samples):
        return
    regex = expected_refusal(job_text)
    try:
        view = guest_view(read_samples(samples))
    except (OSError, ValueError, IndexError, KeyError):
        view = None
    entry = {"guest": view}
    if regex:
        try:
            with open(os.path.join(work, "logs", name + ".log")) as f:
                log_text = f.read()
        except OSError:
            log_text = ""
        why = check_refused(c, log_text, regex, view)
        entry["expected_refusal"] = regex
    else:
        requested, pages, seg_pages = None, None, None
        if c.get("status") == "ok":
            doc, _ = load_json(os.path.join(work, "json", name + ".json"))
            requested, pages, seg_pages = engine_numa(doc)
        entry.update(requested=requested, pages_by_node=pages)
        why = check_placed(c, job_text, requested, pages, view,
                           seg_pages) if c.get("status") == "ok" else ""
    entry["check"] = why or "ok"
    c["numa"] = entry
    if why:
        c["status"] = "failed"
        c["why"] = "numa: " + why
    elif regex:
        c["status"] = "ok"
        c.pop("why", None)


# ---- the table ---------------------------------------------------------

def fmt_nodes(d, scale=1):
    return "/".join("%g" % (round(d[n] / scale, 1) + 0.0)
                    for n in sorted(d))


def table(dirs):
    """A Markdown table per results directory: each case's engine pages
    by node, the guest's 2 MiB hugetlb pages taken and AnonPages+Shmem
    growth per node (node 0/1/...), the check."""
    lines = []
    for d in dirs:
        with open(os.path.join(d, "provenance.json")) as f:
            prov = json.load(f)
        with open(os.path.join(d, "cases.json")) as f:
            cases = json.load(f)
        lines += ["%s (%s), --numa %s, nodes %s" % (
            os.path.basename(d.rstrip("/")), prov["kernel"]["release"],
            prov["guest_profile"].get("numa"),
            prov.get("numa_check")), "",
            "| case | engine pages_by_node (4 KiB) | guest 2 MiB pages "
            "taken per node | guest AnonPages+Shmem MiB per node | check |",
            "| --- | --- | --- | --- | --- |"]
        for c in cases:
            nm = c.get("numa") or {}
            g = nm.get("guest") or {}
            engine = nm.get("pages_by_node")
            if nm.get("expected_refusal"):
                engine = "refused, rc %s" % c.get("rc")
            elif engine is not None:
                engine = ", ".join("node %s: %d" % kv
                                   for kv in sorted(engine.items()))
            lines.append("| %s | %s | %s | %s | %s |" % (
                c["name"], engine,
                fmt_nodes({n: v["huge2m_taken"] for n, v in g.items()}),
                fmt_nodes({n: v["anon_shmem_kb"] for n, v in g.items()},
                          1024),
                "ok" if c["status"] == "ok" else "FAILED: %s" %
                c.get("why", "")))
        lines.append("")
    return "\n".join(lines)


def main(argv):
    if len(argv) < 2 or argv[0] != "table":
        print("usage: numa.py table RESULTS_DIR...", file=sys.stderr)
        return 2
    print(table(argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
