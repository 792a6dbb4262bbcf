/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include <stddef.h>
#include <sys/uio.h>

/* @n buffers of @len bytes back to back from @base. */
static inline void make_iovecs(struct iovec *iov, unsigned int n, char *base,
			       size_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = base + i * len;
		iov[i].iov_len = len;
	}
}

#endif
