// SPDX-License-Identifier: GPL-2.0-only
/*
 * A job resolved against the machine's snapshot: what the mount, the THP
 * switches, the NUMA nodes and the hugetlb pools allow, reg_strategy=auto,
 * and the plan. Reads nothing but its arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ufr_resolve.h"

/*
 * Append to @fix the write that turns off each THP size above @kb that
 * is on (a fault tries the largest enabled size that fits first), and
 * name it in @larger. Returns how many there are.
 */
static unsigned int larger_thp_on(const struct ufr_machine *m, size_t kb,
				  char *fix, size_t fix_size, char *larger,
				  size_t larger_size)
{
	size_t fixlen = strlen(fix), largelen = 0;
	unsigned int i, n = 0;

	for (i = 0; i < m->nr_thp_sizes; i++) {
		const struct ufr_thp_size *s = &m->thp_sizes[i];

		if (s->kb <= kb ||
		    !ufr_thp_setting_on(s->enabled, m->thp_enabled))
			continue;
		if (fixlen < fix_size)
			fixlen += snprintf(
				fix + fixlen, fix_size - fixlen,
				"%secho never > %s/hugepages-%zukB/enabled",
				fixlen ? "; " : "", m->thp_root, s->kb);
		if (largelen < larger_size)
			largelen += snprintf(larger + largelen,
					     larger_size - largelen,
					     "%s%zu KiB (%s)",
					     largelen ? ", " : "", s->kb,
					     s->enabled);
		n++;
	}
	return n;
}

int ufr_mthp_check(const struct ufr_machine *m, enum ufr_folio folio,
		   struct ufr_err *err)
{
	size_t kb = ufr_folio_bytes(folio) >> 10;
	const struct ufr_thp_size *own = ufr_machine_thp_size(m, kb);
	const char *val = own ? own->enabled : "", *top = m->thp_enabled;
	char path[512], fix[1536] = "", larger[512] = "";
	bool own_on = ufr_thp_setting_on(val, top);

	snprintf(path, sizeof(path), "%s/hugepages-%zukB/enabled", m->thp_root,
		 kb);
	if (!val[0])
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=%s: this kernel has no anonymous %zu KiB THP (%s is missing; multi-size THP came with Linux 6.8); use reg_folio=thp, 2m or 1g",
			ufr_folio_name(folio), kb, path);
	if (!own_on)
		snprintf(fix, sizeof(fix), "echo madvise > %s", path);
	if (!larger_thp_on(m, kb, fix, sizeof(fix), larger, sizeof(larger))) {
		if (own_on)
			return 0;
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=%s: anonymous %zu KiB THP is off (hugepages-%zukB/enabled is %s, top-level enabled is %s), so the kernel would not hand out %zu KiB folios; enable it: %s",
			ufr_folio_name(folio), kb, kb, val, top[0] ? top : "?",
			kb, fix);
	}
	return ufr_err_set(
		err, -EOPNOTSUPP,
		"reg_folio=%s: the kernel would not hand out %zu KiB folios: hugepages-%zukB/enabled is %s and larger sizes, which a fault tries first, are enabled: %s (top-level enabled is %s); write: %s",
		ufr_folio_name(folio), kb, kb, val, larger, top[0] ? top : "?",
		fix);
}

/* Whether the top-level shmem_enabled @top serves PMD-sized folios to a
 * MADV_HUGEPAGE mapping of a file sized in whole folios. */
static bool shmem_top_on(const char *top)
{
	return !strcmp(top, "always") || !strcmp(top, "within_size") ||
	       !strcmp(top, "advise") || !strcmp(top, "force");
}

/*
 * Whether a memfd mapped MAP_SHARED, advised MADV_HUGEPAGE and sized in
 * whole PMD folios gets PMD-sized shmem THP, under the top-level
 * shmem_enabled @top and the PMD size's own shmem_enabled @own ("" where
 * the kernel has none, before Linux 6.11). A memfd's inode is never
 * linked, so the kernel counts its mappings as anonymous shmem, which the
 * per-size switches govern (Linux 6.18 here; backings.sh checks it):
 * deny refuses every size, force serves the inherited sizes only, inherit
 * follows @top, never refuses, and always, advise and within_size (every
 * folio is inside i_size) serve.
 */
static bool shmem_thp_on(const char *top, const char *own)
{
	if (!strcmp(top, "deny"))
		return false;
	if (!own[0] || !strcmp(own, "inherit"))
		return shmem_top_on(top);
	return strcmp(top, "force") && strcmp(own, "never");
}

