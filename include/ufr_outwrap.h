/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_OUTWRAP_H
#define UFR_OUTWRAP_H

#include <stdbool.h>
#include <stdio.h>

/*
 * A write-only stream in front of @orig: every write is handed to @amend
 * first, which may return a malloc'd replacement (or NULL to pass the
 * text on as it is, or to drop it with *drop set).
 */
typedef char *(*ufr_amend_fn)(const char *buf, size_t len, size_t *outlen,
			      bool *drop);

FILE *ufr_outwrap(FILE *orig, ufr_amend_fn amend);

#endif
