// SPDX-License-Identifier: GPL-2.0-only
/* The layout planner: placements and the segments the kernel will build. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "unit_helpers.h"

#include "ufr_layout.h"

/* The plan for @p, which the planner must accept. */
static struct ufr_plan plan_of(struct ufr_plan_params p)
{
	struct ufr_plan plan;
	struct ufr_err err;

	assert_int_equal(ufr_plan_make(&p, &plan, &err), 0);
	return plan;
}

/* PLAN(.strategy = ..., .nr_bufs = ..., ...): the plan for those
 * parameters, the rest 0. */
#define PLAN(...) plan_of((struct ufr_plan_params){ __VA_ARGS__ })

/* The planner must refuse @p with -EINVAL and a message that has @why. */
static void plan_refused(struct ufr_plan_params p, const char *why)
{
	struct ufr_plan plan;
	struct ufr_err err;

	assert_int_equal(ufr_plan_make(&p, &plan, &err), -EINVAL);
	assert_non_null(strstr(err.msg, why));
}

/* REFUSED("why", .strategy = ..., ...): as PLAN, for a refusal. */
#define REFUSED(why, ...) \
	plan_refused((struct ufr_plan_params){ __VA_ARGS__ }, why)

static void test_range_bvecs(void **state)
{
	(void)state;
	assert_int_equal(ufr_range_bvecs(MULTI, 0, 4096, 2 * MIB), 1);
	assert_int_equal(ufr_range_bvecs(MULTI, 0, MIB, 4096), 256);
	assert_int_equal(ufr_range_bvecs(MULTI, 512, 4096, 4096), 2);
	assert_int_equal(ufr_range_bvecs(MULTI, 0, 2 * MIB, 2 * MIB), 1);
	assert_int_equal(ufr_range_bvecs(MULTI, MIB, 2 * MIB, 2 * MIB), 2);
	assert_int_equal(ufr_range_bvecs(MULTI, 0, 256 * MIB, GIB), 1);
	/* One byte over a folio spills into the next. */
	assert_int_equal(ufr_range_bvecs(MULTI, 0, 2 * MIB + 1, 2 * MIB), 2);
	/* A single page inside a huge folio: one bvec either way. */
	assert_int_equal(ufr_range_bvecs(MULTI, 8192, 100, 2 * MIB), 1);
}

/* Older kernels: one bvec per page, or one for a buffer in one folio. */
static void test_range_bvecs_older_rules(void **state)
{
	const enum ufr_rules single = UFR_RULES_SINGLE_FOLIO;
	const enum ufr_rules page = UFR_RULES_PER_PAGE;

	(void)state;
	assert_int_equal(ufr_range_bvecs(page, 0, 2 * MIB, 2 * MIB), 512);
	assert_int_equal(ufr_range_bvecs(page, 0, 4 * MIB, 2 * MIB), 1024);
	assert_int_equal(ufr_range_bvecs(page, 0, 4096, 2 * MIB), 1);
	assert_int_equal(ufr_range_bvecs(single, 0, 2 * MIB, 2 * MIB), 1);
	assert_int_equal(ufr_range_bvecs(single, MIB, MIB, 2 * MIB), 1);
	/* Over two folios: no merging at all before 6.10. */
	assert_int_equal(ufr_range_bvecs(single, 0, 4 * MIB, 2 * MIB), 1024);
	assert_int_equal(ufr_range_bvecs(single, MIB, 2 * MIB, 2 * MIB), 512);
	assert_int_equal(ufr_range_bvecs(single, 0, MIB, 4096), 256);
}

static void test_rules_for_release(void **state)
{
	(void)state;
	assert_int_equal(ufr_rules_for_release("6.1.0-56-cloud-amd64"),
			 UFR_RULES_PER_PAGE);
	assert_int_equal(ufr_rules_for_release("5.15.0"), UFR_RULES_PER_PAGE);
	assert_int_equal(ufr_rules_for_release("6.3.0"),
			 UFR_RULES_SINGLE_FOLIO);
	assert_int_equal(ufr_rules_for_release("6.9.12"),
			 UFR_RULES_SINGLE_FOLIO);
	assert_int_equal(ufr_rules_for_release("6.10.0"), MULTI);
	assert_int_equal(ufr_rules_for_release("6.12.57+deb13-amd64"), MULTI);
	assert_int_equal(ufr_rules_for_release("7.3.0-rc7-cloud-amd64"), MULTI);
	assert_string_equal(ufr_rules_name(UFR_RULES_SINGLE_FOLIO),
			    "single_folio");
}

