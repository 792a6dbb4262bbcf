"""The statistics of a table cell: the median of a figure's repeats with
its interval (abstats), and the pooled shares of the profiles."""

from . import abstats


def pooled_shares(profiles):
    """[(function, share)], most first: the samples of every run's
    profile (its top functions) added up, over all their samples."""
    total = sum(p["samples"] for p in profiles)
    by = {}
    for p in profiles:
        for t in p["top"]:
            by[t["function"]] = by.get(t["function"], 0) + t["samples"]
    return sorted(((f, n / total) for f, n in by.items()),
                  key=lambda fx: -fx[1]) if total else []


class Stat:
    """The median of a figure's repeats and its 95 % interval (lo, hi),
    whole numbers kept whole where every repeat gave one."""

    def __init__(self, vals):
        vals = [v for v in vals if v is not None]
        self.n = len(vals)
        m = abstats.median_interval(vals)
        self.median, self.lo, self.hi = m.median, m.lo, m.hi
        if vals and all(isinstance(v, int) for v in vals):
            self.median, self.lo, self.hi = (
                int(x) if isinstance(x, float) and x.is_integer() else x
                for x in (self.median, self.lo, self.hi))

    def spread(self):
        """Whether the interval says more than the median."""
        return self.lo is not None and not self.lo == self.hi == self.median


def stat(vals):
    s = Stat(vals)
    return s if s.n else None
