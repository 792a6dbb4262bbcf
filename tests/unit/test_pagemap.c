// SPDX-License-Identifier: GPL-2.0-only
/* The pagemap walk (ufr_inspect_buffers) on the real kernel's memory, 4 KiB
 * pages, hugetlb, THP and a mix, checked against what the kernel really
 * pins on registration (FOLL_PIN counters). */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit_helpers.h"

/* The walk's figures, and the kernel pins one page per bvec it counted. */
static void test_small_pages(void **state)
{
	char *mem = map_small(8 * 64 * KIB);
	struct iovec one = { .iov_base = mem + 100, .iov_len = 4 * KIB };
	struct iovec iov[8];
	struct ufr_segments seg;

	(void)state;
	make_iovecs(iov, 8, mem, 64 * KIB);
	inspect(iov, 8, &seg);
	assert_seg_counts(seg, 128, 128, 128, 8);
	assert_int_equal(seg.min_folio_bytes, 4 * KIB);
	assert_int_equal(seg.max_folio_bytes, 4 * KIB);
	/* An unaligned buffer pins every page it touches. */
	inspect(&one, 1, &seg);
	assert_int_equal(seg.pages, 2);
	assert_int_equal(seg.bvecs, 2);
	/* Last, for it skips where the pins cannot be counted. */
	check_pins(iov, 8, 128);
	munmap(mem, 8 * 64 * KIB);
}

/*
 * Whether a read fault on private anonymous memory maps the shared zero
 * page here: every read-faulted page of @len bytes at @p is present and
 * all are one PFN. Not every kernel does it (a guest kernel may hand out
 * a private page instead, as PVM's pvm_no_zero_page does); @why says what
 * was found. Needs PFNs: root.
 */
static bool read_faults_share_a_page(const void *p, size_t len, char *why,
				     size_t why_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), i, n = len / page;
	const uint64_t pfn_mask = (UINT64_C(1) << 55) - 1;
	uint64_t e[64], pfn0 = 0, pfn = 0;
	bool same = true;
	int fd;

	assert_true(n > 1 && n <= ARRAY_SIZE(e));
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, e, n * sizeof(e[0]),
			       (off_t)((uintptr_t)p / page * sizeof(e[0]))),
			 (ssize_t)(n * sizeof(e[0])));
	close(fd);
	for (i = 0; i < n; i++) {
		pfn = e[i] & pfn_mask;
		assert_true(e[i] >> 63); /* present: MADV_POPULATE_READ */
		assert_true(pfn != 0); /* root reads PFNs */
		if (!i)
			pfn0 = pfn;
		else if (pfn != pfn0)
			same = false;
	}
	snprintf(
		why, why_len,
		"read faults on private anonymous memory map %s here (the first and last of %zu pages: PFN %#" PRIx64
		" and %#" PRIx64 ")",
		same ? "one shared page" :
		       "private pages, not the shared zero page",
		n, pfn0, pfn);
	return same;
}

static void test_not_faulted(void **state)
{
	struct ufr_segments seg;
	struct iovec iov;
	char why[200];
	void *p;
	int got;

	(void)state;
	p = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	iov.iov_base = p;
	iov.iov_len = 64 * KIB;
	seg.from_pagemap = true;
	assert_int_equal(ufr_inspect_buffers(&iov, 1, MULTI, &seg, NULL),
			 geteuid() ? -EACCES : -EFAULT);
	assert_false(seg.from_pagemap);
	assert_int_equal(madvise(p, 64 * KIB, MADV_NOHUGEPAGE), 0);
	assert_int_equal(madvise(p, 64 * KIB, MADV_POPULATE_READ), 0);
	got = ufr_inspect_buffers(&iov, 1, MULTI, &seg, NULL);
	if (geteuid()) {
		assert_int_equal(got, -EACCES);
	} else if (read_faults_share_a_page(p, 64 * KIB, why, sizeof(why))) {
		/* The zero page, which pinning for write replaces. */
		assert_int_equal(got, -EFAULT);
	} else {
		/* Private pages: the task's own, which pinning keeps. */
		assert_int_equal(got, 0);
		munmap(p, 64 * KIB);
		print_message("skip: the zero page's refusal: %s\n", why);
		skip();
	}
	/* Written, they are the task's own. */
	populate(p, 64 * KIB, 4 * KIB);
	assert_int_equal(ufr_inspect_buffers(&iov, 1, MULTI, &seg, NULL),
			 geteuid() ? -EACCES : 0);
	munmap(p, 64 * KIB);
}

static int huge_2m_x2(void **state)
{
	return huge_setup(state, 2 * MIB, 2);
}

