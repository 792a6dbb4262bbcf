// SPDX-License-Identifier: GPL-2.0-only
/*
 * uring_folioreg: an io_uring engine for fio on fixed buffers laid out,
 * backed and registered as the job asks, reporting what registration cost
 * and what the kernel built. This file is what fio sees: the option table
 * first, then the hooks in the order fio calls them, the ops table last.
 * The work is done by the fio-free job pipeline (ufr_job.h: configure,
 * map, register, inspect) over the stages (ufr_*.h); this file keeps the
 * ring and the data path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fio.h"
#include "optgroup.h"
#include "verify.h"

#include "engines/cmdprio.h"

#include "ufr_fio.h"
#include "ufr_job.h"
#include "ufr_ring.h"

/*
 * fio 3.42 (FIO_IOOPS_VERSION 39, like 3.41) added end_syncfs: a
 * DDIR_SYNCFS command, built where configure found syncfs(2).
 */
#if FIO_IOOPS_VERSION >= 39 && defined(CONFIG_SYNCFS)
#define UFR_FLAG_SYNCFS FIO_ASYNCIO_SYNC_SYNCFS
#define UFR_IS_SYNCFS(ddir) ((ddir) == DDIR_SYNCFS)
#else
#define UFR_FLAG_SYNCFS 0
#define UFR_IS_SYNCFS(ddir) 0
#endif

/*
 * Strategies on fio's memory (iomem, none) leave the buffers to fio. Since
 * fio 3.34 (FIO_IOOPS_VERSION 32), FIO_SKIPPABLE_IOMEM_ALLOC has fio use
 * its own allocator when the job sets iomem=, and our hooks otherwise;
 * it is an enum constant, so the version tells whether it is there.
 */
#if FIO_IOOPS_VERSION >= 32
#define UFR_FLAG_IOMEM FIO_SKIPPABLE_IOMEM_ALLOC
#else
#define UFR_FLAG_IOMEM 0
#endif

/* Linux 6.14's uncached buffered I/O; glibc 2.36 does not know it. */
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x00000080
#endif

/* Weak: a fio that exports no version string is refused, not crashed. */
extern const char fio_version_string[] __attribute__((weak));

/* The engine's options, as fio stores them (td->eo). */
struct ufr_options {
	void *td; /* fio stores the thread_data pointer here */
	unsigned int strategy, folio, backing, mode; /* the enums of config */
	char *hugetlbfs_path;
	int numa_node;
	unsigned long long rereg_usec;
	char *reg_stats;
	unsigned int reg_profile;
	/* fio's io_uring engine's options, for job files written for it */
	unsigned int registerfiles, sqpoll, hipri;
	unsigned int sqpoll_cpu, sqpoll_cpu_set;
	unsigned int no_fixedbufs; /* fixedbufs=0: reg_strategy=none */
	int nonvectored;
	unsigned int uncached, nowait, force_async, cmd_type;
	struct cmdprio_options cmdprio_options;
	/* fio's NVMe passthrough options (io_uring_cmd), fio 3.36 on */
	unsigned int readfua, writefua, write_mode, verify_mode, deac;
	unsigned int md_per_io_size, pi_act, apptag, apptag_mask;
	char *pi_chk;
};

struct ufr_job {
	struct ufr_ring ring;
	/* the pipeline's: config, memory, figures (ufr_job.h) */
	struct ufr_run run;
	bool fixed_bufs;
	bool fixed_files;
	bool bufs_registered;
	bool said_hipri;

	/* queued since the last commit, for issue-time accounting */
	struct io_u **pending;
	unsigned int nr_pending;
	unsigned int inflight;

	/* CQEs handed to fio by the last getevents, consumed at the next */
	unsigned int cq_head;
	unsigned int nr_events;

	/* fio's io_uring options: priorities, flags, vectored commands */
	struct cmdprio cmdprio;
	unsigned int rw_flags;
	uint8_t rw_ops[2]; /* the opcode of a read, of a write */
	uint8_t sqe_flags; /* IOSQE_FIXED_FILE with registerfiles */
	unsigned int force_async, nr_prepped;
	struct iovec *vecs; /* nonvectored=0 without fixed buffers */
};

/*
 * fio parses a time as unsigned: "-5" arrives as a huge number of
 * microseconds, and a rereg that never comes. Nobody re-registers less
 * often than hourly; refuse anything above.
 */
#define UFR_REREG_MAX_USEC (3600ULL * 1000000)

static int ufr_sqpoll_cpu_cb(void *data, unsigned long long *val)
{
	struct ufr_options *o = data;

	o->sqpoll_cpu = *val;
	o->sqpoll_cpu_set = 1;
	return 0;
}

/*
 * One option: fio's name and long name, its type, the member of struct
 * ufr_options it sets, its default (NULL: none) and help, then any other
 * initialisers (.posval, .cb, ...). A .cb gets the value instead of the
 * member. One option a line, one posval a line.
 */
/* clang-format off */
#define UFR_OFF(member) offsetof(struct ufr_options, member)
#define UFR_OPT(nm, lnm, kind, member, dflt, text, ...)				\
	{ .name = nm, .lname = lnm, .type = kind, .off1 = UFR_OFF(member),	\
	  .def = dflt, .help = text, .category = FIO_OPT_C_ENGINE,		\
	  .group = FIO_OPT_G_IOURING, __VA_ARGS__ }
#define UFR_VAL(value, num, text) { .ival = value, .oval = num, .help = text }
/* reg_folio=16k to 512k */
#define UFR_MTHP(kib) UFR_VAL(#kib "k", UFR_FOLIO_##kib##K, #kib " KiB multi-size THP (coalesced, per_folio)")