int ufr_shmem_thp_check(const struct ufr_machine *m, struct ufr_err *err)
{
	size_t kb = m->pmd_bytes >> 10;
	const struct ufr_thp_size *pmd = ufr_machine_thp_size(m, kb);
	const char *top = m->shmem_enabled,
		   *own = pmd ? pmd->shmem_enabled : "";
	char top_path[512], own_path[512], fix[1100] = "", own_said[96] = "";
	bool own_inherits = !own[0] || !strcmp(own, "inherit");

	snprintf(top_path, sizeof(top_path), "%s/shmem_enabled", m->thp_root);
	snprintf(own_path, sizeof(own_path), "%s/hugepages-%zukB/shmem_enabled",
		 m->thp_root, kb);
	if (!top[0])
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=thp: reg_backing=memfd needs shmem THP, which this kernel lacks (%s is missing); use reg_folio=2m or 1g (MFD_HUGETLB), or reg_backing=anon",
			top_path);
	if (shmem_thp_on(top, own))
		return 0;
	/* The fewest writes that serve: the top level where the PMD size
	 * inherits it (or deny overrides all), else the PMD size's own. */
	if (!strcmp(top, "deny") || (own_inherits && !shmem_top_on(top)))
		snprintf(fix, sizeof(fix), "echo advise > %s", top_path);
	if (!strcmp(top, "force") || !strcmp(own, "never"))
		snprintf(fix + strlen(fix), sizeof(fix) - strlen(fix),
			 "%secho %s > %s", fix[0] ? "; " : "",
			 strcmp(top, "force") ? "advise" : "inherit", own_path);
	if (own[0])
		snprintf(own_said, sizeof(own_said),
			 ", hugepages-%zukB/shmem_enabled is %s", kb, own);
	return ufr_err_set(
		err, -EOPNOTSUPP,
		"reg_folio=thp: reg_backing=memfd would get no %zu KiB shmem THP folios: shmem_enabled is %s%s; write: %s (or use reg_folio=2m, MFD_HUGETLB)",
		kb, top, own_said, fix);
}

/* The nodes of @mask, "0,1" ("none" for none). */
static void nodes_list(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;
	int n;

	buf[0] = '\0';
	for (n = 0; n < UFR_MAX_NODES && len + 1 < size; n++)
		if (mask >> n & 1)
			len += snprintf(buf + len, size - len, "%s%d",
					len ? "," : "", n);
	if (!len)
		snprintf(buf, size, "none");
}

int ufr_numa_check_node(const struct ufr_machine *m, int node,
			struct ufr_err *err)
{
	bool exists = node >= 0 && node <= m->max_node;
	char with_mem[8 * UFR_MAX_NODES];

	if (!m->numa)
		return ufr_err_set(
			err, -ENODEV,
			"reg_numa_node=%d: this kernel has no NUMA support; use reg_numa_node=-1",
			node);
	if (exists && node < UFR_MAX_NODES && m->nodes_with_memory >> node & 1)
		return 0;
	nodes_list(m->nodes_with_memory, with_mem, sizeof(with_mem));
	if (exists)
		return ufr_err_set(
			err, -ENODEV,
			"reg_numa_node=%d: no such node with memory (node %d has none, a memoryless node; nodes with memory: %s; see numactl -H); use one of them or -1",
			node, node, with_mem);
	return ufr_err_set(
		err, -ENODEV,
		"reg_numa_node=%d: no such node with memory (nodes 0-%d exist; nodes with memory: %s; see numactl -H); use one of them or -1",
		node, m->max_node, with_mem);
}

/* reg_backing=hugetlbfs: the mount's page size is the folio. */
static int resolve_mount(struct ufr_config *c, const struct ufr_mount *mt,
			 struct ufr_err *err)
{
	static const char give[] =
		"give a directory on a mounted hugetlbfs (mount -t hugetlbfs -o pagesize=2M none DIR)";
	const char *dir = c->hugetlbfs_path;
	long page = mt->page_bytes;

	if (mt->err)
		return ufr_err_set(err, -mt->err,
				   "reg_hugetlbfs_path=%s: %s; %s", dir,
				   strerror(mt->err), give);
	if (!mt->hugetlbfs)
		return ufr_err_set(
			err, -EINVAL,
			"reg_hugetlbfs_path=%s: not on a hugetlbfs mount; give a directory on one (mount -t hugetlbfs -o pagesize=2M none DIR)",
			dir);
	if (page != 2l << 20 && page != 1l << 30)
		return ufr_err_set(
			err, -EINVAL,
			"reg_hugetlbfs_path=%s: its page size is %ld KiB; the engine takes 2 MiB or 1 GiB hugetlbfs mounts (mount -o pagesize=2M or 1G)",
			dir, page >> 10);
	if (c->folio == UFR_FOLIO_DEFAULT && c->strategy != UFR_STRAT_PER_PAGE)
		c->folio = page == 1l << 30 ? UFR_FOLIO_1G : UFR_FOLIO_2M;
	if (c->folio == UFR_FOLIO_DEFAULT || c->folio == UFR_FOLIO_4K)
		return ufr_err_set(
			err, -EINVAL,
			"reg_backing=hugetlbfs: reg_strategy=%s keeps buffers on 4 KiB pages but %s has %ld KiB pages; use reg_strategy=coalesced, per_folio or hugetlb_fast, or reg_backing=memfd",
			ufr_strategy_name(c->strategy), dir, page >> 10);
	if (ufr_folio_is_thp(c->folio) ||
	    ufr_folio_bytes(c->folio) != (size_t)page)
		return ufr_err_set(
			err, -EINVAL,
			"reg_folio=%s: %s is a hugetlbfs of %ld KiB pages; drop reg_folio (the mount's size is taken) or mount one with pagesize=%s",
			ufr_folio_name(c->folio), dir, page >> 10,
			c->folio == UFR_FOLIO_1G ? "1G" : "2M");
	return 0;
}

