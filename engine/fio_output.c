// SPDX-License-Identifier: GPL-2.0-only
/*
 * Getting each job's figures into fio's output: the one file that does.
 *
 * Jobs leave their struct ufr_report (plain data) and per-buffer times in
 * memory shared with fio's parent (mapped when fio loads the engine,
 * before it forks). The parent's output stream is wrapped so that fio's
 * final report gets the figures spliced in where it is written (normal
 * and JSON), and reg_stats files are written when the parent exits. A
 * server (fio --server) cannot amend its client's report, so its jobs
 * print their block as text, which the client shows, and the last of
 * them every entry's JSON on a line of its own.
 *
 * What it relies on in fio (3.33 to 3.42):
 * - get_ioengine() runs in the parent for every job, after --output has
 *   set f_out and before the jobs fork; threads share the parent's memory.
 * - Every line of the report goes through f_out, which the engine may
 *   replace (fio's log_info_buf writes with fwrite to f_out).
 * - fio prints progress lines ("Jobs: ...") to f_out only when it is
 *   stdout and normal output is on; it decides by f_out == stdout.
 * - The JSON report holds "jobs" : [ with one entry per job or group,
 *   each opening with its "jobname" line; normal output opens each with
 *   "<name>: (groupid=".
 * - Entries come in thread number order, groups folded as
 *   __show_run_stats() folds them (group_reporting, td->groupid, stats).
 * - td->thread_number numbers the jobs from 1, REAL_MAX_JOBS at most.
 * - tnumber_to_td(), thread_number, is_backend, output_format, log_err()
 *   and log_info() are exported; fio frees job options before atexit
 *   handlers run, so names and paths are copied into the shared report.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fio.h"

#include "ufr_fio.h"
#include "ufr_splice.h"

/* fio runs at most this many jobs (REAL_MAX_JOBS). */
#define UFR_MAX_JOBS 4096
#define UFR_MAX_SAMPLES 16384

/*
 * Memory fio's parent maps before it forks the jobs, so that each job
 * process (or thread) leaves its report and per-buffer times where the
 * parent prints them. Reserved, not committed: only what jobs write is
 * used.
 */
struct ufr_slot {
	struct ufr_report r;
	uint64_t samples[UFR_MAX_SAMPLES];
};

static struct ufr_slot *slots;

/* Job @nr's slot, or NULL. */
static struct ufr_slot *ufr_slot(unsigned int nr)
{
	return slots && nr && nr <= UFR_MAX_JOBS ? &slots[nr - 1] : NULL;
}

/* fio --server: how many jobs of the run have reported (shared). */
static unsigned int *reported;

static FILE *ufr_out; /* our stream in front of fio's f_out */
static pid_t ufr_parent_pid; /* the process that prints the report */

/*
 * One output entry of fio: a job, or a group under group_reporting,
 * named as fio names it (its first job) and with that job's reg_stats.
 * @samples: the per-buffer times of all its jobs, or NULL when a job has
 * none (a distribution of some buffers only would be wrong).
 */
struct entry {
	struct ufr_report sum;
	uint64_t *samples;
	size_t nr_samples;
};

static void entry_drop_samples(struct entry *e)
{
	free(e->samples);
	e->samples = NULL;
	e->nr_samples = 0;
}

/* Fold a job's figures and its r->reg.samples per-buffer times in. */
static void entry_add(struct entry *e, const struct ufr_report *r,
		      const uint64_t *samples)
{
	/* Jobs with and without per-buffer samples: no distribution. */
	bool partial = e->sum.used && !e->samples != !r->reg.samples;
	size_t n = r->reg.samples;
	uint64_t *ns;

	ufr_report_merge(&e->sum, r);
	if (partial)
		entry_drop_samples(e);
	if (partial || !n)
		return;
	ns = realloc(e->samples, (e->nr_samples + n) * sizeof(*ns));
	if (!ns) {
		entry_drop_samples(e);
		ufr_report_note(
			&e->sum,
			"per-buffer min, p50, p99 and max left out: no memory to gather the samples");
		return;
	}
	memcpy(ns + e->nr_samples, samples, n * sizeof(*ns));
	e->samples = ns;
	e->nr_samples += n;
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
	struct ufr_slot *slot;
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
		slot = ufr_slot(td->thread_number);
		if (slot && slot->r.used)
			entry_add(&e[n - 1], &slot->r, slot->samples);
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
	if (e->samples)
		ufr_dist_of(e->samples, e->nr_samples, &d);
	return render(&e->sum, e->samples ? &d : NULL);
}

