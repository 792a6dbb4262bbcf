/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_FIO_H
#define UFR_FIO_H

/* Between the two fio-facing files: the data path and the report. */

#include <stdint.h>

#include "ufr_report.h"

struct thread_data;

/* In fio's parent, as each job loads the engine. */
void ufr_fio_report_setup(void);
/* At the end of a job: leave its figures for the parent (or, under
 * fio --server, print them). @samples: r->nr_samples per-buffer times. */
void ufr_fio_report_job(struct thread_data *td, const struct ufr_report *r,
			const uint64_t *samples);

#endif
