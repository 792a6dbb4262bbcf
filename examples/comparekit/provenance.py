"""What the figures depend on: the machine, kernel and software they
were measured on, recorded in runs.json and printed under every table."""

import datetime
import glob
import json
import os
import platform
import re
import shutil
import subprocess

from .probe import THP_DIR, bracketed, by_size, read


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
        "command": getattr(args, "command", None) or
        "compare.py run " + args.matrix,
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
