/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_PLAN_H
#define UFR_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "ufr_error.h"
#include "ufr_segments.h"
#include "ufr_strategy.h"

/* The kernel refuses a registered buffer over 1 GiB. */
#define UFR_MAX_REGION_BYTES (1ull << 30)
#define UFR_MAX_BUFFERS 16384u
#define UFR_PAGE_BYTES 4096u

struct ufr_plan_params {
	enum ufr_strategy strategy; /* per_page, coalesced or hugetlb_fast */
	unsigned int nr_bufs; /* one per io_u */
	size_t buf_bytes; /* the job's largest block size */
	size_t align; /* fio's mem_align: first buffer's offset */
	size_t folio_bytes; /* 4 KiB, THP, 2 MiB or 1 GiB */
	enum ufr_rules rules; /* the kernel's coalescing rules */
};

/* One registered buffer: a byte range of the backing memory. */
struct ufr_plan_region {
	size_t off;
	size_t len;
	uint32_t bvecs; /* what the kernel makes of it under the rules */
};

/* Where an io_u's buffer sits and which registered buffer holds it. */
struct ufr_plan_buf {
	size_t off;
	uint32_t region;
};

struct ufr_plan {
	size_t folio_bytes;
	size_t backing_bytes; /* a whole number of folios */
	unsigned int nr_regions;
	unsigned int nr_bufs;
	struct ufr_plan_region *regions;
	struct ufr_plan_buf *bufs;
	/* what the kernel will build; straddling counts io_u buffers */
	struct ufr_segments seg;
};

/*
 * Place every buffer for the strategy and predict the segments the kernel
 * builds, assuming folios of folio_bytes aligned to their size (hugetlb
 * and PMD THP are). Fails with a message for combinations that cannot
 * work (a buffer larger than a hugetlb_fast folio, a region over 1 GiB,
 * more than 16384 buffers).
 */
int ufr_plan_make(const struct ufr_plan_params *p, struct ufr_plan *plan,
		  struct ufr_err *err);
void ufr_plan_free(struct ufr_plan *plan);

/* Bio_vecs the kernel builds under @rules for one registered buffer
 * [off, off + len) on folios of @folio_bytes aligned to their size. */
uint32_t ufr_range_bvecs(enum ufr_rules rules, uint64_t off, uint64_t len,
			 size_t folio_bytes);

/* Folios of @folio_bytes that [off, off + len) touches. */
static inline uint64_t ufr_folios_spanned(uint64_t off, uint64_t len,
					  size_t folio_bytes)
{
	if (!len)
		return 0;
	return (off + len - 1) / folio_bytes - off / folio_bytes + 1;
}

#endif
