/* The manifest comes back from the appliance: a guest that took the appliance
 * over writes it. Decoding must never crash, leak or accept garbage. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collect/vd_manifest.h"
#include "common/vd_str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference a delta walk's manifest may point into: three entries. */
static const vd_entries *reference(void) {
        static vd_entries ref;
        static int made;
        if (!made) {
                made = 1;
                vd_entries_init(&ref);
                const char *paths[] = {"/", "/a", "/a/b"};
                for (size_t i = 0; i < 3; i++) {
                        vd_entry *e = vd_entry_new();
                        if (!e || vd_entry_set_path(e, paths[i], strlen(paths[i])) < 0 || vd_entries_push(&ref, e) < 0)
                                __builtin_trap();
                        e->type = i < 2 ? VD_T_DIR : VD_T_REG;
                }
        }
        return &ref;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_scan s;
        vd_scan_init(&s);
        vd_err err = VD_ERR_INIT;
        /* odd sizes: with the reference (runs of its indices allowed) */
        if (vd_manifest_decode_ref(data, size, size % 2 ? reference() : NULL, &s, &err) == 0) {
                /* What was accepted must be well formed: sorted, unique, absolute. */
                for (size_t i = 0; i < s.entries.n; i++) {
                        const vd_entry *e = s.entries.v[i];
                        if (e->path_len == 0 || e->path[0] != '/' || e->path_len > VD_PATH_MAX)
                                __builtin_trap();
                        if (i && vd_path_cmp(s.entries.v[i - 1]->path, s.entries.v[i - 1]->path_len, e->path,
                                             e->path_len) >= 0)
                                __builtin_trap();
                        /* extents: a regular file's, in order, inside it, on a disk we could have */
                        const vd_extent_map *m = e->extents;
                        for (uint32_t k = 0; m && k < m->n; k++) {
                                const vd_extent *x = &m->v[k];
                                if (e->type != VD_T_REG || e->hash_len || x->length == 0 ||
                                    x->logical + x->length > e->size || x->disk >= VD_DISKS_MAX ||
                                    (k && x->logical < m->v[k - 1].logical + m->v[k - 1].length))
                                        __builtin_trap();
                        }
                }
        }
        vd_scan_release(&s);
        return 0;
}
