/* The baseline's parts (private to baseline/): what writing and loading
 * share with the object itself: metadata as key/value text and the content
 * digest. Strings returned are malloc'ed and the caller's. */
#ifndef VD_BASELINE_INT_H
#define VD_BASELINE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "baseline/vd_baseline.h"
#include "common/vd_buf.h"

/* ---- metadata as key/value text ---- */

struct kv {
        const char *key;
        char *val; /* owned */
};

#define META_VALUE_MAX 4096

#define ENTRY_BLOB_MAX ((size_t)4 << 20)

#define N_META 12

/* ---- vd_baseline.c ---- */
int vdb_meta_to_kv(const vd_baseline *b, struct kv kv[N_META]);
void vdb_kv_free(struct kv kv[N_META]);
int vdb_compute_digest(const vd_baseline *b, struct kv kv[N_META], char out[65]);

#endif
