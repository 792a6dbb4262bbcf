// SPDX-License-Identifier: GPL-2.0-only
/* The version guard and the one-line error messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ufr_config.h"
#include "ufr_probe.h"
#include "ufr_resolve.h"

static void test_err_prefix_and_return(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_err_set(&err, -EINVAL, "opt=%d: bad", 3), -EINVAL);
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
	ufr_err_set(&err, -EINVAL, "%s", longstr);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_memory_equal(err.msg, "uring_folioreg: aaa", 19);
}

static void test_version_match(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_fio_version_check("fio-3.33", "fio-3.33", &err),
			 0);
}

static void test_version_mismatch_names_all(void **state)
{
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_fio_version_check("fio-3.42", "fio-3.33", &err),
			 -EINVAL);
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
	assert_int_equal(ufr_fio_version_check(NULL, "fio-3.33", &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "an unknown fio"));
}

static void test_hugetlb_missing_pool(void **state)
{
	struct ufr_err err;

	(void)state;
	struct ufr_hugetlb_pool pool;

	/* No kernel has 12 KiB hugetlb pages. */
	assert_int_equal(ufr_hugetlb_count(12 << 10, "free_hugepages"), -1);
	ufr_hugetlb_pool_read(&pool, 12 << 10);
	assert_int_equal(ufr_hugetlb_shortage(&err, "x", &pool, 3), -ENOMEM);
	assert_non_null(strstr(err.msg, "no 12 KiB hugetlb pages"));
}

static void test_hugetlb_shortage_says_command(void **state)
{
	struct ufr_err err;

	struct ufr_hugetlb_pool pool;

	(void)state;
	if (ufr_hugetlb_count(2 << 20, "nr_hugepages") < 0)
		skip();
	ufr_hugetlb_pool_read(&pool, 2 << 20);
	ufr_hugetlb_shortage(&err, "reg_folio=2m", &pool, 1u << 30);
	assert_non_null(strstr(err.msg, "reg_folio=2m: needs 1073741824"));
	assert_non_null(strstr(
		err.msg,
		"> /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
}

/* A fake transparent_hugepage directory: top-level and per-size files. */
static void thp_write(const char *root, const char *sub, const char *val)
{
	static const char *const words[] = { "always", "inherit", "madvise",
					     "never" };
	char path[512];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	if (strchr(sub, '/')) {
		*strrchr(path, '/') = '\0';
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%s", root, sub);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 4; i++) {
		if (!strcmp(sub, "enabled") && i == 1)
			continue; /* the top level has no inherit */
		fprintf(f, strcmp(words[i], val) ? "%s " : "[%s] ", words[i]);
	}
	fputs("\n", f);
	fclose(f);
}

/* ufr_mthp_check() on the machine as the THP directory @root shows it. */
static int mthp_check(enum ufr_folio folio, const char *root,
		      struct ufr_err *err)
{
	struct ufr_machine m;

	ufr_machine_probe(&m, root, NULL);
	return ufr_mthp_check(&m, folio, err);
}

static void test_mthp_check(void **state)
{
	char root[] = "/tmp/ufr-mthp-XXXXXX";
	struct ufr_err err;

	(void)state;
	assert_non_null(mkdtemp(root));
	thp_write(root, "enabled", "madvise");
	thp_write(root, "hugepages-64kB/enabled", "madvise");
	thp_write(root, "hugepages-16kB/enabled", "always");
	thp_write(root, "hugepages-2048kB/enabled", "never");
	/* Only 64k (and a smaller size) on: served. */
	assert_int_equal(mthp_check(UFR_FOLIO_64K, root, &err), 0);
	/* inherit follows the top level. */
	thp_write(root, "hugepages-64kB/enabled", "inherit");
	assert_int_equal(mthp_check(UFR_FOLIO_64K, root, &err), 0);
	thp_write(root, "enabled", "never");
	assert_int_equal(mthp_check(UFR_FOLIO_64K, root, &err), -EOPNOTSUPP);
	assert_non_null(
		strstr(err.msg, "reg_folio=64k: anonymous 64 KiB THP is off"));
	assert_non_null(strstr(err.msg, "echo madvise > /tmp/ufr-mthp-"));
	/* A larger size on: the fault would take it; say to turn it off. */
	thp_write(root, "enabled", "madvise");
	thp_write(root, "hugepages-2048kB/enabled", "inherit");
	assert_int_equal(mthp_check(UFR_FOLIO_64K, root, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "2048 KiB (inherit)"));
	assert_non_null(strstr(err.msg, "echo never > "));
	assert_non_null(strstr(err.msg, "hugepages-2048kB/enabled"));
	assert_null(strstr(err.msg, "echo madvise"));
	/* A size the kernel does not have. */
	assert_int_equal(mthp_check(UFR_FOLIO_1M, root, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "no anonymous 1024 KiB THP"));
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		assert_int_equal(system(cmd), 0);
	}
}

/* A shmem_enabled file under @root naming @val as the setting. */
static void shmem_write(const char *root, const char *sub, const char *val)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "always [%s] never\n", val);
	fclose(f);
}

