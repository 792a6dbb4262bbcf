// SPDX-License-Identifier: GPL-2.0-only
/*
 * The machine, read once into a snapshot (struct ufr_machine), and the
 * pure readers the later stages decide with; the checks of an open file;
 * the hugetlb pool read afresh where a failure needs explaining.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>
#include <pthread.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <linux/magic.h>
#include <linux/stat.h>

#include "ufr_layout.h"
#include "ufr_probe.h"

/* The first line of file @path (sysfs, procfs) in @buf; false and ""
 * when it cannot be read. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok = f && fgets(buf, len, f);

	if (f)
		fclose(f);
	if (!ok)
		buf[0] = '\0';
	return ok;
}

/* The bracketed word of a THP switch, or "" when unreadable. */
static void read_setting(const char *path, char out[UFR_SETTING_LEN])
{
	char buf[128];
	const char *a;

	read_line(path, buf, sizeof(buf));
	a = strchr(buf, '[');
	if (!a || sscanf(a, "[%15[^]]", out) != 1)
		out[0] = '\0';
}

static void probe_thp_sizes(struct ufr_machine *m)
{
	struct dirent *d;
	char path[sizeof(m->thp_root) + sizeof(d->d_name) + 16];
	size_t kb;
	DIR *dir = opendir(m->thp_root);

	while (dir && (d = readdir(dir)) &&
	       m->nr_thp_sizes < UFR_MAX_THP_SIZES) {
		struct ufr_thp_size *s = &m->thp_sizes[m->nr_thp_sizes];

		if (sscanf(d->d_name, "hugepages-%zukB", &kb) != 1)
			continue;
		s->kb = kb;
		snprintf(path, sizeof(path), "%s/%s/enabled", m->thp_root,
			 d->d_name);
		read_setting(path, s->enabled);
		snprintf(path, sizeof(path), "%s/%s/shmem_enabled", m->thp_root,
			 d->d_name);
		read_setting(path, s->shmem_enabled);
		m->nr_thp_sizes++;
	}
	if (dir)
		closedir(dir);
}

static void probe_thp(struct ufr_machine *m, const char *root)
{
	char path[512], buf[32];

	snprintf(m->thp_root, sizeof(m->thp_root), "%s",
		 root ? root : UFR_THP_SYSFS);
	snprintf(path, sizeof(path), "%s/hpage_pmd_size", m->thp_root);
	m->pmd_bytes =
		read_line(path, buf, sizeof(buf)) ? strtoul(buf, NULL, 10) : 0;
	if (!m->pmd_bytes)
		m->pmd_bytes = 2u << 20;
	snprintf(path, sizeof(path), "%s/enabled", m->thp_root);
	read_setting(path, m->thp_enabled);
	snprintf(path, sizeof(path), "%s/shmem_enabled", m->thp_root);
	read_setting(path, m->shmem_enabled);
	probe_thp_sizes(m);
}

static void probe_numa(struct ufr_machine *m)
{
	long long free;
	int n;

	m->numa = numa_available() >= 0;
	if (!m->numa)
		return;
	m->max_node = numa_max_node();
	for (n = 0; n <= m->max_node && n < UFR_MAX_NODES; n++)
		if (numa_node_size64(n, &free) > 0)
			m->nodes_with_memory |= 1ull << n;
}

static void probe_mount(struct ufr_mount *mt, const char *path)
{
	struct statfs st;

	mt->path = path;
	if (!path || !path[0])
		return;
	if (statfs(path, &st)) {
		mt->err = errno;
		return;
	}
	mt->hugetlbfs = (unsigned long)st.f_type == HUGETLBFS_MAGIC;
	mt->page_bytes = (long)st.f_bsize;
}

/*
 * Whether the kernel's length check lets a buffer of @len bytes through:
 * 1 (the wrap check after it refused: -EOVERFLOW), 0 (the length check
 * refused it: -EFAULT or -EINVAL), or the negated errno of any other
 * answer, which decides nothing.
 */
static int cap_lets_through(struct io_uring *ring, unsigned long long len)
{
	/* The last page: base + length wraps for every length. */
	struct iovec iov = {
		.iov_base = (void *)(~(uintptr_t)0 & ~(uintptr_t)(4096 - 1)),
		.iov_len = len,
	};
	int ret = io_uring_register_buffers(ring, &iov, 1);

	if (!ret) {
		io_uring_unregister_buffers(ring);
		return -EEXIST;
	}
	if (ret == -EOVERFLOW)
		return 1;
	return ret == -EFAULT || ret == -EINVAL ? 0 : ret;
}

