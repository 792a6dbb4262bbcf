// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ufr_config.h"
#include "ufr_hugetlb.h"
#include "ufr_numa.h"
#include "ufr_plan.h"

static bool thp_available(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] && !strstr(buf, "[never]");
}

/* Hugetlb pages of the folio size that hugetlb_fast would need. */
static long hugetlb_fast_need(const struct ufr_config *c, enum ufr_folio folio)
{
	struct ufr_plan_params p = {
		.strategy = UFR_STRAT_HUGETLB_FAST,
		.nr_bufs = c->nr_bufs,
		.buf_bytes = c->buf_bytes,
		.align = c->align,
		.folio_bytes = ufr_folio_bytes(folio),
	};
	struct ufr_plan plan;
	struct ufr_err err;
	long need;

	if (ufr_plan_make(&p, &plan, &err))
		return -1;
	need = plan.backing_bytes / p.folio_bytes;
	ufr_plan_free(&plan);
	return need;
}

static void resolve_auto(struct ufr_config *c)
{
	enum ufr_folio folio = c->folio == UFR_FOLIO_1G ? UFR_FOLIO_1G :
							  UFR_FOLIO_2M;
	size_t page = ufr_folio_bytes(folio);
	long need = hugetlb_fast_need(c, folio);
	long free = ufr_hugetlb_count(page, "free_hugepages");
	long resv = ufr_hugetlb_count(page, "resv_hugepages");

	if (need > 0 && free - (resv > 0 ? resv : 0) >= need) {
		c->strategy = UFR_STRAT_HUGETLB_FAST;
		c->folio = folio;
		c->auto_reason = "enough free hugetlb pages";
	} else if (thp_available()) {
		c->strategy = UFR_STRAT_COALESCED;
		c->folio = UFR_FOLIO_THP;
		c->auto_reason = "too few free hugetlb pages; THP is on";
	} else {
		c->strategy = UFR_STRAT_PER_PAGE;
		c->folio = UFR_FOLIO_4K;
		c->auto_reason = "no free hugetlb pages and THP is off";
	}
}

static int bad_folio(const struct ufr_config *c, const char *fix,
		     struct ufr_err *err)
{
	return ufr_err_set(err, EINVAL, "reg_folio=%s: reg_strategy=%s %s",
			   ufr_folio_name(c->folio),
			   ufr_strategy_name(c->strategy), fix);
}

int ufr_config_resolve(struct ufr_config *c, struct ufr_err *err)
{
	bool own = !ufr_strategy_uses_fio_memory(c->strategy);
	int ret;

	if (own && c->fio_mem_set)
		return ufr_err_set(
			err, EINVAL,
			"iomem=: reg_strategy=%s allocates its own buffer memory, so iomem= cannot apply; drop iomem= or use reg_strategy=iomem",
			ufr_strategy_name(c->strategy));
	if (c->rereg && c->strategy == UFR_STRAT_NONE)
		return ufr_err_set(
			err, EINVAL,
			"rereg_interval: reg_strategy=none registers no buffers, so there is nothing to re-register; drop rereg_interval or choose a strategy");
	if (c->mode == UFR_REG_EACH && c->strategy == UFR_STRAT_NONE)
		return ufr_err_set(
			err, EINVAL,
			"reg_mode=each: reg_strategy=none registers no buffers, so there is nothing to register one by one; drop reg_mode or choose a strategy");
	if (c->numa_node < -1)
		return ufr_err_set(
			err, EINVAL,
			"reg_numa_node=%d: not a node; give a node number (see numactl -H) or -1 to leave placement alone",
			c->numa_node);
	if (c->numa_node >= 0) {
		ret = ufr_numa_check_node(c->numa_node, err);
		if (ret)
			return ret;
		if (!own)
			return ufr_err_set(
				err, EINVAL,
				"reg_numa_node=%d: reg_strategy=%s runs on fio's memory; place it with numa_mem_policy=bind:%d instead",
				c->numa_node, ufr_strategy_name(c->strategy),
				c->numa_node);
	}

	switch (c->strategy) {
	case UFR_STRAT_AUTO:
		if (c->folio == UFR_FOLIO_4K || c->folio == UFR_FOLIO_THP)
			return bad_folio(
				c,
				"chooses the folio itself; give reg_folio=2m or 1g, or none",
				err);
		resolve_auto(c);
		break;
	case UFR_STRAT_IOMEM:
	case UFR_STRAT_NONE:
		if (c->folio != UFR_FOLIO_DEFAULT)
			return bad_folio(
				c,
				"uses fio's memory; choose its pages with iomem=mmaphuge hugepage-size=2m instead",
				err);
		break;
	case UFR_STRAT_PER_PAGE:
		if (c->folio != UFR_FOLIO_DEFAULT && c->folio != UFR_FOLIO_4K)
			return bad_folio(
				c,
				"keeps buffers on 4 KiB pages; drop reg_folio or use reg_strategy=coalesced or hugetlb_fast",
				err);
		c->folio = UFR_FOLIO_4K;
		break;
	case UFR_STRAT_COALESCED:
		if (c->folio == UFR_FOLIO_4K)
			return bad_folio(
				c,
				"needs large folios; use reg_folio=thp, 2m or 1g, or reg_strategy=per_page",
				err);
		if (c->folio == UFR_FOLIO_DEFAULT)
			c->folio = UFR_FOLIO_THP;
		break;
	case UFR_STRAT_HUGETLB_FAST:
		if (c->folio == UFR_FOLIO_4K || c->folio == UFR_FOLIO_THP)
			return bad_folio(
				c,
				"needs hugetlb folios; use reg_folio=2m or 1g",
				err);
		if (c->folio == UFR_FOLIO_DEFAULT)
			c->folio = UFR_FOLIO_2M;
		break;
	}
	return 0;
}
