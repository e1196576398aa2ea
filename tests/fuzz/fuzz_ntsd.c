/* An NTFS security descriptor or attribute word comes from the guest's
 * file system (the walker's xattrs): any bytes. Reading them must never
 * crash or read past the buffer (ASan checks); the answers are bounded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/vd_ntsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* an exact copy, so that ASan sees every byte past the end */
        unsigned char *p = malloc(size ? size : 1);
        if (!p)
                return 0;
        for (size_t i = 0; i < size; i++)
                p[i] = data[i];
        int w = vd_ntsd_world_writable(p, size);
        if (w < -1 || w > 1)
                __builtin_trap();
        vd_buf b;
        vd_buf_init(&b, 1 << 20);
        vd_ntsd_describe(p, size, &b);
        vd_buf_reset(&b);
        vd_ntsd_attrib_describe(p, size, &b);
        vd_buf_release(&b);
        free(p);
        return 0;
}
