// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ufr_backing.h"
#include "ufr_hugetlb.h"
#include "ufr_mman.h"
#include "ufr_numa.h"

#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"

const char *ufr_folio_name(enum ufr_folio folio)
{
	static const char *const names[] = {
		[UFR_FOLIO_DEFAULT] = "default", [UFR_FOLIO_4K] = "4k",
		[UFR_FOLIO_THP] = "thp",	 [UFR_FOLIO_2M] = "2m",
		[UFR_FOLIO_1G] = "1g",
	};

	return folio <= UFR_FOLIO_1G ? names[folio] : "?";
}

static size_t thp_bytes(void)
{
	static size_t cached;
	unsigned long v = 0;
	FILE *f;

	if (cached)
		return cached;
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	cached = v ? v : 2u << 20;
	return cached;
}

size_t ufr_folio_bytes(enum ufr_folio folio)
{
	switch (folio) {
	case UFR_FOLIO_THP:
		return thp_bytes();
	case UFR_FOLIO_2M:
		return 2u << 20;
	case UFR_FOLIO_1G:
		return 1u << 30;
	default:
		return 4096;
	}
}

static int thp_mode_never(void)
{
	char buf[128] = "";
	FILE *f = fopen(THP_ENABLED, "re");

	if (!f)
		return 1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, "[never]") != NULL;
}

int ufr_prefault(void *addr, size_t len, bool may_touch)
{
	uintptr_t start = (uintptr_t)addr & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)addr + len + 4095) & ~(uintptr_t)4095;
	volatile char *p;

	if (!madvise((void *)start, end - start, MADV_POPULATE_WRITE))
		return 0;
	if (!may_touch || errno != EINVAL)
		return -errno;
	/* Before Linux 5.14: write each page, keeping what it holds. */
	for (p = (volatile char *)start; (uintptr_t)p < end; p += 4096) {
		char keep = *p;

		*p = keep;
	}
	return 0;
}

/* The option that asked for these pages, for messages. */
static const char *hugetlb_option(size_t page)
{
	return page == (1u << 30) ? "reg_folio=1g" : "reg_folio=2m";
}

static int map_hugetlb(struct ufr_backing *b, size_t len, size_t page,
		       struct ufr_err *err)
{
	const char *what = hugetlb_option(page);
	int shift = __builtin_ctzl(page);
	long free = ufr_hugetlb_count(page, "free_hugepages");
	long resv = ufr_hugetlb_count(page, "resv_hugepages");
	unsigned long need = len / page;

	/* Say how many are missing before the kernel just says ENOMEM. */
	if (free < 0 || free - (resv > 0 ? resv : 0) < (long)need)
		return ufr_hugetlb_shortage(err, what, page, need);
	b->map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			      (shift << MAP_HUGE_SHIFT),
		      -1, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		/* Taken by someone else between the check and the map. */
		if (errno == ENOMEM)
			return ufr_hugetlb_shortage(err, what, page, need);
		return ufr_err_set(
			err, errno,
			"reg_folio: mmap of %zu bytes of %zu KiB hugetlb pages failed: %s",
			len, page >> 10, strerror(errno));
	}
	b->map_len = len;
	b->addr = b->map;
	return 0;
}

static int map_anon(struct ufr_backing *b, size_t len, size_t align, int advice,
		    struct ufr_err *err)
{
	uintptr_t start;

	/* Over-map so a folio-aligned range of len fits inside. */
	b->map_len = len + (align > 4096 ? align : 0);
	b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return ufr_err_set(
			err, errno,
			"buffer memory: mmap of %zu bytes failed: %s; lower iodepth or bs",
			len, strerror(errno));
	}
	start = ((uintptr_t)b->map + align - 1) & ~(uintptr_t)(align - 1);
	b->addr = (void *)start;
	/* Before the first touch, or faults pick the folio size alone. */
	madvise(b->addr, len, advice);
	return 0;
}

/*
 * Faulting in hugetlb pages failed after the mapping succeeded. Either
 * another process took the pages since we looked, or something keeps
 * this job from free ones: a hugetlb cgroup limit, or a NUMA binding to a
 * node without them. Say which it can be.
 */
static int hugetlb_fault_failed(struct ufr_err *err, int numa_node, size_t page,
				unsigned long need)
{
	long free = ufr_hugetlb_count(page, "free_hugepages");
	long resv = ufr_hugetlb_count(page, "resv_hugepages");

	if (numa_node >= 0)
		return ufr_numa_hugetlb_shortage(err, numa_node, page, need);
	if (free - (resv > 0 ? resv : 0) < (long)need)
		return ufr_hugetlb_shortage(err, hugetlb_option(page), page,
					    need);
	return ufr_err_set(
		err, ENOMEM,
		"%s: faulting in %lu hugetlb pages of %zu KiB failed although %ld are free: a hugetlb cgroup limit keeps them from this job; raise it (hugetlb.%s.limit_in_bytes or hugetlb.%s.max of the job's cgroup)",
		hugetlb_option(page), need, page >> 10, free,
		page >> 30 ? "1GB" : "2MB", page >> 30 ? "1GB" : "2MB");
}

int ufr_backing_map(struct ufr_backing *b, size_t len, enum ufr_folio folio,
		    int numa_node, struct ufr_err *err)
{
	size_t fbytes = ufr_folio_bytes(folio);
	int hugetlb = folio == UFR_FOLIO_2M || folio == UFR_FOLIO_1G;
	int ret;

	memset(b, 0, sizeof(*b));
	b->folio = folio;
	len = (len + fbytes - 1) / fbytes * fbytes;
	if (folio == UFR_FOLIO_THP && thp_mode_never())
		return ufr_err_set(
			err, EOPNOTSUPP,
			"reg_folio=thp: transparent hugepages are off (" THP_ENABLED
			" is never); enable them: echo madvise > " THP_ENABLED);

	if (hugetlb)
		ret = map_hugetlb(b, len, fbytes, err);
	else
		ret = map_anon(b, len, fbytes,
			       folio == UFR_FOLIO_THP ? MADV_HUGEPAGE :
							MADV_NOHUGEPAGE,
			       err);
	if (ret)
		return ret;
	b->len = len;

	if (numa_node >= 0) {
		ret = ufr_numa_bind(b->addr, len, numa_node, err);
		if (ret)
			goto fail;
	}
	/* Hugetlb must not be touched by hand: a missing page is SIGBUS. */
	ret = ufr_prefault(b->addr, b->len, !hugetlb);
	if (ret && hugetlb) {
		/* Give the pages back first, so the pool reads as it is. */
		ufr_backing_unmap(b);
		return hugetlb_fault_failed(err, numa_node, fbytes,
					    len / fbytes);
	}
	if (ret) {
		ret = ufr_err_set(
			err, ret,
			"buffer memory: faulting in %zu bytes failed: %s", len,
			strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	ufr_backing_unmap(b);
	return ret;
}

void ufr_backing_unmap(struct ufr_backing *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	memset(b, 0, sizeof(*b));
}
