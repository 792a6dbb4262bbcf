#!/bin/sh
# Fetch and configure the fio source matching the installed fio binary, so
# that the engine is compiled against the very headers and config-host.h
# of the fio that loads it.  Usage: fio-src.sh OUTDIR
set -e

out=${1:?usage: fio-src.sh OUTDIR}
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

have_deb_src() {
	apt-get source --print-uris "fio=$pkgver" >/dev/null 2>&1
}

if ! have_deb_src; then
	if [ "$(id -u)" != 0 ]; then
		echo "uring_folioreg: no deb-src entry for fio $pkgver; as root run:" \
			"make (it adds one) or build with make FIO_SRC=DIR" >&2
		exit 1
	fi
	list=/etc/apt/sources.list.d/uring-folioreg-src.sources
	src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ]; then
		sed 's/^Types:.*/Types: deb-src/' "$src" >"$list"
	else
		grep -h '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' \
			>"${list%.sources}.list"
	fi
	echo "fio-src: added a deb-src entry, updating the package lists"
	apt-get update -qq
	have_deb_src || {
		echo "uring_folioreg: the archive has no source for fio $pkgver;" \
			"build with: make FIO_SRC=DIR" >&2
		exit 1
	}
fi

tmp=$(mktemp -d "${out%/*}/fio-src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get source -qq "fio=$pkgver" >/dev/null 2>&1) || {
	echo "uring_folioreg: apt-get source fio=$pkgver failed" >&2
	exit 1
}
rm -rf "$out"
mv "$tmp"/fio-*/ "$out"

# Struct layouts depend on the configuration: it must match the binary's.
"$(dirname "$0")/fio-configure.sh" "$out"
"$(dirname "$0")/fio-config-check.sh" "$fio_bin" "$out/config-host.h"
echo "$pkgver" >"$out/.ufr-stamp"
echo "fio-src: $out configured for fio $pkgver"
