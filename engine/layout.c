// SPDX-License-Identifier: GPL-2.0-only
/*
 * The layout: where each buffer goes and what the kernel will make of it
 * under its coalescing rules. Pure arithmetic, so it is unit-tested and
 * fuzzed on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ufr_layout.h"

const char *ufr_rules_name(enum ufr_rules rules)
{
	static const char *const names[] = {
		[UFR_RULES_MULTI_FOLIO] = "multi_folio",
		[UFR_RULES_SINGLE_FOLIO] = "single_folio",
		[UFR_RULES_PER_PAGE] = "per_page",
	};

	return rules <= UFR_RULES_PER_PAGE ? names[rules] : "?";
}

enum ufr_rules ufr_rules_for_release(const char *release)
{
	unsigned int major = 0, minor = 0;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return UFR_RULES_MULTI_FOLIO;
	if (major < 6 || (major == 6 && minor < 3))
		return UFR_RULES_PER_PAGE;
	if (major == 6 && minor < 10)
		return UFR_RULES_SINGLE_FOLIO;
	return UFR_RULES_MULTI_FOLIO;
}

uint32_t ufr_range_bvecs(enum ufr_rules rules, uint64_t off, uint64_t len,
			 size_t folio_bytes)
{
	uint64_t pages = ufr_folios_spanned(off, len, UFR_PAGE_BYTES);
	uint64_t folios = ufr_folios_spanned(off, len, folio_bytes);

	/* A one-page buffer, or 4 KiB folios, cannot coalesce. */
	if (pages <= 1 || folio_bytes <= UFR_PAGE_BYTES ||
	    rules == UFR_RULES_PER_PAGE)
		return pages;
	if (rules == UFR_RULES_SINGLE_FOLIO)
		return folios == 1 ? 1 : pages;
	return folios;
}

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

static int check_params(const struct ufr_plan_params *p, struct ufr_err *err)
{
	const char *name = ufr_strategy_name(p->strategy);

	if (!p->nr_bufs || !p->buf_bytes || !p->folio_bytes)
		return ufr_err_set(
			err, -EINVAL,
			"reg_strategy=%s: nothing to place (iodepth=%u, bs=%zu)",
			name, p->nr_bufs, p->buf_bytes);
	if (p->nr_bufs > UFR_MAX_BUFFERS)
		return ufr_err_set(
			err, -EINVAL,
			"iodepth=%u: reg_strategy=%s registers one buffer per io_u and the kernel takes at most %u; lower iodepth to %u or use reg_strategy=coalesced",
			p->nr_bufs, name, UFR_MAX_BUFFERS, UFR_MAX_BUFFERS);
	if (p->align + p->buf_bytes > UFR_MAX_REGION_BYTES)
		return ufr_err_set(
			err, -EINVAL,
			"bs=%zu: one buffer would be a region over 1 GiB, which the kernel refuses; lower bs",
			p->buf_bytes);
	return 0;
}

static int alloc_plan(struct ufr_plan *plan, unsigned int nr_regions,
		      unsigned int nr_bufs)
{
	plan->regions = calloc(nr_regions, sizeof(*plan->regions));
	plan->bufs = calloc(nr_bufs, sizeof(*plan->bufs));
	plan->nr_regions = nr_regions;
	plan->nr_bufs = nr_bufs;
	return plan->regions && plan->bufs ? 0 : -ENOMEM;
}

/* per_page: one region per buffer, back to back, as fio lays them out. */
static int plan_per_buffer(const struct ufr_plan_params *p,
			   struct ufr_plan *plan)
{
	unsigned int i;

	if (alloc_plan(plan, p->nr_bufs, p->nr_bufs))
		return -ENOMEM;
	for (i = 0; i < p->nr_bufs; i++) {
		plan->bufs[i].off = p->align + (size_t)i * p->buf_bytes;
		plan->bufs[i].region = i;
	}
	plan->backing_bytes = round_up(
		p->align + (size_t)p->nr_bufs * p->buf_bytes, p->folio_bytes);
	return 0;
}

/* hugetlb_fast: each buffer wholly inside one folio, packed per folio. */
static int plan_in_folio(const struct ufr_plan_params *p, struct ufr_plan *plan,
			 struct ufr_err *err)
{
	size_t per_folio, i;

