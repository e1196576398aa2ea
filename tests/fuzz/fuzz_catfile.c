/* The walker's batch of file contents: written in the appliance, which a
 * hostile guest may have taken over. The first two bytes choose how many
 * files were asked for and the size bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/vd_catfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 2)
                return 0;
        size_t count = data[0] % 8, max = (size_t)data[1] * 64;
        vd_catitem *v = NULL, *x = NULL;
        char **xp = NULL;
        size_t nx = 0;
        vd_err e = VD_ERR_INIT;
        if (vd_catfile_decode_extra(data + 2, size - 2, count, max, &v, &xp, &x, &nx, &e) == 0) {
                for (size_t i = 0; i < nx; i++) {
                        if (xp[i][0] != '/')
                                __builtin_trap();
                        free(xp[i]);
                }
                free(xp);
                vd_catitems_free(x, nx);
                vd_catitems_free(v, count);
        }
        return 0;
}
