"""The statistics of the table cells."""

import random
import unittest

from comparekit import abstats
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


def aa_same_share(boots, trials=300):
    """The share of simulated A/A comparisons, BOOTS boots a side with
    noise from boot to boot, that ratio() calls same."""
    rng = random.Random(7)
    same = 0
    for _ in range(trials):
        a = [1000 + rng.gauss(0, 1) for _ in range(boots)]
        b = [1000 + rng.gauss(0, 1) for _ in range(boots)]
        same += abstats.ratio(a, b, resamples=1000).verdict == "same"
    return same / trials


class CalibrationTest(unittest.TestCase):
    """What an A/A of identical kernels can expect from the verdicts:
    the lab's default of 5 boots holds about the 95 % the interval
    claims, 2 boots do not (ab.py says so under its table)."""

    def test_five_boots_say_same_as_often_as_claimed(self):
        self.assertGreaterEqual(aa_same_share(abstats.FEW_BOOTS), 0.9)

    def test_two_boots_are_too_few(self):
        self.assertLessEqual(aa_same_share(2), 0.8)


class SharesTest(unittest.TestCase):
    def test_pooled_over_every_sample(self):
        p1 = {"samples": 10, "top": [{"function": "a", "samples": 6},
                                     {"function": "b", "samples": 4}]}
        p2 = {"samples": 30, "top": [{"function": "b", "samples": 30}]}
        self.assertEqual(pooled_shares([p1, p2]),
                         [("b", 34 / 40), ("a", 6 / 40)])

    def test_no_samples_no_shares(self):
        self.assertEqual(pooled_shares([{"samples": 0, "top": []}]), [])
