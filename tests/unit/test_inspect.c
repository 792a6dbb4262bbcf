// SPDX-License-Identifier: GPL-2.0-only
/* The folio walk and the coalescing rules, checked against what the kernel
 * really pins (FOLL_PIN counters) on the real kernel. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "unit_helpers.h"
#include <liburing.h>

#include "ufr_memory.h"
#include "ufr_inspect.h"

#define KIB 1024UL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define MULTI UFR_RULES_MULTI_FOLIO

/* ---- ufr_coalesced_bvecs on made-up layouts ---- */

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

/* ---- the real kernel ---- */

/* Inspect, or skip the test if this process may not read PFNs. */
static void inspect(const struct iovec *iov, unsigned int n,
		    struct ufr_segments *seg)
{
	int ret = ufr_inspect_buffers(iov, n, MULTI, seg, NULL);

	if (ret < 0 && geteuid() != 0) {
		print_message("skip: PFNs not readable (%s); run as root\n",
			      strerror(-ret));
		skip();
	}
	assert_int_equal(ret, 0);
	assert_true(seg->from_pagemap);
}

static void populate(void *addr, size_t len, size_t step)
{
	size_t off;

	if (!madvise(addr, len, MADV_POPULATE_WRITE))
		return;
	for (off = 0; off < len; off += step)
		((volatile char *)addr)[off] = 1;
}

/* Anonymous memory on 4 KiB pages, faulted in for writing. */
static char *map_small(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	/* Before the first touch, or the fault may hand out a THP. */
	assert_int_equal(madvise(p, len, MADV_NOHUGEPAGE), 0);
	populate(p, len, 4 * KIB);
	return p;
}

/*
 * Register, read the pins, unregister, read again. Pins are counted
 * system-wide, so retry when someone else pinned or unpinned meanwhile.
 */
static int64_t pins(void)
{
	struct ufr_pins p;

	assert_int_equal(ufr_pins_read(&p), 0);
	return ufr_pins_held(&p);
}

static void check_pins(const struct iovec *iov, unsigned int n, int64_t expect)
{
	int64_t base = 0, held = 0, after = 0;
	struct ufr_pins p;
	struct io_uring ring;
	int attempt, ret = ufr_pins_read(&p);

	if (ret == -ENOENT) {
		print_message("skip: /proc/vmstat has no FOLL_PIN counters\n");
		skip();
	}
	assert_int_equal(ret, 0);
	assert_int_equal(io_uring_queue_init(4, &ring, 0), 0);
	for (attempt = 0; attempt < 3; attempt++) {
		base = pins();
		assert_int_equal(io_uring_register_buffers(&ring, iov, n), 0);
		held = pins();
		assert_int_equal(io_uring_unregister_buffers(&ring), 0);
		after = pins();
		if (held - base == expect && after == base)
			break;
	}
	io_uring_queue_exit(&ring);
	assert_int_equal(held - base, expect);
	assert_int_equal(after - base, 0);
}

static void test_small_pages(void **state)
{
	char *mem = map_small(8 * 64 * KIB);
	struct ufr_segments seg;
	struct iovec iov[8];

	(void)state;
	make_iovecs(iov, 8, mem, 64 * KIB);
	inspect(iov, 8, &seg);
	assert_int_equal(seg.pages, 128);
	assert_int_equal(seg.bvecs, 128);
	assert_int_equal(seg.folios, 128);
	assert_int_equal(seg.straddling, 8);
	assert_int_equal(seg.min_folio_bytes, 4 * KIB);
	assert_int_equal(seg.max_folio_bytes, 4 * KIB);
	/* An unaligned buffer pins every page it touches. */
	iov[0].iov_base = mem + 100;
	iov[0].iov_len = 4 * KIB;
	inspect(iov, 1, &seg);
	assert_int_equal(seg.pages, 2);
	assert_int_equal(seg.bvecs, 2);
	munmap(mem, 8 * 64 * KIB);
}

static void test_pins_small_pages(void **state)
{
	char *mem = map_small(8 * 64 * KIB);
	struct ufr_segments seg;
	struct iovec iov[8];

	(void)state;
	make_iovecs(iov, 8, mem, 64 * KIB);
	inspect(iov, 8, &seg);
	assert_int_equal(seg.bvecs, 128);
	check_pins(iov, 8, (int64_t)seg.bvecs);
	munmap(mem, 8 * 64 * KIB);
}