/* The figures README and docs/ quote for 256 x 1 MiB: 65536 bvecs on
 * 4 KiB pages, 256 under hugetlb_fast on 2 MiB folios. */
static void test_acceptance_bvecs(void **state)
{
	struct ufr_plan p;

	(void)state;
	p = PLAN(.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 256,
		 .buf_bytes = MIB, .folio_bytes = 4096);
	assert_int_equal(p.seg.bvecs, 65536);
	assert_int_equal(p.nr_regions, 256);
	ufr_plan_free(&p);

	p = PLAN(.strategy = UFR_STRAT_HUGETLB_FAST, .nr_bufs = 256,
		 .buf_bytes = MIB, .folio_bytes = 2 * MIB);
	assert_int_equal(p.seg.bvecs, 256);
	assert_int_equal(p.seg.folios, 128);
	assert_int_equal(p.seg.straddling, 0);
	assert_int_equal(p.backing_bytes, 256 * MIB);
	ufr_plan_free(&p);

	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 256,
		 .buf_bytes = MIB, .folio_bytes = 2 * MIB);
	assert_int_equal(p.seg.bvecs, 128);
	assert_int_equal(p.nr_regions, 1);
	assert_int_equal(p.regions[0].len, 256 * MIB);
	ufr_plan_free(&p);

	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 256,
		 .buf_bytes = MIB, .folio_bytes = GIB);
	assert_int_equal(p.seg.bvecs, 1);
	assert_int_equal(p.backing_bytes, GIB);
	ufr_plan_free(&p);
}

static void test_hugetlb_fast_packs_and_never_straddles(void **state)
{
	struct ufr_plan p;
	unsigned int i;

	(void)state;
	/* 3 x 600 KiB fit a 2 MiB folio with 512 bytes of mem_align. */
	p = PLAN(.strategy = UFR_STRAT_HUGETLB_FAST, .nr_bufs = 7,
		 .buf_bytes = 600 * KIB, .align = 512, .folio_bytes = 2 * MIB);
	assert_int_equal(p.bufs[0].off, 512);
	assert_int_equal(p.bufs[2].off, 512 + 2 * 600 * KIB);
	assert_int_equal(p.bufs[3].off, 2 * MIB + 512);
	assert_int_equal(p.backing_bytes, 3 * 2 * MIB);
	for (i = 0; i < 7; i++)
		assert_int_equal(p.bufs[i].off / (2 * MIB),
				 (p.bufs[i].off + 600 * KIB - 1) / (2 * MIB));
	assert_int_equal(p.seg.straddling, 0);
	assert_int_equal(p.seg.bvecs, 7);
	ufr_plan_free(&p);

	/* bs equal to the folio: one buffer per folio. */
	p = PLAN(.strategy = UFR_STRAT_HUGETLB_FAST, .nr_bufs = 4,
		 .buf_bytes = 2 * MIB, .folio_bytes = 2 * MIB);
	assert_int_equal(p.bufs[3].off, 6 * MIB);
	assert_int_equal(p.seg.bvecs, 4);
	ufr_plan_free(&p);
}

static void test_hugetlb_fast_too_big_names_1g(void **state)
{
	(void)state;
	REFUSED("reg_folio=1g", .strategy = UFR_STRAT_HUGETLB_FAST,
		.nr_bufs = 4, .buf_bytes = 2 * MIB + 1, .folio_bytes = 2 * MIB);
	/* mem_align alone can push a folio-sized buffer over. */
	REFUSED("mem_align=512", .strategy = UFR_STRAT_HUGETLB_FAST,
		.nr_bufs = 4, .buf_bytes = 2 * MIB, .align = 512,
		.folio_bytes = 2 * MIB);
}

