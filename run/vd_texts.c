/* Files' text for diffs; see vd_texts.h. */
#define _GNU_SOURCE
#include "run/vd_texts.h"

#include <stdlib.h>
#include <string.h>

#include "collect/vd_hash.h"
#include "common/vd_str.h"
#include "formats/vd_diff.h"
#include "formats/vd_mask.h"

/* Is e a file whose text the policy keeps? */
static bool wanted(const vd_texts_ctx *c, const vd_entry *e, uint64_t max_file) {
        return e && e->type == VD_T_REG && vd_entry_hash_known(e) && e->size <= max_file &&
               vd_policy_content(c->policy, e->path, e->path_len) && !vd_mask_never_store(e->path, e->path_len);
}

static char *cpath(const vd_entry *e) {
        if (memchr(e->path, '\0', e->path_len))
                return NULL;
        return strndup(e->path, e->path_len);
}

/* e's text, masked, into out: 0, 1 when it cannot be had as the walk saw
 * it (unreadable, or changed since: said as a warning), or VD_E_NOMEM. */
static int read_text(const vd_texts_ctx *c, const vd_entry *e, uint64_t max_file, vd_buf *out, vd_err *err) {
        char *p = cpath(e);
        if (!p)
                return 1;
        vd_buf raw;
        vd_buf_init(&raw, (size_t)max_file + 1);
        vd_err e2 = VD_ERR_INIT;
        int r = c->src->ops->read_file(c->src, p, (size_t)max_file, &raw, &e2);
        free(p);
        if (r == VD_E_NOMEM) {
                vd_buf_release(&raw);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        unsigned char h[VD_HASH_MAX];
        int hl = -1;
        if (r == 0) {
                vd_hasher *hs = vd_hasher_new(c->hash_algo, c->seed);
                if (hs && vd_hasher_update(hs, raw.buf ? raw.buf : "", raw.len) == 0)
                        hl = vd_hasher_final(hs, h);
                vd_hasher_free(hs);
        }
        int res = 0;
        if (r < 0 || hl != (int)e->hash_len || memcmp(h, e->hash, e->hash_len) != 0) {
                /* not the content the walk hashed: no text rather than another's */
                if (vd_scan_warn(c->scan, e->path, e->path_len, "text not kept for its diff: %s",
                                 r < 0 ? e2.msg : "it changed since it was hashed") < 0)
                        res = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else
                        res = 1;
        } else if (vd_mask_secrets(raw.buf ? raw.buf : "", raw.len, c->seed, VD_HASH_SEED_LEN, out, NULL) < 0)
                res = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_buf_release(&raw);
        return res;
}

/* What the walk of a view hands on lives for the call only: what a read needs, copied. */
typedef struct wanted_file {
        vd_entry e; /* path (owned), type, size, status, hash */
        bool over;  /* over max_file: counted, not read */
} wanted_file;

typedef struct capture_walk {
        const vd_texts_ctx *c;
        uint64_t max_file, max_total;
        vd_contents *out;
        wanted_file *files;
        size_t n, alloc;
        size_t over_file, over_total;
        int r;
} capture_walk;

static int collect_one(void *ctx, const vd_entry *e) {
        capture_walk *w = ctx;
        if (!e || e->type != VD_T_REG || !vd_policy_content(w->c->policy, e->path, e->path_len) ||
            vd_mask_never_store(e->path, e->path_len))
                return 0;
        bool over = e->size > w->max_file;
        if (!over && !wanted(w->c, e, w->max_file))
                return 0;
        if (vd_array_grow(&w->files, &w->alloc, w->n, sizeof *w->files, 64) < 0) {
                w->r = VD_E_NOMEM;
                return 1;
        }
        wanted_file *f = &w->files[w->n];
        memset(f, 0, sizeof *f);
        f->over = over;
        f->e.type = e->type;
        f->e.status = e->status;
        f->e.size = e->size;
        f->e.hash_algo = e->hash_algo;
        f->e.hash_len = e->hash_len;
        memcpy(f->e.hash, e->hash, sizeof f->e.hash);
        if (!(f->e.path = malloc(e->path_len + 1))) {
                w->r = VD_E_NOMEM;
                return 1;
        }
        memcpy(f->e.path, e->path, e->path_len);
        f->e.path[e->path_len] = '\0';
        f->e.path_len = e->path_len;
        w->n++;
        return 0;
}

static void free_files(wanted_file *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(f[i].e.path);
        free(f);
}

/* The directory a pattern's matches are all under: its literal part, cut
 * after a '/' ("/etc/" for "/etc/" + "**"), as configuration items find theirs. */
static size_t pattern_dir(const char *pattern) {
        size_t n = strcspn(pattern, "*?[\\");
        if (!pattern[n])
                return n; /* a literal path: itself */
        while (n > 0 && pattern[n - 1] != '/')
                n--;
        return n;
}

static int cmp_file(const void *x, const void *y) {
        const wanted_file *a = x, *b = y;
        return vd_path_cmp(a->e.path, a->e.path_len, b->e.path, b->e.path_len);
}

int vd_texts_capture(const vd_texts_ctx *c, const vd_entry_view *now, vd_contents *out, vd_err *err) {
        if (!vd_policy_has_content(c->policy))
                return 0;
        capture_walk w = {.c = c, .out = out};
        vd_policy_content_limits(c->policy, &w.max_file, &w.max_total);
        const vd_pat *pats;
        size_t np = vd_policy_content_patterns(c->policy, &pats);
        for (size_t i = 0; i < np && !w.r; i++) {
                size_t dl = pattern_dir(pats[i].text);
                now->each_prefix(now->ctx, dl ? pats[i].text : "/", dl ? dl : 1, collect_one, &w);
        }
        /* patterns that overlap (/etc/ and /etc/ssh/) hand a file on more than once: once each */
        if (w.n > 1)
                qsort(w.files, w.n, sizeof *w.files, cmp_file);
        size_t k = 0;
        for (size_t i = 0; i < w.n; i++) {
                if (k && cmp_file(&w.files[k - 1], &w.files[i]) == 0) {
                        free(w.files[i].e.path);
                        continue;
                }
                w.files[k++] = w.files[i];
        }
        w.n = k;
        if (w.r) {
                free_files(w.files, w.n);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        /* one batch for a guest (one appliance command), then each from it */
        char **names = calloc(w.n ? w.n : 1, sizeof *names);
        size_t nn = 0;
        for (size_t i = 0; names && i < w.n; i++)
                if (!w.files[i].over && (names[nn] = cpath(&w.files[i].e)))
                        nn++;
        vd_err e2 = VD_ERR_INIT;
        if (names && nn && vd_source_prefetch(c->src, (const char *const *)names, nn, (size_t)w.max_file, &e2) < 0 &&
            e2.code == VD_E_NOMEM)
                w.r = VD_E_NOMEM;
        for (size_t i = 0; names && i < nn; i++)
                free(names[i]);
        free(names);
        int r = w.r ? vd_err_set(err, VD_E_NOMEM, "out of memory") : 0;
        vd_buf t;
        vd_buf_init(&t, (size_t)VD_CONTENT_FILE_MAX * 4);
        for (size_t i = 0; i < w.n && r == 0; i++) {
                const vd_entry *e = &w.files[i].e;
                if (w.files[i].over) {
                        w.over_file++;
                        continue;
                }
                if (out->text_bytes + e->size > w.max_total) {
                        w.over_total++;
                        continue;
                }
                vd_buf_reset(&t);
                int rr = read_text(c, e, w.max_file, &t, err);
                if (rr < 0)
                        r = rr;
                else if (rr == 0 && vd_contents_put(out, e->hash, e->hash_len, t.buf ? t.buf : "", t.len) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        vd_buf_release(&t);
        free_files(w.files, w.n);
        if (r == 0 && w.over_file &&
            vd_scan_warn(c->scan, NULL, 0, "content: %zu file%s over max_file (%llu bytes) keep%s no text for diffs",
                         w.over_file, w.over_file == 1 ? "" : "s", (unsigned long long)w.max_file,
                         w.over_file == 1 ? "s" : "") < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0 && w.over_total &&
            vd_scan_warn(c->scan, NULL, 0, "content: max_total (%llu bytes) reached: %zu more file%s keep%s no text for diffs",
                         (unsigned long long)w.max_total, w.over_total, w.over_total == 1 ? "" : "s",
                         w.over_total == 1 ? "s" : "") < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_contents_sort(out);
        return r;
}

int vd_texts_diff(const vd_texts_ctx *c, const vd_entry_view *now, const vd_entry_view *base,
                  const vd_contents *base_text, vd_events *ev, vd_contents *out, vd_err *err) {
        if (!vd_policy_has_content(c->policy))
                return 0;
        uint64_t max_file, max_total;
        vd_policy_content_limits(c->policy, &max_file, &max_total);
        vd_buf old, cur, d;
        vd_buf_init(&old, (size_t)VD_CONTENT_FILE_MAX + 1);
        vd_buf_init(&cur, (size_t)VD_CONTENT_FILE_MAX * 4);
        vd_buf_init(&d, VD_DIFF_MAX * 2);
        int r = 0;
        for (size_t i = 0; i < ev->n && r == 0; i++) {
                vd_event *e = &ev->v[i];
                if (e->config || e->package || e->fleet || e->diff ||
                    (e->kind != VD_CH_CHANGED && e->kind != VD_CH_ADDED) ||
                    (e->kind == VD_CH_CHANGED && !vd_event_find(e, "hash")))
                        continue;
                const vd_entry *n = now->find(now->ctx, e->path, e->path_len);
                if (!wanted(c, n, max_file))
                        continue;
                const vd_content *ct = NULL;
                if (e->kind == VD_CH_CHANGED) {
                        const vd_entry *o = base->find(base->ctx, e->path, e->path_len);
                        ct = o && o->type == VD_T_REG && o->hash_len ? vd_contents_find(base_text, o->hash, o->hash_len)
                                                                     : NULL;
                        if (!ct)
                                continue; /* no text kept of what it was: no diff */
                }
                vd_buf_reset(&old);
                vd_buf_reset(&cur);
                vd_buf_reset(&d);
                int cr = ct ? vd_content_text(ct, &old) : 0;
                if (cr == VD_E_NOMEM) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                if (cr < 0) {
                        if (vd_scan_warn(c->scan, e->path, e->path_len, "the baseline's text of it is damaged: no diff") < 0)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        continue;
                }
                int rr = read_text(c, n, max_file, &cur, err);
                if (rr < 0) {
                        r = rr;
                        break;
                }
                if (rr > 0)
                        continue;
                int dr = vd_diff_unified(e->path, ct ? (old.buf ? old.buf : "") : NULL, old.len, cur.buf ? cur.buf : "",
                                         cur.len, VD_DIFF_MAX, &d);
                if (dr == VD_E_NOMEM) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                if (dr == 0 && d.len && !(e->diff = strndup(d.buf, d.len)))
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else if (dr == 0 && d.len)
                        e->diff_len = d.len;
                if (r == 0 && out && out->text_bytes + cur.len <= max_total &&
                    vd_contents_put(out, n->hash, n->hash_len, cur.buf ? cur.buf : "", cur.len) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        vd_buf_release(&old);
        vd_buf_release(&cur);
        vd_buf_release(&d);
        if (out)
                vd_contents_sort(out);
        return r;
}
