// SPDX-License-Identifier: GPL-2.0-only
/*
 * The segments the kernel really builds for registered buffers: the folio
 * layout read from /proc/self/pagemap and /proc/kpageflags, put through
 * the running kernel's coalescing rules (io_uring/rsrc.c; enum ufr_rules).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <linux/kernel-page-flags.h>

#include "ufr_inspect.h"

/* Documentation/admin-guide/mm/pagemap.rst */
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PF_HEAD (1ULL << KPF_COMPOUND_HEAD)
#define PF_TAIL (1ULL << KPF_COMPOUND_TAIL)
#define PF_ZERO (1ULL << KPF_ZERO_PAGE)

/* Pagemap entries read per pread: 256 KiB, whatever the buffer size. */
#define PM_CHUNK 32768
/* Page flags read per pread at most: each costs ~0.1 us in the kernel. */
#define PF_RUN 64
/* Larger than any folio (PUD-sized hugetlb is order 18 on 4 KiB pages). */
#define MAX_FOLIO_ORDER 30

/*
 * One buffer's pages, fed one at a time: runs of pages, folios entered,
 * and whether they pass io_check_coalesce_buffer() (Linux 6.10 on).
 */
struct coalesce {
	uint64_t pages;
	uint64_t folios;
	uint64_t run; /* pages in the current folio run */
	uint64_t prev_pfn, head_pfn;
	uint32_t mid_pages; /* the first folio's size: every folio's */
	bool ok;
};

static void coalesce_add(struct coalesce *c, const struct ufr_page_info *p)
{
	if (!c->pages++) {
		c->mid_pages = p->folio_pages;
		c->folios = c->run = 1;
		c->ok = true;
	} else if (!c->ok) {
		/* One per page already; nothing more to learn. */
	} else if (p->head_pfn == c->head_pfn && p->pfn == c->prev_pfn + 1) {
		c->run++;
	} else {
		/* The head run may start mid-folio but must reach its end;
		 * later runs must cover their whole folio. */
		if (c->folios == 1)
			c->ok = c->prev_pfn - c->head_pfn == c->mid_pages - 1;
		else
			c->ok = c->run == c->mid_pages;
		if (p->folio_pages != c->mid_pages || p->pfn != p->head_pfn)
			c->ok = false;
		c->run = 1;
		c->folios++;
	}
	c->prev_pfn = p->pfn;
	c->head_pfn = p->head_pfn;
}

static uint64_t coalesce_bvecs(const struct coalesce *c, enum ufr_rules rules)
{
	if (c->pages <= 1 || !c->ok || c->mid_pages == 1)
		return c->pages;
	switch (rules) {
	case UFR_RULES_MULTI_FOLIO:
		return c->folios;
	case UFR_RULES_SINGLE_FOLIO:
		/* One contiguous run inside one folio. */
		return c->folios == 1 ? 1 : c->pages;
	case UFR_RULES_PER_PAGE:
		break;
	}
	return c->pages;
}

uint32_t ufr_coalesced_bvecs(enum ufr_rules rules,
			     const struct ufr_page_info *pages, size_t nr)
{
	struct coalesce c = { 0 };
	size_t i;

	for (i = 0; i < nr; i++)
		coalesce_add(&c, &pages[i]);
	return (uint32_t)coalesce_bvecs(&c, rules);
}

struct walk {
	int pagemap, kpageflags;
	size_t page_size;
	uint64_t *pm; /* PM_CHUNK pagemap entries */
	uint64_t win_pfn, win_len; /* PFNs whose flags are in win[] */
	uint64_t win[PF_RUN];
	struct ufr_page_info folio; /* the last folio found */
	uint64_t *heads; /* head PFNs of the folios entered, repeats too */
	size_t nr_heads, cap_heads;
};

static int read_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done,
				  off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		done += r;
	}
	/* Past the last PFN there is nothing: zero flags. */
	memset((char *)buf + done, 0, len - done);
	return 0;
}

/* Flags of @pfn, reading those of the next @ahead - 1 PFNs with them. */
static int page_flags(struct walk *w, uint64_t pfn, uint64_t ahead,
		      uint64_t *flags)
{
	int ret;

	if (pfn - w->win_pfn >= w->win_len) {
		w->win_len = 0;
		ahead = ahead < PF_RUN ? ahead : PF_RUN;
		ret = read_full(w->kpageflags, w->win, ahead * sizeof(uint64_t),
				(off_t)(pfn * sizeof(uint64_t)));
		if (ret)
			return ret;
		w->win_pfn = pfn;
		w->win_len = ahead;
	}
	*flags = w->win[pfn - w->win_pfn];
	return 0;
}