static struct fio_option ufr_options[] = {
	UFR_OPT("reg_strategy", "Buffer registration strategy", FIO_OPT_STR, strategy, "iomem", "How I/O buffers are laid out, backed and registered", .posval = {
		UFR_VAL("iomem", UFR_STRAT_IOMEM, "fio's buffer memory (iomem=), one registered buffer per io_u, as io_uring fixedbufs=1"),
		UFR_VAL("none", UFR_STRAT_NONE, "No registered buffers: plain READ/WRITE"),
		UFR_VAL("per_page", UFR_STRAT_PER_PAGE, "Memory on 4 KiB pages, one registered buffer per io_u"),
		UFR_VAL("coalesced", UFR_STRAT_COALESCED, "The pool in large folios, registered as few regions of at most 1 GiB"),
		UFR_VAL("per_folio", UFR_STRAT_PER_FOLIO, "Large folios (THP, 16k to 1m multi-size THP, shmem THP, hugetlb), one buffer per io_u, each inside one folio"),
		UFR_VAL("hugetlb_fast", UFR_STRAT_HUGETLB_FAST, "per_folio on hugetlb folios only (the RFC's case)"),
		UFR_VAL("auto", UFR_STRAT_AUTO, "hugetlb_fast if enough hugetlb pages are free, else coalesced on THP, else per_page"),
	}),
	UFR_OPT("reg_folio", "Buffer folio size", FIO_OPT_STR, folio, NULL, "Folio size backing the buffers (default: the strategy's: per_page 4k, coalesced and per_folio thp (2m on a memfd), hugetlb_fast 2m)", .posval = {
		UFR_VAL("4k", UFR_FOLIO_4K, "4 KiB pages, no THP"),
		UFR_VAL("thp", UFR_FOLIO_THP, "Transparent huge pages (MADV_HUGEPAGE)"),
		UFR_VAL("2m", UFR_FOLIO_2M, "2 MiB hugetlb pages"),
		UFR_VAL("1g", UFR_FOLIO_1G, "1 GiB hugetlb pages"),
		UFR_MTHP(16),
		UFR_MTHP(32),
		UFR_MTHP(64),
		UFR_MTHP(128),
		UFR_MTHP(256),
		UFR_MTHP(512),
		UFR_VAL("1m", UFR_FOLIO_1M, "1 MiB multi-size THP (coalesced, per_folio)"),
	}),
	UFR_OPT("reg_backing", "Buffer memory backing", FIO_OPT_STR, backing, "anon", "Where per_page, coalesced, per_folio and hugetlb_fast put their buffers", .posval = {
		UFR_VAL("anon", UFR_BACKING_ANON, "Anonymous private mappings"),
		UFR_VAL("memfd", UFR_BACKING_MEMFD, "memfd_create, MAP_SHARED: shmem 4 KiB pages, shmem THP with reg_folio=thp, or hugetlb with reg_folio=2m/1g"),
		UFR_VAL("hugetlbfs", UFR_BACKING_HUGETLBFS, "An unlinked file in reg_hugetlbfs_path, MAP_SHARED, on the mount's page size"),
	}),
	UFR_OPT("reg_hugetlbfs_path", "Hugetlbfs directory", FIO_OPT_STR_STORE, hugetlbfs_path, NULL, "A directory on a mounted hugetlbfs for reg_backing=hugetlbfs"),
	UFR_OPT("reg_mode", "Registration mode", FIO_OPT_STR, mode, "batch", "How buffers are registered", .posval = {
		UFR_VAL("batch", UFR_REG_BATCH, "One IORING_REGISTER_BUFFERS call for all buffers"),
		UFR_VAL("each", UFR_REG_EACH, "A sparse table, then one timed update per buffer"),
	}),
	UFR_OPT("reg_numa_node", "Buffer NUMA node", FIO_OPT_INT, numa_node, "-1", "Bind buffer memory to this NUMA node before faulting it in (-1: leave placement alone)"),
	UFR_OPT("rereg_interval", "Re-registration interval", FIO_OPT_STR_VAL_TIME, rereg_usec, "0", "While I/O runs, quiesce and re-register all buffers this often (0: never)", .is_seconds = 1, .is_time = 1),
	UFR_OPT("reg_stats", "Registration stats file", FIO_OPT_STR_STORE, reg_stats, NULL, "Also write the job's uring_folioreg figures to this file as JSON"),
	UFR_OPT("reg_profile", "Profile registration", FIO_OPT_BOOL, reg_profile, "0", "Sample the kernel (cycles where the host counts them, else cpu-clock; 25 kHz, call chains) during the register calls and report the top functions"),
	/* fio's io_uring engine's options, as fio names and explains them */
	UFR_OPT("registerfiles", "Register file set", FIO_OPT_STR_SET, registerfiles, NULL, "Pre-open/register files"),
	UFR_OPT("sqthread_poll", "Kernel SQ thread polling", FIO_OPT_STR_SET, sqpoll, NULL, "Offload submission/completion to kernel thread"),
	UFR_OPT("sqthread_poll_cpu", "SQ Thread Poll CPU", FIO_OPT_INT, sqpoll_cpu, NULL, "What CPU to run SQ thread polling on", .cb = ufr_sqpoll_cpu_cb),
	UFR_OPT("hipri", "High Priority", FIO_OPT_STR_SET, hipri, NULL, "Use polled IO completions"),
	UFR_OPT("fixedbufs", "Fixed (pre-mapped) IO buffers", FIO_OPT_STR_SET, no_fixedbufs, NULL, "Pre map IO buffers (0: reg_strategy=none)", .neg = 1),
	UFR_OPT("nonvectored", "Non-vectored", FIO_OPT_INT, nonvectored, "-1", "Use non-vectored read/write commands"),
	UFR_OPT("uncached", "Uncached", FIO_OPT_INT, uncached, NULL, "Use RWF_DONTCACHE for buffered read/writes"),
	UFR_OPT("nowait", "RWF_NOWAIT", FIO_OPT_BOOL, nowait, NULL, "Use RWF_NOWAIT for reads/writes"),
	UFR_OPT("force_async", "Force async", FIO_OPT_INT, force_async, NULL, "Set IOSQE_ASYNC every N requests"),
	/* fio's NVMe passthrough options: accepted at their defaults, refused when set (ufr_passthru_option) */
	UFR_OPT("readfua", "readfua", FIO_OPT_BOOL, readfua, "0", "Set FUA on every read (io_uring_cmd only)"),
	UFR_OPT("writefua", "writefua", FIO_OPT_BOOL, writefua, "0", "Set FUA on every write (io_uring_cmd only)"),
	UFR_OPT("write_mode", "Write command", FIO_OPT_STR, write_mode, "write", "Write command for writes (io_uring_cmd only)", .posval = {
		UFR_VAL("write", 1, "Write"),
		UFR_VAL("uncor", 2, "Write Uncorrectable"),
		UFR_VAL("zeroes", 3, "Write Zeroes"),
		UFR_VAL("verify", 4, "Verify"),
	}),
	UFR_OPT("verify_mode", "Verify command", FIO_OPT_STR, verify_mode, "read", "Command of the verify phase (io_uring_cmd only)", .posval = {
		UFR_VAL("read", 1, "Read"),
		UFR_VAL("compare", 2, "Compare"),
	}),
	UFR_OPT("md_per_io_size", "md_per_io_size", FIO_OPT_INT, md_per_io_size, "0", "Separate metadata buffer bytes per I/O (io_uring_cmd only)"),
	UFR_OPT("pi_act", "pi_act", FIO_OPT_BOOL, pi_act, "1", "Protection Information Action bit (io_uring_cmd only)"),
	UFR_OPT("pi_chk", "pi_chk", FIO_OPT_STR_STORE, pi_chk, NULL, "Protection Information checks: GUARD,REFTAG,APPTAG (io_uring_cmd only)"),
	UFR_OPT("apptag", "apptag", FIO_OPT_INT, apptag, "0x1234", "Application Tag of Protection Information (io_uring_cmd only)"),
	UFR_OPT("apptag_mask", "apptag_mask", FIO_OPT_INT, apptag_mask, "0xffff", "Application Tag mask (io_uring_cmd only)"),
	UFR_OPT("deac", "deac", FIO_OPT_BOOL, deac, "0", "Deallocate with Write Zeroes (io_uring_cmd only)"),
	UFR_OPT("cmd_type", "Uring cmd type", FIO_OPT_STR, cmd_type, "nvme", "Specify uring-cmd type (io_uring_cmd only; no effect here, as in fio's io_uring)", .posval = { UFR_VAL("nvme", 1, "Issue nvme-uring-cmd") }),
#ifdef CMDPRIO_OPTIONS
	CMDPRIO_OPTIONS(struct ufr_options, FIO_OPT_G_IOURING),
#elif defined(FIO_HAVE_IOPRIO_CLASS)
	/* fio before 3.36 has no CMDPRIO_OPTIONS: the same four options. */
	UFR_OPT("cmdprio_percentage", "high priority percentage", FIO_OPT_INT, cmdprio_options.percentage[DDIR_READ], NULL,
		"Send high priority I/O this percentage of the time",
		.off2 = UFR_OFF(cmdprio_options.percentage[DDIR_WRITE]), .minval = 0, .maxval = 100),
	UFR_OPT("cmdprio_class", "Asynchronous I/O priority class", FIO_OPT_INT, cmdprio_options.class[DDIR_READ], NULL,
		"Set asynchronous IO priority class",
		.off2 = UFR_OFF(cmdprio_options.class[DDIR_WRITE]), .minval = IOPRIO_MIN_PRIO_CLASS + 1, .maxval = IOPRIO_MAX_PRIO_CLASS, .interval = 1),
	UFR_OPT("cmdprio", "Asynchronous I/O priority level", FIO_OPT_INT, cmdprio_options.level[DDIR_READ], NULL,
		"Set asynchronous IO priority level",
		.off2 = UFR_OFF(cmdprio_options.level[DDIR_WRITE]), .minval = IOPRIO_MIN_PRIO, .maxval = IOPRIO_MAX_PRIO, .interval = 1),
	UFR_OPT("cmdprio_bssplit", "Priority percentage block size split", FIO_OPT_STR_STORE, cmdprio_options.bssplit_str, NULL, "Set priority percentages for different block sizes"),
#endif
	{ .name = NULL },
};
/* clang-format on */

