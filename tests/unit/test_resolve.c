// SPDX-License-Identifier: GPL-2.0-only
/*
 * A job's resolution on machines made up for it: no 1 GiB pages, THP off,
 * multi-size THP on, two NUMA nodes, a 1 GiB hugetlbfs mount, shmem THP
 * never, reserved hugetlb pages. Every refusal line is checked whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ufr_resolve.h"

#define KIB 1024UL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

static void thp_size(struct ufr_machine *m, size_t kb, const char *enabled,
		     const char *shmem)
{
	struct ufr_thp_size *s = &m->thp_sizes[m->nr_thp_sizes++];

	s->kb = kb;
	snprintf(s->enabled, sizeof(s->enabled), "%s", enabled);
	snprintf(s->shmem_enabled, sizeof(s->shmem_enabled), "%s", shmem);
}

/*
 * An x86-64 machine as Debian sets it up: THP madvise, the mTHP sizes
 * never and the PMD size inherit, shmem THP advise, 64 free 2 MiB hugetlb
 * pages and an empty 1 GiB pool, one NUMA node.
 */
static void machine(struct ufr_machine *m)
{
	static const size_t mthp_kb[] = { 16, 32, 64, 128, 256, 512, 1024 };
	size_t i;

	memset(m, 0, sizeof(*m));
	snprintf(m->thp_root, sizeof(m->thp_root), "%s", THP_DIR);
	m->pmd_bytes = 2 * MIB;
	snprintf(m->thp_enabled, sizeof(m->thp_enabled), "madvise");
	snprintf(m->shmem_enabled, sizeof(m->shmem_enabled), "advise");
	for (i = 0; i < sizeof(mthp_kb) / sizeof(mthp_kb[0]); i++)
		thp_size(m, mthp_kb[i], "never", "never");
	thp_size(m, 2048, "inherit", "inherit");
	m->hugetlb[0] = (struct ufr_hugetlb_pool){ 2 * MIB, 64, 64, 0 };
	m->hugetlb[1] = (struct ufr_hugetlb_pool){ GIB, 0, 0, 0 };
	m->numa = true;
	m->nodes_with_memory = 1;
	snprintf(m->release, sizeof(m->release), "6.18.0");
	m->max_buffer_bytes = GIB;
	m->max_buffer_probed = true;
}

/*
 * A job of 16 buffers of 64 KiB on anonymous memory, no node, with the
 * options given after @f set on top (a later designator wins).
 */
#pragma GCC diagnostic ignored "-Woverride-init"
#define JOB(s, f, ...)                                                     \
	{                                                                  \
		.strategy = s, .folio = f, .numa_node = -1, .nr_bufs = 16, \
		.buf_bytes = 64 * KIB, __VA_ARGS__                         \
	}

static struct ufr_config job(enum ufr_strategy s, enum ufr_folio f)
{
	struct ufr_config c = JOB(s, f);

	return c;
}

/* @c is refused on @m with @ret and exactly the line @msg, no plan kept. */
static void refused(const struct ufr_machine *m, struct ufr_config c, int ret,
		    const char *msg)
{
	struct ufr_plan plan;
	struct ufr_err err;

	assert_int_equal(ufr_resolve(&c, m, &plan, &err), ret);
	assert_string_equal(err.msg, msg);
	assert_null(plan.regions);
	assert_null(plan.bufs);
}

/* @c resolves on @m to strategy @s on folios @f of @bytes; the plan is
 * there for the engine's own memory and its size is whole folios. */
static struct ufr_config resolved(const struct ufr_machine *m,
				  struct ufr_config c, enum ufr_strategy s,
				  enum ufr_folio f, size_t bytes)
{
	struct ufr_plan plan;
	struct ufr_err err = { "" };

	assert_int_equal(ufr_resolve(&c, m, &plan, &err), 0);
	assert_string_equal(err.msg, "");
	assert_int_equal(c.strategy, s);
	assert_int_equal(c.folio, f);
	assert_int_equal(c.folio_bytes, bytes);
	if (ufr_strategy_uses_fio_memory(s)) {
		assert_null(plan.regions);
	} else {
		assert_non_null(plan.regions);
		assert_int_equal(plan.nr_bufs, c.nr_bufs);
		assert_int_equal(plan.backing_bytes % bytes, 0);
	}
	ufr_plan_free(&plan);
	return c;
}

