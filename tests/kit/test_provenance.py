"""Provenance lines of a made-up machine, and a fio server's reply."""

import unittest

from comparekit.provenance import mode_groups, provenance_lines, server_side

PROV = {
    "date": "2026-01-01T00:00:00Z", "command": "compare.py run strategies",
    "host": "h", "where": "local", "client_side": [],
    "kernel": {"release": "6.18.0", "version": "#1", "machine": "x86_64",
               "cmdline": "quiet"},
    "cpu": {"model": "Some CPU", "count": 4, "usable": 2},
    "virtualisation": "kvm (vm)", "loadavg": "0.10 0.20 0.30 1/2 3",
    "hugetlb": {"2048kB": {"nr": 8, "free": 6}},
    "thp": {"enabled": "madvise", "defrag": "madvise",
            "sizes": {"64kB": "never", "2048kB": "inherit"},
            "shmem_enabled": "never", "shmem_sizes": {}},
    "fio": "fio-3.33", "engine": ["0.1.0"], "python": "3.11", "reps": 3,
}


class ProvenanceTest(unittest.TestCase):
    def test_mode_groups(self):
        self.assertEqual(mode_groups({"16kB": "never", "64kB": "never",
                                      "2048kB": "inherit", "8kB": "?"}),
                         "never 16kB,64kB; inherit 2048kB")

    def test_lines(self):
        lines = provenance_lines(PROV, {("0.1.1", "fio-3.33")})
        self.assertEqual(lines[0], "kernel: Linux 6.18.0 x86_64, cmdline: "
                         "quiet")
        self.assertEqual(lines[1], "machine: Some CPU, 4 CPUs (2 usable), "
                         "virtualisation: kvm (vm), load 0.10 0.20 0.30")
        self.assertTrue(lines[2].startswith("memory: hugetlb 2048kB 8 (6 "
                                            "free); THP madvise"))
        self.assertIn("uring_folioreg 0.1.0, 0.1.1", lines[3])
        self.assertEqual(lines[-1], "command: compare.py run strategies")

    def test_client_side_marked(self):
        prov = dict(PROV, client_side=["kernel", "cpu", "fio"])
        lines = provenance_lines(prov)
        self.assertTrue(lines[0].startswith("kernel (client machine): "))
        self.assertTrue(lines[3].startswith("software: fio-3.33 (client "
                                            "machine)"))

    def test_not_recorded(self):
        self.assertTrue(provenance_lines(None)[0].startswith(
            "provenance: not recorded"))

    def test_server_reply(self):
        prov = dict(PROV, client_side=["kernel", "fio"])
        server_side(prov, "hostname=srv, be=0, 64-bit, os=Linux, "
                    "arch=x86-64, fio=fio-3.41, flags=1\n")
        self.assertEqual(prov["server"]["hostname"], "srv")
        self.assertEqual(prov["fio"], "fio-3.41")
        self.assertEqual(prov["client_side"], ["kernel"])
