/* /proc/self/mountinfo as the appliance's kernel writes it (a guest that
 * took the kernel over writes it): no crash, every field NUL-free. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_mount *m = NULL;
        size_t n = 0;
        vd_err e = VD_ERR_INIT;
        if (vd_mountinfo_parse((const char *)data, size, &m, &n, &e) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!m[i].mount_point || !m[i].fstype || !m[i].source || !m[i].super_options ||
                    strlen(m[i].mount_point_raw) < strlen(m[i].mount_point))
                        __builtin_trap();
        vd_mounts_free(m, n);
        return 0;
}
