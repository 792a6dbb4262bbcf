// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>

#include "ufr_reg.h"

/* reg_profile's state; see ufr_reg.h. */
struct ufr_ksym {
	uint64_t addr;
	uint64_t samples; /* whose leaf it is */
	uint32_t name; /* offset in names */
	bool reg; /* an io_uring_register entry point */
};

struct ufr_profiler {
	int fd;
	void *ring;
	size_t ring_len, page;
	struct ufr_ksym *syms;
	size_t nr_syms;
	char *names;
	struct ufr_profile_summary sum;
};

/* The profiler of the thread doing the register calls, if any. */
static __thread struct ufr_profiler *cur_prof;

#define PROFILE_RING_PAGES 128

static int ksym_cmp(const void *a, const void *b)
{
	const struct ufr_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The kernel's text symbols, sorted by address; -EACCES if hidden. */
static int load_kallsyms(struct ufr_profiler *p)
{
	size_t cap = 0, ncap = 0, nlen = 0, nonzero = 0, len;
	char line[512], name[256], type;
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		if (p->nr_syms == cap) {
			void *n;

			cap = cap ? 2 * cap : 65536;
			n = realloc(p->syms, cap * sizeof(*p->syms));
			if (!n)
				break;
			p->syms = n;
		}
		len = strlen(name) + 1;
		if (nlen + len > ncap) {
			void *n;

			ncap = ncap ? 2 * ncap : 1 << 20;
			n = realloc(p->names, ncap);
			if (!n)
				break;
			p->names = n;
		}
		memcpy(p->names + nlen, name, len);
		p->syms[p->nr_syms++] = (struct ufr_ksym){
			.addr = addr,
			.name = nlen,
			.reg = strstr(name, "io_uring_register") &&
			       strstr(name, "sys_"),
		};
		nlen += len;
		nonzero += addr != 0;
	}
	fclose(f);
	if (!nonzero)
		return -EACCES;
	qsort(p->syms, p->nr_syms, sizeof(*p->syms), ksym_cmp);
	return 0;
}

