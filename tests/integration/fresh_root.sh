#!/bin/bash
# The set-up on a fresh Debian 12: a clean bookworm root (debootstrap
# --variant=minbase, from the Debian mirror this machine's apt uses),
# a clean checkout of HEAD copied into it (git archive), and there, in a
# chroot with the host's /proc, /sys and /dev: the README's set-up (apt-get
# install make, which a fresh Debian lacks; make deps), make, a short
# fio job with the engine, and the lab's dependency step (make deps-lab,
# then scripts/lab/kernel-build.sh --check-tools and QEMU's --version).
# It catches an install step that only a developer's machine made.
# FRESH_ROOT_REV: the commit to copy (default HEAD).
#
# The root is built once and kept as a tarball under build/fresh-root
# (FRESH_ROOT_REFRESH=1 builds it again); the .debs apt fetches in it are
# kept there too, so a second run downloads nothing. The mounts are made
# in a private mount namespace (unshare): they go with its last process,
# on every exit path, and the host never sees them. Skipped, with the
# reason, when not root, not a git checkout, or the archive cannot be
# read.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

NAME=fresh-root
CACHE=$TOP/build/fresh-root
TARBALL=$CACHE/bookworm-minbase.tar.gz
DEBS=$CACHE/debs
WORK=$SCRATCH/fresh-root
ROOT=$WORK/root
LOG=$WORK/log

if [ "$(id -u)" != 0 ]; then
	skip "$NAME" "needs root (debootstrap, chroot, mounts)"
	exit 0
fi
REV=${FRESH_ROOT_REV:-HEAD}
if ! git -C "$TOP" rev-parse --verify -q "$REV^{commit}" >/dev/null; then
	skip "$NAME" "$TOP is not a git checkout (or has no $REV): no clean checkout to copy"
	exit 0
fi
for t in debootstrap unshare chroot; do
	if ! command -v $t >/dev/null; then
		fail "$NAME" "$t is not installed (make deps installs debootstrap)"
		exit 0
	fi
done

# The Debian mirror this machine's apt uses (deb822 or one-line format).
mirror=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian/\?\)[[:space:]]*$|\1|p' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's|^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*/debian/\?\)[[:space:]].*|\2|p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
security=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
	grep -v '^[[:space:]]*#' | grep -o 'https\?://[^[:space:]]*/debian-security/\?' | head -1)

