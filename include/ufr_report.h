/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_REPORT_H
#define UFR_REPORT_H

/*
 * The last stage: one job's figures, the "uring_folioreg" member of its
 * entry in fio's report, summed over a group, and rendered (ufr_splice.h
 * puts them into the text fio writes).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ufr_inspect.h" /* and through it every earlier stage's */
#include "ufr_profile.h"

/* min, mean, p50, p99, max of a set of samples (nanoseconds). */
struct ufr_dist {
	uint64_t min, mean, p50, p99, max;
};

#define UFR_MAX_NOTES 4
/* A path that can be opened is shorter than PATH_MAX; names are refused
 * at init when they do not fit, so neither is ever cut short. */
#define UFR_NAME_LEN 4096

/* Per completed I/O: the segments its slice spans (io_import_fixed()). */
struct ufr_io_segs {
	uint64_t ios, segs, max;
};

/*
 * One job's figures (README: What it reports), as fio's thread_stat: the
 * job holds one, each stage fills its part where it measures. Plain data,
 * for memory shared by fio's parent and the job processes; name and path
 * copied whole, as fio frees its options before the parent writes
 * reg_stats. report.c's field table renders and sums each scalar.
 */
struct ufr_report {
	bool used;
	int groupid;
	char jobname[UFR_NAME_LEN];
	char stats_path[UFR_NAME_LEN]; /* reg_stats=, or "" */
	bool stats_times; /* reg_stats_each: each buffer's time in it too */

	/* config and ring */
	char strategy[16];
	char backing[12]; /* reg_backing, "" on fio's memory */
	char mode[8];
	int numa_requested;
	char ring_flags[96]; /* the ring's set-up flags, by name */

	/* memory */
	bool numa_known; /* false: where the pages are could not be read */
	uint64_t pages_by_node[UFR_MAX_NODES];

	/* registration */
	struct ufr_reg_timing reg;
	struct ufr_observation obs; /* bvecs_observed and why it is null */
	struct ufr_rereg rereg;
	bool profiled; /* false: reg.profile is null, profile_note says why */
	struct ufr_profile_summary profile;
	char profile_note[UFR_NOTE_LEN];

	/* inspection */
	struct ufr_rules_found rules; /* how is "" until they are probed */
	/* the kernel's cap on one registered buffer (-1: not known) and how
	 * it was found: "probe" or "version" */
	int64_t max_buffer_bytes;
	char max_buffer_how[8];
	struct ufr_segments seg;
	struct ufr_io_segs io;

	unsigned int nr_notes; /* what the user should know about the run */
	char notes[UFR_MAX_NOTES][UFR_NOTE_LEN];
};

/* Add a note (printf-style), unless it is there already or notes are full. */
void ufr_report_note(struct ufr_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fold @r into @sum, as fio's group_reporting folds jobs into one. */
void ufr_report_merge(struct ufr_report *sum, const struct ufr_report *r);

/* The distribution of @n samples; sorts them in place. */
void ufr_dist_of(uint64_t *samples, size_t n, struct ufr_dist *d);

/*
 * The report as the JSON member "uring_folioreg" : {...} (README's field
 * names; null where a figure does not exist), and as the labelled block
 * of normal output. @d is the per-buffer distribution, NULL with
 * reg_mode=batch (then only the mean is known). malloc'd strings, NULL
 * when out of memory.
 */
char *ufr_report_json(const struct ufr_report *r, const struct ufr_dist *d);
char *ufr_report_text(const struct ufr_report *r, const struct ufr_dist *d);

/* @s as a JSON string, quoted and escaped. */
void ufr_json_string(FILE *f, const char *s);

/*
 * reg_stats: can @path be written (an existing file, or a new one in an
 * existing directory)? Checked before any I/O so that a job does not run
 * to the end only to lose its figures.
 */
int ufr_stats_path_check(const char *path, struct ufr_err *err);

#endif
