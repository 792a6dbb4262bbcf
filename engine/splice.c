// SPDX-License-Identifier: GPL-2.0-only
/*
 * The splice: each job's rendered figures put into the report text fio
 * writes, in its places, for JSON and normal output alike.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ufr_splice.h"

static void put(FILE *out, const char *s, size_t n)
{
	fwrite(s, 1, n, out);
}

static const char *line_end(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', end - s);

	return nl ? nl + 1 : end;
}

/* @member, each line indented as fio indents its siblings, then ",\n". */
static void put_indented(FILE *out, const char *member, int indent)
{
	const char *l = member, *nl;

	for (; (nl = strchr(l, '\n')); l = nl + 1)
		fprintf(out, "%*s%.*s\n", indent, "", (int)(nl - l), l);
	fprintf(out, "%*s%s,\n", *l ? indent : 0, "", l);
}

/* A JSON document: after each "jobname" member line, the job's object. */
static bool splice_json(const char *text, size_t len, const char *const *json,
			size_t njobs, FILE *out)
{
	static const char key[] = "\"jobname\" : ";
	const char *end = text + len, *p = text, *hit;
	size_t k = 0;

	if (!memmem(text, len, "\"jobs\" : [", 10))
		return false;
	while ((hit = memmem(p, end - p, key, sizeof(key) - 1))) {
		const char *eol = line_end(hit, end);
		const char *bol = memrchr(text, '\n', hit - text);

		put(out, p, eol - p);
		if (k < njobs && json[k])
			put_indented(out, json[k],
				     hit - (bol ? bol + 1 : text));
		k++;
		p = eol;
	}
	put(out, p, end - p);
	return true;
}

/* Normal output: a job's block runs from its "name: (groupid=" line to
 * the next one, or to the blank line before "Run status group". */
static bool splice_normal(const char *text, size_t len,
			  const char *const *normal, size_t njobs, FILE *out)
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
		regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)n };
		bool is_hdr = !regexec(&hdr, line, 1, &m, REG_STARTEND);
		bool is_run = n > 17 && !strncmp(line, "Run status group", 16);

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
	char *buf = NULL;
	FILE *out = open_memstream(&buf, outlen);
	bool done;

	if (!out)
		return NULL;
	/* Neither writes anything before it knows the text is its kind. */
	done = splice_json(text, len, json, njobs, out) ||
	       splice_normal(text, len, normal, njobs, out);
	if (fclose(out) || !done) {
		free(buf);
		return NULL;
	}
	return buf;
}