static void test_coalesced_splits_at_1g(void **state)
{
	struct ufr_plan p;
	unsigned int i;

	(void)state;
	/* 3 GiB of 1 MiB buffers: three full 1 GiB regions. */
	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 3072,
		 .buf_bytes = MIB, .folio_bytes = 2 * MIB);
	assert_int_equal(p.nr_regions, 3);
	for (i = 0; i < 3; i++) {
		assert_true(p.regions[i].len <= GIB);
		assert_int_equal(p.regions[i].off % (2 * MIB), 0);
	}
	assert_int_equal(p.bufs[1024].region, 1);
	assert_int_equal(p.seg.bvecs, 3 * 512);
	ufr_plan_free(&p);

	/* bs not dividing 1 GiB: regions hold whole buffers only. */
	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 3000,
		 .buf_bytes = 768 * KIB, .folio_bytes = 2 * MIB);
	for (i = 0; i < p.nr_regions; i++)
		assert_true(p.regions[i].len <= GIB);
	for (i = 0; i < 3000; i++) {
		const struct ufr_plan_region *r = &p.regions[p.bufs[i].region];

		assert_true(p.bufs[i].off >= r->off);
		assert_true(p.bufs[i].off + 768 * KIB <= r->off + r->len);
	}
	ufr_plan_free(&p);
}

static void test_coalesced_partial_folios(void **state)
{
	struct ufr_plan p;

	(void)state;
	/* 3 x 1 MiB at mem_align 4 KiB: head and tail folios partial. */
	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 3,
		 .buf_bytes = MIB, .align = 4096, .folio_bytes = 2 * MIB);
	assert_int_equal(p.regions[0].off, 4096);
	assert_int_equal(p.seg.bvecs, 2);
	assert_int_equal(p.seg.straddling, 1); /* the buffer at 1 MiB + 4 KiB */
	assert_int_equal(p.backing_bytes, 4 * MIB);
	ufr_plan_free(&p);
}

static void test_per_page_matches_fio_layout(void **state)
{
	struct ufr_plan p;

	(void)state;
	p = PLAN(.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 4,
		 .buf_bytes = 6 * KIB, .align = 512, .folio_bytes = 4096);
	assert_int_equal(p.bufs[1].off, 512 + 6 * KIB);
	/* 6 KiB at offset 512: 2 pages; at 6.5 KiB: 3 pages (crosses two) */
	assert_int_equal(ufr_range_bvecs(MULTI, p.regions[0].off,
					 p.regions[0].len, 4096),
			 2);
	assert_int_equal(ufr_range_bvecs(MULTI, p.regions[1].off,
					 p.regions[1].len, 4096),
			 3);
	assert_int_equal(p.seg.straddling, 4);
	ufr_plan_free(&p);
}

static void test_limits(void **state)
{
	struct ufr_plan p;

	(void)state;
	REFUSED("iodepth=16385", .strategy = UFR_STRAT_PER_PAGE,
		.nr_bufs = 16385, .buf_bytes = 4096, .folio_bytes = 4096);
	p = PLAN(.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 16384,
		 .buf_bytes = 4096, .folio_bytes = 4096);
	ufr_plan_free(&p);

	/* No cap given: 1 GiB, the cap of kernels before 7.2. */
	REFUSED("over this kernel's cap of 1073741824 bytes",
		.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 1,
		.buf_bytes = GIB + 4096, .folio_bytes = 4096);
	REFUSED("over this kernel's cap of 1073741824 bytes",
		.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 1,
		.buf_bytes = GIB + 1, .folio_bytes = 4096,
		.max_buffer_bytes = GIB);
	/* The cap is on the length alone: 1 GiB at mem_align 512 passes. */
	p = PLAN(.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 1, .buf_bytes = GIB,
		 .align = 512, .folio_bytes = 4096, .max_buffer_bytes = GIB);
	assert_int_equal(p.regions[0].len, GIB);
	ufr_plan_free(&p);
	/* A 1 TiB cap (7.2 on) takes a 1 GiB + 4 KiB buffer... */
	p = PLAN(.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 1,
		 .buf_bytes = GIB + 4096, .folio_bytes = 4096,
		 .max_buffer_bytes = 1024 * GIB);
	assert_int_equal(p.nr_regions, 1);
	assert_int_equal(p.seg.bvecs, GIB / 4096 + 1);
	ufr_plan_free(&p);
	/* ...and io_pin_pages() at most INT_MAX / 8 pages of one. */
	p = PLAN(.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 1,
		 .buf_bytes = 1024 * GIB - 4096, .folio_bytes = 4096,
		 .max_buffer_bytes = 1024 * GIB);
	assert_int_equal(p.seg.pages, 0x7fffffff / 8);
	ufr_plan_free(&p);
	REFUSED("over this kernel's cap of 1099511627776 bytes",
		.strategy = UFR_STRAT_PER_PAGE, .nr_bufs = 1,
		.buf_bytes = 1024 * GIB, .folio_bytes = 4096,
		.max_buffer_bytes = 1024 * GIB);
	REFUSED("bs=1099511623681", .strategy = UFR_STRAT_PER_PAGE,
		.nr_bufs = 1, .buf_bytes = 1024 * GIB - 4095,
		.folio_bytes = 4096, .max_buffer_bytes = 1024 * GIB);
}

