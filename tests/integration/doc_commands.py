#!/usr/bin/env python3
"""Every command README.md, docs/*.md and the man page show is run by a test.

The commands are read from the documents themselves: the indented code
lines of README.md and of every Markdown file in docs/ that start with a
command, and the man page's EXAMPLES and SYNOPSIS blocks. Each one must match a rule below, else the test fails
(a new command in the documents needs a rule, that is, a test):

  run    this test runs it: a job file, README's first job, a jq pipeline, the man page's
         example loops verbatim (the engine's path and scratch files
         substituted), make demo
  dry    make -n with the documented variables must expand to the tool
         that another test runs (make lab, make lab-ab)
  test   another test runs it: its script must contain the given text,
         so the rule cannot point at a test that does not run it
  skip   too long for make check (make lab-ab builds two kernels): a SKIP
         line with the reason, never a pass

Prints PASS/FAIL/SKIP lines like the other integration tests.
"""

import json
import os
import re
import subprocess
import sys

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENGINE = os.environ.get("ENGINE", os.path.join(TOP, "uring_folioreg.so"))
SCRATCH = os.environ.get("SCRATCH", os.path.join(TOP, "build", "scratch"))
TIMEOUT = int(os.environ.get("FIO_TIMEOUT", "180"))
HP = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

STARTS = ("fio", "make", "examples/", "scripts/", "apt-get",
          "dpkg-buildpackage", "rpmbuild", "rpmlint", "cd ", "OTHER_FIO_SRC=")


class Skip(str):
    """A command no test can run here, and why."""


def verdict(name, why):
    if why is None:
        print(f"PASS: {name}")
    elif isinstance(why, Skip):
        print(f"SKIP: {name}: {why}")
    else:
        print(f"FAIL: {name}: {why}")


def markdown_files():
    """README.md, then every Markdown file in docs/, as (name, path)."""
    docs = os.path.join(TOP, "docs")
    names = sorted(n for n in os.listdir(docs) if n.endswith(".md"))
    return [("README.md", os.path.join(TOP, "README.md"))] + [
        (f"docs/{n}", os.path.join(docs, n)) for n in names]


def readme_commands(path):
    """(line, command) for each indented code line that starts with a
    command; continuation lines joined, trailing comments dropped."""
    out, cur, start = [], None, 0
    for i, line in enumerate(open(path).read().split("\n"), 1):
        if cur is not None:
            cur += " " + line.strip()
        else:
            m = re.match(r"^    (\S.*)$", line)
            if not m or not m.group(1).startswith(STARTS):
                continue
            cur, start = m.group(1), i
        if cur.rstrip().endswith("\\"):
            cur = cur.rstrip()[:-1]
            continue
        cmd = re.sub(r"\s+#\s.*$", "", cur)
        out.append((start, re.sub(r"\s+", " ", cmd).strip()))
        cur = None
    return out


def man_blocks(path, section):
    """The .nf ... .fi blocks of one .SH section, as plain text."""
    blocks, cur, inside = [], None, False
    for line in open(path).read().split("\n"):
        if line.startswith(".SH "):
            inside = line[4:].strip() == section
        elif inside and line.startswith(".nf"):
            cur = []
        elif inside and line.startswith(".fi") and cur is not None:
            blocks.append("\n".join(cur) + "\n")
            cur = None
        elif cur is not None and not line.startswith(".ft"):
            cur.append(line.replace("\\-", "-").replace("\\e", "\\"))
    return blocks


def sh(cmd, cwd=TOP, timeout=TIMEOUT, env=None):
    e = dict(os.environ, **(env or {}))
    try:
        p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd,
                           env=e, timeout=timeout, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as ex:
        return 124, (ex.stdout or "") if isinstance(ex.stdout, str) else ""


def tail(text, n=300):
    return " ".join(text.split())[-n:]


# --- the commands this test runs ---------------------------------------

