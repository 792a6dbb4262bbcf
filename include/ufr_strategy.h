/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_STRATEGY_H
#define UFR_STRATEGY_H

#include <stdbool.h>

/* How buffers are laid out, backed and registered (SPEC.md, Options). */
enum ufr_strategy {
	UFR_STRAT_IOMEM, /* fio's memory, one buffer per io_u */
	UFR_STRAT_NONE, /* no fixed buffers: plain READ/WRITE */
	UFR_STRAT_PER_PAGE, /* 4 KiB pages, one buffer per io_u */
	UFR_STRAT_COALESCED, /* large folios, few regions of slices */
	UFR_STRAT_HUGETLB_FAST, /* hugetlb, each buffer inside one folio */
	UFR_STRAT_AUTO, /* the best one this machine serves now */
};

const char *ufr_strategy_name(enum ufr_strategy s);

/* Whether fio's own allocator (iomem=, hugepage-size=) backs the buffers. */
static inline bool ufr_strategy_uses_fio_memory(enum ufr_strategy s)
{
	return s == UFR_STRAT_IOMEM || s == UFR_STRAT_NONE;
}

#endif