static void test_not_faulted(void **state)
{
	struct ufr_segments seg;
	struct iovec iov;
	void *p;

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
	/* Read faults map the zero page, which pinning for write replaces. */
	assert_int_equal(madvise(p, 64 * KIB, MADV_NOHUGEPAGE), 0);
	assert_int_equal(madvise(p, 64 * KIB, MADV_POPULATE_READ), 0);
	assert_int_equal(ufr_inspect_buffers(&iov, 1, MULTI, &seg, NULL),
			 geteuid() ? -EACCES : -EFAULT);
	/* Written, they are the task's own. */
	populate(p, 64 * KIB, 4 * KIB);
	assert_int_equal(ufr_inspect_buffers(&iov, 1, MULTI, &seg, NULL),
			 geteuid() ? -EACCES : 0);
	munmap(p, 64 * KIB);
}

/* Hugetlb memory for one test; the pool is put back as it was after. */
struct huge {
	size_t page_bytes;
	long pages, old_pool;
	bool grown; /* we grew the pool: shrink it back after */
	void *addr;
	char why[200];
};

static bool set_pool(size_t page_bytes, long pages)
{
	char path[128];
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
		 page_bytes >> 10);
	f = fopen(path, "we");
	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", pages) > 0;
	return !fclose(f) && ok;
}

static int huge_setup(void **state, size_t page_bytes, long pages)
{
	struct huge *h = calloc(1, sizeof(*h));
	int shift = __builtin_ctzl(page_bytes);
	long free;
	void *p;

	if (!h)
		return -1;
	*state = h;
	h->page_bytes = page_bytes;
	h->pages = pages;
	h->old_pool = ufr_hugetlb_count(page_bytes, "nr_hugepages");
	if (h->old_pool < 0) {
		snprintf(h->why, sizeof(h->why), "no %zu KiB hugetlb pool",
			 page_bytes >> 10);
		return 0;
	}
	free = ufr_hugetlb_count(page_bytes, "free_hugepages");
	if (free < pages)
		h->grown = set_pool(page_bytes, h->old_pool + pages - free);
	free = ufr_hugetlb_count(page_bytes, "free_hugepages");
	if (free < pages) {
		snprintf(
			h->why, sizeof(h->why),
			"could reserve only %ld of %ld hugetlb pages of %zu KiB",
			free, pages, page_bytes >> 10);
		return 0;
	}
	p = mmap(NULL, pages * page_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 (shift << MAP_HUGE_SHIFT),
		 -1, 0);
	if (p == MAP_FAILED) {
		snprintf(h->why, sizeof(h->why), "hugetlb mmap: %s",
			 strerror(errno));
		return 0;
	}
	populate(p, pages * page_bytes, page_bytes);
	h->addr = p;
	return 0;
}

static int huge_teardown(void **state)
{
	struct huge *h = *state;

	if (h->addr)
		munmap(h->addr, h->pages * h->page_bytes);
	if (h->grown)
		set_pool(h->page_bytes, h->old_pool);
	free(h);
	return 0;
}

static int huge_2m_x2(void **state)
{
	return huge_setup(state, 2 * MIB, 2);
}

static int huge_2m_x128(void **state)
{
	return huge_setup(state, 2 * MIB, 128);
}

static int huge_1g_x1(void **state)
{
	return huge_setup(state, GIB, 1);
}

static struct huge *huge_or_skip(void **state)
{
	struct huge *h = *state;

	if (!h->addr) {
		print_message("skip: %s\n", h->why);
		skip();
	}
	return h;
}

static void test_hugetlb_2m(void **state)
{
	struct huge *h = huge_or_skip(state);
	struct ufr_segments seg;
	struct iovec iov;

	iov.iov_base = h->addr;
	iov.iov_len = 4 * MIB;
	inspect(&iov, 1, &seg);
	assert_int_equal(seg.pages, 1024);
	assert_int_equal(seg.bvecs, 2);
	assert_int_equal(seg.folios, 2);
	assert_int_equal(seg.straddling, 1);
	assert_int_equal(seg.min_folio_bytes, 2 * MIB);
	assert_int_equal(seg.max_folio_bytes, 2 * MIB);

	/* Head run from mid-folio, across the boundary into the next. */
	iov.iov_base = (char *)h->addr + 3 * MIB / 2;
	iov.iov_len = MIB;
	inspect(&iov, 1, &seg);
	assert_int_equal(seg.pages, 256);
	assert_int_equal(seg.bvecs, 2);
	assert_int_equal(seg.folios, 2);
	assert_int_equal(seg.straddling, 1);

	/* Eight buffers inside one folio: eight bvecs, one folio. */
	{
		struct iovec v[8];

		make_iovecs(v, 8, h->addr, 256 * KIB);
		inspect(v, 8, &seg);
		assert_int_equal(seg.bvecs, 8);
		assert_int_equal(seg.folios, 1);
		assert_int_equal(seg.straddling, 0);
	}
}