# Whatever happens: nothing of the root left but the cache.
cleanup() {
	# The mounts live in the namespace of the chroot's process tree only;
	# refuse to remove a root that still shows one here.
	if grep -q " ${ROOT}[/ ]" /proc/self/mounts; then
		echo "FAIL: $NAME: mounts under $ROOT visible on the host: $(grep " ${ROOT}[/ ]" /proc/self/mounts | cut -d' ' -f2 | tr '\n' ' ')"
		return
	fi
	rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
rm -rf --one-file-system "$WORK"
mkdir -p "$WORK" "$CACHE" "$DEBS"

t0=$SECONDS
if [ ! -f "$TARBALL" ] || [ "${FRESH_ROOT_REFRESH:-0}" = 1 ]; then
	if ! debootstrap --variant=minbase bookworm "$ROOT" "$mirror" \
		>"$WORK/debootstrap.log" 2>&1; then
		why=$(grep -m1 -E '^E:|Failed' "$WORK/debootstrap.log" || tail -1 "$WORK/debootstrap.log")
		rm -rf --one-file-system "$ROOT"
		skip "$NAME" "debootstrap bookworm from $mirror failed (Debian's archive cannot be read?): $why"
		exit 0
	fi
	# Its own downloads go; apt's later ones are cached in $DEBS.
	rm -f "$ROOT"/var/cache/apt/archives/*.deb
	tar -C "$ROOT" --numeric-owner -czf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
	echo "fresh-root: built $TARBALL from $mirror in $((SECONDS - t0)) s"
else
	mkdir -p "$ROOT"
	tar -C "$ROOT" --numeric-owner -xzf "$TARBALL"
fi
t_root=$((SECONDS - t0))

# A fresh machine's apt sources: the mirror's bookworm and its updates,
# and the security archive when this machine has one.
{
	echo "deb $mirror bookworm main"
	echo "deb $mirror bookworm-updates main"
	[ -z "$security" ] || echo "deb $security bookworm-security main"
} >"$ROOT/etc/apt/sources.list"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
# No daemon of an installed package starts in the chroot; dpkg does not
# sync each file (a root thrown away after the test: what is installed
# is the same, in a fraction of the time).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/fresh-root-unsafe-io"
mkdir -p "$ROOT/src/ufr"
git -C "$TOP" archive "$REV" | tar -x -C "$ROOT/src/ufr"

# The steps, as a new user runs them; each one's output in the log, its
# name on a line before it.
cat >"$ROOT/src/steps.sh" <<'EOF'
#!/bin/sh
step() {
	echo "@@STEP $*"
	"$@" || { echo "@@FAILED $* (exit $?)"; exit 1; }
}
cd /src/ufr || exit 1
# The README's one prerequisite: make (a fresh Debian 12 has none).
export DEBIAN_FRONTEND=noninteractive
step apt-get update -qq
step apt-get install -y -qq --no-install-recommends make
step make deps
step make
step fio --ioengine=external:./uring_folioreg.so --name=fresh \
	--filename=/dev/null --rw=write --bs=64k --iodepth=8 --size=16m \
	--reg_strategy=per_page --output-format=json --output=/src/fio.json
step make deps-lab
step scripts/lab/kernel-build.sh --check-tools
step qemu-system-x86_64 --version
echo "@@DONE"
EOF
chmod 755 "$ROOT/src/steps.sh"

t1=$SECONDS
# The private namespace: the binds vanish with it. /dev with what is
# mounted under it (/dev/pts: dpkg's terminal). apt's downloads go to the
# cache; nothing else of the host is visible.
unshare --mount --propagation private sh -c '
	r=$1 d=$2
	mount --bind /proc "$r/proc" && mount --bind /sys "$r/sys" &&
		mount --rbind /dev "$r/dev" &&
		mount --bind "$d" "$r/var/cache/apt/archives" || exit 1
	exec chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 /src/steps.sh
' sh "$ROOT" "$DEBS" >"$LOG" 2>&1 </dev/null
rc=$?
t_steps=$((SECONDS - t1))
cp "$LOG" "$SCRATCH/fresh-root.log"
echo "fresh-root: root in ${t_root} s, steps in ${t_steps} s (log: $SCRATCH/fresh-root.log)"

if grep -q '^@@DONE' "$LOG" && [ "$rc" = 0 ]; then
	pass "$NAME: make deps, make, a fio job with the engine and make deps-lab in a fresh Debian 12 root"
else
	failed=$(grep -m1 '^@@FAILED' "$LOG" | sed 's/^@@FAILED //')
	# The step's last words that say something.
	why=$(sed -n '/^@@STEP/h; /^@@STEP/!H; ${x;p}' "$LOG" | grep -v '^@@' |
		grep -E 'rror|not found|uring_folioreg:|lab:|missing|No such' | tail -2 | tr '\n' ' ')
	fail "$NAME" "${failed:-the chroot exited $rc}: ${why:-$(tail -2 "$LOG" | tr '\n' ' ')}"
fi
# The job ran with the engine and reported its figures.
if grep -q '^@@STEP make deps-lab' "$LOG"; then
	got=$(jq -r '.jobs[0].uring_folioreg.segments.bvecs // empty' "$ROOT/src/fio.json" 2>/dev/null)
	if [[ $got =~ ^[1-9][0-9]*$ ]]; then
		pass "$NAME: the engine's fio job in the fresh root reports bvecs=$got"
	else
		fail "$NAME: fio job" "no uring_folioreg.segments.bvecs in its JSON: $(head -c 200 "$ROOT/src/fio.json" 2>/dev/null)"
	fi
fi