/* The walk's figures, and the kernel pins one page per bvec it counted. */
static void test_hugetlb_2m(void **state)
{
	struct iovec all = huge_iov(state, 4 * MIB), part, v[8];
	struct ufr_segments seg;

	inspect(&all, 1, &seg);
	assert_seg_counts(seg, 1024, 2, 2, 1);
	assert_int_equal(seg.min_folio_bytes, 2 * MIB);
	assert_int_equal(seg.max_folio_bytes, 2 * MIB);

	/* Head run from mid-folio, across the boundary into the next. */
	part.iov_base = (char *)all.iov_base + 3 * MIB / 2;
	part.iov_len = MIB;
	inspect(&part, 1, &seg);
	assert_seg_counts(seg, 256, 2, 2, 1);

	/* Eight buffers inside one folio: eight bvecs, one folio. */
	make_iovecs(v, 8, all.iov_base, 256 * KIB);
	inspect(v, 8, &seg);
	assert_int_equal(seg.bvecs, 8);
	assert_int_equal(seg.folios, 1);
	assert_int_equal(seg.straddling, 0);

	/* Last, for it skips where the pins cannot be counted. */
	check_pins(&all, 1, 2);
}

/* A buffer from the end of a 2 MiB folio into 4 KiB pages: the folios
 * differ in size, so the kernel keeps one bvec, and one pin, per page. */
static void test_pins_mixed(void **state)
{
	struct huge *h = huge_or_skip(state);
	char *second = (char *)h->addr + 2 * MIB;
	struct ufr_segments seg;
	struct iovec iov;

	assert_true(mmap(second, 2 * MIB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) == second);
	assert_int_equal(madvise(second, 2 * MIB, MADV_NOHUGEPAGE), 0);
	populate(second, 2 * MIB, 4 * KIB);
	iov.iov_base = second - 64 * KIB;
	iov.iov_len = 128 * KIB;
	inspect(&iov, 1, &seg);
	assert_int_equal(seg.pages, 32);
	assert_int_equal(seg.bvecs, 32);
	assert_int_equal(seg.folios, 17);
	assert_int_equal(seg.min_folio_bytes, 4 * KIB);
	assert_int_equal(seg.max_folio_bytes, 2 * MIB);
	check_pins(&iov, 1, 32);
}

static void test_thp(void **state)
{
	size_t len = 4 * MIB;
	struct ufr_segments seg;
	struct iovec iov;
	char *p, *aligned;

	(void)state;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	assert_true(p != MAP_FAILED);
	aligned = (char *)(((uintptr_t)p + 2 * MIB - 1) & ~(2 * MIB - 1));
	/* THP is "madvise" here: ask before the first touch. */
	if (madvise(aligned, 2 * MIB, MADV_HUGEPAGE)) {
		munmap(p, len);
		print_message("skip: MADV_HUGEPAGE: %s\n", strerror(errno));
		skip();
	}
	populate(aligned, 2 * MIB, 4 * KIB);
	iov.iov_base = aligned;
	iov.iov_len = 2 * MIB;
	inspect(&iov, 1, &seg);
	if (seg.max_folio_bytes < 2 * MIB) {
		munmap(p, len);
		print_message("skip: no THP given, largest folio %" PRIu64
			      " KiB\n",
			      seg.max_folio_bytes >> 10);
		skip();
	}
	assert_seg_counts(seg, 512, 1, 1, 0);
	check_pins(&iov, 1, 1);
	munmap(p, len);
}

/*
 * Where the pages are (move_pages(2) in query mode): every faulted page
 * counted on some node; a page it cannot place (here one never faulted
 * in) makes the figure unknown, with that page's status, never a short
 * count.
 */
static void test_pages_by_node(void **state)
{
	char *mem = map_small(4 * 4 * KIB);
	void *buf = mem;
	uint64_t pages[UFR_MAX_NODES], sum = 0;
	struct ufr_bufset s;
	int i, ret, bad = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(ufr_bufset_from_bufs(&s, &buf, 1, 4 * 4 * KIB), 0);
	ret = ufr_bufset_pages_by_node(&s, pages, &bad);
	if (ret == -ENOSYS) {
		ufr_bufset_free(&s);
		munmap(mem, 4 * 4 * KIB);
		skip();
	}
	assert_int_equal(ret, 0);
	for (i = 0; i < UFR_MAX_NODES; i++)
		sum += pages[i];
	assert_int_equal(sum, 4);
	/* The last page given back: present no more. */
	assert_int_equal(madvise(mem + 3 * 4 * KIB, 4 * KIB, MADV_DONTNEED), 0);
	assert_int_equal(ufr_bufset_pages_by_node(&s, pages, &bad), 1);
	assert_int_equal(bad, -ENOENT);
	ufr_bufset_free(&s);
	munmap(mem, 4 * 4 * KIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_pages),
		cmocka_unit_test(test_not_faulted),
		cmocka_unit_test_setup_teardown(test_hugetlb_2m, huge_2m_x2,
						huge_teardown),
		cmocka_unit_test_setup_teardown(test_pins_mixed, huge_2m_x2,
						huge_teardown),
		cmocka_unit_test(test_thp),
		cmocka_unit_test(test_pages_by_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
