"""Runs the comparison kit's unit tests (test_*.py here) with unittest
and prints a line per test as tests/run.sh reads them: PASS: name,
FAIL: name: why, SKIP: name: why. Exits non-zero when one failed."""

import sys
import unittest
from pathlib import Path


class Lines(unittest.TextTestResult):
    def name(self, test):
        return "kit-unit-" + test.id().split(".", 1)[-1]

    def addSuccess(self, test):
        print("PASS: " + self.name(test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        why = self._exc_info_to_string(err, test).strip().splitlines()[-1]
        print("FAIL: %s: %s" % (self.name(test), why))

    addError = addFailure

    def addSkip(self, test, reason):
        print("SKIP: %s: %s" % (self.name(test), reason))


here = Path(__file__).resolve().parent
suite = unittest.defaultTestLoader.discover(str(here),
                                            top_level_dir=str(here))
with open("/dev/null", "w") as null:
    result = unittest.TextTestRunner(resultclass=Lines, stream=null,
                                     verbosity=0).run(suite)
sys.exit(not result.wasSuccessful() or not result.testsRun)
