#!/bin/bash
# Packaging: make install and make uninstall into staging directories (the
# default layout and Debian's), fio loading the installed engine, the man
# page against the engine's options and output fields, the version in every
# packaging file, the licence in every place, the release tarball's
# contents, the Debian source and binary packages built offline twice in a
# clean copy and checked with lintian and their dependency on fio, the RPMs
# built from the spec's own sources and checked with rpmlint, and another
# fio (Debian unstable's, prepared by make other-fio, or OTHER_FIO_SRC and
# OTHER_FIO_BIN): the engine built against its tree and run in it. Tools
# and a second fio that are missing skip their cases with the reason.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

tmp=$(mktemp -d "$SCRATCH/packaging.XXXXXX")
trap 'rm -rf "$tmp"; hp_restore' EXIT
version=$(cat VERSION)
man=man/uring_folioreg.7

if out=$(packaging/check-version.sh 2>&1); then
	pass version-in-packaging-files
else
	fail version-in-packaging-files "$out"
fi

# --- the man page -----------------------------------------------------

# A section of the man page, by its .SH title.
man_section() {
	sed -n "/^\.SH $1\$/,/^\.SH /p" "$man"
}

if command -v man >/dev/null; then
	warnings=$(MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null)
	if [ -z "$warnings" ]; then
		pass man-page-renders
	else
		fail man-page-renders "$(echo "$warnings" | head -3 | tr '\n' ' ')"
	fi
else
	skip man-page-renders "man is not installed (apt-get install man-db)"
fi

# Every option the engine declares (fio --enghelp=PATH lists them) has its
# own entry under OPTIONS.
opts=$(fio --enghelp="$ENGINE" 2>&1 | awk -F ' *: ' 'NF > 1 { print $1 }')
missing=""
for o in $opts; do
	man_section OPTIONS | grep -qE "^\.BR? $o( |\$)" || missing="$missing $o"
done
if [ -z "$opts" ]; then
	fail man-page-lists-options "fio --enghelp=$ENGINE listed no option"
elif [ -n "$missing" ]; then
	fail man-page-lists-options "not in $man:$missing"
else
	pass man-page-lists-options
fi

# Every field of the JSON object is described under OUTPUT: its parent
# (reg.per_buffer_ns for reg.per_buffer_ns.p99) and its own name; per-node
# counts are one field.
out=$tmp/fields.json
ufio "$out" --name=fields --filename=/dev/zero --rw=read --bs=64k \
	--size=16m --reg_mode=each --output-format=json
fields=$(jq -r '.jobs[0].uring_folioreg | paths(scalars) |
	map(tostring) | join(".")' "$out" 2>/dev/null |
	sed -E 's/\.[0-9]+$//' | sort -u)
section=$(man_section OUTPUT)
missing=""
for f in $fields; do
	parent=${f%.*}
	[ "$parent" = "$f" ] && parent=""
	echo "$section" | grep -qwF "${f##*.}" &&
		{ [ -z "$parent" ] || echo "$section" | grep -qF "$parent"; } ||
		missing="$missing $f"
done
if [ -z "$fields" ]; then
	fail man-page-lists-fields "no uring_folioreg object in: $(head -c 300 "$out")"
elif [ -n "$missing" ]; then
	fail man-page-lists-fields "not in $man:$missing"
else
	pass man-page-lists-fields
fi

# --- make install / make uninstall --------------------------------------

