#!/bin/sh
# Configure a fio source tree the way Debian's debian/rules does, so that
# its config-host.h (which decides struct layouts) matches Debian's build.
# Usage: fio-configure.sh DIR
set -e

dir=${1:?usage: fio-configure.sh DIR}
(cd "$dir" && ./configure --disable-native --prefix=/usr >configure.log 2>&1 &&
	./FIO-VERSION-GEN >/dev/null 2>&1) || {
	echo "uring_folioreg: configuring fio's source failed, see $dir/configure.log" >&2
	exit 1
}
