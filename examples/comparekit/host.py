"""What the spectrum changes on this machine for its runs: the THP
switches and the hugetlbfs mounts, each put back."""

import glob
import os
import re
import signal
import subprocess
import tempfile

from . import warn
from .cases import MTHP_FOLIOS, size_bytes
from .probe import SHMEM_PMD, SHMEM_TOP, THP_DIR, bracketed, by_size, read


def switch_file(name):
    """The sysfs file of a THP switch the kit sets: a size ('64kB') names
    that size's enabled, anything else a file of THP_DIR."""
    if re.fullmatch(r"\d+kB", name):
        return "%s/hugepages-%s/enabled" % (THP_DIR, name)
    return "%s/%s" % (THP_DIR, name)


def switches_wanted(env):
    """The THP switches the case of ENV needs: for a multi-size THP folio
    its size on (madvise) and every larger one off, as a fault takes the
    largest enabled size that fits; for thp the PMD size on, in a memfd
    shmem's switches (the top level advise, the PMD size's own, where
    there is one, inherit); nothing for the others."""
    folio = env.get("UFR_FOLIO")
    if folio == "thp" and env.get("UFR_BACKING") == "memfd":
        want = {SHMEM_TOP: "advise"}
        if os.path.exists(switch_file(SHMEM_PMD)):
            want[SHMEM_PMD] = "inherit"
        return want
    if folio == "thp":
        return {"2048kB": "madvise"}
    if folio not in MTHP_FOLIOS:
        return {}
    kb = size_bytes(folio) >> 10
    want = {"%dkB" % kb: "madvise"}
    for d in glob.glob(THP_DIR + "/hugepages-*kB"):
        size = d.rsplit("-", 1)[1]
        if int(size[:-2]) > kb:
            want[size] = "never"
    return by_size(want)


class Host:
    """What the spectrum changes on this machine for its runs, each put
    back on exit, failure or a signal: the THP switches, multi-size THP's
    and shmem's (set before each run to what it needs, the rest as found)
    and a hugetlbfs
    mounted in a temporary directory per page size. With --client the
    server is not this machine: nothing is changed."""

    def __init__(self, args, cases):
        self.local = not args.client
        self.found, self.mounts, self.said = {}, {}, set()
        self.unmounted = {}
        self.folios = sorted({c.env["UFR_FOLIO"] for c in cases
                              if "UFR_HUGETLBFS" in c.env})
        self.needs = any(switches_wanted(c.env) for c in cases)
        self.signals = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self.signals[sig] = signal.signal(sig, self.on_signal)
        if self.local and self.needs:
            names = [d.rsplit("-", 1)[1] for d in
                     glob.glob(THP_DIR + "/hugepages-*kB")]
            for name in names + [SHMEM_TOP, SHMEM_PMD]:
                if os.path.exists(switch_file(name)):
                    self.found[name] = bracketed(read(switch_file(name)))
        for folio in self.folios if self.local else ():
            d = tempfile.mkdtemp(prefix="ufr-hugetlbfs-%s-" % folio)
            self.mounts[folio] = d
            p = subprocess.run(["mount", "-t", "hugetlbfs", "-o",
                                "pagesize=" + folio.upper(), "none", d],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if p.returncode:
                self.unmounted[folio] = \
                    "the kit could not mount a %s hugetlbfs (mount -t " \
                    "hugetlbfs -o pagesize=%s none %s: %s)" % (
                        folio, folio.upper(), d,
                        " ".join(p.stdout.split()) or "exit %d" %
                        p.returncode)
                warn("%s: its cases are recorded as failed, not run" %
                     self.unmounted[folio])
                os.rmdir(d)
                del self.mounts[folio]
        return self

    def on_signal(self, signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    def path(self, env):
        """ENV with the hugetlbfs directory of its page size."""
        if "UFR_HUGETLBFS" not in env or env["UFR_FOLIO"] not in self.mounts:
            return env
        return dict(env, UFR_HUGETLBFS=self.mounts[env["UFR_FOLIO"]])

    def not_set_up(self, env):
        """Why the case of ENV cannot run as the kit failed to set up
        what it needs (its hugetlbfs), or None."""
        if "UFR_HUGETLBFS" not in env:
            return None
        return self.unmounted.get(env["UFR_FOLIO"])

    def write(self, name, mode):
        f = switch_file(name)
        try:
            if bracketed(read(f, "?")) != mode:
                with open(f, "w") as fh:
                    fh.write(mode)
            return None
        except OSError as e:
            if str(e) not in self.said:
                self.said.add(str(e))
                warn("cannot set %s to %s (%s): the engine will refuse "
                     "the cases that need it" % (f, mode, e.strerror))
            return e.strerror

    def apply(self, env):
        """Before a run: the switches as found, then what the case of ENV
        needs; returns what was set (or why not)."""
        want = switches_wanted(env)
        if want and not self.local:
            return {"not set": "--client: the server's own settings"}
        for name, mode in self.found.items():
            if name not in want:
                self.write(name, mode)
        done = {}
        for name, mode in want.items():
            why = self.write(name, mode)
            done[name] = "%s not set (%s)" % (mode, why) if why else mode
        return done

    def restore(self):
        """The switches as found; returns whether every one is."""
        for name, mode in self.found.items():
            self.write(name, mode)
        return all(bracketed(read(switch_file(name), "?")) == mode
                   for name, mode in self.found.items())

    def __exit__(self, *exc):
        self.restore()
        for d in self.mounts.values():
            if subprocess.run(["mountpoint", "-q", d]).returncode == 0:
                subprocess.run(["umount", d])
            try:
                os.rmdir(d)
            except OSError as e:
                warn("cannot remove %s: %s" % (d, e))
        for sig, handler in self.signals.items():
            signal.signal(sig, handler)
        return False
