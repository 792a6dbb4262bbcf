/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_CONFIG_H
#define UFR_CONFIG_H

/*
 * The first stage: what the user asked for, and which options combine.
 * The option enums, the names and sizes behind them, the limits every
 * later stage works within, and the one failure convention: a negative
 * errno returned, and one line for the user in struct ufr_err. No I/O:
 * what the machine serves is decided later, from its snapshot
 * (ufr_probe.h, ufr_resolve.h).
 */
#include <stdbool.h>
#include <stddef.h>

/* The kernel's limits on registered buffers. */
#define UFR_PAGE_BYTES 4096u
#define UFR_MAX_BUFFERS 16384u
/* The length cap on one registered buffer: 1 GiB up to Linux 7.1
 * (io_buffer_validate()), 1 TiB from 7.2 (io_validate_user_buf_range());
 * the running kernel's is probed (struct ufr_machine). */
#define UFR_MAX_REGION_BYTES (1ull << 30)
#define UFR_MAX_REGION_BYTES_7_2 (1ull << 40)
/* io_pin_pages() pins at most INT_MAX / sizeof(struct page *) pages for
 * one buffer (Linux 7.2 on; the 1 GiB cap keeps older ones far below). */
#define UFR_MAX_PIN_PAGES (0x7fffffffull / 8)
/* NUMA nodes the report counts pages on. */
#define UFR_MAX_NODES 64

/*
 * One line for the user: "uring_folioreg: <what>: <value>: <why>; <fix>".
 * The fio-free modules fill it in and return a negative errno; the engine
 * prints it once with fio's logger.
 */
struct ufr_err {
	char msg[512];
};

/* A note for the user about a figure or the run, in the job's report. */
#define UFR_NOTE_LEN 240

/* Format the message (the "uring_folioreg: " prefix is added) and return
 * @errnum, a negative errno, so callers can "return ufr_err_set(...)". */
