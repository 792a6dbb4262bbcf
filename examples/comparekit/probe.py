"""What this machine can do, probed once before the cases run, and
which cases it therefore cannot have."""

import glob
import os
import platform
import re

from .cases import size_bytes


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


THP_DIR = "/sys/kernel/mm/transparent_hugepage"


def by_size(sizes):
    """{'2048kB': ..., '64kB': ...} in the order of the sizes."""
    return dict(sorted(sizes.items(), key=lambda kv: int(kv[0][:-2])))


# shmem's THP switches: the top level, and the PMD size's own (Linux 6.11
# and later), which a memfd follows as anonymous shmem.
SHMEM_TOP, SHMEM_PMD = "shmem_enabled", "hugepages-2048kB/shmem_enabled"


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
