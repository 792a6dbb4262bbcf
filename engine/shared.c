// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

#include "ufr_shared.h"

struct shared {
	struct ufr_report reports[UFR_MAX_JOBS];
};

static struct shared *shared;
static uint64_t *samples;

int ufr_shared_init(void)
{
	size_t slen = (size_t)UFR_MAX_JOBS * UFR_MAX_SAMPLES * sizeof(*samples);
	void *p;

	if (shared)
		return 0;
	p = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	samples = mmap(NULL, slen, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (samples == MAP_FAILED) {
		munmap(p, sizeof(*shared));
		samples = NULL;
		return -errno;
	}
	shared = p;
	return 0;
}

struct ufr_report *ufr_shared_report(unsigned int nr)
{
	if (!shared || !nr || nr > UFR_MAX_JOBS)
		return NULL;
	return &shared->reports[nr - 1];
}

uint64_t *ufr_shared_samples(unsigned int nr)
{
	if (!samples || !nr || nr > UFR_MAX_JOBS)
		return NULL;
	return samples + (size_t)(nr - 1) * UFR_MAX_SAMPLES;
}
