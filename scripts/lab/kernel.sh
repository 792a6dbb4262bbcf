#!/bin/sh
# Resolve one kernel of the lab to a directory the lab can boot:
#   vmlinuz   the kernel image
#   config    its build configuration, when known
#   modules/  the few modules the guest loads (brd), uncompressed
#   info      key=value lines: spec, kind, package, version, release, sha256
# SPEC is a Debian suite (bookworm, sid, ...: its newest cloud kernel), a
# Debian kernel package version (6.1.158-1) or name
# (linux-image-6.1.0-40-cloud-amd64), a local .deb, or a local bzImage.
# Packages come from Debian's archive through a private apt configuration
# (the system's apt set-up is left alone), apt-get download checking them
# against the signed index; they are cached under CACHE.
# Usage: kernel.sh SPEC CACHE      prints the directory; errors: one line
set -e

spec=${1:?usage: kernel.sh SPEC CACHE}
cache=${2:?usage: kernel.sh SPEC CACHE}
flavour=${LAB_FLAVOUR:-cloud-amd64}
# Suites searched for a package version or name.
all_suites=${LAB_SUITES:-"bookworm bookworm-updates bookworm-backports trixie trixie-updates trixie-backports sid experimental"}

# shellcheck source=scripts/lab/lab-apt.sh
. "$(dirname "$0")/lab-apt.sh"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The options the lab needs, and those worth recording.
need_opts="CONFIG_HUGETLBFS CONFIG_IO_URING CONFIG_BLK_DEV_INITRD"

# check_config FILE WHAT: refuse a kernel built without what the lab needs.
check_config() {
	for o in $need_opts; do
		grep -q "^$o=y" "$1" ||
			die "$2: $o is not set in its config ($(grep -m1 "${o}[= ]" "$1" || echo "$o absent")); the lab needs hugetlbfs, io_uring and an initramfs"
	done
}

# images OPTS [VERSION|NAME]: the signed versioned image packages of the
# flavour, "name version" a line, newest first; with an argument only the
# ones whose version or name it is. One apt-cache call for all (each
# call reads every list again).
images() {
	want=$2
	# shellcheck disable=SC2086
	names=$(apt-cache $1 search --names-only "^linux-image-[0-9].*-$flavour\$" 2>/dev/null |
		awk '{ print $1 }')
	[ -n "$names" ] || return 0
	# shellcheck disable=SC2086
	apt-cache $1 show $names 2>/dev/null |
		awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' |
		sort -u | sort -k2,2 -V -r | awk -v w="$want" 'w == "" || $1 == w || $2 == w'
}

# split_deps DEB: the packages a split kernel image (Debian 7.x:
# linux-image-R depends on linux-binary-R, linux-base-R, linux-modules-R)
# carries its files in, "name version" per line.
split_deps() {
	dpkg-deb -f "$1" Depends | tr ',' '\n' |
		sed -n 's/^ *\(linux-\(binary\|base\|modules\)-[^ ]*\) *(= *\([^)]*\)).*/\1 \3/p'
}

# missing_deps DEB: the split packages not yet downloaded, as name=version.
missing_deps() {
	split_deps "$1" | while read -r n v; do
		[ -n "$(find "$dl" -maxdepth 1 -name "${n}_*.deb")" ] || echo "$n=$v"
	done
}

# fetch_pkg OPTS NAME VERSION: download (each .deb checked by apt against
# the signed index) into the cache, with the packages a split image
# carries its files in; prints the .debs, the image first.
fetch_pkg() {
	dl=$cache/debs
	mkdir -p "$dl"
	todo="$2=$3"
	first=$(find "$dl" -maxdepth 1 -name "${2}_$(echo "$3" | sed 's/:/%3a/')_*.deb" | head -1)
	[ -z "$first" ] || todo=$(missing_deps "$first")
	while [ -n "$todo" ]; do
		note "downloading $(echo "$todo" | tr '\n' ' ')(checked against Debian's signed index)"
		# shellcheck disable=SC2086
		(cd "$dl" && apt-get $1 -q download $todo >"$dl/download.log" 2>&1) ||
			die "could not download $(echo "$todo" | tr '\n' ' '): $(grep -m1 -E '^(E|W):' "$dl/download.log" || tail -1 "$dl/download.log")"
		first=$(find "$dl" -maxdepth 1 -name "${2}_*.deb" | head -1)
		[ -n "$first" ] || die "apt-get download of $2 $3 left no .deb"
		todo=$(missing_deps "$first")
	done
	echo "$first"
	split_deps "$first" | while read -r n _; do
		find "$dl" -maxdepth 1 -name "${n}_*.deb" | head -1
	done
}

