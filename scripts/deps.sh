#!/bin/sh
# Install what uring_folioreg needs, from Debian's archive. Safe to run
# again: it only installs what is missing.
#
#   scripts/deps.sh        building and testing the engine (make deps)
#   scripts/deps.sh lab    the kernel lab (make deps-lab; make lab and
#                          make lab-ab run it): QEMU and a static busybox
#                          to boot guests, and what building a guest
#                          kernel from source takes (scripts/lab/
#                          kernel-build.sh: make tinyconfig, whose kconfig
#                          is flex and bison; bc for the timer constants;
#                          libelf for objtool; xz for tiny.config's
#                          compressed image and the linux-source tarball;
#                          git apply for the patches; ccache)
set -e

case ${1:-} in
"")
	pkgs="fio liburing-dev libnuma-dev dpkg-dev pkg-config gcc make jq
libaio-dev zlib1g-dev libibverbs-dev librdmacm-dev libcmocka-dev
cppcheck clang-format shellcheck util-linux procps valgrind gnuplot-nox python3
clang libclang-rt-14-dev iproute2
debhelper lintian rpm rpmlint man-db debootstrap"
	;;
lab)
	pkgs="qemu-system-x86 busybox-static python3
gcc make flex bison bc perl libelf-dev xz-utils zstd git ccache"
	;;
*)
	echo "uring_folioreg: scripts/deps.sh: unknown set '$1'; give none (building and testing) or lab (the kernel lab)" >&2
	exit 2
	;;
esac
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
echo "deps${1:+ ($1)}: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
