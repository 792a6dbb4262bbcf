"""scripts/lab/releases.py render: the bins, the figure at N buffers, what
is unavailable and why, and the table from made-up lab results."""

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
import unittest
from pathlib import Path

from comparekit import KitError

TOP = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "releases", TOP / "scripts" / "lab" / "releases.py")
releases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(releases)


def kernel_dir(root, boot, matrix, label, release, cases, times,
               cmdline="console=ttyS0", pins=None):
    """A lab results directory as lab.py writes it, CASES {name: status},
    TIMES {name: list or None (no reg_stats file)}."""
    d = os.path.join(root, "boot-%d" % boot, matrix, label)
    os.makedirs(os.path.join(d, "json"))
    with open(os.path.join(d, "provenance.json"), "w") as f:
        json.dump({"kernel": {"release": release}, "icount_shift": 0,
                   "guest_cmdline": cmdline}, f)
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump([{"name": n, "status": s, "why": "fio exited 1",
                    "pins": (pins or {}).get(n)}
                   for n, s in cases.items()], f)
    for n, t in times.items():
        if t is not None:
            with open(os.path.join(d, "json", n + ".stats.json"), "w") as f:
                json.dump({"jobs": [{"jobname": n, "reg_times_ns": t}]}, f)


class ReleasesBinsTest(unittest.TestCase):
    def test_powers_of_two_up_to_n(self):
        self.assertEqual(releases.bins(16), [(0, 1), (1, 2), (2, 4), (4, 8),
                                             (8, 16)])
        self.assertEqual(releases.bins(12)[-1], (8, 12))

    def test_at_takes_the_bin_ending_at_n_per_boot(self):
        t = list(range(32))
        # buffers 8..15 of each boot
        self.assertEqual(releases.at([t, t], 16), [t[8:16], t[8:16]])
        self.assertIsNone(releases.at([t], 64))

    def test_per_bin_stops_at_the_shortest_boot(self):
        b = releases.per_bin([list(range(16)), list(range(8))])
        self.assertEqual(b[-1][:2], (4, 8))
        self.assertEqual(b[-1][2], (5.5, 5.5, 5.5, "2 boots"))

    def test_one_boot_interval_is_over_its_buffers(self):
        # 100 buffers 0..99: median 49.5, the order statistics 39 and 60
        # (binomial(100, 1/2): P(X < 40) = 0.028 > 0.025, P(X < 39) <).
        m, lo, hi, over = releases.interval([list(range(100))])
        self.assertEqual((m, over), (49.5, "100 buffers of 1 boot"))
        self.assertEqual((lo, hi), (39, 60))
        m, lo, hi, _ = releases.interval([list(range(10001))])
        self.assertEqual(m, 5000)
        self.assertTrue(4890 < lo < 5000 < hi < 5110)


class ReleasesRenderTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_16k_before_6_8_is_unavailable_with_the_reason(self):
        n = "releases-16k-64k-16k"
        kernel_dir(self.d, 1, "releases-16k", "bookworm", "6.1.0-50-cloud",
                   {n: "ok"}, {n: [1, 2, 3]},
                   "thp_anon=16K:always")
        k = releases.load(self.d)["bookworm"]
        self.assertNotIn("64k-16k", k.times)
        self.assertIn("no multi-size THP", k.why["64k-16k"])

    def test_16k_on_4k_pages_is_unavailable(self):
        n, b = "releases-16k-64k-16k", "releases-64k-4k"
        kernel_dir(self.d, 1, "releases", "sid", "7.2.13", {b: "ok"},
                   {b: [1, 2, 3]}, pins={b: 278528})
        kernel_dir(self.d, 1, "releases-16k", "sid", "7.2.13", {n: "ok"},
                   {n: [1, 2, 3]}, pins={n: 278528})
        kernel_dir(self.d, 2, "releases", "sid", "7.2.13", {b: "ok"},
                   {b: [1, 2, 3]}, pins={b: 278528})
        kernel_dir(self.d, 2, "releases-16k", "sid", "7.2.13", {n: "ok"},
                   {n: [4, 5, 6]}, pins={n: 81920})
        k = releases.load(self.d)["sid"]
        self.assertIn("as many as on 4 KiB pages", k.why["64k-16k"])
        # the boot whose pins show 16 KiB folios is kept
        self.assertEqual(k.times["64k-16k"], [[4, 5, 6]])

    def test_failed_case_and_missing_file_say_why(self):
        a, b = "releases-64k-2m", "releases-1m-2m"
        kernel_dir(self.d, 1, "releases", "sid", "7.2.13",
                   {a: "failed", b: "ok"}, {a: [1], b: None})
        k = releases.load(self.d)["sid"]
        self.assertEqual(k.why["64k-2m"], "fio exited 1")
        self.assertIn("no reg_stats file", k.why["1m-2m"])

    def test_table_cells_over_boots(self):
        n = "releases-64k-4k"
        for boot, base in ((1, 1000), (2, 3000)):
            kernel_dir(self.d, boot, "releases", "sid", "7.2.13", {n: "ok"},
                       {n: [base] * 2048})
        ks = releases.order(releases.load(self.d))
        text = releases.write_table(self.d, ks)
        row = [ln for ln in text.splitlines()
               if ln.startswith("| 64k-4k, 1024 buffers")][0]
        # Two boots: median 2 us, interval spanning both.
        self.assertIn("2.0 [1.0, 3.0] (2 boots)", row)
        row = [ln for ln in text.splitlines()
               if ln.startswith("| 64k-4k, 16384 buffers")][0]
        self.assertIn("- (2048 buffers at most)", row)
        self.assertIn("1 us = 1000 instructions", text)

    def test_render_draws_the_plot_and_writes_the_table(self):
        if not shutil.which("gnuplot"):
            self.skipTest("gnuplot is not installed")
        n = "releases-64k-2m"
        kernel_dir(self.d, 1, "releases", "bookworm", "6.1.0-50",
                   {n: "ok"}, {n: list(range(1000, 1064))})
        kernel_dir(self.d, 1, "releases", "sid", "7.2.13", {n: "ok"},
                   {n: [500] * 64})
        with open(os.devnull, "w") as null, \
                contextlib.redirect_stdout(null), \
                contextlib.redirect_stderr(null):
            self.assertEqual(releases.render(self.d), 0)
        with open(os.path.join(self.d, "releases.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(os.path.join(self.d, "releases.csv")) as f:
            rows = f.read().splitlines()
        # a row per bin (0, 1, 2-3, ... 32-63) and kernel
        self.assertEqual(len(rows), 1 + 2 * 7)
        self.assertIn("sid,7.2.13,64k-2m,32,64,32 buffers of 1 boot,500,"
                      "500,500", rows)

    def test_no_results_is_one_line(self):
        with self.assertRaises(KitError):
            releases.load(self.d)


if __name__ == "__main__":
    unittest.main()