/*
 * Folios are naturally aligned powers of two, so the head of a tail page
 * is the first COMPOUND_HEAD among the PFN rounded down to 2, 4, 8, ...
 * pages, and the size is the first power of two past the head that is no
 * longer a tail: O(log size) reads per folio, not one per page.
 * @ahead: how many PFNs from @pfn on the buffer uses next (4 KiB pages
 * mostly come in ascending runs), so their flags come in the same read.
 */
static int find_folio(struct walk *w, uint64_t pfn, uint64_t ahead)
{
	struct ufr_page_info *f = &w->folio;
	uint64_t flags, head = pfn;
	unsigned int k;
	int ret;

	ret = page_flags(w, pfn, ahead, &flags);
	/* Read-faulted: pinning for write will put another page there. */
	if (!ret && (flags & PF_ZERO))
		return -EFAULT;
	for (k = 1; !ret && !(flags & PF_HEAD); k++) {
		if (!(flags & PF_TAIL)) {
			if (k > 1)
				return -EIO; /* changed under us */
			f->head_pfn = pfn;
			f->folio_pages = 1;
			return 0;
		}
		if (k > MAX_FOLIO_ORDER)
			return -EIO;
		head = pfn & ~((1ULL << k) - 1);
		ret = page_flags(w, head, 1, &flags);
	}
	for (k = 0; !ret && k <= MAX_FOLIO_ORDER; k++) {
		ret = page_flags(w, head + (1ULL << k), 1, &flags);
		if (!ret && !(flags & PF_TAIL))
			break;
	}
	if (ret)
		return ret;
	if (k > MAX_FOLIO_ORDER || pfn - head >= 1ULL << k)
		return -EIO;
	f->head_pfn = head;
	f->folio_pages = 1U << k;
	return 0;
}

static int note_folio(struct walk *w, struct ufr_segments *out)
{
	uint64_t bytes = (uint64_t)w->folio.folio_pages * w->page_size;

	if (w->nr_heads == w->cap_heads) {
		size_t cap = w->cap_heads ? 2 * w->cap_heads : 1024;
		uint64_t *heads = realloc(w->heads, cap * sizeof(*heads));

		if (!heads)
			return -ENOMEM;
		w->heads = heads;
		w->cap_heads = cap;
	}
	w->heads[w->nr_heads++] = w->folio.head_pfn;
	if (!out->min_folio_bytes || bytes < out->min_folio_bytes)
		out->min_folio_bytes = bytes;
	if (bytes > out->max_folio_bytes)
		out->max_folio_bytes = bytes;
	return 0;
}

/* How many of @nr pagemap entries map ascending PFNs from the first on. */
static uint64_t pfn_run(const uint64_t *pm, uint64_t nr)
{
	uint64_t i;

	for (i = 1; i < nr && i < PF_RUN; i++)
		if ((pm[i] & PM_PFN_MASK) != (pm[0] & PM_PFN_MASK) + i)
			break;
	return i;
}

/*
 * Feed the buffer's pages, as io_pin_pages() pins them, to coalesce.
 * *@shift: log2 of the bytes each of its bio_vecs covers.
 */
/* Entry @i of the pagemap read (@left from it on) as a page of its
 * folio. */
static int page_of(struct walk *w, uint64_t i, uint64_t left,
		   struct ufr_page_info *p)
{
	uint64_t entry = w->pm[i];

	if (!(entry & PM_PRESENT))
		return -EFAULT;
	p->pfn = entry & PM_PFN_MASK;
	/* Hidden from tasks without CAP_SYS_ADMIN. */
	if (!p->pfn)
		return -EPERM;
	if (p->pfn - w->folio.head_pfn >= w->folio.folio_pages) {
		int ret = find_folio(w, p->pfn, pfn_run(w->pm + i, left));

		if (ret)
			return ret;
	}
	p->head_pfn = w->folio.head_pfn;
	p->folio_pages = w->folio.folio_pages;
	return 0;
}

