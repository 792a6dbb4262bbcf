// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report: one job's figures, groups of them summed, rendered for
 * people and for programs (splice.c puts them into fio's own text).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
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
			err, -EINVAL,
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
		err, -errno,
		"reg_stats=%s: cannot be written (%s); point reg_stats at a writable path",
		path, strerror(errno));
}

/* Two jobs' tops, by name; what fell off either list stays off. */
static void top_merge(struct ufr_profile_summary *sum,
		      const struct ufr_profile_summary *r)
{
	struct ufr_profile_fn all[2 * UFR_PROFILE_TOP];

	memcpy(all, sum->top, sum->nr_top * sizeof(all[0]));
	memcpy(all + sum->nr_top, r->top, r->nr_top * sizeof(all[0]));
	ufr_profile_top(sum, all, sum->nr_top + r->nr_top);
}

/*
 * Every figure once: its JSON section and name, its text (a template of
 * its value, with what goes before and after it on its line; NULL: not in
 * the text block), where it is in struct ufr_report, and how a group sums
 * it. Both renderers and the merge walk this table; what is not one
 * value (the per-buffer distribution, the profile's top, notes) is
 * written by hand around it. A new figure is a member of the struct, the
 * line that measures it, and a row here.
 */
enum sect {
	S_TOP, /* the object itself; text: the first line */
	S_REG,
	S_SEG, /* "segments", its first JSON line */
	S_IO, /* its second JSON line; text: the rest of the segments line */
	S_RULES, /* "segments"."rules" */
	S_CAP, /* "segments", after "rules"; text: the rules line's end */
	S_REREG,
	S_PROF, /* "reg"."profile" */
	S_NONE, /* only summed */
};

enum kind {
	K_U64,
	K_KIB, /* uint64_t bytes; KiB in the text */
	K_KNOWN, /* int64_t; -1: unknown (null, "-") */
	K_NAME, /* char[]; "": null, "-" */
	K_TEXT, /* char[]; "": null, "" */
	K_SOURCE, /* bool from_pagemap: "pagemap" or "plan" */
	K_RULES, /* struct ufr_rules_found: the name; null until probed */
	K_MEAN, /* struct ufr_io_segs: segments per I/O */
	K_NUMA, /* int requested, and the pages by node */
	K_BOOL, /* only summed */
};

enum merge {
	M_FIRST, /* the group's first job's */
	M_SUM, /* arrays too, each element */
	M_MAX,
	M_KNOWN, /* the sum; unknown if a part is: a partial sum is no sum */
	M_SAME, /* the jobs' common value, else "mixed" (numbers: 0) */
	M_GIVEN, /* a name: M_SAME over the jobs that have one */
	M_AND,
	M_OR,
	M_NOTE, /* the first one given */
};

struct field {
	enum sect sect;
	const char *json, *text;
	size_t off, size;
	enum kind kind;
	enum merge merge;
};

#define F(sect, json, text, member, kind, merge)                              \
	{                                                                     \
		sect, json, text, offsetof(struct ufr_report, member),        \
			sizeof(((struct ufr_report *)0)->member), kind, merge \
	}

/* The commonest rows: a count the group sums, and a figure only merged. */
#define COUNT(sect, json, text, member) \
	F(sect, json, text, member, K_U64, M_SUM)
#define HIDDEN(member, kind, merge) F(S_NONE, NULL, NULL, member, kind, merge)

