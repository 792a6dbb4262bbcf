/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_HUGETLB_H
#define UFR_HUGETLB_H

#include <stddef.h>

#include "ufr_error.h"

/* A hugetlb pool counter (e.g. "free_hugepages", "nr_hugepages") of the
 * @page_bytes pool, or -1 if the kernel has no such pool. */
long ufr_hugetlb_count(size_t page_bytes, const char *counter);

/* Explain that @need pages of @page_bytes are missing for @what, with the
 * command that reserves them. Returns -ENOMEM. */
int ufr_hugetlb_shortage(struct ufr_err *err, const char *what,
			 size_t page_bytes, unsigned long need);

#endif
