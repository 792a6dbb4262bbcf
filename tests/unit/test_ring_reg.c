// SPDX-License-Identifier: GPL-2.0-only
/* Rings, registration and engine-owned memory, on the real kernel. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "unit_helpers.h"

#include "ufr_memory.h"
#include "ufr_profile.h"
#include "ufr_reg.h"
#include "ufr_ring.h"

static int ring_setup(void **state)
{
	struct ufr_ring_opts o = { .depth = 8, .sqpoll_cpu = -1 };
	struct ufr_ring *r = calloc(1, sizeof(*r));
	struct ufr_err err;

	if (!r || ufr_ring_init(r, &o, &err)) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int ring_teardown(void **state)
{
	ufr_ring_exit(*state);
	free(*state);
	return 0;
}

/* @n buffers of @len bytes back to back in engine-owned 4 KiB pages. */
static void map_buffers(struct ufr_backing *mem, struct iovec *iov,
			unsigned int n, size_t len)
{
	struct ufr_err err;

	assert_int_equal(ufr_backing_map(mem, n * len, UFR_FOLIO_4K, 4096, -1,
					 UFR_BACKING_ANON, NULL, &err),
			 0);
	make_iovecs(iov, n, mem->addr, len);
}

/* Register @iov in @mode, sampled by @prof (or not), and unregister it
 * again, both without error. */
static void register_and_back(struct ufr_ring *r, const struct iovec *iov,
			      unsigned int n, enum ufr_reg_mode mode,
			      struct ufr_profiler *prof)
{
	struct ufr_config c = { .strategy = UFR_STRAT_PER_PAGE, .mode = mode };
	struct ufr_reg_timing t;
	struct ufr_err err;

	assert_int_equal(
		ufr_register(&r->ring, iov, n, &c, prof, &t, NULL, &err), 0);
	assert_int_equal(ufr_unregister(&r->ring, &t), 0);
}

static void test_ring_prefers_cheap_submission(void **state)
{
	struct ufr_ring *r = *state;
	char names[128];

	/* Linux 6.1+ offers deferred task work; this kernel is newer. */
	assert_true(r->setup_flags & IORING_SETUP_DEFER_TASKRUN);
	assert_true(r->ring_fd_registered);
	ufr_ring_flag_names(r->setup_flags, names, sizeof(names));
	assert_string_equal(names, "single_issuer defer_taskrun");
}

static void test_ring_submit_and_reap(void **state)
{
	struct ufr_ring *r = *state;
	struct io_uring_cqe *cqe;
	int i;

	for (i = 0; i < 5; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, i);
	}
	assert_int_equal(ufr_ring_submit(r, 5), 5);
	assert_int_equal(ufr_ring_reap(r, 5), 5);
	for (i = 0; i < 5; i++) {
		cqe = ufr_ring_cqe(r, *r->ring.cq.khead, i);
		assert_int_equal(cqe->user_data, i);
		assert_int_equal(cqe->res, 0);
	}
	io_uring_cq_advance(&r->ring, 5);
	assert_int_equal(ufr_ring_reap(r, 0), 0);
}

static void test_ring_sqpoll(void **state)
{
	struct ufr_ring_opts o = { .depth = 4,
				   .sqpoll = true,
				   .sqpoll_cpu = 0 };
	struct ufr_ring r;
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_ring_init(&r, &o, &err), 0);
	assert_true(r.setup_flags & IORING_SETUP_SQPOLL);
	assert_true(r.setup_flags & IORING_SETUP_SQ_AFF);
	assert_false(r.setup_flags & IORING_SETUP_DEFER_TASKRUN);
	io_uring_prep_nop(io_uring_get_sqe(&r.ring));
	assert_int_equal(ufr_ring_submit(&r, 1), 1);
	assert_int_equal(ufr_ring_reap(&r, 1), 1);
	ufr_ring_exit(&r);
}

