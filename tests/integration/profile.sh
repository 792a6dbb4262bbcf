#!/bin/bash
# reg_profile=1: the kernel sampled during the register calls only. On
# 256 x 1 MiB, re-registered every 10 ms for a few seconds, per_page
# spends most samples in gup_fast_fallback (the per-page pin walk, also
# where a timer's samples deferred to its irq-enable are given back) and
# hugetlb_fast 2m more in io_check_coalesce_buffer than in
# gup_fast_fallback (Linux 6.18). Off: null, no perf fd. As nobody: null
# with the reason, on stderr too, and the job runs.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip profile "needs root (perf_event_open on the kernel, /proc/kallsyms)"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 260 )) ||
	{ skip profile "cannot reserve 2 MiB hugetlb pages"; exit 0; }

big=(--filename=/dev/zero --rw=read --bs=1m --iodepth=256 --size=1g
	--time_based --runtime=3 --rereg_interval=10ms --output-format=json)
P='.jobs[0].uring_folioreg.reg'

# rank FILE FUNCTION: its place in the top list (0 first), or 99.
rank() {
	jq -r --arg f "$2" "[$P.profile.top[].function] | (index(\$f) // 99)" "$1"
}

out=$SCRATCH/prof-per-page.json
ufio "$out" --name=pp "${big[@]}" --reg_strategy=per_page --reg_profile=1
rc=$?
if [ $rc != 0 ] || ! jq -e "$P.profile.samples > 500" "$out" >/dev/null 2>&1; then
	fail profile-per-page "rc=$rc, too few samples or none: $(jq -c "$P.profile // $P.profile_note" "$out" 2>&1 | head -c 300)"
elif [ "$(rank "$out" gup_fast_fallback)" = 0 ]; then
	pass profile-per-page
else
	fail profile-per-page "gup_fast_fallback is not first: $(jq -c "$P.profile | {event, skid_moved, top: .top[:4]}" "$out")"
fi
echo "per_page: $(jq -c "$P.profile | {samples, register_calls, event, skid_moved, top: .top[:5]}" "$out" 2>/dev/null)"

# The event is one the profiler tries, cpu-clock only when no cycles
# event opens here (perf stat says which); the moved samples are some of
# the attributed ones, and no irq-enable is left in the top list (its
# samples went to their callers).
if perf stat -e cycles:k -x, -- true 2>&1 | grep -qE '^[0-9]+,'; then
	want='^cycles(:p{1,3})?$'
else
	want='^cpu-clock$'
fi
ev=$(jq -r "$P.profile.event" "$out" 2>/dev/null)
leftover=$(jq -r "$P.profile.top[].function" "$out" 2>/dev/null |
	grep -E '(^|_)(irq_enable|irq_restore|restore_fl)(_direct)?$|_unlock_irq(restore)?$')
if ! command -v perf >/dev/null; then
	skip profile-event "no perf tool to say which events this host counts"
elif [[ $ev =~ $want ]] && [ -z "$leftover" ] &&
	jq -e "$P.profile.skid_moved <= $P.profile.samples" "$out" >/dev/null 2>&1; then
	pass profile-event
else
	fail profile-event "event '$ev' (want $want), irq-enables left in the top: '$leftover', $(jq -c "$P.profile | {samples, skid_moved}" "$out" 2>&1)"
fi

out=$SCRATCH/prof-hf.json
ufio "$out" --name=hf "${big[@]}" --reg_strategy=hugetlb_fast --reg_folio=2m \
	--reg_profile=1
rc=$?
c=$(rank "$out" io_check_coalesce_buffer)
g=$(rank "$out" gup_fast_fallback)
if [ $rc != 0 ] || ! jq -e "$P.profile.samples > 200" "$out" >/dev/null 2>&1; then
	fail profile-hugetlb-fast "rc=$rc, too few samples or none: $(jq -c "$P.profile // $P.profile_note" "$out" 2>&1 | head -c 300)"
elif [ "$c" -lt "$g" ]; then
	pass profile-hugetlb-fast
else
	fail profile-hugetlb-fast "io_check_coalesce_buffer at $c, gup_fast_fallback at $g: $(jq -c "$P.profile.top[:4]" "$out")"
fi
echo "hugetlb_fast: $(jq -c "$P.profile | {samples, register_calls, event, skid_moved, top: .top[:5]}" "$out" 2>/dev/null)"

# The shares add up to at most 1; the text block has its line.
if jq -e "([$P.profile.top[].share] | add) <= 1.0001 and
	$P.profile_note == null and $P.profile.register_calls > 1" "$out" >/dev/null 2>&1; then
	pass profile-json-shape
