// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ufr_ring.h"

/*
 * Flag sets tried in order, cheapest submission first. DEFER_TASKRUN runs
 * completion work only when this task enters the kernel, which is what a
 * single fio job thread does anyway; it needs SINGLE_ISSUER. SQPOLL rings
 * cannot defer task work.
 */
static const unsigned int setup_candidates[] = {
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
	IORING_SETUP_COOP_TASKRUN,
	0,
};

static const unsigned int sqpoll_candidates[] = {
	IORING_SETUP_SINGLE_ISSUER,
	0,
};

int ufr_ring_init(struct ufr_ring *r, const struct ufr_ring_opts *o,
		  struct ufr_err *err)
{
	const unsigned int *cand = o->sqpoll ? sqpoll_candidates :
					       setup_candidates;
	size_t n = o->sqpoll ? UFR_ARRAY_SIZE(sqpoll_candidates) :
			       UFR_ARRAY_SIZE(setup_candidates);
	struct io_uring_params p;
	int ret = -EINVAL;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->sqpoll = o->sqpoll;
	for (i = 0; i < n && ret == -EINVAL; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | cand[i] |
			  (o->iopoll ? IORING_SETUP_IOPOLL : 0);
		p.cq_entries = 2 * o->depth;
		if (o->sqpoll)
			p.flags |= IORING_SETUP_SQPOLL;
		if (o->sqpoll && o->sqpoll_cpu >= 0) {
			p.flags |= IORING_SETUP_SQ_AFF;
			p.sq_thread_cpu = o->sqpoll_cpu;
		}
		r->setup_flags = p.flags;
		ret = io_uring_queue_init_params(o->depth, &r->ring, &p);
	}
	if (ret == -EPERM)
		return ufr_err_set(
			err, -EPERM,
			"io_uring_setup: not permitted (kernel.io_uring_disabled is set, or io_uring_group excludes this user); allow it: sysctl -w kernel.io_uring_disabled=0");
	if (ret == -ENOMEM)
		return ufr_err_set(
			err, -ENOMEM,
			"io_uring_setup: iodepth=%u: out of memory for the rings; lower iodepth",
			o->depth);
	if (ret == -ENOSYS)
		return ufr_err_set(
			err, -ENOSYS,
			"io_uring_setup: this kernel has no io_uring; use Linux 5.19 or newer");
	if (ret < 0)
		return ufr_err_set(err, ret, "io_uring_setup: iodepth=%u: %s",
				   o->depth, strerror(-ret));

	/* A registered ring fd spares an fdget/fdput on every enter. */
	r->ring_fd_registered = io_uring_register_ring_fd(&r->ring) == 1;
	r->enter_fd = r->ring_fd_registered ?
			      (unsigned int)r->ring.enter_ring_fd :
			      (unsigned int)r->ring.ring_fd;
	r->enter_flags = r->ring_fd_registered ? IORING_ENTER_REGISTERED_RING :
						 0;
	return 0;
}

void ufr_ring_exit(struct ufr_ring *r)
{
	io_uring_queue_exit(&r->ring);
}

/*
 * The SQ thread takes what was published on its own; wake it if it sleeps
 * (the full barrier orders our tail store before reading its flag).
 */
int ufr_ring_sqpoll_kick(struct ufr_ring *r, unsigned int nr)
{
	int ret;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(r->ring.sq.kflags, __ATOMIC_RELAXED) &
	      IORING_SQ_NEED_WAKEUP))
		return (int)nr;
	ret = ufr_ring_enter(r, nr, 0, IORING_ENTER_SQ_WAKEUP);
	return ret < 0 ? ret : (int)nr;
}

/* The first enter took @ret of @nr SQEs: go on until all are in. */
int ufr_ring_submit_rest(struct ufr_ring *r, unsigned int nr, int ret)
{
	unsigned int done = 0;

	for (;;) {
		if (ret > 0) {
			done += ret;
			if (done >= nr)
				return (int)done;
		} else if (!ret) {
			/* The kernel found none of them in the SQ: they
			 * were never published; going on would spin. */
			return -EIO;
		} else if (ret == -EAGAIN || ret == -EBUSY || ret == -EINTR) {
			/* Out of kernel resources or CQ space: let
			 * completions drain, then go again. */
			ufr_ring_enter(r, 0, 0, IORING_ENTER_GETEVENTS);
		} else {
			return ret;
		}
		ret = ufr_ring_enter(r, nr - done, 0, IORING_ENTER_GETEVENTS);
	}
}

int ufr_ring_wait_ready(struct ufr_ring *r, unsigned int nr)
{
	int ret;

	while (io_uring_cq_ready(&r->ring) < nr) {
		ret = ufr_ring_enter(r, 0, nr, IORING_ENTER_GETEVENTS);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -ETIME)
			return ret;
	}
	return 0;
}

int ufr_ring_reap_slow(struct ufr_ring *r, unsigned int min)
{
	int ret;

	if (!min) {
		/* None there: run deferred completion work, or poll. */
		ret = ufr_ring_enter(r, 0, 0, IORING_ENTER_GETEVENTS);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -ETIME)
			return ret;
		return (int)io_uring_cq_ready(&r->ring);
	}
	ret = ufr_ring_wait_ready(r, min);
	return ret ? ret : (int)io_uring_cq_ready(&r->ring);
}

const char *ufr_ring_flag_names(unsigned int flags, char *buf, size_t len)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} names[] = {
		{ IORING_SETUP_IOPOLL, "iopoll" },
		{ IORING_SETUP_SQPOLL, "sqpoll" },
		{ IORING_SETUP_SQ_AFF, "sq_aff" },
		{ IORING_SETUP_SINGLE_ISSUER, "single_issuer" },
		{ IORING_SETUP_DEFER_TASKRUN, "defer_taskrun" },
		{ IORING_SETUP_COOP_TASKRUN, "coop_taskrun" },
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < UFR_ARRAY_SIZE(names); i++) {
		if (!(flags & names[i].flag) || off >= len)
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? " " : "",
				names[i].name);
	}
	return buf;
}

int ufr_ring_files_init(struct ufr_ring *r, unsigned int nr,
			struct ufr_err *err)
{
	int ret = io_uring_register_files_sparse(&r->ring, nr);

	if (ret)
		return ufr_err_set(
			err, ret,
			"registerfiles: a table of %u files: %s; drop registerfiles",
			nr, strerror(-ret));
	return 0;
}

int ufr_ring_file_set(struct ufr_ring *r, unsigned int slot, int fd,
		      const char *name, struct ufr_err *err)
{
	int ret = io_uring_register_files_update(&r->ring, slot, &fd, 1);

	if (ret < 0)
		return ufr_err_set(err, ret,
				   "registerfiles: %s: %s; drop registerfiles",
				   name, strerror(-ret));
	return 0;
}