/* The symbol holding @addr: the last one at or below it. */
static long ksym_find(const struct ufr_profiler *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nr_syms;

	if (!hi || addr < p->syms[0].addr)
		return -1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

/* One sample's call chain, leaf first. */
static void profile_chain(struct ufr_profiler *p, const uint64_t *ips,
			  uint64_t nr)
{
	long leaf = -1, k;
	bool under = false;
	uint64_t i;

	for (i = 0; i < nr; i++) {
		if (ips[i] >= (uint64_t)PERF_CONTEXT_MAX)
			continue; /* a context marker */
		k = ksym_find(p, ips[i]);
		if (k < 0)
			continue;
		if (leaf < 0)
			leaf = k;
		if (p->syms[k].reg) {
			under = true;
			break;
		}
	}
	if (leaf >= 0 && under) {
		p->syms[leaf].samples++;
		p->sum.samples++;
	} else {
		p->sum.outside++;
	}
}

/* Read what the ring buffer holds and give the space back. */
static void profile_drain(struct ufr_profiler *p)
{
	struct perf_event_mmap_page *mp = p->ring;
	size_t size = p->ring_len - p->page;
	unsigned char *data = (unsigned char *)p->ring + p->page;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	static __thread uint64_t rec[1024];

	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		size_t off = tail % size, n, first;

		memcpy(&h, data + off, sizeof(h)); /* headers never wrap */
		if (!h.size)
			break;
		n = h.size < sizeof(rec) ? h.size : sizeof(rec);
		first = size - off < n ? size - off : n;
		memcpy(rec, data + off, first);
		memcpy((unsigned char *)rec + first, data, n - first);
		if (h.type == PERF_RECORD_SAMPLE && n >= 16) {
			uint64_t nr = rec[1];

			if (nr > n / 8 - 2)
				nr = n / 8 - 2;
			profile_chain(p, rec + 2, nr);
		} else if (h.type == PERF_RECORD_LOST && n >= 24) {
			p->sum.lost += rec[2];
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
}

static int paranoid_level(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int level = 99;

	if (f) {
		if (fscanf(f, "%d", &level) != 1)
			level = 99;
		fclose(f);
	}
	return level;
}

int ufr_profiler_open(struct ufr_profiler **out, struct ufr_err *err)
{
	struct perf_event_attr attr;
	struct ufr_profiler *p;
	int ret;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ufr_err_set(err, -ENOMEM, "reg_profile: out of memory");
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = UFR_PROFILE_PERIOD_NS;
	attr.sample_type = PERF_SAMPLE_CALLCHAIN;
	attr.disabled = 1;
	attr.exclude_user = 1;
	attr.exclude_hv = 1;
	attr.exclude_callchain_user = 1;
	attr.wakeup_events = 1 << 30; /* nobody waits on it */
	p->fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1,
			PERF_FLAG_FD_CLOEXEC);
	if (p->fd < 0) {
		ret = -errno;
		free(p);
		if (ret == -EACCES || ret == -EPERM)
			return ufr_err_set(
				err, ret,
				"reg_profile: kernel sampling is not allowed (%s, perf_event_paranoid is %d); run as root (or with CAP_PERFMON), or allow it: echo 1 > /proc/sys/kernel/perf_event_paranoid",
				strerror(-ret), paranoid_level());
		return ufr_err_set(
			err, ret,
			"reg_profile: perf_event_open of the cpu-clock failed: %s; this kernel needs CONFIG_PERF_EVENTS",
			strerror(-ret));
	}
	p->page = (size_t)sysconf(_SC_PAGESIZE);
	p->ring_len = p->page * (1 + PROFILE_RING_PAGES);
	p->ring = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->fd, 0);
	if (p->ring == MAP_FAILED) {
		ret = -errno;
		p->ring = NULL;
		ufr_profiler_close(p);
		return ufr_err_set(
			err, ret,
			"reg_profile: mapping the sample buffer failed: %s; raise /proc/sys/kernel/perf_event_mlock_kb",
			strerror(-ret));
	}
	ret = load_kallsyms(p);
	if (ret) {
		ufr_profiler_close(p);
		return ufr_err_set(
			err, ret,
			"reg_profile: the kernel's symbol addresses cannot be read (/proc/kallsyms shows %s); run as root with kernel.kptr_restrict 0 or 1",
			ret == -EACCES ? "zeros" : "nothing");
	}
	*out = cur_prof = p;
	return 0;
}

/* Most samples first, then by name. */
static int fn_cmp(const void *a, const void *b)
{
	const struct ufr_profile_fn *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return strcmp(x->function, y->function);
}

void ufr_profile_top(struct ufr_profile_summary *s, struct ufr_profile_fn *fns,
		     size_t n)
{
	size_t i, k, kept = 0;

	for (i = 0; i < n; i++) {
		for (k = 0; k < kept; k++)
			if (!strcmp(fns[k].function, fns[i].function))
				break;
		if (k < kept)
			fns[k].samples += fns[i].samples;
		else
			fns[kept++] = fns[i];
	}
	qsort(fns, kept, sizeof(*fns), fn_cmp);
	s->nr_top = kept < UFR_PROFILE_TOP ? kept : UFR_PROFILE_TOP;
	memcpy(s->top, fns, s->nr_top * sizeof(*fns));
}

void ufr_profiler_summary(struct ufr_profiler *p, struct ufr_profile_summary *s)
{
	struct ufr_profile_fn *fns;
	size_t i, n = 0;

	*s = p->sum;
	s->nr_top = 0;
	for (i = 0; i < p->nr_syms; i++)
		n += p->syms[i].samples != 0;
	fns = calloc(n ? n : 1, sizeof(*fns));
	if (!fns)
		return;
	for (i = 0, n = 0; i < p->nr_syms; i++) {
		if (!p->syms[i].samples)
			continue;
		snprintf(fns[n].function, sizeof(fns[n].function), "%s",
			 p->names + p->syms[i].name);
		fns[n++].samples = p->syms[i].samples;
	}
	ufr_profile_top(s, fns, n);
	free(fns);
}