/* The options alone: each combination config.c refuses, and its line. */
static const struct {
	struct ufr_config c;
	const char *msg;
} option_refusals[] = {
	{ JOB(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_DEFAULT,
	      .hugetlbfs_path = "/mnt/h"),
	  "uring_folioreg: reg_hugetlbfs_path=/mnt/h: only reg_backing=hugetlbfs uses it; add reg_backing=hugetlbfs or drop reg_hugetlbfs_path" },
	{ JOB(UFR_STRAT_IOMEM, UFR_FOLIO_DEFAULT, .backing = UFR_BACKING_MEMFD),
	  "uring_folioreg: reg_backing=memfd: reg_strategy=iomem runs on fio's memory; use reg_strategy=per_page, coalesced, per_folio or hugetlb_fast, or drop reg_backing" },
	{ JOB(UFR_STRAT_AUTO, UFR_FOLIO_DEFAULT,
	      .backing = UFR_BACKING_HUGETLBFS),
	  "uring_folioreg: reg_backing=hugetlbfs: reg_strategy=auto chooses its memory itself; use reg_strategy=per_page, coalesced, per_folio or hugetlb_fast, or drop reg_backing" },
	{ JOB(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_DEFAULT,
	      .backing = UFR_BACKING_HUGETLBFS),
	  "uring_folioreg: reg_backing=hugetlbfs: no directory to put the buffer file in; add reg_hugetlbfs_path=DIR, a directory on a mounted hugetlbfs (mount -t hugetlbfs -o pagesize=2M none DIR)" },
	{ JOB(UFR_STRAT_COALESCED, UFR_FOLIO_64K, .backing = UFR_BACKING_MEMFD),
	  "uring_folioreg: reg_folio=64k: reg_backing=memfd serves 4 KiB shmem pages (per_page), PMD-sized shmem THP (reg_folio=thp) or 2 MiB / 1 GiB hugetlb (MFD_HUGETLB); the engine puts multi-size THP in anonymous memory only; use reg_folio=thp, 2m or 1g, or reg_backing=anon" },
	{ JOB(UFR_STRAT_COALESCED, UFR_FOLIO_DEFAULT, .fio_mem_set = true),
	  "uring_folioreg: iomem=: reg_strategy=coalesced allocates its own buffer memory, so iomem= cannot apply; drop iomem= or use reg_strategy=iomem" },
	{ JOB(UFR_STRAT_NONE, UFR_FOLIO_DEFAULT, .rereg = true),
	  "uring_folioreg: rereg_interval: reg_strategy=none registers no buffers, so there is nothing to re-register; drop rereg_interval or choose a strategy" },
	{ JOB(UFR_STRAT_NONE, UFR_FOLIO_DEFAULT, .mode = UFR_REG_EACH),
	  "uring_folioreg: reg_mode=each: reg_strategy=none registers no buffers, so there is nothing to register one by one; drop reg_mode or choose a strategy" },
	{ JOB(UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT, .numa_node = -2),
	  "uring_folioreg: reg_numa_node=-2: not a node; give a node number (see numactl -H) or -1 to leave placement alone" },
	{ JOB(UFR_STRAT_IOMEM, UFR_FOLIO_DEFAULT, .numa_node = 0),
	  "uring_folioreg: reg_numa_node=0: reg_strategy=iomem runs on fio's memory; place it with numa_mem_policy=bind:0 instead" },
	{ JOB(UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT, .no_fixedbufs = true),
	  "uring_folioreg: fixedbufs=0: reg_strategy=per_page registers its buffers; drop fixedbufs=0, or use reg_strategy=none" },
};

static void test_option_refusals(void **state)
{
	struct ufr_machine m;
	struct ufr_config c;
	size_t i;

	(void)state;
	machine(&m);
	for (i = 0; i < sizeof(option_refusals) / sizeof(option_refusals[0]);
	     i++)
		refused(&m, option_refusals[i].c, -EINVAL,
			option_refusals[i].msg);
	c = job(UFR_STRAT_IOMEM, UFR_FOLIO_DEFAULT);
	c.no_fixedbufs = true;
	resolved(&m, c, UFR_STRAT_NONE, UFR_FOLIO_DEFAULT, 4096);
}

