// SPDX-License-Identifier: GPL-2.0-only
/*
 * bare_register: what registering io_uring fixed buffers costs with plain
 * liburing and nothing else. It is the yardstick the engine is compared
 * against, so it deliberately shares no code with engine/.
 *
 *   bare_register --backing=4k|thp|2m|1g --count=N --size=BYTES[k|m|g]
 *                 [--mode=batch|each] [--reps=R] [--layout=packed|perbuf]
 *
 * The memory is mapped and every page faulted in before the first
 * registration, so the timings hold pinning and table set-up only. Each
 * repetition registers and then unregisters the same buffers on the same
 * ring. One line per repetition and a summary line go to stdout as
 * key=value fields; errors are one line on stderr starting
 * "bare_register:" and exit status 1.
 *
 * Fields: reg_ns is the time spent inside the register calls (in each mode
 * the sparse table plus every update, which sparse_ns and the
 * per-buffer fields split out); per_buffer_ns is the batch call divided by
 * count, or in each mode the mean of the per-buffer updates; unreg_ns is
 * io_uring_unregister_buffers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include <liburing.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif

#define PROG "bare_register"
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)
/* The kernel's limits: IORING_MAX_REG_BUFFERS, and the largest iov_len
 * any kernel takes (1 TiB from Linux 7.2, 1 GiB before: the running
 * kernel answers for itself). */
#define MAX_BUFFERS 16384u
#define MAX_BUF_SIZE (1ull << 40)

enum backing { BACKING_4K, BACKING_THP, BACKING_2M, BACKING_1G };
enum mode { MODE_BATCH, MODE_EACH };
enum layout { LAYOUT_PACKED, LAYOUT_PERBUF };

static const char *const backing_names[] = { "4k", "thp", "2m", "1g" };
static const char *const mode_names[] = { "batch", "each" };
static const char *const layout_names[] = { "packed", "perbuf" };

struct config {
	enum backing backing;
	enum mode mode;
	enum layout layout;
	unsigned int count;
	uint64_t size;
	unsigned int reps;
};

struct memory {
	void *map; /* what munmap() gets */
	size_t map_len;
	char *base; /* first buffer's folio (aligned for thp) */
	uint64_t folio; /* folio size the layout works with */
	uint64_t len; /* bytes the buffers span from base */
};

struct rep_result {
	uint64_t reg_ns;
	uint64_t per_buffer_ns;
	uint64_t unreg_ns;
	uint64_t sparse_ns;
	uint64_t min_buffer_ns;
	uint64_t p50_buffer_ns;
	uint64_t max_buffer_ns;
};

static void verr_line(const char *fmt, va_list ap)
{
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void err_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void err_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_line(fmt, ap);
	va_end(ap);
}

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Only for errors before anything is allocated. */
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_line(fmt, ap);
	va_end(ap);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG
		" --backing=4k|thp|2m|1g --count=N --size=BYTES[k|m|g]\n"
		"       [--mode=batch|each] [--reps=R] [--layout=packed|perbuf]\n");
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int pick(const char *opt, const char *val, const char *const *names,
		int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return i;
	die("--%s=%s: unknown value; use one of %s%s%s%s%s%s%s", opt, val,
	    names[0], n > 1 ? ", " : "", n > 1 ? names[1] : "",
	    n > 2 ? ", " : "", n > 2 ? names[2] : "", n > 3 ? ", " : "",
	    n > 3 ? names[3] : "");
	return -1;
}