void ufr_profiler_close(struct ufr_profiler *p)
{
	if (!p)
		return;
	if (cur_prof == p)
		cur_prof = NULL;
	if (p->ring)
		munmap(p->ring, p->ring_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p->syms);
	free(p->names);
	free(p);
}

/* Around each timed register call, outside its clock readings. */
static inline void prof_on(void)
{
	if (cur_prof)
		ioctl(cur_prof->fd, PERF_EVENT_IOC_ENABLE, 0);
}

static inline void prof_off(void)
{
	if (cur_prof) {
		ioctl(cur_prof->fd, PERF_EVENT_IOC_DISABLE, 0);
		/* Read often enough that reg_mode=each loses nothing. */
		if (!(++cur_prof->sum.calls % 64))
			profile_drain(cur_prof);
	}
}

static int explain(int ret, const struct ufr_config *c, unsigned int n,
		   uint64_t bytes, struct ufr_err *err)
{
	const char *what = ufr_strategy_name(c->strategy);
	struct rlimit rl;

	if (ret == -ENOMEM && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < bytes)
		return ufr_err_set(
			err, -ENOMEM,
			"%s: registering %u buffers pins %llu bytes but RLIMIT_MEMLOCK is %llu bytes; raise it: ulimit -l unlimited (or ulimit -l %llu)",
			what, n, (unsigned long long)bytes,
			(unsigned long long)rl.rlim_cur,
			(unsigned long long)(bytes + 1023) / 1024);
	if (ret == -ENOMEM)
		return ufr_err_set(
			err, -ENOMEM,
			"%s: registering %u buffers (%llu bytes): out of memory to pin them; lower iodepth or bs",
			what, n, (unsigned long long)bytes);
	if (ret == -EINVAL && n > UFR_MAX_BUFFERS)
		return ufr_err_set(
			err, -EINVAL,
			"%s: %u buffers: the kernel registers at most 16384; lower iodepth",
			what, n);
	/*
	 * Long-term pins of file-backed memory are refused where the kernel
	 * cannot keep the pages put (EFAULT since Linux 6.5 for writable
	 * shared files that track dirty pages; io_uring's own EOPNOTSUPP
	 * before): shmem and hugetlbfs pass on most kernels, not all.
	 */
	if (c->backing != UFR_BACKING_ANON &&
	    (ret == -EFAULT || ret == -EOPNOTSUPP))
		return ufr_err_set(
			err, ret,
			"reg_backing=%s: the kernel refused to pin the buffer memory for registration (%s: %s); use reg_backing=anon, or a kernel that pins %s memory long-term",
			ufr_backing_name(c->backing), strerrorname_np(-ret),
			strerror(-ret),
			c->backing == UFR_BACKING_MEMFD ? "shmem" :
							  "hugetlbfs");
	if (ret == -EFAULT)
		return ufr_err_set(
			err, -EFAULT,
			"%s: the buffer memory cannot be pinned (not anonymous, shmem or hugetlb memory?); use another iomem= or reg_strategy=",
			what);
	return ufr_err_set(err, ret, "%s: registering %u buffers failed: %s",
			   what, n, strerror(-ret));
}

/*
 * The register calls, each timed alone, the profiler on around each
 * outside the clock: UFR_REG_BATCH makes one for all buffers, UFR_REG_EACH
 * a sparse table and then one update per buffer.
 */
static int register_calls(struct io_uring *ring, const struct iovec *iov,
			  unsigned int n, enum ufr_reg_mode mode,
			  struct ufr_reg_timing *t, uint64_t *per_buffer_ns)
{
	unsigned int i, calls = mode == UFR_REG_EACH ? n + 1 : 1;
	uint64_t start, ns;
	int ret = 0;