/*
 * @buf, if it is fio's final report written by fio's parent, as a
 * malloc'd copy with each entry's figures in it (length *@outlen); else
 * NULL.
 */
static char *amend_report(const char *buf, size_t len, size_t *outlen)
{
	char **s, *out = NULL; /* each entry's JSON member, then its text */
	struct entry *e;
	size_t n = 0, i;

	if (getpid() != ufr_parent_pid ||
	    (!memmem(buf, len, "\"jobs\" : [", 10) &&
	     !memmem(buf, len, ": (groupid=", 11)))
		return NULL;
	e = collect_entries(&n);
	if (!e)
		return NULL;
	s = calloc(2 * n + 1, sizeof(*s));
	if (s) {
		for (i = 0; i < n; i++) {
			s[i] = entry_render(&e[i], ufr_report_json);
			s[n + i] = entry_render(&e[i], ufr_report_text);
		}
		out = ufr_splice_report(buf, len, (const char *const *)s,
					(const char *const *)s + n, n, outlen);
		for (i = 0; i < 2 * n; i++)
			free(s[i]);
		free(s);
	}
	free_entries(e, n);
	return out;
}

/* Our stream in front of fio's f_out (@cookie): every write of fio's. */
static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	FILE *orig = cookie;
	size_t alen = 0;
	char *a;

	/*
	 * fio prints no progress line when only JSON or terse goes to
	 * stdout, and tells by f_out == stdout, which our stream hides.
	 */
	if (orig == stdout && !(output_format & FIO_OUTPUT_NORMAL) &&
	    len >= 6 && !memcmp(buf, "Jobs: ", 6))
		return len;
	a = amend_report(buf, len, &alen);
	fwrite(a ? a : buf, 1, a ? alen : len, orig);
	free(a);
	/* Keep order with what goes to @orig directly (log_err). */
	fflush(orig);
	return len;
}

static int out_close(void *cookie)
{
	FILE *orig = cookie;

	if (orig != stdout && orig != stderr)
		return fclose(orig);
	fflush(orig);
	return 0;
}

/*
 * reg_stats_each: "reg_times_ns", each buffer's registration time in the
 * order they were registered (the group's jobs one after the other), or
 * null when the entry has no per-buffer times.
 */
static void write_times(FILE *f, const struct entry *e)
{
	size_t i;

	fputs("\"reg_times_ns\" : ", f);
	if (!e->samples) {
		fputs("null,\n", f);
		return;
	}
	for (i = 0; i < e->nr_samples; i++)
		fprintf(f, "%s%" PRIu64, i ? (i % 16 ? ", " : ",\n  ") : "[ ",
			e->samples[i]);
	fputs(e->nr_samples ? " ],\n" : "[],\n", f);
}

/*
 * reg_stats: one document per path, shaped like fio's ({"jobs": [...]}),
 * holding every entry of @e whose reg_stats is @path.
 */
static void write_stats(const char *path, struct entry *e, size_t n)
{
	FILE *f = fopen(path, "w");
	bool first = true;
	size_t k;
	char *obj;
	int ok;

	if (!f) {
		log_err("uring_folioreg: reg_stats=%s: cannot write it: %s; point reg_stats at a writable path\n",
			path, strerror(errno));
		return;
	}
	fprintf(f, "{\n\"jobs\" : [\n");
	for (k = 0; k < n; k++) {
		if (!e[k].sum.used || strcmp(e[k].sum.stats_path, path))
			continue;
		fprintf(f, "%s{ \"jobname\" : ", first ? "" : ",\n");
		ufr_json_string(f, e[k].sum.jobname);
		fprintf(f, ", \"groupid\" : %d,\n", e[k].sum.groupid);
		/* Before rendering, which sorts the samples. */
		if (e[k].sum.stats_times)
			write_times(f, &e[k]);
		obj = entry_render(&e[k], ufr_report_json);
		fprintf(f, "%s }", obj ? obj : "\"uring_folioreg\" : null");
		free(obj);
		first = false;
	}
	fprintf(f, "\n]\n}\n");
	ok = !ferror(f);
	if (fclose(f) || !ok)
		log_err("uring_folioreg: reg_stats=%s: writing it failed: %s; point reg_stats at a writable path with space\n",
			path, strerror(errno));
}

