/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_INSPECT_H
#define UFR_INSPECT_H

/*
 * The fifth stage: what the kernel built. The real folio layout of the
 * registered buffers (pagemap, kpageflags) through the running kernel's
 * coalescing rules, which a probe registration finds out.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ufr_layout.h"
#include "ufr_memory.h"
#include "ufr_probe.h"
#include "ufr_reg.h"

/*
 * Walk the real folio layout of @n buffers through /proc/self/pagemap and
 * /proc/kpageflags (root needed) and apply the kernel's coalescing @rules
 * to each. @shift (NULL or @n entries) gets, per buffer, log2 of the bytes
 * each of its bio_vecs covers (the folio size if it coalesced, else the
 * page size): what io_import_fixed() steps through for one I/O.
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
			enum ufr_rules rules, struct ufr_segments *out,
			uint8_t *shift);

/* One page of a buffer: its PFN, its folio's head PFN and size in pages. */
struct ufr_page_info {
	uint64_t pfn;
	uint64_t head_pfn;
	uint32_t folio_pages;
};

/* The bio_vecs the kernel builds under @rules for ONE buffer made of
 * @pages, in order. */
uint32_t ufr_coalesced_bvecs(enum ufr_rules rules,
			     const struct ufr_page_info *pages, size_t nr);

/* The coalescing rules of the running kernel, and how they were found. */
struct ufr_rules_found {
	enum ufr_rules rules;
	char how[200];
};

/*
 * Ask the running kernel which rules it applies: on a ring of its own,
 * register one buffer lying inside one large folio and one over two, and
 * read the pins the kernel keeps (per_page keeps every page, single_folio
 * one for the first and every page of the second, multi_folio three).
 * The folios are THP, or 2 MiB hugetlb pages when THP gives none. Where
 * that cannot be done (not root, no large folio to be had, counters kept
 * moving), or the answer matches no known rules, the kernel's version
 * decides and @out->how says why. Done once per process, on the first
 * caller's snapshot @m (its PMD size, THP switch and kernel release).
 */
void ufr_rules_probe(const struct ufr_machine *m, struct ufr_rules_found *out);

/*
 * What the kernel builds from a buffer set's registered buffers under
 * @rules: from the real folio layout where it can be read, else predicted
 * for folios of @folio_bytes. Also fills s->io_shift. 0 or -ENOMEM.
 */
int ufr_bufset_segments(struct ufr_bufset *s, size_t folio_bytes,
			enum ufr_rules rules, struct ufr_segments *seg);

#endif
