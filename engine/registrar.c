// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "ufr_reg.h"

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int explain(int ret, const char *what, unsigned int n, uint64_t bytes,
		   struct ufr_err *err)
{
	struct rlimit rl;

	if (ret == -ENOMEM && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < bytes)
		return ufr_err_set(
			err, ENOMEM,
			"%s: registering %u buffers pins %llu bytes but RLIMIT_MEMLOCK is %llu bytes; raise it: ulimit -l unlimited (or ulimit -l %llu)",
			what, n, (unsigned long long)bytes,
			(unsigned long long)rl.rlim_cur,
			(unsigned long long)(bytes + 1023) / 1024);
	if (ret == -ENOMEM)
		return ufr_err_set(
			err, ENOMEM,
			"%s: registering %u buffers (%llu bytes): out of memory to pin them; lower iodepth or bs",
			what, n, (unsigned long long)bytes);
	if (ret == -EINVAL && n > 16384)
		return ufr_err_set(
			err, EINVAL,
			"%s: %u buffers: the kernel registers at most 16384; lower iodepth",
			what, n);
	if (ret == -EFAULT)
		return ufr_err_set(
			err, EFAULT,
			"%s: the buffer memory cannot be pinned (not anonymous, shmem or hugetlb memory?); use another iomem= or reg_strategy=",
			what);
	return ufr_err_set(err, ret, "%s: registering %u buffers failed: %s",
			   what, n, strerror(-ret));
}

static int register_each(struct io_uring *ring, const struct iovec *iov,
			 unsigned int n, struct ufr_reg_timing *t)
{
	uint64_t start, end;
	unsigned int i;
	int ret;

	t->per_buffer_ns = calloc(n, sizeof(*t->per_buffer_ns));
	if (!t->per_buffer_ns)
		return -ENOMEM;

	start = now_ns();
	ret = io_uring_register_buffers_sparse(ring, n);
	end = now_ns();
	if (ret)
		return ret;
	t->total_ns += end - start;
	t->calls++;

	for (i = 0; i < n; i++) {
		start = now_ns();
		ret = io_uring_register_buffers_update_tag(ring, i, &iov[i],
							   NULL, 1);
		end = now_ns();
		if (ret < 0)
			goto unwind;
		t->per_buffer_ns[i] = end - start;
		t->total_ns += end - start;
		t->calls++;
	}
	return 0;

unwind:
	/* Dropping the table releases the first i buffers too. */
	io_uring_unregister_buffers(ring);
	return ret;
}

int ufr_register(struct io_uring *ring, const struct iovec *iov, unsigned int n,
		 enum ufr_reg_mode mode, const char *what,
		 struct ufr_reg_timing *t, struct ufr_err *err)
{
	uint64_t bytes = 0, start, end;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++)
		bytes += iov[i].iov_len;
	memset(t, 0, sizeof(*t));

	if (mode == UFR_REG_EACH) {
		ret = register_each(ring, iov, n, t);
	} else {
		start = now_ns();
		ret = io_uring_register_buffers(ring, iov, n);
		end = now_ns();
		t->total_ns = end - start;
		t->calls = 1;
	}
	if (ret < 0) {
		ufr_reg_timing_free(t);
		return explain(ret, what, n, bytes, err);
	}
	t->buffers = n;
	t->bytes = bytes;
	return 0;
}

int ufr_unregister(struct io_uring *ring, struct ufr_reg_timing *t)
{
	uint64_t start, end;
	int ret;

	start = now_ns();
	ret = io_uring_unregister_buffers(ring);
	end = now_ns();
	if (!ret)
		t->unreg_ns = end - start;
	return ret;
}

void ufr_reg_timing_free(struct ufr_reg_timing *t)
{
	free(t->per_buffer_ns);
	t->per_buffer_ns = NULL;
}

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void ufr_rereg_start(struct ufr_rereg *r, uint64_t interval_ns)
{
	memset(r, 0, sizeof(*r));
	r->interval_ns = interval_ns;
	r->next_ns = coarse_ns() + interval_ns;
}

int ufr_rereg_run(struct ufr_rereg *r, struct io_uring *ring,
		  const struct iovec *iov, unsigned int n,
		  enum ufr_reg_mode mode, const char *what, struct ufr_err *err)
{
	struct ufr_reg_timing t;
	int ret;

	ret = io_uring_unregister_buffers(ring);
	if (ret)
		return ufr_err_set(
			err, ret,
			"rereg_interval: unregistering the buffers failed: %s",
			strerror(-ret));
	ret = ufr_register(ring, iov, n, mode, what, &t, err);
	if (ret)
		return ret;
	ufr_reg_timing_free(&t);
	r->count++;
	r->total_ns += t.total_ns;
	if (t.total_ns > r->max_ns)
		r->max_ns = t.total_ns;
	r->next_ns = coarse_ns() + r->interval_ns;
	return 0;
}
