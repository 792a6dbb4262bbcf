#!/bin/bash
# The tree's Layout (docs/tests.md) matches the tree: what it names exists,
# and it names every top-level entry and every file of engine/, include/,
# scripts/ and docs/; its Tests section names every test; the relative
# links of README.md and docs/*.md hold (doc_layout.py). Needs no root and
# no fio.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { skip doc-layout "no python3"; exit 0; }
python3 "$(dirname "$0")/doc_layout.py"