static const struct field fields[] = {
	F(S_TOP, "strategy", "strategy=%s", strategy, K_NAME, M_SAME),
	F(S_TOP, "folio_bytes", ", folio=%sKiB", seg.max_folio_bytes, K_KIB,
	  M_SAME),
	F(S_TOP, "backing", NULL, backing, K_NAME, M_SAME),
	F(S_TOP, "numa", ", numa=%s", numa_requested, K_NUMA, M_FIRST),
	F(S_TOP, "ring_flags", ", ring=%s", ring_flags, K_NAME, M_SAME),
	F(S_REG, "mode", "mode=%s", mode, K_NAME, M_FIRST),
	COUNT(S_REG, "calls", ", calls=%s", reg.calls),
	COUNT(S_REG, "buffers", ", buffers=%s", reg.buffers),
	COUNT(S_REG, "bytes", ", bytes=%s", reg.bytes),
	COUNT(S_REG, "total_ns", ", total_ns=%s", reg.total_ns),
	COUNT(S_REG, "unreg_ns", ", unreg_ns=%s", reg.unreg_ns),
	COUNT(S_SEG, "pages", "pages=%s", seg.pages),
	COUNT(S_SEG, "bvecs", ", bvecs=%s", seg.bvecs),
	F(S_SEG, "source", " (from %s)", seg.from_pagemap, K_SOURCE, M_AND),
	F(S_SEG, "bvecs_observed", ", bvecs_observed=%s", obs.held, K_KNOWN,
	  M_KNOWN),
	F(S_SEG, "observed_note", NULL, obs.note, K_TEXT, M_NOTE),
	F(S_SEG, "pins_acquired", ", pins_acquired=%s", obs.acquired, K_KNOWN,
	  M_KNOWN),
	COUNT(S_SEG, "folios", ", folios=%s", seg.folios),
	COUNT(S_SEG, "straddling", ", straddling=%s", seg.straddling),
	F(S_IO, "per_io_mean", ", per_io mean=%s", io, K_MEAN, M_FIRST),
	F(S_IO, "per_io_max", " max=%s", io.max, K_U64, M_MAX),
	F(S_RULES, "name", "%s", rules, K_RULES, M_FIRST),
	F(S_RULES, "how", " (%s)", rules.how, K_TEXT, M_FIRST),
	F(S_CAP, "max_buffer_bytes", ", max_buffer_bytes=%s", max_buffer_bytes,
	  K_KNOWN, M_FIRST),
	F(S_CAP, "max_buffer_how", " (%s)", max_buffer_how, K_NAME, M_FIRST),
	COUNT(S_REREG, "count", "count=%s", rereg.count),
	COUNT(S_REREG, "total_ns", ", total_ns=%s", rereg.total_ns),
	F(S_REREG, "max_ns", ", max_ns=%s", rereg.max_ns, K_U64, M_MAX),
	COUNT(S_PROF, "samples", "samples=%s", profile.samples),
	COUNT(S_PROF, "outside", NULL, profile.outside),
	COUNT(S_PROF, "lost", NULL, profile.lost),
	COUNT(S_PROF, "register_calls", ", register_calls=%s", profile.calls),
	F(S_PROF, "event", ", event=%s", profile.event, K_NAME, M_GIVEN),
	COUNT(S_PROF, "skid_moved", ", skid_moved=%s", profile.skid_moved),
	HIDDEN(io.ios, K_U64, M_SUM),
	HIDDEN(io.segs, K_U64, M_SUM),
	HIDDEN(reg.samples, K_U64, M_SUM),
	HIDDEN(profile_note, K_TEXT, M_NOTE),
	HIDDEN(profiled, K_BOOL, M_OR),
	HIDDEN(numa_known, K_BOOL, M_AND),
	HIDDEN(pages_by_node, K_U64, M_SUM),
};

#define FIELDS_END (fields + sizeof(fields) / sizeof(fields[0]))

static void merge_field(void *sum, const void *r, const struct field *fd)
{
	uint64_t *s = sum;
	const uint64_t *v = r;
	int64_t *k = sum;
	const int64_t *rk = r;
	size_t i;

	switch (fd->merge) {
	case M_FIRST:
		break;
	case M_SUM:
		for (i = 0; i < fd->size / sizeof(*s); i++)
			s[i] += v[i];
		break;
	case M_MAX:
		*s = *v > *s ? *v : *s;
		break;
	case M_KNOWN:
		*k = *k < 0 || *rk < 0 ? -1 : *k + *rk;
		break;
	case M_SAME:
		if (fd->kind == K_NAME && strcmp(sum, r))
			strcpy(sum, "mixed");
		else if (fd->kind != K_NAME && *s != *v)
			*s = 0;
		break;
	case M_GIVEN:
		if (!*(char *)sum)
			memcpy(sum, r, fd->size);
		else if (*(const char *)r && strcmp(sum, r))
			strcpy(sum, "mixed");
		break;
	case M_AND:
		*(bool *)sum &= *(const bool *)r;
		break;
	case M_OR:
		*(bool *)sum |= *(const bool *)r;
		break;
	case M_NOTE:
		if (!*(char *)sum)
			memcpy(sum, r, fd->size);
		break;
	}
}