/* Which folio each strategy takes. */
static void test_folio_refusals(void **state)
{
	struct ufr_machine m;
	struct ufr_config c;

	(void)state;
	machine(&m);
	refused(&m, job(UFR_STRAT_AUTO, UFR_FOLIO_THP), -EINVAL,
		"uring_folioreg: reg_folio=thp: reg_strategy=auto chooses the folio itself; give reg_folio=2m or 1g, or none");
	refused(&m, job(UFR_STRAT_IOMEM, UFR_FOLIO_1G), -EINVAL,
		"uring_folioreg: reg_folio=1g: reg_strategy=iomem uses fio's memory; choose its pages with iomem=mmaphuge hugepage-size=2m instead");
	refused(&m, job(UFR_STRAT_PER_PAGE, UFR_FOLIO_2M), -EINVAL,
		"uring_folioreg: reg_folio=2m: reg_strategy=per_page keeps buffers on 4 KiB pages; drop reg_folio or use reg_strategy=coalesced, per_folio or hugetlb_fast");
	refused(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_4K), -EINVAL,
		"uring_folioreg: reg_folio=4k: reg_strategy=coalesced needs large folios; use reg_folio=16k to 1m, thp, 2m or 1g, or reg_strategy=per_page");
	refused(&m, job(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_THP), -EINVAL,
		"uring_folioreg: reg_folio=thp: reg_strategy=hugetlb_fast needs hugetlb folios; use reg_folio=2m or 1g (THP sizes go with reg_strategy=per_folio or coalesced)");
	/* The layout's own refusals come through the resolution. */
	c = job(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_2M);
	c.buf_bytes = 4 * MIB;
	refused(&m, c, -EINVAL,
		"uring_folioreg: bs=4m: hugetlb_fast places each buffer inside one folio, and it does not fit a 2048 KiB folio; lower bs to 2m or use reg_folio=1g");
	/* The defaults. */
	resolved(&m, job(UFR_STRAT_IOMEM, UFR_FOLIO_DEFAULT), UFR_STRAT_IOMEM,
		 UFR_FOLIO_DEFAULT, 4096);
	resolved(&m, job(UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT),
		 UFR_STRAT_PER_PAGE, UFR_FOLIO_4K, 4096);
	resolved(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_DEFAULT),
		 UFR_STRAT_COALESCED, UFR_FOLIO_THP, 2 * MIB);
	resolved(&m, job(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_DEFAULT),
		 UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_2M, 2 * MIB);
}

/* Plenty of 2 MiB pages: auto takes hugetlb_fast, and its plan is the
 * job's, made once. */
static void test_auto_enough_hugetlb(void **state)
{
	struct ufr_machine m;
	struct ufr_config c = job(UFR_STRAT_AUTO, UFR_FOLIO_DEFAULT);
	struct ufr_plan plan;
	struct ufr_err err;

	(void)state;
	machine(&m);
	assert_int_equal(ufr_resolve(&c, &m, &plan, &err), 0);
	assert_int_equal(c.strategy, UFR_STRAT_HUGETLB_FAST);
	assert_int_equal(c.folio, UFR_FOLIO_2M);
	assert_string_equal(c.auto_reason, "enough free hugetlb pages");
	assert_int_equal(plan.backing_bytes, 2 * MIB);
	assert_int_equal(plan.nr_regions, 16);
	ufr_plan_free(&plan);
}

/* The regions of a 1.5 GiB coalesced THP pool on @m. */
static unsigned int pool_regions(const struct ufr_machine *m)
{
	struct ufr_config c = JOB(UFR_STRAT_COALESCED, UFR_FOLIO_THP,
				  .nr_bufs = 1536, .buf_bytes = MIB);
	struct ufr_plan plan;
	struct ufr_err err;
	unsigned int n;

	assert_int_equal(ufr_resolve(&c, m, &plan, &err), 0);
	assert_int_equal(plan.seg.bvecs, 768);
	n = plan.nr_regions;
	ufr_plan_free(&plan);
	return n;
}