static uint64_t parse_u64(const char *opt, const char *val, int suffixes)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!*val || *val == '-' || *val == '+' || *val == ' ')
		die("--%s=%s: not a positive number", opt, val);
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val)
		die("--%s=%s: not a positive number", opt, val);
	if (suffixes && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			mult = 1ull << 10;
			break;
		case 'm':
		case 'M':
			mult = 1ull << 20;
			break;
		case 'g':
		case 'G':
			mult = 1ull << 30;
			break;
		default:
			die("--%s=%s: unknown suffix '%s'; use k, m or g", opt,
			    val, end);
		}
		end++;
	}
	if (*end)
		die("--%s=%s: trailing characters '%s'", opt, val, end);
	if (v > UINT64_MAX / mult)
		die("--%s=%s: too large", opt, val);
	return (uint64_t)v * mult;
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{ "backing", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "layout", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int have_backing = 0, c;
	uint64_t v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = MODE_BATCH;
	cfg->layout = LAYOUT_PACKED;
	cfg->reps = 5;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			cfg->backing =
				pick("backing", optarg, backing_names, 4);
			have_backing = 1;
			break;
		case 'c':
			v = parse_u64("count", optarg, 0);
			if (!v || v > MAX_BUFFERS)
				die("--count=%s: must be 1 to %u (the kernel registers at most %u buffers)",
				    optarg, MAX_BUFFERS, MAX_BUFFERS);
			cfg->count = (unsigned int)v;
			break;
		case 's':
			v = parse_u64("size", optarg, 1);
			if (!v || v > MAX_BUF_SIZE)
				die("--size=%s: must be 1 byte to 1024g (the largest registered buffer any kernel takes; before Linux 7.2 it is 1g)",
				    optarg);
			cfg->size = v;
			break;
		case 'm':
			cfg->mode = pick("mode", optarg, mode_names, 2);
			break;
		case 'r':
			v = parse_u64("reps", optarg, 0);
			if (!v || v > 1000000)
				die("--reps=%s: must be 1 to 1000000", optarg);
			cfg->reps = (unsigned int)v;
			break;
		case 'l':
			cfg->layout = pick("layout", optarg, layout_names, 2);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			die("%s: needs a value", argv[optind - 1]);
			break;
		default:
			die("%s: unknown option; see --help", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("%s: unexpected argument; options are --name=value",
		    argv[optind]);
	if (!have_backing)
		die("--backing is required (4k, thp, 2m or 1g)");
	if (!cfg->count)
		die("--count is required");
	if (!cfg->size)
		die("--size is required");
	if (cfg->layout == LAYOUT_PERBUF && cfg->backing == BACKING_4K)
		die("--layout=perbuf: needs huge folios (--backing=thp, 2m or 1g); 4k pages hold no whole buffer to keep inside");
}

static uint64_t folio_bytes(enum backing b)
{
	switch (b) {
	case BACKING_THP:
	case BACKING_2M:
		return SZ_2M;
	case BACKING_1G:
		return SZ_1G;
	default:
		return (uint64_t)sysconf(_SC_PAGESIZE);
	}
}

/* Offset of buffer i from the base of the mapping. */
static uint64_t buffer_offset(const struct config *cfg,
			      const struct memory *mem, unsigned int i)
{
	uint64_t per_folio;

	if (cfg->layout == LAYOUT_PACKED)
		return (uint64_t)i * cfg->size;
	per_folio = mem->folio / cfg->size;
	return (i / per_folio) * mem->folio + (i % per_folio) * cfg->size;
}

static uint64_t span_bytes(const struct config *cfg, uint64_t folio)
{
	uint64_t per_folio, folios;

	if (cfg->layout == LAYOUT_PACKED)
		return (uint64_t)cfg->count * cfg->size;
	per_folio = folio / cfg->size;
	folios = (cfg->count + per_folio - 1) / per_folio;
	return folios * folio;
}

static int read_sys_ulong(const char *path, unsigned long *out)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%lu", out) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/*
 * Say plainly when the hugetlb pool cannot serve the mapping; mmap's own
 * ENOMEM would not say which pool or how much.
 */
static int check_hugetlb_pool(uint64_t folio, uint64_t pages)
{
	unsigned long kb = (unsigned long)(folio >> 10), nr, free_pages;
	char dir[96], path[128];

	snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%lukB",
		 kb);
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	if (read_sys_ulong(path, &nr)) {
		err_line(
			"--backing=%s: this kernel offers no %lu kB hugetlb pages (%s missing)",
			folio == SZ_1G ? "1g" : "2m", kb, dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	if (read_sys_ulong(path, &free_pages))
		free_pages = 0;
	if (free_pages < pages) {
		err_line(
			"--backing=%s: needs %" PRIu64
			" hugetlb pages of %lu kB, %lu of the pool of %lu are free; reserve more, e.g.: echo %" PRIu64
			" > %s/nr_hugepages",
			folio == SZ_1G ? "1g" : "2m", pages, kb, free_pages, nr,
			nr + (pages - free_pages), dir);
		return -1;
	}
	return 0;
}

/* Fault every page in writable, so that registration only pins. */
static int populate(char *base, uint64_t len, uint64_t stride)
{
	volatile char *p;
	uint64_t off;

	if (!madvise(base, len, MADV_POPULATE_WRITE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS) {
		err_line(
			"madvise(MADV_POPULATE_WRITE, %" PRIu64
			" bytes): %s; not enough memory to fault the buffers in?",
			len, strerror(errno));
		return -1;
	}
	/* Kernels before 5.14: touch each page instead. */
	p = (volatile char *)base;
	for (off = 0; off < len; off += stride)
		p[off] = 0;
	return 0;
}

/* Bytes of the mapping on THP, from /proc/self/smaps; -1 if unknown. */
static long long thp_bytes(const struct memory *mem)
{
	uintptr_t want = (uintptr_t)mem->base, lo, hi;
	long long total = -1;
	unsigned long long kb;
	char line[512];
	int in_vma = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2) {
			in_vma = want >= lo && want < hi;
			continue;
		}
		if (in_vma &&
		    sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
			total = (long long)(kb << 10);
			break;
		}
	}
	fclose(f);
	return total;
}

static int map_memory(const struct config *cfg, struct memory *mem)
{
	uint64_t folio = folio_bytes(cfg->backing);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uint64_t len, map_len, stride;
	char *p;

	memset(mem, 0, sizeof(*mem));
	mem->map = MAP_FAILED;
	if (cfg->layout == LAYOUT_PERBUF && cfg->size > folio) {
		err_line(
			"--layout=perbuf: --size=%" PRIu64
			" does not fit in one %" PRIu64
			"-byte folio of --backing=%s; use --layout=packed or a smaller size",
			cfg->size, folio, backing_names[cfg->backing]);
		return -1;
	}
	len = span_bytes(cfg, folio);
	/* The mapping covers whole folios (whole pages for 4k). */
	map_len = (len + folio - 1) / folio * folio;
	if (map_len > SIZE_MAX / 2) {
		err_line("%u buffers of %" PRIu64 " bytes: too large to map",
			 cfg->count, cfg->size);
		return -1;
	}
	mem->folio = folio;
	mem->len = len;

	switch (cfg->backing) {
	case BACKING_2M:
	case BACKING_1G:
		if (check_hugetlb_pool(folio, map_len / folio))
			return -1;
		flags |= MAP_HUGETLB |
			 (cfg->backing == BACKING_2M ? MAP_HUGE_2MB :
						       MAP_HUGE_1GB);
		p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p == MAP_FAILED) {
			err_line(
				"mmap(%" PRIu64
				" bytes, MAP_HUGETLB %s): %s; are enough hugepages reserved?",
				map_len, backing_names[cfg->backing],
				strerror(errno));
			return -1;
		}
		mem->map = p;
		mem->map_len = map_len;
		mem->base = p;
		break;
	case BACKING_THP: {
		uintptr_t a;

		/* Over-map by one folio so the buffers start 2 MiB aligned. */
		p = mmap(NULL, map_len + folio, PROT_READ | PROT_WRITE, flags,
			 -1, 0);
		if (p == MAP_FAILED) {
			err_line("mmap(%" PRIu64 " bytes): %s", map_len + folio,
				 strerror(errno));
			return -1;
		}
		mem->map = p;
		mem->map_len = map_len + folio;
		a = ((uintptr_t)p + folio - 1) & ~(uintptr_t)(folio - 1);
		mem->base = (char *)a;
		if (madvise(mem->base, map_len, MADV_HUGEPAGE)) {
			err_line(
				"madvise(MADV_HUGEPAGE): %s; is transparent_hugepage disabled (/sys/kernel/mm/transparent_hugepage/enabled)?",
				strerror(errno));
			return -1;
		}
		break;
	}
	default:
		p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (p == MAP_FAILED) {
			err_line("mmap(%" PRIu64 " bytes): %s", map_len,
				 strerror(errno));
			return -1;
		}
		mem->map = p;
		mem->map_len = map_len;
		mem->base = p;
		/* Not fatal: a kernel without THP has nothing to turn off. */
		if (madvise(p, map_len, MADV_NOHUGEPAGE) && errno != EINVAL) {
			err_line("madvise(MADV_NOHUGEPAGE): %s",
				 strerror(errno));
			return -1;
		}
		break;
	}

	/* Touch stride: one write per page that a fault would map. */
	stride = cfg->backing == BACKING_2M || cfg->backing == BACKING_1G ?
			 folio :
			 (uint64_t)sysconf(_SC_PAGESIZE);
	if (populate(mem->base, map_len, stride))
		return -1;

	if (cfg->backing == BACKING_THP) {
		long long huge = thp_bytes(mem);

		if (huge >= 0 && (uint64_t)huge < map_len)
			fprintf(stderr,
				PROG
				": note: backing=thp: only %lld of %" PRIu64
				" bytes are on transparent huge pages (see /sys/kernel/mm/transparent_hugepage/defrag); timings mix page sizes\n",
				huge, map_len);
	}
	return 0;
}

