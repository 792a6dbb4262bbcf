#!/bin/sh
# make demo: run the first example job on a scratch file and show fio's
# result. (The strategy comparison replaces this once it exists.)
set -e
cd "$(dirname "$0")/.."
echo "demo: $(fio --version) with ./uring_folioreg.so: examples/first.fio"
fio examples/first.fio
rm -f /tmp/uring_folioreg-first.dat
