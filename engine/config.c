// SPDX-License-Identifier: GPL-2.0-only
/*
 * The options, checked and resolved: names, folio sizes, combinations,
 * reg_strategy=auto, the fio version guard and O_DIRECT's rules; and the
 * one-line error every stage reports through.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <linux/stat.h>

#include "ufr_config.h"
#include "ufr_layout.h"
#include "ufr_memory.h"

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

int ufr_dio_check(int fd, const char *name, const unsigned long long *bs,
		  size_t nr, size_t mem_align, struct ufr_err *err)
{
	struct statx st;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) ||
	    !(st.stx_mask & STATX_DIOALIGN))
		return 0;
	if (!st.stx_dio_offset_align)
		return ufr_err_set(
			err, -EINVAL,
			"direct=1: filename=%s does not support O_DIRECT; use direct=0 or another file system",
			name);
	for (i = 0; i < nr; i++) {
		if (bs[i] % st.stx_dio_offset_align)
			return ufr_err_set(
				err, -EINVAL,
				"bs=%llu: O_DIRECT on filename=%s needs sizes and offsets in multiples of %u bytes; use such a bs (or direct=0)",
				bs[i], name, st.stx_dio_offset_align);
	}
	if (st.stx_dio_mem_align && mem_align % st.stx_dio_mem_align)
		return ufr_err_set(
			err, -EINVAL,
			"mem_align=%zu: O_DIRECT on filename=%s needs buffers aligned to %u bytes; use a multiple of %u",
			mem_align, name, st.stx_dio_mem_align,
			st.stx_dio_mem_align);
	return 0;
}

bool ufr_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok = f && fgets(buf, len, f);

	if (f)
		fclose(f);
	if (!ok)
		buf[0] = '\0';
	return ok;
}

int ufr_iopoll_check(int fd, const char *name, struct ufr_err *err)
{
	char path[96], val[8];
	struct stat st;
	dev_t dev;

	if (fstat(fd, &st))
		return 0;
	dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/io_poll",
		 major(dev), minor(dev));
	/* A partition's queue is its disk's, one directory up. */
	if (!ufr_read_line(path, val, sizeof(val))) {
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/../queue/io_poll", major(dev),
			 minor(dev));
		ufr_read_line(path, val, sizeof(val));
	}
	/* Unreadable (""): hipri may work, the first I/O will tell. */
	if (val[0] != '0')
		return 0;
	return ufr_err_set(
		err, -EOPNOTSUPP,
		"hipri: filename=%s is on a block device without poll queues (%s is 0); give the device poll queues (e.g. nvme.poll_queues=N) or drop hipri",
		name, path);
}

#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage"

