/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_REG_H
#define UFR_REG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
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

/* Re-registration under load (rereg_interval): when it is due and what it
 * cost. Only the register calls are timed, as for the first one. */
struct ufr_rereg {
	uint64_t interval_ns; /* 0: off */
	uint64_t next_ns;
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
};

void ufr_rereg_start(struct ufr_rereg *r, uint64_t interval_ns);

/* A coarse clock suffices: intervals are tens of milliseconds or more. */
static inline bool ufr_rereg_due(const struct ufr_rereg *r)
{
	struct timespec ts;

	if (!r->interval_ns)
		return false;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec >= r->next_ns;
}

/* With no I/O in flight: unregister, register the same buffers again. */
int ufr_rereg_run(struct ufr_rereg *r, struct io_uring *ring,
		  const struct iovec *iov, unsigned int n,
		  enum ufr_reg_mode mode, const char *what,
		  struct ufr_err *err);

#endif