/* Regions as large as the kernel's cap: one where it takes the pool. */
static void test_coalesced_up_to_cap(void **state)
{
	struct ufr_plan p;

	(void)state;
	/* 1.5 GiB of 1 MiB buffers on 2 MiB folios, a 1 TiB cap: one. */
	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 1536,
		 .buf_bytes = MIB, .folio_bytes = 2 * MIB,
		 .max_buffer_bytes = 1024 * GIB);
	assert_int_equal(p.nr_regions, 1);
	assert_int_equal(p.regions[0].len, 1536 * MIB);
	assert_int_equal(p.bufs[1535].region, 0);
	assert_int_equal(p.seg.bvecs, 768);
	assert_int_equal(p.backing_bytes, 1536 * MIB);
	ufr_plan_free(&p);
	/* The same with a 1 GiB cap: 1 GiB and 512 MiB, as many bvecs. */
	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 1536,
		 .buf_bytes = MIB, .folio_bytes = 2 * MIB,
		 .max_buffer_bytes = GIB);
	assert_int_equal(p.nr_regions, 2);
	assert_int_equal(p.regions[0].len, GIB);
	assert_int_equal(p.regions[1].len, 512 * MIB);
	assert_int_equal(p.bufs[1024].region, 1);
	assert_int_equal(p.seg.bvecs, 768);
	/* 768 folios, not two strides of 512 */
	assert_int_equal(p.backing_bytes, 1536 * MIB);
	ufr_plan_free(&p);
	/* A made-up 2 GiB cap, 3 GiB at mem_align 4 KiB on 1 GiB folios:
	 * 2 GiB and 1 GiB, each with a partial head and tail folio. */
	p = PLAN(.strategy = UFR_STRAT_COALESCED, .nr_bufs = 3072,
		 .buf_bytes = MIB, .align = 4096, .folio_bytes = GIB,
		 .max_buffer_bytes = 2 * GIB);
	assert_int_equal(p.nr_regions, 2);
	assert_int_equal(p.regions[0].off, 4096);
	assert_int_equal(p.regions[0].len, 2 * GIB);
	assert_int_equal(p.regions[1].off, 3 * GIB + 4096);
	assert_int_equal(p.regions[1].len, GIB);
	assert_int_equal(p.seg.bvecs, 3 + 2);
	/* the last group takes only the folios it spans */
	assert_int_equal(p.backing_bytes, 5 * GIB);
	ufr_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_bvecs),
		cmocka_unit_test(test_coalesced_up_to_cap),
		cmocka_unit_test(test_range_bvecs_older_rules),
		cmocka_unit_test(test_rules_for_release),
		cmocka_unit_test(test_acceptance_bvecs),
		cmocka_unit_test(test_hugetlb_fast_packs_and_never_straddles),
		cmocka_unit_test(test_hugetlb_fast_too_big_names_1g),
		cmocka_unit_test(test_coalesced_splits_at_1g),
		cmocka_unit_test(test_coalesced_partial_folios),
		cmocka_unit_test(test_per_page_matches_fio_layout),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
