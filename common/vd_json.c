#include "common/vd_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"

#define DEF_BYTES ((size_t)64 << 20)
#define DEF_DEPTH 64u
#define DEF_NODES ((size_t)4 << 20)
#define DEF_STRING ((size_t)1 << 20)
#define CHUNK_MIN ((size_t)64 << 10)

struct vd_json_chunk {
        struct vd_json_chunk *next;
        size_t used, cap;
        _Alignas(max_align_t) char mem[];
};

typedef struct parser {
        const char *start, *p, *end;
        const char *name;
        vd_json_limits lim;
        size_t nodes;
        unsigned depth;
        struct vd_json_chunk *chunks;
        vd_err *err;
} parser;

static void *arena(parser *ps, size_t n) {
        n = (n + 15) & ~(size_t)15;
        struct vd_json_chunk *c = ps->chunks;
        if (!c || c->cap - c->used < n) {
                size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
                c = malloc(sizeof *c + cap);
                if (!c)
                        return NULL;
                c->used = 0;
                c->cap = cap;
                c->next = ps->chunks;
                ps->chunks = c;
        }
        void *r = c->mem + c->used;
        c->used += n;
        return r;
}

/* "name:line:col: what" at the parser's position. */
static int fail(parser *ps, int code, const char *what) {
        size_t line = 1, col = 1;
        for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
                if (*q == '\n') {
                        line++;
                        col = 1;
                } else if (((unsigned char)*q & 0xc0) != 0x80)
                        col++;
        }
        return vd_err_set(ps->err, code, "%s:%zu:%zu: %s", ps->name, line, col, what);
}

static void ws(parser *ps) {
        while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
                ps->p++;
}

static vd_json *node(parser *ps, int type) {
        if (++ps->nodes > ps->lim.max_nodes) {
                fail(ps, VD_E_LIMIT, "more values than the limit");
                return NULL;
        }
        vd_json *v = arena(ps, sizeof *v);
        if (!v) {
                vd_err_set(ps->err, VD_E_NOMEM, "out of memory");
                return NULL;
        }
        memset(v, 0, sizeof *v);
        v->type = type;
        return v;
}

