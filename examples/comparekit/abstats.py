"""A/B statistics of the kernel lab: the ratio of two medians with a
bootstrap confidence interval, and a verdict from it.

Pure standard library, no state: scripts/lab/ab.py uses it on the
per-boot figures of two kernels, examples/compare.py on the repeats of
its runs (the interval of each figure in its tables, and its diff).

ratio(a, b) -> Ratio(median_a, median_b, ratio, lo, hi, verdict)

  ratio    median(b) / median(a)
  lo, hi   the percentile bootstrap interval of that ratio: each of
           RESAMPLES rounds draws len(a) values from a and len(b) from b
           with replacement (random.Random(SEED): the same figures give the
           same interval on every run) and takes the ratio of the medians;
           lo and hi are the (1-level)/2 and (1+level)/2 quantiles.
  verdict  "same" when the interval contains 1, else "lower" (B below A)
           or "higher".

median_interval(xs) -> Median(median, lo, hi, n)

  the median of one set of figures and the percentile bootstrap interval
  of that median, drawn as above (len(xs) values with replacement, the
  same seed). With one figure the interval is that figure; with few
  (3 to 5) it spans most of their range.

Figures that are not numbers (None: a metric a run did not report) are
left out; with no figure on one side the verdict is "n/a". Zero medians:
0/0 is a ratio of 1; x/0 is infinite.
"""

import math
import random
import statistics
from collections import namedtuple

SEED = 20260608      # fixed: the interval is a function of the figures
RESAMPLES = 4000
LEVEL = 0.95
# Below this many figures a side, the percentile interval of a median is
# narrower than LEVEL claims: simulated A/As of figures that vary say
# higher or lower about 30 % of the time at 2 a side, 13 % at 3, and
# within the claimed 5 % from 5 on (tests/kit/test_stats.py).
FEW_BOOTS = 5

Ratio = namedtuple("Ratio", "median_a median_b ratio lo hi verdict n_a n_b")
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


def ratio(a, b, resamples=RESAMPLES, level=LEVEL, seed=SEED):
    a, b = clean(a), clean(b)
    if not a or not b:
        return Ratio(statistics.median(a) if a else None,
                     statistics.median(b) if b else None,
                     None, None, None, "n/a", len(a), len(b))
    ma, mb = statistics.median(a), statistics.median(b)

    def draw(rng):
        sa = statistics.median(_resample(rng, a))
        return _ratio(statistics.median(_resample(rng, b)), sa)
    lo, hi = _bootstrap(draw, resamples, level, seed)
    return Ratio(ma, mb, _ratio(mb, ma), lo, hi, verdict(lo, hi),
                 len(a), len(b))


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
