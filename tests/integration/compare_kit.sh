#!/bin/bash
# The comparison kit (examples/compare.py): a small strategy matrix run
# locally and through fio --client on 127.0.0.1, its table, CSV and plots,
# and the two result sets compared.
. "$(dirname "$0")/../lib.sh"

KIT=$TOP/examples/compare.py
[ "$(id -u)" = 0 ] || { skip compare-kit "needs root for hugetlb pages"; exit 0; }
hp_reserve 2048 $(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) + 64 )) ||
	{ skip compare-kit "cannot reserve hugetlb pages"; exit 0; }
small=(--size 64m --depth 8 --runtime 1 --file "$SCRATCH/kit.dat")

# run NAME DIR ARGS...: a matrix into DIR; progress shows run i of N.
run() {
	local name=$1 dir=$2
	shift 2
	rm -rf "$dir"
	if "$KIT" run "$@" --out "$dir" >"$dir.log" 2>&1 &&
		grep -q '^\[1/[0-9]*\] .* elapsed .*, eta' "$dir.log"; then
		pass "$name"
	else
		fail "$name" "$(tail -c 400 "$dir.log" | tr '\n' ' ')"
	fi
}

run kit-run-local "$SCRATCH/kitA" strategies "${small[@]}"
"$KIT" table "$SCRATCH/kitA" >"$SCRATCH/kitA.md" 2>&1
ok=1
for st in per_page coalesced-2m hugetlb_fast-2m iomem-mmaphuge iomem none; do
	grep -q "^| $st | " "$SCRATCH/kitA.md" || ok=0
done
if [ $ok = 1 ] && [ "$(grep -c ',' "$SCRATCH/kitA/results.csv")" = 8 ] &&
	grep -q '^| hugetlb_fast-2m | hugetlb_fast | 2m | 8 | .* | 8 | 8 | 1.00 |' "$SCRATCH/kitA.md"; then
	pass kit-table-and-csv
else
	fail kit-table-and-csv "$(head -c 600 "$SCRATCH/kitA.md" | tr '\n' ' ')"
fi

png_ok() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
"$KIT" plot "$SCRATCH/kitA" >"$SCRATCH/kitA.plots" 2>&1
if png_ok "$SCRATCH/kitA/bvecs.png" && png_ok "$SCRATCH/kitA/bandwidth.png"; then
	pass kit-plots
else
	fail kit-plots "$(cat "$SCRATCH/kitA.plots")"
fi

run kit-run-scaling "$SCRATCH/kitS" scaling --scaling-counts 16,64 \
	--scaling-bs 64k --scaling-reps 1
"$KIT" plot "$SCRATCH/kitS" >/dev/null 2>&1
png_ok "$SCRATCH/kitS/reg-scaling.png" && pass kit-scaling-plot ||
	fail kit-scaling-plot "no reg-scaling.png"

# Through a fio server on this machine, as a lab drives other hosts.
port=$((20000 + RANDOM % 20000))
pidfile=$SCRATCH/kit-server.pid
rm -f "$pidfile"
if fio --server=ip:127.0.0.1,$port --daemonize="$pidfile" >/dev/null 2>&1; then
	trap 'kill "$(cat "$pidfile")" 2>/dev/null; hp_restore' EXIT
	sleep 1
	run kit-run-client "$SCRATCH/kitB" strategies "${small[@]}" \
		--client "ip:127.0.0.1,$port"
	if "$KIT" table "$SCRATCH/kitB" 2>&1 | grep -q '^| per_page | per_page | 4k | 8 | .* | 2048 | 2048 | 256 |'; then
		pass kit-client-figures
	else
		fail kit-client-figures "$("$KIT" table "$SCRATCH/kitB" 2>&1 | head -c 400)"
	fi
	"$KIT" diff "$SCRATCH/kitA" "$SCRATCH/kitB" >"$SCRATCH/kit-diff.md" 2>&1
	if grep -q '^| strategies-per_page | bvecs | 2048 | 2048 | 1.000 |' "$SCRATCH/kit-diff.md"; then
		pass kit-diff-ratios
	else
		fail kit-diff-ratios "$(head -c 400 "$SCRATCH/kit-diff.md")"
	fi
else
	skip kit-run-client "fio --server did not start"
fi
rm -f "$SCRATCH/kit.dat"
