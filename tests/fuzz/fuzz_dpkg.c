/* dpkg's status file comes from the guest (a directory tree's
 * /var/lib/dpkg/status): any bytes. Parsing must never crash, leak or
 * record a package without a name and version, and every recorded package
 * must compare (labels in dpkg's order) without trouble. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/vd_packages.h"
#include "analyse/vd_version.h"
#include "formats/vd_dpkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_scan s;
        vd_scan_init(&s);
        size_t skipped = 0;
        if (vd_dpkg_parse((const char *)data, size, &s, &skipped) == 0) {
                for (size_t i = 0; i < s.n_packages; i++) {
                        const vd_package *p = &s.packages[i];
                        if (!p->name[0] || !p->version[0] || p->epoch < 0)
                                __builtin_trap();
                        char *l = vd_package_label(p);
                        if (!l || vd_version_cmp_deb(l, l) != 0)
                                __builtin_trap();
                        free(l);
                }
        }
        vd_scan_release(&s);
        return 0;
}
