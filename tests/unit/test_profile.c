// SPDX-License-Identifier: GPL-2.0-only
/*
 * reg_profile's attribution, on made-up kernel symbols and call chains (no
 * perf event, no root): a sample whose leaf re-enables interrupts goes to
 * the first caller that does not, and is counted as moved.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/perf_event.h>

#include "ufr_profile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* /proc/kallsyms as a PVM guest's shows it, out of order on purpose. */
static const char kallsyms[] =
	"ffffffff81004000 T gup_fast_fallback\n"
	"ffffffff81001000 T __do_sys_io_uring_register\n"
	"ffffffff81002000 T io_sqe_buffer_register\n"
	"ffffffff81003000 t io_pin_pages\n"
	"ffffffff81005000 T __raw_callee_save_pvm_irq_enable\n"
	"ffffffff81005100 T pvm_irq_enable\n"
	"ffffffff81006000 T _raw_spin_unlock_irqrestore\n"
	"ffffffff81007000 T memset\n"
	"ffffffff81008000 T irq_enable\n"
	"ffffffff81009000 T do_syscall_64\n"
	"ffffffff8100a000 t xen_irq_enable_direct\n"
	"ffffffff8100b000 d some_data\n";

#define K(off) (0xffffffff81000000ull + (off))
#define CTX ((uint64_t)PERF_CONTEXT_KERNEL)

static struct ufr_profiler *load(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct ufr_profiler *p;
	struct ufr_err err;

	assert_non_null(f);
	assert_int_equal(ufr_profiler_from_symbols(&p, f, &err), 0);
	fclose(f);
	return p;
}

#define CHAIN(p, ...)                                        \
	do {                                                 \
		const uint64_t ips[] = { __VA_ARGS__ };      \
		ufr_profiler_chain(p, ips, ARRAY_SIZE(ips)); \
	} while (0)

/* The function of @s's top named @name: its samples, or 0. */
static uint64_t samples_of(const struct ufr_profile_summary *s,
			   const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nr_top; i++)
		if (!strcmp(s->top[i].function, name))
			return s->top[i].samples;
	return 0;
}

static void test_skid_moves_to_the_walk(void **state)
{
	struct ufr_profiler *p = load(kallsyms);
	struct ufr_profile_summary s;

	(void)state;
	/* pvm_irq_enable <- its callee-save thunk <- the walk: the walk */
	CHAIN(p, CTX, K(0x5110), K(0x5008), K(0x4050), K(0x3050), K(0x2050),
	      K(0x1050), K(0x9050));
	CHAIN(p, CTX, K(0x5110), K(0x5008), K(0x4050), K(0x3050), K(0x1050));
	/* the walk itself: nothing moves */
	CHAIN(p, CTX, K(0x4010), K(0x3050), K(0x1050));
	/* a lock release restoring interrupts: its caller */
	CHAIN(p, CTX, K(0x6010), K(0x2050), K(0x1050));
	/* Xen's: its caller */
	CHAIN(p, CTX, K(0xa004), K(0x3050), K(0x1050));
	/* irq_enable of an interrupt line is work of its own */
	CHAIN(p, CTX, K(0x8010), K(0x2050), K(0x1050));
	/* nothing but the entry point above an irq-enable: the entry point */
	CHAIN(p, CTX, K(0x5110), K(0x1050));
	/* an address below every symbol is skipped, not moved from */
	CHAIN(p, CTX, 0x10, K(0x4010), K(0x1050));
	/* not under io_uring_register: outside, moved or not */
	CHAIN(p, CTX, K(0x5110), K(0x7010), K(0x9050));
	CHAIN(p, CTX, K(0x7010));
	ufr_profiler_summary(p, &s);
	assert_int_equal(s.samples, 8);
	assert_int_equal(s.outside, 2);
	assert_int_equal(s.skid_moved, 5);
	assert_string_equal(s.top[0].function, "gup_fast_fallback");
	assert_int_equal(s.top[0].samples, 4);
	assert_int_equal(samples_of(&s, "io_sqe_buffer_register"), 1);
	assert_int_equal(samples_of(&s, "io_pin_pages"), 1);
	assert_int_equal(samples_of(&s, "irq_enable"), 1);
	assert_int_equal(samples_of(&s, "__do_sys_io_uring_register"), 1);
	assert_int_equal(samples_of(&s, "pvm_irq_enable"), 0);
	assert_int_equal(samples_of(&s, "_raw_spin_unlock_irqrestore"), 0);
	assert_int_equal(samples_of(&s, "xen_irq_enable_direct"), 0);
	ufr_profiler_close(p);
}

static void test_irq_on_names(void **state)
{
	static const char *const yes[] = {
		"pvm_irq_enable",
		"__raw_callee_save_pvm_irq_enable",
		"pv_native_irq_enable",
		"native_irq_enable",
		"xen_irq_enable",
		"xen_irq_enable_direct",
		"xen_restore_fl_direct",
		"__raw_callee_save_xen_restore_fl",
		"arch_local_irq_restore",
		"arch_local_irq_enable",
		"bpf_local_irq_restore",
		"_raw_spin_unlock_irqrestore",
		"_raw_spin_unlock_irq",
		"_raw_read_unlock_irqrestore",
		"_raw_write_unlock_irq",
		"__bpf_spin_unlock_irqrestore",
		"_raw_spin_unlock_irqrestore.cold",
	};
	static const char *const no[] = {
		"irq_enable",
		"acpi_pci_irq_enable",
		"net_rps_action_and_irq_enable",
		"pirq_enable_irq",
		"pvm_safe_halt",
		"lru_note_cost_unlock_irq",
		"rcu_preempt_deferred_qs_irqrestore",
		"_raw_spin_unlock",
		"gup_fast_fallback",
		"native_irq_enable_foo",
		"pvm_",
		"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (!ufr_profile_irq_on(yes[i]))
			fail_msg("%s re-enables interrupts", yes[i]);
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (ufr_profile_irq_on(no[i]))
			fail_msg("%s does not re-enable interrupts", no[i]);
}

/* Hidden addresses (all zero, as kptr_restrict shows them): refused. */
static void test_hidden_symbols(void **state)
{
	static const char zeros[] = "0000000000000000 T gup_fast_fallback\n"
				    "0000000000000000 T memset\n";
	FILE *f = fmemopen((void *)zeros, strlen(zeros), "r");
	struct ufr_profiler *p;
	struct ufr_err err;

	(void)state;
	assert_int_equal(ufr_profiler_from_symbols(&p, f, &err), -EACCES);
	fclose(f);
	assert_null(p);
	assert_non_null(strstr(err.msg, "/proc/kallsyms shows zeros"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skid_moves_to_the_walk),
		cmocka_unit_test(test_irq_on_names),
		cmocka_unit_test(test_hidden_symbols),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