#if !UFR_FLAG_IOMEM
/*
 * fio 3.33 refuses iomem= when the engine has memory hooks: jobs on fio's
 * memory run on this copy of ufr_ops without them, made in fio's parent
 * (get_ioengine), which reads it too. fio fills dlhandle and flags after
 * loading; carry them over.
 */
static struct ioengine_ops ufr_ops_fio_mem;

static void ufr_use_fio_memory(struct thread_data *td)
{
	__atomic_store_n(&ufr_ops_fio_mem.dlhandle, td->io_ops->dlhandle,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&ufr_ops_fio_mem.flags, td->io_ops->flags,
			 __ATOMIC_RELAXED);
	td->io_ops = &ufr_ops_fio_mem;
}
#endif

/* Print @err once and fail the job with @errnum. */
static int ufr_fail(struct thread_data *td, const struct ufr_err *err,
		    int errnum)
{
	log_err("%s\n", err->msg);
	td_verror(td, errnum, "uring_folioreg");
	return 1;
}

/*
 * A note for the user, said by the pipeline: on stderr ("uring_folioreg
 * note: <job>: ..."; not "uring_folioreg:", which starts the one line of
 * an error), never in fio's output, so that a JSON document stays JSON.
 */
static void ufr_say(void *ctx, const char *note)
{
	struct thread_data *td = ctx;

	ufr_fio_note(td->o.name, note);
}

