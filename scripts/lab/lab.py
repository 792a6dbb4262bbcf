#!/usr/bin/env python3
"""The kernel lab: run a job matrix of the comparison kit on other kernels,
each booted under qemu-system-x86_64, without rebooting this machine.

    lab.py [options] KERNEL... [-- compare.py run options]

KERNEL is a Debian suite (bookworm, trixie, sid, ...: its newest cloud
kernel), a Debian kernel package version (6.1.158-1) or name, a local .deb,
or a local bzImage (scripts/lab/kernel.sh fetches and checks them). Each
kernel boots (KVM when the host's KVM can boot it, else TCG) into a
generated initramfs carrying busybox, this fio, its libraries and the
engine; the matrix's cases run there one after the other (pins sampled
from /proc/vmstat while each runs) and the results come back on the serial
console. OUT/LABEL/ then holds what `compare.py run` writes (runs.json,
jobs/, json/, logs/), so `compare.py table` and `diff` read it, plus
provenance.json, cases.json (every case, failed ones too, with the pins the
guest kernel held) and console.log.

MATRIX is a compare.py matrix (strategies, rfc, scaling, demo), one of
the lab's own job files (LAB_MATRICES: `truth`, scripts/lab/truth.fio,
every strategy, folio size and backing, for the pin truth test;
`spectrum`, scripts/lab/spectrum.fio, every folio kind and size for the
A/B of docs/ab.md, which takes the name of the kit's spectrum: that one
sets the host's THP switches and mounts hugetlbfs from compare.py, which
the guest does not run; `releases` and `releases-16k`,
scripts/lab/releases*.fio, per-buffer registration cost, which
scripts/lab/releases.py draws) or the path of a job file whose every
section is one case. A `; lab-thp: PATH=VALUE...` line in a section sets the
guest's THP switches (under /sys/kernel/mm/transparent_hugepage) for
that case; a case needing what the guest's kernel lacks is recorded
unavailable, with the reason, and not run.
"""

import argparse
import base64
import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import queue

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
# The kit (examples/comparekit, linked here): its options, matrices, job
# expansion and naming.
from comparekit import cases as kit_cases, cli as kit_cli  # noqa: E402
from comparekit.results import load_json  # noqa: E402
from comparekit.probe import (HUGETLB_DIR, SHMEM_TOP, THP_DIR,  # noqa: E402
                              case_needs, unavailable)
from comparekit.running import fmt_secs  # noqa: E402, F401
import numa  # noqa: E402

GUEST_ENGINE = "/lab/uring_folioreg.so"
CONFIG_KEYS = [
    "CONFIG_IO_URING", "CONFIG_HUGETLBFS", "CONFIG_HUGETLB_PAGE",
    "CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP", "CONFIG_TRANSPARENT_HUGEPAGE",
    "CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS",
    "CONFIG_TRANSPARENT_HUGEPAGE_MADVISE", "CONFIG_NUMA", "CONFIG_MEMCG",
    "CONFIG_PREEMPT_NONE", "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_PREEMPT",
    "CONFIG_PREEMPT_DYNAMIC", "CONFIG_HZ", "CONFIG_INIT_ON_ALLOC_DEFAULT_ON",
    "CONFIG_INIT_ON_FREE_DEFAULT_ON", "CONFIG_DEBUG_VM", "CONFIG_KASAN",
    "CONFIG_PROVE_LOCKING", "CONFIG_PAGE_POISONING",
]
TCG_WARNING = ("timings under TCG (emulation) compare only with other "
               "kernels of the same lab run, never with KVM or bare metal")


class LabError(Exception):
    """One line for the user; a second argument "booted" keeps the
    guest's console log."""

    def __str__(self):
        return str(self.args[0])


def say(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)


# ---- the matrix --------------------------------------------------------

LAB_MATRICES = {"truth": "truth.fio", "spectrum": "spectrum.fio",
                "releases": "releases.fio", "releases-16k": "releases-16k.fio"}


def plan(matrix, kit_args):
    """The runs of MATRIX as compare.py would make them: (name, section,
    job text, runs.json entry)."""
    # compare.py's own option parser fills in the defaults.
    args = kit_cli.parser().parse_args(
        ["run", os.path.join(HERE, LAB_MATRICES[matrix])
         if matrix in LAB_MATRICES else matrix, "--out", "-"] + kit_args)
    if args.matrix not in kit_cases.MATRICES and \
            not os.path.isfile(args.matrix):
        raise LabError("unknown matrix '%s': give one of %s, truth, "
                       "spectrum, releases, releases-16k, or a job file" %
                       (matrix, ", ".join(sorted(kit_cases.MATRICES))))
    runs = kit_cases.matrix_cases(args)
    if not runs:
        raise LabError("the %s matrix is empty with these settings" % matrix)
    out = []
    for c in runs:
        # UFR_STATS: a reg_stats file the guest sends back with the case.
        env = dict(c.env, UFR_ENGINE=GUEST_ENGINE,
                   UFR_STATS="/out/json/%s.stats.json" % c.name)
        # One job per file, as compare.py runs each case.
        text = kit_cases.single_job(c.jobfile, c.section, env)
        thp_switches(text, c.name)
        out.append((c.name, c.section, text,
                    {"matrix": c.matrix, "case": c.case,
                     "json": c.name + ".json", "section": c.section,
                     "env": env, "client": ""}))
    return out, args


def pick_cases(runs, pattern):
    """The runs whose case (section) name PATTERN matches whole (--cases:
    a regular expression), all of them without one."""
    if not pattern:
        return runs
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise LabError("--cases %s: not a regular expression: %s" %
                       (pattern, e))
    picked = [r for r in runs if rx.fullmatch(r[3]["case"])]
    if not picked:
        raise LabError("--cases %s: no case of the matrix matches (its "
                       "cases: %s)" % (pattern, " ".join(
                           r[3]["case"] for r in runs)))
    return picked


# ---- what a case needs of the guest -------------------------------------

LAB_THP = re.compile(r"^\s*;\s*lab-thp:(.*)$", re.M)