# check_install NAME DESTDIR LIBDIR DOCDIR MANDIR: the staged files are
# there, the job files point at the installed engine, fio loads it.
check_install() {
	local name=$1 dest=$2 libdir=$3 docdir=$4 mandir=$5 f got why=""
	local so=$libdir/fio/uring_folioreg.so

	[ -f "$dest$so" ] || why="$why no $so;"
	[ "$(stat -c %a "$dest$so" 2>/dev/null)" = 644 ] ||
		why="$why $so is not mode 644;"
	[ -f "$dest$mandir/man7/uring_folioreg.7" ] ||
		why="$why no man7/uring_folioreg.7;"
	[ "$(readlink "$dest$libdir/fio/fio-uring_folioreg.so")" = uring_folioreg.so ] ||
		why="$why no fio-uring_folioreg.so -> uring_folioreg.so (dynamic engines);"
	[ -f "$dest$docdir/README.md" ] || why="$why no README.md;"
	for f in docs/*.md docs/*.png; do
		[ -f "$dest$docdir/$f" ] || why="$why no $f;"
	done
	# The installed compare.py finds the installed engine by itself.
	got=$(cd "$dest$docdir/examples" && python3 -c 'import compare
print(compare.parser().parse_args(["run", "strategies", "--out", "x"]).engine)' 2>&1)
	[ "$got" = "$so" ] ||
		why="$why the installed compare.py's --engine default is $got, not $so;"
	[ "$(head -1 "$dest$docdir/examples/compare.py")" = '#!/usr/bin/python3' ] ||
		why="$why the installed compare.py's interpreter is not /usr/bin/python3;"
	# ... and its statistics: intervals, not medians alone.
	(cd "$dest$docdir/examples" && python3 -c 'import compare; assert compare.abstats') \
		>/dev/null 2>&1 || why="$why the installed compare.py finds no abstats.py;"
	for f in $(cd examples && find . -type f ! -path '*/__pycache__/*'); do
		[ -f "$dest$docdir/examples/${f#./}" ] ||
			why="$why no examples/${f#./};"
	done
	if grep -rlF './uring_folioreg.so' "$dest$docdir/examples" \
		--include='*.fio' >/dev/null; then
		why="$why an installed job file still names ./uring_folioreg.so;"
	fi
	if [ -n "$why" ]; then
		fail "$name" "$why"
		return
	fi
	# fio loads the engine from where it is installed (staged here).
	ENGINE=$dest$so ufio "$tmp/$name.json" --name=installed \
		--filename=/dev/zero --rw=read --bs=64k --size=16m \
		--output-format=json
	if jq -e --arg v "$version" '.jobs[0].error == 0 and
		.jobs[0].uring_folioreg.version == $v and
		.jobs[0].uring_folioreg.reg.buffers > 0' \
		"$tmp/$name.json" >/dev/null 2>&1; then
		pass "$name"
	else
		fail "$name" "fio with the installed engine: $(head -c 300 "$tmp/$name.json" | tr '\n' ' ')"
	fi
}

# check_uninstall NAME DESTDIR MAKE-VARS...: nothing is left behind.
check_uninstall() {
	local name=$1 dest=$2 left
	shift 2
	if ! make -s uninstall DESTDIR="$dest" "$@" >"$tmp/$name.log" 2>&1; then
		fail "$name" "make uninstall failed: $(tail -3 "$tmp/$name.log" | tr '\n' ' ')"
		return
	fi
	left=$(find "$dest" ! -type d)
	if [ -z "$left" ]; then
		pass "$name"
	else
		fail "$name" "left behind: $(echo "$left" | head -5 | tr '\n' ' ')"
	fi
}

# The defaults: PREFIX=/usr/local, LIBDIR=PREFIX/lib.
dest=$tmp/stage
if make -s install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	check_install install-default "$dest" /usr/local/lib \
		/usr/local/share/doc/uring_folioreg /usr/local/share/man
	check_uninstall uninstall-default "$dest"
else
	fail install-default "make install failed: $(tail -3 "$tmp/install.log" | tr '\n' ' ')"
fi

# Debian's layout, as debian/rules asks for it.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
	gcc -print-multiarch)
vars=(PREFIX=/usr "LIBDIR=/usr/lib/$multiarch"
	DOCDIR=/usr/share/doc/fio-engine-uring-folioreg)
dest=$tmp/deb
if make -s install DESTDIR="$dest" "${vars[@]}" >"$tmp/install-deb.log" 2>&1; then
	check_install install-debian-layout "$dest" "/usr/lib/$multiarch" \
		/usr/share/doc/fio-engine-uring-folioreg /usr/share/man
	check_uninstall uninstall-debian-layout "$dest" "${vars[@]}"
else
	fail install-debian-layout "make install failed: $(tail -3 "$tmp/install-deb.log" | tr '\n' ' ')"
fi

# --- make dist ----------------------------------------------------------

# The tarball holds exactly the files git tracks, under one top directory.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
	[ -z "$(git ls-files --deleted)" ]; then
	if make -s dist DISTDIR="$tmp" >"$tmp/dist.log" 2>&1; then
		top=uring_folioreg-$version
		diff <(tar -tzf "$tmp/$top.tar.gz" | sort) \
			<(git ls-files | sed "s|^|$top/|" | sort) >"$tmp/dist.diff"
		if [ -s "$tmp/dist.diff" ]; then
			fail dist-contents "tarball and git ls-files differ: $(head -5 "$tmp/dist.diff" | tr '\n' ' ')"
		else
			pass dist-contents
		fi
	else
		fail dist-contents "make dist failed: $(tail -3 "$tmp/dist.log" | tr '\n' ' ')"
	fi
else
	skip dist-contents "not a git work tree with every tracked file present (make dist needs git ls-files)"
fi

# --- the licence ----------------------------------------------------------

# GPL-2.0-only everywhere: COPYING is the GPL version 2, every SPDX line of
# ours says so, and so do debian/copyright and the spec.
why=""
grep -q 'Version 2, June 1991' COPYING 2>/dev/null || why="$why COPYING is not the GPL version 2;"
other=$(git ls-files -z -- . ':!debian/copyright' | xargs -0 grep -h 'SPDX-License-Identifier[:] ' 2>/dev/null |
	grep -v 'GPL-2.0-only')
[ -z "$other" ] || why="$why an SPDX line is not GPL-2.0-only: $(echo "$other" | head -1);"
sed -n '/^Files: \*$/,/^$/p' debian/copyright | grep -qx 'License: GPL-2' ||
	why="$why debian/copyright's Files: * is not GPL-2;"
grep -qx 'License: *GPL-2.0-only' packaging/uring_folioreg.spec ||
	why="$why the spec's License is not GPL-2.0-only;"
grep -qx '%license COPYING' packaging/uring_folioreg.spec ||
	why="$why the spec has no %license COPYING;"
if [ -z "$why" ]; then
	pass licence-agrees
else
	fail licence-agrees "$why"
fi

# --- the packages -------------------------------------------------------

in_git=""
git rev-parse --is-inside-work-tree >/dev/null 2>&1 && in_git=1

# fio's upstream tarball, fetched once (network) into build/pkg and kept:
# both packages carry it.
pkg_fio=$(sed -n 's/^%global fio_version[[:space:]]*//p' packaging/uring_folioreg.spec)
fio_tarball=$(FIO_UPSTREAM=$pkg_fio scripts/fio-tarball.sh build/pkg 2>"$tmp/fio-tarball.log") ||
	fio_tarball=""

# The Debian packages, from a clean copy made as dpkg-source -x would
# unpack the source package: built (source and binary) twice in a row,
# without network where unshare -n can be had.
deb_case() {
	local why
	if [ -z "$in_git" ]; then
		skip "$1" "not a git work tree (make deb-orig needs git ls-files)"
	elif ! command -v dpkg-buildpackage >/dev/null; then
		skip "$1" "dpkg-buildpackage is not installed (apt-get install dpkg-dev debhelper)"
	elif [ -z "$fio_tarball" ]; then
		skip "$1" "no fio $pkg_fio tarball: $(tail -1 "$tmp/fio-tarball.log")"
	elif [ -n "${deb_missing:-}" ]; then
		skip "$1" "build dependencies missing: $deb_missing (apt-get build-dep ./)"
	else
		return 0
	fi
	return 1
}
deb=$tmp/deb
src=$deb/uring-folioreg-$version
mkdir -p "$deb"
deb_missing=$(dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p')
# docs/packaging.md's "apt-get build-dep ./", simulated: apt resolves the build
# dependencies from debian/control (installing them is make deps' work).
if apt-get -s build-dep ./ >"$tmp/build-dep.log" 2>&1; then
	pass apt-build-dep-resolves
else
	fail apt-build-dep-resolves "apt-get -s build-dep ./: $(grep -m2 '^E:' "$tmp/build-dep.log" | tr '\n' ' ')"
fi
offline=""
unshare -n true 2>/dev/null && offline="unshare -n"
if deb_case deb-build-twice-offline; then
	cp "$fio_tarball" "$deb/"
	mkdir -p "$src"
	if ! make -s deb-orig DEB_ORIGDIR="$deb" DEB_FIO_DIR="$src/fio" \
		>"$tmp/deb-orig.log" 2>&1; then
		fail deb-build-twice-offline "make deb-orig: $(tail -2 "$tmp/deb-orig.log" | tr '\n' ' ')"
	else
		tar -xzf "$deb/uring-folioreg_$version.orig.tar.gz" -C "$src" --strip-components=1
		git ls-files -z debian | xargs -0 cp --parents -t "$src"
		chmod +x "$src/debian/rules"
		why=""
		(cd "$src" && find . | sort) >"$tmp/deb-tree.before"
		for i in 1 2; do
			(cd "$src" && $offline dpkg-buildpackage -us -uc) >"$tmp/deb-build$i.log" 2>&1 ||
				why="$why build $i failed: $(grep -m2 -iE 'error|failed' "$tmp/deb-build$i.log" | tr '\n' ' ');"
		done
		# clean takes the tree back to what dpkg-source -x gave.
		left=$(cd "$src" && debian/rules clean >/dev/null 2>&1 && find . | sort |
			comm -13 "$tmp/deb-tree.before" -)
		[ -z "$left" ] || why="$why clean left: $(echo "$left" | head -5 | tr '\n' ' ');"
		if [ -n "$why" ]; then
			fail deb-build-twice-offline "$why"
		else
			pass deb-build-twice-offline
		fi
	fi
fi

debfile=$(ls "$deb"/fio-engine-uring-folioreg_"$version"-*.deb 2>/dev/null | head -1)
dsc=$(ls "$deb"/uring-folioreg_"$version"-*.dsc 2>/dev/null | head -1)
if [ -n "$debfile" ]; then
	# docs/packaging.md's "apt-get install ../fio-engine-uring-folioreg_*.deb",
	# simulated: apt takes the package with this machine's fio and removes
	# nothing.
	if ! apt-get -s install "$debfile" >"$tmp/apt-install.log" 2>&1; then
		fail apt-install-deb "apt-get -s install: $(grep -m2 '^E:' "$tmp/apt-install.log" | tr '\n' ' ')"
	elif ! grep -q '^Inst fio-engine-uring-folioreg ' "$tmp/apt-install.log" ||
		grep -q '^Remv ' "$tmp/apt-install.log"; then
		fail apt-install-deb "$(grep -E '^(Inst|Remv) ' "$tmp/apt-install.log" | tr '\n' ' ')"
	else
		pass apt-install-deb
	fi
	# The Depends on fio: any Debian revision, security update or binNMU of
	# the upstream version it was built against, and no other. Checked
	# relation by relation with dpkg --compare-versions, not by apt.
	dep=$(dpkg-deb -f "$debfile" Depends | tr ',' '\n' | sed -n 's/^ *fio (\(.*\))$/\1/p')
	sat() { # VERSION: does it satisfy every fio relation of Depends?
		local op v
		while read -r op v; do
			dpkg --compare-versions "$1" "$op" "$v" || return 1
		done <<<"$dep"
	}
	why=""
	[ "$(echo "$dep" | wc -l)" = 2 ] || why="$why Depends on fio: $dep;"
	for v in "$pkg_fio-3" "$pkg_fio-3+deb12u1" "$pkg_fio-3+b1" "$pkg_fio-4"; do
		sat "$v" || why="$why fio $v would remove it;"
	done
	next=$(echo "$pkg_fio" | awk -F. '{ print $1 "." $2 + 1 }')
	for v in "$next-1" "$next~rc1-1" "${pkg_fio%.*}.$((${pkg_fio#*.} - 1))-1"; do
		sat "$v" && why="$why fio $v would keep it;"
	done
	bu=$(dpkg-deb -f "$debfile" Built-Using)
	[ "$bu" = "$(dpkg-query -W -f='${source:Package} (= ${source:Version})' fio)" ] ||
		why="$why Built-Using: $bu;"
	dpkg-deb -c "$debfile" | grep -q 'fio/fio-uring_folioreg.so -> uring_folioreg.so' ||
		why="$why no fio-uring_folioreg.so in the package;"
	if [ -n "$why" ]; then
		fail deb-depends-fio-upstream-range "$why"
	else
		pass deb-depends-fio-upstream-range
	fi
	# README.md's pages by topic go beside it (dh_compress may gzip them).
	why=""
	for f in docs/*.md docs/*.png; do
		dpkg-deb -c "$debfile" | grep -qE "/usr/share/doc/fio-engine-uring-folioreg/$f(\.gz)?\$" ||
			why="$why no $f;"
	done
	if [ -n "$why" ]; then
		fail deb-docs "$why"
	else
		pass deb-docs
	fi

	if command -v lintian >/dev/null; then
		lintian -EvIL +pedantic "$dsc" "$debfile" >"$tmp/lintian.log" 2>&1
		bad=$(grep -E '^[EW]: ' "$tmp/lintian.log" | grep -v ': initial-upload-closes-no-bugs')
		if [ -z "$bad" ] && grep -q 'initial-upload-closes-no-bugs' "$tmp/lintian.log"; then
			pass lintian-source-and-binary
		elif [ -z "$bad" ]; then
			fail lintian-source-and-binary "lintian printed nothing: $(tail -2 "$tmp/lintian.log" | tr '\n' ' ')"
		else
			fail lintian-source-and-binary "$(echo "$bad" | head -5 | tr '\n' ' ')"
		fi
	else
		skip lintian-source-and-binary "lintian is not installed (apt-get install lintian)"
	fi
else
	skip deb-depends-fio-upstream-range "no Debian package was built"
	skip lintian-source-and-binary "no Debian package was built"
fi

# The RPMs, from the spec's own sources: rpmbuild -ba with no --define but
# the top directory (and --nodeps on Debian, whose rpm database does not
# know Fedora's BuildRequires names).
if [ -z "$in_git" ]; then
	skip rpmbuild-from-own-sources "not a git work tree (make dist needs git ls-files)"
	skip rpmlint "not a git work tree"
elif ! command -v rpmbuild >/dev/null; then
	skip rpmbuild-from-own-sources "rpmbuild is not installed (apt-get install rpm)"
	skip rpmlint "rpmbuild is not installed (apt-get install rpm rpmlint)"
elif [ -z "$fio_tarball" ]; then
	skip rpmbuild-from-own-sources "no fio $pkg_fio tarball: $(tail -1 "$tmp/fio-tarball.log")"
	skip rpmlint "no fio $pkg_fio tarball"
else
	rpm=$tmp/rpm
	mkdir -p "$rpm/SOURCES"
	cp "$fio_tarball" "$rpm/SOURCES/"
	nodeps=""
	[ -f /etc/debian_version ] && nodeps=--nodeps
	if make -s dist dist-fio DISTDIR="$rpm/SOURCES" >"$tmp/rpm-dist.log" 2>&1 &&
		rpmbuild -ba $nodeps --define "_topdir $rpm" \
			packaging/uring_folioreg.spec >"$tmp/rpmbuild.log" 2>&1 &&
		rpm -qpl "$rpm"/RPMS/*/uring_folioreg-"$version"-*.rpm 2>/dev/null |
		grep -q '/fio/uring_folioreg.so$'; then
		pass rpmbuild-from-own-sources
		why=""
		for f in docs/*.md docs/*.png; do
			rpm -qpl "$rpm"/RPMS/*/uring_folioreg-"$version"-*.rpm 2>/dev/null |
				grep -q "/doc/uring_folioreg/$f\$" || why="$why no $f;"
		done
		if [ -n "$why" ]; then
			fail rpm-docs "$why"
		else
			pass rpm-docs
		fi
		if command -v rpmlint >/dev/null; then
			rpmlint -r packaging/uring_folioreg.rpmlintrc "$rpm"/SRPMS/*.rpm \
				"$rpm"/RPMS/*/*.rpm >"$tmp/rpmlint.log" 2>&1
			bad=$(grep -E '^[^ ]+: E: ' "$tmp/rpmlint.log" | grep -v ': E: no-signature')
			if [ -z "$bad" ] && grep -q 'checked' "$tmp/rpmlint.log"; then
				pass rpmlint
			else
				fail rpmlint "${bad:-$(tail -2 "$tmp/rpmlint.log" | tr '\n' ' ')}"
			fi
		else
			skip rpmlint "rpmlint is not installed (apt-get install rpmlint)"
		fi
	else
		fail rpmbuild-from-own-sources "$(tail -3 "$tmp/rpm-dist.log" "$tmp/rpmbuild.log" 2>/dev/null | tr '\n' ' ')"
		skip rpmlint "no RPM was built"
	fi
fi

# --- another fio --------------------------------------------------------

# The other fio and the engine built against it (lib.sh: other_fio).
other_fio
case $? in
0) ;;
"$SKIPPED")
	skip other-fio-smoke "$WHY"
	exit 0
	;;
