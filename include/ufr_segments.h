/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_SEGMENTS_H
#define UFR_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The rules by which the running kernel's io_uring/rsrc.c turns a
 * registered buffer's pages into bio_vecs. They changed twice:
 * Linux 6.3 merged a buffer lying wholly inside one folio into one
 * bio_vec; Linux 6.10 (io_check_coalesce_buffer()) merges runs of
 * folios of one size, one bio_vec per folio. Before 6.3 every page is a
 * bio_vec of its own.
 */
enum ufr_rules {
	UFR_RULES_MULTI_FOLIO, /* 6.10 on: one bio_vec per equal-size folio */
	UFR_RULES_SINGLE_FOLIO, /* 6.3 to 6.9: one if all in one folio */
	UFR_RULES_PER_PAGE, /* up to 6.2: one bio_vec per page */
};

/* "multi_folio", "single_folio", "per_page". */
const char *ufr_rules_name(enum ufr_rules rules);

/*
 * The rules a kernel of this release string (uname -r) has, going by the
 * version alone: the fallback when the kernel cannot be asked (no pin
 * counters, not root). Distribution kernels may backport, so a probe of
 * the real behaviour is preferred.
 */
enum ufr_rules ufr_rules_for_release(const char *release);

/*
 * What the kernel builds when it registers buffers, under its rules: see
 * enum ufr_rules.
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
 * aligned to their size, registered under @rules, into @seg: its pages, its bio_vecs and the folios
 * it does not share with the range before it (*@last_folio, start with
 * UINT64_MAX; ranges come in address order).
 */
void ufr_segments_add_range(struct ufr_segments *seg, enum ufr_rules rules,
			    uint64_t off, uint64_t len, uint64_t folio_bytes,
			    uint64_t *last_folio);

#endif
