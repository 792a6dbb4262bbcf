// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ufr_bufset.h"

int ufr_bufset_plan(struct ufr_bufset *s, const struct ufr_config *c,
		    struct ufr_err *err)
{
	struct ufr_plan_params p = {
		.strategy = c->strategy,
		.nr_bufs = c->nr_bufs,
		.buf_bytes = c->buf_bytes,
		.align = c->align,
		.folio_bytes = ufr_folio_bytes(c->folio),
	};

	memset(s, 0, sizeof(*s));
	return ufr_plan_make(&p, &s->plan, err);
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

	ret = ufr_backing_map(&s->mem, len, c->folio, c->numa_node, err);
	if (ret)
		return ret;
	if (alloc_index(s, p->nr_bufs, p->nr_regions))
		return ufr_err_set(err, ENOMEM, "buffer memory: out of memory");
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

/* The kernel's rules applied to addresses, for folios of @folio_bytes. */
static void predict(const struct ufr_bufset *s, size_t folio_bytes,
		    enum ufr_rules rules, struct ufr_segments *seg,
		    uint8_t *shift)
{
	uint64_t last_folio = UINT64_MAX;
	unsigned int i;

	memset(seg, 0, sizeof(*seg));
	/* Registered buffers are in address order. */
	for (i = 0; i < s->nr_iov; i++) {
		uintptr_t a = (uintptr_t)s->iov[i].iov_base;
		size_t len = s->iov[i].iov_len;

		ufr_segments_add_range(seg, rules, a, len, folio_bytes,
				       &last_folio);
		shift[i] = ufr_range_bvecs(rules, a, len, folio_bytes) <
					   ufr_folios_spanned(a, len,
							      UFR_PAGE_BYTES) ?
				   __builtin_ctzl(folio_bytes) :
				   __builtin_ctz(UFR_PAGE_BYTES);
	}
	for (i = 0; i < s->nr_bufs; i++)
		seg->straddling +=
			ufr_folios_spanned((uintptr_t)s->buf_iov[i].iov_base,
					   s->buf_iov[i].iov_len,
					   folio_bytes) > 1;
	seg->min_folio_bytes = seg->max_folio_bytes = folio_bytes;
}

int ufr_bufset_segments(struct ufr_bufset *s, size_t folio_bytes,
			enum ufr_rules rules, struct ufr_segments *seg)
{
	struct ufr_segments per_buf;
	uint8_t *shift = calloc(s->nr_iov ? s->nr_iov : 1, sizeof(*shift));
	unsigned int i;

	free(s->io_shift);
	s->io_shift = calloc(s->nr_bufs ? s->nr_bufs : 1, sizeof(*s->io_shift));
	if (!shift || !s->io_shift) {
		free(shift);
		return -ENOMEM;
	}
	if (!ufr_inspect_buffers(s->iov, s->nr_iov, rules, seg, shift) &&
	    !ufr_inspect_buffers(s->buf_iov, s->nr_bufs, rules, &per_buf,
				 NULL)) {
		/* Straddling is about the io_us' buffers, not regions. */
		seg->straddling = per_buf.straddling;
	} else {
		predict(s, folio_bytes, rules, seg, shift);
	}
	for (i = 0; i < s->nr_bufs; i++)
		s->io_shift[i] = shift[s->buf_index[i]];
	free(shift);
	return 0;
}

int ufr_bufset_pages_by_node(const struct ufr_bufset *s,
			     uint64_t pages[UFR_MAX_NODES])
{
	uint64_t part[UFR_MAX_NODES];
	unsigned int i, k;
	int ret;

	memset(pages, 0, UFR_MAX_NODES * sizeof(*pages));
	for (i = 0; i < s->nr_iov; i++) {
		uintptr_t a = (uintptr_t)s->iov[i].iov_base & ~4095ul;
		uintptr_t e = (uintptr_t)s->iov[i].iov_base + s->iov[i].iov_len;

		ret = ufr_numa_pages_by_node((void *)a,
					     (e - a + 4095) & ~4095ul, part);
		if (ret)
			return ret;
		for (k = 0; k < UFR_MAX_NODES; k++)
			pages[k] += part[k];
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
	s->io_shift = NULL;
	s->iov = NULL;
	s->buf_index = NULL;
	s->buf_iov = NULL;
	s->nr_iov = 0;
}