static void ufr_free_job(struct ufr_job *j)
{
	fio_cmdprio_cleanup(&j->cmdprio);
	free(j->vecs);
	ufr_run_free(&j->run);
	free(j->pending);
	free(j);
}

/* The job's buffer options, resolved and planned (auto picks here). */
static int ufr_configure(struct thread_data *td, struct ufr_job *j,
			 struct ufr_err *err)
{
	struct ufr_options *o = td->eo;
	struct ufr_config *c = &j->run.cfg;

	c->strategy = o->strategy;
	c->folio = o->folio;
	c->backing = o->backing;
	c->hugetlbfs_path = o->hugetlbfs_path;
	c->mode = o->mode;
	c->numa_node = o->numa_node;
	c->nr_bufs = td->o.iodepth;
	c->buf_bytes = td_max_bs(td);
	c->align = td->o.mem_align;
	c->fio_mem_set = fio_option_is_set(&td->o, mem_type);
	c->rereg = o->rereg_usec != 0;
	c->no_fixedbufs = o->no_fixedbufs;
	j->run.say = ufr_say;
	j->run.ctx = td;
	return ufr_run_configure(&j->run, o->reg_profile, err);
}

/* The first passthrough option set away from its default, or NULL. */
static const char *ufr_passthru_option(const struct ufr_options *o)
{
	if (o->readfua)
		return "readfua";
	if (o->writefua)
		return "writefua";
	if (o->write_mode != 1)
		return "write_mode";
	if (o->verify_mode != 1)
		return "verify_mode";
	if (o->md_per_io_size)
		return "md_per_io_size";
	if (!o->pi_act)
		return "pi_act";
	if (o->pi_chk && o->pi_chk[0])
		return "pi_chk";
	if (o->apptag != 0x1234 || o->apptag_mask != 0xffff)
		return o->apptag != 0x1234 ? "apptag" : "apptag_mask";
	return o->deac ? "deac" : NULL;
}

/* What fio's io_uring engine does with its own options, done here too. */
static int ufr_io_uring_options(struct thread_data *td, struct ufr_job *j,
				struct ufr_err *err)
{
	struct ufr_options *o = td->eo;
	const char *pt = ufr_passthru_option(o);

	if (pt)
		return ufr_err_set(
			err, -EINVAL,
			"%s: an NVMe passthrough option of fio's io_uring_cmd engine; this engine issues plain reads and writes, which have no FUA, protection information or write modes to set; drop %s (or run ioengine=io_uring_cmd on an NVMe character device)",
			pt, pt);
	j->rw_flags = (o->nowait ? RWF_NOWAIT : 0) |
		      (o->uncached ? RWF_DONTCACHE : 0);
	j->force_async = o->force_async;
	j->sqe_flags = j->fixed_files ? IOSQE_FIXED_FILE : 0;
	j->rw_ops[0] = j->fixed_bufs ? IORING_OP_READ_FIXED : IORING_OP_READ;
	j->rw_ops[1] = j->fixed_bufs ? IORING_OP_WRITE_FIXED : IORING_OP_WRITE;
	/* Fixed buffers are never vectored; plain I/O is unless asked. */
	if (o->nonvectored == 0 && !j->fixed_bufs) {
		j->vecs = calloc(td->o.iodepth, sizeof(*j->vecs));
		if (!j->vecs)
			return ufr_err_set(
				err, -ENOMEM,
				"nonvectored=0: no memory for %u iovecs",
				td->o.iodepth);
		j->rw_ops[0] = IORING_OP_READV;
		j->rw_ops[1] = IORING_OP_WRITEV;
	}
	if (fio_cmdprio_init(td, &j->cmdprio, &o->cmdprio_options))
		return ufr_err_set(
			err, -EINVAL,
			"cmdprio: the priority options were refused (fio says why above); fix cmdprio_percentage, cmdprio_class, cmdprio or cmdprio_bssplit");
	return 0;
}

/* uncached: refused by the kernel or file system at the first I/O;
 * find out at open with a one-byte read instead. */
static int ufr_check_uncached(struct fio_file *f, struct ufr_err *err)
{
	char byte;
	struct iovec v = { .iov_base = &byte, .iov_len = 1 };

	if (preadv2(f->fd, &v, 1, 0, RWF_DONTCACHE) < 0 && errno == EOPNOTSUPP)
		return ufr_err_set(
			err, -EOPNOTSUPP,
			"uncached=1: filename=%s: this kernel or file system does not do uncached buffered I/O (RWF_DONTCACHE: Linux 6.14 and later, on file systems that support it); drop uncached",
			f->file_name);
	return 0;
}

/* The engine's state of one job, its name and reg_stats file checked. */
static int ufr_job_new(struct thread_data *td, struct ufr_job **out,
		       struct ufr_err *err)
{
	struct ufr_options *o = td->eo;
	struct ufr_job *j = calloc(1, sizeof(*j));

	*out = j;
	if (j)
		j->pending = calloc(td->o.iodepth, sizeof(*j->pending));
	if (!j || !j->pending)
		return ufr_err_set(
			err, -ENOMEM,
			"%s: no memory for the engine's state of %u I/Os; lower iodepth",
			td->o.name, td->o.iodepth);
	if (o->rereg_usec > UFR_REREG_MAX_USEC)
		return ufr_err_set(
			err, -EINVAL,
			"rereg_interval: not a time from 0 to 1h (a negative value?); give e.g. rereg_interval=200ms, or 0 for off");
	return ufr_run_name(&j->run, td->o.name, td->groupid, o->reg_stats,
			    err);
}

