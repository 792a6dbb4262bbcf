// SPDX-License-Identifier: GPL-2.0-only
/*
 * One job through the stages: configure -> plan -> map -> register ->
 * inspect, fio-free; the fio adapter calls each step where fio calls it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ufr_inspect.h"
#include "ufr_job.h"
#include "ufr_resolve.h"

void ufr_run_note(struct ufr_run *run, const char *fmt, ...)
{
	char note[UFR_NOTE_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	ufr_report_note(&run->r, "%s", note);
	if (run->say)
		run->say(run->ctx, note);
}

int ufr_run_name(struct ufr_run *run, const char *name, int groupid,
		 const char *reg_stats, struct ufr_err *err)
{
	struct ufr_report *r = &run->r;

	if (strlen(name) >= sizeof(r->jobname))
		return ufr_err_set(
			err, -ENAMETOOLONG,
			"name=: a job name of %zu bytes; give it a name under %zu bytes",
			strlen(name), sizeof(r->jobname));
	r->used = true;
	r->groupid = groupid;
	snprintf(r->jobname, sizeof(r->jobname), "%s", name);
	if (!reg_stats)
		return 0;
	/* It can be opened, so it is shorter than PATH_MAX. */
	snprintf(r->stats_path, sizeof(r->stats_path), "%s", reg_stats);
	return ufr_stats_path_check(reg_stats, err);
}

/* The report's account of the configuration, before anything is run. */
static void report_config(struct ufr_run *run, bool reg_profile)
{
	static const char none[] = "reg_strategy=none registers nothing";
	const struct ufr_config *c = &run->cfg;
	struct ufr_report *r = &run->r;

	snprintf(r->strategy, sizeof(r->strategy), "%s",
		 ufr_strategy_name(c->strategy));
	snprintf(r->mode, sizeof(r->mode), "%s",
		 c->mode == UFR_REG_EACH ? "each" : "batch");
	if (!ufr_strategy_uses_fio_memory(c->strategy))
		snprintf(r->backing, sizeof(r->backing), "%s",
			 ufr_backing_name(c->backing));
	r->numa_requested = c->numa_node;
	r->max_buffer_bytes = (int64_t)run->machine.max_buffer_bytes;
	snprintf(r->max_buffer_how, sizeof(r->max_buffer_how), "%s",
		 run->machine.max_buffer_probed ? "probe" : "version");
	if (!run->machine.max_buffer_probed)
		ufr_run_note(
			run,
			"max_buffer_bytes is kernel %s's by its version: %s",
			run->machine.release, run->machine.max_buffer_why);
	/* Until registration measures them: no pins seen, no profile. */
	r->obs.held = -1;
	r->obs.acquired = -1;
	if (c->strategy == UFR_STRAT_NONE) {
		snprintf(r->obs.note, sizeof(r->obs.note), "%s", none);
		snprintf(r->profile_note, sizeof(r->profile_note), "%s", none);
	} else if (!reg_profile) {
		snprintf(r->profile_note, sizeof(r->profile_note),
			 "reg_profile=0");
	}
}

int ufr_run_configure(struct ufr_run *run, bool reg_profile,
		      struct ufr_err *err)
{
	struct ufr_config *c = &run->cfg;
	bool is_auto = c->strategy == UFR_STRAT_AUTO;
	int ret;

	ufr_machine_probe(&run->machine, NULL, c->hugetlbfs_path);
	ret = ufr_resolve(c, &run->machine, &run->bufs.plan, err);
	if (ret)
		return ret;
	if (is_auto)
		ufr_run_note(run,
			     "reg_strategy=auto chose %s on %s folios (%s)",
			     ufr_strategy_name(c->strategy),
			     ufr_folio_name(c->folio), c->auto_reason);
	report_config(run, reg_profile);
	return 0;
}

int ufr_run_map(struct ufr_run *run, size_t min_len, struct ufr_err *err)
{
	return ufr_bufset_map(&run->bufs, &run->cfg, min_len, err);
}

int ufr_run_adopt(struct ufr_run *run, void *const *bufs, unsigned int n,
		  size_t len, void *mem, size_t mem_len, struct ufr_err *err)
{
	int ret = ufr_bufset_from_bufs(&run->bufs, bufs, n, len);

	if (ret)
		return ufr_err_set(err, ret,
				   "%s: no memory to index %u buffers",
				   run->r.jobname, n);
	/* Untouched for reads: fault it in now, so that registration times
	 * pinning, as for the engine's own memory, not page faults. */
	ret = ufr_prefault(mem, mem_len, true);
	if (ret)
		ufr_run_note(
			run,
			"fio's buffer memory could not be faulted in before registering (%s): reg times include page faults",
			strerror(-ret));
	return 0;
}

