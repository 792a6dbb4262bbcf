// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buffer memory: the engine's own mappings, faulted in before anything is
 * timed; the hugetlb pool; NUMA placement; the buffer set (plan + memory
 * -> the iovecs registration gets).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <numaif.h>

#include "ufr_memory.h"
#include "ufr_probe.h"

_Static_assert(UFR_MAX_NODES <= 8 * sizeof(unsigned long),
	       "reg_numa_node's mbind() mask is one unsigned long");

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

/* The kernel refused @need hugetlb pages of @page: the pool as it is now
 * says how many are missing. */
static int hugetlb_short(struct ufr_err *err, size_t page, unsigned long need)
{
	struct ufr_hugetlb_pool pool;

	ufr_hugetlb_pool_read(&pool, page);
	return ufr_hugetlb_shortage(err, ufr_hugetlb_option(page), &pool, need);
}

/* The file of a shared backing, @len bytes: a memfd, or an unlinked
 * hugetlbfs file in @dir. */
static int backing_file(enum ufr_backing_kind kind, const char *dir, size_t len,
			size_t page, bool hugetlb, struct ufr_err *err)
{
	unsigned int flags = MFD_CLOEXEC;
	char path[4096];
	int fd, e;

	if (kind == UFR_BACKING_MEMFD) {
		if (hugetlb)
			/* The size as mmap's MAP_HUGE_* encode it. */
			flags |= MFD_HUGETLB |
				 (__builtin_ctzl(page) << MAP_HUGE_SHIFT);
		fd = memfd_create("uring_folioreg", flags);
		if (fd < 0)
			return ufr_err_set(
				err, -errno,
				"reg_backing=memfd: memfd_create%s failed: %s; %s",
				hugetlb ? " with MFD_HUGETLB" : "",
				strerror(errno),
				hugetlb ?
					"this kernel may lack hugetlb memfds; use reg_backing=hugetlbfs or anon" :
					"use reg_backing=anon");
	} else {
		if (snprintf(path, sizeof(path), "%s/uring_folioreg.XXXXXX",
			     dir) >= (int)sizeof(path))
			return ufr_err_set(
				err, -ENAMETOOLONG,
				"reg_hugetlbfs_path=%s: too long; use a shorter path",
				dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0)
			return ufr_err_set(
				err, -errno,
				"reg_hugetlbfs_path=%s: creating the buffer file failed: %s; give a directory on a hugetlbfs this job may write",
				dir, strerror(errno));
		/* Nothing to leak: the file lives as long as its mapping. */
		unlink(path);
	}
	if (!ftruncate(fd, (off_t)len))
		return fd;
	e = errno;
	close(fd);
	return ufr_err_set(
		err, -e,
		"reg_backing=%s: sizing the buffer file to %zu bytes failed: %s; lower iodepth or bs",
		ufr_backing_name(kind), len, strerror(e));
}

/*
 * Map @len bytes on folios of @page, starting on a folio boundary: a
 * shared file (@fd >= 0), anonymous hugetlb pages, or anonymous memory.
 * Anonymous memory is over-mapped so that a folio-aligned range of @len
 * fits inside; a file is mapped into such a range reserved first, its
 * offset 0 on the boundary, since its large folios (shmem THP, hugetlb)
 * sit at file offsets that are multiples of their size.
 */