/* The ring, and its table of registered files (registerfiles). */
static int ufr_ring_setup(struct thread_data *td, struct ufr_job *j,
			  struct ufr_err *err)
{
	struct ufr_options *o = td->eo;
	struct ufr_ring_opts ro = {
		.depth = td->o.iodepth,
		.iopoll = o->hipri,
		.sqpoll = o->sqpoll,
		.sqpoll_cpu = o->sqpoll_cpu_set ? (int)o->sqpoll_cpu : -1,
	};
	int ret = ufr_ring_init(&j->ring, &ro, err);

	if (ret)
		return ret;
	ufr_ring_flag_names(j->ring.setup_flags, j->run.r.ring_flags,
			    sizeof(j->run.r.ring_flags));
	if (j->fixed_files) {
		ret = ufr_ring_files_init(&j->ring, td->o.nr_files, err);
		if (ret)
			ufr_ring_exit(&j->ring);
	}
	return ret;
}

static int ufr_init(struct thread_data *td)
{
	struct ufr_options *o = td->eo;
	struct ufr_err err;
	struct ufr_job *j;
	int ret;

	ret = ufr_job_new(td, &j, &err);
	if (!ret)
		ret = ufr_configure(td, j, &err);
	if (ret)
		goto fail;
	j->fixed_bufs = j->run.cfg.strategy != UFR_STRAT_NONE;
	j->fixed_files = o->registerfiles;
	ret = ufr_io_uring_options(td, j, &err);
	if (ret)
		goto fail;
#if !UFR_FLAG_IOMEM
	if (ufr_strategy_uses_fio_memory(j->run.cfg.strategy))
		ufr_use_fio_memory(td);
#endif
	ret = ufr_ring_setup(td, j, &err);
	if (ret)
		goto fail;
	/*
	 * With an SQ thread the kernel submits on its own time: from the
	 * I/O's start to our tail store is only the filling of the SQE, not
	 * a submission latency. fio's io_uring engine records no slat there
	 * either (3.33 never samples it, newer fios set disable_slat as
	 * here), so the same job file prints the same figures.
	 */
	if (o->sqpoll)
		td->o.disable_slat = 1;
	td->io_ops_data = j;
	return 0;
fail:
	if (j)
		ufr_free_job(j);
	return ufr_fail(td, &err, -ret);
}

/*
 * fio asks for @size bytes with slack for aligning them, then writes its
 * own layout (write buffers are filled at init) from the page-aligned
 * start: mem_align + iodepth * max_bs. Our memory is folio-aligned, so
 * that is all it must cover; the slack would cost a whole extra hugetlb
 * folio. Strategies on fio's memory get fio's default, iomem=malloc.
 */
static int ufr_iomem_alloc(struct thread_data *td, size_t size)
{
	struct ufr_job *j = td->io_ops_data;
	size_t span = td->o.mem_align + td->o.iodepth * td_max_bs(td);
	struct ufr_err err;
	int ret;

	if (ufr_strategy_uses_fio_memory(j->run.cfg.strategy)) {
		td->orig_buffer = malloc(size);
		return !td->orig_buffer;
	}
	ret = ufr_run_map(&j->run, span, &err);
	if (ret)
		return ufr_fail(td, &err, -ret);
	td->orig_buffer = j->run.bufs.mem.addr;
	return 0;
}

static void ufr_iomem_free(struct thread_data *td)
{
	struct ufr_job *j = td->io_ops_data;

	if (j && ufr_strategy_uses_fio_memory(j->run.cfg.strategy))
		free(td->orig_buffer);
	else if (j)
		ufr_backing_unmap(&j->run.bufs.mem);
}

static int ufr_fio_memory_failed(struct thread_data *td)
{
	bool mmaphuge = td->o.mem_type == MEM_MMAPHUGE;
	unsigned long long hp = td->o.hugepage_size;
	struct ufr_hugetlb_pool pool;
	struct ufr_err err;

	if (mmaphuge || td->o.mem_type == MEM_SHMHUGE) {
		ufr_hugetlb_pool_read(&pool, hp);
		ufr_hugetlb_shortage(
			&err, mmaphuge ? "iomem=mmaphuge" : "iomem=shmhuge",
			&pool, (td->orig_buffer_size + hp - 1) / hp);
	} else {
		ufr_err_set(
			&err, -ENOMEM,
			"buffer memory: fio could not allocate %llu bytes (error above); lower iodepth or bs",
			(unsigned long long)td->orig_buffer_size);
	}
	return ufr_fail(td, &err, ENOMEM);
}

/*
 * fio carved its buffers out of our memory its own way and filled the
 * write buffers; move each io_u to its planned place and fill it again,
 * as fio's init_io_u_buffers() does.
 */
static void ufr_place_io_us(struct thread_data *td, struct ufr_job *j)
{
	unsigned long long max_bs = td_max_bs(td);
	struct io_u *io_u;
	int i;

	io_u_qiter(&td->io_u_all, io_u, i) {
		io_u->buf = ufr_bufset_buf(&j->run.bufs, io_u->index);
		if (!td_write(td))
			continue;
		io_u_fill_buffer(td, io_u, td->o.min_bs[DDIR_WRITE], max_bs);
		if (td->o.verify_pattern_bytes)
			fill_verify_pattern(td, io_u->buf, max_bs, io_u, 0, 0);
	}
}

/* fio's memory: one registered buffer per io_u, where fio put it. */
static int ufr_adopt_fio_buffers(struct thread_data *td, struct ufr_job *j,
				 struct ufr_err *err)
{
	void **bufs = calloc(td->o.iodepth, sizeof(*bufs));
	struct io_u *io_u;
	int i, ret;

	if (!bufs)
		return ufr_err_set(err, -ENOMEM,
				   "%s: no memory to index %u buffers",
				   td->o.name, td->o.iodepth);
	io_u_qiter(&td->io_u_all, io_u, i)
		bufs[io_u->index] = io_u->buf;
	ret = ufr_run_adopt(&j->run, bufs, td->o.iodepth, td_max_bs(td),
			    td->orig_buffer, td->orig_buffer_size, err);
	free(bufs);
	return ret;
}

