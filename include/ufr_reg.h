/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_REG_H
#define UFR_REG_H

/*
 * The fourth stage: registration. The register and unregister calls, timed
 * around the calls alone; re-registration under load; and the kernel's own
 * account of what a registration left pinned, read from its pin counters
 * with every pinning call of the engine taking turns.
 */
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/uio.h>
#include <liburing.h>

#include "ufr_config.h"

struct ufr_profiler; /* ufr_profile.h */

static inline uint64_t ufr_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* What registration cost; the clock runs around the register calls only. */
struct ufr_reg_timing {
	uint64_t calls;
	uint64_t buffers;
	uint64_t bytes;
	uint64_t total_ns;
	uint64_t unreg_ns;
	uint64_t samples; /* per-buffer times kept: @buffers or 0 */
};

/*
 * Register @n buffers as fixed buffers 0..n-1 of @ring, in @c's reg_mode,
 * @prof (or NULL) sampling each register call.
 * With UFR_REG_EACH and @per_buffer_ns (room for @n), each buffer's time
 * goes there. On failure nothing stays registered and @err says why and
 * what to do, naming @c's strategy (and its backing, when the kernel
 * refuses to pin shared memory).
 */
int ufr_register(struct io_uring *ring, const struct iovec *iov, unsigned int n,
		 const struct ufr_config *c, struct ufr_profiler *prof,
		 struct ufr_reg_timing *t, uint64_t *per_buffer_ns,
		 struct ufr_err *err);

/* The machine-wide FOLL_PIN counters of /proc/vmstat at one moment. */
struct ufr_pins {
	int64_t acquired, released;
};

/*
 * Read them after folding the per-CPU deltas (/proc/sys/vm/stat_refresh),
 * which can hide thousands of pins. Returns 0; -EACCES when the fold is
 * not allowed (it needs root): then the counters are not exact and are
 * not read; -ENOENT when the kernel has no such counters.
 */
int ufr_pins_read(struct ufr_pins *p);

static inline int64_t ufr_pins_held(const struct ufr_pins *p)
{
	return p->acquired - p->released;
}

/* What a registration left pinned, by the kernel's own counters. */
struct ufr_observation {
	int64_t held; /* pins held: the bio_vecs built; -1 when unknown */
	int64_t acquired; /* pins the registration took; -1 when unknown */
	char note[UFR_NOTE_LEN]; /* why held is -1 */
};

/*
 * The engine's calls that pin or unpin (register, unregister,
 * re-register) take turns across all jobs of one fio, processes and
 * threads alike, so that the machine-wide counters read around one of
 * them see only it. Call once in fio's parent before jobs start.
 */
int ufr_reg_lock_init(void);

/*
 * ufr_register(), observed: the pin counters are read twice before and
 * twice after, and the figure is kept only when they did not move on
 * either side and the registration acquired exactly the pages its buffers
 * span (or two attempts agree). Otherwise it unregisters and tries again,
 * a few times, then gives up with obs->held = obs->acquired = -1 and the
 * reason. @t is the timing of the registration that stays.
 */
int ufr_register_observed(struct io_uring *ring, const struct iovec *iov,
			  unsigned int n, const struct ufr_config *c,
			  struct ufr_profiler *prof, struct ufr_reg_timing *t,
			  uint64_t *per_buffer_ns, struct ufr_observation *obs,
			  struct ufr_err *err);

/* Unregister (the kernel unpins here) and time it. */
int ufr_unregister(struct io_uring *ring, struct ufr_reg_timing *t);

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
	return r->interval_ns &&
	       ufr_now_ns(CLOCK_MONOTONIC_COARSE) >= r->next_ns;
}

/* With no I/O in flight: unregister, register the same buffers again. */
int ufr_rereg_run(struct ufr_rereg *r, struct io_uring *ring,
		  const struct iovec *iov, unsigned int n,
		  const struct ufr_config *c, struct ufr_profiler *prof,
		  struct ufr_err *err);

#endif
