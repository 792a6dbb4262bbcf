"""diff's reading of two result sets' workloads, and its refusal."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

from comparekit import KitError
from comparekit.diff import diff, workload_differences
from comparekit.model import Row


def result_set(d, size, cases=("a", "b")):
    (d / "jobs").mkdir(parents=True)
    runs = []
    for c in cases:
        (d / "jobs" / ("m-%s.fio" % c)).write_text(
            "[global]\nioengine=external:/x/%s.so\nsize=%s\n[%s]\n" %
            (d.name, size, c))
        runs.append({"matrix": "m", "case": c, "rep": 1, "env": {},
                     "status": "failed", "why": "fio exit 1", "rc": 1})
    (d / "runs.json").write_text(json.dumps({"runs": runs}))


class DiffTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.top = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_differences_named_engine_path_left_out(self):
        a, b = self.top / "A", self.top / "B"
        result_set(a, "64m")
        result_set(b, "32m")
        rows = {("m", c): Row("m", c, {}) for c in ("a", "b")}
        self.assertEqual(
            workload_differences(a, b, rows, rows, list(rows)),
            ["size: 64m (A) against 32m (B), in m-a, m-b"])

    def test_unlike_workloads_refused_unless_allowed(self):
        a, b = self.top / "A", self.top / "B"
        result_set(a, "64m")
        result_set(b, "32m", cases=("a",))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(io.StringIO()):
            with self.assertRaises(KitError):
                diff(a, b)
            diff(a, b, allow_mismatch=True)
        text = out.getvalue()
        self.assertIn("only in A (%s): m-b" % a, text)
        self.assertIn("| m-a | runs failed in B | 1 of 1 |", text)

    def test_nothing_in_common(self):
        a, b = self.top / "A", self.top / "B"
        result_set(a, "64m", cases=("a",))
        result_set(b, "64m", cases=("b",))
        with contextlib.redirect_stdout(io.StringIO()), \
                self.assertRaises(KitError):
            diff(a, b)
