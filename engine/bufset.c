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
	s->nr_iov = nr_iov;
	s->nr_bufs = nr_bufs;
	return s->iov && s->buf_index ? 0 : -ENOMEM;
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
	for (i = 0; i < p->nr_bufs; i++)
		s->buf_index[i] = p->bufs[i].region;
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
	}
	return 0;
}

void ufr_bufset_free(struct ufr_bufset *s)
{
	ufr_backing_unmap(&s->mem);
	ufr_plan_free(&s->plan);
	free(s->iov);
	free(s->buf_index);
	s->iov = NULL;
	s->buf_index = NULL;
	s->nr_iov = 0;
}
