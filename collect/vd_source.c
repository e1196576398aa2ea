#include "collect/vd_source.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"

void vd_scan_opts_init(vd_scan_opts *o) {
        memset(o, 0, sizeof *o);
        o->hash_algo = VD_HASH_XXH3;
}

/* ---- id maps from the source's own passwd / group ---- */

struct idpair {
        uint32_t id;
        size_t pos; /* line order: the first name given for an id wins, as getpwuid */
        char *name;
};

struct vd_idmap {
        struct idpair *v;
        size_t n;
};

static int cmp_idpos(const void *a, const void *b) {
        const struct idpair *x = a, *y = b;
        if (x->id != y->id)
                return x->id < y->id ? -1 : 1;
        return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Parse one "name:x:id:..." line; false if it is not one. */
static bool parse_idline(const char *p, const char *le, const char **ret_name_end, uint32_t *ret_id) {
        const char *c1 = memchr(p, ':', (size_t)(le - p));
        if (!c1 || c1 == p || (size_t)(c1 - p) > VD_OWNER_NAME_MAX || *p == '+' || *p == '-' ||
            memchr(p, '\0', (size_t)(c1 - p)))
                return false;
        const char *c2 = memchr(c1 + 1, ':', (size_t)(le - c1 - 1));
        if (!c2)
                return false;
        const char *q = c2 + 1;
        uint64_t id = 0;
        if (q >= le || *q < '0' || *q > '9')
                return false;
        for (; q < le && *q != ':'; q++) {
                if (*q < '0' || *q > '9')
                        return false;
                id = id * 10 + (uint64_t)(*q - '0');
                if (id > UINT32_MAX)
                        return false;
        }
        *ret_name_end = c1;
        *ret_id = (uint32_t)id;
        return true;
}

int vd_idmap_parse(const char *text, size_t len, vd_idmap **ret) {
        vd_idmap *m = calloc(1, sizeof *m);
        size_t alloc = 0;
        if (!m)
                return VD_E_NOMEM;
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end, *name_end;
                uint32_t id;
                if (parse_idline(p, le, &name_end, &id)) {
                        if (m->n == alloc) {
                                alloc = alloc ? alloc * 2 : 64;
                                struct idpair *nv = realloc(m->v, alloc * sizeof *nv);
                                if (!nv)
                                        goto nomem;
                                m->v = nv;
                        }
                        char *name = strndup(p, (size_t)(name_end - p));
                        if (!name)
                                goto nomem;
                        m->v[m->n] = (struct idpair){id, m->n, name};
                        m->n++;
                }
                p = nl ? nl + 1 : end;
        }
        if (m->n > 1)
                qsort(m->v, m->n, sizeof *m->v, cmp_idpos);
        size_t k = 0;
        for (size_t i = 0; i < m->n; i++) {
                if (k > 0 && m->v[k - 1].id == m->v[i].id) {
                        free(m->v[i].name);
                        continue;
                }
                m->v[k++] = m->v[i];
        }
        m->n = k;
        *ret = m;
        return 0;
nomem:
        vd_idmap_free(m);
        return VD_E_NOMEM;
}

