// SPDX-License-Identifier: GPL-2.0-only
/* The report: merging, distributions, rendering, and splicing it into
 * fio's own output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ufr_report.h"
#include "ufr_splice.h"

static void test_dist(void **state)
{
	uint64_t s[100];
	struct ufr_dist d;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		s[i] = 100 - i; /* 100 .. 1, unsorted */
	ufr_dist_of(s, 100, &d);
	assert_int_equal(d.min, 1);
	assert_int_equal(d.max, 100);
	assert_int_equal(d.mean, 50);
	assert_int_equal(d.p50, 50);
	assert_int_equal(d.p99, 99);
	ufr_dist_of(s, 1, &d);
	assert_int_equal(d.p99, 1);
}

static void test_merge(void **state)
{
	struct ufr_report a = { .used = true,
				.strategy = "per_page",
				.seg = { .max_folio_bytes = 4096,
					 .bvecs = 10,
					 .from_pagemap = true },
				.reg = { .buffers = 2 },
				.obs = { .held = 10, .acquired = 12 },
				.io = { .max = 3 },
				.rereg = { .max_ns = 5 } };
	struct ufr_report b = a, sum = { 0 };

	(void)state;
	b.io.max = 7;
	b.obs.held = -1;
	b.obs.acquired = -1;
	ufr_report_merge(&sum, &a);
	ufr_report_merge(&sum, &b);
	assert_int_equal(sum.reg.buffers, 4);
	assert_int_equal(sum.seg.bvecs, 20);
	assert_int_equal(sum.io.max, 7);
	assert_int_equal(sum.obs.held, -1);
	assert_int_equal(sum.obs.acquired, -1);
	assert_string_equal(sum.strategy, "per_page");
	strcpy(b.strategy, "coalesced");
	ufr_report_merge(&sum, &b);
	assert_string_equal(sum.strategy, "mixed");
}

static void test_json_has_nulls_without_dist(void **state)
{
	struct ufr_report r = { .used = true,
				.strategy = "iomem",
				.mode = "batch",
				.reg = { .buffers = 4, .total_ns = 400 },
				.obs = { .held = -1, .acquired = -1 } };
	char *j;

	(void)state;
	j = ufr_report_json(&r, NULL);
	assert_non_null(j);
	assert_non_null(strstr(j, "\"uring_folioreg\" : {"));
	assert_non_null(strstr(j, "\"min\" : null, \"mean\" : 100, "
				  "\"p50\" : null, \"p99\" : null, "
				  "\"max\" : null"));
	assert_non_null(strstr(j, "\"bvecs_observed\" : null"));
	assert_non_null(strstr(j, "\"pins_acquired\" : null"));
	assert_non_null(strstr(j, "\"source\" : \"plan\""));
	free(j);
}

static const char json_doc[] = "{\n"
			       "  \"fio version\" : \"fio-3.33\",\n"
			       "  \"jobs\" : [\n"
			       "    {\n"
			       "      \"jobname\" : \"a\",\n"
			       "      \"groupid\" : 0\n"
			       "    },\n"
			       "    {\n"
			       "      \"jobname\" : \"b\",\n"
			       "      \"groupid\" : 1\n"
			       "    }\n"
			       "  ]\n"
			       "}\n";

/* fio's output @doc with two jobs' report, @json or @text, spliced in; its
 * length as told. */
