/* vd_buf: a growable byte buffer with a hard size cap (curl's dynbuf idea).
 *
 * The buffer owns buf; it is always NUL-terminated when non-empty so that it
 * can be used as a C string where the content has no NUL. Every append fails
 * with VD_E_LIMIT rather than grow past cap.
 */
#ifndef VD_BUF_H
#define VD_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"

typedef struct vd_buf {
        char *buf;
        size_t len;
        size_t alloc;
        size_t cap;
} vd_buf;

#define VD_BUF_DEFAULT_CAP ((size_t)256 << 20)

void vd_buf_init(vd_buf *b, size_t cap);
void vd_buf_release(vd_buf *b);
void vd_buf_reset(vd_buf *b);
/* Give up ownership of the bytes (never NULL on success; caller frees). */
char *vd_buf_detach(vd_buf *b, size_t *ret_len);

int vd_buf_add(vd_buf *b, const void *p, size_t n);
int vd_buf_addc(vd_buf *b, char c);
int vd_buf_adds(vd_buf *b, const char *s);
int vd_buf_addf(vd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vd_buf_vaddf(vd_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int vd_buf_add_u32(vd_buf *b, uint32_t v); /* little-endian */
int vd_buf_add_u64(vd_buf *b, uint64_t v); /* little-endian */

/* Reading back what vd_buf_add_* wrote, bounded: a cursor over bytes we did
 * not write ourselves (the walker's manifest, a baseline's blobs, a kept
 * report). Every read checks what is left; the first that cannot be done
 * sets bad, and every later one fails too, so a decoder may check each
 * result or only bad at the end. Borrows the bytes. */
typedef struct vd_rd {
        const unsigned char *p, *end;
        bool bad;
} vd_rd;
void vd_rd_init(vd_rd *r, const void *p, size_t n);
size_t vd_rd_left(const vd_rd *r);
/* The next n bytes (borrowed), or NULL. */
const unsigned char *vd_rd_take(vd_rd *r, size_t n);
bool vd_rd_bytes(vd_rd *r, void *dst, size_t n);
bool vd_rd_u32(vd_rd *r, uint32_t *v); /* little-endian; *v 0 on failure */
bool vd_rd_u64(vd_rd *r, uint64_t *v);

/* Growable arrays: make room for element n of the array at *(T **)pv, which
 * has room for *alloc elements of elem bytes; doubles from first. 0, or
 * VD_E_NOMEM (the array is left as it was). */
int vd_array_grow(void *pv, size_t *alloc, size_t n, size_t elem, size_t first);

#endif
