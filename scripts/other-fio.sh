#!/bin/sh
# Build a second fio, newer than the installed one, to test the engine
# against another fio version: the fio of a Debian suite (unstable by
# default, OTHER_FIO_SUITE), its upstream source fetched by apt from
# Debian's signed index with a private sources list (the system's apt
# set-up is left alone), checked against the index's SHA-256, configured as
# Debian does and built in OUTDIR.  Prints the source tree; the binary is
# its ./fio.  OUTDIR/current links to the tree built: once it is there,
# the network is not asked again (OTHER_FIO_REFRESH=1: fetch the suite's
# newest fio anew). A failure leaves its reason in OUTDIR/unavailable.
# Usage: other-fio.sh OUTDIR (make other-fio)
set -e

out=${1:?usage: other-fio.sh OUTDIR}
suite=${OTHER_FIO_SUITE:-sid}
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "other-fio: $*" >&2
	echo "$*" >"$out/unavailable"
	exit 1
}

mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "${OTHER_FIO_REFRESH:-}" ] && [ -x "$out/current/fio" ]; then
	(cd "$out/current" && pwd -P)
	exit 0
fi
# The suite's newest fio, its upstream tarball checked against the signed
# index (one script fetches fio tarballs: fio-tarball.sh).
tarball=$(FIO_SUITE=$suite FIO_UPSTREAM=newest "$here/fio-tarball.sh" \
	"$out/download" 2>"$out/fetch.log") ||
	die "$(tail -1 "$out/fetch.log")"
upstream=${tarball##*/fio-}
upstream=${upstream%.tar.*}
tree=$out/fio-$upstream
if [ ! -x "$tree/fio" ] || [ "$("$tree/fio" --version)" != "fio-$upstream" ]; then
	rm -rf "$tree" "$tree.tmp"
	mkdir "$tree.tmp"
	tar -xf "$tarball" -C "$tree.tmp"
	mv "$tree.tmp"/fio-*/ "$tree"
	rm -rf "$tree.tmp"
	"$here/fio-configure.sh" "$tree" >"$out/configure.log" 2>&1 ||
		die "configuring fio $upstream failed, see $out/configure.log"
	make -C "$tree" -j"$(nproc)" fio >"$tree/build.log" 2>&1 ||
		die "building fio $upstream failed, see $tree/build.log"
fi
ln -sfn "fio-$upstream" "$out/current"
rm -f "$out/unavailable"
echo "$tree"
