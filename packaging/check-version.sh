#!/bin/sh
# The VERSION file is the one place that holds the version: the engine is
# compiled with it and prints it. The packaging files must carry it too
# (their formats want it literally); check that they agree with VERSION:
# debian/changelog (the upstream part of its top entry), the RPM spec and
# the man page's title line; and that both packages build against the
# same fio. Run by make dist and by the packaging test.
set -eu
cd "$(dirname "$0")/.."

v=$(cat VERSION)
bad=0
# check FILE FOUND: FOUND is the version FILE carries.
check() {
	if [ "$2" != "$v" ]; then
		echo "uring_folioreg: $1 says version '$2' but VERSION says '$v';" \
			"update $1" >&2
		bad=1
	fi
}

# "uring-folioreg (0.1.0-1) unstable; ...": drop the Debian revision.
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
check debian/changelog "${deb%-*}"
check packaging/uring_folioreg.spec \
	"$(sed -n 's/^Version:[[:space:]]*//p' packaging/uring_folioreg.spec)"
check man/uring_folioreg.7 \
	"$(sed -n 's/^\.TH .*"uring_folioreg \([^"]*\)".*/\1/p' man/uring_folioreg.7)"

# The fio both packages build against: the spec's fio_version (its
# Source1, make dist-fio) and debian/control's fio (>= X.Y) (the component
# tarball, make deb-orig).
fio=$(sed -n 's/^%global fio_version[[:space:]]*//p' packaging/uring_folioreg.spec)
ctl=$(sed -n 's/^[[:space:]]*fio (>= \([^)]*\)),$/\1/p' debian/control)
if [ -z "$fio" ] || [ "$fio" != "$ctl" ]; then
	echo "uring_folioreg: packaging/uring_folioreg.spec builds against fio" \
		"'$fio' but debian/control's Build-Depends say fio (>= $ctl);" \
		"make them agree" >&2
	bad=1
fi
exit $bad