/* The kernel's cap on one buffer decides the regions and refusals. */
static void test_buffer_cap(void **state)
{
	struct ufr_machine m;

	(void)state;
	machine(&m);
	assert_int_equal(pool_regions(&m), 2);
	refused(&m,
		(struct ufr_config)JOB(UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT,
				       .nr_bufs = 1, .buf_bytes = 2 * GIB),
		-EINVAL,
		"uring_folioreg: bs=2147483648: one registered buffer would be over this kernel's cap of 1073741824 bytes (segments.max_buffer_bytes), which it refuses; lower bs");
	/* Linux 7.2 on: 1 TiB. */
	m.max_buffer_bytes = 1024 * GIB;
	assert_int_equal(pool_regions(&m), 1);
	resolved(&m,
		 (struct ufr_config)JOB(UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT,
					.nr_bufs = 1, .buf_bytes = 2 * GIB),
		 UFR_STRAT_PER_PAGE, UFR_FOLIO_4K, 4096);
	/* A made-up 768 MiB cap: 768 + 768 MiB. */
	m.max_buffer_bytes = 768 * MIB;
	assert_int_equal(pool_regions(&m), 2);
	m.max_buffer_bytes = 700 * MIB;
	assert_int_equal(pool_regions(&m), 3);
}

/* The fallback where the probe cannot ask: the release's cap. */
static void test_buffer_cap_by_release(void **state)
{
	static const struct {
		const char *release;
		unsigned long long cap;
	} rows[] = {
		{ "6.1.0-40-amd64", GIB },
		{ "6.12.57+deb13-amd64", GIB },
		{ "6.18.44-fc-v1272", GIB },
		{ "7.1.9", GIB },
		{ "7.2.13+deb14-amd64", 1024 * GIB },
		{ "7.3.0-rc7-amd64", 1024 * GIB },
		{ "8.0", 1024 * GIB },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(ufr_max_buffer_for_release(rows[i].release),
				 rows[i].cap);
}

/* No 1 GiB pages (no pdpe1gb: the kernel has no such pool). */
static void test_no_1g_pages(void **state)
{
	struct ufr_machine m;
	struct ufr_config c;

	(void)state;
	machine(&m);
	m.hugetlb[1] = (struct ufr_hugetlb_pool){ GIB, -1, -1, -1 };
	refused(&m, job(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_1G), -ENOMEM,
		"uring_folioreg: reg_folio=1g: this kernel has no 1048576 KiB hugetlb pages; use another page size");
	c = resolved(&m, job(UFR_STRAT_AUTO, UFR_FOLIO_1G), UFR_STRAT_COALESCED,
		     UFR_FOLIO_THP, 2 * MIB);
	assert_string_equal(c.auto_reason,
			    "too few free hugetlb pages; THP is on");
}

/* THP off: refused for coalesced here, not at map time; auto falls to
 * per_page; a memfd's shmem THP has switches of its own. */
static void test_thp_off(void **state)
{
	struct ufr_machine m;
	struct ufr_config c;

	(void)state;
	machine(&m);
	snprintf(m.thp_enabled, sizeof(m.thp_enabled), "never");
	m.hugetlb[0].free = 0;
	refused(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_DEFAULT), -EOPNOTSUPP,
		"uring_folioreg: reg_folio=thp: transparent hugepages are off (/sys/kernel/mm/transparent_hugepage/enabled is never); enable them: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
	c = resolved(&m, job(UFR_STRAT_AUTO, UFR_FOLIO_DEFAULT),
		     UFR_STRAT_PER_PAGE, UFR_FOLIO_4K, 4096);
	assert_string_equal(c.auto_reason,
			    "no free hugetlb pages and THP is off");
	c = job(UFR_STRAT_COALESCED, UFR_FOLIO_THP);
	c.backing = UFR_BACKING_MEMFD;
	resolved(&m, c, UFR_STRAT_COALESCED, UFR_FOLIO_THP, 2 * MIB);
}

/* Multi-size THP: served when its size is on and no larger one is. */
static void test_mthp(void **state)
{
	struct ufr_machine m;

	(void)state;
	machine(&m);
	refused(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_64K), -EOPNOTSUPP,
		"uring_folioreg: reg_folio=64k: the kernel would not hand out 64 KiB folios: hugepages-64kB/enabled is never and larger sizes, which a fault tries first, are enabled: 2048 KiB (inherit) (top-level enabled is madvise); write: echo madvise > " THP_DIR
		"/hugepages-64kB/enabled; echo never > " THP_DIR
		"/hugepages-2048kB/enabled");
	snprintf(m.thp_sizes[7].enabled, UFR_SETTING_LEN, "never");
	refused(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_64K), -EOPNOTSUPP,
		"uring_folioreg: reg_folio=64k: anonymous 64 KiB THP is off (hugepages-64kB/enabled is never, top-level enabled is madvise), so the kernel would not hand out 64 KiB folios; enable it: echo madvise > " THP_DIR
		"/hugepages-64kB/enabled");
	snprintf(m.thp_sizes[2].enabled, UFR_SETTING_LEN, "madvise");
	resolved(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_64K),
		 UFR_STRAT_COALESCED, UFR_FOLIO_64K, 64 * KIB);
	/* Before Linux 6.8: no per-size directories. */
	m.nr_thp_sizes = 0;
	refused(&m, job(UFR_STRAT_COALESCED, UFR_FOLIO_64K), -EOPNOTSUPP,
		"uring_folioreg: reg_folio=64k: this kernel has no anonymous 64 KiB THP (" THP_DIR
		"/hugepages-64kB/enabled is missing; multi-size THP came with Linux 6.8); use reg_folio=thp, 2m or 1g");
}

