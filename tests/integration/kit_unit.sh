#!/bin/bash
# The comparison kit's pure parts (examples/comparekit: statistics, table
# rows and CSV lines, provenance lines, diff, the host probe's verdicts,
# cases and job files) unit-tested with Python's unittest (tests/kit):
# no root, no fio, a line per test.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PYTHONPATH=$TOP/examples python3 -B "$TOP/tests/kit/run.py"