static int walk_buffer(struct walk *w, const struct iovec *iov,
		       enum ufr_rules rules, struct ufr_segments *out,
		       uint8_t *shift)
{
	uintptr_t addr = (uintptr_t)iov->iov_base, mask = w->page_size - 1;
	uint64_t first, nr, done, i, chunk;
	struct coalesce c = { 0 };
	uint64_t first_head = 0, bvecs;
	bool straddles = false;
	int ret;

	*shift = __builtin_ctzl(w->page_size);
	if (!iov->iov_len)
		return 0;
	if (addr + iov->iov_len < addr || addr + iov->iov_len + mask < addr)
		return -EINVAL;
	first = addr / w->page_size;
	nr = (addr + iov->iov_len + mask) / w->page_size - first;
	for (done = 0; done < nr; done += chunk) {
		chunk = nr - done < PM_CHUNK ? nr - done : PM_CHUNK;
		ret = read_full(w->pagemap, w->pm, chunk * sizeof(uint64_t),
				(off_t)((first + done) * sizeof(uint64_t)));
		if (ret)
			return ret;
		for (i = 0; i < chunk; i++) {
			struct ufr_page_info p;

			ret = page_of(w, i, chunk - i, &p);
			if (ret)
				return ret;
			if (!c.pages || p.head_pfn != c.head_pfn) {
				ret = note_folio(w, out);
				if (ret)
					return ret;
			}
			if (!c.pages)
				first_head = p.head_pfn;
			else if (p.head_pfn != first_head)
				straddles = true;
			coalesce_add(&c, &p);
		}
	}
	bvecs = coalesce_bvecs(&c, rules);
	if (bvecs < nr)
		*shift = __builtin_ctzl(c.mid_pages * w->page_size);
	out->pages += nr;
	out->bvecs += bvecs;
	out->straddling += straddles;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The distinct folios: buffers that share one enter it twice. */
static uint64_t distinct_folios(struct walk *w)
{
	uint64_t n = w->nr_heads != 0;
	size_t i;

	qsort(w->heads, w->nr_heads, sizeof(*w->heads), cmp_u64);
	for (i = 1; i < w->nr_heads; i++)
		n += w->heads[i] != w->heads[i - 1];
	return n;
}

int ufr_inspect_buffers(const struct iovec *iov, unsigned int n,
			enum ufr_rules rules, struct ufr_segments *out,
			uint8_t *shift)
{
	struct walk w = { .pagemap = -1, .kpageflags = -1 };
	unsigned int i;
	uint8_t unused;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	w.page_size = (size_t)sysconf(_SC_PAGESIZE);
	w.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (w.pagemap >= 0)
		w.kpageflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (w.pagemap < 0 || w.kpageflags < 0) {
		ret = -errno;
		goto out;
	}
	w.pm = malloc(PM_CHUNK * sizeof(*w.pm));
	if (!w.pm) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !ret; i++)
		ret = walk_buffer(&w, &iov[i], rules, out,
				  shift ? &shift[i] : &unused);
	if (!ret) {
		out->folios = distinct_folios(&w);
		out->from_pagemap = true;
	}
out:
	if (ret)
		memset(out, 0, sizeof(*out));
	free(w.heads);
	free(w.pm);
	if (w.kpageflags >= 0)
		close(w.kpageflags);
	if (w.pagemap >= 0)
		close(w.pagemap);
	return ret;
}

/* The probe's memory: two large folios, checked through pagemap. */
static int probe_memory(const struct ufr_machine *m, struct ufr_backing *b,
			size_t *folio)
{
	static const enum ufr_folio kinds[] = { UFR_FOLIO_THP, UFR_FOLIO_2M };
	struct ufr_segments seg;
	struct iovec iov;
	struct ufr_err err;
	unsigned int k;
	int ret = -ENOMEM;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		*folio = ufr_machine_folio_bytes(m, kinds[k]);
		if ((kinds[k] == UFR_FOLIO_THP && !ufr_machine_thp_on(m)) ||
		    ufr_backing_map(b, 2 * *folio, kinds[k], *folio, -1,
				    UFR_BACKING_ANON, NULL, &err))
			continue;
		iov.iov_base = b->addr;
		iov.iov_len = 2 * *folio;
		ret = ufr_inspect_buffers(&iov, 1, UFR_RULES_MULTI_FOLIO, &seg,
					  NULL);
		if (!ret && seg.folios == 2 && seg.min_folio_bytes == *folio &&
		    seg.max_folio_bytes == *folio)
			return 0;
		ufr_backing_unmap(b);
		if (ret == -EPERM || ret == -EACCES)
			return ret;
		ret = -ENOMEM;
	}
	return ret;
}

static struct ufr_rules_found probed;

/*
 * Pins held by the probe's two buffers, over one folio and over two, in
 * @obs: NULL, or why there is no figure.
 */
static const char *probe_pins(struct ufr_backing *b, size_t folio,
			      struct ufr_observation *obs)
{
	struct iovec iov[2] = {
		{ .iov_base = b->addr, .iov_len = folio },
		{ .iov_base = b->addr, .iov_len = 2 * folio },
	};
	struct ufr_config c = { .strategy = UFR_STRAT_COALESCED };
	struct ufr_reg_timing t;
	struct io_uring ring;
	struct ufr_err err;
	int ret;

	if (io_uring_queue_init(2, &ring, 0))
		return "no io_uring ring for it";
	ret = ufr_register_observed(&ring, iov, 2, &c, NULL, &t, NULL, obs,
				    &err);
	if (!ret)
		ufr_unregister(&ring, &t);
	io_uring_queue_exit(&ring);
	if (ret)
		return "registering its buffers failed";
	return obs->held < 0 ? obs->note : NULL;
}

