/* vd_json: a strict, bounded JSON reader (RFC 8259) for input we did not
 * write: OSV advisory records, qemu-img's answers about images.
 *
 * vd_json_parse builds a tree in one arena that the document owns; every
 * node and string it hands out lives until vd_json_doc_release. Strings are
 * decoded (escapes, surrogate pairs) and NUL-terminated; one that would hold
 * a NUL byte or is not UTF-8 is refused, so callers may use them as C
 * strings. Numbers keep their text. Objects keep their members in file
 * order; a duplicate key is kept and vd_json_get returns the first.
 *
 * Limits (vd_json_limits, 0 = the default) bound the text, the nesting, the
 * nodes and each string, so memory is at most a small multiple of the text
 * whatever it holds. Errors name the input, line and column, and what was
 * expected: "advisories/DSA-1.json:3:14: expected ',' or '}' in an object".
 */
#ifndef VD_JSON_H
#define VD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"

enum vd_json_type {
        VD_JSON_NULL = 0,
        VD_JSON_BOOL = 1,
        VD_JSON_NUMBER = 2,
        VD_JSON_STRING = 3,
        VD_JSON_ARRAY = 4,
        VD_JSON_OBJECT = 5,
};

typedef struct vd_json {
        int type;                    /* enum vd_json_type */
        bool b;                      /* VD_JSON_BOOL */
        uint32_t n;                  /* members of an array or object; bytes of a string or number */
        const char *s;               /* a string's value, or a number's text */
        const char *key;             /* a member of an object: its key; else NULL */
        struct vd_json *child, *next; /* first member; next member of the parent */
} vd_json;

typedef struct vd_json_limits {
        size_t max_bytes;  /* default 64 MiB */
        unsigned max_depth; /* default 64 */
        size_t max_nodes;  /* default 4 Mi */
        size_t max_string; /* default 1 MiB */
} vd_json_limits;

typedef struct vd_json_doc {
        vd_json *root;
        struct vd_json_chunk *chunks; /* the arena */
} vd_json_doc;

/* Parse text (len bytes; no NUL needed) into doc; name labels errors (a
 * file's path). On failure doc is empty and err says where and why
 * (VD_E_SOURCE for malformed text, VD_E_LIMIT for a limit reached). */
int vd_json_parse(const char *text, size_t len, const char *name, const vd_json_limits *lim, vd_json_doc *doc,
                  vd_err *err);
void vd_json_doc_release(vd_json_doc *doc);
/* Like vd_json_parse, reusing the memory of doc's previous tree (gone
 * after this call): for many documents in a row. doc must be zeroed or hold
 * the result of an earlier parse (failed or not); release it once at the
 * end. On failure doc->root is NULL and doc keeps its memory. */
int vd_json_parse_again(const char *text, size_t len, const char *name, const vd_json_limits *lim, vd_json_doc *doc,
                        vd_err *err);

/* The first member of object o named key; NULL if o is not an object or has
 * none. */
const vd_json *vd_json_get(const vd_json *o, const char *key);
/* v's string, or NULL if v is NULL or not a string. */
const char *vd_json_str(const vd_json *v);
/* The string member key of o, or NULL. */
const char *vd_json_get_str(const vd_json *o, const char *key);
/* v as an integer (a number without fraction or exponent, in range):
 * true and *ret set; else false and *ret untouched. */
bool vd_json_int(const vd_json *v, int64_t *ret);
/* Member key of o if it is an array (or object), else NULL. */
const vd_json *vd_json_get_array(const vd_json *o, const char *key);

/* ---- writing: the one JSON writer, appending to a vd_buf; each returns
 * vd_buf_add's result (0, or out of room) ---- */
/* "p[0..n)" escaped (invalid UTF-8 as U+FFFD, vd_escape_json) */
int vd_json_put_str(vd_buf *b, const char *p, size_t n);
/* s as a string; NULL: null */
int vd_json_put_cstr(vd_buf *b, const char *s);
/* s as a string; NULL: "" */
int vd_json_put_text(vd_buf *b, const char *s);
/* {"b64":"..."}: bytes that are not text, exactly */
int vd_json_put_b64(vd_buf *b, const void *p, size_t n);

#endif
