// SPDX-License-Identifier: GPL-2.0-only
/*
 * The options: names, folio sizes, which combine, the fio version guard;
 * and the one-line error every stage reports through. A leaf: no I/O, no
 * call into a later stage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ufr_config.h"

int ufr_err_set(struct ufr_err *err, int errnum, const char *fmt, ...)
{
	static const char prefix[] = "uring_folioreg: ";
	va_list ap;

	snprintf(err->msg, sizeof(err->msg), "%s", prefix);
	va_start(ap, fmt);
	vsnprintf(err->msg + sizeof(prefix) - 1,
		  sizeof(err->msg) - sizeof(prefix) + 1, fmt, ap);
	va_end(ap);
	return errnum;
}

static const char *const strategy_names[] = {
	[UFR_STRAT_IOMEM] = "iomem",
	[UFR_STRAT_NONE] = "none",
	[UFR_STRAT_PER_PAGE] = "per_page",
	[UFR_STRAT_COALESCED] = "coalesced",
	[UFR_STRAT_HUGETLB_FAST] = "hugetlb_fast",
	[UFR_STRAT_AUTO] = "auto",
	[UFR_STRAT_PER_FOLIO] = "per_folio",
};

static const char *const backing_names[] = {
	[UFR_BACKING_ANON] = "anon",
	[UFR_BACKING_MEMFD] = "memfd",
	[UFR_BACKING_HUGETLBFS] = "hugetlbfs",
};

static const char *const folio_names[] = {
	[UFR_FOLIO_DEFAULT] = "default", [UFR_FOLIO_4K] = "4k",
	[UFR_FOLIO_THP] = "thp",	 [UFR_FOLIO_2M] = "2m",
	[UFR_FOLIO_1G] = "1g",		 [UFR_FOLIO_16K] = "16k",
	[UFR_FOLIO_32K] = "32k",	 [UFR_FOLIO_64K] = "64k",
	[UFR_FOLIO_128K] = "128k",	 [UFR_FOLIO_256K] = "256k",
	[UFR_FOLIO_512K] = "512k",	 [UFR_FOLIO_1M] = "1m",
};

const char *ufr_strategy_name(enum ufr_strategy s)
{
	return ufr_enum_name(strategy_names, s);
}

const char *ufr_folio_name(enum ufr_folio folio)
{
	return ufr_enum_name(folio_names, folio);
}

const char *ufr_backing_name(enum ufr_backing_kind kind)
{
	return ufr_enum_name(backing_names, kind);
}

int ufr_fio_version_check(const char *running, const char *built,
			  struct ufr_err *err)
{
	if (running && !strcmp(running, built))
		return 0;
	return ufr_err_set(
		err, -EINVAL,
		"engine %s built for %s but loaded by %s; struct layouts differ, so it will not run. Rebuild it against this fio: make deps && make clean && make (Debian's fio), or make clean && make FIO_SRC=<source tree of %s>",
		UFR_VERSION, built, running ? running : "an unknown fio",
		running ? running : "this fio");
}

size_t ufr_folio_bytes(enum ufr_folio folio)
{
	switch (folio) {
	case UFR_FOLIO_THP:
		return 0;
	case UFR_FOLIO_2M:
		return 2u << 20;
	case UFR_FOLIO_1G:
		return 1u << 30;
	default:
		return ufr_folio_is_mthp(folio) ?
			       (size_t)16384 << (folio - UFR_FOLIO_16K) :
			       4096;
	}
}

static int bad_folio(const struct ufr_config *c, const char *fix,
		     struct ufr_err *err)
{
	return ufr_err_set(err, -EINVAL, "reg_folio=%s: reg_strategy=%s %s",
			   ufr_folio_name(c->folio),
			   ufr_strategy_name(c->strategy), fix);
}

/* What reg_backing and reg_hugetlbfs_path allow, options alone. */
static int check_backing(struct ufr_config *c, struct ufr_err *err)
{
	if (c->backing != UFR_BACKING_HUGETLBFS && c->hugetlbfs_path)
		return ufr_err_set(
			err, -EINVAL,
			"reg_hugetlbfs_path=%s: only reg_backing=hugetlbfs uses it; add reg_backing=hugetlbfs or drop reg_hugetlbfs_path",
			c->hugetlbfs_path);
	if (c->backing == UFR_BACKING_ANON)
		return 0;
	if (ufr_strategy_uses_fio_memory(c->strategy) ||
	    c->strategy == UFR_STRAT_AUTO)
		return ufr_err_set(
			err, -EINVAL,
			"reg_backing=%s: reg_strategy=%s %s; use reg_strategy=per_page, coalesced, per_folio or hugetlb_fast, or drop reg_backing",
			ufr_backing_name(c->backing),
			ufr_strategy_name(c->strategy),
			c->strategy == UFR_STRAT_AUTO ?
				"chooses its memory itself" :
				"runs on fio's memory");
	if (c->backing == UFR_BACKING_HUGETLBFS &&
	    (!c->hugetlbfs_path || !c->hugetlbfs_path[0]))
		return ufr_err_set(
			err, -EINVAL,
			"reg_backing=hugetlbfs: no directory to put the buffer file in; add reg_hugetlbfs_path=DIR, a directory on a mounted hugetlbfs (mount -t hugetlbfs -o pagesize=2M none DIR)");
	if (c->backing != UFR_BACKING_MEMFD)
		return 0;
	if (ufr_folio_is_mthp(c->folio))
		return ufr_err_set(
			err, -EINVAL,
			"reg_folio=%s: reg_backing=memfd serves 4 KiB shmem pages (per_page), PMD-sized shmem THP (reg_folio=thp) or 2 MiB / 1 GiB hugetlb (MFD_HUGETLB); the engine puts multi-size THP in anonymous memory only; use reg_folio=thp, 2m or 1g, or reg_backing=anon",
			ufr_folio_name(c->folio));
	/* coalesced and per_folio on a memfd: MFD_HUGETLB unless thp is
	 * asked for. */
	if (c->folio == UFR_FOLIO_DEFAULT &&
	    (c->strategy == UFR_STRAT_COALESCED ||
	     c->strategy == UFR_STRAT_PER_FOLIO))
		c->folio = UFR_FOLIO_2M;
	return 0;
}