else
	fail profile-json-shape "$(jq -c "$P" "$out" 2>&1 | head -c 400)"
fi
out=$SCRATCH/prof-text.txt
ufio "$out" --name=text --filename=/dev/zero --rw=read --bs=1m --iodepth=16 \
	--size=64m --reg_strategy=per_page --reg_profile=1
if grep -qE '^ +profile : samples=[0-9]+, register_calls=1, event=[a-z:-]+, skid_moved=[0-9]+, top:' "$out"; then
	pass profile-text-line
else
	fail profile-text-line "$(grep -m1 'profile' "$out" || echo 'no profile line')"
fi

# Off: null with the reason, and no perf event opened. The job's processes
# are looked at every 0.1 s while it runs: they must be seen holding their
# ring (else nothing was looked at), and the same watch must see the perf
# event of a job with reg_profile=1 (else it could not see one).
# watch_fds NAME PROFILE: a 2 s job with reg_profile=PROFILE, JSON in
# $SCRATCH/prof-NAME.json; prints "RING PERF": 1 if a process of it was
# seen holding an io_uring fd, a perf event fd.
watch_fds() {
	local bg ring=0 perf=0 p fd
	ufio "$SCRATCH/prof-$1.json" --name="$1" --filename=/dev/zero --rw=read \
		--bs=1m --iodepth=16 --size=64m --time_based --runtime=2 \
		--reg_strategy=per_page --reg_profile="$2" --output-format=json &
	bg=$!
	while kill -0 "$bg" 2>/dev/null; do
		for p in $(pgrep -f -- "--name=$1 --filename=/dev/zero"); do
			for fd in /proc/"$p"/fd/*; do
				case $(readlink "$fd" 2>/dev/null) in
				'anon_inode:[io_uring]') ring=1 ;;
				'anon_inode:[perf_event]') perf=1 ;;
				esac
			done
		done
		sleep 0.1
	done
	wait "$bg"
	echo "$ring $perf"
}
seen_on=$(watch_fds profon 1)
seen_off=$(watch_fds profoff 0)
got=$(jq -c "[$P.profile, $P.profile_note]" "$SCRATCH/prof-profoff.json" 2>&1)
if [ "$got" != '[null,"reg_profile=0"]' ]; then
	fail profile-off "reg_profile=0 reported $got"
elif [ "${seen_off% *}" != 1 ]; then
	fail profile-off "the job with reg_profile=0 was never seen holding its ring: its file descriptors were not looked at"
elif jq -e "$P.profile == null" "$SCRATCH/prof-profon.json" >/dev/null 2>&1; then
	skip profile-off "reg_profile=1 opens no perf event here ($(jq -c "$P.profile_note" "$SCRATCH/prof-profon.json" 2>&1)), so the watch cannot be shown to see one"
elif [ "$seen_on" != "1 1" ]; then
	fail profile-off "the watch saw no perf event fd in the job with reg_profile=1 (ring, perf seen: $seen_on): it could not see one in the job with reg_profile=0 either"
elif [ "${seen_off#* }" != 0 ]; then
	fail profile-off "a perf event fd was open in the job with reg_profile=0"
else
	pass profile-off
fi

# As nobody: no privilege; null with the reason, and the job runs.
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
	chmod o+rx "$TOP" "$TOP/build" 2>/dev/null
	out=$SCRATCH/prof-nobody.json
	(cd /tmp && runuser -u nobody -- timeout 60 fio \
		--ioengine="external:$ENGINE" --name=nobody --filename=/dev/zero \
		--rw=read --bs=64k --iodepth=4 --size=16m --reg_strategy=per_page \
		--reg_profile=1 --output-format=json) >"$out" 2>"$SCRATCH/prof-nobody.err"
	rc=$?
	if [ $rc = 0 ] && jq -e "$P.profile == null and
		($P.profile_note | startswith(\"reg_profile: kernel sampling is not allowed\"))" "$out" >/dev/null 2>&1 &&
		grep -q '^uring_folioreg note: nobody: reg_profile: kernel sampling is not allowed' "$SCRATCH/prof-nobody.err"; then
		pass profile-nobody
	else
		fail profile-nobody "rc=$rc: $(jq -c "$P.profile_note" "$out" 2>&1) $(head -c 300 "$SCRATCH/prof-nobody.err")"
	fi
else
	skip profile-nobody "no user nobody or no runuser"
fi
