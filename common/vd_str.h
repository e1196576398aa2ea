/* String helpers for untrusted bytes: names from a guest may hold any byte
 * but NUL and '/', newlines and invalid UTF-8 included. Nothing here assumes
 * text; every function takes an explicit length.
 */
#ifndef VD_STR_H
#define VD_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"

/* True if p[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool vd_utf8_valid(const char *p, size_t n);

/* True if p[0..n) is valid UTF-8 with no control character and none of the
 * invisible characters that reorder or hide text (C1, bidi overrides and
 * isolates, U+2028/2029, zero-width and format characters, tags). */
bool vd_text_clean(const char *p, size_t n);
/* Append a form of p safe for a terminal: printable ASCII and valid UTF-8 as
 * is; backslash as "\\"; \n \t \r as such; every other control byte and every
 * byte of invalid UTF-8 as "\xNN", and so are the bytes of the invisible
 * characters vd_text_clean refuses. Unambiguous: it can be decoded back. */
int vd_escape_display(vd_buf *out, const char *p, size_t n);
/* The same, a backslash shown as itself: for registry keys and Windows
 * paths, where it is the separator. A control byte is still escaped, so a
 * name cannot break a line; "\n" in such text may be the two characters. */
int vd_escape_display_win(vd_buf *out, const char *p, size_t n);
/* A guest path as Windows shows it on drive ("C:\\Windows\\hosts" for
 * "/Windows/hosts"); what Windows names cannot hold as %XX ('%' as %25): an
 * ntfs-3g name with a backslash or a newline cannot pose as two. */
int vd_escape_display_winpath(vd_buf *out, char drive, const char *p, size_t n);

/* Append p as the body of a JSON string (without quotes). Invalid UTF-8 bytes
 * become U+FFFD; callers that need the exact bytes also emit base64. */
int vd_escape_json(vd_buf *out, const char *p, size_t n);

int vd_base64(vd_buf *out, const void *p, size_t n);
int vd_hex(vd_buf *out, const void *p, size_t n);
/* Lowercase hex of p[0..n) into out, which holds 2n+1 bytes (NUL-terminated). */
void vd_hex_to(char *out, const void *p, size_t n);
/* Exactly 2n hex digits (either case, nothing else) into out[0..n). */
bool vd_unhex(const char *hex, void *out, size_t n);

/* RFC 3339 UTC with nanoseconds: 2026-11-22T08:43:59.123456789Z. */
int vd_time_rfc3339(vd_buf *out, int64_t ns);

/* Now, in ns since the epoch (CLOCK_REALTIME) and monotonic. */
int64_t vd_now_ns(void);
int64_t vd_mono_ns(void);

/* A file's identity for remembering what was read from it: the same device,
 * inode, size, mtime and ctime. */
struct stat;
bool vd_stat_same(const struct stat *a, const struct stat *b);
/* Unchanged (mtime and ctime) for margin_ns before before_ns (CLOCK_REALTIME
 * ns): only then can a later change not hide behind a coarse timestamp. */
bool vd_stat_settled(const struct stat *st, int64_t before_ns, int64_t margin_ns);

/* Normalise an absolute path lexically in place: "//" and "." dropped, ".."
 * removes the previous component and stays at "/" at the root (as the
 * kernel resolves it inside a chroot). Returns the new length (>= 1). */
size_t vd_path_normalize(char *path, size_t len);
/* The order of paths everywhere (entries, baselines, reports): bytewise. */
int vd_path_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Parse a decimal non-negative integer fully; false on junk or overflow. */
bool vd_parse_u64(const char *s, uint64_t *ret);

/* A growable vector of owned strings: push a copy of s (VD_E_NOMEM on
 * failure, *v unchanged); free the n strings and the vector. */
int vd_strv_push(char ***v, size_t *n, size_t *alloc, const char *s);
void vd_strv_free(char **v, size_t n);

#endif
