#!/bin/sh
# Install what building and testing uring_folioreg needs, from Debian's
# archive. Safe to run again: it only installs what is missing.
set -e

pkgs="fio liburing-dev libnuma-dev dpkg-dev pkg-config gcc make jq
libaio-dev zlib1g-dev libibverbs-dev librdmacm-dev libcmocka-dev
cppcheck clang-format shellcheck util-linux procps valgrind gnuplot-nox python3
clang libclang-rt-14-dev iproute2
debhelper lintian rpm rpmlint man-db"
[ -n "$UFR_EXTRA_PKGS" ] && pkgs="$pkgs $UFR_EXTRA_PKGS"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "uring_folioreg: missing packages:$missing; install them as root:" \
		"apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