static void test_pins_hugetlb(void **state)
{
	struct huge *h = huge_or_skip(state);
	struct ufr_segments seg;
	struct iovec iov;

	iov.iov_base = h->addr;
	iov.iov_len = 4 * MIB;
	inspect(&iov, 1, &seg);
	assert_int_equal(seg.bvecs, 2);
	check_pins(&iov, 1, (int64_t)seg.bvecs);
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
	assert_int_equal(seg.pages, 512);
	assert_int_equal(seg.bvecs, 1);
	assert_int_equal(seg.folios, 1);
	assert_int_equal(seg.straddling, 0);
	check_pins(&iov, 1, 1);
	munmap(p, len);
}

/* ---- without the privilege to see PFNs ---- */

static void map_one(struct iovec *iov)
{
	iov->iov_base = map_small(64 * KIB);
	iov->iov_len = 64 * KIB;
}

/* The child's exit status: the errno ufr_inspect_buffers returned with
 * from_pagemap false, 0 if it wrongly succeeded, 255 if it could not
 * drop privileges. */
static int child_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 255) {
		print_message("skip: cannot drop privileges (not root?)\n");
		skip();
	}
	return WEXITSTATUS(status);
}

static void child_inspect(const struct iovec *iov)
{
	struct ufr_segments seg;
	int ret = ufr_inspect_buffers(iov, 1, MULTI, &seg, NULL);

	_exit(ret < 0 && !seg.from_pagemap ? -ret : 0);
}

static void test_unprivileged(void **state)
{
	struct iovec iov;
	pid_t pid;
	int st;

	(void)state;
	map_one(&iov);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(255);
		child_inspect(&iov);
	}
	st = child_status(pid);
	assert_true(st == EACCES || st == EPERM);
	munmap(iov.iov_base, iov.iov_len);
}

/* Root without CAP_SYS_ADMIN opens both files but reads PFNs as 0. */
static void test_no_sys_admin(void **state)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];
	struct iovec iov;
	pid_t pid;

	(void)state;
	map_one(&iov);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (geteuid() || syscall(SYS_capget, &hdr, data))
			_exit(255);
		data[0].effective &= ~(1U << CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(255);
		child_inspect(&iov);
	}
	assert_int_equal(child_status(pid), EPERM);
	munmap(iov.iov_base, iov.iov_len);
}

/* ---- speed: printed for the record; correctness is what is asserted ---- */

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
	assert_int_equal(seg.pages, 65536);
	assert_int_equal(seg.bvecs, 65536);
	assert_int_equal(seg.folios, 65536);
	assert_int_equal(seg.straddling, 256);
	munmap(mem, 256 * MIB);
}

static void test_speed_hugetlb_2m(void **state)
{
	struct huge *h = huge_or_skip(state);
	struct ufr_segments seg;
	struct iovec iov;
	double ms;

	iov.iov_base = h->addr;
	iov.iov_len = 256 * MIB;
	ms = inspect_ms(&iov, 1, &seg);
	print_message("inspect 1 x 256 MiB on 2 MiB hugetlb: %.1f ms\n", ms);
	assert_int_equal(seg.pages, 65536);
	assert_int_equal(seg.bvecs, 128);
	assert_int_equal(seg.folios, 128);
}

static void test_speed_hugetlb_1g(void **state)
{
	struct huge *h = huge_or_skip(state);
	struct ufr_segments seg;
	struct iovec iov;
	double ms;

	iov.iov_base = h->addr;
	iov.iov_len = GIB;
	ms = inspect_ms(&iov, 1, &seg);
	print_message("inspect 1 x 1 GiB on 1 GiB hugetlb: %.1f ms\n", ms);
	assert_int_equal(seg.pages, 262144);
	assert_int_equal(seg.bvecs, 1);
	assert_int_equal(seg.folios, 1);
	assert_int_equal(seg.max_folio_bytes, GIB);
	check_pins(&iov, 1, 1);
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
		cmocka_unit_test(test_small_pages),
		cmocka_unit_test(test_pins_small_pages),
		cmocka_unit_test(test_not_faulted),
		cmocka_unit_test_setup_teardown(test_hugetlb_2m, huge_2m_x2,
						huge_teardown),
		cmocka_unit_test_setup_teardown(test_pins_hugetlb, huge_2m_x2,
						huge_teardown),
		cmocka_unit_test_setup_teardown(test_pins_mixed, huge_2m_x2,
						huge_teardown),
		cmocka_unit_test(test_thp),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_no_sys_admin),
		cmocka_unit_test(test_speed_small_pages),
		cmocka_unit_test_setup_teardown(test_speed_hugetlb_2m,
						huge_2m_x128, huge_teardown),
		cmocka_unit_test_setup_teardown(test_speed_hugetlb_1g,
						huge_1g_x1, huge_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
