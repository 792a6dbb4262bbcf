// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "ufr_backing.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Fault every page in now, so registration times pinning, not faults. */
static void prefault(void *addr, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), off;

	if (!madvise(addr, len, MADV_POPULATE_WRITE))
		return;
	for (off = 0; off < len; off += pg)
		((volatile char *)addr)[off] = 0;
}

int ufr_backing_map_small(struct ufr_backing *b, size_t len,
			  struct ufr_err *err)
{
	void *p;

	memset(b, 0, sizeof(*b));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return ufr_err_set(
			err, errno,
			"buffer memory: mmap of %zu bytes failed: %s; lower iodepth or bs",
			len, strerror(errno));
	/* Before the first touch, or the fault may hand out a THP. */
	madvise(p, len, MADV_NOHUGEPAGE);
	prefault(p, len);
	b->addr = p;
	b->len = len;
	return 0;
}

void ufr_backing_unmap(struct ufr_backing *b)
{
	if (b->addr)
		munmap(b->addr, b->len);
	b->addr = NULL;
	b->len = 0;
}
