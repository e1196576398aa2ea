/* Version order on any bytes (a guest's package database): never reads out
 * of bounds, and is an order: antisymmetric and reflexive, for Debian and
 * RPM alike. Input: two versions separated by a newline. */
#include <stdlib.h>
#include <string.h>

#include "analyse/vd_version.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int sgn(int x) { return (x > 0) - (x < 0); }

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
        if (size > 4096)
                return 0;
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        char *b = strchr(s, '\n');
        const char *a = s;
        if (b)
                *b++ = '\0';
        else
                b = s + size;
        if (sgn(vd_version_cmp_deb(a, b)) != -sgn(vd_version_cmp_deb(b, a)) || vd_version_cmp_deb(a, a) != 0 ||
            sgn(vd_version_cmp_rpm(a, b)) != -sgn(vd_version_cmp_rpm(b, a)) || vd_version_cmp_rpm(a, a) != 0 ||
            sgn(vd_rpmvercmp(a, b)) != -sgn(vd_rpmvercmp(b, a)))
                abort();
        free(s);
        return 0;
}