static int hex4(parser *ps, unsigned *cp) {
        if (ps->end - ps->p < 4)
                return fail(ps, VD_E_SOURCE, "expected four hex digits after \\u");
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char h = ps->p[i];
                v <<= 4;
                if (h >= '0' && h <= '9')
                        v |= (unsigned)(h - '0');
                else if (h >= 'a' && h <= 'f')
                        v |= (unsigned)(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                        v |= (unsigned)(h - 'A' + 10);
                else
                        return fail(ps, VD_E_SOURCE, "expected four hex digits after \\u");
        }
        ps->p += 4;
        *cp = v;
        return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* A string at ps->p (the opening quote) into the arena. Decoded text is
 * never longer than its source, so the source's length sizes the copy. */
static int string(parser *ps, const char **ret, uint32_t *ret_len) {
        ps->p++;
        /* the common case first: no escape before the closing quote, so the
         * value is the bytes themselves (checked for control characters and,
         * where a byte is not ASCII, for UTF-8) */
        const char *close = memchr(ps->p, '"', (size_t)(ps->end - ps->p));
        if (close && !memchr(ps->p, '\\', (size_t)(close - ps->p))) {
                size_t n = (size_t)(close - ps->p);
                if (n > ps->lim.max_string)
                        return fail(ps, VD_E_LIMIT, "a string longer than the limit");
                unsigned char low = 0, high = 0;
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)ps->p[i];
                        low |= c < 0x20;
                        high |= c;
                }
                if (low) {
                        while ((unsigned char)*ps->p >= 0x20)
                                ps->p++;
                        return fail(ps, VD_E_SOURCE, "a control character in a string (must be escaped)");
                }
                if ((high & 0x80) && !vd_utf8_valid(ps->p, n))
                        return fail(ps, VD_E_SOURCE, "a string that is not UTF-8");
                char *o = arena(ps, n + 1);
                if (!o)
                        return vd_err_set(ps->err, VD_E_NOMEM, "out of memory");
                memcpy(o, ps->p, n);
                o[n] = '\0';
                ps->p = close + 1;
                *ret = o;
                *ret_len = (uint32_t)n;
                return 0;
        }
        const char *q = ps->p;
        while (q < ps->end && *q != '"')
                q += *q == '\\' ? 2 : 1;
        if (q >= ps->end)
                return fail(ps, VD_E_SOURCE, "a string without its closing quote");
        size_t raw = (size_t)(q - ps->p);
        if (raw > ps->lim.max_string)
                return fail(ps, VD_E_LIMIT, "a string longer than the limit");
        char *o = arena(ps, raw + 1);
        if (!o)
                return vd_err_set(ps->err, VD_E_NOMEM, "out of memory");
        size_t n = 0;
        while (*ps->p != '"') {
                unsigned char c = (unsigned char)*ps->p;
                if (c < 0x20)
                        return fail(ps, VD_E_SOURCE, "a control character in a string (must be escaped)");
                if (c != '\\') {
                        o[n++] = (char)c;
                        ps->p++;
                        continue;
                }
                ps->p++;
                char e = *ps->p++;
                switch (e) {
                case '"': o[n++] = '"'; break;
                case '\\': o[n++] = '\\'; break;
                case '/': o[n++] = '/'; break;
                case 'b': o[n++] = '\b'; break;
                case 'f': o[n++] = '\f'; break;
                case 'n': o[n++] = '\n'; break;
                case 'r': o[n++] = '\r'; break;
                case 't': o[n++] = '\t'; break;
                case 'u': {
                        unsigned cp, lo;
                        const char *esc = ps->p - 2; /* errors point at the escape */
                        int r = hex4(ps, &cp);
                        if (r < 0)
                                return r;
                        if (cp >= 0xdc00 && cp <= 0xdfff && (ps->p = esc))
                                return fail(ps, VD_E_SOURCE, "a lone low surrogate in a \\u escape");
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if ((ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') && (ps->p = esc))
                                        return fail(ps, VD_E_SOURCE, "a high surrogate without its low half");
                                ps->p += 2;
                                if ((r = hex4(ps, &lo)) < 0)
                                        return r;
                                if ((lo < 0xdc00 || lo > 0xdfff) && (ps->p = esc))
                                        return fail(ps, VD_E_SOURCE, "a high surrogate without its low half");
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        if (cp == 0 && (ps->p = esc))
                                return fail(ps, VD_E_SOURCE, "\\u0000 in a string (not accepted)");
                        n += put_utf8(o + n, cp);
                        break;
                }
                default:
                        ps->p--;
                        return fail(ps, VD_E_SOURCE, "an unknown escape in a string");
                }
        }
        ps->p++;
        o[n] = '\0';
        if (!vd_utf8_valid(o, n)) {
                ps->p = q;
                return fail(ps, VD_E_SOURCE, "a string that is not UTF-8");
        }
        *ret = o;
        *ret_len = (uint32_t)n;
        return 0;
}

static int number(parser *ps, vd_json *v) {
        const char *s = ps->p, *p = ps->p, *e = ps->end;
        if (p < e && *p == '-')
                p++;
        if (p >= e || *p < '0' || *p > '9')
                return fail(ps, VD_E_SOURCE, "expected a value");
        if (*p == '0')
                p++;
        else
                while (p < e && *p >= '0' && *p <= '9')
                        p++;
        if (p < e && *p == '.') {
                p++;
                if (p >= e || *p < '0' || *p > '9') {
                        ps->p = p;
                        return fail(ps, VD_E_SOURCE, "expected a digit after '.'");
                }
                while (p < e && *p >= '0' && *p <= '9')
                        p++;
        }
        if (p < e && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < e && (*p == '+' || *p == '-'))
                        p++;
                if (p >= e || *p < '0' || *p > '9') {
                        ps->p = p;
                        return fail(ps, VD_E_SOURCE, "expected a digit in an exponent");
                }
                while (p < e && *p >= '0' && *p <= '9')
                        p++;
        }
        size_t n = (size_t)(p - s);
        if (n > 4096)
                return fail(ps, VD_E_LIMIT, "a number longer than 4096 characters");
        char *o = arena(ps, n + 1);
        if (!o)
                return vd_err_set(ps->err, VD_E_NOMEM, "out of memory");
        memcpy(o, s, n);
        o[n] = '\0';
        v->s = o;
        v->n = (uint32_t)n;
        ps->p = p;
        return 0;
}

