/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_PROBE_H
#define UFR_PROBE_H

/*
 * The second stage: the machine, read once. Everything a job's
 * resolution depends on (THP, multi-size THP and shmem THP switches, the
 * hugetlb pools, NUMA nodes, the hugetlbfs mount, the kernel release) is
 * read into one struct ufr_machine, and the stages after it decide from
 * that snapshot without reading anything themselves, as liburing's
 * io_uring_get_probe() fills a probe that io_uring_opcode_supported()
 * reads. The readers below are pure functions of a snapshot. Also here:
 * what only an open file can answer (O_DIRECT's rules, poll queues),
 * asked when fio opens it, and the hugetlb pool read afresh to explain a
 * mapping the kernel refused.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ufr_config.h"

#define UFR_THP_SYSFS "/sys/kernel/mm/transparent_hugepage"
/* hugetlb page sizes the engine's strategies use: 2 MiB and 1 GiB. */
#define UFR_HUGETLB_SIZES 2
/* THP size directories kept (x86-64 has 8: 16 KiB to 2 MiB). */
#define UFR_MAX_THP_SIZES 16
/* A setting's bracketed word, "always" to "within_size". */
#define UFR_SETTING_LEN 16

/* A hugetlb pool's counters; all -1 when the kernel has no such pool. */
struct ufr_hugetlb_pool {
	size_t page_bytes;
	long total; /* nr_hugepages */
	long free; /* free_hugepages */
	long resv; /* resv_hugepages: free, but promised to other mappings */
};

/* One hugepages-<kb>kB directory of transparent_hugepage: its switches,
 * "" where the kernel has no such file. */
struct ufr_thp_size {
	size_t kb;
	char enabled[UFR_SETTING_LEN];
	char shmem_enabled[UFR_SETTING_LEN];
};

/* reg_hugetlbfs_path as statfs(2) saw it. */
struct ufr_mount {
	const char *path; /* NULL: not asked */
	int err; /* statfs's errno, 0 when it answered */
	bool hugetlbfs; /* its f_type is HUGETLBFS_MAGIC */
	long page_bytes; /* its f_bsize: the mount's page size */
};

/* The machine as one job sees it when it starts. */
struct ufr_machine {
	/* Transparent hugepages: each switch's bracketed setting, "" where
	 * unreadable; the per-size directories in the order readdir gave. */
	char thp_root[256];
	size_t pmd_bytes; /* hpage_pmd_size; 2 MiB when unreadable */
	char thp_enabled[UFR_SETTING_LEN];
	char shmem_enabled[UFR_SETTING_LEN];
	unsigned int nr_thp_sizes;
	struct ufr_thp_size thp_sizes[UFR_MAX_THP_SIZES];
	/* The 2 MiB and 1 GiB hugetlb pools. */
	struct ufr_hugetlb_pool hugetlb[UFR_HUGETLB_SIZES];
	/* NUMA: whether the kernel has it, the highest node, and the nodes
	 * (below UFR_MAX_NODES) that have memory, one bit each. */
	bool numa;
	int max_node;
	uint64_t nodes_with_memory;
	struct ufr_mount mount;
	char release[65]; /* uname -r */
	/* The kernel's length cap on one registered buffer: probed, or by
	 * the release (ufr_max_buffer_for_release()) where the probe could
	 * not decide, and why. */
	unsigned long long max_buffer_bytes;
	bool max_buffer_probed;
	char max_buffer_why[160];
};

/*
 * The kernel's length cap on one registered buffer, asked without pinning
 * a page, once per process: every kernel from 6.1 to 7.3 checks a
 * buffer's length against its cap (-EFAULT up to 7.1, -EINVAL from 7.2)
 * before the check that base + length does not wrap (-EOVERFLOW), and
 * both before pinning. One buffer based on the last page of the address
 * space always wraps, so a length the cap lets through answers -EOVERFLOW
 * and one over it the other error: a bisection over lengths on a
 * throwaway ring finds the cap. Any other answer, or no ring, leaves the
 * release's cap and the reason in @m.
 */
void ufr_buffer_cap_probe(struct ufr_machine *m);

/*
 * The length cap on one registered buffer of a kernel of this release
 * (uname -r) by its version alone: UFR_MAX_REGION_BYTES up to 7.1,
 * UFR_MAX_REGION_BYTES_7_2 from 7.2. The fallback when the probe
 * (ufr_buffer_cap_probe()) cannot ask the kernel.
 */
unsigned long long ufr_max_buffer_for_release(const char *release);

/*
 * Read the machine into @m. @thp_root: the transparent_hugepage directory
 * (NULL: the kernel's, UFR_THP_SYSFS); @hugetlbfs_path: the directory
 * reg_hugetlbfs_path names, or NULL.
 */
void ufr_machine_probe(struct ufr_machine *m, const char *thp_root,
		       const char *hugetlbfs_path);

/* Whether a THP switch's setting @val hands folios to a MADV_HUGEPAGE
 * mapping; a per-size one may inherit the top-level setting @top. */
bool ufr_thp_setting_on(const char *val, const char *top);

/* Whether PMD-sized THP can be had with MADV_HUGEPAGE (enabled is not
 * never). */
static inline bool ufr_machine_thp_on(const struct ufr_machine *m)
{
	return ufr_thp_setting_on(m->thp_enabled, NULL);
}

/* The THP size directory of @kb KiB, or NULL when the kernel has none. */
const struct ufr_thp_size *ufr_machine_thp_size(const struct ufr_machine *m,
						size_t kb);

/* Bytes per folio of @folio on this machine: THP is its PMD size. */
size_t ufr_machine_folio_bytes(const struct ufr_machine *m,
			       enum ufr_folio folio);

/* The pool of @page_bytes pages (counters -1 for a size not kept). */
struct ufr_hugetlb_pool ufr_machine_pool(const struct ufr_machine *m,
					 size_t page_bytes);

/* Free pages of @p that a new mapping can take (free minus those reserved
 * for other mappings); -1 if there is no such pool. */
long ufr_hugetlb_available(const struct ufr_hugetlb_pool *p);

/*
 * -ENOMEM, and the line saying @need pages of @p's size are missing for
 * option @what, with the command that reserves them.
 */
int ufr_hugetlb_shortage(struct ufr_err *err, const char *what,
			 const struct ufr_hugetlb_pool *p, unsigned long need);

/* Read now: a counter ("free_hugepages", "nr_hugepages", ...) of the
 * @page_bytes pool, or -1 if the kernel has no such pool; the whole pool. */
long ufr_hugetlb_count(size_t page_bytes, const char *counter);
void ufr_hugetlb_pool_read(struct ufr_hugetlb_pool *p, size_t page_bytes);

/*
 * Check a job's block sizes and buffer alignment against what O_DIRECT
 * needs on open file @fd (statx STATX_DIOALIGN, Linux 6.1+), so that a
 * misfit is one clear line rather than EINVAL on the first I/O. @bs holds
 * @nr block sizes. Returns 0 when they fit or the kernel does not say.
 */
int ufr_dio_check(int fd, const char *name, const unsigned long long *bs,
		  size_t nr, size_t mem_align, struct ufr_err *err);

/*
 * hipri: polled completions need a block device with poll queues under
 * open file @fd. Fails when its queue says it has none (io_poll 0 in
 * sysfs), rather than at the first I/O, where a polled ring may never see
 * the failed requests complete; 0 when it can, or cannot be told.
 */
int ufr_iopoll_check(int fd, const char *name, struct ufr_err *err);

#endif
