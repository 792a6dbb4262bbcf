"""Which cases a made-up machine cannot have, from their job options."""

import unittest

from comparekit.cases import parse_job
from comparekit.probe import case_needs, unavailable

FULL = {"hugetlb_kb": [2048, 1048576], "mthp_kb": [16, 64, 2048],
        "thp": True, "shmem_thp": True, "hugetlbfs": True, "pdpe1gb": True,
        "perf": None}


def job(text):
    return parse_job("[global]\n" + text.replace(" ", "\n"))


class NeedsTest(unittest.TestCase):
    def test_defaults_as_the_engine_resolves_them(self):
        self.assertEqual(case_needs(job("reg_strategy=coalesced")), [("thp",)])
        self.assertEqual(case_needs(job(
            "reg_strategy=coalesced reg_backing=memfd")),
            [("hugetlb", 2048)])
        self.assertEqual(case_needs(job("reg_strategy=hugetlb_fast")),
                         [("hugetlb", 2048)])
        self.assertEqual(case_needs(job("reg_strategy=per_page")), [])

    def test_mount_mmaphuge_and_profile(self):
        self.assertEqual(case_needs(job(
            "reg_strategy=coalesced reg_folio=1g reg_backing=hugetlbfs "
            "reg_profile=1")),
            [("hugetlbfs",), ("hugetlb", 1048576), ("perf",)])
        self.assertEqual(case_needs(job(
            "reg_strategy=iomem iomem=mmaphuge hugepage-size=2m")),
            [("hugetlb", 2048)])


class UnavailableTest(unittest.TestCase):
    def test_everything_available(self):
        for text in ("reg_folio=1g reg_strategy=coalesced reg_profile=1",
                     "reg_folio=64k reg_strategy=coalesced",
                     "reg_folio=thp reg_backing=memfd"):
            self.assertIsNone(unavailable(job(text), FULL), text)

    def test_no_1g_pages(self):
        facts = dict(FULL, hugetlb_kb=[2048], pdpe1gb=False)
        self.assertEqual(
            unavailable(job("reg_strategy=hugetlb_fast reg_folio=1g"), facts),
            "this kernel has no 1 GiB hugetlb pages (no /sys/kernel/mm/"
            "hugepages/hugepages-1048576kB; the CPU has no pdpe1gb flag)")
        self.assertIsNone(unavailable(job("reg_folio=2m"), facts))

    def test_no_mthp_no_thp_no_shmem_thp(self):
        self.assertIn("no 32 KiB multi-size THP", unavailable(
            job("reg_strategy=coalesced reg_folio=32k"), FULL))
        self.assertIn("no transparent huge pages", unavailable(
            job("reg_strategy=coalesced"), dict(FULL, thp=False)))
        self.assertIn("no shmem THP", unavailable(
            job("reg_strategy=coalesced reg_folio=thp reg_backing=memfd"),
            dict(FULL, shmem_thp=False)))

    def test_no_hugetlbfs_no_perf(self):
        self.assertIn("no hugetlbfs", unavailable(
            job("reg_backing=hugetlbfs reg_folio=2m"),
            dict(FULL, hugetlbfs=False)))
        self.assertEqual(unavailable(job("reg_profile=1"),
                                     dict(FULL, perf="no perf events")),
                         "reg_profile=1: no perf events")

    def test_not_probed_means_available(self):
        self.assertIsNone(unavailable(job("reg_folio=1g"), None))
