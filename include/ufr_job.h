/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_JOB_H
#define UFR_JOB_H

/*
 * One job through the stages, fio-free: configure (options, machine
 * snapshot, resolution and plan), map, register, inspect, and the end of
 * the run. The fio adapter (uring_folioreg.c) fills the options in, owns
 * the ring and the data path, and calls these in the order fio calls it.
 */
#include <stdbool.h>
#include <stdint.h>

#include "ufr_config.h"
#include "ufr_memory.h"
#include "ufr_probe.h"
#include "ufr_reg.h"
#include "ufr_report.h"

struct ufr_run {
	struct ufr_config cfg; /* the options; resolved by ufr_run_configure */
	struct ufr_machine machine;
	struct ufr_bufset bufs;
	uint64_t *samples; /* reg_mode=each: each buffer's time */
	struct ufr_profiler *prof; /* reg_profile=1 and allowed */
	struct ufr_report r; /* the job's figures, each filled where measured */
	/* Where a note for the user goes besides the report (the adapter
	 * prints it with fio's logger), with @ctx. */
	void (*say)(void *ctx, const char *note);
	void *ctx;
};

/* A note for the user: into the report, and to say(). */
void ufr_run_note(struct ufr_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The job's name and group in the report, and its reg_stats file
 * (@reg_stats, or NULL), checked writable before any I/O.
 */
int ufr_run_name(struct ufr_run *run, const char *name, int groupid,
		 const char *reg_stats, struct ufr_err *err);

/*
 * Resolve run->cfg against the machine, snapshot once here, and plan the
 * buffers of an engine-owned strategy; fill the report's configuration.
 * @reg_profile: whether the job asked for a profile.
 */
int ufr_run_configure(struct ufr_run *run, bool reg_profile,
		      struct ufr_err *err);

/* Map the planned memory, at least @min_len bytes (engine-owned
 * strategies). */
int ufr_run_map(struct ufr_run *run, size_t min_len, struct ufr_err *err);

/*
 * fio's memory (strategies iomem and none): @bufs[i], @len bytes, is
 * io_u i's registered buffer, in fio's @mem_len bytes at @mem, which are
 * faulted in here.
 */
int ufr_run_adopt(struct ufr_run *run, void *const *bufs, unsigned int n,
		  size_t len, void *mem, size_t mem_len, struct ufr_err *err);

/*
 * Register the mapped buffers on @ring: the kernel's coalescing rules
 * found first, the profiler started when @reg_profile, and the
 * registration observed through the pin counters; re-registration every
 * @rereg_ns (0: never) from here on.
 */
int ufr_run_register(struct ufr_run *run, struct io_uring *ring,
		     bool reg_profile, uint64_t rereg_ns, struct ufr_err *err);

/*
 * What the kernel built from the registered buffers, under its rules, and
 * where the pages are. @fio_folio_bytes: the folio size of fio's memory
 * (strategies iomem and none), else unused.
 */
int ufr_run_inspect(struct ufr_run *run, size_t fio_folio_bytes,
		    struct ufr_err *err);

/* Unregister (timed; a failure is a note) while the memory is there. */
void ufr_run_unregister(struct ufr_run *run, struct io_uring *ring);

/* The end of the run: the profile's summary into the report. */
void ufr_run_finish(struct ufr_run *run);

void ufr_run_free(struct ufr_run *run);

#endif
