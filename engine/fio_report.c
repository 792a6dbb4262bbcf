// SPDX-License-Identifier: GPL-2.0-only
/*
 * Getting each job's figures into fio's own output. Jobs leave their
 * report in memory shared with fio's parent; the parent's output stream
 * is wrapped so that fio's final report gets the figures spliced in where
 * it is written (normal and JSON), and reg_stats files are written when
 * the parent exits. A server (fio --server) cannot amend its client's
 * report, so its jobs print their block as text, which the client shows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fio.h"

#include "ufr_fio.h"
#include "ufr_outwrap.h"
#include "ufr_shared.h"
#include "ufr_splice.h"

static FILE *ufr_out; /* our stream in front of fio's f_out */
static FILE *ufr_out_orig; /* what f_out was */
static pid_t ufr_parent_pid; /* the process that prints the report */

/* One output entry of fio: a job, or a group under group_reporting. */
struct entry {
	struct ufr_report sum;
	uint64_t *samples;
	size_t nr_samples;
	bool have_dist;
};

static void entry_add(struct entry *e, unsigned int nr)
{
	const struct ufr_report *r = ufr_shared_report(nr);
	const uint64_t *s = ufr_shared_samples(nr);
	uint64_t *ns;

	if (!r || !r->used)
		return;
	ufr_report_merge(&e->sum, r);
	if (!r->nr_samples || !s)
		return;
	ns = realloc(e->samples, (e->nr_samples + r->nr_samples) * sizeof(*ns));
	if (!ns)
		return;
	memcpy(ns + e->nr_samples, s, r->nr_samples * sizeof(*ns));
	e->samples = ns;
	e->nr_samples += r->nr_samples;
	e->have_dist = true;
}

/*
 * The entries in fio's order: __show_run_stats() groups jobs this way.
 * The jobs are walked by number rather than with for_each_td(), whose form
 * changed in fio 3.34 (FIO_IOOPS_VERSION 32: it declares its own variables
 * and needs end_for_each()); tnumber_to_td() is the same in every version.
 */
static struct entry *collect_entries(size_t *nr)
{
	struct thread_data *td;
	struct entry *e;
	int last = -1;
	unsigned int i;
	size_t n = 0;

	e = calloc(thread_number ? thread_number : 1, sizeof(*e));
	if (!e)
		return NULL;
	for (i = 0; i < thread_number; i++) {
		td = tnumber_to_td(i);
		if (!td->o.stats)
			continue;
		if (n && (!td->o.group_reporting || last != (int)td->groupid))
			n++;
		else if (!n)
			n = 1;
		last = td->groupid;
		entry_add(&e[n - 1], td->thread_number);
	}
	*nr = n;
	return e;
}

static void free_entries(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].samples);
	free(e);
}

typedef char *(*render_fn)(const struct ufr_report *, const struct ufr_dist *);

/* The entry as text or JSON, with its per-buffer distribution if any. */
static char *entry_render(struct entry *e, render_fn render)
{
	struct ufr_dist d;

	if (!e->sum.used)
		return NULL;
	if (e->have_dist)
		ufr_dist_of(e->samples, e->nr_samples, &d);
	return render(&e->sum, e->have_dist ? &d : NULL);
}

static void free_strings(char **s, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		free(s[i]);
	free(s);
}

static char *amend_report(const char *buf, size_t len, size_t *outlen,
			  bool *drop)
{
	char **json = NULL, **text = NULL, *out = NULL;
	struct entry *e;
	size_t n = 0, i;

	/*
	 * fio prints no progress line when only JSON or terse goes to
	 * stdout, and tells by f_out == stdout, which our stream hides.
	 */
	if (ufr_out_orig == stdout && !(output_format & FIO_OUTPUT_NORMAL) &&
	    len >= 6 && !memcmp(buf, "Jobs: ", 6)) {
		*drop = true;
		return NULL;
	}
	if (getpid() != ufr_parent_pid ||
	    (!memmem(buf, len, "\"jobs\" : [", 10) &&
	     !memmem(buf, len, ": (groupid=", 11)))
		return NULL;

	e = collect_entries(&n);
	if (!e)
		return NULL;
	json = calloc(n + 1, sizeof(*json));
	text = calloc(n + 1, sizeof(*text));
	if (json && text) {
		for (i = 0; i < n; i++) {
			json[i] = entry_render(&e[i], ufr_report_json);
			text[i] = entry_render(&e[i], ufr_report_text);
		}
		out = ufr_splice_report(buf, len, (const char *const *)json,
					(const char *const *)text, n, outlen);
	}
	free_strings(json, n);
	free_strings(text, n);
	free_entries(e, n);
	return out;
}

