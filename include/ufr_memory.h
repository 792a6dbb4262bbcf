/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_MEMORY_H
#define UFR_MEMORY_H

/*
 * The third stage: the buffer memory. The engine's own mappings (4 KiB
 * pages, THP, hugetlb), faulted in before anything is timed; the hugetlb
 * pool; NUMA placement; and the buffer set that joins a plan and memory
 * into the iovecs handed to registration.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "ufr_config.h"
#include "ufr_layout.h"

/*
 * <sys/mman.h>, with the kernel's values for what Debian 12's glibc
 * headers lack (MADV_POPULATE_* came with Linux 5.14).
 */

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

/* Buffer memory the engine maps itself, faulted in before registration. */
struct ufr_backing {
	void *addr; /* aligned to the folio size */
	size_t len;
	void *map; /* what mmap returned, for munmap */
	size_t map_len;
};

/*
 * Map @len bytes (rounded up to whole folios of @folio_bytes) on @folio
 * memory, as ufr_resolve() allowed it (THP on, hugetlb pages free), bound to
 * @numa_node when it is >= 0, and fault every page in, so that
 * registration times pinning, not page faults. @kind: anonymous memory, a
 * memfd (shmem on 4 KiB pages, shmem THP advised MADV_HUGEPAGE for thp,
 * MFD_HUGETLB for 2m and 1g), or a file made and unlinked at once in
 * hugetlbfs directory @dir, mapped MAP_SHARED.
 * Missing hugetlb pages are reported with the command that reserves them.
 */
int ufr_backing_map(struct ufr_backing *b, size_t len, enum ufr_folio folio,
		    size_t folio_bytes, int numa_node,
		    enum ufr_backing_kind kind, const char *dir,
		    struct ufr_err *err);
void ufr_backing_unmap(struct ufr_backing *b);

/*
 * Fault [addr, addr + len) in for writing, keeping its contents:
 * MADV_POPULATE_WRITE, or where the kernel lacks it and @may_touch, a
 * write to each page. 0 or -errno.
 */
int ufr_prefault(void *addr, size_t len, bool may_touch);

/*
 * A job's I/O buffers: where each io_u's buffer is, and the regions that
 * get registered. Built in the order data flows: the plan (engine-owned
 * strategies: ufr_resolve()), memory, then the iovecs handed to
 * the registrar.
 */
struct ufr_bufset {
	struct ufr_plan plan;
	struct ufr_backing mem;
	struct iovec *iov; /* one per registered buffer */
	unsigned int nr_iov;
	uint16_t *buf_index; /* io_u index -> registered buffer index */
	struct iovec *buf_iov; /* io_u index -> its buffer */
	unsigned int nr_bufs;
	/* io_u index -> log2 of the bytes per bio_vec of its registered
	 * buffer, for counting each I/O's segments as io_import_fixed() */
	uint8_t *io_shift;
};

/* Map the planned memory, at least @min_len bytes, and index it. */
int ufr_bufset_map(struct ufr_bufset *s, const struct ufr_config *c,
		   size_t min_len, struct ufr_err *err);
/* fio's memory: @bufs[i], @len bytes, is io_u i's registered buffer. */
int ufr_bufset_from_bufs(struct ufr_bufset *s, void *const *bufs,
			 unsigned int n, size_t len);

static inline void *ufr_bufset_buf(const struct ufr_bufset *s, unsigned int i)
{
	return (char *)s->mem.addr + s->plan.bufs[i].off;
}

/*
 * 4 KiB pages of the registered buffers on each NUMA node. Returns 0, the
 * negative errno of move_pages(2) itself, or 1 when it could not say where
 * a page is (its status in *@bad: a negative errno, or a node number at or
 * over UFR_MAX_NODES).
 */
int ufr_bufset_pages_by_node(const struct ufr_bufset *s,
			     uint64_t pages[UFR_MAX_NODES], int *bad);

void ufr_bufset_free(struct ufr_bufset *s);

#endif
