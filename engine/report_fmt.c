// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report rendered for people and for programs. Our own small writer:
 * the contract has null fields, which fio's JSON helpers cannot express.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ufr_report.h"

static void json_u64(FILE *f, const char *name, uint64_t v, bool last)
{
	fprintf(f, "\"%s\" : %" PRIu64 "%s", name, v, last ? "" : ", ");
}

static void json_opt(FILE *f, const char *name, const uint64_t *v, bool last)
{
	if (v)
		json_u64(f, name, *v, last);
	else
		fprintf(f, "\"%s\" : null%s", name, last ? "" : ", ");
}

void ufr_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_str_or_null(FILE *f, const char *name, const char *v)
{
	fprintf(f, "\"%s\" : ", name);
	if (v && v[0])
		ufr_json_string(f, v);
	else
		fprintf(f, "null");
}

static uint64_t buffer_mean(const struct ufr_report *r)
{
	return r->buffers ? r->total_ns / r->buffers : 0;
}

char *ufr_report_json(const struct ufr_report *r, const struct ufr_dist *d)
{
	uint64_t mean = d ? d->mean : buffer_mean(r);
	char *buf = NULL;
	size_t len = 0;
	bool first = true;
	FILE *f;
	int i;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "\"uring_folioreg\" : {\n");
	fprintf(f, "  \"version\" : \"%s\",\n", UFR_VERSION);
	fprintf(f, "  \"strategy\" : \"%s\",\n", r->strategy);
	fprintf(f, "  \"folio_bytes\" : %" PRIu64 ",\n", r->folio_bytes);
	fprintf(f, "  \"numa\" : { \"requested\" : %d, \"pages_by_node\" : ",
		r->numa_requested);
	if (r->numa_known) {
		fprintf(f, "{");
		for (i = 0; i < UFR_MAX_NODES; i++) {
			if (!r->pages_by_node[i])
				continue;
			fprintf(f, "%s\"%d\" : %" PRIu64, first ? " " : ", ", i,
				r->pages_by_node[i]);
			first = false;
		}
		fprintf(f, "%s}", first ? "" : " ");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, " },\n  ");
	json_str_or_null(f, "ring_flags", r->ring_flags);
	fprintf(f, ",\n");

	fprintf(f, "  \"reg\" : { \"mode\" : \"%s\", ", r->mode);
	json_u64(f, "calls", r->calls, false);
	json_u64(f, "buffers", r->buffers, false);
	json_u64(f, "bytes", r->bytes, false);
	json_u64(f, "total_ns", r->total_ns, false);
	json_u64(f, "unreg_ns", r->unreg_ns, false);
	fprintf(f, "\n    \"per_buffer_ns\" : { ");
	json_opt(f, "min", d ? &d->min : NULL, false);
	json_opt(f, "mean", r->buffers ? &mean : NULL, false);
	json_opt(f, "p50", d ? &d->p50 : NULL, false);
	json_opt(f, "p99", d ? &d->p99 : NULL, false);
	json_opt(f, "max", d ? &d->max : NULL, true);
	fprintf(f, " } },\n");

	fprintf(f, "  \"segments\" : { ");
	json_u64(f, "pages", r->pages, false);
	json_u64(f, "bvecs", r->bvecs, false);
	if (r->bvecs_observed >= 0)
		fprintf(f, "\"bvecs_observed\" : %" PRId64 ", ",
			r->bvecs_observed);
	else
		fprintf(f, "\"bvecs_observed\" : null, ");
	json_str_or_null(f, "observed_note", r->observed_note);
	fprintf(f, ", ");
	json_u64(f, "folios", r->folios, false);
	json_u64(f, "straddling", r->straddling, false);
	fprintf(f, "\n    \"per_io_mean\" : %.3f, ",
		r->ios ? (double)r->io_segs / r->ios : 0.0);
	json_u64(f, "per_io_max", r->io_segs_max, false);
	fprintf(f, "\"source\" : \"%s\",\n    \"rules\" : { ",
		r->from_pagemap ? "pagemap" : "plan");
	json_str_or_null(f, "name", r->rules);
	fprintf(f, ", ");
	json_str_or_null(f, "how", r->rules_how);
	fprintf(f, " } },\n");

	fprintf(f, "  \"rereg\" : { ");
	json_u64(f, "count", r->rereg_count, false);
	json_u64(f, "total_ns", r->rereg_total_ns, false);
	json_u64(f, "max_ns", r->rereg_max_ns, true);
	fprintf(f, " },\n  \"notes\" : [");
	for (i = 0; i < (int)r->nr_notes; i++) {
		fprintf(f, "%s", i ? ", " : " ");
		ufr_json_string(f, r->notes[i]);
	}
	fprintf(f, "%s]\n}", r->nr_notes ? " " : "");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void text_opt(FILE *f, const char *name, const uint64_t *v)
{
	if (v)
		fprintf(f, "%s=%" PRIu64, name, *v);
	else
		fprintf(f, "%s=-", name);
}

