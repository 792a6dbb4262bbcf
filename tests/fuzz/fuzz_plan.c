// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the layout planner. For any buffer count, size,
 * mem_align and folio, a plan that is made must keep its promises:
 * buffers inside their region, regions inside the backing memory and
 * within the kernel's cap on one buffer (1 GiB, or a made-up smaller one
 * that splits these small pools), no two buffers overlapping, per_folio
 * and hugetlb_fast buffers never across a folio boundary, and the
 * predicted bio_vecs equal to a count made page by page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ufr_layout.h"

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

/* The kernel's count for one region, walking it a page at a time. */
static uint64_t brute_bvecs(size_t off, size_t len, size_t folio)
{
	uint64_t pages = 0, folios = 0, last = UINT64_MAX, p;

	for (p = off / 4096; p <= (off + len - 1) / 4096; p++) {
		pages++;
		if (p * 4096 / folio != last) {
			folios++;
			last = p * 4096 / folio;
		}
	}
	return pages == 1 || folio <= 4096 ? pages : folios;
}

static int cmp_off(const void *a, const void *b)
{
	const struct ufr_plan_buf *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small folios too, so that sizes stay small enough to count page
	 * by page; the arithmetic is the same at 2 MiB and 1 GiB. */
	static const size_t folios[] = { 4096, 16384, 65536, 2u << 20 };
	static const enum ufr_strategy strategies[] = { UFR_STRAT_PER_PAGE,
							UFR_STRAT_COALESCED,
							UFR_STRAT_HUGETLB_FAST,
							UFR_STRAT_PER_FOLIO };
	struct ufr_plan_params p = { 0 };
	struct ufr_plan plan;
	struct ufr_err err;
	uint32_t v[5] = { 0 };
	unsigned int i;
	uint64_t bvecs = 0;

	memcpy(v, data, size < sizeof(v) ? size : sizeof(v));
	p.strategy = strategies[v[0] % 4];
	p.folio_bytes = folios[(v[0] >> 2) % 4];
	p.nr_bufs = v[1] % 64 + 1;
	/* Up to 512 KiB, often a multiple of 512 as O_DIRECT wants. */
	p.buf_bytes = (v[2] & 1 ? (v[2] >> 1) % (512u << 10) :
				  ((v[2] >> 1) % 1024) * 512) +
		      1;
	p.align = (v[3] & 3) == 0 ? 0 : (v[3] >> 2) % (128u << 10);
	/* 0 (1 GiB) half the time, else a cap of up to 4 MiB. */
	p.max_buffer_bytes = v[4] & 1 ? (v[4] >> 1) % (4u << 20) + 1 : 0;
	if (ufr_plan_make(&p, &plan, &err)) {
		CHECK(!strncmp(err.msg, "uring_folioreg: ", 16));
		return 0;
	}
	CHECK(plan.backing_bytes % p.folio_bytes == 0);
	for (i = 0; i < plan.nr_regions; i++) {
		const struct ufr_plan_region *r = &plan.regions[i];
		uint32_t n = ufr_range_bvecs(UFR_RULES_MULTI_FOLIO, r->off,
					     r->len, p.folio_bytes);

		CHECK(r->len > 0 &&
		      ufr_buffer_fits(p.max_buffer_bytes, r->off, r->len));
		CHECK(p.strategy == UFR_STRAT_COALESCED ||
		      r->len == p.buf_bytes);
		/* coalesced: every region but the last as full as the cap
		 * lets it be */
		if (p.strategy == UFR_STRAT_COALESCED &&
		    i + 1 < plan.nr_regions)
			CHECK(!ufr_buffer_fits(p.max_buffer_bytes, r->off,
					       r->len + p.buf_bytes));
		CHECK(r->off + r->len <= plan.backing_bytes);
		CHECK(n == brute_bvecs(r->off, r->len, p.folio_bytes));
		bvecs += n;
	}
	CHECK(bvecs == plan.seg.bvecs);
	for (i = 0; i < p.nr_bufs; i++) {
		const struct ufr_plan_buf *b = &plan.bufs[i];
		const struct ufr_plan_region *r = &plan.regions[b->region];

		CHECK(b->region < plan.nr_regions);
		CHECK(b->off >= r->off &&
		      b->off + p.buf_bytes <= r->off + r->len);
		if (ufr_strategy_per_folio(p.strategy))
			CHECK(b->off / p.folio_bytes ==
			      (b->off + p.buf_bytes - 1) / p.folio_bytes);
	}
	qsort(plan.bufs, p.nr_bufs, sizeof(*plan.bufs), cmp_off);
	for (i = 1; i < p.nr_bufs; i++)
		CHECK(plan.bufs[i - 1].off + p.buf_bytes <= plan.bufs[i].off);
	ufr_plan_free(&plan);
	return 0;
}