static int value(parser *ps, vd_json **ret);

static int container(parser *ps, vd_json *v, char close) {
        if (++ps->depth > ps->lim.max_depth)
                return fail(ps, VD_E_LIMIT, "nested deeper than the limit");
        ps->p++;
        ws(ps);
        vd_json **tail = &v->child;
        if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                ps->depth--;
                return 0;
        }
        for (;;) {
                ws(ps);
                const char *key = NULL;
                if (close == '}') {
                        uint32_t kl;
                        if (ps->p >= ps->end || *ps->p != '"')
                                return fail(ps, VD_E_SOURCE, "expected a member name (a string) in an object");
                        int r = string(ps, &key, &kl);
                        if (r < 0)
                                return r;
                        ws(ps);
                        if (ps->p >= ps->end || *ps->p != ':')
                                return fail(ps, VD_E_SOURCE, "expected ':' after a member name");
                        ps->p++;
                }
                vd_json *m = NULL;
                int r = value(ps, &m);
                if (r < 0)
                        return r;
                m->key = key;
                *tail = m;
                tail = &m->next;
                if (v->n == UINT32_MAX)
                        return fail(ps, VD_E_LIMIT, "more members than the limit");
                v->n++;
                ws(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (ps->p < ps->end && *ps->p == close) {
                        ps->p++;
                        ps->depth--;
                        return 0;
                }
                return fail(ps, VD_E_SOURCE,
                            close == '}' ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
        }
}

static int literal(parser *ps, const char *word) {
        size_t n = strlen(word);
        if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
                return fail(ps, VD_E_SOURCE, "expected a value");
        ps->p += n;
        return 0;
}

static int value(parser *ps, vd_json **ret) {
        ws(ps);
        if (ps->p >= ps->end)
                return fail(ps, VD_E_SOURCE, "expected a value, found the end");
        char c = *ps->p;
        int type = c == '{'                ? VD_JSON_OBJECT
                   : c == '['              ? VD_JSON_ARRAY
                   : c == '"'              ? VD_JSON_STRING
                   : c == 't' || c == 'f' ? VD_JSON_BOOL
                   : c == 'n'              ? VD_JSON_NULL
                                           : VD_JSON_NUMBER;
        vd_json *v = node(ps, type);
        if (!v)
                return ps->err->code ? ps->err->code : VD_E_NOMEM;
        int r;
        switch (type) {
        case VD_JSON_OBJECT: r = container(ps, v, '}'); break;
        case VD_JSON_ARRAY: r = container(ps, v, ']'); break;
        case VD_JSON_STRING: r = string(ps, &v->s, &v->n); break;
        case VD_JSON_BOOL:
                v->b = c == 't';
                r = literal(ps, v->b ? "true" : "false");
                break;
        case VD_JSON_NULL: r = literal(ps, "null"); break;
        default: r = number(ps, v); break;
        }
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static void free_chunks(struct vd_json_chunk *c) {
        while (c) {
                struct vd_json_chunk *n = c->next;
                free(c);
                c = n;
        }
}

static int parse(const char *text, size_t len, const char *name, const vd_json_limits *lim, vd_json_doc *doc,
                 struct vd_json_chunk *reuse, vd_err *err) {
        doc->root = NULL;
        doc->chunks = NULL;
        parser ps = {text, text, text + len, name ? name : "JSON", {0, 0, 0, 0}, 0, 0, reuse, err};
        if (lim)
                ps.lim = *lim;
        if (!ps.lim.max_bytes)
                ps.lim.max_bytes = DEF_BYTES;
        if (!ps.lim.max_depth)
                ps.lim.max_depth = DEF_DEPTH;
        if (!ps.lim.max_nodes)
                ps.lim.max_nodes = DEF_NODES;
        if (!ps.lim.max_string)
                ps.lim.max_string = DEF_STRING;
        if (len > ps.lim.max_bytes)
                return vd_err_set(err, VD_E_LIMIT, "%s: %zu bytes, more than the limit of %zu", ps.name, len,
                                  ps.lim.max_bytes);
        /* a UTF-8 byte order mark is not JSON (RFC 8259 8.1) but harmless */
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                ps.p += 3;
        vd_json *root = NULL;
        int r = value(&ps, &root);
        if (r == 0) {
                ws(&ps);
                if (ps.p != ps.end)
                        r = fail(&ps, VD_E_SOURCE, "text after the end of the JSON value");
        }
        if (r < 0) {
                if (reuse) /* kept for the next parse */
                        doc->chunks = ps.chunks;
                else
                        free_chunks(ps.chunks);
                return r;
        }
        doc->root = root;
        doc->chunks = ps.chunks;
        return 0;
}

int vd_json_parse(const char *text, size_t len, const char *name, const vd_json_limits *lim, vd_json_doc *doc,
                  vd_err *err) {
        return parse(text, len, name, lim, doc, NULL, err);
}

int vd_json_parse_again(const char *text, size_t len, const char *name, const vd_json_limits *lim, vd_json_doc *doc,
                        vd_err *err) {
        /* keep the largest chunk, emptied; a tree of the same size again
         * then costs no allocation */
        struct vd_json_chunk *keep = NULL, *c = doc->chunks;
        while (c) {
                struct vd_json_chunk *n = c->next;
                if (!keep || c->cap > keep->cap) {
                        free(keep);
                        keep = c;
                } else
                        free(c);
                c = n;
        }
        if (keep) {
                keep->next = NULL;
                keep->used = 0;
        }
        return parse(text, len, name, lim, doc, keep, err);
}

void vd_json_doc_release(vd_json_doc *doc) {
        if (!doc)
                return;
        free_chunks(doc->chunks);
        doc->chunks = NULL;
        doc->root = NULL;
}

const vd_json *vd_json_get(const vd_json *o, const char *key) {
        if (!o || o->type != VD_JSON_OBJECT)
                return NULL;
        for (const vd_json *m = o->child; m; m = m->next)
                if (strcmp(m->key, key) == 0)
                        return m;
        return NULL;
}

const char *vd_json_str(const vd_json *v) {
        return v && v->type == VD_JSON_STRING ? v->s : NULL;
}

const char *vd_json_get_str(const vd_json *o, const char *key) {
        return vd_json_str(vd_json_get(o, key));
}

const vd_json *vd_json_get_array(const vd_json *o, const char *key) {
        const vd_json *v = vd_json_get(o, key);
        return v && (v->type == VD_JSON_ARRAY || v->type == VD_JSON_OBJECT) ? v : NULL;
}

bool vd_json_int(const vd_json *v, int64_t *ret) {
        if (!v || v->type != VD_JSON_NUMBER || strpbrk(v->s, ".eE"))
                return false;
        errno = 0;
        char *end = NULL;
        long long x = strtoll(v->s, &end, 10);
        if (errno || !end || *end)
                return false;
        *ret = x;
        return true;
}

int vd_json_put_str(vd_buf *b, const char *p, size_t n) {
        int r = vd_buf_addc(b, '"');
        if (!r)
                r = vd_escape_json(b, p, n);
        return r ? r : vd_buf_addc(b, '"');
}

int vd_json_put_cstr(vd_buf *b, const char *s) {
        return s ? vd_json_put_str(b, s, strlen(s)) : vd_buf_adds(b, "null");
}

int vd_json_put_text(vd_buf *b, const char *s) {
        return vd_json_put_str(b, s ? s : "", s ? strlen(s) : 0);
}

int vd_json_put_b64(vd_buf *b, const void *p, size_t n) {
        int r = vd_buf_adds(b, "{\"b64\":\"");
        if (!r)
                r = vd_base64(b, p, n);
        return r ? r : vd_buf_adds(b, "\"}");
}
