/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_FIO_H
#define UFR_FIO_H

/* Between the two fio-facing files: the data path and the report. */

#include <stdint.h>

#include "engines/cmdprio.h"

#include "ufr_report.h"

struct thread_data;

/* The engine's options, as fio stores them (td->eo). */
struct ufr_options {
	void *td; /* fio stores the thread_data pointer here */
	unsigned int strategy, folio, backing, mode; /* the enums of config */
	char *hugetlbfs_path;
	int numa_node;
	unsigned long long rereg_usec;
	char *reg_stats;
	unsigned int reg_profile;
	/* fio's io_uring engine's options, for job files written for it */
	unsigned int registerfiles, sqpoll, hipri;
	unsigned int sqpoll_cpu, sqpoll_cpu_set;
	unsigned int no_fixedbufs; /* fixedbufs=0: reg_strategy=none */
	int nonvectored;
	unsigned int uncached, nowait, force_async, cmd_type;
	struct cmdprio_options cmdprio_options;
	/* fio's NVMe passthrough options (io_uring_cmd), fio 3.36 on */
	unsigned int readfua, writefua, write_mode, verify_mode, deac;
	unsigned int md_per_io_size, pi_act, apptag, apptag_mask;
	char *pi_chk;
};

/* In fio's parent: once, the slots jobs leave their figures in; then as
 * each job loads the engine, the stream over fio's f_out. */
void ufr_fio_report_init(void);
void ufr_fio_report_out(void);
/* A note about job @job's run, on stderr (the JSON notes hold it too):
 * never in fio's output, which may be a JSON document. */
void ufr_fio_note(const char *job, const char *note);
/* At the end of a job: leave its figures for the parent (or, under
 * fio --server, print them). @samples: r->reg.samples per-buffer times. */
void ufr_fio_report_job(struct thread_data *td, const struct ufr_report *r,
			const uint64_t *samples);

#endif
