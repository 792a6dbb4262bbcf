// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the segment calculator. The fuzzer describes one
 * registered buffer as runs of pages taken from folios; the bvec count
 * ufr_coalesced_bvecs() gives must match the kernel's rule stated the
 * other way round: one bvec per folio exactly when every folio has the
 * same size above one page, each run is contiguous, every folio but the
 * first is entered at its first page and every folio but the last is
 * left at its last page; otherwise one bvec per page.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ufr_inspect.h"

#define MAX_PAGES 4096

struct run {
	uint32_t folio_pages; /* size of the folio the run is in */
	uint32_t first; /* index of the run's first page in it */
	uint32_t len; /* pages in the run */
	bool gap; /* one page skipped inside the run */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ufr_page_info pages[MAX_PAGES];
	struct run runs[64];
	size_t nr_runs = 0, nr = 0, i, k;
	uint64_t next_folio = 1 << 20;
	bool same, coalesce;

	for (i = 0; i + 3 <= size && nr_runs < 64; i += 3) {
		struct run *r = &runs[nr_runs];

		r->folio_pages = 1u << (data[i] % 10); /* 1 .. 512 pages */
		r->first = data[i + 1] % r->folio_pages;
		r->len = 1 + data[i + 2] % (r->folio_pages - r->first);
		r->gap = data[i] & 0x80 && r->len > 2;
		if (nr + r->len > MAX_PAGES)
			break;
		for (k = 0; k < r->len; k++, nr++) {
			/* With a gap, the run skips its second page. */
			uint64_t idx = r->first + k + (r->gap && k >= 1);

			if (idx >= r->folio_pages)
				idx = r->folio_pages - 1;
			pages[nr].head_pfn = next_folio;
			pages[nr].pfn = next_folio + idx;
			pages[nr].folio_pages = r->folio_pages;
		}
		next_folio += 1024;
		nr_runs++;
	}
	if (!nr)
		return 0;

	/* A gap also makes the run's last page repeat when clamped: both
	 * break contiguity, which is what the rule looks at. */
	same = runs[0].folio_pages > 1;
	for (i = 0; i < nr_runs; i++) {
		const struct run *r = &runs[i];

		if (r->folio_pages != runs[0].folio_pages || r->gap)
			same = false;
		if (i > 0 && r->first != 0)
			same = false;
		if (i + 1 < nr_runs && r->first + r->len != r->folio_pages)
			same = false;
	}
	coalesce = nr > 1 && same;
	if (ufr_coalesced_bvecs(UFR_RULES_MULTI_FOLIO, pages, nr) !=
	    (coalesce ? nr_runs : nr))
		abort();
	return 0;
}
