"""The statistics of the table cells."""

import random
import unittest

from comparekit import abstats, tdist
from comparekit.stats import Stat, pooled_shares, stat


class StatTest(unittest.TestCase):
    def test_median_of_whole_numbers_stays_whole(self):
        s = stat([3, 1, 2])
        self.assertEqual((s.median, s.n), (2, 3))
        self.assertIsInstance(s.median, int)
        self.assertTrue(s.lo <= 2 <= s.hi)

    def test_even_count_is_mean_of_middle_two(self):
        self.assertEqual(stat([1.0, 2.0, 3.0, 10.0]).median, 2.5)

    def test_nones_left_out_and_empty_is_none(self):
        self.assertIsNone(stat([None, None]))
        self.assertEqual(stat([None, 4]).median, 4)

    def test_spread_only_when_the_interval_says_more(self):
        self.assertFalse(Stat([5, 5, 5]).spread())
        self.assertTrue(Stat([1, 5, 9]).spread())

    def test_same_figures_same_interval(self):
        a, b = Stat([1.5, 2.5, 9.0]), Stat([1.5, 2.5, 9.0])
        self.assertEqual((a.lo, a.hi), (b.lo, b.hi))

    def test_ratio_verdicts(self):
        self.assertEqual(abstats.ratio([10] * 5, [10] * 5).verdict, "same")
        self.assertEqual(abstats.ratio([10] * 5, [20] * 5).verdict, "higher")
        self.assertEqual(abstats.ratio([10] * 5, [5] * 5).verdict, "lower")
        self.assertEqual(abstats.ratio([], [1]).verdict, "n/a")

    def test_figures_that_do_not_vary_compare_exactly(self):
        r = abstats.ratio([57413] * 3, [57416] * 3)
        self.assertEqual((r.lo, r.hi, r.verdict), (r.ratio, r.ratio, "higher"))

    def test_one_figure_a_side_has_no_verdict_on_a_difference(self):
        self.assertEqual(abstats.ratio([5], [6]).verdict, "n/a")
        self.assertEqual(abstats.ratio([5], [5]).verdict, "same")

    def test_spread_widens_the_interval(self):
        # The A/A row the bootstrap of the medians called lower: B's five
        # boots all below A's, one of them 4 % below.
        a = [411876, 411906, 411906, 411914, 411914]
        b = [395416, 411637, 411674, 411774, 411802]
        self.assertEqual(abstats.ratio(a, b).verdict, "same")

    def test_figures_of_zero(self):
        self.assertEqual(abstats.ratio([0, 0, 1], [0, 1, 1]).verdict, "same")
        self.assertEqual(abstats.ratio([0, 0], [0, 0]).verdict, "same")

    def test_family_is_the_pairs_that_vary(self):
        pairs = [([1, 2], [1, 2]), ([3, 3], [3, 3]), ([5], [6]),
                 ([5], [6, 7])]
        self.assertEqual(abstats.family(pairs), 2)


class TDistTest(unittest.TestCase):
    """Student's t quantiles against a printed table."""

    def test_quantiles(self):
        for p, df, t in ((0.025, 1, 12.706), (0.025, 2, 4.303),
                         (0.025, 4, 2.776), (0.005, 10, 3.169),
                         (0.025, 30, 2.042), (0.0005, 3, 12.924)):
            self.assertAlmostEqual(tdist.quantile(p, df), t, places=3)


def lab_like(rng, shift=1.0):
    """One boot's figure as the lab's region cases give them under
    -icount: one of two values 111 instructions apart, a jitter of a few,
    and, one boot in 30, 4 % more."""
    x = 395080 + (111 if rng.random() < 0.4 else 0) + rng.randrange(3)
    return x * (1.04 if rng.random() < 1 / 30 else 1.0) * shift


def tables_same(boots, per_row=False, comparisons=44, trials=200,
                shift=1.0):
    """The share of simulated tables, COMPARISONS pairs of BOOTS
    lab-like figures a side, with every row same: read as one family
    (ratios), or row by row (ratio alone). SHIFT scales B: 1 is an A/A."""
    rng = random.Random(7)
    same = 0
    for _ in range(trials):
        pairs = [([lab_like(rng) for _ in range(boots)],
                  [lab_like(rng, shift) for _ in range(boots)])
                 for _ in range(comparisons)]
        rs = [abstats.ratio(a, b) for a, b in pairs] if per_row else \
            abstats.ratios(pairs)
        same += all(r.verdict == "same" for r in rs)
    return same / trials


class CalibrationTest(unittest.TestCase):
    """What an A/A of identical kernels can expect from a table: the
    lab's default of 5 boots holds about the 95 % the table claims,
    fewer boots do not (ab.py says so above its table), and rows read
    one by one do not either."""

    def test_five_boots_say_same_as_often_as_claimed(self):
        self.assertGreaterEqual(tables_same(abstats.FEW_BOOTS), 0.9)

    def test_three_boots_are_too_few(self):
        self.assertLessEqual(tables_same(3), 0.5)

    def test_rows_read_one_by_one_are_not_a_table(self):
        self.assertLessEqual(tables_same(abstats.FEW_BOOTS, True), 0.8)

    def test_a_change_of_a_few_steps_is_seen(self):
        # 0.3 %: ten steps of 111 instructions.
        self.assertLessEqual(tables_same(abstats.FEW_BOOTS, shift=0.997,
                                         trials=50), 0.1)


class SharesTest(unittest.TestCase):
    def test_pooled_over_every_sample(self):
        p1 = {"samples": 10, "top": [{"function": "a", "samples": 6},
                                     {"function": "b", "samples": 4}]}
        p2 = {"samples": 30, "top": [{"function": "b", "samples": 30}]}
        self.assertEqual(pooled_shares([p1, p2]),
                         [("b", 34 / 40), ("a", 6 / 40)])

    def test_no_samples_no_shares(self):
        self.assertEqual(pooled_shares([{"samples": 0, "top": []}]), [])
