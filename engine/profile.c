// SPDX-License-Identifier: GPL-2.0-only
/* reg_profile: the kernel sampled around the register calls; see ufr_profile.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>

#include "ufr_profile.h"

struct ufr_ksym {
	uint64_t addr;
	uint64_t samples; /* attributed to it */
	uint32_t name; /* offset in names */
	bool reg; /* an io_uring_register entry point */
	bool irq_on; /* re-enables interrupts: its samples go up the chain */
};

struct ufr_profiler {
	int fd; /* -1: symbols only */
	void *ring;
	size_t ring_len, page;
	struct ufr_ksym *syms;
	size_t nr_syms, cap_syms;
	char *names;
	size_t len_names, cap_names;
	struct ufr_profile_summary sum;
};

#define PROFILE_RING_PAGES 128

/* The names that end in one of these, after the flavour prefixes below. */
static const char *const irq_on_ops[] = {
	"irq_enable", "irq_enable_direct", "irq_restore",
	"restore_fl", "restore_fl_direct",
};

/* Whose irq_enable/restore_fl is the processor's: native, paravirt, PVM,
 * Xen, KVM, Hyper-V, vSMP, and the generic wrappers. */
static const char *const irq_on_flavours[] = {
	"native", "pv_native",	"pvm",	     "xen",   "kvm",	   "hv",
	"vsmp",	  "arch_local", "raw_local", "local", "bpf_local",
};

/* Lock releases that turn interrupts back on, of any lock's prefix. */
static const char *const irq_on_unlocks[] = {
	"spin_unlock_irq",  "spin_unlock_irqrestore",
	"read_unlock_irq",  "read_unlock_irqrestore",
	"write_unlock_irq", "write_unlock_irqrestore",
};

static bool ends_with(const char *s, size_t len, const char *end)
{
	size_t n = strlen(end);

	return len >= n && !memcmp(s + len - n, end, n);
}

/* @s (of @len) is FLAVOUR "_" OP for one of the tables' pairs. */
static bool flavour_op(const char *s, size_t len)
{
	size_t i, k, f;

	for (i = 0; i < UFR_ARRAY_SIZE(irq_on_flavours); i++) {
		f = strlen(irq_on_flavours[i]);
		if (len <= f + 1 || strncmp(s, irq_on_flavours[i], f) ||
		    s[f] != '_')
			continue;
		for (k = 0; k < UFR_ARRAY_SIZE(irq_on_ops); k++)
			if (len - f - 1 == strlen(irq_on_ops[k]) &&
			    !memcmp(s + f + 1, irq_on_ops[k], len - f - 1))
				return true;
	}
	return false;
}

bool ufr_profile_irq_on(const char *name)
{
	static const char thunk[] = "__raw_callee_save_";
	const char *dot;
	size_t len, i;

	/* paravirt's register-saving thunk around the real one */
	if (!strncmp(name, thunk, sizeof(thunk) - 1))
		name += sizeof(thunk) - 1;
	/* a compiler's clone: .cold, .part.0, .constprop.0, .isra.0 */
	dot = strchr(name, '.');
	len = dot ? (size_t)(dot - name) : strlen(name);
	for (i = 0; i < UFR_ARRAY_SIZE(irq_on_unlocks); i++)
		if (ends_with(name, len, irq_on_unlocks[i]))
			return true;
	return flavour_op(name, len);
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ufr_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Room for one more symbol and @len bytes of name; false: no memory. */
static bool ksym_room(struct ufr_profiler *p, size_t len)
{
	void *n;

	if (p->nr_syms == p->cap_syms) {
		p->cap_syms = p->cap_syms ? 2 * p->cap_syms : 65536;
		n = realloc(p->syms, p->cap_syms * sizeof(*p->syms));
		if (!n)
			return false;
		p->syms = n;
	}
	if (p->len_names + len > p->cap_names) {
		p->cap_names = p->cap_names ? 2 * p->cap_names : 1 << 20;
		n = realloc(p->names, p->cap_names);
		if (!n)
			return false;
		p->names = n;
	}
	return true;
}

static bool ksym_add(struct ufr_profiler *p, uint64_t addr, const char *name)
{
	size_t len = strlen(name) + 1;

	if (!ksym_room(p, len))
		return false;
	memcpy(p->names + p->len_names, name, len);
	p->syms[p->nr_syms++] = (struct ufr_ksym){
		.addr = addr,
		.name = p->len_names,
		.reg = strstr(name, "io_uring_register") &&
		       strstr(name, "sys_"),
		.irq_on = ufr_profile_irq_on(name),
	};
	p->len_names += len;
	return true;
}

/* The kernel's text symbols, sorted by address; -EACCES if hidden. */
static int load_kallsyms(struct ufr_profiler *p, FILE *f)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t nonzero = 0;

	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		if (!ksym_add(p, addr, name))
			break;
		nonzero += addr != 0;
	}
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