	for (i = 0; i < calls; i++) {
		prof_on();
		start = ufr_now_ns(CLOCK_MONOTONIC);
		if (mode == UFR_REG_BATCH)
			ret = io_uring_register_buffers(ring, iov, n);
		else if (!i)
			ret = io_uring_register_buffers_sparse(ring, n);
		else
			ret = io_uring_register_buffers_update_tag(
				ring, i - 1, &iov[i - 1], NULL, 1);
		ns = ufr_now_ns(CLOCK_MONOTONIC) - start;
		prof_off();
		if (ret < 0)
			break;
		if (i && per_buffer_ns)
			per_buffer_ns[i - 1] = ns;
		t->total_ns += ns;
		t->calls++;
	}
	/* Dropping the sparse table releases the buffers updated so far. */
	if (ret < 0 && i)
		io_uring_unregister_buffers(ring);
	return ret < 0 ? ret : 0;
}

int ufr_register(struct io_uring *ring, const struct iovec *iov, unsigned int n,
		 const struct ufr_config *c, struct ufr_reg_timing *t,
		 uint64_t *per_buffer_ns, struct ufr_err *err)
{
	uint64_t bytes = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++)
		bytes += iov[i].iov_len;
	memset(t, 0, sizeof(*t));
	ret = register_calls(ring, iov, n, c->mode, t, per_buffer_ns);
	if (cur_prof)
		profile_drain(cur_prof);
	if (ret)
		return explain(ret, c, n, bytes, err);
	t->buffers = n;
	t->bytes = bytes;
	t->samples = c->mode == UFR_REG_EACH && per_buffer_ns ? n : 0;
	return 0;
}

static pthread_mutex_t *reg_lock;

int ufr_reg_lock_init(void)
{
	pthread_mutexattr_t attr;
	void *p;

	if (reg_lock)
		return 0;
	p = mmap(NULL, sizeof(*reg_lock), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	/* A job killed while registering must not wedge the others. */
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(p, &attr);
	pthread_mutexattr_destroy(&attr);
	reg_lock = p;
	return 0;
}

static void lock(void)
{
	if (reg_lock && pthread_mutex_lock(reg_lock) == EOWNERDEAD)
		pthread_mutex_consistent(reg_lock);
}

static void unlock(void)
{
	if (reg_lock)
		pthread_mutex_unlock(reg_lock);
}

static int unregister_locked(struct io_uring *ring, struct ufr_reg_timing *t)
{
	uint64_t start = ufr_now_ns(CLOCK_MONOTONIC);
	int ret = io_uring_unregister_buffers(ring);

	if (!ret && t)
		t->unreg_ns = ufr_now_ns(CLOCK_MONOTONIC) - start;
	return ret;
}

int ufr_unregister(struct io_uring *ring, struct ufr_reg_timing *t)
{
	int ret;

	lock();
	ret = unregister_locked(ring, t);
	unlock();
	return ret;
}

int ufr_pins_read(struct ufr_pins *p)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	int64_t val;
	char name[64];
	bool ok;
	FILE *f;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EACCES;
	ok = write(fd, "1\n", 2) == 2;
	close(fd);
	if (!ok)
		return -EACCES;
	p->acquired = p->released = -1;
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -ENOENT;
	while (fscanf(f, "%63s %" SCNd64, name, &val) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			p->acquired = val;
		else if (!strcmp(name, "nr_foll_pin_released"))
			p->released = val;
	}
	fclose(f);
	return p->acquired < 0 || p->released < 0 ? -ENOENT : 0;
}

static bool pins_equal(const struct ufr_pins *a, const struct ufr_pins *b)
{
	return a->acquired == b->acquired && a->released == b->released;
}

/* Two reads in a row that agree: nothing else is pinning just now. */
static int pins_quiet(struct ufr_pins *p)
{
	struct ufr_pins again;
	int ret = ufr_pins_read(p);

	if (!ret)
		ret = ufr_pins_read(&again);
	if (!ret && !pins_equal(p, &again))
		ret = -EAGAIN;
	return ret;
}