def run_job_file(cmd):
    job = os.path.join(SCRATCH, "doc-job.fio")
    with open(job, "w") as f:
        f.write("[doc]\nfilename=/dev/zero\nsize=16m\nbs=64k\nrw=read\n"
                "reg_strategy=per_page\n")
    cmd = cmd.replace("./uring_folioreg.so", ENGINE)
    rc, out = sh(cmd.replace("job.fio", job))
    if rc:
        return f"exited {rc}: {tail(out)}"
    if not re.search(r"uring_folioreg \d+\.\d+\.\d+: strategy=per_page", out):
        return "no uring_folioreg block in the output"
    return None


def run_jq(cmd):
    job = (f"--ioengine=external:{ENGINE} --name=doc --filename=/dev/zero"
           " --size=16m --bs=64k --rw=read --reg_strategy=per_page")
    rc, out = sh(cmd.replace("...", job))
    if rc:
        return f"exited {rc}: {tail(out)}"
    if out.strip() != "16":
        return f"printed {tail(out)!r}, not the 16 bvecs of one 64 KiB buffer on 4 KiB pages"
    return None


def run_demo(cmd):
    out_dir = os.path.join(SCRATCH, "doc-demo")
    rc, out = sh(cmd, timeout=1200,
                 env={"DEMO_OUT": out_dir,
                      "DEMO_FILE": os.path.join(SCRATCH, "doc-demo.dat")})
    if rc:
        return f"exited {rc}: {tail(out)}"
    if "hugetlb_fast" not in out or ".png" not in out:
        return f"no table or plots: {tail(out)}"
    return None


def unmount(path):
    """Undo a hugetlbfs mount a documented command made, if it is there."""
    sh(f"! mountpoint -q {path} || umount {path}; rmdir {path} 2>/dev/null; true")


def run_man_example(block):
    huge = os.path.join(SCRATCH, "doc-ufr-huge")
    script = (block.replace("/usr/lib/x86_64-linux-gnu/fio/uring_folioreg.so",
                            ENGINE)
              .replace("/tmp/ufr.dat", os.path.join(SCRATCH, "doc-ufr.dat"))
              .replace("/tmp/each.json", os.path.join(SCRATCH, "doc-each.json"))
              .replace("/tmp/ufr-huge", huge))
    try:
        rc, out = sh("set -e\n" + script, cwd=SCRATCH)
    finally:
        unmount(huge)
    if rc:
        return f"exited {rc}: {tail(out)}"
    for seg in re.findall(r"\{[^{}]*\"bvecs\"[^{}]*\{[^{}]*\}[^{}]*\}", out):
        s = json.loads(seg)
        if s["bvecs_observed"] != s["bvecs"]:
            return f"bvecs_observed {s['bvecs_observed']} != bvecs {s['bvecs']}"
    if "doc-each.json" in script:
        try:
            json.load(open(os.path.join(SCRATCH, "doc-each.json")))
        except (OSError, ValueError) as e:
            return f"reg_stats file: {e}"
    return None


def run_synopsis(block):
    job = os.path.join(SCRATCH, "doc-synopsis.fio")
    with open(job, "w") as f:
        f.write(block.replace("/usr/lib/x86_64-linux-gnu/fio/uring_folioreg.so",
                              ENGINE))
    rc, out = sh(f"echo 8 > {HP} && fio --filename=/dev/zero --size=16m "
                 f"--bs=1m --rw=read --output-format=json {job}")
    if rc:
        return f"exited {rc}: {tail(out)}"
    doc = json.loads(out[out.index("{"):])
    u = doc["jobs"][0]["uring_folioreg"]
    if u["strategy"] != "hugetlb_fast":
        return f"strategy {u['strategy']}"
    return None


