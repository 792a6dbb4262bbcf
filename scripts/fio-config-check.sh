#!/bin/sh
# Check that a fio config-host.h enables the optional libraries the fio
# binary is linked with: each one changes the layout of structs the engine
# shares with fio (thread_data, io_u), so a mismatch corrupts memory.
# Usage: fio-config-check.sh FIO_BINARY CONFIG_HOST_H
set -e
bin=$1
cfg=$2
libs=$(ldd "$bin" 2>/dev/null)
bad=0
check() { # library, config macro, Debian package with its headers
	if echo "$libs" | grep -q "$1"; then
		if ! grep -q "^#define $2" "$cfg"; then
			echo "uring_folioreg: $bin links $1 but $cfg lacks $2;" \
				"install $3 and rebuild: make distclean && make deps && make" >&2
			bad=1
		fi
	fi
}
check libnuma.so CONFIG_LIBNUMA libnuma-dev
check libaio.so CONFIG_LIBAIO libaio-dev
check libibverbs.so CONFIG_RDMA "libibverbs-dev librdmacm-dev"
check libz.so CONFIG_ZLIB zlib1g-dev
exit $bad