size_t ufr_folio_bytes(enum ufr_folio folio)
{
	static size_t pmd_bytes;
	char buf[32];

	switch (folio) {
	case UFR_FOLIO_THP:
		if (!pmd_bytes && ufr_read_line(THP_SYSFS "/hpage_pmd_size",
						buf, sizeof(buf)))
			pmd_bytes = strtoul(buf, NULL, 10);
		return pmd_bytes ? pmd_bytes : 2u << 20;
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

/* The bracketed word of a THP "enabled" file, or "" when unreadable. */
static void thp_setting(const char *path, char out[16])
{
	char buf[128];
	const char *a;

	ufr_read_line(path, buf, sizeof(buf));
	a = strchr(buf, '[');
	if (!a || sscanf(a, "[%15[^]]", out) != 1)
		out[0] = '\0';
}

/* Whether a THP setting hands folios to a MADV_HUGEPAGE mapping; a
 * per-size one may inherit the top-level setting @top. */
static bool thp_on(const char *val, const char *top)
{
	if (!strcmp(val, "always") || !strcmp(val, "madvise"))
		return true;
	return top && !strcmp(val, "inherit") && thp_on(top, NULL);
}

bool ufr_thp_enabled(void)
{
	char val[16];

	thp_setting(THP_SYSFS "/enabled", val);
	return thp_on(val, NULL);
}

int ufr_mthp_check(enum ufr_folio folio, const char *root, struct ufr_err *err)
{
	size_t kb = ufr_folio_bytes(folio) >> 10;
	char path[512], val[16], top[16], fix[1536] = "", larger[512] = "";
	size_t fixlen = 0, largelen = 0;
	bool own_on;
	struct dirent *d;
	DIR *dir;

	if (!root)
		root = THP_SYSFS;
	snprintf(path, sizeof(path), "%s/enabled", root);
	thp_setting(path, top);
	snprintf(path, sizeof(path), "%s/hugepages-%zukB/enabled", root, kb);
	thp_setting(path, val);
	if (!val[0])
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=%s: this kernel has no anonymous %zu KiB THP (%s is missing; multi-size THP came with Linux 6.8); use reg_folio=thp, 2m or 1g",
			ufr_folio_name(folio), kb, path);
	own_on = thp_on(val, top);
	if (!own_on)
		fixlen += snprintf(fix, sizeof(fix), "echo madvise > %s", path);

	/* A fault tries the largest enabled size that fits first. */
	dir = opendir(root);
	while (dir && (d = readdir(dir))) {
		char other[16];
		size_t okb;

		if (sscanf(d->d_name, "hugepages-%zukB", &okb) != 1 ||
		    okb <= kb)
			continue;
		snprintf(path, sizeof(path), "%s/%s/enabled", root, d->d_name);
		thp_setting(path, other);
		if (!thp_on(other, top))
			continue;
		if (fixlen < sizeof(fix))
			fixlen += snprintf(fix + fixlen, sizeof(fix) - fixlen,
					   "%secho never > %s",
					   fixlen ? "; " : "", path);
		if (largelen < sizeof(larger))
			largelen += snprintf(larger + largelen,
					     sizeof(larger) - largelen,
					     "%s%zu KiB (%s)",
					     largelen ? ", " : "", okb, other);
	}
	if (dir)
		closedir(dir);
	if (own_on && !largelen)
		return 0;
	if (!largelen)
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=%s: anonymous %zu KiB THP is off (hugepages-%zukB/enabled is %s, top-level enabled is %s), so the kernel would not hand out %zu KiB folios; enable it: %s",
			ufr_folio_name(folio), kb, kb, val, top[0] ? top : "?",
			kb, fix);
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

int ufr_shmem_thp_check(const char *root, struct ufr_err *err)
{
	size_t kb = ufr_folio_bytes(UFR_FOLIO_THP) >> 10;
	char top_path[512], own_path[512], top[16], own[16], fix[1100] = "";
	char own_said[96] = "";
	bool own_inherits;

	if (!root)
		root = THP_SYSFS;
	snprintf(top_path, sizeof(top_path), "%s/shmem_enabled", root);
	snprintf(own_path, sizeof(own_path), "%s/hugepages-%zukB/shmem_enabled",
		 root, kb);
	thp_setting(top_path, top);
	thp_setting(own_path, own);
	if (!top[0])
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"reg_folio=thp: reg_backing=memfd needs shmem THP, which this kernel lacks (%s is missing); use reg_folio=2m or 1g (MFD_HUGETLB), or reg_backing=anon",
			top_path);
	if (shmem_thp_on(top, own))
		return 0;
	/* The fewest writes that serve: the top level where the PMD size
	 * inherits it (or deny overrides all), else the PMD size's own. */
	own_inherits = !own[0] || !strcmp(own, "inherit");
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

/* Hugetlb pages of @folio that hugetlb_fast would need, or the negative
 * errno of a plan that cannot be made. */
static long hugetlb_fast_need(const struct ufr_config *c, enum ufr_folio folio)
{
	struct ufr_config fast = *c;
	struct ufr_plan plan;
	struct ufr_err err;
	long need;

	fast.strategy = UFR_STRAT_HUGETLB_FAST;
	fast.folio = folio;
	need = ufr_plan_for_config(&fast, &plan, &err);
	if (need)
		return need;
	need = plan.backing_bytes / ufr_folio_bytes(folio);
	ufr_plan_free(&plan);
	return need;
}

static void resolve_auto(struct ufr_config *c)
{
	enum ufr_folio folio = c->folio == UFR_FOLIO_1G ? UFR_FOLIO_1G :
							  UFR_FOLIO_2M;
	size_t page = ufr_folio_bytes(folio);
	long need = hugetlb_fast_need(c, folio);

	if (need > 0 && ufr_hugetlb_available(page) >= need) {
		c->strategy = UFR_STRAT_HUGETLB_FAST;
		c->folio = folio;
		c->auto_reason = "enough free hugetlb pages";
	} else if (ufr_thp_enabled()) {
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
	return ufr_err_set(err, -EINVAL, "reg_folio=%s: reg_strategy=%s %s",
			   ufr_folio_name(c->folio),
			   ufr_strategy_name(c->strategy), fix);
}

/* The folio a shared backing can serve, checked against reg_folio. */
static int resolve_backing(struct ufr_config *c, struct ufr_err *err)
{
	bool hugetlb_strat = c->strategy == UFR_STRAT_HUGETLB_FAST;
	struct statfs st;
	long page;

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
			"reg_backing=%s: reg_strategy=%s %s; use reg_strategy=per_page, coalesced or hugetlb_fast, or drop reg_backing",
			ufr_backing_name(c->backing),
			ufr_strategy_name(c->strategy),
			c->strategy == UFR_STRAT_AUTO ?
				"chooses its memory itself" :
				"runs on fio's memory");
	if (c->backing == UFR_BACKING_MEMFD) {
		if (ufr_folio_is_mthp(c->folio))
			return ufr_err_set(
				err, -EINVAL,
				"reg_folio=%s: reg_backing=memfd serves 4 KiB shmem pages (per_page), PMD-sized shmem THP (reg_folio=thp) or 2 MiB / 1 GiB hugetlb (MFD_HUGETLB); the engine puts multi-size THP in anonymous memory only; use reg_folio=thp, 2m or 1g, or reg_backing=anon",
				ufr_folio_name(c->folio));
		/* coalesced on a memfd: MFD_HUGETLB unless thp is asked for. */
		if (c->folio == UFR_FOLIO_DEFAULT &&
		    c->strategy == UFR_STRAT_COALESCED)
			c->folio = UFR_FOLIO_2M;
		/* Other strategies refuse thp with their own line below. */
		if (c->folio == UFR_FOLIO_THP &&
		    c->strategy == UFR_STRAT_COALESCED)
			return ufr_shmem_thp_check(NULL, err);
		return 0;
	}
	if (!c->hugetlbfs_path || !c->hugetlbfs_path[0])
		return ufr_err_set(
			err, -EINVAL,
			"reg_backing=hugetlbfs: no directory to put the buffer file in; add reg_hugetlbfs_path=DIR, a directory on a mounted hugetlbfs (mount -t hugetlbfs -o pagesize=2M none DIR)");
	if (statfs(c->hugetlbfs_path, &st))
		return ufr_err_set(
			err, -errno,
			"reg_hugetlbfs_path=%s: %s; give a directory on a mounted hugetlbfs (mount -t hugetlbfs -o pagesize=2M none DIR)",
			c->hugetlbfs_path, strerror(errno));
	if ((unsigned long)st.f_type != HUGETLBFS_MAGIC)
		return ufr_err_set(
			err, -EINVAL,
			"reg_hugetlbfs_path=%s: not on a hugetlbfs mount; give a directory on one (mount -t hugetlbfs -o pagesize=2M none DIR)",
			c->hugetlbfs_path);
	page = (long)st.f_bsize;
	if (page != 2l << 20 && page != 1l << 30)
		return ufr_err_set(
			err, -EINVAL,
			"reg_hugetlbfs_path=%s: its page size is %ld KiB; the engine takes 2 MiB or 1 GiB hugetlbfs mounts (mount -o pagesize=2M or 1G)",
			c->hugetlbfs_path, page >> 10);
	if (c->folio == UFR_FOLIO_DEFAULT &&
	    (hugetlb_strat || c->strategy == UFR_STRAT_COALESCED))
		c->folio = page == 1l << 30 ? UFR_FOLIO_1G : UFR_FOLIO_2M;
	if (c->folio == UFR_FOLIO_DEFAULT || c->folio == UFR_FOLIO_4K)
		return ufr_err_set(
			err, -EINVAL,
			"reg_backing=hugetlbfs: reg_strategy=%s keeps buffers on 4 KiB pages but %s has %ld KiB pages; use reg_strategy=coalesced or hugetlb_fast, or reg_backing=memfd",
			ufr_strategy_name(c->strategy), c->hugetlbfs_path,
			page >> 10);
	if (ufr_folio_is_thp(c->folio) ||
	    ufr_folio_bytes(c->folio) != (size_t)page)
		return ufr_err_set(
			err, -EINVAL,
			"reg_folio=%s: %s is a hugetlbfs of %ld KiB pages; drop reg_folio (the mount's size is taken) or mount one with pagesize=%s",
			ufr_folio_name(c->folio), c->hugetlbfs_path, page >> 10,
			c->folio == UFR_FOLIO_1G ? "1G" : "2M");
	return 0;
}

int ufr_config_resolve(struct ufr_config *c, struct ufr_err *err)
{
	bool own = !ufr_strategy_uses_fio_memory(c->strategy);
	int ret;

	ret = resolve_backing(c, err);
	if (ret)
		return ret;

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
	if (c->numa_node >= 0) {
		ret = ufr_numa_check_node(c->numa_node, err);
		if (ret)
			return ret;
		if (!own)
			return ufr_err_set(
				err, -EINVAL,
				"reg_numa_node=%d: reg_strategy=%s runs on fio's memory; place it with numa_mem_policy=bind:%d instead",
				c->numa_node, ufr_strategy_name(c->strategy),
				c->numa_node);
	}

	switch (c->strategy) {
	case UFR_STRAT_AUTO:
		if (c->folio == UFR_FOLIO_4K || ufr_folio_is_thp(c->folio))
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
				"needs large folios; use reg_folio=16k to 1m, thp, 2m or 1g, or reg_strategy=per_page",
				err);
		if (c->folio == UFR_FOLIO_DEFAULT)
			c->folio = UFR_FOLIO_THP;
		if (ufr_folio_is_mthp(c->folio))
			return ufr_mthp_check(c->folio, NULL, err);
		break;
	case UFR_STRAT_HUGETLB_FAST:
		if (c->folio == UFR_FOLIO_4K || ufr_folio_is_thp(c->folio))
			return bad_folio(
				c,
				"needs hugetlb folios; use reg_folio=2m or 1g (THP sizes go with reg_strategy=coalesced)",
				err);
		if (c->folio == UFR_FOLIO_DEFAULT)
			c->folio = UFR_FOLIO_2M;
		break;
	}
	return 0;
}
