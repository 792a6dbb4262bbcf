"""Table rows and CSV lines of made-up cases."""

import unittest

from comparekit.model import Row, Run
from comparekit.table import (CSV_HEAD, cell, csv_line, markdown, reps_cell,
                              stat_cell, unavailable_lines)
from comparekit.stats import stat


def row(case, figures=None, **kw):
    r = Row("strategies", case, {}, case, **kw)
    for k, v in (figures or {}).items():
        r.figures[k] = v
    r.runs = kw.get("runs", len(next(iter(figures.values()))) if figures
                    else 0)
    r.finish()
    return r


class CellTest(unittest.TestCase):
    def test_cells(self):
        self.assertEqual(cell(None), "-")
        self.assertEqual(cell(1234.4), "1234")
        self.assertEqual(cell(12.345), "12.35")
        self.assertEqual(cell(7), "7")
        self.assertEqual(stat_cell(stat([4, 4, 4])), "4")
        self.assertRegex(stat_cell(stat([1, 5, 9])), r"^5 \[\d, \d\]$")


class RowTest(unittest.TestCase):
    def test_ok_row(self):
        r = row("per_page", {"buffers": [8, 8], "bvecs": [2048, 2048]},
                strategy="per_page", folio="4k", unit="io_u")
        lines = markdown("strategies", [r])
        self.assertTrue(lines[2].startswith("| per_page | per_page | 4k | "
                                            "8 | io_u | - |"), lines[2])
        self.assertTrue(lines[2].endswith("| 2 |"))
        self.assertEqual(reps_cell(r), "2")
        line = csv_line(r)
        self.assertEqual(len(line), len(CSV_HEAD))
        self.assertEqual(line[:5], ["strategies", "per_page", "ok", 2, 2])

    def test_failed_row(self):
        r = row("hugetlb_fast-2m", runs=1)
        r.failures.append(Run("strategies", "hugetlb_fast-2m", 1,
                              status="failed", why="fio exit 1",
                              error="uring_folioreg: reg_folio=64k: no"))
        r.finish()
        self.assertEqual(reps_cell(r), "FAILED 0/1")
        self.assertIn("FAILED: strategies-hugetlb_fast-2m rep 1: fio exit "
                      "1: uring_folioreg: reg_folio=64k: no",
                      markdown("strategies", [r]))
        self.assertEqual(csv_line(r)[2], "failed")

    def test_unavailable_rows(self):
        why = "not available here: this kernel has no 1 GiB hugetlb pages"
        a = row("anon-1g", unavailable=why)
        b = row("memfd-1g", unavailable=why)
        c = row("anon-64k", unavailable="not available here: no mTHP")
        self.assertEqual(reps_cell(a), "not available here")
        self.assertEqual(unavailable_lines([a, b, c]), [
            "not available here: anon-1g, memfd-1g: this kernel has no "
            "1 GiB hugetlb pages",
            "not available here: anon-64k: no mTHP"])
        line = csv_line(a)
        self.assertEqual((line[2], line[-1]), ("unavailable", why))
        self.assertTrue(markdown("spectrum", [a])[2].endswith(
            "| - | not available here |"))
