/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_RING_H
#define UFR_RING_H

#include <stdbool.h>
#include <liburing.h>

#include "ufr_config.h"

struct ufr_ring_opts {
	unsigned int depth; /* SQ entries; the CQ gets twice as many */
	bool iopoll; /* hipri */
	bool sqpoll; /* sqthread_poll */
	int sqpoll_cpu; /* -1: let the kernel place the SQ thread */
};

struct ufr_ring {
	struct io_uring ring;
	unsigned int setup_flags; /* what the kernel accepted */
	bool ring_fd_registered;
	bool sqpoll;
};

/*
 * Create a ring with the cheapest submission mode this kernel accepts,
 * falling back flag by flag where it refuses one.
 */
int ufr_ring_init(struct ufr_ring *r, const struct ufr_ring_opts *o,
		  struct ufr_err *err);
void ufr_ring_exit(struct ufr_ring *r);

/* Submit the @nr SQEs queued since the last call, retrying transient
 * refusals. Returns @nr or -errno. */
int ufr_ring_submit(struct ufr_ring *r, unsigned int nr);

/* Make at least @min completions visible (0: just flush pending task work
 * or poll once). Returns the number ready or -errno. */
int ufr_ring_reap(struct ufr_ring *r, unsigned int min);

/* Wait until @nr CQEs are in the ring, consuming none. */
int ufr_ring_wait_ready(struct ufr_ring *r, unsigned int nr);

/* The @i-th CQE counted from @head, without consuming it. */
static inline struct io_uring_cqe *
ufr_ring_cqe(struct ufr_ring *r, unsigned int head, unsigned int i)
{
	return &r->ring.cq.cqes[(head + i) & r->ring.cq.ring_mask];
}

/* A sparse table of @nr registered files (registerfiles). */
int ufr_ring_files_init(struct ufr_ring *r, unsigned int nr,
			struct ufr_err *err);
/* Put @fd (or -1: nothing) in slot @slot of the table; @name for errors. */
int ufr_ring_file_set(struct ufr_ring *r, unsigned int slot, int fd,
		      const char *name, struct ufr_err *err);

/* Space-separated names of the set-up flags in use, for the report. */
const char *ufr_ring_flag_names(unsigned int flags, char *buf, size_t len);

#endif
