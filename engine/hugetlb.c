// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>

#include "ufr_hugetlb.h"

long ufr_hugetlb_count(size_t page_bytes, const char *counter)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%zukB/%s",
		 page_bytes >> 10, counter);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

int ufr_hugetlb_shortage(struct ufr_err *err, const char *what,
			 size_t page_bytes, unsigned long need)
{
	long total = ufr_hugetlb_count(page_bytes, "nr_hugepages");
	long free = ufr_hugetlb_count(page_bytes, "free_hugepages");
	long resv = ufr_hugetlb_count(page_bytes, "resv_hugepages");
	long avail;

	if (total < 0)
		return ufr_err_set(
			err, ENOMEM,
			"%s: this kernel has no %zu KiB hugetlb pages; use another page size",
			what, page_bytes >> 10);
	if (free < 0)
		free = 0;
	/* Reserved pages are free but promised to other mappings. */
	avail = resv > 0 && resv < free ? free - resv : resv > 0 ? 0 : free;
	if (avail == free)
		return ufr_err_set(
			err, ENOMEM,
			"%s: needs %lu hugetlb pages of %zu KiB, %ld are free; reserve more: echo %lu > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
			what, need, page_bytes >> 10, free,
			total + (need > (unsigned long)avail ? need - avail :
							       need),
			page_bytes >> 10);
	return ufr_err_set(
		err, ENOMEM,
		"%s: needs %lu hugetlb pages of %zu KiB, %ld are free but %ld of them are reserved by other mappings; reserve more: echo %lu > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
		what, need, page_bytes >> 10, free, free - avail,
		total + (need > (unsigned long)avail ? need - avail : need),
		page_bytes >> 10);
}
