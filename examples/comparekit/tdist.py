"""Student's t distribution: the quantile that a t interval needs.

Python's standard library has the normal distribution only; with the
2 to 10 repeats a lab run has, the t's tails are far wider (t at 97.5 %
with 4 degrees of freedom is 2.776, the normal's 1.960). The tail comes
from the regularized incomplete beta function,
P(T > t) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2), evaluated by its
continued fraction (modified Lentz), and the quantile by bisection on it.
tests/kit/test_stats.py checks both against printed tables.
"""

import math

_TINY = 1e-300


def _nonzero(x):
    return x if abs(x) > _TINY else _TINY


def _beta_fraction(a, b, x):
    """The continued fraction of I_x(a, b), for x < (a + 1) / (a + b + 2)."""
    c, d = 1.0, 1 / _nonzero(1 - (a + b) * x / (a + 1))
    h = d
    for m in range(1, 500):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x /
                    ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 / _nonzero(1 + num * d)
            c = _nonzero(1 + num / c)
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) +
                     a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def tail(t, df):
    """P(T > t) for t >= 0, df degrees of freedom (need not be whole)."""
    return 0.5 * betainc(df / 2, 0.5, df / (df + t * t))


def quantile(p, df):
    """The t with P(T > t) = p, for 0 < p < 0.5."""
    lo, hi = 0.0, 1.0
    while tail(hi, df) > p:
        lo, hi = hi, hi * 2
    while hi - lo > 1e-9 * hi:
        mid = (lo + hi) / 2
        if tail(mid, df) > p:
            lo = mid
        else:
            hi = mid
    return hi
