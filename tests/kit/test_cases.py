"""Cases: a job of an example file, a job file as a matrix."""

import argparse
import tempfile
import unittest
from pathlib import Path

from comparekit import KitError
from comparekit.cases import (Case, matrix_cases, parse_job, single_job,
                              size_bytes)

ARGS = dict(file="/tmp/f", size="64m", depth=8, runtime="1", numjobs=2,
            reps=1)


class CasesTest(unittest.TestCase):
    def test_size_bytes(self):
        self.assertEqual(size_bytes("64k"), 64 << 10)
        self.assertEqual(size_bytes("1G"), 1 << 30)
        with self.assertRaises(KitError):
            size_bytes("lots")

    def test_single_job_one_section_with_globals(self):
        text = single_job("compare.fio", "none", {
            "UFR_ENGINE": "e.so", "UFR_FILE": "/tmp/f", "UFR_SIZE": "1m",
            "UFR_DEPTH": "4", "UFR_RUNTIME": "1"})
        self.assertEqual([ln for ln in text.splitlines()
                          if ln.startswith("[")], ["[global]", "[none]"])
        opts = parse_job(text)
        self.assertEqual((opts["ioengine"], opts["reg_strategy"],
                          opts["reg_mode"]),
                         ("external:e.so", "none", "batch"))

    def test_missing_variable_or_section(self):
        with self.assertRaises(KitError):
            single_job("compare.fio", "none", {})
        with self.assertRaises(KitError):
            single_job("compare.fio", "nonesuch", {})

    def test_job_file_as_matrix(self):
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "mine.fio"
            f.write_text("[global]\nsize=${UFR_SIZE}\n[a]\nrw=read\n"
                         "[b]\nrw=write\n")
            cases = matrix_cases(argparse.Namespace(matrix=str(f), **ARGS))
            self.assertEqual([(c.matrix, c.case, c.section) for c in cases],
                             [("mine", "a", "a"), ("mine", "b", "b")])
            self.assertIsInstance(cases[0], Case)
            self.assertEqual(cases[0].name, "mine-a")
            self.assertIn("size=64m", single_job(cases[1].jobfile, "b",
                                                 cases[1].env))

    def test_unknown_matrix(self):
        with self.assertRaises(KitError):
            matrix_cases(argparse.Namespace(matrix="nonesuch", **ARGS))
