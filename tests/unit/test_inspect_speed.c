// SPDX-License-Identifier: GPL-2.0-only
/* The pagemap walk over large buffer sets: its time is printed for the
 * record (256 x 1 MiB on 4 KiB pages, 256 MiB on 2 MiB and 1 GiB on 1 GiB
 * hugetlb pages); its figures are what is asserted. */
#include <time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit_helpers.h"

static int huge_2m_x128(void **state)
{
	return huge_setup(state, 2 * MIB, 128);
}

static int huge_1g_x1(void **state)
{
	return huge_setup(state, GIB, 1);
}

static double inspect_ms(const struct iovec *iov, unsigned int n,
			 struct ufr_segments *seg)
{
	struct timespec a, b;
	double best = 1e9, ms;
	int i;

	for (i = 0; i < 3; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		inspect(iov, n, seg);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1e3 +
		     (b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
	}
	return best;
}

static void test_speed_small_pages(void **state)
{
	static struct iovec iov[256];
	char *mem = map_small(256 * MIB);
	struct ufr_segments seg;
	double ms;

	(void)state;
	make_iovecs(iov, 256, mem, MIB);
	ms = inspect_ms(iov, 256, &seg);
	print_message("inspect 256 x 1 MiB on 4 KiB pages: %.1f ms\n", ms);
	assert_seg_counts(seg, 65536, 65536, 65536, 256);
	munmap(mem, 256 * MIB);
}

/* Inspect the first @len bytes of the test's hugetlb memory, timed; the
 * buffer for what the test checks next. */
static struct iovec speed_huge(void **state, size_t len, const char *what,
			       struct ufr_segments *seg)
{
	struct iovec iov = huge_iov(state, len);
	double ms = inspect_ms(&iov, 1, seg);

	print_message("inspect 1 x %s hugetlb: %.1f ms\n", what, ms);
	return iov;
}

static void test_speed_hugetlb_2m(void **state)
{
	struct ufr_segments seg;

	speed_huge(state, 256 * MIB, "256 MiB on 2 MiB", &seg);
	assert_int_equal(seg.pages, 65536);
	assert_int_equal(seg.bvecs, 128);
	assert_int_equal(seg.folios, 128);
}

static void test_speed_hugetlb_1g(void **state)
{
	struct ufr_segments seg;
	struct iovec iov = speed_huge(state, GIB, "1 GiB on 1 GiB", &seg);

	assert_int_equal(seg.pages, 262144);
	assert_int_equal(seg.bvecs, 1);
	assert_int_equal(seg.folios, 1);
	assert_int_equal(seg.max_folio_bytes, GIB);
	check_pins(&iov, 1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_speed_small_pages),
		cmocka_unit_test_setup_teardown(test_speed_hugetlb_2m,
						huge_2m_x128, huge_teardown),
		cmocka_unit_test_setup_teardown(test_speed_hugetlb_1g,
						huge_1g_x1, huge_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
