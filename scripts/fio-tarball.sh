#!/bin/sh
# Fetch fio's upstream source tarball, the one the packages build the
# engine against: the .orig tarball of Debian's fio source package of the
# installed fio's upstream version (or FIO_UPSTREAM), from Debian's signed
# index of FIO_SUITE (bookworm by default) through a private apt
# configuration (the system's apt set-up is left alone), checked against
# that index's SHA-256. Writes OUTDIR/fio-VERSION.tar.EXT (upstream's own
# name, the RPM spec's Source1) and prints its path; a tarball already
# there is kept, so that the network is needed once. FIO_UPSTREAM=newest
# takes the newest fio the suite has (scripts/other-fio.sh).
# Usage: fio-tarball.sh OUTDIR
set -e

out=${1:?usage: fio-tarball.sh OUTDIR}
suite=${FIO_SUITE:-bookworm}

die() {
	echo "fio-tarball: $*" >&2
	exit 1
}

up=${FIO_UPSTREAM:-}
if [ -z "$up" ]; then
	up=$(dpkg-query -W -f='${Version}' fio 2>/dev/null) ||
		die "fio is not installed: install it or set FIO_UPSTREAM (3.33)"
	up=${up#*:}
	up=${up%-*}
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
for f in "$out/fio-$up.tar".*; do
	if [ -f "$f" ]; then
		echo "$f"
		exit 0
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/fio-tarball.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=scripts/apt-private.sh
. "$(dirname "$0")/apt-private.sh"
apt_private "$work/apt"
mkdir -p "$work/download"
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
apt-cache $apt_opts showsrc fio >"$work/fio.dsc" 2>/dev/null ||
	die "Debian $suite has no fio source package"
# The newest Debian revision of that upstream version (or of all).
ver=$(sed -n 's/^Version: //p' "$work/fio.dsc" |
	while read -r v; do
		u=${v#*:}
		[ "$up" = newest ] || [ "${u%-*}" = "$up" ] && echo "$v"
	done | sort -V | tail -1)
if [ "$up" = newest ] && [ -n "$ver" ]; then
	up=${ver#*:}
	up=${up%-*}
	for f in "$out/fio-$up.tar".*; do
		if [ -f "$f" ]; then
			echo "$f"
			exit 0
		fi
	done
fi
[ -n "$ver" ] || die "Debian $suite has no fio $up source package"

orig=$(sed -n "s/^ [0-9a-f]\{64\} [0-9]* \(fio_$up\.orig\.tar\.[a-z0-9]*\)\$/\1/p" \
	"$work/fio.dsc" | head -1)
[ -n "$orig" ] || die "no upstream tarball listed for fio $ver in Debian $suite"
sum=$(sed -n "s/^ \([0-9a-f]\{64\}\) [0-9]* $orig\$/\1/p" "$work/fio.dsc" |
	head -1)
# Only the upstream tarball is needed: apt's failure to fetch the Debian
# part is not ours.
# shellcheck disable=SC2086
(cd "$work/download" &&
	apt-get $apt_opts -qq source --download-only "fio=$ver" \
		>"$work/source.log" 2>&1) || true
[ -f "$work/download/$orig" ] ||
	die "could not download $orig: $(grep -m1 "$orig" "$work/source.log" || tail -1 "$work/source.log")"
echo "$sum  $work/download/$orig" | sha256sum -c --quiet >/dev/null 2>&1 ||
	die "$orig does not match the SHA-256 of Debian $suite's index"
top=$(tar -tf "$work/download/$orig" | head -1)
[ "${top%%/*}" = "fio-$up" ] ||
	die "$orig unpacks into ${top%%/*}, not fio-$up"

dst=$out/fio-$up.tar.${orig##*.tar.}
cp "$work/download/$orig" "$dst.tmp"
mv "$dst.tmp" "$dst"
echo "fio-tarball: $dst is fio_$up.orig from Debian $suite (fio $ver)," \
	"SHA-256 $sum" >&2
echo "$dst"
