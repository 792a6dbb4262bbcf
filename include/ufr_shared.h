/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_SHARED_H
#define UFR_SHARED_H

#include <stdint.h>

#include "ufr_report.h"

/* fio runs at most this many jobs (REAL_MAX_JOBS). */
#define UFR_MAX_JOBS 4096
#define UFR_MAX_SAMPLES 16384

/*
 * Memory fio's parent maps before it forks the jobs, so that each job
 * process (or thread) leaves its report where the parent prints it.
 * Sample space is reserved, not committed: only what jobs write is used.
 */
int ufr_shared_init(void);
/* Slot of fio job @nr (td->thread_number, from 1), or NULL. */
struct ufr_report *ufr_shared_report(unsigned int nr);
uint64_t *ufr_shared_samples(unsigned int nr);

#endif
