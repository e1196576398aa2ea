/* The walker's batch of file contents: written in the appliance, which a
 * hostile guest may have taken over. The first two bytes choose how many
 * files were asked for and the size bound. */
#include <stddef.h>
#include <stdint.h>

#include "vd_catfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 2)
                return 0;
        size_t count = data[0] % 8, max = (size_t)data[1] * 64;
        vd_catitem *v = NULL;
        vd_err e = VD_ERR_INIT;
        if (vd_catfile_decode(data + 2, size - 2, count, max, &v, &e) == 0)
                vd_catitems_free(v, count);
        return 0;
}
