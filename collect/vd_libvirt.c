#include "collect/vd_libvirt.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

static void quiet(void *ud, virErrorPtr e) {
        (void)ud;
        (void)e; /* read with virGetLastErrorMessage and said once */
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int vd_libvirt_domains(const char *uri, char ***ret_names, size_t *ret_n, vd_err *err) {
        *ret_names = NULL;
        *ret_n = 0;
        virSetErrorFunc(NULL, quiet);
        virConnectPtr c = virConnectOpenReadOnly(uri);
        if (!c)
                return vd_err_set(err, VD_E_SOURCE, "cannot connect to libvirt at %s: %s",
                                  uri ? uri : "the default URI", virGetLastErrorMessage());
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(c, &doms, 0);
        int r = 0;
        if (n < 0)
                r = vd_err_set(err, VD_E_SOURCE, "libvirt at %s: cannot list domains: %s", uri ? uri : "the default URI",
                               virGetLastErrorMessage());
        else if (n > VD_LIBVIRT_DOMAINS_MAX)
                r = vd_err_set(err, VD_E_LIMIT, "libvirt at %s: more than %d domains", uri ? uri : "the default URI",
                               VD_LIBVIRT_DOMAINS_MAX);
        char **names = r == 0 ? calloc((size_t)n + 1, sizeof *names) : NULL;
        if (r == 0 && !names)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        size_t k = 0;
        for (int i = 0; i < (n > 0 ? n : 0); i++) {
                const char *nm = r == 0 ? virDomainGetName(doms[i]) : NULL;
                if (nm && !(names[k++] = strdup(nm)))
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                virDomainFree(doms[i]);
        }
        free(doms);
        virConnectClose(c);
        if (r < 0) {
                for (size_t i = 0; i < k; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        qsort(names, k, sizeof *names, cmp);
        *ret_names = names;
        *ret_n = k;
        return 0;
}
