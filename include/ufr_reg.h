/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_REG_H
#define UFR_REG_H

#include <stdint.h>
#include <sys/uio.h>
#include <liburing.h>

#include "ufr_error.h"

enum ufr_reg_mode {
	UFR_REG_BATCH, /* one IORING_REGISTER_BUFFERS for every buffer */
	UFR_REG_EACH, /* sparse table, then one update per buffer */
};

/* What registration cost; the clock runs around the register calls only. */
struct ufr_reg_timing {
	unsigned int calls;
	unsigned int buffers;
	uint64_t bytes;
	uint64_t total_ns;
	uint64_t unreg_ns;
	uint64_t *per_buffer_ns; /* UFR_REG_EACH: one per buffer */
};

/*
 * Register @n buffers as fixed buffers 0..n-1 of @ring. On failure nothing
 * stays registered and @err says why and what to do; @what names the
 * strategy in that message.
 */
int ufr_register(struct io_uring *ring, const struct iovec *iov, unsigned int n,
		 enum ufr_reg_mode mode, const char *what,
		 struct ufr_reg_timing *t, struct ufr_err *err);

/* Unregister (the kernel unpins here) and time it. */
int ufr_unregister(struct io_uring *ring, struct ufr_reg_timing *t);

void ufr_reg_timing_free(struct ufr_reg_timing *t);

#endif