/* 4 KiB pages pinned by registering the buffers: each pins its own. */
static uint64_t pages_pinned(const struct iovec *iov, unsigned int n)
{
	uint64_t pages = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)iov[i].iov_base;

		if (iov[i].iov_len)
			pages += (a + iov[i].iov_len + 4095) / 4096 - a / 4096;
	}
	return pages;
}

#define OBSERVE_ATTEMPTS 5

static const char *observe_failed(int ret)
{
	switch (ret) {
	case -EACCES:
		return "the pin counters are exact only after /proc/sys/vm/stat_refresh, which needs root";
	case -ENOENT:
		return "this kernel has no nr_foll_pin_acquired/nr_foll_pin_released in /proc/vmstat";
	default:
		return "something outside this job pinned or unpinned pages during each of 5 attempts (O_DIRECT I/O without fixed buffers, another program)";
	}
}

int ufr_register_observed(struct io_uring *ring, const struct iovec *iov,
			  unsigned int n, const struct ufr_config *c,
			  struct ufr_reg_timing *t, uint64_t *per_buffer_ns,
			  struct ufr_observation *obs, struct ufr_err *err)
{
	int64_t expect = (int64_t)pages_pinned(iov, n), d_acq, d_held;
	int64_t last_acq = -1, last_held = -1;
	struct ufr_pins before, after;
	int ret, seen, attempt;

	memset(obs, 0, sizeof(*obs));
	obs->held = -1;
	lock();
	for (attempt = 1;; attempt++) {
		seen = pins_quiet(&before);
		ret = ufr_register(ring, iov, n, c, t, per_buffer_ns, err);
		if (ret)
			break;
		if (!seen)
			seen = pins_quiet(&after);
		if (!seen) {
			d_acq = after.acquired - before.acquired;
			d_held = ufr_pins_held(&after) - ufr_pins_held(&before);
			if (d_acq == expect ||
			    (d_acq == last_acq && d_held == last_held)) {
				obs->held = d_held;
				break;
			}
			last_acq = d_acq;
			last_held = d_held;
			seen = -EAGAIN;
		}
		if (seen != -EAGAIN || attempt == OBSERVE_ATTEMPTS) {
			snprintf(obs->note, sizeof(obs->note), "%s",
				 observe_failed(seen));
			break;
		}
		/* Disturbed: give the pins back and measure again. */
		ret = unregister_locked(ring, NULL);
		if (ret) {
			ret = ufr_err_set(
				err, ret,
				"%s: unregistering to observe again failed: %s",
				ufr_strategy_name(c->strategy), strerror(-ret));
			break;
		}
	}
	unlock();
	return ret;
}

void ufr_rereg_start(struct ufr_rereg *r, uint64_t interval_ns)
{
	memset(r, 0, sizeof(*r));
	r->interval_ns = interval_ns;
	r->next_ns = ufr_now_ns(CLOCK_MONOTONIC_COARSE) + interval_ns;
}

int ufr_rereg_run(struct ufr_rereg *r, struct io_uring *ring,
		  const struct iovec *iov, unsigned int n,
		  const struct ufr_config *c, struct ufr_err *err)
{
	struct ufr_reg_timing t;
	int ret;

	lock();
	ret = io_uring_unregister_buffers(ring);
	if (ret)
		ret = ufr_err_set(
			err, ret,
			"rereg_interval: unregistering the buffers failed: %s",
			strerror(-ret));
	else
		ret = ufr_register(ring, iov, n, c, &t, NULL, err);
	unlock();
	if (ret)
		return ret;
	r->count++;
	r->total_ns += t.total_ns;
	if (t.total_ns > r->max_ns)
		r->max_ns = t.total_ns;
	r->next_ns = ufr_now_ns(CLOCK_MONOTONIC_COARSE) + r->interval_ns;
	return 0;
}
