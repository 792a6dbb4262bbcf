// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/stat.h>

#include "ufr_dio.h"

int ufr_dio_check(int fd, const char *name, const unsigned long long *bs,
		  size_t nr, size_t mem_align, struct ufr_err *err)
{
	struct statx st;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) ||
	    !(st.stx_mask & STATX_DIOALIGN))
		return 0;
	if (!st.stx_dio_offset_align)
		return ufr_err_set(
			err, EINVAL,
			"direct=1: filename=%s does not support O_DIRECT; use direct=0 or another file system",
			name);
	for (i = 0; i < nr; i++) {
		if (bs[i] % st.stx_dio_offset_align)
			return ufr_err_set(
				err, EINVAL,
				"bs=%llu: O_DIRECT on filename=%s needs sizes and offsets in multiples of %u bytes; use such a bs (or direct=0)",
				bs[i], name, st.stx_dio_offset_align);
	}
	if (st.stx_dio_mem_align && mem_align % st.stx_dio_mem_align)
		return ufr_err_set(
			err, EINVAL,
			"mem_align=%zu: O_DIRECT on filename=%s needs buffers aligned to %u bytes; use a multiple of %u",
			mem_align, name, st.stx_dio_mem_align,
			st.stx_dio_mem_align);
	return 0;
}
