// SPDX-License-Identifier: GPL-2.0-only
/* The version guard and the one-line error messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "ufr_config.h"
#include "ufr_memory.h"

static void test_err_prefix_and_return(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_err_set(&err, EINVAL, "opt=%d: bad", 3), -EINVAL);
	assert_string_equal(err.msg, "uring_folioreg: opt=3: bad");
	assert_int_equal(ufr_err_set(&err, -ENOMEM, "x"), -ENOMEM);
}

static void test_err_truncates(void **state)
{
	char longstr[2000];
	struct ufr_err err;

	(void)state;
	memset(longstr, 'a', sizeof(longstr) - 1);
	longstr[sizeof(longstr) - 1] = '\0';
	ufr_err_set(&err, EINVAL, "%s", longstr);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_memory_equal(err.msg, "uring_folioreg: aaa", 19);
}

static void test_version_match(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_true(ufr_fio_version_ok("fio-3.33", "fio-3.33", &err));
}

static void test_version_mismatch_names_all(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_false(ufr_fio_version_ok("fio-3.42", "fio-3.33", &err));
	assert_non_null(strstr(err.msg, "uring_folioreg: engine " UFR_VERSION
					" built for fio-3.33"));
	assert_ptr_equal(strstr(err.msg, "uring_folioreg: "), err.msg);
	assert_non_null(strstr(err.msg, "loaded by fio-3.42"));
	assert_non_null(strstr(err.msg, "make clean && make"));
	assert_null(strchr(err.msg, '\n'));
}

static void test_version_unknown_loader(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_false(ufr_fio_version_ok(NULL, "fio-3.33", &err));
	assert_non_null(strstr(err.msg, "an unknown fio"));
}

static void test_hugetlb_missing_pool(void **state)
{
	struct ufr_err err;

	(void)state;
	/* No kernel has 12 KiB hugetlb pages. */
	assert_int_equal(ufr_hugetlb_count(12 << 10, "free_hugepages"), -1);
	assert_int_equal(ufr_hugetlb_shortage(&err, "x", 12 << 10, 3), -ENOMEM);
	assert_non_null(strstr(err.msg, "no 12 KiB hugetlb pages"));
}

static void test_hugetlb_shortage_says_command(void **state)
{
	struct ufr_err err;

	(void)state;
	if (ufr_hugetlb_count(2 << 20, "nr_hugepages") < 0)
		skip();
	ufr_hugetlb_shortage(&err, "reg_folio=2m", 2 << 20, 1u << 30);
	assert_non_null(strstr(err.msg, "reg_folio=2m: needs 1073741824"));
	assert_non_null(strstr(
		err.msg,
		"> /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_prefix_and_return),
		cmocka_unit_test(test_err_truncates),
		cmocka_unit_test(test_version_match),
		cmocka_unit_test(test_version_mismatch_names_all),
		cmocka_unit_test(test_version_unknown_loader),
		cmocka_unit_test(test_hugetlb_missing_pool),
		cmocka_unit_test(test_hugetlb_shortage_says_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
