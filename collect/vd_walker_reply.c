/* The walker's answer lines (see vd_walker_reply.h). */
#define _GNU_SOURCE
#include "collect/vd_walker_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Printable ASCII, 1 to max bytes. */
static bool printable(const char *s, size_t n, size_t max) {
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
                        return false;
        return true;
}

/* The n bytes at l into out (cap bytes), cut, anything unprintable as '?'. */
static void copy_shown(char *out, size_t cap, const char *l, size_t n) {
        size_t k = n < cap - 1 ? n : cap - 1;
        for (size_t i = 0; i < k; i++)
                out[i] = (unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e ? '?' : l[i];
        out[k] = '\0';
}

/* At *p (before e): the literal s (consumed), or false. */
static bool lit(const char **p, const char *e, const char *s) {
        size_t n = strlen(s);
        if ((size_t)(e - *p) < n || memcmp(*p, s, n) != 0)
                return false;
        *p += n;
        return true;
}

/* At *p: 1 to 20 decimal digits that fit 64 bits (consumed), or false. */
static bool digits(const char **p, const char *e, uint64_t *v) {
        uint64_t x = 0;
        const char *q = *p;
        for (; q < e && *q >= '0' && *q <= '9' && q - *p < 20; q++) {
                if (x > (UINT64_MAX - (uint64_t)(*q - '0')) / 10)
                        return false;
                x = x * 10 + (uint64_t)(*q - '0');
        }
        if (q == *p || (q < e && *q >= '0' && *q <= '9'))
                return false;
        *p = q;
        *v = x;
        return true;
}

/* "PREFIX<decimal>" exactly, the number at most 20 digits. */
static bool number_after(const char *l, size_t n, const char *prefix, uint64_t *v) {
        const char *p = l, *e = l + n;
        return lit(&p, e, prefix) && digits(&p, e, v) && p == e;
}

static int add_geometry(vd_walker_reply *r, const char *l, size_t n) {
        if (n < 10 || n > 300 || r->n_geometry >= VD_WALKER_GEOMETRY_MAX || !printable(l, n, 300))
                return 0;
        const char *k = l + 9, *sp = memchr(k, ' ', n - 9);
        if (!sp || sp - k >= 48)
                return 0;
        if (r->n_geometry % 16 == 0) {
                vd_fact *g = realloc(r->geometry, (r->n_geometry + 16) * sizeof *g);
                if (!g)
                        return VD_E_NOMEM;
                r->geometry = g;
        }
        vd_fact *f = &r->geometry[r->n_geometry];
        if (asprintf(&f->key, "fs.ext4.%.*s", (int)(sp - k), k) < 0)
                return VD_E_NOMEM;
        if (!(f->value = strndup(sp + 1, (size_t)(l + n - sp - 1)))) {
                free(f->key);
                return VD_E_NOMEM;
        }
        r->n_geometry++;
        return 0;
}

static int take_line(vd_walker_reply *r, const char *l, size_t n) {
        uint64_t a, b;
        if (n > 7 && strncmp(l, "mounts ", 7) == 0) {
                if (!r->mounts && printable(l + 7, n - 7, VD_DELTA_MOUNTS_MAX) && !(r->mounts = strndup(l + 7, n - 7)))
                        return VD_E_NOMEM;
        } else if (n == 17 && strncmp(l, "walk changed-only", 17) == 0) {
                r->walk_changed_only = true;
        } else if (n > 12 && strncmp(l, "walk whole: ", 12) == 0) {
                copy_shown(r->walk_whole, sizeof r->walk_whole, l + 12, n - 12);
        } else if (n > 8 && strncmp(l, "inodes: ", 8) == 0) {
                const char *p = l, *e = l + n;
                if (lit(&p, e, "inodes: ") && digits(&p, e, &a) &&
                    lit(&p, e, " answered from the baseline's records, ") && digits(&p, e, &b) && lit(&p, e, " read") &&
                    p == e) {
                        r->have_inodes = true;
                        r->inodes_recorded = a;
                        r->inodes_read = b;
                }
        } else if (n > 13 && strncmp(l, "cat failed: ", 12) == 0) {
                copy_shown(r->cat_failed, sizeof r->cat_failed, l + 12, n - 12);
        } else if (number_after(l, n, "cat ", &a)) {
                r->have_cat = true;
                r->cat_files = a;
        } else if (n > 7 && strncmp(l, "times: ", 7) == 0) {
                copy_shown(r->times, sizeof r->times, l, n);
        } else if (n > 9 && strncmp(l, "geometry ", 9) == 0) {
                return add_geometry(r, l, n);
        }
        return 0;
}

int vd_walker_reply_parse(const char *text, size_t len, vd_walker_reply *ret, vd_err *err) {
        memset(ret, 0, sizeof *ret);
        if (len > VD_WALKER_REPLY_MAX)
                return vd_err_set(err, VD_E_LIMIT, "the walker's answer is longer than %zu bytes", VD_WALKER_REPLY_MAX);
        const char *end = text + len, *l = text;
        for (bool first = true; l < end; first = false) {
                const char *nl = memchr(l, '\n', (size_t)(end - l));
                size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);
                int r = first ? (copy_shown(ret->summary, sizeof ret->summary, l, n), 0) : take_line(ret, l, n);
                if (r < 0) {
                        vd_walker_reply_release(ret);
                        return vd_err_set(err, r, "out of memory");
                }
                l += n + 1;
        }
        return 0;
}

void vd_walker_reply_release(vd_walker_reply *r) {
        for (size_t i = 0; i < r->n_geometry; i++) {
                free(r->geometry[i].key);
                free(r->geometry[i].value);
        }
        free(r->geometry);
        free(r->mounts);
        memset(r, 0, sizeof *r);
}
