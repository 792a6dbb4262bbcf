/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_CONFIG_H
#define UFR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ufr_backing.h"
#include "ufr_error.h"
#include "ufr_reg.h"
#include "ufr_strategy.h"

/* A job's buffer options, as the user gave them and as resolved. */
struct ufr_config {
	enum ufr_strategy strategy;
	enum ufr_folio folio;
	enum ufr_reg_mode mode;
	int numa_node; /* -1: leave placement alone */
	unsigned int nr_bufs; /* iodepth */
	size_t buf_bytes; /* largest bs */
	size_t align; /* mem_align */
	bool fio_mem_set; /* iomem= was given */
	bool rereg; /* rereg_interval= was given */
	const char *auto_reason; /* why auto chose what it chose */
};

/*
 * Check the combination, pick the folio size where it was left to the
 * strategy, and resolve reg_strategy=auto against what this machine can
 * serve now (free hugetlb pages, THP). On success @c names a concrete
 * strategy and folio.
 */
int ufr_config_resolve(struct ufr_config *c, struct ufr_err *err);

#endif