*)
	fail other-fio-smoke "$WHY"
	exit 0
	;;
esac
other=$OTHER_FIO
if ! other_fio_engine "$tmp/build-other.log"; then
	fail "$other-build" "$WHY"
	exit 0
fi
if grep -q 'warning:' "$tmp/build-other.log"; then
	fail "$other-build" "$(grep -m3 'warning:' "$tmp/build-other.log" | tr '\n' ' ')"
else
	pass "$other-build"
fi

# ofio OUT ARGS...: ufio with the other fio and the engine built for it.
ofio() { UFR_FIO=$OTHER_FIO_BIN ENGINE=$OTHER_ENGINE ufio "$@"; }

f=$SCRATCH/other-fio.dat
for s in iomem per_page; do
	out=$tmp/verify-$s.out
	ofio "$out" --name=verify --filename="$f" --size=64m --rw=randrw \
		--bs=4k --direct=1 --iodepth=32 --verify=crc32c --reg_strategy=$s
	verdict "$other-verify-$s" job_ok "$out" $?
done
out=$tmp/sfr.out
ofio "$out" --name=sfr --filename="$f" --size=32m --rw=write --bs=4k \
	--iodepth=32 --sync_file_range=write:8 --verify=crc32c
verdict "$other-sync-file-range" job_ok "$out" $?