static void test_register_batch_and_each(void **state)
{
	struct ufr_ring *r = *state;
	struct ufr_backing mem;
	struct ufr_reg_timing t;
	uint64_t per_buffer_ns[8];
	struct ufr_config c = { .strategy = UFR_STRAT_PER_PAGE };
	struct iovec iov[8];
	struct ufr_err err;
	int mode;

	map_buffers(&mem, iov, 8, 65536);
	for (mode = UFR_REG_BATCH; mode <= UFR_REG_EACH; mode++) {
		c.mode = mode;
		assert_int_equal(ufr_register(&r->ring, iov, 8, &c, NULL, &t,
					      per_buffer_ns, &err),
				 0);
		assert_int_equal(t.buffers, 8);
		assert_int_equal(t.bytes, 8 * 65536);
		assert_int_equal(t.calls, mode == UFR_REG_EACH ? 9 : 1);
		assert_true(t.total_ns > 0);
		if (mode == UFR_REG_EACH) {
			assert_int_equal(t.samples, 8);
			assert_true(per_buffer_ns[7] > 0);
		}
		assert_int_equal(ufr_unregister(&r->ring, &t), 0);
		assert_true(t.unreg_ns > 0);
	}
	ufr_backing_unmap(&mem);
}

/*
 * reg_profile: samples only while the register calls run, counted per
 * call, the top sorted by samples, shares below one; not allowed: the
 * reason, nothing attached.
 */
static void test_profiler(void **state)
{
	struct ufr_ring *r = *state;
	struct ufr_profile_summary sum;
	struct ufr_profiler *p;
	struct ufr_backing mem;
	struct iovec iov[64];
	struct ufr_err err;
	unsigned int i;
	int ret;

	ret = ufr_profiler_open(&p, &err);
	if (ret) {
		assert_null(p);
		assert_non_null(
			strstr(err.msg, "uring_folioreg: reg_profile: "));
		skip();
	}
	map_buffers(&mem, iov, 64, 65536);
	for (i = 0; i < 20; i++)
		register_and_back(r, iov, 64, UFR_REG_BATCH, p);
	register_and_back(r, iov, 64, UFR_REG_EACH, p);
	/* Not given the profiler: a register call is not counted. */
	register_and_back(r, iov, 64, UFR_REG_BATCH, NULL);
	ufr_profiler_summary(p, &sum);
	assert_int_equal(sum.calls, 20 + 65);
	assert_int_equal(sum.lost, 0);
	assert_true(sum.samples > 0);
	for (i = 1; i < sum.nr_top; i++)
		assert_true(sum.top[i - 1].samples >= sum.top[i].samples);
	assert_true(!strcmp(sum.event, "cpu-clock") ||
		    !strncmp(sum.event, "cycles", 6));
	assert_true(sum.skid_moved <= sum.samples);
	ufr_profiler_close(p);
	ufr_backing_unmap(&mem);
}

static void test_register_each_unwinds(void **state)
{
	struct ufr_ring *r = *state;
	struct ufr_backing mem;
	struct ufr_config c = { .strategy = UFR_STRAT_COALESCED,
				.mode = UFR_REG_EACH };
	struct ufr_reg_timing t;
	struct iovec iov[4];
	struct ufr_err err;

	map_buffers(&mem, iov, 4, 4096);
	iov[2].iov_base = NULL; /* buffer 2 cannot be pinned */
	assert_true(ufr_register(&r->ring, iov, 4, &c, NULL, &t, NULL, &err) <
		    0);
	assert_memory_equal(err.msg, "uring_folioreg: coalesced: ", 27);
	assert_int_equal(t.samples, 0);
	/* Nothing stayed registered: a new table goes in. */
	make_iovecs(iov, 4, mem.addr, 4096);
	register_and_back(r, iov, 4, UFR_REG_BATCH, NULL);
	ufr_backing_unmap(&mem);
}

