/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_NUMA_H
#define UFR_NUMA_H

#include <stddef.h>
#include <stdint.h>

#include "ufr_error.h"

#define UFR_MAX_NODES 64

/* A node that exists and has memory, or a message saying otherwise. */
int ufr_numa_check_node(int node, struct ufr_err *err);

/* Bind [addr, addr + len) to @node before it is faulted in. */
int ufr_numa_bind(void *addr, size_t len, int node, struct ufr_err *err);

/* Explain a hugetlb fault failure on a bound node. Returns -ENOMEM. */
int ufr_numa_hugetlb_shortage(struct ufr_err *err, int node, size_t page,
			      unsigned long need);

/*
 * Count the 4 KiB pages of [addr, addr + len) on each node (move_pages(2)
 * in query mode) into @pages[UFR_MAX_NODES]. Returns 0 or -errno.
 */
int ufr_numa_pages_by_node(void *addr, size_t len,
			   uint64_t pages[UFR_MAX_NODES]);

#endif