def run_first(cmd):
    """README's first job: coalesced on THP, 32 x 1 MiB in 16 folios of
    2 MiB, as the output README shows."""
    rc, out = sh(cmd.replace("./uring_folioreg.so", ENGINE), cwd=SCRATCH)
    if rc:
        if "transparent_hugepage" in out and "uring_folioreg:" in out:
            return Skip(f"THP serves no 2 MiB folios here: {tail(out, 200)}")
        return f"exited {rc}: {tail(out)}"
    if "asked for 2048 KiB folios, got" in out:
        return Skip(f"the kernel gave smaller folios than asked: {tail(out, 200)}")
    m = re.search(r"bvecs=(\d+) \(from pagemap\), bvecs_observed=(\d+)", out)
    if not m or m.group(1) != "16" or m.group(2) != "16":
        return f"want bvecs=16 (from pagemap), bvecs_observed=16: {tail(out)}"
    if "strategy=coalesced, folio=2048KiB" not in out:
        return f"no coalesced block on 2048 KiB folios: {tail(out)}"
    return None


def run_backing(cmd):
    """The reg_backing commands of docs/options.md, the hugetlbfs one on a
    mount of the test's own (the document mounts /mnt/huge and reserves
    the pages first)."""
    huge = os.path.join(SCRATCH, "doc-hugetlbfs")
    cmd = cmd.replace("./uring_folioreg.so", ENGINE)
    try:
        if "/mnt/huge" in cmd:
            rc, out = sh(f"mkdir -p {huge} && mount -t hugetlbfs -o pagesize=2M "
                         f"none {huge} && echo $(( $(cat {HP}) + 16 )) > {HP}")
            if rc:
                return f"mounting a 2 MiB hugetlbfs failed: {tail(out)}"
            cmd = cmd.replace("/mnt/huge", huge)
        rc, out = sh(cmd, cwd=SCRATCH)
    finally:
        unmount(huge)
    if rc:
        return f"exited {rc}: {tail(out)}"
    m = re.search(r"bvecs=(\d+) \(from pagemap\), bvecs_observed=(\d+)", out)
    want = "8192" if "per_page" in cmd else "32"
    if not m or m.group(1) != want or m.group(2) != want:
        return f"want bvecs={want} (from pagemap), bvecs_observed={want}: {tail(out)}"
    return None


# --- make targets checked by expansion, run for real elsewhere ---------

def dry_make(needle):
    def check(cmd):
        rc, out = sh(cmd.replace("make ", "make -n ", 1))
        out = re.sub(r"\s+", " ", out.replace("\\\n", " "))
        if rc:
            return f"make -n failed: {tail(out)}"
        if not re.search(needle, out):
            return f"make -n does not run {needle}: {tail(out)}"
        return None
    return check


def in_test(script, text):
    def check(_cmd):
        path = os.path.join(TOP, script)
        try:
            body = open(path).read()
        except OSError as e:
            return f"{script}: {e}"
        if text not in body:
            return f"{script} does not run it (no {text!r} in it)"
        return None
    return check


def packaging(text):
    return in_test("tests/integration/packaging.sh", text)


def kit(text):
    return in_test("tests/integration/compare_kit.sh", text)


def all_of(*checks):
    def check(cmd):
        return next((w for w in (c(cmd) for c in checks) if w is not None),
                    None)
    return check


def never_here(why):
    return lambda _cmd: Skip(why)