/* The cap into @m->max_buffer_bytes, or the reason there is none. */
static bool bisect_cap(struct ufr_machine *m)
{
	/* x86-64's user address space: no buffer can be larger. */
	unsigned long long lo = 1, hi = 1ull << 47, mid;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(1, &ring, 0);
	if (ret) {
		snprintf(m->max_buffer_why, sizeof(m->max_buffer_why),
			 "no io_uring ring to probe with (%s)", strerror(-ret));
		return false;
	}
	/* One byte must pass the length check; 128 TiB passing is no cap. */
	ret = cap_lets_through(&ring, lo);
	if (ret == 1)
		ret = cap_lets_through(&ring, hi);
	else if (!ret)
		ret = -ERANGE;
	if (ret == 1)
		lo = hi;
	while (ret >= 0 && hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		ret = cap_lets_through(&ring, mid);
		if (ret == 1)
			lo = mid;
		else if (!ret)
			hi = mid;
	}
	io_uring_queue_exit(&ring);
	if (ret < 0) {
		snprintf(
			m->max_buffer_why, sizeof(m->max_buffer_why),
			"a buffer on the last page answered %s, not EOVERFLOW below the cap and EFAULT/EINVAL over it",
			ret == -EEXIST ? "success" :
			ret == -ERANGE ? "EFAULT/EINVAL for 1 byte" :
					 strerrorname_np(-ret));
		return false;
	}
	m->max_buffer_bytes = lo;
	return true;
}

unsigned long long ufr_max_buffer_for_release(const char *release)
{
	unsigned int major = 0, minor = 0;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return UFR_MAX_REGION_BYTES_7_2;
	if (major < 7 || (major == 7 && minor < 2))
		return UFR_MAX_REGION_BYTES;
	return UFR_MAX_REGION_BYTES_7_2;
}

void ufr_buffer_cap_probe(struct ufr_machine *m)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct ufr_machine once;
	static bool done;

	pthread_mutex_lock(&lock);
	if (!done) {
		snprintf(once.release, sizeof(once.release), "%s", m->release);
		once.max_buffer_probed = bisect_cap(&once);
		if (!once.max_buffer_probed)
			once.max_buffer_bytes =
				ufr_max_buffer_for_release(once.release);
		done = true;
	}
	m->max_buffer_bytes = once.max_buffer_bytes;
	m->max_buffer_probed = once.max_buffer_probed;
	snprintf(m->max_buffer_why, sizeof(m->max_buffer_why), "%s",
		 once.max_buffer_why);
	pthread_mutex_unlock(&lock);
}

void ufr_machine_probe(struct ufr_machine *m, const char *thp_root,
		       const char *hugetlbfs_path)
{
	static const size_t sizes[UFR_HUGETLB_SIZES] = { 2u << 20, 1u << 30 };
	struct utsname u;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	probe_thp(m, thp_root);
	for (i = 0; i < UFR_HUGETLB_SIZES; i++)
		ufr_hugetlb_pool_read(&m->hugetlb[i], sizes[i]);
	probe_numa(m);
	probe_mount(&m->mount, hugetlbfs_path);
	snprintf(m->release, sizeof(m->release), "%s",
		 uname(&u) ? "?" : u.release);
	ufr_buffer_cap_probe(m);
}

bool ufr_thp_setting_on(const char *val, const char *top)
{
	if (!strcmp(val, "always") || !strcmp(val, "madvise"))
		return true;
	return top && !strcmp(val, "inherit") && ufr_thp_setting_on(top, NULL);
}

const struct ufr_thp_size *ufr_machine_thp_size(const struct ufr_machine *m,
						size_t kb)
{
	unsigned int i;

	for (i = 0; i < m->nr_thp_sizes; i++)
		if (m->thp_sizes[i].kb == kb)
			return &m->thp_sizes[i];
	return NULL;
}

size_t ufr_machine_folio_bytes(const struct ufr_machine *m,
			       enum ufr_folio folio)
{
	return folio == UFR_FOLIO_THP ? m->pmd_bytes : ufr_folio_bytes(folio);
}

