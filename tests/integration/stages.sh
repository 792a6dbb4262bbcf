#!/bin/bash
# The engine's stages call backwards only. Each object of the build
# references (nm -u) no engine function that a later stage defines, in
# the order data flows below; every engine/*.c is in that order, once.
# The stages that decide (config, layout, resolve) call no I/O at all:
# what they know of the machine comes from its snapshot (probe).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

STAGES=(config probe layout resolve memory ring profile registrar inspect report
	splice job fio_output uring_folioreg)
PURE=(config layout resolve)
IO='^(open|openat|fopen|fgets|read|pread|write|statfs|fstatfs|statx|stat|fstat|lstat|opendir|readdir|uname|mmap|ioctl|syscall|numa_.*|madvise|mbind|memfd_create|io_uring_.*)(64)?$'
BUILD_DIR=${BUILD:-$TOP/build}

if ! out=$(make -s all 2>&1); then
	fail stages-build "$(echo "$out" | tail -3 | tr '\n' ' ')"
	exit 0
fi

# Every engine source is a stage, and every stage a source.
listed=" ${STAGES[*]} "
why=""
for src in engine/*.c; do
	s=${src#engine/}
	s=${s%.c}
	[[ $listed == *" $s "* ]] || why+="$src is in no stage of the list in $0; "
done
for s in "${STAGES[@]}"; do
	[ -f "engine/$s.c" ] || why+="stage $s has no engine/$s.c; "
done
if [ -n "$why" ]; then
	fail stages-list "$why"
else
	pass stages-list
fi

# Which stage defines each engine function.
declare -A stage_of
for i in "${!STAGES[@]}"; do
	o=$BUILD_DIR/${STAGES[i]}.o
	[ -f "$o" ] || continue
	while read -r sym; do
		stage_of[$sym]=$i
	done < <(nm -g --defined-only "$o" | awk '$3 ~ /^ufr_/ { print $3 }')
done

why=""
for i in "${!STAGES[@]}"; do
	o=$BUILD_DIR/${STAGES[i]}.o
	if [ ! -f "$o" ]; then
		why+="${STAGES[i]}: no $o; "
		continue
	fi
	while read -r sym; do
		j=${stage_of[$sym]:-}
		if [ -z "$j" ]; then
			why+="${STAGES[i]}.o calls $sym, which no stage defines; "
		elif [ "$j" -gt "$i" ]; then
			why+="${STAGES[i]}.o calls $sym of a later stage, ${STAGES[j]}; "
		fi
	done < <(nm -u "$o" | awk '$2 ~ /^ufr_/ { print $2 }')
done
if [ -n "$why" ]; then
	fail stages-call-backwards "$why"
else
	pass stages-call-backwards
fi

why=""
for s in "${PURE[@]}"; do
	calls=$(nm -u "$BUILD_DIR/$s.o" 2>/dev/null | awk '{ print $2 }' |
		grep -E "$IO" | tr '\n' ' ')
	[ -z "$calls" ] || why+="$s.o calls $calls; "
done
if [ -n "$why" ]; then
	fail stages-decide-without-io "$why"
else
	pass stages-decide-without-io
fi