void ufr_profiler_chain(struct ufr_profiler *p, const uint64_t *ips,
			uint64_t nr)
{
	long leaf = -1, first = -1, k;
	bool under = false;
	uint64_t i;

	for (i = 0; i < nr && !under; i++) {
		if (ips[i] >= (uint64_t)PERF_CONTEXT_MAX)
			continue; /* a context marker */
		k = ksym_find(p, ips[i]);
		if (k < 0)
			continue;
		if (first < 0)
			first = k;
		/* The leaf: the first function that is not an irq-enable. */
		if (leaf < 0 && !p->syms[k].irq_on)
			leaf = k;
		under = p->syms[k].reg;
	}
	/* Under it, the entry point itself is a leaf at the latest. */
	if (!under || leaf < 0) {
		p->sum.outside++;
		return;
	}
	p->sum.skid_moved += leaf != first;
	p->syms[leaf].samples++;
	p->sum.samples++;
}

/* Read what the ring buffer holds and give the space back. */
void ufr_profiler_drain(struct ufr_profiler *p)
{
	struct perf_event_mmap_page *mp;
	unsigned char *data;
	uint64_t head, tail;
	size_t size;
	static __thread uint64_t rec[1024];

	if (!p || !p->ring)
		return;
	mp = p->ring;
	size = p->ring_len - p->page;
	data = (unsigned char *)p->ring + p->page;
	head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	for (tail = mp->data_tail;
	     tail + sizeof(struct perf_event_header) <= head;) {
		struct perf_event_header h;
		size_t off = tail % size, n, first;

		memcpy(&h, data + off, sizeof(h)); /* headers never wrap */
		if (!h.size)
			break;
		n = h.size < sizeof(rec) ? h.size : sizeof(rec);
		first = size - off < n ? size - off : n;
		memcpy(rec, data + off, first);
		memcpy((unsigned char *)rec + first, data, n - first);
		if (h.type == PERF_RECORD_SAMPLE && n >= 16)
			ufr_profiler_chain(p, rec + 2,
					   rec[1] > n / 8 - 2 ? n / 8 - 2 :
								rec[1]);
		else if (h.type == PERF_RECORD_LOST && n >= 24)
			p->sum.lost += rec[2];
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

/*
 * The events tried, best first: cycles at each precise level (an NMI
 * that lands where the kernel runs, interrupts off or not), then the
 * software cpu-clock (a timer: deferred while interrupts are off).
 */
static const struct profile_event {
	const char *name;
	__u32 type;
	__u8 precise;
} profile_events[] = {
	{ "cycles:ppp", PERF_TYPE_HARDWARE, 3 },
	{ "cycles:pp", PERF_TYPE_HARDWARE, 2 },
	{ "cycles:p", PERF_TYPE_HARDWARE, 1 },
	{ "cycles", PERF_TYPE_HARDWARE, 0 },
	{ "cpu-clock", PERF_TYPE_SOFTWARE, 0 },
};

#define CPU_CLOCK (UFR_ARRAY_SIZE(profile_events) - 1)

/* The event that opened first in this process; -1: not probed yet. */
static int profile_event_chosen = -1;

static int event_open(const struct profile_event *e)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = e->type;
	attr.precise_ip = e->precise;
	if (e->type == PERF_TYPE_HARDWARE) {
		attr.config = PERF_COUNT_HW_CPU_CYCLES;
		attr.freq = 1;
		attr.sample_freq = UFR_PROFILE_HZ;
	} else {
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		attr.sample_period = UFR_PROFILE_PERIOD_NS;
	}
	attr.sample_type = PERF_SAMPLE_CALLCHAIN;
	attr.disabled = 1;
	attr.exclude_user = 1;
	attr.exclude_hv = 1;
	attr.exclude_callchain_user = 1;
	attr.wakeup_events = 1 << 30; /* nobody waits on it */
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

/*
 * The best event that opens, from the one this process found before;
 * returns the fd, or -errno of cpu-clock (is sampling allowed at all).
 */
static int event_probe(struct ufr_profiler *p)
{
	int i = __atomic_load_n(&profile_event_chosen, __ATOMIC_RELAXED), fd;

	for (i = i < 0 ? 0 : i;; i++) {
		fd = event_open(&profile_events[i]);
		if (fd >= 0 || i == (int)CPU_CLOCK)
			break;
	}
	if (fd < 0)
		return -errno;
	__atomic_store_n(&profile_event_chosen, i, __ATOMIC_RELAXED);
	snprintf(p->sum.event, sizeof(p->sum.event), "%s",
		 profile_events[i].name);
	return fd;
}

static int event_failed(int ret, struct ufr_err *err)
{
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

static struct ufr_profiler *profiler_new(void)
{
	struct ufr_profiler *p = calloc(1, sizeof(*p));

	if (p)
		p->fd = -1;
	return p;
}

static int symbols_read(struct ufr_profiler *p, FILE *f, struct ufr_err *err)
{
	int ret = f ? load_kallsyms(p, f) : -ENOENT;

	if (!ret)
		return 0;
	return ufr_err_set(
		err, ret,
		"reg_profile: the kernel's symbol addresses cannot be read (/proc/kallsyms shows %s); run as root with kernel.kptr_restrict 0 or 1",
		ret == -EACCES ? "zeros" : "nothing");
}

int ufr_profiler_from_symbols(struct ufr_profiler **out, FILE *kallsyms,
			      struct ufr_err *err)
{
	struct ufr_profiler *p = profiler_new();
	int ret;

	*out = NULL;
	if (!p)
		return ufr_err_set(err, -ENOMEM, "reg_profile: out of memory");
	ret = symbols_read(p, kallsyms, err);
	if (ret) {
		ufr_profiler_close(p);
		return ret;
	}
	*out = p;
	return 0;
}

/* The event and its ring buffer; whether sampling is allowed is told
 * before the symbols are read, which need the same privilege. */
static int event_attach(struct ufr_profiler *p, struct ufr_err *err)
{
	int ret;

	p->fd = event_probe(p);
	if (p->fd < 0)
		return event_failed(p->fd, err);
	p->page = (size_t)sysconf(_SC_PAGESIZE);
	p->ring_len = p->page * (1 + PROFILE_RING_PAGES);
	p->ring = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->fd, 0);
	if (p->ring != MAP_FAILED)
		return 0;
	ret = -errno;
	p->ring = NULL;
	return ufr_err_set(
		err, ret,
		"reg_profile: mapping the sample buffer failed: %s; raise /proc/sys/kernel/perf_event_mlock_kb",
		strerror(-ret));
}

int ufr_profiler_open(struct ufr_profiler **out, struct ufr_err *err)
{
	struct ufr_profiler *p = profiler_new();
	FILE *f;
	int ret;

	*out = NULL;
	if (!p)
		return ufr_err_set(err, -ENOMEM, "reg_profile: out of memory");
	ret = event_attach(p, err);
	if (!ret) {
		f = fopen("/proc/kallsyms", "re");
		ret = symbols_read(p, f, err);
		if (f)
			fclose(f);
	}
	if (ret) {
		ufr_profiler_close(p);
		return ret;
	}
	*out = p;
	return 0;
}

void ufr_profiler_on(struct ufr_profiler *p)
{
	if (p && p->fd >= 0)
		ioctl(p->fd, PERF_EVENT_IOC_ENABLE, 0);
}

void ufr_profiler_off(struct ufr_profiler *p)
{
	if (!p || p->fd < 0)
		return;
	ioctl(p->fd, PERF_EVENT_IOC_DISABLE, 0);
	/* Read often enough that reg_mode=each loses nothing. */
	if (!(++p->sum.calls % 64))
		ufr_profiler_drain(p);
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

	ufr_profiler_drain(p);
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
	if (p->ring)
		munmap(p->ring, p->ring_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p->syms);
	free(p->names);
	free(p);
}
