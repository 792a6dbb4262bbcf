"""The comparison kit of uring_folioreg (examples/compare.py): io_uring
buffer registration strategies compared with the engine under fio.

Modules by concern: cases (matrices and their job files), probe (what
this machine can do), host (the THP switches and mounts it changes),
provenance, running, results (runs.json and fio's JSON read back, rows
and their statistics), abstats (the statistics), table, plots, diff and
cli (options and exit codes: the only module that exits).
"""

import os
import sys

# The example job files: beside this package (a link to it resolved).
EXAMPLES = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


class KitError(Exception):
    """What went wrong, in one line for the user (compare.py prints it
    after 'compare: ' and exits 1)."""


def warn(msg):
    print("compare: " + msg, file=sys.stderr)
