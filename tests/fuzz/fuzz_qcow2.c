/* A qcow2 image's first cluster, written by whoever wrote the image (a
 * raw disk's guest can write one): no crash, no read past the bytes given,
 * and a backing name only when it is certain (1 to 1023 printable bytes,
 * no protocol), its format shorter than 16 bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_qcow2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > VD_QCOW2_READ_MAX)
                size = VD_QCOW2_READ_MAX;
        /* a copy of exactly size bytes: ASan sees any read past them */
        unsigned char *p = malloc(size ? size : 1);
        if (!p)
                return 0;
        memcpy(p, data, size);
        vd_qcow2_hdr h;
        if (vd_qcow2_header_parse(p, size, &h) == 0) {
                size_t n = h.backing ? strlen(h.backing) : 0;
                if ((h.backing && (n == 0 || n > 1023 || strchr(h.backing, ':'))) ||
                    strlen(h.backing_format) >= sizeof h.backing_format)
                        __builtin_trap();
        }
        vd_qcow2_hdr_release(&h);
        free(p);
        return 0;
}
