/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_BACKING_H
#define UFR_BACKING_H

#include <stddef.h>

#include "ufr_error.h"

/* Buffer memory the engine maps itself, faulted in before registration. */
struct ufr_backing {
	void *addr;
	size_t len;
};

/* Anonymous memory kept on 4 KiB pages (no THP), every page faulted in. */
int ufr_backing_map_small(struct ufr_backing *b, size_t len,
			  struct ufr_err *err);
void ufr_backing_unmap(struct ufr_backing *b);

#endif
