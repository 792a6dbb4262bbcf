/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef UFR_MMAN_H
#define UFR_MMAN_H

/*
 * <sys/mman.h>, with the kernel's values for what Debian 12's glibc
 * headers lack (MADV_POPULATE_* came with Linux 5.14).
 */
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

#endif
