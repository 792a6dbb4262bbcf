#!/bin/busybox sh
# /init of the lab's guest (busybox, fio, the engine; scripts/lab/lab.py
# builds the initramfs). Runs the cases of /lab/cases one after the other,
# each as "fio --section=S JOB" with JSON output, sampling the pins the
# kernel holds while it runs, and sends each case's results on the console
# as soon as it ends (base64 of a tar.gz between markers), so that a
# kernel that dies mid-matrix loses only the case it died in; then powers
# off.
#
# /lab/cases: one case a line, "INDEX NAME SECTION JOBFILE" (JOBFILE under
# /lab/jobs). /lab/thp/NAME: what case NAME needs of the kernel, "need
# PATH WHY" lines (PATH missing: the case is unavailable, WHY, and not
# run), then its THP switches, "set PATH VALUE" lines (written before the
# case, each put back after it to what it was: the boot's default).
# /lab/settings: shell variables (CASE_TIMEOUT, BRD_KB, TOTAL: the
# matrix's size, of which these cases are the ones left).
# Console lines for the host start with "@@LAB ".
# shellcheck shell=sh

/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/sbin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
dmesg -n 1
echo "@@LAB BOOTED"

CASE_TIMEOUT=600
BRD_KB=0
TOTAL=0
NUMA_HUGE2M=
# shellcheck disable=SC1091
. /lab/settings

out=/out
mkdir -p "$out/json" "$out/logs"
# busybox sh has ulimit -l.
# shellcheck disable=SC3045
ulimit -l unlimited

# Pages the kernel holds pinned (FOLL_PIN), per-CPU deltas folded first.
pins() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^nr_foll_pin_acquired/ { a = $2 } /^nr_foll_pin_released/ { r = $2 }
		END { print a - r }' /proc/vmstat
}

# Pins the kernel has taken since boot (nr_foll_pin_acquired).
acquired() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^nr_foll_pin_acquired/ { print $2 }' /proc/vmstat
}

# send FILE...: those files under $out to the host, checksummed.
send() {
	(cd "$out" && tar -czf /tmp/blob.tgz "$@") 2>/dev/null
	echo "@@LAB BLOB $(sha256sum /tmp/blob.tgz | cut -d' ' -f1)"
	base64 /tmp/blob.tgz
	echo "@@LAB BLOB END"
	rm -f /tmp/blob.tgz
}

kv() { echo "$1=$2" >>"$out/guest.txt"; }

# A NUMA guest (lab.py --numa): each node's 2 MiB hugetlb pages as asked
# (the command line's spread them evenly), and per case its counters.
nodes() { ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null; }
node=0
for want in $NUMA_HUGE2M; do
	echo "$want" >"/sys/devices/system/node/node$node/hugepages/hugepages-2048kB/nr_hugepages" 2>/dev/null
	node=$((node + 1))
done
# node_sample LABEL: one line, per node "N free2m MemUsed AnonPages Shmem"
# (KiB).
node_sample() {
	printf '%s' "$1"
	for d in $(nodes); do
		awk -v n="${d##*node}" -v f="$(cat "$d/hugepages/hugepages-2048kB/free_hugepages" 2>/dev/null || echo 0)" \
			'/ MemUsed:/ { u = $4 } / AnonPages:/ { a = $4 } / Shmem:/ { s = $4 }
			END { printf " %s %s %s %s %s", n, f, u + 0, a + 0, s + 0 }' "$d/meminfo"
	done
	echo
}

# why_off NAME: why case NAME cannot run on this kernel (its first "need"
# whose path is missing), or nothing.
why_off() {
	[ -f "/lab/thp/$1" ] || return 0
	while read -r verb path why; do
		if [ "$verb" = need ] && [ ! -e "$path" ]; then
			echo "$why"
			return 0
		fi
	done <"/lab/thp/$1"
}

# The chosen value of a sysfs switch: "always [madvise] never".
chosen() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$1"; }

# set_switches NAME: its "set" lines written, each path's value before
# kept in /tmp/undo (put back by undo_switches), what was done in
# logs/NAME.thp; a write the kernel refuses: one line, status 1.
set_switches() {
	: >/tmp/undo
	[ -f "/lab/thp/$1" ] || return 0
	while read -r verb path value; do
		[ "$verb" = set ] || continue
		old=$(chosen "$path")
		echo "$path $old" >>/tmp/undo
		if ! { echo "$value" >"$path"; } 2>/dev/null; then
			echo "lab-thp: the kernel refused $value for $path (it offers: $(cat "$path"))"
			return 1
		fi
		echo "$path=$value (was $old, reads $(chosen "$path"))" >>"$out/logs/$1.thp"
	done <"/lab/thp/$1"
}

