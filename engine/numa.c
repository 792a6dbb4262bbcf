// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>
#include <numaif.h>

#include "ufr_numa.h"

int ufr_numa_check_node(int node, struct ufr_err *err)
{
	long long free;

	if (numa_available() < 0)
		return ufr_err_set(
			err, ENODEV,
			"reg_numa_node=%d: this kernel has no NUMA support; use reg_numa_node=-1",
			node);
	if (node < 0 || node > numa_max_node() || node >= UFR_MAX_NODES ||
	    numa_node_size64(node, &free) <= 0)
		return ufr_err_set(
			err, ENODEV,
			"reg_numa_node=%d: no such node with memory (nodes 0-%d exist; see numactl -H); use one of them or -1",
			node, numa_max_node());
	return 0;
}

int ufr_numa_bind(void *addr, size_t len, int node, struct ufr_err *err)
{
	struct bitmask *mask = numa_allocate_nodemask();
	long ret;

	if (!mask)
		return ufr_err_set(err, ENOMEM, "reg_numa_node: out of memory");
	numa_bitmask_setbit(mask, node);
	ret = mbind(addr, len, MPOL_BIND, mask->maskp, mask->size + 1, 0);
	numa_free_nodemask(mask);
	if (ret)
		return ufr_err_set(
			err, errno,
			"reg_numa_node=%d: binding the buffer memory failed: %s",
			node, strerror(errno));
	return 0;
}

int ufr_numa_hugetlb_shortage(struct ufr_err *err, int node, size_t page,
			      unsigned long need)
{
	return ufr_err_set(
		err, ENOMEM,
		"reg_numa_node=%d: node %d has fewer than %lu free hugetlb pages of %zu KiB; reserve them there: echo %lu > /sys/devices/system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages",
		node, node, need, page >> 10, need, node, page >> 10);
}

int ufr_numa_pages_by_node(void *addr, size_t len,
			   uint64_t pages[UFR_MAX_NODES])
{
	enum { BATCH = 4096 };
	void *ptrs[BATCH];
	int status[BATCH];
	size_t done = 0, n, i;

	memset(pages, 0, UFR_MAX_NODES * sizeof(*pages));
	while (done < len / 4096) {
		n = len / 4096 - done;
		if (n > BATCH)
			n = BATCH;
		for (i = 0; i < n; i++)
			ptrs[i] = (char *)addr + (done + i) * 4096;
		if (move_pages(0, n, ptrs, NULL, status, 0))
			return -errno;
		for (i = 0; i < n; i++)
			if (status[i] >= 0 && status[i] < UFR_MAX_NODES)
				pages[status[i]]++;
		done += n;
	}
	return 0;
}