void ufr_report_merge(struct ufr_report *sum, const struct ufr_report *r)
{
	const struct field *fd;
	unsigned int i;

	if (!sum->used) {
		*sum = *r;
		return;
	}
	for (fd = fields; fd < FIELDS_END; fd++)
		merge_field((char *)sum + fd->off, (const char *)r + fd->off,
			    fd);
	for (i = 0; i < r->nr_notes; i++)
		ufr_report_note(sum, "%s", r->notes[i]);
	/* A job without a profile has an empty one. */
	top_merge(&sum->profile, &r->profile);
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

/*
 * The report rendered for people and for programs. Our own small JSON
 * writer: the contract has null fields, which fio's json.c cannot express.
 */

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

/* A string: JSON null or @empty in the text when there is none. */
static void put_str(FILE *f, const char *s, bool json, const char *empty)
{
	if (json && s[0])
		ufr_json_string(f, s);
	else
		fputs(json ? "null" : s[0] ? s : empty, f);
}

/* numa: the node asked for, and where the pages are. */
static void put_numa(FILE *f, const struct ufr_report *r, bool json)
{
	const char *sep = json ? "{ " : " ";
	int i;

	fprintf(f,
		json ? "{ \"requested\" : %d, \"pages_by_node\" : " :
		       "%d (pages by node:",
		r->numa_requested);
	if (json && !r->numa_known) {
		fputs("null }", f);
		return;
	}
	for (i = 0; i < UFR_MAX_NODES; i++) {
		if (!r->pages_by_node[i])
			continue;
		fprintf(f, json ? "%s\"%d\" : %" PRIu64 : "%s%d=%" PRIu64, sep,
			i, r->pages_by_node[i]);
		sep = json ? ", " : " ";
	}
	if (json)
		fputs(sep[0] == '{' ? "{} }" : " } }", f);
	else
		fputs(r->numa_known ? ")" : " unknown)", f);
}

/* One figure's value, for JSON (null where unknown) or the text ("-"). */
static void put_value(FILE *f, const struct ufr_report *r,
		      const struct field *fd, bool json)
{
	const void *v = (const char *)r + fd->off;
	const struct ufr_io_segs *io = v;
	const struct ufr_rules_found *rules = v;
	const int64_t *known = v; /* read only as what its kind says */

	switch (fd->kind) {
	case K_U64:
	case K_KIB:
		fprintf(f, "%" PRIu64,
			*(const uint64_t *)v >>
				(!json && fd->kind == K_KIB ? 10 : 0));
		break;
	case K_KNOWN:
		if (*known >= 0)
			fprintf(f, "%" PRId64, *known);
		else
			fputs(json ? "null" : "-", f);
		break;
	case K_NAME:
	case K_TEXT:
		put_str(f, v, json, fd->kind == K_NAME ? "-" : "");
		break;
	case K_SOURCE:
		put_str(f, *(const bool *)v ? "pagemap" : "plan", json, "");
		break;
	case K_RULES:
		put_str(f, rules->how[0] ? ufr_rules_name(rules->rules) : "",
			json, "-");
		break;
	case K_MEAN:
		fprintf(f, "%.3f", io->ios ? (double)io->segs / io->ios : 0.0);
		break;
	case K_NUMA:
		put_numa(f, r, json);
		break;
	case K_BOOL:
		break;
	}
}

/* The figures of one section as JSON members, @sep between them. */
static void json_rows(FILE *f, const struct ufr_report *r, enum sect sect,
		      const char *sep)
{
	const struct field *fd;
	bool first = true;

	for (fd = fields; fd < FIELDS_END; fd++) {
		if (fd->sect != sect)
			continue;
		fprintf(f, "%s\"%s\" : ", first ? "" : sep, fd->json);
		put_value(f, r, fd, true);
		first = false;
	}
}

/* The figures of one section on the text block's line. */
static void text_rows(FILE *f, const struct ufr_report *r, enum sect sect)
{
	const struct field *fd;
	const char *at;

	for (fd = fields; fd < FIELDS_END; fd++) {
		if (fd->sect != sect || !fd->text)
			continue;
		at = strstr(fd->text, "%s");
		fwrite(fd->text, 1, at - fd->text, f);
		put_value(f, r, fd, false);
		fputs(at + 2, f);
	}
}

/*
 * reg.per_buffer_ns: with @d (reg_mode=each) the distribution, without it
 * the mean alone (total / buffers), the others unknown.
 */
static void put_dist(FILE *f, const struct ufr_report *r,
		     const struct ufr_dist *d, bool json)
{
	static const char *const names[] = { "min", "mean", "p50", "p99",
					     "max" };
	uint64_t v[] = { d ? d->min : 0, d ? d->mean : 0, d ? d->p50 : 0,
			 d ? d->p99 : 0, d ? d->max : 0 };
	unsigned int i;

	if (!d && r->reg.buffers)
		v[1] = r->reg.total_ns / r->reg.buffers;
	for (i = 0; i < 5; i++) {
		fprintf(f, json ? "%s\"%s\" : " : "%s%s=", i ? ", " : "",
			names[i]);
		if (d || (i == 1 && r->reg.buffers))
			fprintf(f, "%" PRIu64, v[i]);
		else
			fputs(json ? "null" : "-", f);
	}
}

static double share(uint64_t n, uint64_t of)
{
	return of ? (double)n / of : 0.0;
}

/* reg.profile: null, or the samples and the top functions. */
static void json_profile(FILE *f, const struct ufr_report *r)
{
	const struct ufr_profile_summary *p = &r->profile;
	unsigned int i;

	if (!r->profiled) {
		fprintf(f, "null");
		return;
	}
	fputs("{ ", f);
	json_rows(f, r, S_PROF, ", ");
	/* Only cpu-clock has a fixed period; cycles run at a mean rate. */
	if (strcmp(p->event, "cpu-clock"))
		fputs(", \"period_ns\" : null", f);
	else
		fprintf(f, ", \"period_ns\" : %d", UFR_PROFILE_PERIOD_NS);
	fputs(", \"top\" : [", f);
	for (i = 0; i < p->nr_top; i++) {
		fprintf(f, "%s{ \"function\" : ",
			i ? ",\n        " : "\n        ");
		ufr_json_string(f, p->top[i].function);
		fprintf(f, ", \"samples\" : %" PRIu64 ", \"share\" : %.4f }",
			p->top[i].samples,
			share(p->top[i].samples, p->samples));
	}
	fprintf(f, "%s] }", p->nr_top ? " " : "");
}

/* Close an open_memstream: its text, or NULL if writing it failed. */
static char *memstream_done(FILE *f, char **buf)
{
	if (fclose(f)) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

static void json_body(FILE *f, const struct ufr_report *r,
		      const struct ufr_dist *d)
{
	int i;

	fprintf(f, "\"uring_folioreg\" : {\n  \"version\" : \"%s\",\n  ",
		UFR_VERSION);
	json_rows(f, r, S_TOP, ",\n  ");
	fprintf(f, ",\n  \"reg\" : { ");
	json_rows(f, r, S_REG, ", ");
	fprintf(f, ", \n    \"per_buffer_ns\" : { ");
	put_dist(f, r, d, true);
	fprintf(f, " },\n    \"profile\" : ");
	json_profile(f, r);
	fprintf(f, ",\n    \"profile_note\" : ");
	put_str(f, r->profiled ? "" : r->profile_note, true, "");
	fprintf(f, " },\n  \"segments\" : { ");
	json_rows(f, r, S_SEG, ", ");
	fprintf(f, ", \n    ");
	json_rows(f, r, S_IO, ", ");
	fprintf(f, ",\n    \"rules\" : { ");
	json_rows(f, r, S_RULES, ", ");
	fprintf(f, " },\n    ");
	json_rows(f, r, S_CAP, ", ");
	fprintf(f, " },\n  \"rereg\" : { ");
	json_rows(f, r, S_REREG, ", ");
	fprintf(f, " },\n  \"notes\" : [");
	for (i = 0; i < (int)r->nr_notes; i++) {
		fprintf(f, "%s", i ? ", " : " ");
		ufr_json_string(f, r->notes[i]);
	}
	fprintf(f, "%s]\n}", r->nr_notes ? " " : "");
}

static void text_body(FILE *f, const struct ufr_report *r,
		      const struct ufr_dist *d)
{
	int i;

	fprintf(f, "  uring_folioreg %s: ", UFR_VERSION);
	text_rows(f, r, S_TOP);
	fprintf(f, "\n    reg     : ");
	text_rows(f, r, S_REG);
	fprintf(f, "\n    per buf : (ns) ");
	put_dist(f, r, d, false);
	fprintf(f, "\n    segments: ");
	text_rows(f, r, S_SEG);
	text_rows(f, r, S_IO);
	fprintf(f, "\n    rules   : ");
	text_rows(f, r, S_RULES);
	text_rows(f, r, S_CAP);
	fprintf(f, "\n    rereg   : ");
	text_rows(f, r, S_REREG);
	fprintf(f, "\n");
	if (r->profiled) {
		fputs("    profile : ", f);
		text_rows(f, r, S_PROF);
		fputs(", top:", f);
		for (i = 0; i < (int)r->profile.nr_top && i < 5; i++)
			fprintf(f, "%s %s %.1f%%", i ? "," : "",
				r->profile.top[i].function,
				100 * share(r->profile.top[i].samples,
					    r->profile.samples));
		fprintf(f, "%s\n", r->profile.nr_top ? "" : " -");
	} else if (r->profile_note[0]) {
		fprintf(f, "    profile : - (%s)\n", r->profile_note);
	}
	if (r->obs.note[0])
		fprintf(f, "    note    : bvecs_observed: %s\n", r->obs.note);
	for (i = 0; i < (int)r->nr_notes; i++)
		fprintf(f, "    note    : %s\n", r->notes[i]);
}

/* @body's text in a malloc'd string, or NULL if writing it failed. */
static char *render(const struct ufr_report *r, const struct ufr_dist *d,
		    void (*body)(FILE *, const struct ufr_report *,
				 const struct ufr_dist *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	body(f, r, d);
	return memstream_done(f, &buf);
}

char *ufr_report_json(const struct ufr_report *r, const struct ufr_dist *d)
{
	return render(r, d, json_body);
}

char *ufr_report_text(const struct ufr_report *r, const struct ufr_dist *d)
{
	return render(r, d, text_body);
}