/* Two NUMA nodes, then the second without memory, then no NUMA. */
static void test_numa(void **state)
{
	struct ufr_machine m;
	struct ufr_config c = job(UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT);

	(void)state;
	machine(&m);
	m.max_node = 1;
	m.nodes_with_memory = 3;
	c.numa_node = 1;
	resolved(&m, c, UFR_STRAT_PER_PAGE, UFR_FOLIO_4K, 4096);
	c.numa_node = 2;
	refused(&m, c, -ENODEV,
		"uring_folioreg: reg_numa_node=2: no such node with memory (nodes 0-1 exist; nodes with memory: 0,1; see numactl -H); use one of them or -1");
	m.nodes_with_memory = 1;
	c.numa_node = 1;
	refused(&m, c, -ENODEV,
		"uring_folioreg: reg_numa_node=1: no such node with memory (node 1 has none, a memoryless node; nodes with memory: 0; see numactl -H); use one of them or -1");
	m.numa = false;
	c.numa_node = 0;
	refused(&m, c, -ENODEV,
		"uring_folioreg: reg_numa_node=0: this kernel has no NUMA support; use reg_numa_node=-1");
}

/* reg_backing=hugetlbfs at @path on a mount of @page bytes. */
static struct ufr_config on_mount(struct ufr_machine *m, const char *path,
				  long page, enum ufr_strategy s,
				  enum ufr_folio f)
{
	struct ufr_config c = job(s, f);

	c.backing = UFR_BACKING_HUGETLBFS;
	c.hugetlbfs_path = path;
	m->mount = (struct ufr_mount){ path, 0, true, page };
	return c;
}

