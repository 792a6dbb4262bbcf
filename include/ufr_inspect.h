/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_INSPECT_H
#define UFR_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ufr_segments.h"

/*
 * Walk the real folio layout of @n buffers through /proc/self/pagemap and
 * /proc/kpageflags (root needed) and apply the coalescing rules to each.
 * The buffers must be faulted in for writing: pinning for write replaces
 * pages shared copy-on-write (the zero page, after fork(), KSM), so the
 * layout seen before is not the one pinned.
 * Returns 0 and fills @out. Otherwise out->from_pagemap is false and it
 * returns -EACCES/-EPERM/-ENOENT if the files cannot be opened or read,
 * -EPERM if PFNs read as 0 (no CAP_SYS_ADMIN), -EFAULT if a page is not
 * present or is the zero page, -EIO if the page flags make no folio,
 * -EINVAL for a buffer that wraps around the address space, -ENOMEM.
 */
int ufr_inspect_buffers(const struct iovec *iov, unsigned int n,
			struct ufr_segments *out);

/* One page of a buffer: its PFN, its folio's head PFN and size in pages. */
struct ufr_page_info {
	uint64_t pfn;
	uint64_t head_pfn;
	uint32_t folio_pages;
};

/* The bio_vecs the kernel builds for ONE buffer made of @pages, in order. */
uint32_t ufr_coalesced_bvecs(const struct ufr_page_info *pages, size_t nr);

/*
 * Pages pinned system-wide (FOLL_PIN): nr_foll_pin_acquired -
 * nr_foll_pin_released from /proc/vmstat, after folding the per-CPU
 * counters through /proc/sys/vm/stat_refresh. *@exact (may be NULL) says
 * whether that fold happened; without it the figure can be off by the
 * per-CPU deltas. Returns -1 if /proc/vmstat lacks the counters.
 */
int64_t ufr_pins_held(bool *exact);

#endif
