#!/bin/sh
# Build one guest kernel of the lab from source, with zero or more
# patches, and cache it as a directory the lab can boot (the layout
# kernel.sh gives: vmlinuz, config, modules/, info).
#
#   kernel-build.sh [--patch FILE]... [--check-only] SRC CACHE
#
# SRC is src:SUITE (the newest linux-source-X.Y package of that Debian
# suite, fetched through a private apt set-up; the system's is left
# alone) or src:DIR / a DIR (any unpacked kernel tree, copied once into
# the cache: the original is never written to).
#
# The configuration is `make tinyconfig` plus scripts/lab/guest.config
# (everything built in: no modules). One build tree is kept per source
# under CACHE/ktree: patches are applied to it for a build and taken out
# again afterwards, so a base and a patched kernel share every object but
# the patched files' (and ccache, when installed, keeps what the tree
# forgets). The result is cached under CACHE/kernels/src-LABEL-KEY, KEY a
# hash of the source's identity, the configuration fragment and the
# patches' contents in order: a second run with the same inputs reuses it.
#
# --check-only: prepare the tree and check that the patches apply, build
# nothing (tests use it).
#
# Prints the kernel directory; any error is one line "lab: ..." naming the
# file or step, and the log to read.
set -e

here=$(cd "$(dirname "$0")" && pwd)
fragment=${LAB_KCONFIG:-$here/guest.config}
# shellcheck source=scripts/lab/lab-apt.sh
. "$here/lab-apt.sh"

patches=
check_only=
while [ $# -gt 0 ]; do
	case $1 in
	--patch)
		[ -n "$2" ] || die "--patch needs a file"
		[ -f "$2" ] || die "patch $2: no such file"
		p=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
		patches="$patches $p"
		shift 2
		;;
	--patch=*)
		p=${1#--patch=}
		[ -f "$p" ] || die "patch $p: no such file"
		patches="$patches $(cd "$(dirname "$p")" && pwd)/$(basename "$p")"
		shift
		;;
	--check-only)
		check_only=1
		shift
		;;
	--)
		shift
		break
		;;
	-*) die "kernel-build.sh: unknown option $1" ;;
	*) break ;;
	esac
done
spec=${1:?usage: kernel-build.sh [--patch FILE]... SRC CACHE}
cache=${2:?usage: kernel-build.sh [--patch FILE]... SRC CACHE}
[ -f "$fragment" ] || die "configuration fragment $fragment: no such file"
mkdir -p "$cache/ktree" "$cache/kernels"
cache=$(cd "$cache" && pwd)

sha() { sha256sum | cut -d' ' -f1; }

# ---- the source tree ---------------------------------------------------