static void unmap_memory(struct memory *mem)
{
	if (mem->map != MAP_FAILED && mem->map)
		munmap(mem->map, mem->map_len);
	mem->map = MAP_FAILED;
}

static void explain_register(const char *call, int ret,
			     const struct config *cfg)
{
	uint64_t bytes = (uint64_t)cfg->count * cfg->size;
	struct rlimit rl;

	if (ret == -ENOMEM && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < bytes) {
		err_line(
			"%s: %s; %u buffers pin %" PRIu64
			" bytes but RLIMIT_MEMLOCK is %llu bytes; raise it: ulimit -l unlimited",
			call, strerror(-ret), cfg->count, bytes,
			(unsigned long long)rl.rlim_cur);
		return;
	}
	err_line("%s: %s (%u buffers of %" PRIu64 " bytes, backing=%s)", call,
		 strerror(-ret), cfg->count, cfg->size,
		 backing_names[cfg->backing]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n-1]; sorts v. */
static uint64_t median(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	if (n % 2)
		return v[n / 2];
	return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

static int register_batch(struct io_uring *ring, const struct iovec *iov,
			  const struct config *cfg, struct rep_result *r)
{
	uint64_t t0, t1;
	int ret;

	t0 = now_ns();
	ret = io_uring_register_buffers(ring, iov, cfg->count);
	t1 = now_ns();
	if (ret) {
		explain_register("io_uring_register_buffers", ret, cfg);
		return -1;
	}
	r->reg_ns = t1 - t0;
	r->per_buffer_ns = r->reg_ns / cfg->count;
	return 0;
}

static int register_each(struct io_uring *ring, const struct iovec *iov,
			 const struct config *cfg, uint64_t *each,
			 struct rep_result *r)
{
	uint64_t t0, t1, sum = 0;
	unsigned int i;
	int ret;

	t0 = now_ns();
	ret = io_uring_register_buffers_sparse(ring, cfg->count);
	t1 = now_ns();
	if (ret) {
		explain_register("io_uring_register_buffers_sparse", ret, cfg);
		return -1;
	}
	r->sparse_ns = t1 - t0;

	for (i = 0; i < cfg->count; i++) {
		t0 = now_ns();
		ret = io_uring_register_buffers_update_tag(ring, i, &iov[i],
							   NULL, 1);
		t1 = now_ns();
		if (ret != 1) {
			char call[80];

			snprintf(
				call, sizeof(call),
				"io_uring_register_buffers_update_tag(buffer %u)",
				i);
			explain_register(call, ret < 0 ? ret : -EIO, cfg);
			io_uring_unregister_buffers(ring);
			return -1;
		}
		each[i] = t1 - t0;
		sum += each[i];
	}
	r->reg_ns = r->sparse_ns + sum;
	r->per_buffer_ns = sum / cfg->count;
	qsort(each, cfg->count, sizeof(*each), cmp_u64);
	r->min_buffer_ns = each[0];
	r->max_buffer_ns = each[cfg->count - 1];
	r->p50_buffer_ns = median(each, cfg->count);
	return 0;
}

static void print_prefix(const struct config *cfg)
{
	printf("backing=%s count=%u size=%" PRIu64 " mode=%s layout=%s",
	       backing_names[cfg->backing], cfg->count, cfg->size,
	       mode_names[cfg->mode], layout_names[cfg->layout]);
}

static void print_rep(const struct config *cfg, unsigned int rep,
		      const struct rep_result *r)
{
	printf(PROG " ");
	print_prefix(cfg);
	printf(" rep=%u reg_ns=%" PRIu64 " per_buffer_ns=%" PRIu64
	       " unreg_ns=%" PRIu64,
	       rep, r->reg_ns, r->per_buffer_ns, r->unreg_ns);
	if (cfg->mode == MODE_EACH)
		printf(" sparse_ns=%" PRIu64 " min_buffer_ns=%" PRIu64
		       " p50_buffer_ns=%" PRIu64 " max_buffer_ns=%" PRIu64,
		       r->sparse_ns, r->min_buffer_ns, r->p50_buffer_ns,
		       r->max_buffer_ns);
	printf("\n");
	fflush(stdout);
}

static int print_summary(const struct config *cfg, const struct rep_result *res)
{
	uint64_t *v = calloc(cfg->reps, sizeof(*v));
	uint64_t reg, per, unreg;
	unsigned int i;

	if (!v) {
		err_line("out of memory");
		return -1;
	}
	for (i = 0; i < cfg->reps; i++)
		v[i] = res[i].reg_ns;
	reg = median(v, cfg->reps);
	for (i = 0; i < cfg->reps; i++)
		v[i] = res[i].per_buffer_ns;
	per = median(v, cfg->reps);
	for (i = 0; i < cfg->reps; i++)
		v[i] = res[i].unreg_ns;
	unreg = median(v, cfg->reps);
	free(v);

	printf(PROG " summary ");
	print_prefix(cfg);
	printf(" reps=%u median_reg_ns=%" PRIu64
	       " median_per_buffer_ns=%" PRIu64 " median_unreg_ns=%" PRIu64
	       "\n",
	       cfg->reps, reg, per, unreg);
	return 0;
}

int main(int argc, char **argv)
{
	struct rep_result *res = NULL;
	struct iovec *iov = NULL;
	uint64_t *each = NULL;
	struct io_uring ring;
	int ring_ok = 0, rc = 1, ret;
	struct memory mem = { .map = MAP_FAILED };
	struct config cfg;
	unsigned int i;

	parse_args(argc, argv, &cfg);

	iov = calloc(cfg.count, sizeof(*iov));
	res = calloc(cfg.reps, sizeof(*res));
	each = calloc(cfg.count, sizeof(*each));
	if (!iov || !res || !each) {
		err_line("out of memory");
		goto out;
	}

	if (map_memory(&cfg, &mem))
		goto out;
	for (i = 0; i < cfg.count; i++) {
		iov[i].iov_base = mem.base + buffer_offset(&cfg, &mem, i);
		iov[i].iov_len = cfg.size;
	}

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		err_line(
			"io_uring_queue_init: %s%s", strerror(-ret),
			ret == -EPERM ?
				" (io_uring disabled? see /proc/sys/kernel/io_uring_disabled)" :
				"");
		goto out;
	}
	ring_ok = 1;

	for (i = 0; i < cfg.reps; i++) {
		struct rep_result *r = &res[i];
		uint64_t t0, t1;

		if (cfg.mode == MODE_BATCH)
			ret = register_batch(&ring, iov, &cfg, r);
		else
			ret = register_each(&ring, iov, &cfg, each, r);
		if (ret)
			goto out;

		t0 = now_ns();
		ret = io_uring_unregister_buffers(&ring);
		t1 = now_ns();
		if (ret) {
			err_line("io_uring_unregister_buffers: %s",
				 strerror(-ret));
			goto out;
		}
		r->unreg_ns = t1 - t0;
		print_rep(&cfg, i + 1, r);
	}
	if (print_summary(&cfg, res))
		goto out;
	rc = 0;
out:
	if (ring_ok)
		io_uring_queue_exit(&ring);
	unmap_memory(&mem);
	free(each);
	free(res);
	free(iov);
	return rc;
}
