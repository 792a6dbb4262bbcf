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
#include <sys/mman.h>
#include <sys/resource.h>

#include "ufr_profile.h"
#include "ufr_reg.h"

static int explain(int ret, const struct ufr_config *c, unsigned int n,
		   uint64_t bytes, uint64_t largest, struct ufr_err *err)
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
	/* The length check: EFAULT up to Linux 7.1, EINVAL from 7.2. */
	if ((ret == -EFAULT || ret == -EINVAL) &&
	    largest > UFR_MAX_REGION_BYTES)
		return ufr_err_set(
			err, ret,
			"%s: the kernel refused a registered buffer of %llu bytes (%s), over its cap on one buffer, though the engine took that cap to be %llu bytes (segments.max_buffer_bytes); lower bs, or iodepth so that bs x iodepth is at most 1 GiB",
			what, (unsigned long long)largest,
			strerrorname_np(-ret), c->max_buffer_bytes);
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
			  struct ufr_profiler *prof, struct ufr_reg_timing *t,
			  uint64_t *per_buffer_ns)
{
	unsigned int i, calls = mode == UFR_REG_EACH ? n + 1 : 1;
	uint64_t start, ns;
	int ret = 0;

	for (i = 0; i < calls; i++) {
		ufr_profiler_on(prof);
		start = ufr_now_ns(CLOCK_MONOTONIC);
		if (mode == UFR_REG_BATCH)
			ret = io_uring_register_buffers(ring, iov, n);
		else if (!i)
			ret = io_uring_register_buffers_sparse(ring, n);
		else
			ret = io_uring_register_buffers_update_tag(
				ring, i - 1, &iov[i - 1], NULL, 1);
		ns = ufr_now_ns(CLOCK_MONOTONIC) - start;
		ufr_profiler_off(prof);
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
		 const struct ufr_config *c, struct ufr_profiler *prof,
		 struct ufr_reg_timing *t, uint64_t *per_buffer_ns,
		 struct ufr_err *err)
{
	uint64_t bytes = 0, largest = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		bytes += iov[i].iov_len;
		if (iov[i].iov_len > largest)
			largest = iov[i].iov_len;
	}
	memset(t, 0, sizeof(*t));
	ret = register_calls(ring, iov, n, c->mode, prof, t, per_buffer_ns);
	ufr_profiler_drain(prof);
	if (ret)
		return explain(ret, c, n, bytes, largest, err);
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
			  struct ufr_profiler *prof, struct ufr_reg_timing *t,
			  uint64_t *per_buffer_ns, struct ufr_observation *obs,
			  struct ufr_err *err)
{
	int64_t expect = (int64_t)pages_pinned(iov, n), d_acq, d_held;
	int64_t last_acq = -1, last_held = -1;
	struct ufr_pins before, after;
	int ret, seen, attempt;

	memset(obs, 0, sizeof(*obs));
	obs->held = -1;
	obs->acquired = -1;
	lock();
	for (attempt = 1;; attempt++) {
		seen = pins_quiet(&before);
		ret = ufr_register(ring, iov, n, c, prof, t, per_buffer_ns,
				   err);
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
				obs->acquired = d_acq;
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
		  const struct ufr_config *c, struct ufr_profiler *prof,
		  struct ufr_err *err)
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
		ret = ufr_register(ring, iov, n, c, prof, &t, NULL, err);
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