static int map_memory(struct ufr_backing *b, size_t len, size_t page,
		      bool hugetlb, enum ufr_backing_kind kind, int fd,
		      struct ufr_err *err)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, e = 0;
	bool file = fd >= 0;

	b->map_len = len;
	if (!file && hugetlb)
		flags |= MAP_HUGETLB | __builtin_ctzl(page) << MAP_HUGE_SHIFT;
	else if (page > 4096)
		b->map_len += page;
	b->map = mmap(NULL, b->map_len,
		      file ? PROT_NONE : PROT_READ | PROT_WRITE, flags, -1, 0);
	if (b->map == MAP_FAILED)
		e = errno;
	else
		b->addr = (void *)(((uintptr_t)b->map + page - 1) &
				   ~(uintptr_t)(page - 1));
	if (!e && file &&
	    mmap(b->addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED) {
		e = errno;
		munmap(b->map, b->map_len);
	}
	if (file)
		close(fd);
	if (!e) {
		b->len = len;
		return 0;
	}
	b->map = NULL;
	/* Taken by someone else since they were counted; a shared hugetlb
	 * mapping reserves its pages here. */
	if (hugetlb && e == ENOMEM)
		return hugetlb_short(err, page, len / page);
	if (file)
		return ufr_err_set(
			err, -e,
			"reg_backing=%s: mmap of %zu bytes failed: %s; lower iodepth or bs, or use reg_backing=anon",
			ufr_backing_name(kind), len, strerror(e));
	if (hugetlb)
		return ufr_err_set(
			err, -e,
			"reg_folio: mmap of %zu bytes of %zu KiB hugetlb pages failed: %s",
			len, page >> 10, strerror(e));
	return ufr_err_set(
		err, -e,
		"buffer memory: mmap of %zu bytes failed: %s; lower iodepth or bs",
		len, strerror(e));
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
	struct ufr_hugetlb_pool pool;

	ufr_hugetlb_pool_read(&pool, page);

	if (numa_node >= 0)
		return ufr_err_set(
			err, -ENOMEM,
			"reg_numa_node=%d: node %d has fewer than %lu free hugetlb pages of %zu KiB; reserve them there: echo %lu > /sys/devices/system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages",
			numa_node, numa_node, need, page >> 10, need, numa_node,
			page >> 10);
	if (ufr_hugetlb_available(&pool) < (long)need)
		return ufr_hugetlb_shortage(err, ufr_hugetlb_option(page),
					    &pool, need);
	return ufr_err_set(
		err, -ENOMEM,
		"%s: faulting in %lu hugetlb pages of %zu KiB failed although %ld are free: a hugetlb cgroup limit keeps them from this job; raise it (hugetlb.%s.limit_in_bytes or hugetlb.%s.max of the job's cgroup)",
		ufr_hugetlb_option(page), need, page >> 10, pool.free,
		page >> 30 ? "1GB" : "2MB", page >> 30 ? "1GB" : "2MB");
}

