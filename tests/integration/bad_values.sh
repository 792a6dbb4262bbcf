#!/bin/bash
# Values fio's option parser refuses for the engine's options: fio's own
# message naming the option (and, for choices, the valid values), and a
# non-zero exit before any job runs.
. "$(dirname "$0")/../lib.sh"

bad() { # name, option=value, pattern
	local out=$SCRATCH/bad-$1.out
	ufio "$out" --name="$1" --filename=/dev/zero --size=1m "$2"
	local rc=$?
	if [ $rc = 0 ] || [ $rc -ge 124 ]; then
		fail "$1" "fio exited $rc"
	elif grep -q 'err= ' "$out"; then
		fail "$1" "a job ran"
	elif ! grep -qE -- "$3" "$out"; then
		fail "$1" "no '$3' in: $(head -c 300 "$out" | tr '\n' ' ')"
	else
		pass "$1"
	fi
}

bad bad-reg-mode --reg_mode=bogus 'failed parsing reg_mode=bogus'
bad bad-reg-folio --reg_folio=3m 'valid values: 4k'
bad bad-reg-strategy --reg_strategy=fast 'valid values: iomem'
bad bad-rereg-interval --rereg_interval=soon 'failed parsing rereg_interval=soon'
bad bad-sqpoll-cpu --sqthread_poll_cpu=x 'failed parsing sqthread_poll_cpu=x'
bad bad-reg-stats-empty --reg_stats= 'failed parsing reg_stats='