def thp_switches(text, name):
    """The guest's THP switches a case's job text asks for (`; lab-thp:
    enabled=always hugepages-64kB/enabled=always` lines): [(path under
    THP_DIR, value)], in order."""
    out = []
    for m in LAB_THP.finditer(text):
        for word in m.group(1).split():
            path, eq, value = word.partition("=")
            if not eq or not path or not value or path.startswith("/") or \
                    ".." in path.split("/"):
                raise LabError(
                    "%s: '; lab-thp:%s': give PATH=VALUE words, PATH "
                    "relative to %s (hugepages-64kB/enabled=always)" %
                    (name, m.group(1), THP_DIR))
            out.append((path, value))
    return out


def switch_needs(switches):
    """(path, why) the guest checks before it sets SWITCHES: a size's
    directory before its files."""
    needs = []
    for path, _ in switches:
        m = re.match(r"(hugepages-\d+kB)/", path)
        if m:
            d = "%s/%s" % (THP_DIR, m.group(1))
            needs.append((d, "this kernel has no multi-size THP (no %s)" % d))
        full = "%s/%s" % (THP_DIR, path)
        needs.append((full, "this kernel has no %s" % full))
    return needs


NEED_PATHS = {"hugetlb": HUGETLB_DIR + "/hugepages-%dkB",
              "mthp": THP_DIR + "/hugepages-%dkB",
              "thp": THP_DIR + "/enabled",
              "shmem_thp": THP_DIR + "/" + SHMEM_TOP}


def job_needs(text):
    """(path, why) of what the case's job needs of the kernel (the kit's
    case_needs), why in the kit's words: each reason is the kit's for a
    machine that has everything but that one need."""
    opts = kit_cases.parse_job(text)
    needs = [n for n in case_needs(opts) if n[0] in NEED_PATHS]
    every = {"hugetlb_kb": [n[1] for n in needs if n[0] == "hugetlb"],
             "mthp_kb": [n[1] for n in needs if n[0] == "mthp"],
             "thp": True, "shmem_thp": True, "hugetlbfs": True,
             "pdpe1gb": None, "perf": None}
    out = []
    for n in needs:
        facts = dict(every)
        if len(n) > 1:
            facts[n[0] + "_kb"] = [kb for kb in every[n[0] + "_kb"]
                                   if kb != n[1]]
        else:
            facts[n[0]] = False
        path = NEED_PATHS[n[0]] % n[1:]
        out.append((path, unavailable(opts, facts)))
    return out


def guest_case_file(text, name):
    """/lab/thp/NAME for guest-init.sh: "need PATH WHY" lines (the case
    is unavailable, WHY, when PATH is missing), then "set PATH VALUE"
    lines (written before the case, put back after it)."""
    switches = thp_switches(text, name)
    needs = {}
    for path, why in job_needs(text) + switch_needs(switches):
        needs.setdefault(path, why)  # the first reason, the kit's
    lines = ["need %s %s" % n for n in needs.items()]
    lines += ["set %s/%s %s" % (THP_DIR, p, v) for p, v in switches]
    return "".join(ln + "\n" for ln in lines)


# ---- the initramfs -----------------------------------------------------