/* The folio size of fio's own memory: its hugepage size, or 4 KiB. */
static size_t ufr_fio_folio_bytes(struct thread_data *td)
{
	if (td->o.mem_type == MEM_MMAPHUGE || td->o.mem_type == MEM_SHMHUGE)
		return td->o.hugepage_size;
	return UFR_PAGE_BYTES;
}

/* The buffers in place: register them, and see what the kernel built. */
static int ufr_post_init(struct thread_data *td)
{
	struct ufr_options *o = td->eo;
	struct ufr_job *j = td->io_ops_data;
	bool fio_mem = ufr_strategy_uses_fio_memory(j->run.cfg.strategy);
	struct ufr_err err;
	int ret = 0;

	/* fio 3.33 carries on when allocating buffers failed; stop here.
	 * Our own allocator has said why already. */
	if (td->error)
		return fio_mem ? ufr_fio_memory_failed(td) : 1;
	if (!j->fixed_bufs || !td->orig_buffer)
		return 0;
	if (fio_mem)
		ret = ufr_adopt_fio_buffers(td, j, &err);
	else
		ufr_place_io_us(td, j);
	if (!ret)
		ret = ufr_run_register(&j->run, &j->ring.ring, o->reg_profile,
				       o->rereg_usec * 1000, &err);
	if (ret)
		return ufr_fail(td, &err, -ret);
	j->bufs_registered = true;
	ret = ufr_run_inspect(&j->run, ufr_fio_folio_bytes(td), &err);
	if (ret)
		return ufr_fail(td, &err, -ret);
	return 0;
}

/* O_DIRECT's size and alignment rules, checked once the file is open. */
static int ufr_check_dio(struct thread_data *td, struct fio_file *f,
			 struct ufr_err *err)
{
	unsigned long long bs[4];
	size_t n = 0;
	int d;

	for (d = DDIR_READ; d <= DDIR_WRITE; d++) {
		if ((d == DDIR_READ && !td_read(td)) ||
		    (d == DDIR_WRITE && !td_write(td)))
			continue;
		bs[n++] = td->o.min_bs[d];
		bs[n++] = td->o.max_bs[d];
	}
	return ufr_dio_check(f->fd, f->file_name, bs, n, td->o.mem_align, err);
}

static int ufr_open_file(struct thread_data *td, struct fio_file *f)
{
	struct ufr_job *j = td->io_ops_data;
	struct ufr_err err;
	int ret;

	if (td_trim(td) && f->filetype != FIO_TYPE_FILE &&
	    f->filetype != FIO_TYPE_BLOCK) {
		ufr_err_set(
			&err, -EOPNOTSUPP,
			"filename=%s: trim needs a block device or a regular file (punched holes); change rw= or filename=",
			f->file_name);
		return ufr_fail(td, &err, EOPNOTSUPP);
	}

	/* fio also opens files in the parent to size them, before init. */
	ret = generic_open_file(td, f);
	if (ret || !j)
		return ret;
	if ((td->o.odirect && ufr_check_dio(td, f, &err)) ||
	    ((j->rw_flags & RWF_DONTCACHE) && ufr_check_uncached(f, &err)) ||
	    ((j->ring.setup_flags & IORING_SETUP_IOPOLL) &&
	     ufr_iopoll_check(f->fd, f->file_name, &err)))
		ret = -EINVAL;
	else if (j->fixed_files)
		ret = ufr_ring_file_set(&j->ring, f->fileno, f->fd,
					f->file_name, &err);
	if (!ret)
		return 0;
	if (generic_close_file(td, f))
		log_err("uring_folioreg: closing %s failed\n", f->file_name);
	return ufr_fail(td, &err, -ret);
}

static int ufr_close_file(struct thread_data *td, struct fio_file *f)
{
	struct ufr_job *j = td->io_ops_data;
	struct ufr_err err;

	/* Closing goes on whatever the table says; fio closes the fd next. */
	if (j && j->fixed_files &&
	    ufr_ring_file_set(&j->ring, f->fileno, -1, f->file_name, &err))
		log_err("%s\n", err.msg);
	return generic_close_file(td, f);
}

/*
 * sync_file_range over what was written since the last sync. fio notes
 * that range as writes complete, so with all of them still in flight it
 * is empty (first_write is -1), and the SQE holds only 32 bits of length:
 * then sync the whole file (length 0 runs to its end) rather than have
 * the kernel fail with EINVAL. fio up to 3.34 ignored errors of sync
 * commands; since 3.35 they fail the job.
 */
static void ufr_prep_sync_range(struct thread_data *td, struct fio_file *f,
				int fd, struct io_uring_sqe *sqe)
{
	uint64_t off = f->first_write, len = f->last_write - f->first_write;

	if (f->first_write == -1ULL || f->last_write == -1ULL ||
	    len > UINT32_MAX) {
		off = 0;
		len = 0;
	}
	io_uring_prep_sync_file_range(sqe, fd, len, off, td->o.sync_file_range);
}

/* The SQE flags: fixed files, and force_async=N's every N-th request
 * to io-wq, as fio does. */
static inline uint8_t ufr_sqe_flags(struct ufr_job *j)
{
	if (j->force_async && ++j->nr_prepped == j->force_async) {
		j->nr_prepped = 0;
		return j->sqe_flags | IOSQE_ASYNC;
	}
	return j->sqe_flags;
}

/*
 * A read or write: the whole SQE written once (fields not named are 0),
 * as liburing's prep helpers and the adjustments after them would leave
 * it.
 */
