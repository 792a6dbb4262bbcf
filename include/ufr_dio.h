/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_DIO_H
#define UFR_DIO_H

#include <stddef.h>

#include "ufr_error.h"

/*
 * Check a job's block sizes and buffer alignment against what O_DIRECT
 * needs on open file @fd (statx STATX_DIOALIGN, Linux 6.1+), so that a
 * misfit is one clear line rather than EINVAL on the first I/O. @bs holds
 * @nr block sizes. Returns 0 when they fit or the kernel does not say.
 */
int ufr_dio_check(int fd, const char *name, const unsigned long long *bs,
		  size_t nr, size_t mem_align, struct ufr_err *err);

#endif
