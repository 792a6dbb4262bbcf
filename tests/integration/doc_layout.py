#!/usr/bin/env python3
"""The Layout section of docs/tests.md matches the tree, and its Tests
section names every test; the relative links of README.md and docs/
reach their files and headings.

Every backticked path in the section exists (a tracked file, a directory
holding one, or a glob matching one), and every top-level entry and every
file of the directories in COMPLETE is named there by its own name (a
glob such as `engine/*.c` names none of those). A path with a "/" is
read from the top of the tree, else (or when it is not there) under the
last directory the same bullet named ("`scripts/lab/`: ... (`lab.py`");
a bare name is a path when it has an extension or is a top-level entry.

Prints PASS/FAIL/SKIP lines like the other integration tests.
"""

import fnmatch
import os
import re
import subprocess
import sys

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.environ.get("LAYOUT_DOC", os.path.join(TOP, "docs", "tests.md"))
COMPLETE = ("engine/", "include/", "scripts/", "docs/")


def tree_files():
    """Tracked files and new ones git does not ignore, or None outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", TOP, "ls-files", "--cached", "--others",
             "--exclude-standard"], check=True, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {f for f in out.split("\n")
            if f and os.path.lexists(os.path.join(TOP, f))}


def layout_bullets(path):
    """The section's paragraphs and list items, whitespace joined."""
    text = open(path).read()
    m = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        return None
    items, cur = [], []
    for line in m.group(1).split("\n"):
        if line.startswith("- ") or not line.strip():
            if cur:
                items.append(" ".join(cur))
            cur = [line[2:]] if line.startswith("- ") else []
        else:
            cur.append(line.strip())
    if cur:
        items.append(" ".join(cur))
    return items


def main():
    files = tree_files()
    if files is None:
        print("SKIP: doc-layout: not a git tree, so which files are the "
              "tree's is unknown")
        return
    dirs = {f[:i + 1] for f in files for i, c in enumerate(f) if c == "/"}
    top = {f.split("/")[0] + ("/" if "/" in f else "") for f in files}
    bullets = layout_bullets(DOC)
    if bullets is None:
        print(f"FAIL: doc-layout: no '## Layout' section in {DOC}")
        return

    def exists(p):
        if any(c in p for c in "*?["):
            return [f for f in files if fnmatch.fnmatch(f, p)]
        if p in files or p in dirs:
            return [p]
        return []

    named, missing = set(), []
    for item in bullets:
        ctx = ""
        for tok in re.findall(r"`([^`\s]+)`", item):
            is_path = ("/" in tok or tok in top or tok.rstrip("/") + "/" in top
                       or re.match(r"^[\w.-]*\.[A-Za-z][\w-]*$", tok))
            if not is_path:
                continue
            hits = exists(tok)
            if not hits and ctx and not tok.startswith(ctx):
                hits = exists(ctx + tok)
            if not hits:
                missing.append(tok)
                continue
            if any(c in tok for c in "*?["):
                # A glob says what a kind of file is for; in the
                # directories named file by file it names none of them.
                hits = [h for h in hits if not h.startswith(COMPLETE)]
            named.update(hits)
            if tok.endswith("/") and hits and tok in dirs | {ctx + tok}:
                ctx = hits[0]
    if missing:
        print("FAIL: doc-layout-exists: the Layout names what the tree does "
              f"not have: {', '.join(missing)}")
    else:
        print("PASS: doc-layout-exists")

    required = sorted(top | {f for f in files if f.startswith(COMPLETE)})
    unnamed = [r for r in required
               if r not in named
               and not (r.endswith("/") and any(n.startswith(r) for n in named))]
    if unnamed:
        print("FAIL: doc-layout-complete: the Layout does not name "
              f"{', '.join(unnamed)} (say in docs/tests.md what each is for)")
    else:
        print(f"PASS: doc-layout-complete ({len(required)} entries named)")

    # The Tests section says what each test checks.
    listed = set(re.findall(r"`([\w-]+)`", open(DOC).read()))
    tests = sorted(os.path.basename(f)[:-len(ext)] for f in files
                   for d, ext in (("tests/integration/", ".sh"),
                                  ("tests/unit/test_", ".c"))
                   if f.startswith(d) and f.endswith(ext) and "/" not in f[len(d):])
    unlisted = [n for n in tests if n not in listed]
    if unlisted:
        print(f"FAIL: doc-tests-listed: {DOC} does not say what "
              f"{', '.join(unlisted)} checks")
    else:
        print(f"PASS: doc-tests-listed ({len(tests)} tests)")
    check_links()


def slug(heading):
    """The anchor GitHub gives a Markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def check_links():
    """Every relative link of README.md and docs/*.md reaches a file of the
    tree, and its #anchor a heading of that file."""
    docs = ["README.md"] + sorted(
        "docs/" + n for n in os.listdir(os.path.join(TOP, "docs"))
        if n.endswith(".md"))
    bad = []
    for doc in docs:
        text = open(os.path.join(TOP, doc)).read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(TOP, os.path.dirname(doc),
                                                 path)) if path else \
                os.path.join(TOP, doc)
            if not os.path.exists(full):
                bad.append(f"{doc}: {target} (no such file)")
            elif anchor and full.endswith(".md"):
                heads = {slug(h) for h in re.findall(
                    r"^#+ (.*)$", open(full).read(), re.M)}
                if anchor not in heads:
                    bad.append(f"{doc}: {target} (no such heading)")
    if bad:
        print(f"FAIL: doc-links: {'; '.join(bad)}")
    else:
        print(f"PASS: doc-links ({len(docs)} documents)")


if __name__ == "__main__":
    sys.exit(main())
