/* /proc/self/mountinfo, parsed once (proc(5)):
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
 * Inside the appliance the kernel that writes it reads the guest's file
 * systems, so the text is parsed as untrusted input (bounded, fuzzed): a
 * line that does not have this shape is skipped. */
#ifndef VD_MOUNTINFO_H
#define VD_MOUNTINFO_H

#include <stddef.h>

#include "common/vd_err.h"

#define VD_MOUNTINFO_MAX ((size_t)16 << 20)
#define VD_MOUNTS_MAX    65536

typedef struct vd_mount {
        unsigned major, minor;
        char *root;            /* unescaped */
        char *mount_point;     /* unescaped (\040 is a space) */
        char *mount_point_raw; /* as the kernel wrote it, escaped */
        char *options;         /* per-mount options */
        char *fstype, *source, *super_options;
} vd_mount;

/* Parse len bytes of mountinfo text into *ret (n entries; vd_mounts_free). */
int vd_mountinfo_parse(const char *text, size_t len, vd_mount **ret, size_t *ret_n, vd_err *err);
/* This process's mount table. */
int vd_mountinfo_read(vd_mount **ret, size_t *ret_n, vd_err *err);
void vd_mounts_free(vd_mount *m, size_t n);
/* n bytes of a mountinfo field with its \ooo escapes (space, tab, newline,
 * backslash) decoded, NUL-terminated (malloc'ed; NULL: out of memory). */
char *vd_mount_unescape(const char *s, size_t n);

#endif
