// SPDX-License-Identifier: GPL-2.0-only
/* The kernel's coalescing rules (ufr_coalesced_bvecs) on made-up page
 * layouts: which runs of pages the kernel merges into one bio_vec. */
#include <stdint.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit_helpers.h"

/* Append @nr pages of the folio at @head (of @size pages) from page @idx. */
static size_t add_run(struct ufr_page_info *p, size_t at, uint64_t head,
		      uint32_t size, uint32_t idx, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		p[at + i].pfn = head + idx + i;
		p[at + i].head_pfn = head;
		p[at + i].folio_pages = size;
	}
	return at + nr;
}

static void test_bvecs_small_pages(void **state)
{
	struct ufr_page_info p[8];
	size_t i, n = 0;

	(void)state;
	/* Even PFN-contiguous 4 KiB pages stay one bvec each. */
	for (i = 0; i < 8; i++)
		n = add_run(p, n, 1000 + i, 1, 0, 1);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 8);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, 0), 0);
}

static void test_bvecs_one_full_folio(void **state)
{
	static struct ufr_page_info p[512];

	(void)state;
	assert_int_equal(add_run(p, 0, 512 * 7, 512, 0, 512), 512);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, 512), 1);
}

/* @nr pages of the folio at @head (of @size pages) from page @idx. */
struct run {
	uint64_t head;
	uint32_t size, idx, nr;
};

/* Up to three runs of pages one after the other (a run of no pages ends
 * them) and the bio_vecs the kernel makes of them. */
struct layout {
	struct run runs[3];
	size_t bvecs;
};

static const struct layout layouts[] = {
	/* Head run mid-folio to its end, full middle folio, partial last. */
	{ { { 800, 8, 4, 4 }, { 200, 8, 0, 8 }, { 64, 8, 0, 3 } }, 3 },
	/* Refused, one bvec per page: a middle folio not fully covered, */
	{ { { 800, 8, 0, 8 }, { 200, 8, 0, 7 }, { 64, 8, 0, 3 } }, 8 + 7 + 3 },
	/* folios of different sizes, */
	{ { { 800, 8, 0, 8 }, { 64, 16, 0, 10 } }, 8 + 10 },
	/* a 4 KiB first folio, which sets the size every later one must have, */
	{ { { 799, 1, 0, 1 }, { 800, 8, 0, 8 } }, 9 },
	/* the head run stopping short of its folio's end, */
	{ { { 800, 8, 2, 5 }, { 200, 8, 0, 8 } }, 13 },
	/* a later folio entered past its first page, */
	{ { { 800, 8, 0, 8 }, { 200, 8, 1, 7 } }, 15 },
	/* re-entering the first folio mid-way (it is mapped twice)... */
	{ { { 800, 8, 0, 8 }, { 800, 8, 4, 4 } }, 12 },
	/* ...but from its first page the kernel takes it as a new folio. */
	{ { { 800, 8, 0, 8 }, { 800, 8, 0, 8 } }, 2 },
	/* One page skipped inside a folio. */
	{ { { 800, 8, 0, 3 }, { 800, 8, 4, 4 } }, 7 },
};

static void test_bvecs_layouts(void **state)
{
	struct ufr_page_info p[32];
	const struct run *r;
	size_t i, n, got;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		n = 0;
		for (r = layouts[i].runs; r < layouts[i].runs + 3 && r->nr; r++)
			n = add_run(p, n, r->head, r->size, r->idx, r->nr);
		got = ufr_coalesced_bvecs(MULTI, p, n);
		if (got != layouts[i].bvecs)
			print_message("layouts[%zu]\n", i);
		assert_int_equal(got, layouts[i].bvecs);
	}
}

static void test_bvecs_single_page(void **state)
{
	struct ufr_page_info p[1];

	(void)state;
	add_run(p, 0, 512, 512, 37, 1);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, 1), 1);
	add_run(p, 0, 4096, 1, 0, 1);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, 1), 1);
}

static void test_bvecs_pfn_gap_in_folio(void **state)
{
	struct ufr_page_info p[8];
	size_t n;

	(void)state;
	n = add_run(p, 0, 800, 8, 0, 8);
	p[5].pfn = 807; /* page 5 maps page 7 of the same folio */
	p[7].pfn = 805;
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bvecs_small_pages),
		cmocka_unit_test(test_bvecs_one_full_folio),
		cmocka_unit_test(test_bvecs_layouts),
		cmocka_unit_test(test_bvecs_single_page),
		cmocka_unit_test(test_bvecs_pfn_gap_in_folio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