int ufr_backing_map(struct ufr_backing *b, size_t len, enum ufr_folio folio,
		    size_t page, int numa_node, enum ufr_backing_kind kind,
		    const char *dir, struct ufr_err *err)
{
	bool hugetlb = folio == UFR_FOLIO_2M || folio == UFR_FOLIO_1G;
	unsigned long nodes = numa_node >= 0 ? 1ul << numa_node : 0;
	int fd = -1, ret;

	memset(b, 0, sizeof(*b));
	len = (len + page - 1) / page * page;
	if (kind != UFR_BACKING_ANON) {
		fd = backing_file(kind, dir, len, page, hugetlb, err);
		if (fd < 0)
			return fd;
	}
	ret = map_memory(b, len, page, hugetlb, kind, fd, err);
	if (ret)
		return ret;
	/* Before the first touch, or faults pick the folio size alone (and
	 * shmem THP would change the 4 KiB pages a memfd was asked for). */
	if (!hugetlb)
		madvise(b->addr, len,
			ufr_folio_is_thp(folio) ? MADV_HUGEPAGE :
						  MADV_NOHUGEPAGE);
	/* Bound before it is faulted in; ufr_resolve() kept the node below
	 * UFR_MAX_NODES, within the bits of @nodes. */
	if (numa_node >= 0 &&
	    mbind(b->addr, len, MPOL_BIND, &nodes, UFR_MAX_NODES + 1, 0)) {
		ret = ufr_err_set(
			err, -errno,
			"reg_numa_node=%d: binding the buffer memory failed: %s",
			numa_node, strerror(errno));
		goto fail;
	}
	/* Hugetlb must not be touched by hand: a missing page is SIGBUS. */
	ret = ufr_prefault(b->addr, len, !hugetlb);
	if (ret && hugetlb) {
		/* Give the pages back first, so the pool reads as it is. */
		ufr_backing_unmap(b);
		return hugetlb_fault_failed(err, numa_node, page, len / page);
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

static int alloc_index(struct ufr_bufset *s, unsigned int nr_bufs,
		       unsigned int nr_iov)
{
	s->iov = calloc(nr_iov, sizeof(*s->iov));
	s->buf_index = calloc(nr_bufs, sizeof(*s->buf_index));
	s->buf_iov = calloc(nr_bufs, sizeof(*s->buf_iov));
	s->nr_iov = nr_iov;
	s->nr_bufs = nr_bufs;
	return s->iov && s->buf_index && s->buf_iov ? 0 : -ENOMEM;
}

int ufr_bufset_map(struct ufr_bufset *s, const struct ufr_config *c,
		   size_t min_len, struct ufr_err *err)
{
	const struct ufr_plan *p = &s->plan;
	size_t len = p->backing_bytes > min_len ? p->backing_bytes : min_len;
	unsigned int i;
	int ret;

	ret = ufr_backing_map(&s->mem, len, c->folio, c->folio_bytes,
			      c->numa_node, c->backing, c->hugetlbfs_path, err);
	if (ret)
		return ret;
	if (alloc_index(s, p->nr_bufs, p->nr_regions))
		return ufr_err_set(err, -ENOMEM,
				   "buffer memory: out of memory");
	for (i = 0; i < p->nr_regions; i++) {
		s->iov[i].iov_base = (char *)s->mem.addr + p->regions[i].off;
		s->iov[i].iov_len = p->regions[i].len;
	}
	for (i = 0; i < p->nr_bufs; i++) {
		s->buf_index[i] = p->bufs[i].region;
		s->buf_iov[i].iov_base = ufr_bufset_buf(s, i);
		s->buf_iov[i].iov_len = c->buf_bytes;
	}
	return 0;
}

int ufr_bufset_from_bufs(struct ufr_bufset *s, void *const *bufs,
			 unsigned int n, size_t len)
{
	unsigned int i;

	if (alloc_index(s, n, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		s->iov[i].iov_base = bufs[i];
		s->iov[i].iov_len = len;
		s->buf_index[i] = i;
		s->buf_iov[i] = s->iov[i];
	}
	return 0;
}

int ufr_bufset_pages_by_node(const struct ufr_bufset *s,
			     uint64_t pages[UFR_MAX_NODES], int *bad)
{
	enum { BATCH = 4096 };
	void *ptrs[BATCH];
	int status[BATCH];
	unsigned int i, n, k;
	uintptr_t a, end;

	memset(pages, 0, UFR_MAX_NODES * sizeof(*pages));
	for (i = 0; i < s->nr_iov; i++) {
		a = (uintptr_t)s->iov[i].iov_base & ~4095ul;
		end = (uintptr_t)s->iov[i].iov_base + s->iov[i].iov_len;
		/* move_pages(2) in query mode: each page's node. */
		for (; a < end; a += (uintptr_t)n * 4096) {
			for (n = 0; n < BATCH && a + n * 4096ul < end; n++)
				ptrs[n] = (void *)(a + n * 4096ul);
			if (move_pages(0, n, ptrs, NULL, status, 0))
				return -errno;
			for (k = 0; k < n; k++) {
				if (status[k] < 0 ||
				    status[k] >= UFR_MAX_NODES) {
					*bad = status[k];
					return 1;
				}
				pages[status[k]]++;
			}
		}
	}
	return 0;
}

void ufr_bufset_free(struct ufr_bufset *s)
{
	ufr_backing_unmap(&s->mem);
	ufr_plan_free(&s->plan);
	free(s->iov);
	free(s->buf_index);
	free(s->buf_iov);
	free(s->io_shift);
	memset(s, 0, sizeof(*s));
}
