#!/bin/bash
# An unprivileged user: the privileged reads (pagemap frame numbers,
# kpageflags, stat_refresh) degrade cleanly: figures computed from the
# plan, bvecs_observed null, the job itself fine.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
	skip unprivileged "needs root to switch to nobody"
	exit 0
fi
chmod o+rx "$TOP" "$TOP/build" 2>/dev/null
out=$SCRATCH/nobody.json
# 4 x 64 KiB stays under the default memlock limit (8 MiB).
(cd /tmp && runuser -u nobody -- timeout "$FIO_TIMEOUT" fio \
	--ioengine="external:$ENGINE" --name=nobody --filename=/dev/zero \
	--rw=read --bs=64k --iodepth=4 --size=16m --reg_strategy=per_page \
	--output-format=json) >"$out" 2>"$SCRATCH/nobody.err"
rc=$?
if [ $rc = 0 ] && jq -e '.jobs[0].error == 0 and
	.jobs[0].uring_folioreg.segments.source == "plan" and
	.jobs[0].uring_folioreg.segments.bvecs == 64 and
	.jobs[0].uring_folioreg.segments.bvecs_observed == null and
	(.jobs[0].uring_folioreg.segments.observed_note | contains("root")) and
	(.jobs[0].uring_folioreg.segments.rules.how |
		startswith("kernel version"))' "$out" >/dev/null 2>&1; then
	pass unprivileged-figures-from-plan
else
	fail unprivileged-figures-from-plan "rc=$rc: $(head -c 300 "$out" "$SCRATCH/nobody.err" | tr '\n' ' ')"
fi
