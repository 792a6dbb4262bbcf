/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_ERROR_H
#define UFR_ERROR_H

/*
 * One line for the user: "uring_folioreg: <what>: <value>: <why>; <fix>".
 * The fio-free modules fill it in and return a negative errno; the glue
 * prints it once with fio's logger.
 */
struct ufr_err {
	char msg[512];
};

/* Format the message (the "uring_folioreg: " prefix is added) and
 * return -errnum, so callers can "return ufr_err_set(...)". */
int ufr_err_set(struct ufr_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