# end_syncfs (fio 3.42): syncfs(2), run synchronously by the engine.
if "$OTHER_FIO_BIN" --cmdhelp=end_syncfs 2>&1 | grep -q 'sync of FS'; then
	out=$tmp/syncfs.out
	ofio "$out" --name=syncfs --filename="$f" --size=16m --rw=write \
		--bs=64k --iodepth=8 --end_syncfs=1
	verdict "$other-end-syncfs" job_ok "$out" $?
fi

out=$tmp/json.out
if ofio "$out" --name=json --filename="$f" --size=64m --rw=read --bs=1m \
	--iodepth=8 --direct=1 --reg_mode=each --output-format=json &&
	jq -e --arg v "$version" '.jobs[0].error == 0 and
	.jobs[0].uring_folioreg.version == $v and
	.jobs[0].uring_folioreg.reg.calls == 9 and
	.jobs[0].uring_folioreg.reg.per_buffer_ns.p99 > 0 and
	.jobs[0].uring_folioreg.segments.pages > 0' "$out" >/dev/null 2>&1; then
	pass "$other-json"
else
	fail "$other-json" "$(head -c 400 "$out" | tr '\n' ' ')"
fi
rm -f "$f"

# And the other way round: this fio refuses the engine built for that one.
this=$("$UFR_FIO" --version)
out=$tmp/refuse.out
ENGINE=$OTHER_ENGINE ufio "$out" --name=refuse \
	--filename=/dev/zero --rw=read --size=1m
verdict "$other-engine-refused-by-$this" expect_error "$out" $? \
	"^uring_folioreg: engine $version built for $other but loaded by $this;"
