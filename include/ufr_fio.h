/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_FIO_H
#define UFR_FIO_H

/* Between the two fio-facing files: the adapter and the report. */

#include <stdint.h>

#include "ufr_report.h"

struct thread_data;

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
