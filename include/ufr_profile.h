/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_PROFILE_H
#define UFR_PROFILE_H

/*
 * reg_profile: where the kernel spends a job's register calls. One perf
 * event on the job's thread samples kernel call chains (user space
 * excluded): the processor's cycles counter where the host has one, the
 * most precise level it accepts first (its overflow interrupt is an NMI,
 * so it lands where the kernel runs even with interrupts off), else the
 * software cpu-clock every 40 us. The registrar enables it right before
 * each timed register call and disables it right after, outside the
 * timed window. A sample counts when its chain passes through
 * io_uring_register, for its leaf kernel function (/proc/kallsyms); a
 * leaf that re-enables interrupts (a timer sample deferred while they
 * were off lands there) gives the sample to the first caller in the chain
 * that does not. Nothing is opened when the option is off.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ufr_config.h"

#define UFR_PROFILE_TOP 10
#define UFR_PROFILE_PERIOD_NS 40000 /* cpu-clock's period */
#define UFR_PROFILE_HZ 25000 /* the cycles event's mean rate */

struct ufr_profile_fn {
	char function[64];
	uint64_t samples;
};

/* What a profile found: the event, the counts, the top functions. */
struct ufr_profile_summary {
	char event[16]; /* as perf names it: "cycles:pp", "cpu-clock" */
	uint64_t samples; /* under io_uring_register, attributed */
	uint64_t skid_moved; /* of those, moved off an irq-enable leaf */
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
 * Open the event (disabled; which one is probed once per process) and
 * load the kernel's symbols. On failure @err holds the reason (no
 * privilege, hidden kernel addresses) and the job goes on without a
 * profile.
 */
int ufr_profiler_open(struct ufr_profiler **out, struct ufr_err *err);

/* Around one register call; @p NULL: nothing. */
void ufr_profiler_on(struct ufr_profiler *p);
void ufr_profiler_off(struct ufr_profiler *p);

/* Attribute what the event's buffer holds; @p NULL: nothing. */
void ufr_profiler_drain(struct ufr_profiler *p);

/* The figures so far. */
void ufr_profiler_summary(struct ufr_profiler *p,
			  struct ufr_profile_summary *s);

void ufr_profiler_close(struct ufr_profiler *p);

/*
 * The attribution alone, for tests: a profiler with no event whose
 * symbols are read from @kallsyms (lines as /proc/kallsyms has them), fed
 * call chains (leaf first, as perf records them) by
 * ufr_profiler_chain().
 */
int ufr_profiler_from_symbols(struct ufr_profiler **out, FILE *kallsyms,
			      struct ufr_err *err);
void ufr_profiler_chain(struct ufr_profiler *p, const uint64_t *ips,
			uint64_t nr);

/* Whether kernel function @name is one that re-enables interrupts. */
bool ufr_profile_irq_on(const char *name);

#endif