/* ufr_shmem_thp_check() on the machine as the THP directory @root shows
 * it. */
static int shmem_thp_check(const char *root, struct ufr_err *err)
{
	struct ufr_machine m;

	ufr_machine_probe(&m, root, NULL);
	return ufr_shmem_thp_check(&m, err);
}

/* Whether ufr_shmem_thp_check() under @root serves, given top-level
 * @top and the PMD size's @own (NULL: no such file). */
static int shmem_case(const char *root, const char *own_dir, const char *top,
		      const char *own, struct ufr_err *err)
{
	char path[512];

	shmem_write(root, "shmem_enabled", top);
	snprintf(path, sizeof(path), "%s/shmem_enabled", own_dir);
	if (own)
		shmem_write(own_dir, "shmem_enabled", own);
	else
		unlink(path);
	return shmem_thp_check(root, err);
}

static void test_shmem_thp_check(void **state)
{
	char root[] = "/tmp/ufr-shmem-XXXXXX", own[128], cmd[64];
	struct ufr_err err;

	(void)state;
	assert_non_null(mkdtemp(root));
	/* The PMD size names the per-size directory: 2 MiB, as the fake
	 * directory has no hpage_pmd_size. */
	snprintf(own, sizeof(own), "%s/hugepages-%zukB", root, (size_t)2048);
	assert_int_equal(mkdir(own, 0755), 0);
	assert_int_equal(shmem_thp_check(root, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "which this kernel lacks"));
	/* Before Linux 6.11: the top level alone. */
	assert_int_equal(shmem_case(root, own, "advise", NULL, &err), 0);
	assert_int_equal(shmem_case(root, own, "within_size", NULL, &err), 0);
	assert_int_equal(shmem_case(root, own, "never", NULL, &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(
		err.msg,
		"shmem_enabled is never; write: echo advise > /tmp/ufr-shmem-"));
	/* The PMD size's own switch: inherit follows the top level. */
	assert_int_equal(shmem_case(root, own, "always", "inherit", &err), 0);
	assert_int_equal(shmem_case(root, own, "never", "always", &err), 0);
	assert_int_equal(shmem_case(root, own, "never", "inherit", &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "/shmem_enabled (or use reg_folio=2m"));
	assert_null(strstr(err.msg, "kB/shmem_enabled ("));
	assert_int_equal(shmem_case(root, own, "advise", "never", &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "is never; write: echo advise > "));
	assert_non_null(strstr(err.msg, "kB/shmem_enabled (or use"));
	assert_null(strstr(err.msg, "; echo"));
	/* deny overrides every size; force serves inherited sizes only. */
	assert_int_equal(shmem_case(root, own, "deny", "always", &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "shmem_enabled is deny"));
	assert_int_equal(shmem_case(root, own, "deny", "never", &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "; echo advise > "));
	assert_int_equal(shmem_case(root, own, "force", "inherit", &err), 0);
	assert_int_equal(shmem_case(root, own, "force", "never", &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "write: echo inherit > "));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_folio_sizes(void **state)
{
	(void)state;
	assert_int_equal(ufr_folio_bytes(UFR_FOLIO_16K), 16384);
	assert_int_equal(ufr_folio_bytes(UFR_FOLIO_64K), 65536);
	assert_int_equal(ufr_folio_bytes(UFR_FOLIO_1M), 1 << 20);
	assert_string_equal(ufr_folio_name(UFR_FOLIO_128K), "128k");
	assert_true(ufr_folio_is_mthp(UFR_FOLIO_512K));
	assert_false(ufr_folio_is_mthp(UFR_FOLIO_THP));
	assert_true(ufr_folio_is_thp(UFR_FOLIO_THP));
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
		cmocka_unit_test(test_mthp_check),
		cmocka_unit_test(test_shmem_thp_check),
		cmocka_unit_test(test_folio_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
