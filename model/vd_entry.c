#include "common/vd_str.h"
#include "model/vd_entry.h"

#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"

void vd_entries_init(vd_entries *es) {
        es->v = NULL;
        es->n = es->alloc = 0;
}

void vd_entries_release(vd_entries *es) {
        if (!es)
                return;
        for (size_t i = 0; i < es->n; i++)
                vd_entry_free(es->v[i]);
        free(es->v);
        vd_entries_init(es);
}

int vd_entries_push(vd_entries *es, vd_entry *e) {
        if (vd_array_grow(&es->v, &es->alloc, es->n, sizeof *es->v, 1024) < 0)
                return VD_E_NOMEM;
        es->v[es->n++] = e;
        return 0;
}

static int cmp_entry(const void *x, const void *y) {
        const vd_entry *a = *(const vd_entry *const *)x, *b = *(const vd_entry *const *)y;
        return vd_path_cmp(a->path, a->path_len, b->path, b->path_len);
}

void vd_entries_sort(vd_entries *es) {
        if (es->n > 1)
                qsort(es->v, es->n, sizeof *es->v, cmp_entry);
}

size_t vd_entries_index(const vd_entries *es, const char *path, size_t len) {
        size_t lo = 0, hi = es->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = vd_path_cmp(es->v[mid]->path, es->v[mid]->path_len, path, len);
                if (c == 0)
                        return mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return SIZE_MAX;
}