int ufr_err_set(struct ufr_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define UFR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The name of enum value @v in @names, a table indexed by the enum; "?"
 * for a value past its end. Every stage names its enums this way. */
#define ufr_enum_name(names, v) \
	((size_t)(v) < UFR_ARRAY_SIZE(names) ? (names)[v] : "?")

/* How buffers are laid out, backed and registered (option reg_strategy). */
enum ufr_strategy {
	UFR_STRAT_IOMEM, /* fio's memory, one buffer per io_u */
	UFR_STRAT_NONE, /* no fixed buffers: plain READ/WRITE */
	UFR_STRAT_PER_PAGE, /* 4 KiB pages, one buffer per io_u */
	UFR_STRAT_COALESCED, /* large folios, few regions of slices */
	UFR_STRAT_HUGETLB_FAST, /* hugetlb, each buffer inside one folio */
	UFR_STRAT_AUTO, /* the best one this machine serves now */
	UFR_STRAT_PER_FOLIO, /* large folios, each buffer inside one */
};

const char *ufr_strategy_name(enum ufr_strategy s);

/*
 * Whether @s registers one buffer per io_u, each wholly inside one folio:
 * per_folio on any large folio, hugetlb_fast on hugetlb ones only (the
 * RFC's name for the same layout).
 */
static inline bool ufr_strategy_per_folio(enum ufr_strategy s)
{
	return s == UFR_STRAT_PER_FOLIO || s == UFR_STRAT_HUGETLB_FAST;
}

/* Whether fio's own allocator (iomem=, hugepage-size=) backs the buffers. */
static inline bool ufr_strategy_uses_fio_memory(enum ufr_strategy s)
{
	return s == UFR_STRAT_IOMEM || s == UFR_STRAT_NONE;
}

/* The folio size backing the buffers (option reg_folio). */
enum ufr_folio {
	UFR_FOLIO_DEFAULT, /* the strategy's own choice */
	UFR_FOLIO_4K,
	UFR_FOLIO_THP,
	UFR_FOLIO_2M,
	UFR_FOLIO_1G,
	/* Anonymous multi-size THP (Linux 6.8+), below the PMD size. */
	UFR_FOLIO_16K,
	UFR_FOLIO_32K,
	UFR_FOLIO_64K,
	UFR_FOLIO_128K,
	UFR_FOLIO_256K,
	UFR_FOLIO_512K,
	UFR_FOLIO_1M,
};

const char *ufr_folio_name(enum ufr_folio folio);
/* Bytes per folio of a size its name fixes (default: 4 KiB); THP is the
 * machine's PMD size, which ufr_machine_folio_bytes() knows: 0 here. */
size_t ufr_folio_bytes(enum ufr_folio folio);

/* The option that asks for hugetlb pages of @page_bytes, for messages. */
static inline const char *ufr_hugetlb_option(size_t page_bytes)
{
	return page_bytes == (1u << 30) ? "reg_folio=1g" : "reg_folio=2m";
}

/* Whether @folio is one of the multi-size THP sizes (16k to 1m). */
static inline bool ufr_folio_is_mthp(enum ufr_folio folio)
{
	return folio >= UFR_FOLIO_16K && folio <= UFR_FOLIO_1M;
}

/* Whether @folio is THP memory, PMD-sized or multi-size. */
static inline bool ufr_folio_is_thp(enum ufr_folio folio)
{
	return folio == UFR_FOLIO_THP || ufr_folio_is_mthp(folio);
}

/* Where the engine's own buffer memory lives (option reg_backing). */
enum ufr_backing_kind {
	UFR_BACKING_ANON, /* anonymous private mappings */
	UFR_BACKING_MEMFD, /* memfd_create: shmem (4 KiB or THP), or hugetlb */
	UFR_BACKING_HUGETLBFS, /* an unlinked file on a hugetlbfs mount */
};

const char *ufr_backing_name(enum ufr_backing_kind kind);

/* How buffers are registered (option reg_mode). */
enum ufr_reg_mode {
	UFR_REG_BATCH, /* one IORING_REGISTER_BUFFERS for every buffer */
	UFR_REG_EACH, /* sparse table, then one update per buffer */
};

/* A job's buffer options, as the user gave them and as resolved. */
struct ufr_config {
	enum ufr_strategy strategy;
	enum ufr_folio folio;
	enum ufr_reg_mode mode;
	int numa_node; /* -1: leave placement alone */
	unsigned int nr_bufs; /* iodepth */
	size_t buf_bytes; /* largest bs */
	size_t align; /* mem_align */
	bool fio_mem_set; /* iomem= was given */
	bool rereg; /* rereg_interval= was given */
	bool no_fixedbufs; /* fixedbufs=0: plain READ/WRITE, fio's memory */
	enum ufr_backing_kind backing;
	const char *hugetlbfs_path; /* reg_hugetlbfs_path=, or NULL */
	const char *auto_reason; /* why auto chose what it chose */
	size_t folio_bytes; /* of the resolved folio (ufr_resolve()) */
	/* the running kernel's cap on one registered buffer (ufr_resolve());
	 * 0: UFR_MAX_REGION_BYTES */
	unsigned long long max_buffer_bytes;
};

/*
 * Check the combination of options alone, and pick the folio size where
 * the strategy decides it (on hugetlbfs the mount does, later). The first
 * step of ufr_resolve(), which checks the rest against the machine.
 */
int ufr_config_check(struct ufr_config *c, struct ufr_err *err);

/*
 * An external engine shares struct layouts with the fio that loads it, so
 * it may only run inside the fio version whose headers it was built with.
 * @running is the loader's fio_version_string (NULL if it exports none).
 * The refusal names the engine's own version too (UFR_VERSION, from the
 * VERSION file).
 */
int ufr_fio_version_check(const char *running, const char *built,
			  struct ufr_err *err);

#endif
