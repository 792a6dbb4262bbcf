// SPDX-License-Identifier: GPL-2.0-only
#include "ufr_strategy.h"

const char *ufr_strategy_name(enum ufr_strategy s)
{
	switch (s) {
	case UFR_STRAT_IOMEM:
		return "iomem";
	case UFR_STRAT_NONE:
		return "none";
	case UFR_STRAT_PER_PAGE:
		return "per_page";
	case UFR_STRAT_COALESCED:
		return "coalesced";
	case UFR_STRAT_HUGETLB_FAST:
		return "hugetlb_fast";
	case UFR_STRAT_AUTO:
		return "auto";
	}
	return "?";
}
