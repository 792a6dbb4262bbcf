"""A/B statistics of the kernel lab and the comparison kit: the ratio of
two medians, a confidence interval of the change and a verdict from it;
the median of one set of figures with its interval.

Pure standard library (tdist.py beside it for Student's t), no state:
scripts/lab/ab.py uses it on the per-boot figures of several kernels,
examples/compare.py on the repeats of its runs (the interval of each
figure in its tables, and its diff).

ratios([(a, b), ...]) -> [Ratio], one per pair, as one family
ratio(a, b, family=1) -> Ratio(median_a, median_b, ratio, lo, hi,
                               verdict, n_a, n_b, family)

  ratio    median(b) / median(a)
  lo, hi   Welch's t interval of the change from a to b, taken on the
           logarithms of the figures (the ratio of their geometric
           means) and turned back into a ratio; at level LEVEL for the
           whole family: each interval at 1 - (1 - LEVEL) / family
           (Bonferroni), family being the pairs whose figures vary.
           A table of 200 rows read at 95 % a row says higher or lower
           on about ten of them by chance alone; read as one family it
           does so on any row at most 5 % of the time.
           The figures of a side that are all the same vary by nothing:
           when both sides are, the ratio is exact (lo = hi = ratio).
           A side with one figure borrows the other side's spread.
           Figures of 0 or below: the interval of the difference of the
           means, over the mean of a.
  verdict  "same" when the interval contains 1, else "lower" (B below A)
           or "higher"; "n/a" with no figure on one side, or with one
           figure a side that differ (one boot cannot tell a change
           from noise).
  family   the size of the family the interval was drawn in.

ratios() is how a table is read: the family is its pairs. ratio() alone
is a family of one.

Why not a bootstrap of the medians (what this module did until the
lab's A/A of three identical kernels said "lower" on two cases): drawn
from 5 figures, the interval of a median cannot be wider than what 5
figures have shown, so it says lower whenever one side's 5 boots all
lie below the other's (2 chances in 126 without any change), and the
registration figures take a few discrete values boot to boot, with a
rare 4 % outlier. Welch's t widens with the spread the boots show
(tests/kit/test_stats.py: simulated A/As of such figures).

median_interval(xs) -> Median(median, lo, hi, n)

  the median of one set of figures and the percentile bootstrap interval
  of that median: RESAMPLES rounds each draw len(xs) values with
  replacement (random.Random(SEED): the same figures give the same
  interval on every run); lo and hi are the (1-level)/2 and (1+level)/2
  quantiles. With one figure the interval is that figure; with few (3 to
  5) it spans most of their range. It describes one figure; verdicts
  come from ratio().

Figures that are not numbers (None: a metric a run did not report) are
left out. Zero medians: 0/0 is a ratio of 1; x/0 is infinite.
"""

import math
import random
import statistics
from collections import namedtuple

from . import tdist

SEED = 20260608      # fixed: the interval is a function of the figures
RESAMPLES = 4000
LEVEL = 0.95
# Below this many figures a side, a figure that takes a few values from
# boot to boot often shows one value on every boot of a side, and two
# such sides compare as exact: simulated A/As of the lab's figures (44
# comparisons a table, tests/kit/test_stats.py) say higher or lower
# somewhere in 64 % of the tables at 3 boots, 15 % at 4, 2.5 % at 5.
FEW_BOOTS = 5

Ratio = namedtuple("Ratio",
                   "median_a median_b ratio lo hi verdict n_a n_b family")
Median = namedtuple("Median", "median lo hi n")


def _ratio(mb, ma):
    if ma == 0:
        return 1.0 if mb == 0 else math.inf
    return mb / ma


