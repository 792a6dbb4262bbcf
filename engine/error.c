// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ufr_error.h"

int ufr_err_set(struct ufr_err *err, int errnum, const char *fmt, ...)
{
	static const char prefix[] = "uring_folioreg: ";
	va_list ap;

	snprintf(err->msg, sizeof(err->msg), "%s", prefix);
	va_start(ap, fmt);
	vsnprintf(err->msg + sizeof(prefix) - 1,
		  sizeof(err->msg) - sizeof(prefix) + 1, fmt, ap);
	va_end(ap);
	return -abs(errnum);
}