static char *splice_two(const char *doc, const char *const *json,
			const char *const *text)
{
	size_t len;
	char *out = ufr_splice_report(doc, strlen(doc), json, text, 2, &len);

	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static void test_splice_json(void **state)
{
	const char *json[] = { "\"x\" : 1", "\"x\" : 2" };
	char *out = splice_two(json_doc, json, NULL);

	(void)state;
	assert_non_null(strstr(out, "\"jobname\" : \"a\",\n      \"x\" : 1,\n"
				    "      \"groupid\" : 0"));
	assert_non_null(
		strstr(out, "\"jobname\" : \"b\",\n      \"x\" : 2,\n"));
	free(out);
}

static const char normal_doc[] = "a: (groupid=0, jobs=1): err= 0: pid=1: Sat\n"
				 "  read: IOPS=1\n"
				 "b: (groupid=1, jobs=1): err= 0: pid=2: Sat\n"
				 "  read: IOPS=2\n"
				 "\n"
				 "Run status group 0 (all jobs):\n"
				 "   READ: bw=1\n";

static void test_splice_normal(void **state)
{
	const char *text[] = { "  A\n", "  B\n" };
	char *out = splice_two(normal_doc, NULL, text);

	(void)state;
	assert_string_equal(out, "a: (groupid=0, jobs=1): err= 0: pid=1: Sat\n"
				 "  read: IOPS=1\n"
				 "  A\n"
				 "b: (groupid=1, jobs=1): err= 0: pid=2: Sat\n"
				 "  read: IOPS=2\n"
				 "  B\n"
				 "\n"
				 "Run status group 0 (all jobs):\n"
				 "   READ: bw=1\n");
	free(out);
}

static void test_splice_leaves_other_text(void **state)
{
	static const char eta[] = "Jobs: 1 (f=1): [R(1)][50.0%][eta 00m:01s]";
	static const char terse[] = "3;fio-3.33;a;0;0;1;2;3\n";
	const char *text[] = { "  A\n" };
	size_t len;

	(void)state;
	assert_null(ufr_splice_report(eta, strlen(eta), NULL, text, 1, &len));
	assert_null(
		ufr_splice_report(terse, strlen(terse), NULL, text, 1, &len));
}

static void test_profile_json_and_merge(void **state)
{
	struct ufr_report a = { .used = true,
				.strategy = "per_page",
				.profiled = true };
	struct ufr_report b = a, off = { .used = true,
					 .strategy = "per_page",
					 .profile_note = "reg_profile=0" };
	char *js;

	(void)state;
	a.profile.samples = 100;
	a.profile.skid_moved = 30;
	strcpy(a.profile.event, "cpu-clock");
	a.profile.calls = 2;
	a.profile.nr_top = 2;
	strcpy(a.profile.top[0].function, "gup_fast_fallback");
	a.profile.top[0].samples = 60;
	strcpy(a.profile.top[1].function, "io_pin_pages");
	a.profile.top[1].samples = 40;
	b.profile = a.profile;
	strcpy(b.profile.top[1].function, "memset");
	ufr_report_merge(&a, &b);
	/* A job without a profile has no event: the others' stays. */
	ufr_report_merge(&a, &off);
	assert_int_equal(a.profile.samples, 200);
	assert_int_equal(a.profile.skid_moved, 60);
	assert_string_equal(a.profile.event, "cpu-clock");
	assert_int_equal(a.profile.nr_top, 3);
	assert_string_equal(a.profile.top[0].function, "gup_fast_fallback");
	assert_int_equal(a.profile.top[0].samples, 120);
	js = ufr_report_json(&a, NULL);
	assert_non_null(strstr(
		js,
		"{ \"function\" : \"gup_fast_fallback\", \"samples\" : 120, \"share\" : 0.6000 }"));
	assert_non_null(strstr(js, "\"profile_note\" : null"));
	assert_non_null(strstr(
		js,
		"\"event\" : \"cpu-clock\", \"skid_moved\" : 60, \"period_ns\" : 40000"));
	free(js);
	js = ufr_report_json(&off, NULL);
	assert_non_null(strstr(js, "\"profile\" : null"));
	assert_non_null(strstr(js, "\"profile_note\" : \"reg_profile=0\""));
	free(js);
	js = ufr_report_text(&a, NULL);
	assert_non_null(strstr(
		js,
		"profile : samples=200, register_calls=4, event=cpu-clock, skid_moved=60, top: gup_fast_fallback 60.0%"));
	free(js);
	/* Two events in one group: mixed, and no one period. */
	strcpy(b.profile.event, "cycles:pp");
	ufr_report_merge(&a, &b);
	assert_string_equal(a.profile.event, "mixed");
	js = ufr_report_json(&a, NULL);
	assert_non_null(strstr(js, "\"event\" : \"mixed\""));
	assert_non_null(strstr(js, "\"period_ns\" : null"));
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dist),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_profile_json_and_merge),
		cmocka_unit_test(test_json_has_nulls_without_dist),
		cmocka_unit_test(test_splice_json),
		cmocka_unit_test(test_splice_normal),
		cmocka_unit_test(test_splice_leaves_other_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
