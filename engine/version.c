// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "ufr_version.h"

bool ufr_fio_version_ok(const char *running, const char *built,
			struct ufr_err *err)
{
	if (running && !strcmp(running, built))
		return true;

	ufr_err_set(
		err, EINVAL,
		"engine %s built for %s but loaded by %s; struct layouts differ, so it will not run. Rebuild it against this fio: make clean && make (Debian's fio), or make clean && make FIO_SRC=<source tree of %s>",
		UFR_VERSION, built, running ? running : "an unknown fio",
		running ? running : "this fio");
	return false;
}