static inline void ufr_prep_rw(struct thread_data *td, struct ufr_job *j,
			       struct io_u *io_u, struct io_uring_sqe *sqe)
{
	struct fio_file *f = io_u->file;
	bool write = io_u->ddir == DDIR_WRITE;
	uint64_t addr = (uintptr_t)io_u->xfer_buf;
	uint32_t len = io_u->xfer_buflen;
	uint8_t flags = ufr_sqe_flags(j);
	uint16_t buf_index = 0;
#ifndef UFR_NO_IO_STATS
	uint64_t segs;
#endif

	if (j->vecs) {
		struct iovec *v = &j->vecs[io_u->index];

		v->iov_base = io_u->xfer_buf;
		v->iov_len = io_u->xfer_buflen;
		addr = (uintptr_t)v;
		len = 1;
	}
	if (j->fixed_bufs) {
		buf_index = j->run.bufs.buf_index[io_u->index];
#ifndef UFR_NO_IO_STATS
		/* io_import_fixed()'s arithmetic at issue: folios of the
		 * registered buffer that this I/O's slice spans. */
		segs = ufr_io_segments(addr, len,
				       j->run.bufs.io_shift[io_u->index]);
		j->run.r.io.ios++;
		j->run.r.io.segs += segs;
		if (segs > j->run.r.io.max)
			j->run.r.io.max = segs;
#endif
	}
	*sqe = (struct io_uring_sqe){
		.opcode = j->rw_ops[write],
		.flags = flags,
		/* An SQ thread does not inherit ioprio_set(); pass it on. */
		.ioprio = td->ioprio,
		.fd = j->fixed_files ? f->fileno : f->fd,
		.off = io_u->offset,
		.addr = addr,
		.len = len,
		.rw_flags = j->rw_flags,
		.user_data = (uintptr_t)io_u,
		.buf_index = buf_index,
	};
	if (j->cmdprio.mode != CMDPRIO_MODE_NONE &&
	    fio_cmdprio_set_ioprio(td, &j->cmdprio, io_u))
		sqe->ioprio = io_u->ioprio;
}

/* fsync, fdatasync and sync_file_range. */
static void ufr_prep_sync(struct thread_data *td, struct ufr_job *j,
			  struct io_u *io_u, struct io_uring_sqe *sqe)
{
	struct fio_file *f = io_u->file;
	int fd = j->fixed_files ? f->fileno : f->fd;

	if (io_u->ddir == DDIR_SYNC_FILE_RANGE)
		ufr_prep_sync_range(td, f, fd, sqe);
	else
		io_uring_prep_fsync(sqe, fd,
				    io_u->ddir == DDIR_DATASYNC ?
					    IORING_FSYNC_DATASYNC :
					    0);
	sqe->flags |= ufr_sqe_flags(j);
	io_uring_sqe_set_data(sqe, io_u);
}

/*
 * rereg_interval: quiesce, then re-register. Everything submitted must be
 * complete (its CQE waits in the ring for fio's next reap) before the
 * buffers go; what is queued but not yet submitted goes after.
 */
static void ufr_rereg(struct thread_data *td, struct ufr_job *j)
{
	struct ufr_err err;
	int ret;

	ret = ufr_ring_wait_ready(&j->ring, j->nr_events + j->inflight);
	if (ret)
		ufr_err_set(&err, ret, "rereg_interval: waiting for I/O: %s",
			    strerror(-ret));
	else
		ret = ufr_rereg_run(&j->run.r.rereg, &j->ring.ring,
				    j->run.bufs.iov, j->run.bufs.nr_iov,
				    &j->run.cfg, j->run.prof, &err);
	if (ret) {
		j->bufs_registered = false;
		log_err("%s\n", err.msg);
		td_verror(td, -ret, "uring_folioreg rereg");
	}
}

/*
 * Trim (on a regular file: punching a hole), and fio 3.42's end_syncfs
 * (io_uring has no syncfs command), run synchronously as in fio's io_uring
 * engine, after what is queued.
 */
static enum fio_q_status ufr_queue_sync(struct thread_data *td,
					struct ufr_job *j, struct io_u *io_u)
{
	struct fio_file *f = io_u->file;

	if (j->nr_pending)
		return FIO_Q_BUSY;
	if (io_u->ddir != DDIR_TRIM)
		do_io_u_sync(td, io_u);
	else if (f->filetype != FIO_TYPE_FILE)
		do_io_u_trim(td, io_u);
	else if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			   io_u->offset, io_u->xfer_buflen))
		io_u->error = errno;
	io_u_mark_submit(td, 1);
	io_u_mark_complete(td, 1);
	return FIO_Q_COMPLETED;
}

static enum fio_q_status ufr_queue(struct thread_data *td, struct io_u *io_u)
{
	struct ufr_job *j = td->io_ops_data;
	struct io_uring_sqe *sqe;

	fio_ro_check(td, io_u);

	if (io_u->ddir == DDIR_TRIM || UFR_IS_SYNCFS(io_u->ddir))
		return ufr_queue_sync(td, j, io_u);

	sqe = ufr_ring_get_sqe(&j->ring);
	if (!sqe)
		return FIO_Q_BUSY;
	if (__builtin_expect(ddir_rw(io_u->ddir), 1))
		ufr_prep_rw(td, j, io_u, sqe);
	else
		ufr_prep_sync(td, j, io_u, sqe);
	j->pending[j->nr_pending++] = io_u;
	return FIO_Q_QUEUED;
}

/* Submit what ufr_queue() prepared and stamp its issue time. */
static __attribute__((noinline)) int ufr_commit_batch(struct thread_data *td,
						      struct ufr_job *j)
{
	unsigned int i, nr = j->nr_pending;
	struct timespec now;
	int ret;

	if (__builtin_expect(ufr_rereg_due(&j->run.r.rereg), 0) &&
	    j->bufs_registered)
		ufr_rereg(td, j);
	ret = ufr_ring_submit(&j->ring, nr);
	if (ret < 0) {
		td_verror(td, -ret, "io_uring_submit");
		return ret;
	}
	j->nr_pending = 0;
	j->inflight += nr;

