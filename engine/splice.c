// SPDX-License-Identifier: GPL-2.0-only
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ufr_splice.h"

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
