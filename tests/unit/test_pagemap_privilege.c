// SPDX-License-Identifier: GPL-2.0-only
/* The pagemap walk without the privilege to see PFNs: an unprivileged
 * user, and root without CAP_SYS_ADMIN, get an error and no figures read
 * from the pagemap, never PFNs of 0 taken for real ones. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit_helpers.h"

/* The child's exit status: the errno ufr_inspect_buffers returned with
 * from_pagemap false, 0 if it wrongly succeeded, 255 if it could not
 * drop privileges. */
static int child_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 255) {
		print_message("skip: cannot drop privileges (not root?)\n");
		skip();
	}
	return WEXITSTATUS(status);
}

/* Inspect 64 KiB of this process's memory in a child that first calls
 * @drop, which returns non-zero where it cannot drop the privileges; the
 * child's exit status (child_status). */
static int inspect_in_child(int (*drop)(void))
{
	struct ufr_segments seg;
	struct iovec iov;
	pid_t pid;
	int ret;

	iov.iov_base = map_small(64 * KIB);
	iov.iov_len = 64 * KIB;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (drop())
			_exit(255);
		ret = ufr_inspect_buffers(&iov, 1, MULTI, &seg, NULL);
		_exit(ret < 0 && !seg.from_pagemap ? -ret : 0);
	}
	ret = child_status(pid);
	munmap(iov.iov_base, iov.iov_len);
	return ret;
}

static int drop_to_nobody(void)
{
	return setgid(65534) || setuid(65534);
}

static void test_unprivileged(void **state)
{
	int st = inspect_in_child(drop_to_nobody);

	(void)state;
	assert_true(st == EACCES || st == EPERM);
}

/* Root without CAP_SYS_ADMIN opens both files but reads PFNs as 0. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	if (geteuid() || syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1U << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}

static void test_no_sys_admin(void **state)
{
	(void)state;
	assert_int_equal(inspect_in_child(drop_sys_admin), EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_no_sys_admin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
