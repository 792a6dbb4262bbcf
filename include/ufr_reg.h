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
 * Register @n buffers as fixed buffers 0..n-1 of @ring, in @c's reg_mode.
 * With UFR_REG_EACH and @per_buffer_ns (room for @n), each buffer's time
 * goes there. On failure nothing stays registered and @err says why and
 * what to do, naming @c's strategy (and its backing, when the kernel
 * refuses to pin shared memory).
 */
int ufr_register(struct io_uring *ring, const struct iovec *iov, unsigned int n,
		 const struct ufr_config *c, struct ufr_reg_timing *t,
		 uint64_t *per_buffer_ns, struct ufr_err *err);

/*
 * reg_profile: where the kernel spends a job's register calls. A
 * software cpu-clock event on this thread (PERF_COUNT_SW_CPU_CLOCK every
 * 40 us, kernel call chains, user space excluded) is enabled right before
 * each timed register call and disabled right after it, outside the
 * timed window; each sample goes to its leaf kernel function when the
 * chain passes through io_uring_register, symbols from /proc/kallsyms.
 * Nothing is opened when the option is off.
 */
#define UFR_PROFILE_TOP 10
#define UFR_PROFILE_PERIOD_NS 40000

struct ufr_profile_fn {
	char function[64];
	uint64_t samples;
};

/* What a profile found: the top functions by samples. */
struct ufr_profile_summary {
	uint64_t samples; /* under io_uring_register, attributed */
	uint64_t outside; /* kernel samples not under io_uring_register */
	uint64_t lost; /* samples the ring buffer dropped */
	uint64_t calls; /* register calls profiled */
	unsigned int nr_top;
	struct ufr_profile_fn top[UFR_PROFILE_TOP];
};

/*
 * @s's top: the @n functions of @fns (reordered) with samples of one name
 * added up, the UFR_PROFILE_TOP with most samples, then by name.
 */
void ufr_profile_top(struct ufr_profile_summary *s, struct ufr_profile_fn *fns,
		     size_t n);

struct ufr_profiler;

/*
 * Open the event (disabled) and load the kernel's symbols; the calling
 * thread's register calls are profiled until the profiler is closed. On
 * failure @err holds the reason (no privilege, hidden kernel addresses)
 * and the job goes on without a profile.
 */
int ufr_profiler_open(struct ufr_profiler **out, struct ufr_err *err);

/* The top functions so far. */
void ufr_profiler_summary(struct ufr_profiler *p,
			  struct ufr_profile_summary *s);

void ufr_profiler_close(struct ufr_profiler *p);

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
 * a few times, then gives up with obs->held = -1 and the reason. @t is the
 * timing of the registration that stays.
 */
int ufr_register_observed(struct io_uring *ring, const struct iovec *iov,
			  unsigned int n, const struct ufr_config *c,
			  struct ufr_reg_timing *t, uint64_t *per_buffer_ns,
			  struct ufr_observation *obs, struct ufr_err *err);

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
		  const struct ufr_config *c, struct ufr_err *err);

#endif