	if (p->align + p->buf_bytes > p->folio_bytes)
		return ufr_err_set(
			err, -EINVAL,
			"bs=%zu: hugetlb_fast places each buffer inside one folio, and with mem_align=%zu it does not fit a %zu KiB folio; use reg_folio=1g or a smaller bs",
			p->buf_bytes, p->align, p->folio_bytes >> 10);
	per_folio = (p->folio_bytes - p->align) / p->buf_bytes;
	if (alloc_plan(plan, p->nr_bufs, p->nr_bufs))
		return -ENOMEM;
	for (i = 0; i < p->nr_bufs; i++) {
		plan->bufs[i].off = i / per_folio * p->folio_bytes + p->align +
				    i % per_folio * p->buf_bytes;
		plan->bufs[i].region = i;
	}
	plan->backing_bytes =
		(p->nr_bufs + per_folio - 1) / per_folio * p->folio_bytes;
	return 0;
}

/*
 * coalesced: the pool as few regions as possible, each at most 1 GiB and
 * holding whole buffers, each starting on a folio boundary (plus
 * mem_align) so no region wastes a partial head folio.
 */
static int plan_coalesced(const struct ufr_plan_params *p,
			  struct ufr_plan *plan)
{
	size_t per_region = (UFR_MAX_REGION_BYTES - p->align) / p->buf_bytes;
	unsigned int nr_regions, r, i;
	size_t stride;

	if (per_region > p->nr_bufs)
		per_region = p->nr_bufs;
	nr_regions = (p->nr_bufs + per_region - 1) / per_region;
	stride = round_up(p->align + per_region * p->buf_bytes, p->folio_bytes);
	if (alloc_plan(plan, nr_regions, p->nr_bufs))
		return -ENOMEM;
	for (i = 0; i < p->nr_bufs; i++) {
		r = i / per_region;
		plan->bufs[i].off =
			r * stride + p->align + (i % per_region) * p->buf_bytes;
		plan->bufs[i].region = r;
	}
	plan->backing_bytes = (size_t)nr_regions * stride;
	return 0;
}

void ufr_segments_add_range(struct ufr_segments *seg, enum ufr_rules rules,
			    uint64_t off, uint64_t len, uint64_t folio_bytes,
			    uint64_t *last_folio)
{
	uint64_t first = off / folio_bytes;
	uint64_t n = ufr_folios_spanned(off, len, folio_bytes);

	seg->pages += ufr_folios_spanned(off, len, UFR_PAGE_BYTES);
	seg->bvecs += ufr_range_bvecs(rules, off, len, folio_bytes);
	/* Neighbouring ranges may share a folio; count it once. */
	seg->folios += n - (first == *last_folio);
	*last_folio = first + n - 1;
}

static void predict(const struct ufr_plan_params *p, struct ufr_plan *plan)
{
	uint64_t last_folio = UINT64_MAX;
	unsigned int i, r;

	/* Regions are contiguous runs of buffers; in address order. */
	for (i = 0; i < p->nr_bufs; i++) {
		struct ufr_plan_region *reg =
			&plan->regions[plan->bufs[i].region];

		if (reg->len == 0)
			reg->off = plan->bufs[i].off;
		reg->len = plan->bufs[i].off + p->buf_bytes - reg->off;
		if (ufr_folios_spanned(plan->bufs[i].off, p->buf_bytes,
				       p->folio_bytes) > 1)
			plan->seg.straddling++;
	}
	for (r = 0; r < plan->nr_regions; r++) {
		struct ufr_plan_region *reg = &plan->regions[r];

		reg->bvecs = ufr_range_bvecs(p->rules, reg->off, reg->len,
					     p->folio_bytes);
		ufr_segments_add_range(&plan->seg, p->rules, reg->off, reg->len,
				       p->folio_bytes, &last_folio);
	}
	plan->seg.min_folio_bytes = plan->seg.max_folio_bytes = p->folio_bytes;
}

int ufr_plan_make(const struct ufr_plan_params *p, struct ufr_plan *plan,
		  struct ufr_err *err)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	ret = check_params(p, err);
	if (ret)
		return ret;

	switch (p->strategy) {
	case UFR_STRAT_HUGETLB_FAST:
		ret = plan_in_folio(p, plan, err);
		break;
	case UFR_STRAT_COALESCED:
		ret = plan_coalesced(p, plan);
		break;
	default:
		ret = plan_per_buffer(p, plan);
		break;
	}
	if (ret == -ENOMEM)
		ret = ufr_err_set(
			err, -ENOMEM,
			"reg_strategy=%s: no memory to plan %u buffers",
			ufr_strategy_name(p->strategy), p->nr_bufs);
	if (ret) {
		ufr_plan_free(plan);
		return ret;
	}
	predict(p, plan);
	return 0;
}

void ufr_plan_free(struct ufr_plan *plan)
{
	free(plan->regions);
	free(plan->bufs);
	plan->regions = NULL;
	plan->bufs = NULL;
}
