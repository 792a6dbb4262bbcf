/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_REPORT_H
#define UFR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ufr_numa.h"

/* min, mean, p50, p99, max of a set of samples (nanoseconds). */
struct ufr_dist {
	uint64_t min, mean, p50, p99, max;
};

/*
 * One job's figures, the "uring_folioreg" object of SPEC.md. Plain data,
 * so it can live in memory shared by fio's parent and its job processes.
 */
struct ufr_report {
	bool used;
	bool stats; /* fio's stats=1: the job has an output entry */
	bool group_reporting;
	int groupid;
	char jobname[64];

	char strategy[16];
	uint64_t folio_bytes;
	int numa_requested;
	uint64_t pages_by_node[UFR_MAX_NODES];

	bool registered; /* fixed buffers in use (not "none") */
	char mode[8];
	uint64_t calls, buffers, bytes, total_ns, unreg_ns;
	uint64_t nr_samples; /* per-buffer times kept (reg_mode=each) */

	uint64_t pages, bvecs, folios;
	int64_t bvecs_observed; /* -1: could not be read */
	uint64_t straddling;
	bool from_pagemap; /* false: computed from the plan */
	uint64_t ios, io_segs, io_segs_max;

	uint64_t rereg_count, rereg_total_ns, rereg_max_ns;

	char stats_path[256]; /* reg_stats=, or "" */
};

/* Fold @r into @sum, as fio's group_reporting folds jobs into one. */
void ufr_report_merge(struct ufr_report *sum, const struct ufr_report *r);

/* The distribution of @n samples; sorts them in place. */
void ufr_dist_of(uint64_t *samples, size_t n, struct ufr_dist *d);

/*
 * The report as the JSON member "uring_folioreg" : {...} (SPEC.md field
 * names; null where a figure does not exist), and as the labelled block
 * of normal output. @d is the per-buffer distribution, NULL with
 * reg_mode=batch (then only the mean is known). malloc'd strings.
 */
char *ufr_report_json(const struct ufr_report *r, const struct ufr_dist *d);
char *ufr_report_text(const struct ufr_report *r, const struct ufr_dist *d);

#endif
