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

static const char *const rules_names[] = {
	[UFR_RULES_MULTI_FOLIO] = "multi_folio",
	[UFR_RULES_SINGLE_FOLIO] = "single_folio",
	[UFR_RULES_PER_PAGE] = "per_page",
};

const char *ufr_rules_name(enum ufr_rules rules)
{
	return ufr_enum_name(rules_names, rules);
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

static unsigned long long cap_or_default(unsigned long long cap)
{
	return cap ? cap : UFR_MAX_REGION_BYTES;
}

bool ufr_buffer_fits(unsigned long long cap, uint64_t off, uint64_t len)
{
	return len <= cap_or_default(cap) &&
	       ufr_folios_spanned(off, len, UFR_PAGE_BYTES) <=
		       UFR_MAX_PIN_PAGES;
}

/* @per buffers of a coalesced region, or fewer: as many, back to back
 * from the region's offset, as one registered buffer under the kernel's
 * cap takes. */
static size_t cap_per_region(const struct ufr_plan_params *p, size_t per)
{
	uint64_t by_len = cap_or_default(p->max_buffer_bytes) / p->buf_bytes;
	uint64_t by_pins = (UFR_MAX_PIN_PAGES * UFR_PAGE_BYTES -
			    p->align % UFR_PAGE_BYTES) /
			   p->buf_bytes;
	uint64_t most = by_len < by_pins ? by_len : by_pins;

	return per > most ? (size_t)most : per;
}

/* The folios a group of @n buffers takes, from its folio's start. */
static size_t group_bytes(const struct ufr_plan_params *p, size_t n)
{
	return (p->align + n * p->buf_bytes + p->folio_bytes - 1) /
	       p->folio_bytes * p->folio_bytes;
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

/* @bytes as fio's bs= takes it: 64k, 2m, or bytes. */
static void size_opt(char *buf, size_t len, size_t bytes)
{
	if (bytes && !(bytes & ((1u << 20) - 1)))
		snprintf(buf, len, "%zum", bytes >> 20);
	else if (bytes && !(bytes & 1023))
		snprintf(buf, len, "%zuk", bytes >> 10);
	else
		snprintf(buf, len, "%zu", bytes);
}

/*
 * The smallest folio of the same kind that holds @need bytes: a larger
 * multi-size THP (anonymous memory only), PMD THP, else a 1 GiB hugetlb
 * page (a hugetlbfs mount fixes its own size).
 */
static const char *larger_folio(const struct ufr_plan_params *p, size_t need)
{
	enum ufr_folio f;

	if (p->backing == UFR_BACKING_HUGETLBFS)
		return "reg_hugetlbfs_path on a hugetlbfs mounted with pagesize=1G";
	if (ufr_folio_is_thp(p->folio)) {
		for (f = UFR_FOLIO_16K;
		     p->backing == UFR_BACKING_ANON && f <= UFR_FOLIO_1M; f++)
			if (ufr_folio_bytes(f) >= need)
				return ufr_folio_name(f);
		if (p->folio != UFR_FOLIO_THP && p->thp_bytes >= need)
			return "thp";
	}
	return "1g";
}

/* A buffer that must lie inside one folio and does not fit: the bs that
 * fits, or the folio that holds it. */
static int too_big_for_folio(const struct ufr_plan_params *p,
			     struct ufr_err *err)
{
	size_t need = p->align + p->buf_bytes;
	const char *larger = larger_folio(p, need);
	char bs[32], fits[48] = "mem_align and bs", align[48] = "";

	size_opt(bs, sizeof(bs), p->buf_bytes);
	if (p->align < p->folio_bytes) {
		memcpy(fits, "bs to ", 7);
		size_opt(fits + 6, sizeof(fits) - 6, p->folio_bytes - p->align);
	}
	if (p->align)
		snprintf(align, sizeof(align), " with mem_align=%zu", p->align);
	return ufr_err_set(
		err, -EINVAL,
		"bs=%s: %s places each buffer inside one folio, and%s it does not fit a %zu KiB folio; lower %s or use %s%s",
		bs, ufr_strategy_name(p->strategy), align, p->folio_bytes >> 10,
		fits, strncmp(larger, "reg_", 4) ? "reg_folio=" : "", larger);
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
	if (!ufr_buffer_fits(p->max_buffer_bytes, p->align, p->buf_bytes))
		return ufr_err_set(
			err, -EINVAL,
			"bs=%zu: one registered buffer would be over this kernel's cap of %llu bytes (segments.max_buffer_bytes), which it refuses; lower bs",
			p->buf_bytes, cap_or_default(p->max_buffer_bytes));
	if (ufr_strategy_per_folio(p->strategy) &&
	    p->align + p->buf_bytes > p->folio_bytes)
		return too_big_for_folio(p, err);
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

/*
 * Every strategy places the buffers back to back in groups of @per, each
 * group starting on a folio boundary (plus mem_align):
 * per_page: one group, one registered buffer per io_u, as fio lays them
 * out; per_folio and hugetlb_fast: a group per folio, each buffer wholly
 * inside one, one registered buffer per io_u; coalesced: a group per
 * registered buffer, as few as the kernel's cap on one buffer allows, so
 * none wastes a partial head folio.
 */
int ufr_plan_make(const struct ufr_plan_params *p, struct ufr_plan *plan,
		  struct ufr_err *err)
{
	bool coalesced = p->strategy == UFR_STRAT_COALESCED;
	size_t per = p->nr_bufs, stride, groups, off;
	uint64_t last_folio = UINT64_MAX;
	unsigned int i, r;
	int ret;

	memset(plan, 0, sizeof(*plan));
	ret = check_params(p, err);
	if (ret)
		return ret;
	if (ufr_strategy_per_folio(p->strategy))
		per = (p->folio_bytes - p->align) / p->buf_bytes;
	else if (coalesced)
		per = cap_per_region(p, per);
	groups = (p->nr_bufs + per - 1) / per;
	stride = group_bytes(p, per);
	/* The last group takes only the folios it spans. */
	plan->backing_bytes = (groups - 1) * stride +
			      group_bytes(p, p->nr_bufs - (groups - 1) * per);
	plan->nr_bufs = p->nr_bufs;
	plan->nr_regions = coalesced ? groups : p->nr_bufs;
	plan->regions = calloc(plan->nr_regions, sizeof(*plan->regions));
	plan->bufs = calloc(plan->nr_bufs, sizeof(*plan->bufs));
	if (!plan->regions || !plan->bufs) {
		ufr_plan_free(plan);
		return ufr_err_set(
			err, -ENOMEM,
			"reg_strategy=%s: no memory to plan %u buffers",
			ufr_strategy_name(p->strategy), p->nr_bufs);
	}

	for (i = 0; i < p->nr_bufs; i++) {
		struct ufr_plan_region *reg;

		off = i / per * stride + p->align + i % per * p->buf_bytes;
		r = coalesced ? i / per : i;
		reg = &plan->regions[r];
		if (!reg->len)
			reg->off = off;
		reg->len = off + p->buf_bytes - reg->off;
		plan->bufs[i].off = off;
		plan->bufs[i].region = r;
		if (ufr_folios_spanned(off, p->buf_bytes, p->folio_bytes) > 1)
			plan->seg.straddling++;
	}
	for (r = 0; r < plan->nr_regions; r++)
		ufr_segments_add_range(&plan->seg, UFR_RULES_MULTI_FOLIO,
				       plan->regions[r].off,
				       plan->regions[r].len, p->folio_bytes,
				       &last_folio);
	plan->seg.min_folio_bytes = plan->seg.max_folio_bytes = p->folio_bytes;
	return 0;
}

int ufr_plan_for_config(const struct ufr_config *c, size_t thp_bytes,
			struct ufr_plan *plan, struct ufr_err *err)
{
	struct ufr_plan_params p = {
		.strategy = c->strategy,
		.nr_bufs = c->nr_bufs,
		.buf_bytes = c->buf_bytes,
		.align = c->align,
		.folio_bytes = c->folio_bytes,
		.max_buffer_bytes = c->max_buffer_bytes,
		.folio = c->folio,
		.backing = c->backing,
		.thp_bytes = thp_bytes,
	};

	return ufr_plan_make(&p, plan, err);
}

void ufr_plan_free(struct ufr_plan *plan)
{
	free(plan->regions);
	free(plan->bufs);
	plan->regions = NULL;
	plan->bufs = NULL;
}
