/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_VERSION_H
#define UFR_VERSION_H

#include <stdbool.h>

#include "ufr_error.h"

/*
 * An external engine shares struct layouts with the fio that loads it, so
 * it may only run inside the fio version whose headers it was built with.
 * @running is the loader's fio_version_string (NULL if it exports none).
 * The refusal names the engine's own version too (UFR_VERSION, from the
 * VERSION file).
 */
bool ufr_fio_version_ok(const char *running, const char *built,
			struct ufr_err *err);

#endif
