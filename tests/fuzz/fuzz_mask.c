/* A file's content comes from the guest: any bytes, any line length. The
 * masker must never crash or read past the buffer, must leave no long run
 * of a masked value's bytes (checked for one planted secret by the unit
 * test), and the diff of the masked content with itself is empty. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_diff.h"
#include "formats/vd_mask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *p = malloc(size ? size : 1);
        if (!p)
                return 0;
        memcpy(p, data, size);
        vd_buf b;
        vd_buf_init(&b, 4 << 20);
        size_t n = 0;
        if (vd_mask_secrets(p, size, (const unsigned char *)"k", 1, &b, &n) == 0) {
                vd_buf d;
                vd_buf_init(&d, 1 << 20);
                if (vd_diff_unified("/f", b.buf ? b.buf : "", b.len, b.buf ? b.buf : "", b.len, 65536, &d) == 0 &&
                    d.len && strcmp(d.buf, VD_DIFF_BINARY) != 0)
                        __builtin_trap(); /* the same content: no diff */
                vd_buf_release(&d);
        }
        vd_mask_never_store(p, size);
        vd_buf_release(&b);
        free(p);
        return 0;
}
