"""fio's JSON and a fio server's lines read back."""

import unittest

from comparekit.results import engine_figures, error_line, folio_name

FIGS = {"version": "0.1.0", "strategy": "per_page", "folio_bytes": 4096}


class ResultsTest(unittest.TestCase):
    def test_local_member(self):
        doc = {"jobs": [{"jobname": "x", "uring_folioreg": FIGS}]}
        self.assertEqual(engine_figures(doc, ""), FIGS)

    def test_client_reads_the_engines_json_line(self):
        doc = {"client_stats": [{"jobname": "x"}]}
        pre = ("<srv> x: (groupid=0)\n  uring_folioreg 0.1.0: strategy=no\n"
               "<srv> uring_folioreg json: { \"jobname\" : \"x\", "
               "\"groupid\" : 0, \"uring_folioreg\" : "
               "{\"version\": \"0.1.0\", \"strategy\": \"per_page\", "
               "\"folio_bytes\": 4096} }\n")
        self.assertEqual(engine_figures(doc, pre), FIGS)

    def test_client_without_the_line_has_no_figures(self):
        doc = {"client_stats": [{"jobname": "x"}]}
        self.assertIsNone(engine_figures(doc, "x: (groupid=0)\n"
                                         "  uring_folioreg 0.1.0: ...\n"))
        self.assertIsNone(engine_figures({"jobs": []}, ""))

    def test_error_line(self):
        self.assertEqual(error_line("fio: x\n<h> uring_folioreg: bad; fix"),
                         "uring_folioreg: bad; fix")
        self.assertEqual(error_line("a\nfio: pid=1, err=22\nb"),
                         "fio: pid=1, err=22")

    def test_folio_name(self):
        self.assertEqual([folio_name(n) for n in (0, 65536, 2 << 20,
                                                  1 << 30)],
                         ["-", "64k", "2m", "1g"])