static void write_stats_file(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(body, f) != EOF;

	if (f && fclose(f))
		ok = false;
	if (!ok)
		log_err("uring_folioreg: reg_stats=%s: cannot write it: %s; point reg_stats at a writable path\n",
			path, strerror(errno));
}

/* One document per reg_stats path, shaped like fio's: {"jobs": [...]}. */
static void write_stats_files(void)
{
	struct entry *e;
	size_t n = 0, i, k;
	char *body = NULL;
	size_t blen = 0;
	FILE *f;

	if (getpid() != ufr_parent_pid)
		return;
	e = collect_entries(&n);
	if (!e)
		return;
	for (i = 0; i < n; i++) {
		const char *path = e[i].sum.stats_path;
		bool first = true;

		if (!e[i].sum.used || !path[0])
			continue;
		/* Written already, with an earlier entry of the same path. */
		for (k = 0; k < i; k++)
			if (e[k].sum.used && !strcmp(e[k].sum.stats_path, path))
				break;
		if (k < i)
			continue;
		f = open_memstream(&body, &blen);
		if (!f)
			break;
		fprintf(f, "{\n\"jobs\" : [\n");
		for (k = i; k < n; k++) {
			char *obj;

			if (!e[k].sum.used || strcmp(e[k].sum.stats_path, path))
				continue;
			obj = entry_render(&e[k], ufr_report_json);
			fprintf(f,
				"%s{ \"jobname\" : \"%s\", \"groupid\" : %d,\n%s }",
				first ? "" : ",\n", e[k].sum.jobname,
				e[k].sum.groupid, obj ? obj : "");
			free(obj);
			first = false;
		}
		fprintf(f, "\n]\n}\n");
		if (!fclose(f))
			write_stats_file(path, body);
		free(body);
		body = NULL;
	}
	free_entries(e, n);
}

void ufr_fio_report_setup(void)
{
	static bool done;

	if (!done) {
		done = true;
		ufr_parent_pid = getpid();
		if (ufr_shared_init())
			log_err("uring_folioreg: no shared memory for the report; figures will be missing from fio's output\n");
		atexit(write_stats_files);
	}
	/* --output may have replaced f_out since the last job was loaded. */
	if (!is_backend && f_out && f_out != ufr_out) {
		FILE *w = ufr_outwrap(f_out, amend_report);

		if (w) {
			ufr_out_orig = f_out;
			ufr_out = f_out = w;
		}
	}
}

void ufr_fio_report_job(struct thread_data *td, const struct ufr_report *r,
			const uint64_t *samples)
{
	struct ufr_report *slot = ufr_shared_report(td->thread_number);
	uint64_t *s = ufr_shared_samples(td->thread_number);
	struct ufr_dist d;
	char *text, *json;
	uint64_t *tmp;

	if (slot) {
		*slot = *r;
		if (s && samples && r->nr_samples <= UFR_MAX_SAMPLES)
			memcpy(s, samples, r->nr_samples * sizeof(*s));
		else
			slot->nr_samples = 0;
	}
	if (!is_backend)
		return;

	/*
	 * fio --server: the client builds the report; say it as text, which
	 * the client prints as it comes. Only for normal output (the server
	 * parses the client's command line): text would break its JSON.
	 */
	tmp = r->nr_samples ? malloc(r->nr_samples * sizeof(*tmp)) : NULL;
	if (tmp) {
		memcpy(tmp, samples, r->nr_samples * sizeof(*tmp));
		ufr_dist_of(tmp, r->nr_samples, &d);
	}
	text = output_format & FIO_OUTPUT_NORMAL ?
		       ufr_report_text(r, tmp ? &d : NULL) :
		       NULL;
	if (text)
		log_info("%s: (groupid=%d)\n%s", td->o.name, td->groupid, text);
	if (r->stats_path[0]) {
		json = ufr_report_json(r, tmp ? &d : NULL);
		if (json) {
			char *doc = NULL;

			if (asprintf(
				    &doc,
				    "{\n\"jobs\" : [\n{ \"jobname\" : \"%s\", \"groupid\" : %d,\n%s }\n]\n}\n",
				    r->jobname, r->groupid, json) > 0)
				write_stats_file(r->stats_path, doc);
			free(doc);
		}
		free(json);
	}
	free(text);
	free(tmp);
}