/* Find the rules into probed. */
static void probe(const struct ufr_machine *m)
{
	struct ufr_observation obs = { .held = -1, .acquired = -1 };
	struct ufr_backing mem;
	const char *why;
	size_t folio = 0;
	int ret = probe_memory(m, &mem, &folio);
	/* The pins each rules keep for the two buffers. */
	const int64_t pages = folio / 4096, kept[] = {
		[UFR_RULES_MULTI_FOLIO] = 3,
		[UFR_RULES_SINGLE_FOLIO] = 1 + 2 * pages,
		[UFR_RULES_PER_PAGE] = 3 * pages,
	};
	unsigned int k;

	if (ret)
		why = ret == -ENOMEM ?
			      "no two large folios to be had (THP off and no free 2 MiB hugetlb pages)" :
			      "the folio layout cannot be read without root";
	else
		why = probe_pins(&mem, folio, &obs);
	ufr_backing_unmap(&mem);
	for (k = 0; !why && k < sizeof(kept) / sizeof(kept[0]); k++) {
		if (obs.held != kept[k])
			continue;
		probed.rules = k;
		snprintf(
			probed.how, sizeof(probed.how),
			"probe: buffers over 1 and 2 folios of %zu KiB kept %" PRId64
			" pins",
			folio >> 10, obs.held);
		return;
	}
	probed.rules = ufr_rules_for_release(m->release);
	if (obs.held >= 0)
		snprintf(
			probed.how, sizeof(probed.how),
			"kernel version %s: the probe over 1 and 2 folios of %zu KiB kept %" PRId64
			" pins, which match no known rules",
			m->release, folio >> 10, obs.held);
	else
		snprintf(probed.how, sizeof(probed.how),
			 "kernel version %s: no probe, %s", m->release, why);
}

void ufr_rules_probe(const struct ufr_machine *m, struct ufr_rules_found *out)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static bool done;

	pthread_mutex_lock(&lock);
	if (!done)
		probe(m);
	done = true;
	*out = probed;
	pthread_mutex_unlock(&lock);
}

/* The kernel's rules applied to addresses, for folios of @folio_bytes. */
static void predict(const struct ufr_bufset *s, size_t folio_bytes,
		    enum ufr_rules rules, struct ufr_segments *seg,
		    uint8_t *shift)
{
	uint64_t last_folio = UINT64_MAX;
	unsigned int i;

	memset(seg, 0, sizeof(*seg));
	/* Registered buffers are in address order. */
	for (i = 0; i < s->nr_iov; i++) {
		uintptr_t a = (uintptr_t)s->iov[i].iov_base;
		size_t len = s->iov[i].iov_len;

		ufr_segments_add_range(seg, rules, a, len, folio_bytes,
				       &last_folio);
		shift[i] = ufr_range_bvecs(rules, a, len, folio_bytes) <
					   ufr_folios_spanned(a, len,
							      UFR_PAGE_BYTES) ?
				   __builtin_ctzl(folio_bytes) :
				   __builtin_ctz(UFR_PAGE_BYTES);
	}
	for (i = 0; i < s->nr_bufs; i++)
		seg->straddling +=
			ufr_folios_spanned((uintptr_t)s->buf_iov[i].iov_base,
					   s->buf_iov[i].iov_len,
					   folio_bytes) > 1;
	seg->min_folio_bytes = seg->max_folio_bytes = folio_bytes;
}

int ufr_bufset_segments(struct ufr_bufset *s, size_t folio_bytes,
			enum ufr_rules rules, struct ufr_segments *seg)
{
	struct ufr_segments per_buf;
	uint8_t *shift = calloc(s->nr_iov ? s->nr_iov : 1, sizeof(*shift));
	unsigned int i;

	free(s->io_shift);
	s->io_shift = calloc(s->nr_bufs ? s->nr_bufs : 1, sizeof(*s->io_shift));
	if (!shift || !s->io_shift) {
		free(shift);
		return -ENOMEM;
	}
	if (!ufr_inspect_buffers(s->iov, s->nr_iov, rules, seg, shift) &&
	    !ufr_inspect_buffers(s->buf_iov, s->nr_bufs, rules, &per_buf,
				 NULL)) {
		/* Straddling is about the io_us' buffers, not regions. */
		seg->straddling = per_buf.straddling;
	} else {
		predict(s, folio_bytes, rules, seg, shift);
	}
	for (i = 0; i < s->nr_bufs; i++)
		s->io_shift[i] = shift[s->buf_index[i]];
	free(shift);
	return 0;
}