def _quantile(sorted_xs, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_xs:
        return math.nan
    pos = q * (len(sorted_xs) - 1)
    i = int(math.floor(pos))
    j = min(i + 1, len(sorted_xs) - 1)
    return sorted_xs[i] + (sorted_xs[j] - sorted_xs[i]) * (pos - i)


def clean(xs):
    return [float(x) for x in xs
            if x is not None and not (isinstance(x, float) and math.isnan(x))]


def _resample(rng, xs):
    return [xs[rng.randrange(len(xs))] for _ in range(len(xs))]


def _bootstrap(draw, resamples, level, seed):
    """The (1-level)/2 and (1+level)/2 quantiles of RESAMPLES values of
    draw(rng), rng a random.Random(seed)."""
    rng = random.Random(seed)
    draws = sorted(draw(rng) for _ in range(resamples))
    return (_quantile(draws, (1 - level) / 2),
            _quantile(draws, (1 + level) / 2))


def _spread(xs):
    """(mean, variance of the mean, degrees of freedom) of one side."""
    n = len(xs)
    if n < 2:
        return statistics.fmean(xs), None, 0
    return statistics.fmean(xs), statistics.variance(xs) / n, n - 1


def _welch(a, b):
    """(difference of the means b - a, its standard error, degrees of
    freedom); a side of one figure takes the other side's variance. One
    side at least varies."""
    (ma, va, fa), (mb, vb, fb) = _spread(a), _spread(b)
    if va is None:
        va = vb * len(b)
    if vb is None:
        vb = va * len(a)
    se2 = va + vb
    df = se2 ** 2 / sum(v * v / f for v, f in ((va, fa), (vb, fb)) if f)
    return mb - ma, math.sqrt(se2), df


def _interval(a, b, level):
    """(lo, hi) of the change from a to b as a ratio, None when one
    figure a side cannot say."""
    if len(a) == len(b) == 1 and a != b:
        return None
    if len(set(a)) == len(set(b)) == 1:
        r = _ratio(b[0], a[0])
        return r, r
    positive = min(a + b) > 0
    if positive:
        a, b = [math.log(x) for x in a], [math.log(x) for x in b]
    d, se, df = _welch(a, b)
    half = se * tdist.quantile((1 - level) / 2, df)
    if positive:
        return math.exp(d - half), math.exp(d + half)
    ma = statistics.fmean(a)
    if ma == 0:
        return -math.inf, math.inf
    return tuple(sorted((1 + (d - half) / ma, 1 + (d + half) / ma)))


def varies(a, b):
    """Whether a pair's figures vary on a side: its interval is drawn,
    not a point."""
    a, b = clean(a), clean(b)
    return bool(a and b) and (len(set(a)) > 1 or len(set(b)) > 1)


def ratio(a, b, family=1, level=LEVEL):
    a, b = clean(a), clean(b)
    if not a or not b:
        return Ratio(statistics.median(a) if a else None,
                     statistics.median(b) if b else None,
                     None, None, None, "n/a", len(a), len(b), family)
    ma, mb = statistics.median(a), statistics.median(b)
    ci = _interval(a, b, 1 - (1 - level) / max(family, 1))
    lo, hi = ci if ci else (None, None)
    return Ratio(ma, mb, _ratio(mb, ma), lo, hi, verdict(lo, hi),
                 len(a), len(b), family)


def family(pairs):
    """The size of the family of these (a, b) pairs: those that vary."""
    return sum(1 for a, b in pairs if varies(a, b))


def ratios(pairs, level=LEVEL):
    """ratio() of every (a, b) pair, the pairs that vary one family."""
    pairs = list(pairs)
    m = family(pairs)
    return [ratio(a, b, m, level) for a, b in pairs]


def median_interval(xs, resamples=RESAMPLES, level=LEVEL, seed=SEED):
    xs = clean(xs)
    if not xs:
        return Median(None, None, None, 0)
    if min(xs) == max(xs):
        # Every draw is that value: no need to draw.
        return Median(xs[0], xs[0], xs[0], len(xs))
    lo, hi = _bootstrap(
        lambda rng: statistics.median(_resample(rng, xs)),
        resamples, level, seed)
    return Median(statistics.median(xs), lo, hi, len(xs))


def verdict(lo, hi):
    if lo is None or hi is None:
        return "n/a"
    if lo <= 1.0 <= hi:
        return "same"
    return "lower" if hi < 1.0 else "higher"


def fmt_num(x):
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.3g" % x


def fmt_ratio(r):
    if r.ratio is None:
        return "-", "-"
    if r.lo is None:
        return fmt_num(r.ratio), "-"
    if math.isinf(r.lo) or math.isinf(r.hi):
        return (fmt_num(r.ratio), "[%s, %s]" % (fmt_num(r.lo), fmt_num(r.hi)))
    # Enough digits that an interval excluding 1 does not print as 1.000.
    for digits in (3, 4, 5, 6):
        lo, hi = "%.*f" % (digits, r.lo), "%.*f" % (digits, r.hi)
        one = "%.*f" % (digits, 1.0)
        if r.verdict == "same" or one not in (lo, hi):
            break
    return "%.*f" % (digits, r.ratio), "[%s, %s]" % (lo, hi)


def table(rows, title_a="A", title_b="B"):
    """rows: (label, unit, Ratio), or (label, unit, Ratio, variant) to
    compare several variants with A (a variant column; the ratio's
    heading X/A). Returns the table as text: one line a metric (and
    variant), the verdict its last word."""
    named = any(len(r) > 3 for r in rows)
    if named:
        title_b = "X"
    head = ("metric",) + (("variant",) if named else ()) + (
        "median " + title_a, "median " + title_b,
        "%s/%s" % (title_b, title_a), "95% CI", "verdict")
    body = []
    for row in rows:
        label, unit, r = row[:3]
        rr, ci = fmt_ratio(r)
        body.append((label + (" (%s)" % unit if unit else ""),) +
                    (row[3:4] if named else ()) +
                    (fmt_num(r.median_a), fmt_num(r.median_b), rr, ci,
                     r.verdict))
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    left = 2 if named else 1
    out = []
    for n, line in enumerate([head] + body):
        cells = [c.ljust(w) for c, w in zip(line[:left], widths)] + \
            [c.rjust(w) for c, w in zip(line[left:-1], widths[left:-1])] + \
            [line[-1]]
        out.append("  ".join(cells))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


def detectable(a, b, step_limit=0.5, tol=0.0005, **kw):
    """The resolution of these figures: the smallest relative shift of B
    (every figure of B times 1+s, or 1-s) that ratio() would no longer
    call "same", found by bisection, as (down, up); None where even
    step_limit is not told apart. On an A/A run, what the lab can see."""
    a, b = clean(a), clean(b)
    if not a or not b:
        return None, None

    def differs(f):
        return ratio(a, [x * f for x in b], **kw).verdict != "same"

    out = []
    for sign in (-1, 1):
        if not differs(1 + sign * step_limit):
            out.append(None)
            continue
        lo, hi = 0.0, step_limit
        while hi - lo > tol:
            mid = (lo + hi) / 2
            if differs(1 + sign * mid):
                hi = mid
            else:
                lo = mid
        out.append(hi)
    return tuple(out)
