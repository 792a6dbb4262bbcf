/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_SPLICE_H
#define UFR_SPLICE_H

#include <stddef.h>

/*
 * Add each job's figures to fio's final report as it is written: @json[k]
 * (a JSON member, "name" : value) goes into the k-th entry of a JSON
 * document's "jobs" array, after its "jobname" line; @normal[k] (text
 * lines) goes after the k-th job's block of normal output. Either list
 * may hold NULLs. Returns a malloc'd amended copy and its length, or NULL
 * when @text is no report (progress lines, terse output).
 */
char *ufr_splice_report(const char *text, size_t len, const char *const *json,
			const char *const *normal, size_t njobs,
			size_t *outlen);

#endif
