/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_RING_H
#define UFR_RING_H

#include <errno.h>
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
	/* io_uring_enter's fd and extra flags: the registered ring's
	 * index and IORING_ENTER_REGISTERED_RING, or the ring's fd and 0 */
	unsigned int enter_fd;
	unsigned int enter_flags;
};

/*
 * Create a ring with the cheapest submission mode this kernel accepts,
 * falling back flag by flag where it refuses one.
 */
int ufr_ring_init(struct ufr_ring *r, const struct ufr_ring_opts *o,
		  struct ufr_err *err);
void ufr_ring_exit(struct ufr_ring *r);

/*
 * The data path works on the rings in place, as fio's own io_uring engine
 * does: liburing 2.3 makes io_uring_get_sqe and io_uring_submit function
 * calls, which cost more per I/O than the few loads and stores they do.
 * The SQ tail and head are liburing's (sq.sqe_tail, sq.sqe_head), so
 * SQEs from io_uring_get_sqe are submitted here too.
 */

/* io_uring_enter(2) on this ring (liburing's: the result or -errno). */
static inline int ufr_ring_enter(const struct ufr_ring *r, unsigned int submit,
				 unsigned int min, unsigned int flags)
{
	return io_uring_enter(r->enter_fd, submit, min, flags | r->enter_flags,
			      NULL);
}

/* The next free SQE, or NULL when the SQ is full. */
static inline struct io_uring_sqe *ufr_ring_get_sqe(struct ufr_ring *r)
{
	struct io_uring_sq *sq = &r->ring.sq;
	unsigned int tail = sq->sqe_tail;

	/* An SQ thread moves the head while we fill: acquire. */
	if (tail - __atomic_load_n(sq->khead, __ATOMIC_ACQUIRE) >=
	    sq->ring_entries)
		return NULL;
	sq->sqe_tail = tail + 1;
	return &sq->sqes[tail & sq->ring_mask];
}

int ufr_ring_submit_rest(struct ufr_ring *r, unsigned int nr, int ret);
int ufr_ring_sqpoll_kick(struct ufr_ring *r, unsigned int nr);

/*
 * Submit the @nr SQEs filled since the last call, retrying transient
 * refusals. Returns @nr or -errno. Without an SQ thread this is one
 * io_uring_enter, which also runs the completion work deferred so far
 * (IORING_ENTER_GETEVENTS with no wait), as fio's engine does: what
 * completed is then in the CQ for the next reap without another enter.
 */
static inline int ufr_ring_submit(struct ufr_ring *r, unsigned int nr)
{
	struct io_uring_sq *sq = &r->ring.sq;
	int ret;

	sq->sqe_head = sq->sqe_tail;
	__atomic_store_n(sq->ktail, sq->sqe_tail, __ATOMIC_RELEASE);
	if (__builtin_expect(r->sqpoll, 0))
		return ufr_ring_sqpoll_kick(r, nr);
	ret = ufr_ring_enter(r, nr, 0, IORING_ENTER_GETEVENTS);
	if (__builtin_expect(ret == (int)nr, 1))
		return ret;
	return ufr_ring_submit_rest(r, nr, ret);
}

/* Wait until @nr CQEs are in the ring, consuming none. */
int ufr_ring_wait_ready(struct ufr_ring *r, unsigned int nr);
int ufr_ring_reap_slow(struct ufr_ring *r, unsigned int min);

/* Make at least @min completions visible (0: just flush pending task work
 * or poll once when none is there). Returns the number ready or -errno. */
static inline int ufr_ring_reap(struct ufr_ring *r, unsigned int min)
{
	unsigned int ready = io_uring_cq_ready(&r->ring);

	if (__builtin_expect(ready >= min && (ready || r->sqpoll), 1))
		return (int)ready;
	return ufr_ring_reap_slow(r, min);
}

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