/* In fio's parent at exit: every reg_stats path, once. */
static void write_stats_files(void)
{
	struct entry *e;
	size_t n = 0, i, k;

	if (getpid() != ufr_parent_pid)
		return;
	e = collect_entries(&n);
	if (!e)
		return;
	for (i = 0; i < n; i++) {
		if (!e[i].sum.used || !e[i].sum.stats_path[0])
			continue;
		/* Written already, with an earlier entry of the same path. */
		for (k = 0; k < i; k++)
			if (e[k].sum.used &&
			    !strcmp(e[k].sum.stats_path, e[i].sum.stats_path))
				break;
		if (k == i)
			write_stats(e[i].sum.stats_path, e, n);
	}
	free_entries(e, n);
}

void ufr_fio_report_init(void)
{
	void *p;

	ufr_parent_pid = getpid();
	p = mmap(NULL, UFR_MAX_JOBS * sizeof(*slots), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		slots = p;
	else
		log_err("uring_folioreg: no shared memory for the report; figures will be missing from fio's output\n");
	p = mmap(NULL, sizeof(*reported), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	reported = p != MAP_FAILED ? p : NULL;
	atexit(write_stats_files);
}

void ufr_fio_report_out(void)
{
	static const cookie_io_functions_t out_funcs = {
		.write = out_write,
		.close = out_close,
	};
	FILE *w;

	/* --output may have replaced f_out since the last job was loaded. */
	if (is_backend || !f_out || f_out == ufr_out)
		return;
	w = fopencookie(f_out, "w", out_funcs);
	if (!w)
		return;
	/* Unbuffered: each fwrite of fio's report arrives whole. */
	setvbuf(w, NULL, _IONBF, 0);
	ufr_out = f_out = w;
}

void ufr_fio_note(const char *job, const char *note)
{
	/*
	 * Not through log_err(): it writes to f_err as well, which --output
	 * makes the output file, where a note lands before the report (fio
	 * threads share the parent's stream; a job process's copy of it is
	 * never flushed). A server sends it to its client, which prints it
	 * in its output: only where that is text.
	 */
	if (is_backend && output_format & FIO_OUTPUT_NORMAL)
		log_err("uring_folioreg note: %s: %s\n", job, note);
	else
		fprintf(stderr, "uring_folioreg note: %s: %s\n", job, note);
}

/*
 * fio --server, once every job of the run has reported: each entry (a
 * job, or a group folded as fio folds it) as one line of its JSON,
 * "uring_folioreg json: {"jobname": ..., "groupid": N, "uring_folioreg":
 * {...}}", for a client that reads the figures (a fio client's JSON is
 * built from fio's own structs and cannot carry them).
 */
static void backend_json_lines(void)
{
	struct entry *e;
	size_t n = 0, i, len;
	char *obj, *line, *c;
	FILE *f;

	e = collect_entries(&n);
	for (i = 0; e && i < n; i++) {
		obj = entry_render(&e[i], ufr_report_json);
		f = obj ? open_memstream(&line, &len) : NULL;
		if (f) {
			fprintf(f, "uring_folioreg json: { \"jobname\" : ");
			ufr_json_string(f, e[i].sum.jobname);
			fprintf(f, ", \"groupid\" : %d, %s }", e[i].sum.groupid,
				obj);
			if (!fclose(f)) {
				/* JSON strings hold no raw newline: one line. */
				for (c = line; *c; c++)
					*c = *c == '\n' ? ' ' : *c;
				log_info("%s\n", line);
			}
			free(line);
		}
		free(obj);
	}
	if (e)
		free_entries(e, n);
}

void ufr_fio_report_job(struct thread_data *td, const struct ufr_report *r,
			const uint64_t *samples)
{
	struct ufr_slot *slot = ufr_slot(td->thread_number);
	struct entry one = { 0 };
	char *text;

	if (slot) {
		slot->r = *r;
		if (samples && r->reg.samples <= UFR_MAX_SAMPLES)
			memcpy(slot->samples, samples,
			       r->reg.samples * sizeof(*samples));
		else
			slot->r.reg.samples = 0;
	}
	if (!is_backend)
		return;

	/*
	 * fio --server: the client builds the report; say it as text, which
	 * the client prints as it comes. Only for normal output (the server
	 * parses the client's command line): text would break its JSON.
	 */
	entry_add(&one, r, samples);
	text = output_format & FIO_OUTPUT_NORMAL ?
		       entry_render(&one, ufr_report_text) :
		       NULL;
	if (text)
		log_info("%s: (groupid=%d)\n%s", td->o.name, td->groupid, text);
	if (text && reported &&
	    __atomic_add_fetch(reported, 1, __ATOMIC_SEQ_CST) == thread_number)
		backend_json_lines();
	if (r->stats_path[0])
		write_stats(r->stats_path, &one, 1);
	free(text);
	free(one.samples);
}