# unpack KIND DEB...: extract the kernel, its config and brd.ko from the
# .debs once into the cache; prints the kernel directory.
unpack() {
	kind=$1
	shift
	deb=$1
	sum=$(sha256sum "$deb" | cut -d' ' -f1)
	kdir=$cache/kernels/$(basename "$deb" .deb)-$(echo "$sum" | cut -c1-12)
	if [ -f "$kdir/info" ]; then
		echo "$kdir"
		return
	fi
	dpkg-deb -f "$deb" Package >/dev/null 2>&1 || die "$deb is not a Debian package"
	pkg=$(dpkg-deb -f "$deb" Package)
	ver=$(dpkg-deb -f "$deb" Version)
	tmp=$kdir.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/x" "$tmp/modules"
	for d in "$@"; do
		# Only the image, the config and the modules the guest loads.
		dpkg-deb --fsys-tarfile "$d" | tar -x -C "$tmp/x" --wildcards \
			'./boot/vmlinuz-*' './boot/config-*' '*/vmlinuz' \
			'*/modules/*/config' '*/kernel/drivers/block/brd.ko*' \
			2>/dev/null || true
	done
	img=$(find "$tmp/x" -type f \( -name 'vmlinuz-*' -o -name vmlinuz \) | head -1)
	if [ -z "$img" ]; then
		rm -rf "$tmp"
		die "$deb ($pkg $ver) holds no kernel image (/boot/vmlinuz-* or /usr/lib/modules/*/vmlinuz): not a kernel image package"
	fi
	case $img in
	*/vmlinuz-*) rel=${img##*/vmlinuz-} ;;
	*) rel=$(basename "$(dirname "$img")") ;;
	esac
	mv "$img" "$tmp/vmlinuz"
	cfg=$(find "$tmp/x" -type f \( -path "*/config-$rel" -o -path "*/$rel/config" \) | head -1)
	if [ -n "$cfg" ]; then
		mv "$cfg" "$tmp/config"
		(check_config "$tmp/config" "$pkg $ver") || {
			rm -rf "$tmp"
			exit 1
		}
	fi
	m=$(find "$tmp/x" -name 'brd.ko*' | head -1)
	case $m in
	*.xz) xz -dc "$m" >"$tmp/modules/brd.ko" ;;
	*.zst) zstd -qdc "$m" >"$tmp/modules/brd.ko" ;;
	*.gz) gzip -dc "$m" >"$tmp/modules/brd.ko" ;;
	?*) cp "$m" "$tmp/modules/brd.ko" ;;
	esac
	rm -rf "$tmp/x"
	cat >"$tmp/info" <<EOF
spec=$spec
kind=$kind
package=$pkg
version=$ver
release=$rel
deb_sha256=$sum
sha256=$(sha256sum "$tmp/vmlinuz" | cut -d' ' -f1)
EOF
	rm -rf "$kdir"
	mv "$tmp" "$kdir"
	echo "$kdir"
}

case $spec in
*.deb)
	[ -f "$spec" ] || die "$spec: no such file"
	deb=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")
	# A split image's other packages, when they lie beside it.
	# shellcheck disable=SC2046
	unpack deb "$deb" $(split_deps "$deb" | while read -r n _; do
		find "$(dirname "$deb")" -maxdepth 1 -name "${n}_*.deb" | head -1
	done)
	;;
*/*)
	[ -f "$spec" ] || die "$spec: no such file"
	img=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")
	sum=$(sha256sum "$img" | cut -d' ' -f1)
	kdir=$cache/kernels/bzimage-$(echo "$sum" | cut -c1-12)
	rm -rf "$kdir"
	mkdir -p "$kdir/modules"
	ln -s "$img" "$kdir/vmlinuz"
	# A config beside it, or the build tree's (arch/x86/boot/bzImage).
	for c in "$(dirname "$img")/config" "$(dirname "$img")/.config" \
		"$(dirname "$img")/../../../.config"; do
		if [ -f "$c" ]; then
			cp "$c" "$kdir/config"
			(check_config "$kdir/config" "$spec") || {
				rm -rf "$kdir"
				exit 1
			}
			break
		fi
	done
	printf 'spec=%s\nkind=bzimage\npackage=\nversion=\nrelease=\nsha256=%s\n' \
		"$spec" "$sum" >"$kdir/info"
	echo "$kdir"
	;;
[0-9]* | linux-image-*)
	opts=$(lab_apt_opts all $all_suites)
	line=$(images "$opts" "$spec" | head -1)
	[ -n "$line" ] ||
		die "no $flavour kernel package with version or name '$spec' in Debian ($all_suites)"
	# shellcheck disable=SC2086
	set -- $line
	# shellcheck disable=SC2046
	unpack package $(fetch_pkg "$opts" "$1" "$2")
	;;
[a-z]*)
	case $spec in
	*[!a-z0-9-]*) die "'$spec' is neither a Debian suite, a kernel version, a .deb nor a bzImage path" ;;
	esac
	opts=$(lab_apt_opts "$spec" "$spec")
	line=$(images "$opts" | head -1)
	[ -n "$line" ] || die "Debian $spec has no linux-image-*-$flavour package"
	# shellcheck disable=SC2086
	set -- $line
	# shellcheck disable=SC2046
	unpack "suite:$spec" $(fetch_pkg "$opts" "$1" "$2")
	;;
*)
	die "'$spec' is neither a Debian suite, a kernel version, a .deb nor a bzImage path"
	;;
esac