# tree_from_suite SUITE: sets tree, srcid, label.
tree_from_suite() {
	suite=$1
	opts=$(lab_apt_opts "$suite" "$suite")
	# shellcheck disable=SC2086
	line=$(apt-cache $opts search --names-only '^linux-source-[0-9.]*$' 2>/dev/null |
		awk '{ print $1 }' | sort -V | tail -1)
	[ -n "$line" ] || die "Debian $suite has no linux-source-X.Y package"
	# shellcheck disable=SC2086
	ver=$(apt-cache $opts show "$line" 2>/dev/null |
		awk '/^Version: / { print $2 }' | sort -V | tail -1)
	label=src-$suite-$(echo "$ver" | tr -c 'A-Za-z0-9.+\n-' '_')
	srcid="debian $line $ver"
	tree=$cache/ktree/$label
	[ -f "$tree/.lab-tree" ] && return
	dl=$cache/src-debs
	mkdir -p "$dl"
	deb=$(find "$dl" -maxdepth 1 -name "${line}_$(echo "$ver" | sed 's/:/%3a/')_*.deb" | head -1)
	if [ -z "$deb" ]; then
		note "downloading $line $ver (checked against Debian's signed index)"
		# shellcheck disable=SC2086
		(cd "$dl" && apt-get $opts -q download "$line=$ver" >"$dl/download.log" 2>&1) ||
			die "could not download $line $ver: $(grep -m1 -E '^(E|W):' "$dl/download.log" || tail -1 "$dl/download.log"); log: $dl/download.log"
		deb=$(find "$dl" -maxdepth 1 -name "${line}_*.deb" | head -1)
	fi
	note "unpacking $(basename "$deb") into $tree"
	rm -rf "$tree.tmp"
	mkdir -p "$tree.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.*' |
		xz -dc | tar -x -C "$tree.tmp" ||
		die "unpacking $deb failed"
	top=$(find "$tree.tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
	[ -f "$top/Makefile" ] || die "$deb: no kernel tree inside"
	rm -rf "$tree"
	mv "$top" "$tree"
	rm -rf "$tree.tmp"
	echo "$srcid" >"$tree/.lab-tree"
}

# tree_from_dir DIR: a copy of DIR, keyed by its path and its sources'
# names, sizes and times (a changed tree is a new source).
tree_from_dir() {
	src=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
	[ -f "$src/Makefile" ] && [ -d "$src/io_uring" ] && [ -f "$src/arch/x86/Makefile" ] ||
		die "$src: not a kernel source tree (no Makefile, io_uring/ or arch/x86/)"
	stamp=$(cd "$src" && find . \( -name .git -o -name '.tmp*' \) -prune -o -type f \
		\( -name '*.[chS]' -o -name 'Kconfig*' -o -name 'Makefile*' -o -name 'Kbuild*' -o -name '*.lds*' \) \
		-printf '%P %s %T@\n' | sort | sha)
	srcid="tree $src $stamp"
	label=src-$(basename "$src" | tr -c 'A-Za-z0-9.+\n-' '_')-$(echo "$srcid" | sha | cut -c1-8)
	tree=$cache/ktree/$label
	[ -f "$tree/.lab-tree" ] && return
	note "copying $src into $tree (the original stays untouched)"
	rm -rf "$tree.tmp"
	cp -a "$src" "$tree.tmp" || die "copying $src failed"
	(cd "$tree.tmp" && make -s mrproper >/dev/null 2>&1) || true
	rm -rf "$tree"
	mv "$tree.tmp" "$tree"
	echo "$srcid" >"$tree/.lab-tree"
}

case $spec in
src:*/* | */*) tree_from_dir "${spec#src:}" ;;
src:*)
	s=${spec#src:}
	case $s in
	*[!a-z0-9-]* | "") die "'$spec': give src:SUITE (a Debian suite) or src:DIR (a kernel tree)" ;;
	esac
	tree_from_suite "$s"
	;;
*) die "'$spec': give src:SUITE (a Debian suite) or src:DIR (a kernel tree)" ;;
esac

# One build at a time in a tree.
exec 9>"$tree.lock"
flock 9

# git apply outside any enclosing repository (the cache may sit inside
# one, which would make git apply skip every path).
gapply() {
	(cd "$tree" && GIT_CEILING_DIRECTORIES=$(dirname "$tree") git apply "$@")
}

# Patches a previous run left in (it was interrupted): take them out.
revert_applied() {
	[ -f "$tree/.lab-applied" ] || return 0
	tac "$tree/.lab-applied" | while read -r p; do
		gapply -R "$p" 2>/dev/null ||
			die "$tree: could not take out $p, which an earlier build applied; remove $tree to start afresh"
	done
	rm -f "$tree/.lab-applied" "$tree"/.lab-patch-*
}
revert_applied

# ---- the key -------------------------------------------------------------

srcid=$(cat "$tree/.lab-tree")
key=$( {
	echo "$srcid"
	echo "base tinyconfig"
	cat "$fragment"
	for p in $patches; do
		echo "patch"
		cat "$p"
	done
} | sha | cut -c1-16)
kdir=$cache/kernels/$label-$key
if [ -f "$kdir/info" ] && [ -z "$check_only" ]; then
	note "$(basename "$kdir"): cached ($spec${patches:+ with$(for p in $patches; do printf ' %s' "$(basename "$p")"; done)})"
	echo "$kdir"
	exit 0
fi