# undo_switches NAME: each switch put back, last first, said in
# logs/NAME.thp ("PATH put back to OLD, reads NOW").
undo_switches() {
	tac /tmp/undo | while read -r path old; do
		{ echo "$old" >"$path"; } 2>/dev/null
		echo "$path put back to $old, reads $(chosen "$path")" >>"$out/logs/$1.thp"
	done
	: >/tmp/undo
}
kv release "$(uname -r)"
kv cpu_model "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
kv cpus "$(grep -c ^processor /proc/cpuinfo)"
kv mem_kb "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
kv cmdline "$(cat /proc/cmdline)"
kv fio "$(fio --version 2>&1)"
kv thp "$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
for d in /sys/kernel/mm/hugepages/hugepages-*; do
	[ -d "$d" ] && kv "hugepages_${d##*-}" "$(cat "$d/nr_hugepages")"
done
grep -q hugetlbfs /proc/filesystems && kv hugetlbfs yes || kv hugetlbfs no
# A hugetlbfs mount per page size the kernel has, for the cases on
# reg_backing=hugetlbfs: /mnt/hugetlbfs-2m, /mnt/hugetlbfs-1g.
mounts=
for size in 2m:2048 1g:1048576; do
	[ -d "/sys/kernel/mm/hugepages/hugepages-${size#*:}kB" ] || continue
	d=/mnt/hugetlbfs-${size%:*}
	mkdir -p "$d" &&
		mount -t hugetlbfs -o "pagesize=${size#*:}K" none "$d" &&
		mounts="$mounts $d"
done
kv hugetlbfs_mounts "${mounts# }"
if [ -n "$NUMA_HUGE2M" ]; then
	for d in $(nodes); do
		kv "${d##*/}" "cpus=$(cat "$d/cpulist") mem_kb=$(awk '/ MemTotal:/ { print $4 }' "$d/meminfo") huge2m=$(cat "$d/hugepages/hugepages-2048kB/nr_hugepages")"
	done
fi
[ -r /proc/config.gz ] && zcat /proc/config.gz >"$out/config"

if [ "$BRD_KB" != 0 ]; then
	if [ -f /lab/modules/brd.ko ] &&
		insmod /lab/modules/brd.ko rd_nr=1 rd_size="$BRD_KB" max_part=0 2>"$out/logs/brd.log"; then
		kv brd "/dev/ram0 ${BRD_KB}KiB"
	elif [ -b /dev/ram0 ]; then
		kv brd "/dev/ram0 built in"
	else
		kv brd "none: $(cat "$out/logs/brd.log" 2>/dev/null)"
	fi
fi

files=guest.txt
[ -f "$out/config" ] && files="$files config"
# shellcheck disable=SC2086
send $files

n=$TOTAL
while read -r i name section job; do
	[ -n "$name" ] || continue
	off=$(why_off "$name")
	if [ -n "$off" ]; then
		echo "@@LAB CASE $i $n $name UNAVAILABLE $off"
		continue
	fi
	echo "@@LAB CASE $i $n $name START"
	t0=$(date +%s)
	if ! set_switches "$name" >"$out/logs/$name.log" 2>&1; then
		undo_switches "$name"
		send "logs/$name.log" "logs/$name.thp"
		echo "@@LAB CASE $i $n $name END rc=97 pins=0 pins_after=0 secs=0 $(cat "$out/logs/$name.log")"
		continue
	fi
	base=$(pins)
	acq=$(acquired)
	[ -n "$NUMA_HUGE2M" ] && node_sample base >"$out/logs/$name.nodes"
	timeout "$CASE_TIMEOUT" fio --section="$section" --output-format=json \
		--output="$out/json/$name.json" "/lab/jobs/$job" \
		>"$out/logs/$name.log" 2>&1 </dev/null &
	pid=$!
	# The job holds its pins for its whole run; anything else (the
	# engine's rules probe pins a few pages for a moment) shows in a
	# sample or two. The pins held: the most frequent non-zero sample.
	: >"$out/logs/$name.pins"
	while kill -0 "$pid" 2>/dev/null; do
		echo $(($(pins) - base)) >>"$out/logs/$name.pins"
		[ -n "$NUMA_HUGE2M" ] && node_sample run >>"$out/logs/$name.nodes"
		sleep 0.2
	done
	max=$(grep -v '^0$' "$out/logs/$name.pins" | sort -n | uniq -c |
		sort -k1,1n -k2,2n | tail -1 | awk '{ print $2 }')
	max=${max:-0}
	wait "$pid"
	rc=$?
	left=$(($(pins) - base))
	echo $(($(acquired) - acq)) >"$out/logs/$name.acquired"
	undo_switches "$name"
	secs=$(($(date +%s) - t0))
	files="logs/$name.log logs/$name.acquired"
	[ -n "$NUMA_HUGE2M" ] && node_sample after >>"$out/logs/$name.nodes" &&
		files="$files logs/$name.nodes"
	[ -f "$out/json/$name.json" ] && files="$files json/$name.json"
	[ -f "$out/logs/$name.thp" ] && files="$files logs/$name.thp"
	# shellcheck disable=SC2086
	send $files
	echo "@@LAB CASE $i $n $name END rc=$rc pins=$max pins_after=$left secs=$secs $(grep -m1 -E 'uring_folioreg:|fio: |error' "$out/logs/$name.log" | tr -d '\r' | cut -c1-300)"
done </lab/cases

echo "@@LAB DONE"
sync
poweroff -f