/*
 * reg_strategy=auto: hugetlb_fast where its plan fits in the free hugetlb
 * pages (that plan is the job's), else coalesced on THP, else per_page.
 */
static void resolve_auto(struct ufr_config *c, const struct ufr_machine *m,
			 struct ufr_plan *plan)
{
	enum ufr_folio folio = c->folio == UFR_FOLIO_1G ? UFR_FOLIO_1G :
							  UFR_FOLIO_2M;
	struct ufr_hugetlb_pool pool =
		ufr_machine_pool(m, ufr_folio_bytes(folio));
	struct ufr_err unused;

	c->strategy = UFR_STRAT_HUGETLB_FAST;
	c->folio = folio;
	c->folio_bytes = ufr_folio_bytes(folio);
	if (!ufr_plan_for_config(c, m->pmd_bytes, plan, &unused)) {
		if (ufr_hugetlb_available(&pool) >=
		    (long)(plan->backing_bytes / c->folio_bytes)) {
			c->auto_reason = "enough free hugetlb pages";
			return;
		}
		ufr_plan_free(plan);
	}
	if (ufr_machine_thp_on(m)) {
		c->strategy = UFR_STRAT_COALESCED;
		c->folio = UFR_FOLIO_THP;
		c->auto_reason = "too few free hugetlb pages; THP is on";
	} else {
		c->strategy = UFR_STRAT_PER_PAGE;
		c->folio = UFR_FOLIO_4K;
		c->auto_reason = "no free hugetlb pages and THP is off";
	}
}

/* What the backing and the node need of the machine; the folio size. */
static int resolve_machine(struct ufr_config *c, const struct ufr_machine *m,
			   struct ufr_plan *plan, struct ufr_err *err)
{
	int ret = 0;

	if (c->backing == UFR_BACKING_HUGETLBFS)
		ret = resolve_mount(c, &m->mount, err);
	if (!ret && c->numa_node >= 0)
		ret = ufr_numa_check_node(m, c->numa_node, err);
	if (ret)
		return ret;
	if (c->strategy == UFR_STRAT_AUTO)
		resolve_auto(c, m, plan);
	c->folio_bytes = ufr_machine_folio_bytes(m, c->folio);
	return 0;
}

/*
 * The plan (a buffer too big for its folio is refused before any switch
 * is named), and the pages it takes: THP switched on for the backing,
 * hugetlb pages free.
 */
static int resolve_memory(struct ufr_config *c, const struct ufr_machine *m,
			  struct ufr_plan *plan, struct ufr_err *err)
{
	struct ufr_hugetlb_pool pool = ufr_machine_pool(m, c->folio_bytes);
	bool hugetlb = c->folio == UFR_FOLIO_2M || c->folio == UFR_FOLIO_1G;
	unsigned long need;
	int ret = 0;

	if (!plan->regions)
		ret = ufr_plan_for_config(c, m->pmd_bytes, plan, err);
	/* Only coalesced and per_folio are left with THP sizes here: the
	 * options refused them to every other strategy. A memfd's shmem
	 * THP has switches of its own. */
	if (!ret && c->backing == UFR_BACKING_MEMFD &&
	    c->folio == UFR_FOLIO_THP)
		ret = ufr_shmem_thp_check(m, err);
	if (!ret && ufr_folio_is_mthp(c->folio))
		ret = ufr_mthp_check(m, c->folio, err);
	if (ret)
		return ret;
	if (c->folio == UFR_FOLIO_THP && c->backing == UFR_BACKING_ANON &&
	    !ufr_machine_thp_on(m))
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=thp: transparent hugepages are off (/sys/kernel/mm/transparent_hugepage/enabled is never); enable them: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
	need = plan->backing_bytes / c->folio_bytes;
	/* Say how many are missing before the kernel just says ENOMEM. */
	if (hugetlb && ufr_hugetlb_available(&pool) < (long)need)
		return ufr_hugetlb_shortage(
			err, ufr_hugetlb_option(c->folio_bytes), &pool, need);
	return 0;
}

int ufr_resolve(struct ufr_config *c, const struct ufr_machine *m,
		struct ufr_plan *plan, struct ufr_err *err)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	c->max_buffer_bytes = m->max_buffer_bytes;
	ret = ufr_config_check(c, err);
	if (!ret)
		ret = resolve_machine(c, m, plan, err);
	if (!ret && !ufr_strategy_uses_fio_memory(c->strategy))
		ret = resolve_memory(c, m, plan, err);
	if (ret)
		ufr_plan_free(plan);
	return ret;
}
