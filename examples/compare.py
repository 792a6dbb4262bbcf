#!/usr/bin/env python3
"""Compare io_uring buffer registration strategies with uring_folioreg.

The comparison kit's command (compare.py run|table|plot|diff, --help says
more); the kit itself is the package beside this file, comparekit/."""

import os
import sys

from comparekit import abstats, cli
from comparekit.cases import MATRICES

__all__ = ["abstats", "MATRICES", "parser", "main"]

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The engine run's jobs load unless --engine says otherwise (make install
# points this at the installed engine).
ENGINE = os.path.join(TOP, "uring_folioreg.so")


def parser():
    return cli.parser(ENGINE)


def main(argv=None):
    return cli.main(argv, ENGINE)


if __name__ == "__main__":
    sys.exit(main())