	if (fio_fill_issue_time(td)) {
		/* io_u_queued() records slat, or nothing. */
		bool slat = !td->o.disable_slat;

		fio_gettime(&now, NULL);
		for (i = 0; i < nr; i++) {
			j->pending[i]->issue_time = now;
			if (slat)
				io_u_queued(td, j->pending[i]);
		}
		if (td->o.read_iolog_file)
			td->last_issue = now;
	}
	io_u_mark_submit(td, nr);
	return 0;
}

/* fio commits after every queue and again before it reaps: often none. */
static int ufr_commit(struct thread_data *td)
{
	struct ufr_job *j = td->io_ops_data;

	return j->nr_pending ? ufr_commit_batch(td, j) : 0;
}

static int ufr_getevents(struct thread_data *td, unsigned int min,
			 unsigned int max, const struct timespec *t)
{
	struct ufr_job *j = td->io_ops_data;
	struct io_uring *ring = &j->ring.ring;
	int ready;

	(void)t;
	io_uring_cq_advance(ring, j->nr_events);
	j->nr_events = 0;

	ready = ufr_ring_reap(&j->ring, min);
	if (ready < 0) {
		td_verror(td, -ready, "io_uring_enter");
		return ready;
	}
	j->cq_head = *ring->cq.khead;
	j->nr_events = (unsigned int)ready < max ? (unsigned int)ready : max;
	j->inflight -= j->nr_events;
	return j->nr_events;
}

static struct io_u *ufr_event(struct thread_data *td, int event)
{
	struct ufr_job *j = td->io_ops_data;
	struct io_uring_cqe *cqe = ufr_ring_cqe(&j->ring, j->cq_head, event);
	struct io_u *io_u = io_uring_cqe_get_data(cqe);

	if (cqe->res < 0) {
		io_u->error = -cqe->res;
		/* Say what fio alone cannot: no polled I/O on this file. */
		if (io_u->error == EOPNOTSUPP && ddir_rw(io_u->ddir) &&
		    !j->said_hipri &&
		    (j->ring.setup_flags & IORING_SETUP_IOPOLL)) {
			j->said_hipri = true;
			log_err("uring_folioreg: hipri: filename=%s does not support polled I/O (it needs a block device with poll queues, e.g. nvme.poll_queues=N); drop hipri\n",
				io_u->file->file_name);
		}
	} else if (ddir_rw(io_u->ddir) &&
		   (unsigned long long)cqe->res != io_u->xfer_buflen)
		io_u->resid = io_u->xfer_buflen - cqe->res;
	else
		io_u->error = 0;
	return io_u;
}

/*
 * fio frees the buffer memory before it calls cleanup; unregister while
 * the memory is still there, as a program keeping its buffers would, so
 * that unreg_ns is the unpinning alone and not the freeing of the pages.
 */
static void ufr_unregister_job(struct ufr_job *j)
{
	if (!j || !j->bufs_registered)
		return;
	j->bufs_registered = false;
	ufr_run_unregister(&j->run, &j->ring.ring);
}

static void ufr_io_u_free(struct thread_data *td, struct io_u *io_u)
{
	(void)io_u;
	ufr_unregister_job(td->io_ops_data);
}

static void ufr_cleanup(struct thread_data *td)
{
	struct ufr_job *j = td->io_ops_data;

	if (!j)
		return;
	/* Unregister while the ring lives: that is where the kernel unpins. */
	ufr_unregister_job(j);
	ufr_ring_exit(&j->ring);
	ufr_run_finish(&j->run);
	ufr_fio_report_job(td, &j->run.r, j->run.samples);
	ufr_free_job(j);
	td->io_ops_data = NULL;
}

static struct ioengine_ops ufr_ops = {
	.name = "uring_folioreg",
	.version = FIO_IOOPS_VERSION,
	.flags = FIO_ASYNCIO_SYNC_TRIM | FIO_NO_OFFLOAD | FIO_MEMALIGN |
		 FIO_ASYNCIO_SETS_ISSUE_TIME | UFR_FLAG_SYNCFS | UFR_FLAG_IOMEM,
	.init = ufr_init,
	.post_init = ufr_post_init,
	.queue = ufr_queue,
	.commit = ufr_commit,
	.getevents = ufr_getevents,
	.event = ufr_event,
	.cleanup = ufr_cleanup,
	.io_u_free = ufr_io_u_free,
	.open_file = ufr_open_file,
	.close_file = ufr_close_file,
	.get_file_size = generic_get_file_size,
	.iomem_alloc = ufr_iomem_alloc,
	.iomem_free = ufr_iomem_free,
	.options = ufr_options,
	.option_struct_size = sizeof(struct ufr_options),
};

static bool ufr_loaded;

/* Once, in fio's parent: the version check before anything else. */
static void ufr_load(void)
{
	struct ufr_err err;

	if (ufr_fio_version_check(fio_version_string, UFR_FIO_VERSION, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	ufr_loaded = true;
#if !UFR_FLAG_IOMEM
	ufr_ops_fio_mem = ufr_ops;
	ufr_ops_fio_mem.iomem_alloc = NULL;
	ufr_ops_fio_mem.iomem_free = NULL;
#endif
	if (ufr_reg_lock_init())
		log_err("uring_folioreg: no shared memory for the registration lock; bvecs_observed may be disturbed by other jobs\n");
	ufr_fio_report_init();
}

/*
 * fio's entry point into an external engine. It is the one exported
 * symbol, so the version check runs before fio reads any of our structs.
 */
__attribute__((visibility("default"))) void
get_ioengine(struct ioengine_ops **ops)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, ufr_load);
	*ops = ufr_loaded ? &ufr_ops : NULL;
	if (ufr_loaded)
		ufr_fio_report_out();
}
