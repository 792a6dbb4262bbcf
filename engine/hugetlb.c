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
	unsigned long missing;

	if (total < 0)
		return ufr_err_set(
			err, ENOMEM,
			"%s: this kernel has no %zu KiB hugetlb pages; use another page size",
			what, page_bytes >> 10);
	missing = free >= 0 && (unsigned long)free < need ? need - free : need;
	return ufr_err_set(
		err, ENOMEM,
		"%s: needs %lu hugetlb pages of %zu KiB, %ld are free; reserve more: echo %lu > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
		what, need, page_bytes >> 10, free < 0 ? 0 : free,
		total + missing, page_bytes >> 10);
}