/*
 * reg_profile=1: sample the kernel during this job's register calls from
 * here on (the rules probe's are not its own). Without privilege the job
 * runs without a profile and says why.
 */
static void profile_start(struct ufr_run *run)
{
	static const char prefix[] = "uring_folioreg: ";
	struct ufr_err err;

	if (ufr_profiler_open(&run->prof, &err)) {
		snprintf(run->r.profile_note, sizeof(run->r.profile_note),
			 "%.*s", (int)sizeof(run->r.profile_note) - 1,
			 err.msg + sizeof(prefix) - 1);
		ufr_run_note(run, "%s", run->r.profile_note);
		return;
	}
	ufr_report_note(
		&run->r,
		"reg_profile: the samples are taken inside the timed register calls, so reg.total_ns and rereg include their cost (up to 2x); take times from a run without reg_profile");
}

int ufr_run_register(struct ufr_run *run, struct io_uring *ring,
		     bool reg_profile, uint64_t rereg_ns, struct ufr_err *err)
{
	struct ufr_bufset *s = &run->bufs;
	int ret;

	if (run->cfg.mode == UFR_REG_EACH) {
		run->samples = calloc(s->nr_iov, sizeof(*run->samples));
		if (!run->samples)
			return ufr_err_set(
				err, -ENOMEM,
				"reg_mode=each: no memory for %u times",
				s->nr_iov);
	}
	ufr_rules_probe(&run->machine, &run->r.rules);
	if (reg_profile)
		profile_start(run);
	ret = ufr_register_observed(ring, s->iov, s->nr_iov, &run->cfg,
				    run->prof, &run->r.reg, run->samples,
				    &run->r.obs, err);
	if (!ret)
		ufr_rereg_start(&run->r.rereg, rereg_ns);
	return ret;
}

int ufr_run_inspect(struct ufr_run *run, size_t fio_folio_bytes,
		    struct ufr_err *err)
{
	struct ufr_report *r = &run->r;
	int ret, bad = 0;
	size_t folio = ufr_strategy_uses_fio_memory(run->cfg.strategy) ?
			       fio_folio_bytes :
			       run->cfg.folio_bytes;

	if (ufr_bufset_segments(&run->bufs, folio, r->rules.rules, &r->seg))
		return ufr_err_set(err, -ENOMEM,
				   "%s: no memory to inspect the buffers",
				   r->jobname);
	ret = ufr_bufset_pages_by_node(&run->bufs, r->pages_by_node, &bad);
	r->numa_known = !ret;
	/* move_pages(2) itself failing (no NUMA in the kernel) is null
	 * enough; a page it cannot place is said. */
	if (ret > 0)
		ufr_run_note(
			run,
			"numa.pages_by_node is null: move_pages(2) could not say where a registered page is (status %d%s%s)",
			bad,
			bad < 0 ? ": " : ", a node over the engine's limit",
			bad < 0 ? strerror(-bad) : "");
	/* THP is a request, not a promise: say when it was not met. */
	if (r->seg.from_pagemap && r->seg.min_folio_bytes < folio)
		ufr_run_note(
			run,
			"asked for %zu KiB folios, got %llu to %llu KiB ones",
			folio >> 10,
			(unsigned long long)r->seg.min_folio_bytes >> 10,
			(unsigned long long)r->seg.max_folio_bytes >> 10);
	/* Both figures stay; the difference is a finding, not noise. */
	if (r->obs.held >= 0 && (uint64_t)r->obs.held != r->seg.bvecs)
		ufr_run_note(
			run,
			"the kernel holds %lld pins where %s rules (%s) predict %llu bio_vecs: this kernel coalesces differently",
			(long long)r->obs.held, ufr_rules_name(r->rules.rules),
			r->rules.how, (unsigned long long)r->seg.bvecs);
	return 0;
}

void ufr_run_unregister(struct ufr_run *run, struct io_uring *ring)
{
	int ret = ufr_unregister(ring, &run->r.reg);

	if (ret)
		ufr_run_note(
			run,
			"unregistering the buffers failed (%s): unreg_ns is not measured; the ring's exit unpins them",
			strerror(-ret));
}

void ufr_run_finish(struct ufr_run *run)
{
	if (!run->prof)
		return;
	ufr_profiler_summary(run->prof, &run->r.profile);
	run->r.profiled = true;
}

void ufr_run_free(struct ufr_run *run)
{
	ufr_profiler_close(run->prof);
	run->prof = NULL;
	free(run->samples);
	run->samples = NULL;
	ufr_bufset_free(&run->bufs);
}
