/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the unit test programs share: sizes, buffers, and for the tests on
 * the real kernel, memory of each kind, the pagemap walk that skips when
 * PFNs cannot be read, the kernel's pin counters around a registration
 * and a hugetlb pool grown for one test. Each program includes it after
 * <cmocka.h> and its prerequisites.
 */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <liburing.h>

#include "ufr_inspect.h"
#include "ufr_memory.h"

#define KIB 1024UL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define MULTI UFR_RULES_MULTI_FOLIO
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* @n buffers of @len bytes back to back from @base. */
static inline void make_iovecs(struct iovec *iov, unsigned int n, char *base,
			       size_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = base + i * len;
		iov[i].iov_len = len;
	}
}

/* Fault @len bytes at @addr in for writing, one touch per @step if
 * MADV_POPULATE_WRITE is not there. */
static inline void populate(void *addr, size_t len, size_t step)
{
	size_t off;

	if (!madvise(addr, len, MADV_POPULATE_WRITE))
		return;
	for (off = 0; off < len; off += step)
		((volatile char *)addr)[off] = 1;
}

/* Anonymous memory on 4 KiB pages, faulted in for writing. */
static inline char *map_small(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	/* Before the first touch, or the fault may hand out a THP. */
	assert_int_equal(madvise(p, len, MADV_NOHUGEPAGE), 0);
	populate(p, len, 4 * KIB);
	return p;
}

/* Inspect, or skip the test if this process may not read PFNs. */
static inline void inspect(const struct iovec *iov, unsigned int n,
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

/* The walk's counts in @seg: pages, bio_vecs, folios and buffers that
 * straddle a folio boundary. A macro, so a failure names the caller's line. */
#define assert_seg_counts(seg, n_pages, n_bvecs, n_folios, n_straddling) \
	do {                                                             \
		assert_int_equal((seg).pages, n_pages);                  \
		assert_int_equal((seg).bvecs, n_bvecs);                  \
		assert_int_equal((seg).folios, n_folios);                \
		assert_int_equal((seg).straddling, n_straddling);        \
	} while (0)

static inline int64_t pins(void)
{
	struct ufr_pins p;

	assert_int_equal(ufr_pins_read(&p), 0);
	return ufr_pins_held(&p);
}

/*
 * Register, read the pins, unregister, read again: registering @iov must
 * pin @expect pages and unregistering give them all back. Pins are
 * counted system-wide, so retry when someone else pinned or unpinned
 * meanwhile. Skips where /proc/vmstat has no FOLL_PIN counters.
 */
static inline void check_pins(const struct iovec *iov, unsigned int n,
			      int64_t expect)
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

/*
 * Hugetlb memory for one test, as a cmocka setup and teardown: the pool
 * is grown if it has too few free pages and put back as it was after.
 * Where there is none to be had, the test skips with the reason
 * (huge_or_skip).
 */
struct huge {
	size_t page_bytes;
	long pages, old_pool;
	bool grown; /* we grew the pool: shrink it back after */
	void *addr;
	char why[200];
};

static inline bool set_pool(size_t page_bytes, long pages)
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

static inline int huge_setup(void **state, size_t page_bytes, long pages)
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

static inline int huge_teardown(void **state)
{
	struct huge *h = *state;

	if (h->addr)
		munmap(h->addr, h->pages * h->page_bytes);
	if (h->grown)
		set_pool(h->page_bytes, h->old_pool);
	free(h);
	return 0;
}

static inline struct huge *huge_or_skip(void **state)
{
	struct huge *h = *state;

	if (!h->addr) {
		print_message("skip: %s\n", h->why);
		skip();
	}
	return h;
}

/* The first @len bytes of the test's hugetlb memory as one buffer, or
 * skip the test where there is none. */
static inline struct iovec huge_iov(void **state, size_t len)
{
	struct huge *h = huge_or_skip(state);
	struct iovec iov = { .iov_base = h->addr, .iov_len = len };

	return iov;
}

#endif