RULES = [
    (r"^fio --ioengine=external:\./uring_folioreg\.so job\.fio$", run_job_file),
    (r"^fio --ioengine=external:\./uring_folioreg\.so --name=first ", run_first),
    (r"^fio --output-format=json \.\.\. \| jq ", run_jq),
    (r"^fio --ioengine=external:\./uring_folioreg\.so --name=(memfd|hugetlbfs) ", run_backing),
    (r"^make demo$", run_demo),
    (r"^make check$", in_test(".ci/run", "exec make check")),
    (r"^examples/compare\.py run ", kit('"$KIT" run')),
    (r"^examples/compare\.py table ", kit('"$KIT" table')),
    (r"^examples/compare\.py plot ", kit('"$KIT" plot')),
    (r"^examples/compare\.py diff ", kit('"$KIT" diff')),
    (r"^make lab .*--numa ", all_of(dry_make(r"scripts/lab/lab\.py .*--numa 1536M/100,1536M/40,0 --smp 3 bookworm sid"),
                                    in_test("tests/integration/lab_numa.sh", '--numa "$LAYOUT"'))),
    (r"^scripts/lab/numa\.py table ", in_test("tests/integration/lab_numa.sh", 'numa.py" table')),
    (r"^make lab .*--profile ", all_of(dry_make(r"scripts/lab/lab\.py .*--profile no1g bookworm"),
                                       in_test("tests/integration/lab.sh", '--profile "$prof"'))),
    (r"^make lab ", all_of(dry_make(r"scripts/lab/lab\.py .*bookworm sid"),
                           in_test("tests/integration/lab.sh", "LAB=$TOP/scripts/lab/lab.py"))),
    (r"^make lab-ab ", all_of(dry_make(r"scripts/lab/ab\.py "),
                              never_here("make lab-ab builds kernels from source, "
                                         "about an hour on two cores: run by hand "
                                         "(its statistics and table: lab_ab)"))),
    (r"^scripts/lab/ab\.py table ", in_test("tests/integration/lab_ab.sh", 'ab.py" table')),
    (r"^scripts/lab/ab\.py plot ", in_test("tests/integration/lab_ab.sh", 'ab.py" plot')),
    (r"^make install$", packaging("make -s install")),
    (r"^make uninstall$", packaging("make -s uninstall")),
    (r"^make deb-orig$", packaging("make -s deb-orig")),
    (r"^apt-get build-dep \./$", packaging("apt-get -s build-dep ./")),
    (r"^dpkg-buildpackage -us -uc$", packaging("dpkg-buildpackage -us -uc")),
    (r"^apt-get install \.\./fio-engine-uring-folioreg_", packaging("apt-get -s install")),
    (r"^make dist dist-fio ", packaging("dist-fio")),
    (r"^rpmbuild -ba ", packaging("rpmbuild -ba")),
    (r"^rpmlint -r packaging/uring_folioreg\.rpmlintrc ", packaging("rpmlint -r")),
    (r"^cd /tmp/fio-3\.42 && \./configure --disable-native && make", in_test("scripts/fio-configure.sh", "--disable-native")),
    (r"^OTHER_FIO_SRC=\S+ OTHER_FIO_BIN=\S+ TESTS=(packaging|output_other_fio) tests/run\.sh$",
     lambda cmd: all_of(in_test("tests/lib.sh", '"${OTHER_FIO_SRC:-}"'),
                        in_test(f"tests/integration/{cmd.split('TESTS=')[1].split()[0]}.sh",
                                "\nother_fio\n"))(cmd)),
]


def main():
    os.makedirs(SCRATCH, exist_ok=True)
    if os.geteuid() != 0:
        print("SKIP: doc-commands: needs root (hugetlb pages, the demo)")
        return
    saved = open(HP).read().strip()
    try:
        for doc, path in markdown_files():
            for line, cmd in readme_commands(path):
                name = f"{doc}:{line}: {cmd[:60]}"
                rule = next((f for r, f in RULES if re.search(r, cmd)), None)
                verdict(name, "no test runs this command: give it a rule in "
                        "tests/integration/doc_commands.py" if rule is None
                        else rule(cmd))
        man = os.path.join(TOP, "man", "uring_folioreg.7")
        # The examples read as one shell session: a variable set in one
        # (E=...) holds in the next.
        env = ""
        for i, block in enumerate(man_blocks(man, "EXAMPLES"), 1):
            verdict(f"man EXAMPLES {i}: {block.split(chr(10))[0][:50]}",
                    run_man_example(env + block))
            env += "".join(re.findall(r"^[A-Z]\w*=.*\n", block, re.M))
            with open(HP, "w") as f:
                f.write(saved)
        blocks = man_blocks(man, "SYNOPSIS")
        verdict("man SYNOPSIS job", run_synopsis(blocks[0]) if blocks
                else "no job file under SYNOPSIS")
    finally:
        with open(HP, "w") as f:
            f.write(saved)


if __name__ == "__main__":
    sys.exit(main())
