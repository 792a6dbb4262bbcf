#!/bin/bash
# The output contract in another fio (docs/packaging.md: fio versions):
# output.sh and client_server.sh again, run by the second fio (lib.sh:
# other_fio; by default Debian unstable's, which make check prepares with make
# other-fio; any other with OTHER_FIO_SRC and OTHER_FIO_BIN) with the
# engine built against its source tree, through lib.sh's UFR_FIO and
# UFR_ENGINE. Each case is reported under the fio's version and the
# script's name ("PASS: fio-3.41/output/terse-untouched"). Without a
# second fio: one SKIP with the reason.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

other_fio
case $? in
0) ;;
"$SKIPPED")
	skip output-other-fio "$WHY"
	exit 0
	;;
*)
	fail output-other-fio "$WHY"
	exit 0
	;;
esac
if ! other_fio_engine "$SCRATCH/output-other-fio-build.log"; then
	fail "$OTHER_FIO/build" "$WHY"
	exit 0
fi
pass "$OTHER_FIO/build"

for t in output client_server; do
	UFR_FIO=$OTHER_FIO_BIN UFR_ENGINE=$OTHER_ENGINE \
		bash "$(dirname "$0")/$t.sh" >"$SCRATCH/output-other-fio-$t.log" 2>&1
	rc=$?
	sed -E "s|^(PASS\|FAIL\|SKIP): |\1: $OTHER_FIO/$t/|" \
		"$SCRATCH/output-other-fio-$t.log"
	if [ $rc != 0 ] && ! grep -q '^FAIL: ' "$SCRATCH/output-other-fio-$t.log"; then
		fail "$OTHER_FIO/$t" "exited $rc without reporting a failure"
	fi
done
