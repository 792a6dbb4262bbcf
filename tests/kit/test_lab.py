"""The kernel lab's pure parts (scripts/lab/lab.py): the guest's THP
switches and needs a case's job text gives, --cases, the boot header
check behind the guest's memory, and how the kit reads a lab's
unavailable cases."""

import json
import os
import struct
import sys
import tempfile
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "scripts" / "lab"))
import lab  # noqa: E402
from comparekit.model import load_rows  # noqa: E402

THP = "/sys/kernel/mm/transparent_hugepage"
JOB = """[global]
ioengine=external:/lab/uring_folioreg.so

[coalesced-64k]
; lab-thp: hugepages-64kB/enabled=madvise hugepages-2048kB/enabled=never
reg_strategy=coalesced
reg_folio=64k
"""


class Switches(unittest.TestCase):
    def test_words_in_order(self):
        self.assertEqual(lab.thp_switches(JOB, "x"),
                         [("hugepages-64kB/enabled", "madvise"),
                          ("hugepages-2048kB/enabled", "never")])

    def test_bad_words_refused(self):
        for line in ("; lab-thp: enabled", "; lab-thp: /sys/x=1",
                     "; lab-thp: ../x=1", "; lab-thp: enabled="):
            with self.assertRaisesRegex(lab.LabError, "PATH=VALUE"):
                lab.thp_switches(line + "\n", "x")

    def test_guest_file(self):
        lines = lab.guest_case_file(JOB, "x").splitlines()
        # The kit's reason for the folio first, one line per path, the
        # switches after every need.
        self.assertEqual(lines[0], "need %s/hugepages-64kB this kernel has "
                         "no 64 KiB multi-size THP (no %s/hugepages-64kB: "
                         "Linux 6.8 and later have them)" % (THP, THP))
        paths = [ln.split()[1] for ln in lines if ln.startswith("need")]
        self.assertEqual(len(paths), len(set(paths)))
        self.assertIn("need %s/hugepages-2048kB this kernel has no "
                      "multi-size THP (no %s/hugepages-2048kB)" % (THP, THP),
                      lines)
        self.assertEqual(lines[-2:], [
            "set %s/hugepages-64kB/enabled madvise" % THP,
            "set %s/hugepages-2048kB/enabled never" % THP])

    def test_hugetlb_need(self):
        text = "[a]\nreg_strategy=hugetlb_fast\nreg_folio=1g\n"
        self.assertEqual(lab.guest_case_file(text, "a"),
                         "need /sys/kernel/mm/hugepages/hugepages-1048576kB "
                         "this kernel has no 1 GiB hugetlb pages (no "
                         "/sys/kernel/mm/hugepages/hugepages-1048576kB)\n")

    def test_plain_case_needs_nothing(self):
        self.assertEqual(lab.guest_case_file(
            "[a]\nreg_strategy=per_page\n", "a"), "")


class Cases(unittest.TestCase):
    runs = [("m-%s" % c, c, "", {"case": c}) for c in
            ("per_page", "coalesced-64k", "verify-per_page")]

    def test_whole_match(self):
        self.assertEqual([r[1] for r in lab.pick_cases(self.runs,
                                                       "per_page|coal.*")],
                         ["per_page", "coalesced-64k"])

    def test_none_matching_refused(self):
        with self.assertRaisesRegex(lab.LabError, "no case of the matrix"):
            lab.pick_cases(self.runs, "page")


class BootHeader(unittest.TestCase):
    def kernel(self, proto, flags):
        d = tempfile.mkdtemp()
        head = bytearray(0x300)
        head[0x202:0x206] = b"HdrS"
        struct.pack_into("<H", head, 0x206, proto)
        struct.pack_into("<H", head, 0x236, flags)
        (Path(d) / "vmlinuz").write_bytes(bytes(head))
        self.addCleanup(lambda: (os.unlink(Path(d) / "vmlinuz"),
                                 os.rmdir(d)))
        return d

    def opts(self, **kw):
        o = lab.parser().parse_args(["k"] + kw.pop("argv", []))
        lab.apply_profile(o)
        return o

    def test_memory_follows_the_header(self):
        relocatable, fixed = self.kernel(0x20f, 0x7f), self.kernel(0x20f,
                                                                   0x61)
        self.assertTrue(lab.initrd_anywhere(relocatable))
        self.assertFalse(lab.initrd_anywhere(fixed))
        self.assertFalse(lab.initrd_anywhere(self.kernel(0x20b, 0x7f)))
        self.assertEqual(lab.guest_mem(self.opts(), relocatable), "3G")
        self.assertEqual(lab.guest_mem(self.opts(), fixed), "5G")
        # What the user asks for, and no 1 GiB page, keep 3 GiB.
        self.assertEqual(lab.guest_mem(self.opts(argv=["--mem", "3G"]),
                                       fixed), "3G")
        self.assertEqual(lab.guest_mem(self.opts(argv=["--huge1g", "0"]),
                                       fixed), "3G")


class KitReadsTheLab(unittest.TestCase):
    def test_unavailable_is_no_failure(self):
        d = Path(tempfile.mkdtemp())
        why = "not available here: this kernel has no multi-size THP"
        (d / "runs.json").write_text(json.dumps([
            {"matrix": "truth", "case": "coalesced-64k", "rep": 0,
             "section": "coalesced-64k", "env": {}, "client": "",
             "status": "unavailable", "why": why}]))
        (d / "cases.json").write_text(json.dumps([
            {"matrix": "truth", "case": "coalesced-64k",
             "status": "unavailable", "why": why[20:]}]))
        rows = load_rows(d)
        for f in d.iterdir():
            f.unlink()
        d.rmdir()
        self.assertEqual([(r.case, r.unavailable, r.failures) for r in rows],
                         [("coalesced-64k", why, [])])


if __name__ == "__main__":
    unittest.main()
