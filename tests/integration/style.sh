#!/bin/bash
# The code style the tree promises: kernel style by .clang-format, a
# cppcheck-clean and -Wall -Wextra clean build, shellcheck-clean scripts.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

if out=$(make -s lint 2>&1); then
	pass lint-cppcheck-clang-format-shellcheck
else
	fail lint-cppcheck-clang-format-shellcheck "$(echo "$out" | head -5 | tr '\n' ' ')"
fi

# A from-scratch build of our objects prints no warning.
tmp=$(mktemp -d)
if out=$(make -s BUILD="$tmp" FIO_SRC="$FIO_SRC" \
	ENGINE="$tmp/uring_folioreg.so" "$tmp/uring_folioreg.so" 2>&1) &&
	! echo "$out" | grep -q 'warning:'; then
	pass build-warning-free
else
	fail build-warning-free "$(echo "$out" | grep -m3 'warning:' | tr '\n' ' ')"
fi
rm -rf "$tmp"
