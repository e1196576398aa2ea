/* The xattr blob of a baseline row: a baseline file may be hostile. */
#include <stddef.h>
#include <stdint.h>

#include "model/vd_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_entry *e = vd_entry_new();
        vd_err err = VD_ERR_INIT;
        if (vd_xattrs_decode(e, data, size, &err) == 0) {
                /* Round trip: what decodes must encode to the same bytes. */
                vd_buf b;
                vd_buf_init(&b, 0);
                if (size && (vd_xattrs_encode(e, &b) < 0 || b.len != size || __builtin_memcmp(b.buf, data, size)))
                        __builtin_trap();
                vd_buf_release(&b);
        }
        vd_entry_free(e);
        return 0;
}