class Cpio:
    """A newc cpio archive, as the kernel unpacks an initramfs."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1000
        self.dirs = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        self.ino += 1
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
            len(name_b), 0))
        self.buf.write(hdr.encode() + name_b)
        self.buf.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755, nlink=2)

    def add(self, path, data, mode=0o644):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def add_file(self, path, src):
        """A host file at PATH, following symlinks (ld.so's names)."""
        with open(src, "rb") as f:
            data = f.read()
        self.add(path, data, os.stat(src).st_mode & 0o777)

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def libs_of(paths):
    """The shared libraries ldd lists for PATHS, and the loader."""
    libs = set()
    for p in paths:
        r = subprocess.run(["ldd", p], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        for line in r.stdout.splitlines():
            m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if m:
                libs.add(m.group(1))
    return sorted(libs)


def busybox_path():
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                if b"/ld-linux" not in f.read(1 << 16):
                    return p  # static: no program interpreter
    return None


def base_initramfs(cache, fio, engine):
    """The guest root without the matrix: busybox, fio and the engine with
    the libraries they load, /init. Cached by the content of its inputs."""
    bb = busybox_path()
    fio_bin = shutil.which(fio) or fio
    inputs = [bb, fio_bin, engine, os.path.join(HERE, "guest-init.sh")]
    libs = libs_of([fio_bin, engine])
    h = hashlib.sha256()
    for p in inputs + libs:
        st = os.stat(p)
        h.update(("%s %d %d %o\n" % (p, st.st_size, st.st_mtime_ns,
                                     st.st_mode)).encode())
    out = os.path.join(cache, "initramfs-%s.cpio.gz" % h.hexdigest()[:16])
    if os.path.exists(out):
        return out
    say("building the guest's initramfs (busybox, %s, the engine, %d "
        "libraries)" % (fio_bin, len(libs)))
    c = Cpio()
    for d in ("proc", "sys", "dev", "tmp", "out", "sbin", "usr/bin",
              "usr/sbin", "lab/jobs", "lab/modules"):
        c.mkdir(d)
    c.add_file("bin/busybox", bb)
    c.symlink("bin/sh", "busybox")
    c.add("init", open(os.path.join(HERE, "guest-init.sh"), "rb").read(),
          0o755)
    c.add_file("bin/fio", fio_bin)
    c.add_file(GUEST_ENGINE, engine)
    for lib in libs:
        # At the path ldd gives (merged /usr or not, the loader finds it).
        c.add_file(lib, lib)
    tmp = out + ".tmp%d" % os.getpid()
    try:
        with gzip.open(tmp, "wb", compresslevel=3) as f:
            f.write(c.bytes())
        os.rename(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for old in glob.glob(os.path.join(cache, "initramfs-*.cpio.gz")):
        if old != out:
            os.unlink(old)
    return out


# ---- one kernel --------------------------------------------------------

def kernel_dir(spec, cache, patches=()):
    """scripts/lab/kernel.sh (scripts/lab/kernel-build.sh for src:SUITE,
    src:DIR and PATCHES): its progress and its one error line go
    straight to stderr."""
    if spec.startswith("src:"):
        cmd = [os.path.join(HERE, "kernel-build.sh")]
        for p in patches:
            cmd += ["--patch", p]
        cmd += [spec, cache]
    else:
        cmd = [os.path.join(HERE, "kernel.sh"), spec, cache]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if r.returncode or not r.stdout.strip():
        raise LabError("%s: kernel.sh failed" % spec, "printed")
    d = r.stdout.strip().splitlines()[-1]
    info = {}
    with open(os.path.join(d, "info")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            info[k] = v
    return d, info


_PATCHES = []   # --patch, for the src: kernels' labels


def label_of(spec, patches=None):
    if patches is None:
        patches = _PATCHES
    if spec.startswith("src:"):
        base = spec[4:].rstrip("/")
        base = "src-" + (os.path.basename(base) if "/" in base else base)
        for p in patches:
            base += "+" + re.sub(r"\.(patch|diff)$", "", os.path.basename(p))
        return re.sub(r"[^A-Za-z0-9._+-]", "_", base)
    if "/" in spec:
        base = os.path.basename(spec.rstrip("/"))
        base = re.sub(r"\.deb$", "", base)
        return re.sub(r"[^A-Za-z0-9._+-]", "_", base)
    return re.sub(r"[^A-Za-z0-9._+-]", "_", spec)


def read_config(path):
    conf = {}
    if path and os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"(CONFIG_\w+)=(.*)", line)
                if m:
                    conf[m.group(1)] = m.group(2).strip('"')
                m = re.match(r"# (CONFIG_\w+) is not set", line)
                if m:
                    conf[m.group(1)] = "n"
    return conf


class Qemu:
    """One guest: qemu-system-x86_64 in its own process group, its serial
    console read line by line by a thread."""

    def __init__(self, cmd, log):
        self.lines = queue.Queue()
        self.log = log
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.log.write(line + "\n")
            self.lines.put(line)
        self.lines.put(None)

    def next_line(self, deadline):
        """The next console line, None at EOF, "" at the deadline."""
        try:
            return self.lines.get(timeout=max(0.05, deadline -
                                              time.monotonic()))
        except queue.Empty:
            return ""

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self.thread.join(5)


def host_tsc_khz():
    """The host's TSC frequency in kHz (its constant TSC runs at the
    "cpu MHz" /proc/cpuinfo gives), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", text, re.M)
    if not m or "constant_tsc" not in text:
        return None
    return int(float(m.group(1)) * 1000)


# Guests lacking a host feature (--profile): what each changes of the
# defaults. The guest's own view of it is what guest-init.sh records
# (hugepages sizes, THP's switch, MemTotal). No mTHP is a kernel, not a
# profile: any kernel before 6.8 (bookworm's 6.1).
PROFILES = {
    "no1g": {"cpu_flags": "-pdpe1gb", "huge1g": 0,
             "why": "a CPU without 1 GiB pages (-pdpe1gb)"},
    "nothp": {"append": "transparent_hugepage=never",
              "why": "transparent huge pages off "
              "(transparent_hugepage=never)"},
    "smallmem": {"mem": "768M", "huge1g": 0, "huge2m": 40,
                 "why": "little memory (768 MiB, no 1 GiB page, 40 of "
                 "2 MiB)"},
}


def apply_profile(opts):
    """Fill in what --profile changes where the options left the
    default; the explicit options win."""
    for name in opts.profile:
        prof = PROFILES[name]
        for key in ("mem", "huge1g", "huge2m"):
            if key in prof and getattr(opts, key) is None:
                setattr(opts, key, prof[key])
        if "cpu_flags" in prof:
            opts.cpu_flags.append(prof["cpu_flags"])
        if "append" in prof:
            opts.append.append(prof["append"])
    opts.mem_given = opts.mem is not None
    for key, default in (("mem", "3G"), ("huge1g", 1), ("huge2m", 200)):
        if getattr(opts, key) is None:
            setattr(opts, key, default)


def cpu_arg(base, opts):
    """-cpu BASE with --cpu-flags (comma-separated +flag/-flag)."""
    flags = [f for fl in getattr(opts, "cpu_flags", []) or []
             for f in fl.split(",") if f]
    return ",".join([base] + flags)


def initrd_anywhere(kdir):
    """Whether the kernel's boot header lets the loader put the initramfs
    anywhere below 4 GiB (boot protocol 2.12 and XLF_CAN_BE_LOADED_ABOVE_4G,
    which CONFIG_RELOCATABLE sets), not just under 2 GiB."""
    try:
        with open(os.path.join(kdir, "vmlinuz"), "rb") as f:
            head = f.read(0x238)
    except OSError:
        return True
    if len(head) < 0x238 or head[0x202:0x206] != b"HdrS":
        return True
    proto, = struct.unpack_from("<H", head, 0x206)
    flags, = struct.unpack_from("<H", head, 0x236)
    return proto >= 0x20c and bool(flags & 2)


def guest_mem(opts, kdir):
    """--mem; by default 5G, not 3G, for a kernel whose initramfs QEMU
    puts just under 2 GiB (initrd_anywhere) when a 1 GiB page is asked
    for: there it takes the one whole free GiB of a 3 GiB guest (the GiB
    from 2 to 3 ends 128 KiB short, in the BIOS's reserved area), and the
    1 GiB page finds no room. A 5 GiB guest has 2 GiB above 4 GiB: the
    boot's first allocations, made top-down, take the upper one (so 4G
    is not enough), the page the lower."""
    if opts.mem_given or not opts.huge1g or initrd_anywhere(kdir):
        return opts.mem
    return "5G"


def qemu_cmd(opts, kdir, initrd, accel, huge2m):
    cmdline = "console=ttyS0,115200 quiet loglevel=1 panic=-1 rdinit=/init"
    if opts.huge1g:
        # Not asked for when none is wanted: a CPU without pdpe1gb would
        # have the kernel complain about the size.
        cmdline += " hugepagesz=1G hugepages=%d" % opts.huge1g
    cmdline += (" hugepagesz=2M hugepages=%d transparent_hugepage=madvise"
                % huge2m)
    # --append last: a switch given twice takes its last value.
    for a in getattr(opts, "append", []) or []:
        cmdline += " " + a
    conf = read_config(os.path.join(kdir, "config"))
    if getattr(opts, "brd_kb", 0) and conf.get("CONFIG_BLK_DEV_RAM") == "y":
        # brd built in (the lab's own kernels): sized here, not by insmod.
        cmdline += " brd.rd_nr=1 brd.rd_size=%d" % opts.brd_kb
    khz = host_tsc_khz()
    if conf and conf.get("CONFIG_ACPI", "n") == "n" and khz and \
            getattr(opts, "icount", None) is None:
        # No ACPI (the lab's own kernels): no HPET nor ACPI PM timer, and
        # under TCG the PIT calibration of the TSC fails, which leaves
        # jiffies as the clock (4 ms steps: every registration timed 0 or
        # 4 ms). The guest's TSC is the host's under TCG and KVM: give its
        # frequency. (Under -icount the TSC counts instructions and the
        # PIT calibration works.)
        cmdline += " tsc=reliable tsc_early_khz=%d" % khz
    cmd = [opts.qemu, "-nodefaults", "-display", "none", "-no-reboot",
           "-serial", "stdio", "-monitor", "none",
           "-smp", str(opts.smp)] + (
               numa.qemu_args(opts.numa_nodes)
               if getattr(opts, "numa_nodes", None) else
               ["-m", guest_mem(opts, kdir)]) + [
           "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initrd,
           "-append", cmdline]
    if accel == "kvm":
        cmd += ["-accel", "kvm", "-cpu", cpu_arg("host", opts)]
    elif getattr(opts, "icount", None) is not None:
        # Deterministic guest time: one instruction is 2^shift ns of the
        # guest's clock, whatever the host does meanwhile (single-threaded
        # TCG only).
        cmd += ["-accel", "tcg", "-cpu", cpu_arg("max,-cx16", opts),
                "-icount", "shift=%d,align=off,sleep=off" % opts.icount]
    else:
        # QEMU 7.2's cmpxchg16b emulation crashes 6.12 kernels.
        cmd += ["-accel", "tcg,thread=multi", "-cpu",
                cpu_arg("max,-cx16", opts)]
    return cmd


def boot(opts, kdir, initrd, accel, log, huge2m):
    """Start the guest; returns the Qemu once the guest's /init runs.
    Raises LabError with why it did not."""
    q = Qemu(qemu_cmd(opts, kdir, initrd, accel, huge2m), log)
    timeout = opts.kvm_timeout if accel == "kvm" else opts.boot_timeout
    deadline = time.monotonic() + timeout
    last = ""
    try:
        while True:
            line = q.next_line(deadline)
            if line is None:
                q.kill()
                # Under KVM, only KVM's own complaints mean "try TCG".
                raise LabError("QEMU (%s) exited before the guest's init ran"
                               ": %s" % (accel, last or "no console output"),
                               "kvm" if "kvm" in last.lower() or
                               accel != "kvm" else "kernel")
            if line == "" and time.monotonic() >= deadline:
                q.kill()
                raise LabError("did not boot within %d s under %s (last "
                               "console line: %s)" %
                               (timeout, accel.upper(),
                                last or "none"))
            if "@@LAB BOOTED" in line:
                return q
            if "KVM internal error" in line or "emulation failure" in line:
                q.kill()
                raise LabError("KVM internal error: " + line.strip())
            if "Kernel panic" in line:
                # The panic lines that follow say why; keep the first.
                last = line.strip()
                deadline = min(deadline, time.monotonic() + 5)
            elif line.strip() and not last.startswith("Kernel panic"):
                last = line.strip()[:200]
    except BaseException:
        q.kill()
        raise


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
        return True
    except OSError:
        return False


def make_initrd(path, base_initrd, kdir, left, total, opts, kit_args):
    """The base initramfs with the cases LEFT (index, run) and their job
    files, as one uncompressed cpio put first."""
    extra = Cpio()
    lines = []
    for i, (name, section, text, _) in left:
        extra.add("lab/jobs/%s.fio" % name, text.encode())
        extra.add("lab/thp/%s" % name, guest_case_file(text, name).encode())
        lines.append("%d %s %s %s.fio" % (i, name, section, name))
    extra.add("lab/cases", ("\n".join(lines) + "\n").encode())
    brd_kb = 0
    if kit_args.file.startswith("/dev/ram"):
        brd_kb = (kit_cases.size_bytes(kit_args.size) >> 10) + 1024
    extra.add("lab/settings", ("CASE_TIMEOUT=%d\nBRD_KB=%d\nTOTAL=%d\n" %
                               (opts.case_timeout, brd_kb, total) +
                               (numa.settings(opts.numa_nodes)
                                if getattr(opts, "numa_nodes", None)
                                else "")).encode())
    brd = os.path.join(kdir, "modules", "brd.ko")
    if os.path.exists(brd):
        extra.add_file("lab/modules/brd.ko", brd)
    with open(path, "wb") as f:
        # The uncompressed archive first, as early microcode is: the kernel
        # unpacks nothing after a compressed one.
        data = extra.bytes()
        f.write(data + b"\0" * (-len(data) % 512))
        with open(base_initrd, "rb") as b:
            shutil.copyfileobj(b, f)


class Boots:
    """The boots of one kernel: the accelerator and why it is that one,
    the first boot's time, how many boots so far."""

    def __init__(self, accel):
        self.accel, self.note, self.first_secs, self.count = \
            accel, "", None, 0
        self.mem = None


def pick_accel(st):
    """--accel auto: KVM when /dev/kvm opens, else TCG."""
    if st.accel == "auto":
        st.accel = "kvm" if kvm_usable() else "tcg"
        if st.accel == "tcg":
            st.note = "/dev/kvm cannot be opened"


def boot_counted(st, opts, kdir, initrd, log, label, info):
    """One boot; the first falls back from KVM to TCG when KVM (not the
    kernel) failed and --accel did not ask for KVM."""
    t0 = time.monotonic()
    try:
        q = boot(opts, kdir, initrd, st.accel, log, opts.huge2m)
    except LabError as e:
        if st.accel != "kvm" or opts.accel == "kvm" or \
                e.args[1:] == ("kernel",) or st.count:
            raise
        st.note = "KVM could not boot it: %s" % e
        why = str(e).split(" ran: ", 1)[-1]
        say("%s: KVM cannot boot this kernel here (%s); falling back "
            "to TCG" % (label, why[:160]))
        log.write("@@LAB host: falling back to TCG\n")
        st.accel = "tcg"
        t0 = time.monotonic()
        q = boot(opts, kdir, initrd, st.accel, log, opts.huge2m)
    st.count += 1
    if st.first_secs is None:
        st.first_secs = time.monotonic() - t0
        say("%s: %s booted under %s in %.1f s%s" %
            (label, info.get("release") or info.get("spec"),
             st.accel.upper(), st.first_secs,
             "; " + TCG_WARNING if st.accel == "tcg" else ""))
    return q


def cases_left(cases, left, dead_in, why, st, opts, label):
    """After the guest died: the case it died in recorded, the cases a
    new boot runs (none when --max-boots is reached: those are recorded
    as not run)."""
    if dead_in is None:
        raise LabError("the guest stopped outside any case: %s" % why,
                       "booted")
    # The case it died in is recorded; a new boot runs the rest.
    cases[dead_in] = {"rc": None, "why": "the guest kernel died in "
                      "this case: %s" % why}
    at = [i for i, r in left if r[0] == dead_in][0]
    left = [(i, r) for i, r in left if i > at]
    if st.count >= opts.max_boots and left:
        for _, r in left:
            cases[r[0]] = {"rc": None, "why": "not run: the guest "
                           "died %d times" % st.count}
        return []
    if left:
        say("%s: the guest died in %s (%s); booting again for the %d "
            "case(s) left" % (label, dead_in, why, len(left)))
    return left


def boot_loop(st, label, kdir, info, opts, runs, kit_args, base_initrd,
              work, initrd):
    """Boot the kernel until every case ran or --max-boots; returns
    {case name: what the guest said of it}."""
    log = open(os.path.join(work, "console.log"), "w")
    cases = {}
    left = list(enumerate(runs, 1))
    try:
        while left:
            make_initrd(initrd, base_initrd, kdir, left, len(runs), opts,
                        kit_args)
            pick_accel(st)
            q = boot_counted(st, opts, kdir, initrd, log, label, info)
            try:
                got, finished, dead_in, why = run_guest(q, label, opts,
                                                        len(runs), work)
            finally:
                q.kill()
            cases.update(got)
            if finished:
                break
            left = cases_left(cases, left, dead_in, why, st, opts, label)
    finally:
        log.close()
        if os.path.exists(initrd):
            os.unlink(initrd)
    return cases


def start_work(dest, runs):
    """DEST.partial, fresh, with the matrix's job files as the host's
    compare.py would write them."""
    work = dest + ".partial"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "jobs"))
    for name, section, text, _ in runs:
        with open(os.path.join(work, "jobs", name + ".fio"), "w") as f:
            f.write(text.replace(GUEST_ENGINE, "./uring_folioreg.so"))
    return work


def guest_facts(work):
    """What the guest said of itself (WORK/guest.txt, KEY=VALUE lines),
    the file removed."""
    guest = {}
    gpath = os.path.join(work, "guest.txt")
    if os.path.exists(gpath):
        with open(gpath) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                guest[k] = v
        os.unlink(gpath)
    return guest


def pins_acquired(work, name):
    """The pins the guest's kernel took while the case ran (its
    nr_foll_pin_acquired before and after, logs/NAME.acquired), or None
    where the guest did not count them."""
    try:
        with open(os.path.join(work, "logs", name + ".acquired")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def case_record(work, name, meta, cases):
    """One entry of cases.json, and whether its fio run is good."""
    c = cases.get(name, {"rc": None, "why": "not run"})
    c = dict(c, name=name, matrix=meta["matrix"], case=meta["case"])
    switches = case_switches(work, name)
    if switches:
        c["thp_switches"] = switches
    if c.get("status") == "unavailable":
        return c, False
    jpath = os.path.join(work, "json", meta["json"])
    good = c.get("rc") == 0 and os.path.exists(jpath)
    if good:
        try:
            doc, _ = load_json(jpath)
            u = doc["jobs"][0].get("uring_folioreg") or {}
            seg = u.get("segments", {})
            c["bvecs"] = seg.get("bvecs")
            c["bvecs_observed"] = seg.get("bvecs_observed")
            c["pages"] = seg.get("pages")
            c["reg_pins_acquired"] = seg.get("pins_acquired")
            c["job_error"] = doc["jobs"][0].get("error")
            c["engine_version"] = u.get("version")
            c["pins_acquired"] = pins_acquired(work, name)
        except (ValueError, KeyError, IndexError) as e:
            good = False
            c["why"] = "unreadable fio JSON: %s" % e
    c["status"] = "ok" if good else "failed"
    return c, good


def case_switches(work, name):
    """The THP switches the guest set for case NAME, as it said
    (logs/NAME.thp: "PATH=VALUE (was OLD, reads NOW)" lines)."""
    path = os.path.join(work, "logs", name + ".thp")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


def write_results(work, runs, cases):
    """runs.json (the cases whose fio succeeded, and those the kernel
    cannot have, as compare.py writes them) and cases.json (every case);
    returns cases.json's list."""
    ok_runs, all_cases = [], []
    for name, section, text, meta in runs:
        c, good = case_record(work, name, meta, cases)
        numa.judge(work, name, text, c)
        all_cases.append(c)
        if good:
            ok_runs.append(meta)
        elif c["status"] == "unavailable":
            ok_runs.append({k: v for k, v in meta.items() if k != "json"}
                           | {"rep": 0, "status": "unavailable",
                              "why": "not available here: " + c["why"]})
    with open(os.path.join(work, "runs.json"), "w") as f:
        json.dump(ok_runs, f, indent=1)
    with open(os.path.join(work, "cases.json"), "w") as f:
        json.dump(all_cases, f, indent=1)
    return all_cases


def kernel_provenance(spec, info, conf, guest):
    return {"spec": spec, "release": guest.get("release") or
            info.get("release"), "package": info.get("package"),
            "version": info.get("version"), "kind": info.get("kind"),
            "sha256": info.get("sha256"),
            "config": {k: conf.get(k, "absent") for k in CONFIG_KEYS}
            if conf else "unknown (no config found)"}


def engine_provenance(all_cases):
    engine_versions = sorted({c["engine_version"] for c in all_cases
                              if c.get("engine_version")})
    return {"version": engine_versions[0] if len(engine_versions) == 1
            else engine_versions or read_version(),
            "source_version": read_version(),
            "git": git_describe()}


def provenance(spec, info, conf, guest, st, opts, all_cases, t_start):
    """provenance.json of one kernel's results."""
    return {
        "kernel": kernel_provenance(spec, info, conf, guest),
        "accel": st.accel, "accel_note": st.note,
        "icount_shift": getattr(opts, "icount", None),
        "timing_note": TCG_WARNING if st.accel == "tcg" else "",
        "cpu_model": guest.get("cpu_model"), "guest_cpus": guest.get("cpus"),
        "guest_mem_kb": guest.get("mem_kb"),
        "host_cpu_model": host_cpu(),
        "guest_cmdline": guest.get("cmdline"), "thp": guest.get("thp"),
        "thp_switches": {c["case"]: c["thp_switches"] for c in all_cases
                         if c.get("thp_switches")},
        "hugetlbfs_mounts": guest.get("hugetlbfs_mounts", ""),
        "hugepages": {k[len("hugepages_"):]: v for k, v in guest.items()
                      if k.startswith("hugepages_")},
        "block_device": guest.get("brd", ""),
        "fio": guest.get("fio"),
        "engine": engine_provenance(all_cases),
        "qemu": qemu_version(opts.qemu),
        "guest_profile": {"profiles": opts.profile,
                          "cpu_flags": opts.cpu_flags,
                          "append": opts.append, "mem": st.mem or opts.mem,
                          "huge1g": opts.huge1g, "huge2m": opts.huge2m,
                          "numa": opts.numa, "numa_nodes": opts.numa_nodes},
        "numa_nodes": {k[len("node"):]: v for k, v in guest.items()
                       if re.fullmatch(r"node\d+", k)},
        "numa_check": guest.get("numa_check", "") or "ok"
        if opts.numa_nodes else "",
        "matrix": opts.matrix, "kit_args": kit_args_list(opts),
        "boot_secs": round(st.first_secs, 1),
        "total_secs": round(time.monotonic() - t_start, 1),
        "cases": {"total": len(all_cases),
                  "failed": sum(c["status"] == "failed" for c in all_cases),
                  "unavailable": sum(c["status"] == "unavailable"
                                     for c in all_cases)},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def run_kernel(spec, kdir, info, opts, runs, kit_args, base_initrd,
               out_root, tmpdir):
    """The matrix on one kernel: OUT_ROOT/LABEL with runs.json,
    cases.json, provenance.json and console.log. Returns (that
    directory, the provenance, cases.json's list)."""
    label = label_of(spec)
    t_start = time.monotonic()
    conf = read_config(os.path.join(kdir, "config"))
    if opts.numa and conf and conf.get("CONFIG_NUMA") != "y":
        raise LabError("--numa: this kernel is built without CONFIG_NUMA "
                       "(the lab's own src: kernels are); give a Debian "
                       "kernel (bookworm, sid)")
    dest = os.path.join(out_root, label)
    work = start_work(dest, runs)
    if guest_mem(opts, kdir) != opts.mem:
        say("%s: its boot header keeps the initramfs under 2 GiB (no "
            "CONFIG_RELOCATABLE), where it would take the 1 GiB page's "
            "room: guest memory %s, not %s" %
            (label, guest_mem(opts, kdir), opts.mem))
    st = Boots(opts.accel)
    st.mem = guest_mem(opts, kdir)
    cases = boot_loop(st, label, kdir, info, opts, runs, kit_args,
                      base_initrd, work,
                      os.path.join(tmpdir, label + ".initrd"))
    guest = guest_facts(work)
    if not conf and os.path.exists(os.path.join(work, "config")):
        conf = read_config(os.path.join(work, "config"))
    all_cases = write_results(work, runs, cases)
    if opts.numa_nodes:
        guest["numa_check"] = numa.layout_check(opts.numa_nodes, guest)
        if guest["numa_check"]:
            say("%s: --numa %s: %s" % (label, opts.numa,
                                       guest["numa_check"]))
    prov = provenance(spec, info, conf, guest, st, opts, all_cases, t_start)
    with open(os.path.join(work, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=1)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(work, dest)
    return dest, prov, all_cases


CASE_START = re.compile(r"@@LAB CASE (\d+) (\d+) (\S+) START")
CASE_END = re.compile(r"@@LAB CASE (\d+) (\d+) (\S+) END rc=(\d+) "
                      r"pins=(-?\d+) pins_after=(-?\d+) secs=(\d+) ?(.*)")
CASE_OFF = re.compile(r"@@LAB CASE (\d+) (\d+) (\S+) UNAVAILABLE (.*)")
BLOB = re.compile(r"@@LAB BLOB ([0-9a-f]{64})")


class Follow:
    """What run_guest knows of the guest so far."""

    def __init__(self, label, opts, n):
        self.label, self.opts, self.n = label, opts, n
        self.cases = {}
        self.silent = opts.case_timeout + 60
        self.deadline = time.monotonic() + self.silent
        self.started = time.monotonic()
        self.current, self.last = None, ""
        self.first_index = None


def case_started(f, m):
    f.current = m.group(3)
    f.deadline = time.monotonic() + f.silent
    i = int(m.group(1))
    f.first_index = f.first_index or i
    elapsed = time.monotonic() - f.started
    done = i - f.first_index
    eta = elapsed / done * (f.n - i + 1) if done else None
    say("%s [%s/%s] %s ... (elapsed %s, eta %s)" %
        (f.label, m.group(1), m.group(2), m.group(3), fmt_secs(elapsed),
         fmt_secs(eta) if eta is not None else "?"))


def case_ended(f, m):
    name, rc = m.group(3), int(m.group(4))
    c = {"rc": rc, "pins": int(m.group(5)),
         "pins_after": int(m.group(6)), "secs": int(m.group(7))}
    if rc:
        c["why"] = ("timed out after %d s" % f.opts.case_timeout
                    if rc == 124 else
                    "fio exited %d: %s" % (rc, m.group(8).strip()))
    f.cases[name] = c
    f.current = None
    # A refusal the job expects is checked when the results are written.
    expected = rc and name in getattr(f.opts, "expected_refusals", ())
    say("%s [%s/%s] %s %s in %d s, guest pins %d%s" %
        (f.label, m.group(1), m.group(2), name,
         "ok" if not rc else "refused (expected)" if expected else
         "FAILED", c["secs"], c["pins"],
         "" if not rc else ": " + c["why"]))
    f.deadline = time.monotonic() + f.silent


def case_off(f, m):
    """A case the guest's kernel cannot have: not run, recorded with
    why."""
    name, why = m.group(3), m.group(4).strip()
    f.cases[name] = {"rc": None, "status": "unavailable", "why": why}
    f.deadline = time.monotonic() + f.silent
    say("%s [%s/%s] %s unavailable: %s" %
        (f.label, m.group(1), m.group(2), name, why))


def receive_blob(q, sha256, work):
    """The base64 tar the guest prints after @@LAB BLOB, checked against
    its SHA-256 and unpacked into WORK."""
    chunks = []
    while True:
        line = q.next_line(time.monotonic() + 120)
        if line is None or line == "" or "@@LAB BLOB END" in line:
            break
        if re.fullmatch(r"[A-Za-z0-9+/=]+", line.strip()):
            chunks.append(line.strip())
    data = base64.b64decode("".join(chunks))
    if hashlib.sha256(data).hexdigest() != sha256:
        raise LabError("results from the guest arrived damaged "
                       "(SHA-256 mismatch on the console)", "booted")
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        t.extractall(work)


def kernel_complaint(f, line):
    """A panic, BUG or oops on the console: said, and a panic ends the
    wait five seconds later."""
    if "Kernel panic" in line or "BUG:" in line or "Oops" in line:
        say("%s: the guest kernel says: %s" % (f.label, line.strip()))
        if "Kernel panic" in line:
            f.deadline = min(f.deadline, time.monotonic() + 5)
        if not f.last:
            f.last = line.strip()[:200]


def run_guest(q, label, opts, n, work):
    """Follow the guest through its cases, unpacking into WORK what it
    sends. Returns (cases, finished, the case it was in if it died, the
    console's last words)."""
    f = Follow(label, opts, n)
    while True:
        line = q.next_line(f.deadline)
        if line is None:
            return f.cases, False, f.current, f.last or "QEMU exited"
        if line == "":
            if time.monotonic() >= f.deadline:
                return f.cases, False, f.current, \
                    "the guest said nothing for %d s" % f.silent
            continue
        m = CASE_START.search(line)
        if m:
            case_started(f, m)
            continue
        m = CASE_END.search(line)
        if m:
            case_ended(f, m)
            continue
        m = CASE_OFF.search(line)
        if m:
            case_off(f, m)
            continue
        m = BLOB.search(line)
        if m:
            receive_blob(q, m.group(1), work)
            continue
        if "@@LAB DONE" in line:
            return f.cases, True, None, ""
        kernel_complaint(f, line)


_host_cpu = None


def host_cpu():
    global _host_cpu
    if _host_cpu is None:
        _host_cpu = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    _host_cpu = line.split(":", 1)[1].strip()
                    break
    return _host_cpu


def read_version():
    with open(os.path.join(TOP, "VERSION")) as f:
        return f.read().strip()


def git_describe():
    r = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    return r.stdout.strip()


def qemu_version(qemu):
    r = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout.splitlines()[0] if r.stdout else ""


def kit_args_list(opts):
    return opts.kit_args


# ---- set-up ------------------------------------------------------------

def ensure_tools(opts):
    """QEMU and a static busybox: when missing, scripts/deps.sh lab
    installs them with the rest of the lab's packages."""
    if shutil.which(opts.qemu) and busybox_path():
        return
    say("installing the lab's packages (scripts/deps.sh lab)")
    r = subprocess.run([os.path.join(TOP, "scripts", "deps.sh"), "lab"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode:
        tail = [ln for ln in r.stdout.splitlines()
                if ln.startswith(("E:", "uring_folioreg:"))]
        raise LabError("QEMU is not installable here: scripts/deps.sh lab "
                       "failed: %s" % (tail or r.stdout.splitlines()
                                       or ["?"])[-1])
    if not shutil.which(opts.qemu):
        raise LabError("QEMU is not installable here: scripts/deps.sh lab "
                       "succeeded but %s is still not there; give --qemu "
                       "the path of qemu-system-x86_64" % opts.qemu)
    if not busybox_path():
        raise LabError("scripts/deps.sh lab succeeded but there is no "
                       "static busybox in /bin or /usr/bin")


def split_kit_argv(argv):
    """Our arguments, and the comparison kit's after "--"."""
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1:]


def parser():
    p = argparse.ArgumentParser(
        description="Run a matrix of the comparison kit on other kernels "
        "under QEMU.", epilog="Options after -- go to compare.py run "
        "(--size, --runtime, --depth, ...).")
    p.add_argument("kernels", nargs="+", metavar="KERNEL")
    p.add_argument("--matrix", default="strategies")
    p.add_argument("--out", default="lab-results")
    p.add_argument("--engine", default=os.path.join(TOP, "uring_folioreg.so"))
    p.add_argument("--fio", default="fio", help="the fio copied into the "
                   "guest (the one the engine was built for)")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    p.add_argument("--mem", help="guest memory (default 3G)")
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--huge1g", type=int,
                   help="1 GiB hugetlb pages reserved at boot (default 1)")
    p.add_argument("--huge2m", type=int,
                   help="2 MiB hugetlb pages reserved at boot (default "
                   "200)")
    p.add_argument("--cpu-flags", action="append", default=[],
                   metavar="FLAGS", help="CPU features the guest lacks or "
                   "has, QEMU's -cpu syntax (-pdpe1gb: no 1 GiB pages); "
                   "repeat for more")
    p.add_argument("--append", action="append", default=[], metavar="ARGS",
                   help="more guest kernel command line "
                   "(transparent_hugepage=never); repeat for more")
    p.add_argument("--profile", action="append", default=[],
                   choices=sorted(PROFILES), help="a guest unlike the "
                   "default: " + "; ".join("%s, %s" % (k, v["why"]) for
                                           k, v in sorted(PROFILES.items()))
                   + " (repeat to combine)")
    p.add_argument("--numa", metavar="LAYOUT",
                   help="NUMA nodes: N (N nodes sharing --mem and --huge2m) "
                   "or MEM/HUGE2M,... per node, 0 for a node with a CPU "
                   "and no memory (1536M/100,1536M/40,0); needs a kernel "
                   "with CONFIG_NUMA (Debian's)")
    p.add_argument("--boot-timeout", type=int, default=180,
                   help="seconds for a TCG boot to reach /init")
    p.add_argument("--kvm-timeout", type=int, default=30,
                   help="seconds for a KVM boot before falling back to TCG")
    p.add_argument("--case-timeout", type=int, default=900)
    p.add_argument("--cases", metavar="REGEX", help="only the cases whose "
                   "name (the job file's section) the regular expression "
                   "matches whole")
    p.add_argument("--max-boots", type=int, default=3,
                   help="boots per kernel when the guest dies mid-matrix")
    p.add_argument("--cache", default=os.path.join(TOP, "build", "lab"))
    p.add_argument("--patch", action="append", default=[],
                   help="a patch for the src:SUITE / src:DIR kernels "
                   "(scripts/lab/kernel-build.sh); repeat for more")
    p.add_argument("--icount", type=int, metavar="SHIFT",
                   help="TCG with -icount shift=SHIFT: the guest's clock "
                   "counts instructions (2^SHIFT ns each)")
    return p


def parse_options(argv):
    """The lab's options and the kit's arguments (a RAM block device for
    --file unless given)."""
    argv, kit = split_kit_argv(argv)
    opts = parser().parse_args(argv)
    if opts.numa and opts.huge1g is None:
        # No case of a NUMA guest asks for one; it would take most of a
        # node.
        opts.huge1g = 0
    apply_profile(opts)
    opts.numa_nodes = None
    if opts.numa:
        try:
            opts.numa_nodes = numa.layout(opts.numa, opts.mem, opts.huge2m,
                                          opts.smp)
        except numa.NumaError as e:
            say(str(e))
            sys.exit(2)
        opts.huge2m = sum(n["huge2m"] for n in opts.numa_nodes)
        # The layout's memory is the guest's, whatever the kernel.
        opts.mem = "%dM" % sum(n["mem_mb"] for n in opts.numa_nodes)
        opts.mem_given = True
    opts.kit_args = kit
    if not any(a == "--file" or a.startswith("--file=") for a in kit):
        # A RAM block device (brd): O_DIRECT works on it on every kernel,
        # unlike tmpfs before 6.6.
        kit = ["--file", "/dev/ram0"] + kit
    os.makedirs(opts.cache, exist_ok=True)
    opts.cache = os.path.abspath(opts.cache)
    return opts, kit


def catch_signals():
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt."""
    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt
    # SIGINT too: a shell's background job starts with it ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)


def fetch_kernels(opts):
    """Every kernel first: bad input stops the lab before anything runs.
    Returns [(spec, kernel directory, info)]; raises LabError "printed"
    when one could not be had (each said why)."""
    kernels, bad = [], False
    for spec in opts.kernels:
        try:
            kernels.append((spec,) + kernel_dir(
                spec, opts.cache, [os.path.abspath(p)
                                   for p in opts.patch]))
        except LabError as e:
            if e.args[1:] != ("printed",):
                say(str(e))
            bad = True
    if bad:
        raise LabError("a kernel could not be had", "printed")
    return kernels


def kernel_failed(out, spec, e):
    """Say why the lab failed on SPEC; its console log kept when it
    booted, its partial results removed."""
    say("%s: %s" % (label_of(spec), e))
    partial = os.path.join(out, label_of(spec) + ".partial")
    if e.args[1:] == ("booted",):
        # It booted: what the console said is worth keeping.
        os.replace(os.path.join(partial, "console.log"),
                   os.path.join(out, label_of(spec) + ".console.log"))
        say("%s: its console is in %s.console.log" %
            (label_of(spec), os.path.join(out, label_of(spec))))
    shutil.rmtree(partial, ignore_errors=True)


def lab_kernel(spec, kdir, info, opts, runs, kit_args, base, tmpdir):
    """The matrix on one kernel, said in one line. Returns (its results
    directory or None, whether every case passed)."""
    t0 = time.monotonic()
    try:
        dest, prov, cases = run_kernel(spec, kdir, info, opts, runs,
                                       kit_args, base, opts.out, tmpdir)
    except LabError as e:
        kernel_failed(opts.out, spec, e)
        return None, False
    bad = [c for c in cases if c["status"] == "failed"]
    off = sum(c["status"] == "unavailable" for c in cases)
    say("%s: %d of %d cases ok%s in %s under %s (%s); results in %s" %
        (label_of(spec), len(cases) - len(bad) - off, len(cases),
         ", %d unavailable on this kernel" % off if off else "",
         fmt_secs(time.monotonic() - t0), prov["accel"].upper(),
         prov["kernel"]["release"], dest))
    return dest, not bad


class Session:
    """What main removes at the end: the temporary directory, and OUT
    when the lab made it and left it empty."""
    tmpdir = None
    made_out = False


def run_lab(opts, kit, s):
    """Every kernel in turn; returns (the results directories, the
    kernels that failed)."""
    runs, kit_args = plan(opts.matrix, kit)
    runs = pick_cases(runs, opts.cases)
    opts.expected_refusals = {r[0] for r in runs
                              if numa.expected_refusal(r[2])}
    _PATCHES[:] = opts.patch
    opts.brd_kb = 0
    if kit_args.file.startswith("/dev/ram"):
        opts.brd_kb = (kit_cases.size_bytes(kit_args.size) >> 10) + 1024
    if not os.path.exists(opts.engine):
        raise LabError("%s not found; build it first: make" % opts.engine)
    ensure_tools(opts)
    kernels = fetch_kernels(opts)
    s.tmpdir = tempfile.mkdtemp(prefix="lab.", dir=opts.cache)
    base = base_initramfs(opts.cache, opts.fio,
                          os.path.abspath(opts.engine))
    s.made_out = not os.path.isdir(opts.out)
    say("matrix %s: %d cases on %d kernel(s): %s; results in %s" %
        (opts.matrix, len(runs), len(opts.kernels),
         " ".join(opts.kernels), opts.out))
    done, failed = [], []
    for spec, kdir, info in kernels:
        dest, ok = lab_kernel(spec, kdir, info, opts, runs, kit_args, base,
                              s.tmpdir)
        if dest:
            done.append(dest)
        if not ok:
            failed.append(spec)
    return done, failed


def main():
    opts, kit = parse_options(sys.argv[1:])
    catch_signals()
    s = Session()
    try:
        done, failed = run_lab(opts, kit, s)
    except LabError as e:
        if e.args[1:] != ("printed",):
            say(str(e))
        return 1
    except KeyboardInterrupt:
        say("interrupted; QEMU stopped and temporary files removed")
        for spec in opts.kernels:
            shutil.rmtree(os.path.join(opts.out, label_of(spec) + ".partial"),
                          ignore_errors=True)
        return 130
    finally:
        if s.tmpdir:
            shutil.rmtree(s.tmpdir, ignore_errors=True)
        if s.made_out and os.path.isdir(opts.out) and \
                not os.listdir(opts.out):
            os.rmdir(opts.out)
    if len(done) > 1:
        say("compare them: examples/compare.py diff %s" % " ".join(done[:2]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
