/* qemu-img info's JSON about an image whose header a guest may have written. */
#include <stddef.h>
#include <stdint.h>

#include "collect/vd_imageinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_image_info i;
        vd_err e = VD_ERR_INIT;
        (void)vd_image_info_parse((const char *)data, size, &i, &e);
        vd_image_info_release(&i);
        return 0;
}