static void test_register_too_many(void **state)
{
	struct ufr_ring *r = *state;
	unsigned int n = 16385;
	struct iovec *iov = calloc(n, sizeof(*iov));
	struct ufr_backing mem;
	struct ufr_config c = { .strategy = UFR_STRAT_PER_PAGE };
	struct ufr_reg_timing t;
	struct ufr_err err;

	assert_non_null(iov);
	/* One page, n times over. */
	map_buffers(&mem, iov, 1, 4096);
	for (unsigned int i = 1; i < n; i++)
		iov[i] = iov[0];
	assert_int_equal(ufr_register(&r->ring, iov, n, &c, NULL, &t, NULL,
				      &err),
			 -EINVAL);
	assert_non_null(strstr(
		err.msg, "16385 buffers: the kernel registers at most 16384"));
	free(iov);
	ufr_backing_unmap(&mem);
}

static void test_backing_small_is_populated(void **state)
{
	size_t pg = sysconf(_SC_PAGESIZE), len = 64 * pg, i;
	unsigned char vec[64];
	struct ufr_backing mem;
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_backing_map(&mem, len, UFR_FOLIO_4K, 4096, -1,
					 UFR_BACKING_ANON, NULL, &err),
			 0);
	assert_int_equal(mincore(mem.addr, len, vec), 0);
	for (i = 0; i < 64; i++)
		assert_true(vec[i] & 1);
	ufr_backing_unmap(&mem);
	assert_null(mem.addr);
}

/*
 * A shared backing the kernel will not pin long-term: the line names the
 * backing, the kernel's errno and the fix. A MAP_SHARED regular file on a
 * filesystem that tracks dirty pages stands in for such memory, as no
 * kernel pins it long-term (EFAULT since Linux 6.5, EOPNOTSUPP before).
 */
static void test_register_refused_backing(void **state)
{
	struct ufr_ring *r = *state;
	struct ufr_config c = { .strategy = UFR_STRAT_PER_PAGE,
				.backing = UFR_BACKING_MEMFD };
	char path[] = "ufr-refused-XXXXXX", want[256];
	size_t len = 65536;
	struct ufr_reg_timing t;
	struct iovec iov = { .iov_len = len };
	struct ufr_err err;
	int fd = mkstemp(path), ret;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, len), 0);
	iov.iov_base =
		mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(iov.iov_base != MAP_FAILED);
	memset(iov.iov_base, 1, len);
	ret = ufr_register(&r->ring, &iov, 1, &c, NULL, &t, NULL, &err);
	if (!ret) {
		ufr_unregister(&r->ring, &t);
		munmap(iov.iov_base, len);
		print_message(
			"skip: this kernel pins a shared file in the current directory long-term (tmpfs?)\n");
		skip();
	}
	munmap(iov.iov_base, len);
	snprintf(
		want, sizeof(want),
		"uring_folioreg: reg_backing=memfd: the kernel refused to pin the buffer memory for registration (%s: %s); use reg_backing=anon, or a kernel that pins shmem memory long-term",
		strerrorname_np(-ret), strerror(-ret));
	assert_string_equal(err.msg, want);
	print_message("%s\n", err.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ring_prefers_cheap_submission, ring_setup,
			ring_teardown),
		cmocka_unit_test_setup_teardown(test_ring_submit_and_reap,
						ring_setup, ring_teardown),
		cmocka_unit_test(test_ring_sqpoll),
		cmocka_unit_test_setup_teardown(test_register_batch_and_each,
						ring_setup, ring_teardown),
		cmocka_unit_test_setup_teardown(test_profiler, ring_setup,
						ring_teardown),
		cmocka_unit_test_setup_teardown(test_register_each_unwinds,
						ring_setup, ring_teardown),
		cmocka_unit_test_setup_teardown(test_register_too_many,
						ring_setup, ring_teardown),
		cmocka_unit_test(test_backing_small_is_populated),
		cmocka_unit_test_setup_teardown(test_register_refused_backing,
						ring_setup, ring_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