/* Options that need buffers the engine owns, or registers at all. */
static int check_combination(const struct ufr_config *c, struct ufr_err *err)
{
	bool own = !ufr_strategy_uses_fio_memory(c->strategy);

	if (own && c->fio_mem_set)
		return ufr_err_set(
			err, -EINVAL,
			"iomem=: reg_strategy=%s allocates its own buffer memory, so iomem= cannot apply; drop iomem= or use reg_strategy=iomem",
			ufr_strategy_name(c->strategy));
	if (c->rereg && c->strategy == UFR_STRAT_NONE)
		return ufr_err_set(
			err, -EINVAL,
			"rereg_interval: reg_strategy=none registers no buffers, so there is nothing to re-register; drop rereg_interval or choose a strategy");
	if (c->mode == UFR_REG_EACH && c->strategy == UFR_STRAT_NONE)
		return ufr_err_set(
			err, -EINVAL,
			"reg_mode=each: reg_strategy=none registers no buffers, so there is nothing to register one by one; drop reg_mode or choose a strategy");
	if (c->numa_node < -1)
		return ufr_err_set(
			err, -EINVAL,
			"reg_numa_node=%d: not a node; give a node number (see numactl -H) or -1 to leave placement alone",
			c->numa_node);
	if (c->numa_node >= 0 && !own)
		return ufr_err_set(
			err, -EINVAL,
			"reg_numa_node=%d: reg_strategy=%s runs on fio's memory; place it with numa_mem_policy=bind:%d instead",
			c->numa_node, ufr_strategy_name(c->strategy),
			c->numa_node);
	return 0;
}

/* The folio each strategy takes, and its default; on hugetlbfs the
 * mount's page size is the default, set when it is known. */
static int check_folio(struct ufr_config *c, struct ufr_err *err)
{
	bool mount = c->backing == UFR_BACKING_HUGETLBFS;

	switch (c->strategy) {
	case UFR_STRAT_AUTO:
		if (c->folio == UFR_FOLIO_4K || ufr_folio_is_thp(c->folio))
			return bad_folio(
				c,
				"chooses the folio itself; give reg_folio=2m or 1g, or none",
				err);
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
				"keeps buffers on 4 KiB pages; drop reg_folio or use reg_strategy=coalesced, per_folio or hugetlb_fast",
				err);
		c->folio = UFR_FOLIO_4K;
		break;
	case UFR_STRAT_COALESCED:
	case UFR_STRAT_PER_FOLIO:
		if (c->folio == UFR_FOLIO_4K)
			return bad_folio(
				c,
				"needs large folios; use reg_folio=16k to 1m, thp, 2m or 1g, or reg_strategy=per_page",
				err);
		if (c->folio == UFR_FOLIO_DEFAULT && !mount)
			c->folio = UFR_FOLIO_THP;
		break;
	case UFR_STRAT_HUGETLB_FAST:
		if (c->folio == UFR_FOLIO_4K || ufr_folio_is_thp(c->folio))
			return bad_folio(
				c,
				"needs hugetlb folios; use reg_folio=2m or 1g (THP sizes go with reg_strategy=per_folio or coalesced)",
				err);
		if (c->folio == UFR_FOLIO_DEFAULT && !mount)
			c->folio = UFR_FOLIO_2M;
		break;
	}
	return 0;
}

int ufr_config_check(struct ufr_config *c, struct ufr_err *err)
{
	int ret;

	/* fio's io_uring: fixedbufs=0 is plain READ/WRITE on fio's memory. */
	if (c->no_fixedbufs) {
		if (!ufr_strategy_uses_fio_memory(c->strategy))
			return ufr_err_set(
				err, -EINVAL,
				"fixedbufs=0: reg_strategy=%s registers its buffers; drop fixedbufs=0, or use reg_strategy=none",
				ufr_strategy_name(c->strategy));
		c->strategy = UFR_STRAT_NONE;
	}
	ret = check_backing(c, err);

	if (!ret)
		ret = check_combination(c, err);
	if (!ret)
		ret = check_folio(c, err);
	return ret;
}
