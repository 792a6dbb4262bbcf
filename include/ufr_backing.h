/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_BACKING_H
#define UFR_BACKING_H

#include <stdbool.h>
#include <stddef.h>

#include "ufr_error.h"

/* The folio size buffer memory is backed by (option reg_folio). */
enum ufr_folio {
	UFR_FOLIO_DEFAULT, /* the strategy's own choice */
	UFR_FOLIO_4K,
	UFR_FOLIO_THP,
	UFR_FOLIO_2M,
	UFR_FOLIO_1G,
};

const char *ufr_folio_name(enum ufr_folio folio);
/* Bytes per folio; THP is the PMD size the kernel reports. */
size_t ufr_folio_bytes(enum ufr_folio folio);

/* Buffer memory the engine maps itself, faulted in before registration. */
struct ufr_backing {
	void *addr; /* aligned to the folio size */
	size_t len;
	void *map; /* what mmap returned, for munmap */
	size_t map_len;
	enum ufr_folio folio;
};

/*
 * Map @len bytes (a multiple of the folio size) on @folio memory, bound to
 * @numa_node first when it is >= 0, and fault every page in so that
 * registration times pinning, not page faults. Hugetlb pages that are not
 * there are reported with the command that reserves them.
 */
int ufr_backing_map(struct ufr_backing *b, size_t len, enum ufr_folio folio,
		    int numa_node, struct ufr_err *err);
void ufr_backing_unmap(struct ufr_backing *b);

/*
 * Fault the pages of [addr, addr + len) in for writing, keeping their
 * contents, so that a registration that follows times pinning, not page
 * faults. MADV_POPULATE_WRITE, or where the kernel lacks it and
 * @may_touch, a write to each page. 0 or -errno.
 */
int ufr_prefault(void *addr, size_t len, bool may_touch);

#endif
