#!/bin/sh
# Fetch and configure the fio source matching the installed fio binary, so
# that the engine is compiled against the very headers and config-host.h
# of the fio that loads it.  Usage: fio-src.sh [--check] OUTDIR
# --check fetches nothing: it fails, saying what to run, when OUTDIR does
# not hold the installed fio's source.
set -e

check=""
if [ "$1" = --check ]; then
	check=1
	shift
fi
out=${1:?usage: fio-src.sh [--check] OUTDIR}
fio_bin=$(command -v fio) || {
	echo "uring_folioreg: fio is not installed; run: apt-get install fio" >&2
	exit 1
}
pkgver=$(dpkg-query -W -f='${Version}' fio 2>/dev/null) || {
	echo "uring_folioreg: $fio_bin is not Debian's fio package;" \
		"build against its source tree with: make FIO_SRC=DIR" >&2
	exit 1
}
if [ -f "$out/.ufr-stamp" ] && [ "$(cat "$out/.ufr-stamp")" = "$pkgver" ]; then
	exit 0
fi
# --check: only say whether OUTDIR is the installed fio's source.
if [ -n "$check" ]; then
	echo "uring_folioreg: $out holds the source of fio" \
		"$(cat "$out/.ufr-stamp" 2>/dev/null || echo '(unknown)') but fio" \
		"$pkgver is installed; fetch its source: make deps" >&2
	exit 1
fi

# deb-src entries for the system's own Debian sources, in a private apt
# set-up: the system's configuration is left as it is.
# shellcheck source=scripts/apt-private.sh
. "$(dirname "$0")/apt-private.sh"
mkdir -p "${out%/*}"
apt_private "$(cd "${out%/*}" && pwd)/apt"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
		>"$apt_dir/parts/system-src.sources"
else
	grep -h '^deb ' /etc/apt/sources.list 2>/dev/null |
		sed 's/^deb /deb-src /' >"$apt_dir/parts/system-src.list"
fi
apt_private_update || {
	echo "uring_folioreg: apt-get update of the deb-src entries failed" \
		"($(tail -1 "$apt_dir/update.log")); build with: make FIO_SRC=DIR" >&2
	exit 1
}

tmp=$(mktemp -d "${out%/*}/fio-src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Word splitting of $apt_opts is intended.
# shellcheck disable=SC2086
(cd "$tmp" && apt-get $apt_opts source -qq "fio=$pkgver" >/dev/null 2>&1) || {
	echo "uring_folioreg: apt-get source fio=$pkgver failed; the archive" \
		"may no longer hold it: build with make FIO_SRC=DIR" >&2
	exit 1
}
rm -rf "$out"
mv "$tmp"/fio-*/ "$out"

# Struct layouts depend on the configuration: it must match the binary's.
"$(dirname "$0")/fio-configure.sh" "$out"
"$(dirname "$0")/fio-config-check.sh" "$fio_bin" "$out/config-host.h"
echo "$pkgver" >"$out/.ufr-stamp"
echo "fio-src: $out configured for fio $pkgver"
