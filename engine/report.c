// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ufr_report.h"

void ufr_report_note(struct ufr_report *r, const char *fmt, ...)
{
	char note[UFR_NOTE_LEN];
	unsigned int i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	for (i = 0; i < r->nr_notes; i++)
		if (!strcmp(r->notes[i], note))
			return;
	if (r->nr_notes < UFR_MAX_NOTES)
		memcpy(r->notes[r->nr_notes++], note, sizeof(note));
}

int ufr_stats_path_check(const char *path, struct ufr_err *err)
{
	int fd;

	if (!path[0])
		return ufr_err_set(
			err, EINVAL,
			"reg_stats=: no path given; give a file to write the figures to, or drop reg_stats");
	/* Create it and take it away again, or open what is there. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		return 0;
	}
	if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return ufr_err_set(
		err, errno,
		"reg_stats=%s: cannot be written (%s); point reg_stats at a writable path",
		path, strerror(errno));
}

void ufr_report_merge(struct ufr_report *sum, const struct ufr_report *r)
{
	int i;

	unsigned int k;

	if (!sum->used) {
		*sum = *r;
		return;
	}
	sum->numa_known &= r->numa_known;
	for (i = 0; i < UFR_MAX_NODES; i++)
		sum->pages_by_node[i] += r->pages_by_node[i];
	sum->calls += r->calls;
	sum->buffers += r->buffers;
	sum->bytes += r->bytes;
	sum->total_ns += r->total_ns;
	sum->unreg_ns += r->unreg_ns;
	sum->nr_samples += r->nr_samples;
	sum->pages += r->pages;
	sum->bvecs += r->bvecs;
	sum->folios += r->folios;
	/* A sum with one unknown part is unknown, not partial. */
	if (sum->bvecs_observed < 0 || r->bvecs_observed < 0)
		sum->bvecs_observed = -1;
	else
		sum->bvecs_observed += r->bvecs_observed;
	if (!sum->observed_note[0])
		memcpy(sum->observed_note, r->observed_note,
		       sizeof(sum->observed_note));
	for (k = 0; k < r->nr_notes; k++)
		ufr_report_note(sum, "%s", r->notes[k]);
	sum->straddling += r->straddling;
	sum->from_pagemap &= r->from_pagemap;
	sum->ios += r->ios;
	sum->io_segs += r->io_segs;
	if (r->io_segs_max > sum->io_segs_max)
		sum->io_segs_max = r->io_segs_max;
	sum->rereg_count += r->rereg_count;
	sum->rereg_total_ns += r->rereg_total_ns;
	if (r->rereg_max_ns > sum->rereg_max_ns)
		sum->rereg_max_ns = r->rereg_max_ns;
	/* Jobs of one group may differ; say so rather than pick one. */
	if (strcmp(sum->strategy, r->strategy))
		strcpy(sum->strategy, "mixed");
	if (sum->folio_bytes != r->folio_bytes)
		sum->folio_bytes = 0;
	if (strcmp(sum->ring_flags, r->ring_flags))
		strcpy(sum->ring_flags, "mixed");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile, as fio reports its own. */
static uint64_t rank(const uint64_t *sorted, size_t n, unsigned int pct)
{
	size_t r = (n * pct + 99) / 100;

	return sorted[r ? r - 1 : 0];
}

void ufr_dist_of(uint64_t *samples, size_t n, struct ufr_dist *d)
{
	uint64_t sum = 0;
	size_t i;

	memset(d, 0, sizeof(*d));
	if (!n)
		return;
	qsort(samples, n, sizeof(*samples), cmp_u64);
	for (i = 0; i < n; i++)
		sum += samples[i];
	d->min = samples[0];
	d->max = samples[n - 1];
	d->mean = sum / n;
	d->p50 = rank(samples, n, 50);
	d->p99 = rank(samples, n, 99);
}
