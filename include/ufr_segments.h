/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_SEGMENTS_H
#define UFR_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What the kernel builds when it registers buffers: one bio_vec per folio
 * if a buffer passes io_check_coalesce_buffer() (io_uring/rsrc.c) and its
 * first folio is larger than a page, else one per page.
 */
struct ufr_segments {
	uint64_t pages; /* base pages spanned by all buffers */
	uint64_t bvecs; /* bio_vecs the kernel builds for all buffers */
	uint64_t folios; /* distinct folios the buffers touch */
	uint32_t straddling; /* buffers that span more than one folio */
	uint64_t min_folio_bytes, max_folio_bytes; /* of the folios seen */
	bool from_pagemap; /* true: real PFNs and flags were read */
};

/*
 * Fold the registered range [off, off + len), on folios of @folio_bytes
 * aligned to their size, into @seg: its pages, its bio_vecs and the folios
 * it does not share with the range before it (*@last_folio, start with
 * UINT64_MAX; ranges come in address order).
 */
void ufr_segments_add_range(struct ufr_segments *seg, uint64_t off,
			    uint64_t len, uint64_t folio_bytes,
			    uint64_t *last_folio);

#endif
