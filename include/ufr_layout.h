/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_LAYOUT_H
#define UFR_LAYOUT_H

/*
 * The second stage: where each buffer goes and what the kernel will build
 * from it, as arithmetic on offsets (the planner), and the one predictor
 * of segments that the planner, the engine's addresses and each I/O use.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ufr_config.h"

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

const char *ufr_rules_name(enum ufr_rules rules);

/*
 * The rules of a kernel of this release (uname -r) by its version alone:
 * the fallback when the kernel cannot be asked (no pin counters, not
 * root). Distribution kernels may backport, so a probe is preferred.
 */
enum ufr_rules ufr_rules_for_release(const char *release);

/*
 * Whether the kernel registers buffer [off, off + len) under the length
 * cap @cap (0: UFR_MAX_REGION_BYTES): len within the cap, and its pages
 * within what io_pin_pages() takes.
 */
bool ufr_buffer_fits(unsigned long long cap, uint64_t off, uint64_t len);

/* What the kernel builds when it registers buffers, under its rules. */
struct ufr_segments {
	uint64_t pages; /* base pages spanned by all buffers */
	uint64_t bvecs; /* bio_vecs the kernel builds for all buffers */
	uint64_t folios; /* distinct folios the buffers touch */
	uint64_t straddling; /* buffers that span more than one folio */
	uint64_t min_folio_bytes, max_folio_bytes; /* of the folios seen */
	bool from_pagemap; /* true: real PFNs and flags were read */
};

/* Bio_vecs the kernel builds under @rules for one registered buffer
 * [off, off + len) on folios of @folio_bytes aligned to their size. */
uint32_t ufr_range_bvecs(enum ufr_rules rules, uint64_t off, uint64_t len,
			 size_t folio_bytes);

/*
 * Add registered buffer [off, off + len) to @seg as ufr_range_bvecs()
 * counts it, with the folios it does not share with the buffer before it
 * (*@last_folio, UINT64_MAX at first; buffers come in address order).
 */
void ufr_segments_add_range(struct ufr_segments *seg, enum ufr_rules rules,
			    uint64_t off, uint64_t len, uint64_t folio_bytes,
			    uint64_t *last_folio);

struct ufr_plan_params {
	/* per_page, coalesced, per_folio or hugetlb_fast */
	enum ufr_strategy strategy;
	unsigned int nr_bufs; /* one per io_u */
	size_t buf_bytes; /* the job's largest block size */
	size_t align; /* fio's mem_align: first buffer's offset */
	size_t folio_bytes; /* 4 KiB, 16 KiB to 1 MiB, THP, 2 MiB or 1 GiB */
	/* For the refusal's fix only: the folio option, the backing and
	 * the machine's PMD THP size (0: unknown). */
	enum ufr_folio folio;
	enum ufr_backing_kind backing;
	size_t thp_bytes;
	/* the kernel's length cap on one registered buffer (0: 1 GiB) */
	unsigned long long max_buffer_bytes;
};

/* One registered buffer: a byte range of the backing memory. */
struct ufr_plan_region {
	size_t off;
	size_t len;
};

/* Where an io_u's buffer sits and which registered buffer holds it. */
struct ufr_plan_buf {
	size_t off;
	uint32_t region;
};

struct ufr_plan {
	size_t backing_bytes; /* a whole number of folios */
	unsigned int nr_regions;
	unsigned int nr_bufs;
	struct ufr_plan_region *regions;
	struct ufr_plan_buf *bufs;
	/* what a kernel of 6.10 on will build (inspection applies the
	 * running kernel's rules); straddling counts io_u buffers */
	struct ufr_segments seg;
};

/*
 * Place every buffer for the strategy and predict the segments, on folios
 * of folio_bytes aligned to their size (hugetlb, THP, multi-size THP and
 * shmem THP are). Coalesced regions are as large as the kernel's cap lets
 * them be. Refuses what cannot work: a buffer larger than a per_folio or
 * hugetlb_fast folio (naming the bs and the folio that fit), a buffer the
 * kernel's cap refuses, more than 16384 buffers.
 */
int ufr_plan_make(const struct ufr_plan_params *p, struct ufr_plan *plan,
		  struct ufr_err *err);
/* The plan of a config on folios of c->folio_bytes, on a machine whose
 * PMD THP is @thp_bytes. */
int ufr_plan_for_config(const struct ufr_config *c, size_t thp_bytes,
			struct ufr_plan *plan, struct ufr_err *err);
void ufr_plan_free(struct ufr_plan *plan);

/* Folios of @folio_bytes that [off, off + len) touches. */
static inline uint64_t ufr_folios_spanned(uint64_t off, uint64_t len,
					  size_t folio_bytes)
{
	if (!len)
		return 0;
	return (off + len - 1) / folio_bytes - off / folio_bytes + 1;
}

/*
 * The segments one I/O walks in its registered buffer: the folios (or
 * pages, 1 << @shift bytes each) its slice [addr, addr + len) spans, as
 * io_import_fixed() steps through them.
 */
static inline uint64_t ufr_io_segments(uintptr_t addr, uint64_t len,
				       unsigned int shift)
{
	uint64_t mask = (1ull << shift) - 1;

	return ((addr & mask) + len + mask) >> shift;
}

#endif
