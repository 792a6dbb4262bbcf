// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "ufr_outwrap.h"

struct outwrap {
	FILE *orig;
	ufr_amend_fn amend;
};

static ssize_t ow_write(void *cookie, const char *buf, size_t len)
{
	struct outwrap *w = cookie;
	bool drop = false;
	size_t alen = 0;
	char *a = w->amend(buf, len, &alen, &drop);

	if (a) {
		fwrite(a, 1, alen, w->orig);
		free(a);
	} else if (!drop) {
		fwrite(buf, 1, len, w->orig);
	}
	/* Keep order with what goes to @orig directly (log_err). */
	fflush(w->orig);
	return len;
}

static int ow_close(void *cookie)
{
	struct outwrap *w = cookie;
	int ret = 0;

	if (w->orig == stdout || w->orig == stderr)
		fflush(w->orig);
	else
		ret = fclose(w->orig);
	free(w);
	return ret;
}

static const cookie_io_functions_t ow_funcs = {
	.write = ow_write,
	.close = ow_close,
};

FILE *ufr_outwrap(FILE *orig, ufr_amend_fn amend)
{
	struct outwrap *w = malloc(sizeof(*w));
	FILE *f;

	if (!w)
		return NULL;
	w->orig = orig;
	w->amend = amend;
	f = fopencookie(w, "w", ow_funcs);
	if (!f) {
		free(w);
		return NULL;
	}
	/* Unbuffered: each fwrite of fio's report arrives whole. */
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}
