/* The walker's batch of file contents (vmdrift-walker --cat): the regular
 * files a configuration scan needs, read in the appliance in one go.
 *
 *   "VDCAT002" u32 count, then per file, in the order asked:
 *   i32 code (0, or VD_E_IO / VD_E_LIMIT as the source's read_file gives)
 *   u32 message length, message (no NUL), u32 data length, data;
 *   then u32 extra, and per extra file (one the walker found matching a
 *   pattern it was given, vmdrift-walker --cat): u32 path length, path (no
 *   NUL), then as above (little-endian). Decoded on the host as untrusted
 *   input.
 */
#ifndef VD_CATFILE_H
#define VD_CATFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"

#define VD_CAT_FILES_MAX 4096
#define VD_CAT_LIST_MAX ((size_t)VD_CAT_FILES_MAX * 4096)
#define VD_CAT_MSG_MAX 512

int vd_catfile_begin(vd_buf *b, size_t count);
int vd_catfile_add(vd_buf *b, int code, const char *msg, const void *data, size_t len);
/* After the count files asked: how many extra follow (0 or more, each
 * vd_catfile_add_extra). */
int vd_catfile_extra(vd_buf *b, size_t n);
int vd_catfile_add_extra(vd_buf *b, const char *path, int code, const char *msg, const void *data, size_t len);

typedef struct vd_catitem {
        int code;   /* 0, VD_E_IO or VD_E_LIMIT */
        char *msg;  /* NUL-terminated, at most VD_CAT_MSG_MAX bytes */
        char *data; /* NUL-terminated copy; len bytes */
        size_t len;
} vd_catitem;

/* Decode exactly `count` items, each at most max bytes of data; anything
 * else (a count that differs, a code not listed, a length over its bound,
 * trailing bytes) is VD_E_SOURCE. On success *ret holds count items. */
int vd_catfile_decode(const void *p, size_t n, size_t count, size_t max, vd_catitem **ret, vd_err *err);
/* The same, and the extra files: *paths (absolute, no NUL, at most
 * 4096 bytes) and *extra, *n_extra of them, count + *n_extra at
 * most VD_CAT_FILES_MAX. vd_catfile_decode refuses any extra. */
int vd_catfile_decode_extra(const void *p, size_t n, size_t count, size_t max, vd_catitem **ret, char ***paths,
                            vd_catitem **extra, size_t *n_extra, vd_err *err);
void vd_catitems_free(vd_catitem *v, size_t n);

#endif
