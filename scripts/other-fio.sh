#!/bin/sh
# Build a second fio, newer than the installed one, to test the engine
# against another fio version: the fio of a Debian suite (unstable by
# default, OTHER_FIO_SUITE), its upstream source fetched by apt from
# Debian's signed index with a private sources list (the system's apt
# set-up is left alone), checked against the index's SHA-256, configured as
# Debian does and built in OUTDIR.  Prints the source tree; the binary is
# its ./fio.  Usage: other-fio.sh OUTDIR
set -e

out=${1:?usage: other-fio.sh OUTDIR}
suite=${OTHER_FIO_SUITE:-sid}
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "other-fio: $*" >&2
	exit 1
}

# shellcheck source=scripts/apt-private.sh
. "$here/apt-private.sh"
mkdir -p "$out"
out=$(cd "$out" && pwd)
apt_private "$out/apt"
mkdir -p "$out/download"
cat >"$apt_dir/parts/$suite.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

apt_private_update ||
	die "apt-get update of Debian $suite's sources failed: $(tail -1 "$apt_dir/update.log")"
# Word splitting of $apt_opts is intended here and below.
# shellcheck disable=SC2086
apt-cache $apt_opts showsrc fio >"$apt_dir/fio.dsc" 2>/dev/null ||
	die "Debian $suite has no fio source package"
ver=$(sed -n 's/^Version: //p' "$apt_dir/fio.dsc" | sort -V | tail -1)
upstream=${ver#*:}
upstream=${upstream%-*}
tree=$out/fio-$upstream
if [ -x "$tree/fio" ] && [ "$("$tree/fio" --version)" = "fio-$upstream" ]; then
	echo "$tree"
	exit 0
fi

# The upstream tarball and its SHA-256 from the signed index. Only it is
# needed: apt's failure to fetch the Debian part is not ours.
orig=$(sed -n "s/^ [0-9a-f]\{64\} [0-9]* \(fio_$upstream\.orig\.tar\.[a-z0-9]*\)\$/\1/p" \
	"$apt_dir/fio.dsc" | head -1)
[ -n "$orig" ] || die "no upstream tarball listed for fio $ver in Debian $suite"
sum=$(sed -n "s/^ \([0-9a-f]\{64\}\) [0-9]* $orig\$/\1/p" "$apt_dir/fio.dsc" |
	head -1)
# shellcheck disable=SC2086
(cd "$out/download" &&
	apt-get $apt_opts -qq source --download-only "fio=$ver" \
		>"$apt_dir/source.log" 2>&1) || true
[ -f "$out/download/$orig" ] ||
	die "could not download $orig from Debian $suite: $(grep -m1 "$orig" "$apt_dir/source.log" || tail -1 "$apt_dir/source.log")"
echo "$sum  $out/download/$orig" | sha256sum -c --quiet >/dev/null 2>&1 ||
	die "$orig does not match the SHA-256 of Debian $suite's index"

rm -rf "$tree" "$tree.tmp"
mkdir "$tree.tmp"
tar -xf "$out/download/$orig" -C "$tree.tmp"
mv "$tree.tmp"/fio-*/ "$tree"
rm -rf "$tree.tmp"
"$here/fio-configure.sh" "$tree"
make -C "$tree" -j"$(nproc)" fio >"$tree/build.log" 2>&1 ||
	die "building fio $upstream failed, see $tree/build.log"
echo "$tree"
