#!/bin/bash
# Randomized jobs: random combinations of the engine's options and fio's,
# each of which either runs with valid JSON whose figures are the
# predicted ones (bvecs_observed, the kernel's count, equal to bvecs), or is
# refused with one clear line; never a crash, a hang, a leaked pin or
# hugetlb page, or a verify error. The cases are drawn and judged by
# random_jobs.py; this script reserves the hugetlb pages they need and
# gives back what it found. Where the kernel has multi-size THP
# (/sys/kernel/mm/transparent_hugepage/hugepages-*kB), some cases run
# coalesced on reg_folio=16k .. 1m: for that job random_jobs.py sets the
# size's enabled to madvise and every larger size's to never, and puts
# back what it found after it (and on a signal).
#
#   UFR_RANDOM_SEED    the seed (default fixed, so every run draws the same cases)
#   UFR_RANDOM_CASES   how many cases (default 130, about 2 minutes here)
#   UFR_RANDOM_BUDGET  stop drawing after this many seconds (default 150)
#   UFR_RANDOM_ONLY    run only these case numbers (comma-separated)
#   UFR_RANDOM_TIMEOUT hang guard per case in seconds (default 30; the jobs take about 1 s)
#   UFR_RANDOM_HUGEPAGES  2 MiB pages to add to the pool (default 600)
#   UFR_RANDOM_STRICT_LINE=1  a refusal of numjobs=N jobs must print its line
#                      once, not once per job (the default accepts N copies)
#
# Every case prints its fio command line; a failure ends with "replay:"
# and the command to run it again, and the seed and case number replay it
# here: UFR_RANDOM_SEED=S UFR_RANDOM_ONLY=N TESTS=random_jobs tests/run.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip random-jobs "needs root (pin counters, hugetlb, pagemap)"; exit 0; }
command -v python3 >/dev/null || { skip random-jobs "no python3"; exit 0; }
[ -r /proc/vmstat ] && grep -q '^nr_foll_pin_acquired' /proc/vmstat ||
	{ skip random-jobs "no nr_foll_pin_acquired in /proc/vmstat"; exit 0; }
# A signal still runs lib.sh's EXIT trap, which restores nr_hugepages.
trap 'exit 130' INT TERM HUP

hp2=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
hp_reserve 2048 $(($(cat "$hp2") + ${UFR_RANDOM_HUGEPAGES:-600})) ||
	echo "# could not reserve all the 2 MiB hugetlb pages asked for; cases that need more must be refused"
# A 1 GiB page when the kernel can find one; cases that need more are
# predicted to be refused.
hp1g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
if [ -w "$hp1g" ]; then
	hp_reserve 1048576 $(($(cat "$hp1g") + 1)) ||
		echo "# no 1 GiB hugetlb page could be reserved"
fi

ENGINE=$ENGINE SCRATCH=$SCRATCH python3 "$(dirname "$0")/random_jobs.py"
