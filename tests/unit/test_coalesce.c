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

static void test_bvecs_head_mid_tail(void **state)
{
	struct ufr_page_info p[32];
	size_t n;

	(void)state;
	n = add_run(p, 0, 800, 8, 4, 4); /* head run: mid-folio to its end */
	n = add_run(p, n, 200, 8, 0, 8); /* full middle folio */
	n = add_run(p, n, 64, 8, 0, 3); /* partial last folio */
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 3);
}

static void test_bvecs_refused_layouts(void **state)
{
	struct ufr_page_info p[32];
	size_t n;

	(void)state;
	/* A middle folio not fully covered. */
	n = add_run(p, 0, 800, 8, 0, 8);
	n = add_run(p, n, 200, 8, 0, 7);
	n = add_run(p, n, 64, 8, 0, 3);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), n);
	/* Folios of different sizes. */
	n = add_run(p, 0, 800, 8, 0, 8);
	n = add_run(p, n, 64, 16, 0, 10);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), n);
	/* A 4 KiB first folio sets the size every later one must have. */
	n = add_run(p, 0, 799, 1, 0, 1);
	n = add_run(p, n, 800, 8, 0, 8);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 9);
	/* The head run stops short of its folio's end. */
	n = add_run(p, 0, 800, 8, 2, 5);
	n = add_run(p, n, 200, 8, 0, 8);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 13);
	/* A later folio entered past its first page. */
	n = add_run(p, 0, 800, 8, 0, 8);
	n = add_run(p, n, 200, 8, 1, 7);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 15);
	/* Re-entering the first folio mid-way (it is mapped twice). */
	n = add_run(p, 0, 800, 8, 0, 8);
	n = add_run(p, n, 800, 8, 4, 4);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 12);
	/* ...but from its first page the kernel takes it as a new folio. */
	n = add_run(p, 0, 800, 8, 0, 8);
	n = add_run(p, n, 800, 8, 0, 8);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 2);
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
	/* One page skipped inside a folio. */
	n = add_run(p, 0, 800, 8, 0, 3);
	n = add_run(p, n, 800, 8, 4, 4);
	assert_int_equal(ufr_coalesced_bvecs(MULTI, p, n), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bvecs_small_pages),
		cmocka_unit_test(test_bvecs_one_full_folio),
		cmocka_unit_test(test_bvecs_head_mid_tail),
		cmocka_unit_test(test_bvecs_refused_layouts),
		cmocka_unit_test(test_bvecs_single_page),
		cmocka_unit_test(test_bvecs_pfn_gap_in_folio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
