/* One baseline kept open for guest after guest: a fleet worker's
 * kept-report pass opens the same baseline for every guest of a template,
 * and loads (and verifies) it once while its file and the verify key's are
 * unchanged (device, inode, size, mtime, ctime).
 * Ownership: the caller owns the cache (one per process that scans; no
 * process-wide state); a baseline it hands out as not owned is the cache's,
 * read only, valid until the next open or vd_baseline_cache_free. */
#ifndef VD_BASELINE_CACHE_H
#define VD_BASELINE_CACHE_H

#include <stdbool.h>

#include "baseline/vd_baseline.h"

typedef struct vd_baseline_cache vd_baseline_cache;

vd_baseline_cache *vd_baseline_cache_new(void); /* NULL: out of memory */
void vd_baseline_cache_free(vd_baseline_cache *c);

/* vd_baseline_open through the cache. *owned: the caller frees *ret;
 * otherwise the cache keeps it. A baseline is kept only when both files
 * were the same before and after reading, unchanged for 2 s before (coarse
 * timestamps), and it reads no other file (a derived one reads its
 * template's: never kept). */
int vd_baseline_cache_open(vd_baseline_cache *c, const char *path, const char *verify_key, const vd_baseline **ret,
                           bool *owned, vd_err *err);

#endif
