#!/bin/bash
# Every command README.md, docs/*.md and the man page show is run by a
# test: this one runs the cheap ones and the man page's examples verbatim,
# and checks that the others are run by the test its rule names
# (doc_commands.py).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { skip doc-commands "no python3"; exit 0; }
command -v jq >/dev/null || { skip doc-commands "no jq (apt-get install jq)"; exit 0; }
ENGINE=$ENGINE SCRATCH=$SCRATCH python3 "$(dirname "$0")/doc_commands.py"
