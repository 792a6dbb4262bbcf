/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_RESOLVE_H
#define UFR_RESOLVE_H

/*
 * The job resolved against the machine: after the options (config), the
 * snapshot (probe) and the layout, before any memory is mapped. No I/O:
 * every decision reads struct ufr_machine, so each is unit-tested on
 * machines made up for it. Each setting the machine cannot serve is
 * refused here and nowhere else.
 */
#include "ufr_config.h"
#include "ufr_layout.h"
#include "ufr_probe.h"

/*
 * Check @c's options (ufr_config_check()), then against @m: the hugetlbfs
 * mount (whose page size is the default folio there), the NUMA node;
 * resolve reg_strategy=auto (hugetlb_fast if enough hugetlb pages are
 * free, else coalesced on THP, else per_page) and plan the buffers of an
 * engine-owned strategy into @plan (empty on fio's memory; freed on
 * failure), which refuses a per_folio or hugetlb_fast buffer larger than
 * its folio; then shmem THP for a memfd, multi-size THP, THP itself, free
 * hugetlb pages. On success @c names a concrete strategy and folio, and
 * c->folio_bytes its size.
 */
int ufr_resolve(struct ufr_config *c, const struct ufr_machine *m,
		struct ufr_plan *plan, struct ufr_err *err);

/*
 * Whether the kernel hands out folios of the multi-size THP @folio to an
 * aligned MADV_HUGEPAGE mapping: its size is enabled (always, madvise, or
 * inherit with the top-level setting not never) and no larger size is,
 * which a fault would try first. Otherwise -EOPNOTSUPP and one line with
 * the settings to write; the engine never writes them itself.
 */
int ufr_mthp_check(const struct ufr_machine *m, enum ufr_folio folio,
		   struct ufr_err *err);

/*
 * Whether a memfd mapped MAP_SHARED and advised MADV_HUGEPAGE gets
 * PMD-sized shmem THP folios (reg_backing=memfd reg_folio=thp): the
 * top-level transparent_hugepage/shmem_enabled and, where the kernel has
 * it (Linux 6.11+), the PMD size's hugepages-<N>kB/shmem_enabled, which a
 * memfd's mappings follow as anonymous shmem. Otherwise -EOPNOTSUPP and
 * one line with the settings to write; the engine never writes them.
 */
int ufr_shmem_thp_check(const struct ufr_machine *m, struct ufr_err *err);

/* 0 for a node that exists and has memory, else -ENODEV and why. */
int ufr_numa_check_node(const struct ufr_machine *m, int node,
			struct ufr_err *err);

#endif