const char *vd_idmap_get(const vd_idmap *m, uint32_t id) {
        if (!m)
                return NULL;
        size_t lo = 0, hi = m->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (m->v[mid].id == id)
                        return m->v[mid].name;
                if (m->v[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

void vd_idmap_free(vd_idmap *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n; i++)
                free(m->v[i].name);
        free(m->v);
        free(m);
}

/* Read etc/passwd or etc/group of the source; NULL map if it has none. */
static int load_idmap(vd_source *src, const char *path, vd_scan *s, vd_idmap **ret, vd_err *err) {
        vd_buf b;
        vd_buf_init(&b, VD_READ_FILE_MAX);
        vd_err e2 = VD_ERR_INIT;
        *ret = NULL;
        int r = src->ops->read_file(src, path, VD_READ_FILE_MAX, &b, &e2);
        if (r < 0) {
                vd_buf_release(&b);
                /* Not a root file system (or no such file): owners stay numeric. */
                if (r == VD_E_IO)
                        return 0;
                if (r == VD_E_NOMEM)
                        return vd_err_set(err, r, "%s", e2.msg);
                /* Too large (a guest can pad it): owners stay numeric, and
                 * everything else is still reported. */
                const char *why = e2.msg;
                size_t pl = strlen(path);
                if (strncmp(why, path, pl) == 0 && why[pl] == ':' && why[pl + 1] == ' ')
                        why += pl + 2;
                if (vd_scan_warn(s, path, pl, "%s: owners shown as numbers only (a file this large is suspicious)",
                                 why) < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                return 0;
        }
        r = vd_idmap_parse(b.buf ? b.buf : "", b.len, ret);
        vd_buf_release(&b);
        if (r < 0)
                return vd_err_set(err, r, "cannot parse %s", path);
        return 1;
}

/* The source's own users and groups, which name owners. */
struct owners {
        vd_idmap *users, *groups;
        const vd_entry_sink *next; /* streaming: where named entries go */
};

static int owners_load(vd_source *src, vd_scan *s, struct owners *ow, vd_err *err) {
        int ru = load_idmap(src, "/etc/passwd", s, &ow->users, err);
        if (ru < 0)
                return ru;
        int rg = load_idmap(src, "/etc/group", s, &ow->groups, err);
        if (rg < 0) {
                vd_idmap_free(ow->users);
                ow->users = NULL;
                return rg;
        }
        s->owners_resolved = ru > 0;
        return 0;
}

static void owners_free(struct owners *ow) {
        vd_idmap_free(ow->users);
        vd_idmap_free(ow->groups);
}

static int owners_name(const struct owners *ow, vd_entry *e) {
        const char *u = vd_idmap_get(ow->users, e->uid), *g = vd_idmap_get(ow->groups, e->gid);
        if (u && !e->uname && !(e->uname = strdup(u)))
                return VD_E_NOMEM;
        if (g && !e->gname && !(e->gname = strdup(g)))
                return VD_E_NOMEM;
        return 0;
}

/* The streaming source's sink: each entry named, then handed on. */
static int owners_put(void *ctx, vd_entry *e, vd_err *err) {
        const struct owners *ow = ctx;
        if (owners_name(ow, e) < 0) {
                vd_entry_free(e);
                return vd_err_set(err, VD_E_NOMEM, "out of memory resolving owners");
        }
        return ow->next->put(ow->next->ctx, e, err);
}

/* Options that need the whole walk before the first entry is final. */
static bool can_stream(const vd_source *src, const vd_scan_opts *o) {
        return src->ops->streams && !o->reference && !o->delta && !o->delta_reference && !o->walk_reference &&
               !o->extents_min && !o->record_blocks;
}

/* A collected walk, sorted, handed on entry by entry. */
static int feed(vd_scan *out, const vd_entry_sink *sink, vd_err *err) {
        int r = 0;
        size_t i = 0;
        for (; i < out->entries.n && r == 0; i++) {
                vd_entry *e = out->entries.v[i];
                out->entries.v[i] = NULL;
                r = sink->put(sink->ctx, e, err);
        }
        for (; i < out->entries.n; i++)
                vd_entry_free(out->entries.v[i]);
        out->entries.n = 0;
        return r;
}

int vd_source_scan(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        vd_scan_init(out);
        out->started_ns = vd_now_ns();
        out->hash_algo = o->hash_algo;
        int64_t t0 = vd_mono_ns();
        struct owners ow = {NULL, NULL, o->sink};
        int r;
        if (o->sink && can_stream(src, o)) {
                vd_scan_opts so = *o;
                vd_entry_sink named = {owners_put, &ow};
                so.sink = &named;
                r = owners_load(src, out, &ow, err);
                if (r == 0)
                        r = src->ops->scan(src, &so, out, err);
        } else {
                vd_scan_opts so = *o;
                so.sink = NULL;
                r = src->ops->scan(src, &so, out, err);
                /* A source may resolve owners itself (the in-appliance walker does). */
                if (r == 0 && !out->owners_resolved && (r = owners_load(src, out, &ow, err)) == 0)
                        for (size_t i = 0; i < out->entries.n && r == 0; i++)
                                if (owners_name(&ow, out->entries.v[i]) < 0)
                                        r = vd_err_set(err, VD_E_NOMEM, "out of memory resolving owners");
                if (r == 0)
                        vd_entries_sort(&out->entries);
                if (r == 0 && o->sink)
                        r = feed(out, o->sink, err);
        }
        owners_free(&ow);
        if (r < 0) {
                vd_scan_release(out);
                return r;
        }
        out->duration_ns = vd_mono_ns() - t0;
        return 0;
}

void vd_source_close(vd_source *src) {
        if (!src)
                return;
        src->ops->close(src);
}

int vd_source_prefetch(vd_source *src, const char *const *paths, size_t n, size_t max, vd_err *err) {
        return src->ops->prefetch ? src->ops->prefetch(src, paths, n, max, err) : 0;
}

bool vd_mountpoint_ok(const char *mp) {
        size_t n = strlen(mp);
        if (n == 0 || n > 1024 || mp[0] != '/')
                return false;
        if (n == 1)
                return true;
        for (const char *p = mp + 1;;) {
                const char *e = strchr(p, '/');
                size_t cl = e ? (size_t)(e - p) : strlen(p);
                if ((cl == 1 && p[0] == '.') || (cl == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < cl; i++)
                        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                                return false;
                if (!e)
                        return true;
                p = e + 1;
        }
}
