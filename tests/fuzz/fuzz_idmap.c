/* A guest's etc/passwd and etc/group. */
#include <stddef.h>
#include <stdint.h>

#include "collect/vd_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_idmap *m = NULL;
        if (vd_idmap_parse((const char *)data, size, &m) == 0) {
                for (uint32_t id = 0; id < 4; id++)
                        (void)vd_idmap_get(m, id);
                (void)vd_idmap_get(m, 0xffffffffu);
        }
        vd_idmap_free(m);
        return 0;
}
