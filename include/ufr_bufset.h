/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_BUFSET_H
#define UFR_BUFSET_H

#include <stdint.h>
#include <sys/uio.h>

#include "ufr_backing.h"
#include "ufr_config.h"
#include "ufr_inspect.h"
#include "ufr_numa.h"
#include "ufr_plan.h"

/*
 * A job's I/O buffers: where each io_u's buffer is, and the regions that
 * get registered. Built in the order data flows: plan (engine-owned
 * strategies), memory, then the iovecs handed to the registrar.
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

/* Plan an engine-owned layout for the resolved config @c. */
int ufr_bufset_plan(struct ufr_bufset *s, const struct ufr_config *c,
		    struct ufr_err *err);

/* Map and fault in the planned memory, at least @min_len bytes. Builds
 * the iovecs of the planned regions. */
int ufr_bufset_map(struct ufr_bufset *s, const struct ufr_config *c,
		   size_t min_len, struct ufr_err *err);

/* fio's memory: one registered buffer of @len per io_u, @bufs[i] being
 * io_u i's buffer. */
int ufr_bufset_from_bufs(struct ufr_bufset *s, void *const *bufs,
			 unsigned int n, size_t len);

static inline void *ufr_bufset_buf(const struct ufr_bufset *s, unsigned int i)
{
	return (char *)s->mem.addr + s->plan.bufs[i].off;
}

/*
 * What the kernel builds from the registered buffers under @rules: from
 * the real folio layout (pagemap) where it can be read, else predicted
 * for folios of @folio_bytes. Also fills s->io_shift. 0 or -ENOMEM.
 */
int ufr_bufset_segments(struct ufr_bufset *s, size_t folio_bytes,
			enum ufr_rules rules, struct ufr_segments *seg);

/* 4 KiB pages of the registered buffers on each NUMA node. */
int ufr_bufset_pages_by_node(const struct ufr_bufset *s,
			     uint64_t pages[UFR_MAX_NODES]);

void ufr_bufset_free(struct ufr_bufset *s);

#endif