char *ufr_report_text(const struct ufr_report *r, const struct ufr_dist *d)
{
	uint64_t mean = d ? d->mean : buffer_mean(r);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f,
		"  uring_folioreg %s: strategy=%s, folio=%" PRIu64
		"KiB, numa=%d (pages by node:",
		UFR_VERSION, r->strategy, r->folio_bytes >> 10,
		r->numa_requested);
	for (i = 0; i < UFR_MAX_NODES; i++)
		if (r->pages_by_node[i])
			fprintf(f, " %d=%" PRIu64, i, r->pages_by_node[i]);
	fprintf(f, "%s), ring=%s\n", r->numa_known ? "" : " unknown",
		r->ring_flags[0] ? r->ring_flags : "-");
	fprintf(f,
		"    reg     : mode=%s, calls=%" PRIu64 ", buffers=%" PRIu64
		", bytes=%" PRIu64 ", total_ns=%" PRIu64 ", unreg_ns=%" PRIu64
		"\n",
		r->mode, r->calls, r->buffers, r->bytes, r->total_ns,
		r->unreg_ns);
	fprintf(f, "    per buf : (ns) ");
	text_opt(f, "min", d ? &d->min : NULL);
	fprintf(f, ", ");
	text_opt(f, "mean", r->buffers ? &mean : NULL);
	fprintf(f, ", ");
	text_opt(f, "p50", d ? &d->p50 : NULL);
	fprintf(f, ", ");
	text_opt(f, "p99", d ? &d->p99 : NULL);
	fprintf(f, ", ");
	text_opt(f, "max", d ? &d->max : NULL);
	fprintf(f,
		"\n    segments: pages=%" PRIu64 ", bvecs=%" PRIu64
		" (from %s), bvecs_observed=",
		r->pages, r->bvecs, r->from_pagemap ? "pagemap" : "plan");
	if (r->bvecs_observed >= 0)
		fprintf(f, "%" PRId64, r->bvecs_observed);
	else
		fprintf(f, "-");
	fprintf(f,
		", folios=%" PRIu64 ", straddling=%" PRIu64
		", per_io mean=%.3f max=%" PRIu64 "\n",
		r->folios, r->straddling,
		r->ios ? (double)r->io_segs / r->ios : 0.0, r->io_segs_max);
	fprintf(f, "    rules   : %s (%s)\n", r->rules[0] ? r->rules : "-",
		r->rules_how);
	fprintf(f,
		"    rereg   : count=%" PRIu64 ", total_ns=%" PRIu64
		", max_ns=%" PRIu64 "\n",
		r->rereg_count, r->rereg_total_ns, r->rereg_max_ns);
	if (r->observed_note[0])
		fprintf(f, "    note    : bvecs_observed: %s\n",
			r->observed_note);
	for (i = 0; i < (int)r->nr_notes; i++)
		fprintf(f, "    note    : %s\n", r->notes[i]);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