# ---- patches -------------------------------------------------------------

applied=0
trap 'revert_applied' EXIT
n=0
for p in $patches; do
	n=$((n + 1))
	log=$cache/ktree/$label.patch.log
	if ! gapply --check -v "$p" >"$log" 2>&1; then
		where=$(sed -n 's/^error: patch failed: \(.*\)$/\1/p' "$log" | head -1)
		if [ -n "$where" ]; then
			file=${where%:*}
			line=${where##*:}
			hunk=$(awk -v f="$file" -v l="$line" '
				/^\+\+\+ / { cur = $2; sub(/^b\//, "", cur); h = 0 }
				/^@@ / && cur == f { h++; split($2, a, ","); if (substr(a[1], 2) == l) { print h; exit } }' "$p")
			die "patch $p does not apply to $srcid: $file, hunk ${hunk:-?} (@@ -$line @@); log: $log"
		fi
		die "patch $p does not apply to $srcid: $(grep -m1 '^error: ' "$log" | sed 's/^error: //'); log: $log"
	fi
	cp "$p" "$tree/.lab-patch-$n"
	echo "$tree/.lab-patch-$n" >>"$tree/.lab-applied"
	gapply "$p" >>"$log" 2>&1 || die "patch $p: git apply failed after its check; log: $log"
	applied=$((applied + 1))
done
if [ -n "$check_only" ]; then
	echo "$tree"
	exit 0
fi

# ---- configure and build -------------------------------------------------

jobs=$(($(nproc) + 1))
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
mk() { make -C "$tree" ARCH=x86_64 CC="$cc" "$@"; }

rm -rf "$kdir.tmp"
mkdir -p "$kdir.tmp/modules"
blog=$kdir.tmp/build.log
fsum=$(sha <"$fragment")
if [ "$(cat "$tree/.lab-config" 2>/dev/null)" != "$fsum" ]; then
	note "configuring $label: make tinyconfig + $(basename "$fragment")"
	{
		mk tinyconfig &&
			(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$fragment") &&
			mk olddefconfig
	} >"$blog" 2>&1 || die "configuring $label failed (make tinyconfig, merge_config.sh $fragment); log: $blog"
	grep -o '^CONFIG_[A-Z0-9_]*=.*' "$fragment" | while read -r o; do
		grep -qx "$o" "$tree/.config" ||
			die "configuring $label: $fragment asks for $o, the kernel's Kconfig gives $(grep -m1 "^${o%%=*}=\|^# ${o%%=*} is" "$tree/.config" || echo "${o%%=*} absent (no such option)"); log: $blog"
	done
	echo "$fsum" >"$tree/.lab-config"
fi
note "building $label${patches:+ with$(for p in $patches; do printf ' %s' "$(basename "$p")"; done)} (make -j$jobs bzImage; log: $blog)"
t0=$(date +%s)
if ! mk -j"$jobs" bzImage >>"$blog" 2>&1; then
	err=$(grep -m1 -E 'error:|Error [0-9]+' "$blog" | cut -c1-240)
	die "building $label failed at make bzImage: ${err:-see the log}; log: $blog"
fi
secs=$(($(date +%s) - t0))
rel=$(mk -s kernelrelease 2>/dev/null | tail -1)
cp "$tree/arch/x86/boot/bzImage" "$kdir.tmp/vmlinuz"
cp "$tree/.config" "$kdir.tmp/config"
{
	echo "spec=$spec"
	echo "kind=source"
	echo "package=$srcid"
	echo "version="
	echo "release=$rel"
	echo "patches=$(for p in $patches; do printf '%s ' "$(basename "$p")"; done)"
	echo "patch_sha256=$(for p in $patches; do sha <"$p" | cut -c1-12; done | tr '\n' ' ')"
	echo "build_secs=$secs"
	echo "sha256=$(sha <"$kdir.tmp/vmlinuz")"
} >"$kdir.tmp/info"
rm -rf "$kdir"
mv "$kdir.tmp" "$kdir"
note "$(basename "$kdir"): built in ${secs} s"
echo "$kdir"