size_t vd_entries_lower_bound(const vd_entries *es, const char *path, size_t len) {
        size_t lo = 0, hi = es->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (vd_path_cmp(es->v[mid]->path, es->v[mid]->path_len, path, len) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

size_t vd_entries_glob_start(const vd_entries *es, const char *pattern, size_t *lit) {
        size_t l = strcspn(pattern, "*?[\\");
        while (l > 0 && pattern[l - 1] != '/')
                l--;
        size_t lo = 0, hi = es->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const vd_entry *e = es->v[mid];
                size_t m = e->path_len < l ? e->path_len : l;
                int c = memcmp(e->path, pattern, m);
                if (c < 0 || (c == 0 && e->path_len < l))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *lit = l;
        return lo;
}

const vd_entry *vd_entries_find(const vd_entries *es, const char *path, size_t len) {
        size_t i = vd_entries_index(es, path, len);
        return i == SIZE_MAX ? NULL : es->v[i];
}

static const vd_entry *list_find(void *ctx, const char *path, size_t len) { return vd_entries_find(ctx, path, len); }

static int list_each_prefix(void *ctx, const char *prefix, size_t len, int (*fn)(void *fctx, const vd_entry *e),
                            void *fctx) {
        const vd_entries *es = ctx;
        for (size_t i = vd_entries_lower_bound(es, prefix, len); i < es->n; i++) {
                const vd_entry *e = es->v[i];
                if (e->path_len < len || memcmp(e->path, prefix, len) != 0)
                        break;
                int r = fn(fctx, e);
                if (r)
                        return r;
        }
        return 0;
}

vd_entry_view vd_entry_view_of(const vd_entries *es) {
        return (vd_entry_view){list_find, list_each_prefix, (void *)es};
}

vd_entry *vd_entry_new(void) { return calloc(1, sizeof(vd_entry)); }

static bool opt_str_eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

bool vd_entry_equal(const vd_entry *a, const vd_entry *b) {
        if (vd_path_cmp(a->path, a->path_len, b->path, b->path_len) || a->type != b->type || a->status != b->status ||
            a->status_errno != b->status_errno || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
            a->size != b->size || a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns || a->ino != b->ino ||
            a->nlink != b->nlink || a->rdev != b->rdev || a->hash_algo != b->hash_algo || a->hash_len != b->hash_len ||
            memcmp(a->hash, b->hash, a->hash_len) || !opt_str_eq(a->uname, b->uname) || !opt_str_eq(a->gname, b->gname) ||
            a->target_len != b->target_len || (a->target_len && memcmp(a->target, b->target, a->target_len)) ||
            (a->target == NULL) != (b->target == NULL) || a->n_xattrs != b->n_xattrs)
                return false;
        for (size_t i = 0; i < a->n_xattrs; i++)
                if (strcmp(a->xattrs[i].name, b->xattrs[i].name) || a->xattrs[i].len != b->xattrs[i].len ||
                    memcmp(a->xattrs[i].value, b->xattrs[i].value, a->xattrs[i].len))
                        return false;
        return true;
}

vd_entry *vd_entry_dup(const vd_entry *e) {
        vd_entry *d = vd_entry_new();
        if (!d)
                return NULL;
        *d = *e;
        d->path = d->uname = d->gname = d->target = NULL;
        d->xattrs = NULL;
        d->n_xattrs = d->xattrs_alloc = 0;
        d->extents = NULL;
        d->blocks = NULL;
        bool ok = vd_entry_set_path(d, e->path, e->path_len) == 0;
        if (ok && e->blocks) {
                ok = (d->blocks = malloc(e->blocks_len ? e->blocks_len : 1)) != NULL;
                if (ok)
                        memcpy(d->blocks, e->blocks, e->blocks_len);
        }
        if (ok && e->uname)
                ok = (d->uname = strdup(e->uname)) != NULL;
        if (ok && e->gname)
                ok = (d->gname = strdup(e->gname)) != NULL;
        if (ok && e->target) {
                ok = (d->target = malloc(e->target_len + 1)) != NULL;
                if (ok)
                        memcpy(d->target, e->target, e->target_len + 1);
        }
        for (size_t i = 0; ok && i < e->n_xattrs; i++)
                ok = vd_entry_add_xattr(d, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len) == 0;
        if (!ok) {
                vd_entry_free(d);
                return NULL;
        }
        return d;
}

void vd_entry_free(vd_entry *e) {
        if (!e)
                return;
        free(e->path);
        free(e->uname);
        free(e->gname);
        free(e->target);
        for (size_t i = 0; i < e->n_xattrs; i++) {
                free(e->xattrs[i].name);
                free(e->xattrs[i].value);
        }
        free(e->xattrs);
        free(e->extents);
        free(e->blocks);
        free(e);
}

int vd_entry_set_path(vd_entry *e, const char *p, size_t n) {
        char *c = malloc(n + 1);
        if (!c)
                return VD_E_NOMEM;
        memcpy(c, p, n);
        c[n] = '\0';
        free(e->path);
        e->path = c;
        e->path_len = n;
        return 0;
}

int vd_entry_add_xattr(vd_entry *e, const char *name, const void *value, size_t len) {
        if (e->n_xattrs >= VD_XATTR_COUNT_MAX || len > VD_XATTR_VALUE_MAX || strlen(name) > VD_XATTR_NAME_MAX)
                return VD_E_LIMIT;
        if (vd_array_grow(&e->xattrs, &e->xattrs_alloc, e->n_xattrs, sizeof *e->xattrs, 4) < 0)
                return VD_E_NOMEM;
        vd_xattr *x = &e->xattrs[e->n_xattrs];
        x->name = strdup(name);
        x->value = malloc(len ? len : 1);
        if (!x->name || !x->value) {
                free(x->name);
                free(x->value);
                return VD_E_NOMEM;
        }
        if (len)
                memcpy(x->value, value, len);
        x->len = (uint32_t)len;
        e->n_xattrs++;
        return 0;
}

static int cmp_xattr(const void *x, const void *y) {
        return strcmp(((const vd_xattr *)x)->name, ((const vd_xattr *)y)->name);
}

void vd_entry_sort_xattrs(vd_entry *e) {
        if (e->n_xattrs > 1)
                qsort(e->xattrs, e->n_xattrs, sizeof *e->xattrs, cmp_xattr);
}

const char *vd_hash_algo_name(int a) {
        switch (a) {
        case VD_HASH_XXH3: return "xxh3-128";
        case VD_HASH_SHA256: return "sha256";
        default: return "none";
        }
}

int vd_hash_algo_from_name(const char *s) {
        if (strcmp(s, "xxh3-128") == 0 || strcmp(s, "xxh3") == 0)
                return VD_HASH_XXH3;
        if (strcmp(s, "sha256") == 0)
                return VD_HASH_SHA256;
        return VD_HASH_NONE;
}

int vd_hash_algo_len(int a) {
        switch (a) {
        case VD_HASH_XXH3: return 16;
        case VD_HASH_SHA256: return 32;
        default: return 0;
        }
}

/* Blob: u32 count, then per xattr: u32 name_len, name, u32 value_len, value. */
int vd_xattrs_encode(const vd_entry *e, vd_buf *out) {
        int r = vd_buf_add_u32(out, (uint32_t)e->n_xattrs);
        for (size_t i = 0; i < e->n_xattrs && r == 0; i++) {
                size_t nl = strlen(e->xattrs[i].name);
                r = vd_buf_add_u32(out, (uint32_t)nl);
                if (!r)
                        r = vd_buf_add(out, e->xattrs[i].name, nl);
                if (!r)
                        r = vd_buf_add_u32(out, e->xattrs[i].len);
                if (!r)
                        r = vd_buf_add(out, e->xattrs[i].value, e->xattrs[i].len);
        }
        return r;
}

int vd_xattrs_decode(vd_entry *e, const void *blob, size_t len, vd_err *err) {
        vd_rd rd;
        vd_rd_init(&rd, blob, len);
        uint32_t n;
        if (len == 0)
                return 0;
        if (!vd_rd_u32(&rd, &n) || n > VD_XATTR_COUNT_MAX)
                return vd_err_set(err, VD_E_BASELINE, "xattr record: bad count");
        for (uint32_t i = 0; i < n; i++) {
                uint32_t nl, vl;
                char name[VD_XATTR_NAME_MAX + 1];
                const unsigned char *np = vd_rd_u32(&rd, &nl) && nl && nl <= VD_XATTR_NAME_MAX ? vd_rd_take(&rd, nl)
                                                                                               : NULL;
                if (!np)
                        return vd_err_set(err, VD_E_BASELINE, "xattr record %u: bad name length", i);
                memcpy(name, np, nl);
                name[nl] = '\0';
                if (memchr(name, '\0', nl))
                        return vd_err_set(err, VD_E_BASELINE, "xattr record %u: NUL in name", i);
                const unsigned char *vp = vd_rd_u32(&rd, &vl) && vl <= VD_XATTR_VALUE_MAX ? vd_rd_take(&rd, vl) : NULL;
                if (!vp)
                        return vd_err_set(err, VD_E_BASELINE, "xattr record %u: bad value length", i);
                int r = vd_entry_add_xattr(e, name, vp, vl);
                if (r < 0)
                        return vd_err_set(err, r, "xattr record %u: cannot store", i);
        }
        if (vd_rd_left(&rd))
                return vd_err_set(err, VD_E_BASELINE, "xattr record: %zu trailing bytes", vd_rd_left(&rd));
        return 0;
}