struct ufr_hugetlb_pool ufr_machine_pool(const struct ufr_machine *m,
					 size_t page_bytes)
{
	struct ufr_hugetlb_pool none = { page_bytes, -1, -1, -1 };
	unsigned int i;

	for (i = 0; i < UFR_HUGETLB_SIZES; i++)
		if (m->hugetlb[i].page_bytes == page_bytes)
			return m->hugetlb[i];
	return none;
}

long ufr_hugetlb_available(const struct ufr_hugetlb_pool *p)
{
	long free = p->free;

	if (free < 0)
		return -1;
	/* Reserved pages are free but promised to other mappings. */
	if (p->resv > 0)
		free = p->resv < free ? free - p->resv : 0;
	return free;
}

int ufr_hugetlb_shortage(struct ufr_err *err, const char *what,
			 const struct ufr_hugetlb_pool *p, unsigned long need)
{
	size_t kb = p->page_bytes >> 10;
	long free = p->free, avail = ufr_hugetlb_available(p);
	char resv[80] = "";

	if (p->total < 0)
		return ufr_err_set(
			err, -ENOMEM,
			"%s: this kernel has no %zu KiB hugetlb pages; use another page size",
			what, kb);
	if (free < 0)
		free = avail = 0;
	if (avail != free)
		snprintf(resv, sizeof(resv),
			 " but %ld of them are reserved by other mappings",
			 free - avail);
	return ufr_err_set(
		err, -ENOMEM,
		"%s: needs %lu hugetlb pages of %zu KiB, %ld are free%s; reserve more: echo %lu > /sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
		what, need, kb, free, resv,
		p->total + (need > (unsigned long)avail ? need - avail : need),
		kb);
}

long ufr_hugetlb_count(size_t page_bytes, const char *counter)
{
	char path[128], val[32];

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%zukB/%s",
		 page_bytes >> 10, counter);
	return read_line(path, val, sizeof(val)) ? strtol(val, NULL, 10) : -1;
}

void ufr_hugetlb_pool_read(struct ufr_hugetlb_pool *p, size_t page_bytes)
{
	p->page_bytes = page_bytes;
	p->total = ufr_hugetlb_count(page_bytes, "nr_hugepages");
	p->free = ufr_hugetlb_count(page_bytes, "free_hugepages");
	p->resv = ufr_hugetlb_count(page_bytes, "resv_hugepages");
}

int ufr_dio_check(int fd, const char *name, const unsigned long long *bs,
		  size_t nr, size_t mem_align, struct ufr_err *err)
{
	struct statx st;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) ||
	    !(st.stx_mask & STATX_DIOALIGN))
		return 0;
	if (!st.stx_dio_offset_align)
		return ufr_err_set(
			err, -EINVAL,
			"direct=1: filename=%s does not support O_DIRECT; use direct=0 or another file system",
			name);
	for (i = 0; i < nr; i++) {
		if (bs[i] % st.stx_dio_offset_align)
			return ufr_err_set(
				err, -EINVAL,
				"bs=%llu: O_DIRECT on filename=%s needs sizes and offsets in multiples of %u bytes; use such a bs (or direct=0)",
				bs[i], name, st.stx_dio_offset_align);
	}
	if (st.stx_dio_mem_align && mem_align % st.stx_dio_mem_align)
		return ufr_err_set(
			err, -EINVAL,
			"mem_align=%zu: O_DIRECT on filename=%s needs buffers aligned to %u bytes; use a multiple of %u",
			mem_align, name, st.stx_dio_mem_align,
			st.stx_dio_mem_align);
	return 0;
}

int ufr_iopoll_check(int fd, const char *name, struct ufr_err *err)
{
	char path[96], val[8];
	struct stat st;
	dev_t dev;

	if (fstat(fd, &st))
		return 0;
	dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/io_poll",
		 major(dev), minor(dev));
	/* A partition's queue is its disk's, one directory up. */
	if (!read_line(path, val, sizeof(val))) {
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/../queue/io_poll", major(dev),
			 minor(dev));
		read_line(path, val, sizeof(val));
	}
	/* Unreadable (""): hipri may work, the first I/O will tell. */
	if (val[0] != '0')
		return 0;
	return ufr_err_set(
		err, -EOPNOTSUPP,
		"hipri: filename=%s is on a block device without poll queues (%s is 0); give the device poll queues (e.g. nvme.poll_queues=N) or drop hipri",
		name, path);
}
