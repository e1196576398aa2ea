/* dpkg's status file (/var/lib/dpkg/status) of a directory tree: the
 * installed packages of a template rootfs or a mounted Debian guest, as
 * inspection reports them for images (name, epoch, upstream version,
 * revision as release, architecture). Untrusted input: any bytes; bounded
 * counts and lengths; a malformed stanza is skipped and counted, never
 * guessed at.
 */
#ifndef VD_DPKG_H
#define VD_DPKG_H

#include <stddef.h>

#include "model/vd_scan.h"

#define VD_DPKG_PACKAGES_MAX 200000

/* Add the installed packages of text to s; *skipped: stanzas that name a
 * package but are malformed (a field too long, a bad version). */
int vd_dpkg_parse(const char *text, size_t len, vd_scan *s, size_t *skipped);

#endif