/* A 1 GiB hugetlbfs mount: its page size is the folio. */
static void test_1g_hugetlbfs_mount(void **state)
{
	const char *d = "/mnt/huge1g";
	struct ufr_machine m;

	(void)state;
	machine(&m);
	m.hugetlb[1] = (struct ufr_hugetlb_pool){ GIB, 4, 4, 0 };
	resolved(&m,
		 on_mount(&m, d, GIB, UFR_STRAT_HUGETLB_FAST,
			  UFR_FOLIO_DEFAULT),
		 UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_1G, GIB);
	resolved(&m,
		 on_mount(&m, d, GIB, UFR_STRAT_COALESCED, UFR_FOLIO_DEFAULT),
		 UFR_STRAT_COALESCED, UFR_FOLIO_1G, GIB);
	refused(&m, on_mount(&m, d, GIB, UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_2M),
		-EINVAL,
		"uring_folioreg: reg_folio=2m: /mnt/huge1g is a hugetlbfs of 1048576 KiB pages; drop reg_folio (the mount's size is taken) or mount one with pagesize=2M");
	refused(&m, on_mount(&m, d, GIB, UFR_STRAT_COALESCED, UFR_FOLIO_64K),
		-EINVAL,
		"uring_folioreg: reg_folio=64k: /mnt/huge1g is a hugetlbfs of 1048576 KiB pages; drop reg_folio (the mount's size is taken) or mount one with pagesize=2M");
	refused(&m, on_mount(&m, d, GIB, UFR_STRAT_PER_PAGE, UFR_FOLIO_DEFAULT),
		-EINVAL,
		"uring_folioreg: reg_backing=hugetlbfs: reg_strategy=per_page keeps buffers on 4 KiB pages but /mnt/huge1g has 1048576 KiB pages; use reg_strategy=coalesced, per_folio or hugetlb_fast, or reg_backing=memfd");
	m.hugetlb[1].free = 0;
	refused(&m,
		on_mount(&m, d, GIB, UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_DEFAULT),
		-ENOMEM,
		"uring_folioreg: reg_folio=1g: needs 1 hugetlb pages of 1048576 KiB, 0 are free; reserve more: echo 5 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
}

/* Directories that are no hugetlbfs mount the engine takes. */
static void test_not_a_mount(void **state)
{
	struct ufr_machine m;
	struct ufr_config c;

	(void)state;
	machine(&m);
	c = on_mount(&m, "/tmp", 4096, UFR_STRAT_HUGETLB_FAST,
		     UFR_FOLIO_DEFAULT);
	m.mount.hugetlbfs = false;
	refused(&m, c, -EINVAL,
		"uring_folioreg: reg_hugetlbfs_path=/tmp: not on a hugetlbfs mount; give a directory on one (mount -t hugetlbfs -o pagesize=2M none DIR)");
	m.mount.err = ENOENT;
	refused(&m, c, -ENOENT,
		"uring_folioreg: reg_hugetlbfs_path=/tmp: No such file or directory; give a directory on a mounted hugetlbfs (mount -t hugetlbfs -o pagesize=2M none DIR)");
	c = on_mount(&m, "/mnt/h", 64 * KIB, UFR_STRAT_COALESCED,
		     UFR_FOLIO_DEFAULT);
	refused(&m, c, -EINVAL,
		"uring_folioreg: reg_hugetlbfs_path=/mnt/h: its page size is 64 KiB; the engine takes 2 MiB or 1 GiB hugetlbfs mounts (mount -o pagesize=2M or 1G)");
}

/* shmem THP never for a memfd, then a kernel without shmem THP; a memfd
 * left to coalesced takes hugetlb (MFD_HUGETLB) whatever they say. */
static void test_shmem_thp_never(void **state)
{
	struct ufr_machine m;
	struct ufr_config c = job(UFR_STRAT_COALESCED, UFR_FOLIO_THP);

	(void)state;
	machine(&m);
	c.backing = UFR_BACKING_MEMFD;
	snprintf(m.shmem_enabled, sizeof(m.shmem_enabled), "never");
	refused(&m, c, -EOPNOTSUPP,
		"uring_folioreg: reg_folio=thp: reg_backing=memfd would get no 2048 KiB shmem THP folios: shmem_enabled is never, hugepages-2048kB/shmem_enabled is inherit; write: echo advise > " THP_DIR
		"/shmem_enabled (or use reg_folio=2m, MFD_HUGETLB)");
	m.shmem_enabled[0] = '\0';
	refused(&m, c, -EOPNOTSUPP,
		"uring_folioreg: reg_folio=thp: reg_backing=memfd needs shmem THP, which this kernel lacks (" THP_DIR
		"/shmem_enabled is missing); use reg_folio=2m or 1g (MFD_HUGETLB), or reg_backing=anon");
	c.folio = UFR_FOLIO_DEFAULT;
	resolved(&m, c, UFR_STRAT_COALESCED, UFR_FOLIO_2M, 2 * MIB);
}

/* Free 2 MiB pages that other mappings have reserved do not count. */
static void test_reserved_hugetlb(void **state)
{
	struct ufr_machine m;
	struct ufr_config c = job(UFR_STRAT_HUGETLB_FAST, UFR_FOLIO_2M);

	(void)state;
	machine(&m);
	m.hugetlb[0] = (struct ufr_hugetlb_pool){ 2 * MIB, 8, 8, 6 };
	c.buf_bytes = MIB;
	refused(&m, c, -ENOMEM,
		"uring_folioreg: reg_folio=2m: needs 8 hugetlb pages of 2048 KiB, 8 are free but 6 of them are reserved by other mappings; reserve more: echo 14 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
	c = job(UFR_STRAT_AUTO, UFR_FOLIO_DEFAULT);
	c.buf_bytes = MIB;
	c = resolved(&m, c, UFR_STRAT_COALESCED, UFR_FOLIO_THP, 2 * MIB);
	assert_string_equal(c.auto_reason,
			    "too few free hugetlb pages; THP is on");
}

/* The plan of @c resolved on @m is one buffer per io_u, each inside one
 * folio of @bytes, @per to a folio. */
static void one_per_folio(const struct ufr_machine *m, struct ufr_config c,
			  enum ufr_folio f, size_t bytes, unsigned int per)
{
	struct ufr_plan plan;
	struct ufr_err err = { "" };
	unsigned int i;

	assert_int_equal(ufr_resolve(&c, m, &plan, &err), 0);
	assert_string_equal(err.msg, "");
	assert_int_equal(c.strategy, UFR_STRAT_PER_FOLIO);
	assert_int_equal(c.folio, f);
	assert_int_equal(c.folio_bytes, bytes);
	assert_int_equal(plan.nr_regions, c.nr_bufs);
	assert_int_equal(plan.seg.bvecs, c.nr_bufs);
	assert_int_equal(plan.seg.straddling, 0);
	assert_int_equal(plan.seg.folios, (c.nr_bufs + per - 1) / per);
	assert_int_equal(plan.backing_bytes, plan.seg.folios * bytes);
	for (i = 0; i < plan.nr_bufs; i++)
		assert_int_equal(plan.bufs[i].off / bytes,
				 (plan.bufs[i].off + c.buf_bytes - 1) / bytes);
	ufr_plan_free(&plan);
}

/* per_folio: every large folio the backing can have, one buffer per io_u
 * inside one folio; refused where the folio is smaller than the buffer or
 * the backing cannot have it. */
static void test_per_folio(void **state)
{
	const char *d = "/mnt/huge2m";
	struct ufr_machine m;
	struct ufr_config c;

	(void)state;
	machine(&m);
	m.hugetlb[1] = (struct ufr_hugetlb_pool){ GIB, 2, 2, 0 };
	/* Accepted: THP (the default), 2 MiB and 1 GiB hugetlb. */
	one_per_folio(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_DEFAULT),
		      UFR_FOLIO_THP, 2 * MIB, 32);
	one_per_folio(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_2M), UFR_FOLIO_2M,
		      2 * MIB, 32);
	one_per_folio(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_1G), UFR_FOLIO_1G,
		      GIB, 16384);
	/* A memfd: MFD_HUGETLB by default, shmem THP when asked. */
	c = job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_DEFAULT);
	c.backing = UFR_BACKING_MEMFD;
	one_per_folio(&m, c, UFR_FOLIO_2M, 2 * MIB, 32);
	c.folio = UFR_FOLIO_THP;
	one_per_folio(&m, c, UFR_FOLIO_THP, 2 * MIB, 32);
	/* A hugetlbfs mount's page size. */
	one_per_folio(&m,
		      on_mount(&m, d, 2 * MIB, UFR_STRAT_PER_FOLIO,
			       UFR_FOLIO_DEFAULT),
		      UFR_FOLIO_2M, 2 * MIB, 32);
	/* Multi-size THP: 64 KiB buffers one to a 64 KiB folio. */
	snprintf(m.thp_sizes[2].enabled, UFR_SETTING_LEN, "madvise");
	snprintf(m.thp_sizes[7].enabled, UFR_SETTING_LEN, "never");
	one_per_folio(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_64K),
		      UFR_FOLIO_64K, 64 * KIB, 1);
	/* Refused: the folio smaller than the buffer, each with the bs
	 * that fits and the next folio of its kind. */
	snprintf(m.thp_sizes[0].enabled, UFR_SETTING_LEN, "madvise");
	snprintf(m.thp_sizes[2].enabled, UFR_SETTING_LEN, "never");
	refused(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_16K), -EINVAL,
		"uring_folioreg: bs=64k: per_folio places each buffer inside one folio, and it does not fit a 16 KiB folio; lower bs to 16k or use reg_folio=64k");
	snprintf(m.thp_sizes[0].enabled, UFR_SETTING_LEN, "never");
	snprintf(m.thp_sizes[6].enabled, UFR_SETTING_LEN, "madvise");
	c = job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_1M);
	c.buf_bytes = 2 * MIB;
	refused(&m, c, -EINVAL,
		"uring_folioreg: bs=2m: per_folio places each buffer inside one folio, and it does not fit a 1024 KiB folio; lower bs to 1m or use reg_folio=thp");
	c = job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_THP);
	c.buf_bytes = 4 * MIB;
	refused(&m, c, -EINVAL,
		"uring_folioreg: bs=4m: per_folio places each buffer inside one folio, and it does not fit a 2048 KiB folio; lower bs to 2m or use reg_folio=1g");
	c.backing = UFR_BACKING_MEMFD;
	refused(&m, c, -EINVAL,
		"uring_folioreg: bs=4m: per_folio places each buffer inside one folio, and it does not fit a 2048 KiB folio; lower bs to 2m or use reg_folio=1g");
	c = job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_2M);
	c.buf_bytes = 2 * MIB;
	c.align = 512;
	refused(&m, c, -EINVAL,
		"uring_folioreg: bs=2m: per_folio places each buffer inside one folio, and with mem_align=512 it does not fit a 2048 KiB folio; lower bs to 2096640 or use reg_folio=1g");
	c = on_mount(&m, d, 2 * MIB, UFR_STRAT_PER_FOLIO, UFR_FOLIO_DEFAULT);
	c.buf_bytes = 3 * MIB;
	refused(&m, c, -EINVAL,
		"uring_folioreg: bs=3m: per_folio places each buffer inside one folio, and it does not fit a 2048 KiB folio; lower bs to 2m or use reg_hugetlbfs_path on a hugetlbfs mounted with pagesize=1G");
	/* Refused: what the options or the machine cannot give. */
	snprintf(m.thp_sizes[6].enabled, UFR_SETTING_LEN, "never");
	refused(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_4K), -EINVAL,
		"uring_folioreg: reg_folio=4k: reg_strategy=per_folio needs large folios; use reg_folio=16k to 1m, thp, 2m or 1g, or reg_strategy=per_page");
	c = job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_64K);
	c.backing = UFR_BACKING_MEMFD;
	refused(&m, c, -EINVAL,
		"uring_folioreg: reg_folio=64k: reg_backing=memfd serves 4 KiB shmem pages (per_page), PMD-sized shmem THP (reg_folio=thp) or 2 MiB / 1 GiB hugetlb (MFD_HUGETLB); the engine puts multi-size THP in anonymous memory only; use reg_folio=thp, 2m or 1g, or reg_backing=anon");
	refused(&m,
		on_mount(&m, d, 2 * MIB, UFR_STRAT_PER_FOLIO, UFR_FOLIO_THP),
		-EINVAL,
		"uring_folioreg: reg_folio=thp: /mnt/huge2m is a hugetlbfs of 2048 KiB pages; drop reg_folio (the mount's size is taken) or mount one with pagesize=2M");
	refused(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_64K), -EOPNOTSUPP,
		"uring_folioreg: reg_folio=64k: anonymous 64 KiB THP is off (hugepages-64kB/enabled is never, top-level enabled is madvise), so the kernel would not hand out 64 KiB folios; enable it: echo madvise > " THP_DIR
		"/hugepages-64kB/enabled");
	c = job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_THP);
	c.backing = UFR_BACKING_MEMFD;
	snprintf(m.shmem_enabled, sizeof(m.shmem_enabled), "never");
	refused(&m, c, -EOPNOTSUPP,
		"uring_folioreg: reg_folio=thp: reg_backing=memfd would get no 2048 KiB shmem THP folios: shmem_enabled is never, hugepages-2048kB/shmem_enabled is inherit; write: echo advise > " THP_DIR
		"/shmem_enabled (or use reg_folio=2m, MFD_HUGETLB)");
	snprintf(m.thp_enabled, sizeof(m.thp_enabled), "never");
	refused(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_THP), -EOPNOTSUPP,
		"uring_folioreg: reg_folio=thp: transparent hugepages are off (/sys/kernel/mm/transparent_hugepage/enabled is never); enable them: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
	m.hugetlb[1] = (struct ufr_hugetlb_pool){ GIB, -1, -1, -1 };
	refused(&m, job(UFR_STRAT_PER_FOLIO, UFR_FOLIO_1G), -ENOMEM,
		"uring_folioreg: reg_folio=1g: this kernel has no 1048576 KiB hugetlb pages; use another page size");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_refusals),
		cmocka_unit_test(test_buffer_cap),
		cmocka_unit_test(test_buffer_cap_by_release),
		cmocka_unit_test(test_folio_refusals),
		cmocka_unit_test(test_auto_enough_hugetlb),
		cmocka_unit_test(test_no_1g_pages),
		cmocka_unit_test(test_thp_off),
		cmocka_unit_test(test_mthp),
		cmocka_unit_test(test_numa),
		cmocka_unit_test(test_1g_hugetlbfs_mount),
		cmocka_unit_test(test_not_a_mount),
		cmocka_unit_test(test_shmem_thp_never),
		cmocka_unit_test(test_reserved_hugetlb),
		cmocka_unit_test(test_per_folio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
