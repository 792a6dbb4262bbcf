// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report: one job's figures, groups of them summed, rendered for
 * people and for programs, and spliced into fio's own report text.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
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

static int fn_cmp(const void *a, const void *b)
{
	const struct ufr_profile_fn *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return strcmp(x->function, y->function);
}

/* Two jobs' tops, by name; what fell off either list stays off. */
static void profile_merge(struct ufr_profile_summary *sum,
			  const struct ufr_profile_summary *r)
{
	struct ufr_profile_fn all[2 * UFR_PROFILE_TOP];
	unsigned int n = sum->nr_top, i, k;

	memcpy(all, sum->top, n * sizeof(all[0]));
	for (i = 0; i < r->nr_top; i++) {
		for (k = 0; k < n; k++)
			if (!strcmp(all[k].function, r->top[i].function))
				break;
		if (k < n)
			all[k].samples += r->top[i].samples;
		else
			all[n++] = r->top[i];
	}
	qsort(all, n, sizeof(all[0]), fn_cmp);
	sum->nr_top = n < UFR_PROFILE_TOP ? n : UFR_PROFILE_TOP;
	memcpy(sum->top, all, sum->nr_top * sizeof(all[0]));
	sum->samples += r->samples;
	sum->outside += r->outside;
	sum->lost += r->lost;
	sum->calls += r->calls;
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
	if (sum->profiled && r->profiled)
		profile_merge(&sum->profile, &r->profile);
	else if (r->profiled)
		sum->profile = r->profile;
	sum->profiled |= r->profiled;
	if (!sum->profile_note[0])
		memcpy(sum->profile_note, r->profile_note,
		       sizeof(sum->profile_note));
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

/*
 * The report rendered for people and for programs. Our own small writer:
 * the contract has null fields, which fio's JSON helpers cannot express.
 */

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
	fprintf(f, "{ ");
	json_u64(f, "samples", p->samples, false);
	json_u64(f, "outside", p->outside, false);
	json_u64(f, "lost", p->lost, false);
	json_u64(f, "register_calls", p->calls, false);
	json_u64(f, "period_ns", UFR_PROFILE_PERIOD_NS, false);
	fprintf(f, "\"top\" : [");
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
	fprintf(f, " },\n    \"profile\" : ");
	json_profile(f, r);
	fprintf(f, ",\n    ");
	json_str_or_null(f, "profile_note", r->profiled ? "" : r->profile_note);
	fprintf(f, " },\n");

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
	if (r->profiled) {
		fprintf(f,
			"    profile : samples=%" PRIu64
			", register_calls=%" PRIu64 ", top:",
			r->profile.samples, r->profile.calls);
		for (i = 0; i < (int)r->profile.nr_top && i < 5; i++)
			fprintf(f, "%s %s %.1f%%", i ? "," : "",
				r->profile.top[i].function,
				100 * share(r->profile.top[i].samples,
					    r->profile.samples));
		fprintf(f, "%s\n", r->profile.nr_top ? "" : " -");
	} else if (r->profile_note[0]) {
		fprintf(f, "    profile : - (%s)\n", r->profile_note);
	}
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

struct growbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct growbuf *b, const char *s, size_t n)
{
	char *np;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		np = realloc(b->p, b->cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static const char *line_end(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', end - s);

	return nl ? nl + 1 : end;
}

/* Spaces before @at on its line. */
static size_t indent_of(const char *text, const char *at)
{
	const char *l = at;

	while (l > text && l[-1] != '\n')
		l--;
	return at - l;
}

/* @member, each line indented as fio indents its siblings, then ",\n". */
static void put_indented(struct growbuf *out, const char *member, size_t indent)
{
	static const char spaces[] = "                                ";
	const char *l = member, *nl;

	if (indent > sizeof(spaces) - 1)
		indent = sizeof(spaces) - 1;
	while (*l) {
		nl = strchr(l, '\n');
		put(out, spaces, indent);
		put(out, l, nl ? (size_t)(nl - l) : strlen(l));
		if (!nl)
			break;
		put(out, "\n", 1);
		l = nl + 1;
	}
	put(out, ",\n", 2);
}

/* A JSON document: after each "jobname" member line, the job's object. */
static bool splice_json(const char *text, size_t len, const char *const *json,
			size_t njobs, struct growbuf *out)
{
	static const char key[] = "\"jobname\" : ";
	const char *end = text + len, *p = text, *hit;
	size_t k = 0;

	if (!memmem(text, len, "\"jobs\" : [", 10))
		return false;
	while ((hit = memmem(p, end - p, key, sizeof(key) - 1))) {
		const char *eol = line_end(hit, end);

		put(out, p, eol - p);
		if (k < njobs && json[k])
			put_indented(out, json[k], indent_of(text, hit));
		k++;
		p = eol;
	}
	put(out, p, end - p);
	return true;
}

/* Normal output: a job's block runs from its "name: (groupid=" line to
 * the next one, or to the blank line before "Run status group". */
static bool splice_normal(const char *text, size_t len,
			  const char *const *normal, size_t njobs,
			  struct growbuf *out)
{
	const char *end = text + len, *p = text, *line;
	bool found = false;
	regex_t hdr;
	size_t k = 0;

	if (regcomp(&hdr, "^[^ \t].*: \\(groupid=[0-9]+, jobs=[0-9]+\\): err=",
		    REG_EXTENDED | REG_NOSUB))
		return false;
	for (line = text; line < end; line = line_end(line, end)) {
		size_t n = line_end(line, end) - line;
		char *l = strndup(line, n);
		bool is_hdr = l && !regexec(&hdr, l, 0, NULL, 0);
		bool is_run = n > 17 && !strncmp(line, "Run status group", 16);

		free(l);
		if (!is_hdr && !(is_run && found))
			continue;
		if (found && k - 1 < njobs && normal[k - 1]) {
			/* Before the blank line that ends the last block. */
			const char *at = line;

			if (is_run && at - 1 > p && at[-1] == '\n' &&
			    at[-2] == '\n')
				at--;
			put(out, p, at - p);
			put(out, normal[k - 1], strlen(normal[k - 1]));
			p = at;
		}
		if (is_run)
			break;
		found = true;
		k++;
	}
	regfree(&hdr);
	if (!found)
		return false;
	put(out, p, end - p);
	return true;
}

char *ufr_splice_report(const char *text, size_t len, const char *const *json,
			const char *const *normal, size_t njobs, size_t *outlen)
{
	struct growbuf out = { 0 };
	bool done;

	done = splice_json(text, len, json, njobs, &out);
	if (!done) {
		free(out.p);
		out = (struct growbuf){ 0 };
		done = splice_normal(text, len, normal, njobs, &out);
	}
	if (!done || out.oom) {
		free(out.p);
		return NULL;
	}
	*outlen = out.len;
	return out.p;
}
