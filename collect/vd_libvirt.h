/* What a libvirt connection says about its domains, read-only: for the
 * fleet's sprawl and reachability findings. */
#ifndef VD_LIBVIRT_H
#define VD_LIBVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/vd_err.h"

#define VD_LIBVIRT_DOMAINS_MAX 100000

/* Every domain of uri (NULL: the default), active or not, sorted by name;
 * *ret_names is malloc'ed (free each and the array). */
int vd_libvirt_domains(const char *uri, char ***ret_names, size_t *ret_n, vd_err *err);

#endif
