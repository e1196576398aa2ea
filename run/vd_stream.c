/* A SCAN that streams (vd_stream_int.h). */
#include <stdlib.h>
#include <string.h>

#include "vd_stream_int.h"
#include "analyse/vd_compare.h"
#include "common/vd_log.h"
#include "common/vd_str.h"

struct vd_stream {
        const vd_run *run;
        vd_run_out *out;
        vd_baseline_iter *it;
        vd_cmp *cmp;
        /* the scan's entries that are not the baseline's (added, or
         * different in any recorded attribute), and the baseline's paths the
         * scan does not have: both in path order */
        vd_entries over, gone;
        bool keep; /* set by seen(): the entry just compared goes to over */
        int64_t since_ns, cmp_ns;
        size_t future;
        vd_entry *found; /* the last baseline entry a view looked up */
        vd_err view_err; /* the first failure of a view (sticky) */
};

static int base_next(void *ctx, const vd_entry **ret, vd_err *err) { return vd_baseline_iter_next(ctx, ret, err); }

static void seen(void *ctx, const vd_entry *o, const vd_entry *n) {
        vd_stream *s = ctx;
        s->keep = n && (!o || !vd_entry_equal(o, n));
        if (!n && !s->view_err.code) {
                vd_entry *g = vd_entry_new();
                if (!g || vd_entry_set_path(g, o->path, o->path_len) < 0 || vd_entries_push(&s->gone, g) < 0) {
                        vd_entry_free(g);
                        vd_err_set(&s->view_err, VD_E_NOMEM, "out of memory");
                }
        }
}

/* The guest's newest sign of life, as vd_run_exec's last_activity finds it. */
static int note_activity(vd_stream *s, const vd_entry *e) {
        vd_run_out *out = s->out;
        if (e->type != VD_T_REG || e->path_len < 10 || memcmp(e->path, "/var/log/", 9) != 0)
                return 0;
        if (e->mtime_ns > s->since_ns + (int64_t)86400 * 1000000000) {
                s->future++;
                return 0;
        }
        if (e->mtime_ns <= out->last_activity_ns)
                return 0;
        char *p = malloc(e->path_len + 1);
        if (!p)
                return VD_E_NOMEM;
        memcpy(p, e->path, e->path_len);
        p[e->path_len] = '\0';
        free(out->last_activity_buf);
        out->last_activity_buf = p;
        out->last_activity_ns = e->mtime_ns;
        out->last_activity_path = p;
        out->last_activity_path_len = e->path_len;
        return 0;
}

static int put(void *ctx, vd_entry *e, vd_err *err) {
        vd_stream *s = ctx;
        int64_t t = vd_mono_ns();
        int r = vd_cmp_put(s->cmp, e, err);
        s->cmp_ns += vd_mono_ns() - t;
        s->out->n_entries++;
        if (r == 0 && note_activity(s, e) < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0 && s->view_err.code)
                r = vd_err_set(err, s->view_err.code, "%s", s->view_err.msg);
        if (r == 0 && s->keep) {
                s->keep = false;
                if (vd_entries_push(&s->over, e) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else
                        return 0;
        }
        vd_entry_free(e);
        return r;
}

int vd_stream_walk(const vd_run *run, const vd_scan_opts *o, int64_t since_ns, vd_run_out *out, vd_stream **ret,
                   vd_err *err) {
        vd_stream *s = calloc(1, sizeof *s);
        if (!s)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        *ret = s;
        s->run = run;
        s->out = out;
        s->since_ns = since_ns;
        vd_entries_init(&s->over);
        vd_entries_init(&s->gone);
        int r = vd_baseline_iter_new(run->base, &s->it, err);
        if (r == 0)
                r = vd_cmp_new(run->policy, base_next, s->it, &out->events, &s->cmp, err);
        if (r < 0)
                return r;
        vd_cmp_observe(s->cmp, seen, s);
        vd_cmp_facts(s->cmp, &out->scan);
        vd_scan_opts so = *o;
        vd_entry_sink sink = {put, s};
        so.sink = &sink;
        if ((r = vd_source_scan(run->src, &so, &out->scan, err)) < 0)
                return r;
        int64_t t = vd_mono_ns();
        r = vd_cmp_end(s->cmp, err); /* the baseline's rest, and its digest checked */
        s->cmp_ns += vd_mono_ns() - t;
        if (r == 0 && s->view_err.code)
                r = vd_err_set(err, s->view_err.code, "%s", s->view_err.msg);
        if (r < 0)
                return r;
        out->compare_ns = s->cmp_ns;
        vd_debug("streamed: %zu entries, %zu kept as differences, %zu gone; %zu events", out->n_entries, s->over.n,
                 s->gone.n, out->events.n);
        if (s->future && vd_scan_warn(&out->scan, "/var/log", 8, "%zu files have modification times more than a day "
                                      "ahead of this host's clock: not taken as signs of life", s->future) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        return 0;
}

/* ---- a capture ---- */

struct capture {
        vd_baseline_writer *w;
        vd_run_out *out;
};

static int put_written(void *ctx, vd_entry *e, vd_err *err) {
        struct capture *c = ctx;
        int r = vd_baseline_writer_put(c->w, e, err);
        c->out->n_entries++;
        vd_entry_free(e);
        return r;
}

int vd_stream_capture(const vd_run *run, const vd_scan_opts *o, vd_run_out *out, vd_err *err) {
        struct capture c = {run->writer, out};
        vd_scan_opts so = *o;
        vd_entry_sink sink = {put_written, &c};
        so.sink = &sink;
        int r = vd_source_scan(run->src, &so, &out->scan, err);
        if (r == 0)
                vd_debug("captured as walked: %zu entries", out->n_entries);
        return r;
}

/* ---- the views ---- */

static void view_failed(vd_stream *s, const vd_err *e) {
        if (!s->view_err.code)
                s->view_err = *e;
}

static const vd_entry *base_lookup(vd_stream *s, const char *path, size_t len) {
        vd_entry_free(s->found);
        s->found = NULL;
        vd_err e = VD_ERR_INIT;
        int r = vd_baseline_lookup(s->run->base, path, len, &s->found, &e);
        if (r < 0)
                view_failed(s, &e);
        return r == 0 ? s->found : NULL;
}

static const vd_entry *now_find(void *ctx, const char *path, size_t len) {
        vd_stream *s = ctx;
        const vd_entry *e = vd_entries_find(&s->over, path, len);
        if (e)
                return e;
        if (vd_entries_find(&s->gone, path, len))
                return NULL;
        return base_lookup(s, path, len);
}

/* The baseline's entries under a prefix, merged with the scan's differences. */
struct merge {
        vd_stream *s;
        const char *prefix;
        size_t len, i; /* the next of over to give */
        int (*fn)(void *fctx, const vd_entry *e);
        void *fctx;
};

static bool in_prefix(const vd_entry *e, const char *p, size_t len) {
        return e->path_len >= len && memcmp(e->path, p, len) == 0;
}

/* over's entries before path (all: path NULL) */
static int over_before(struct merge *m, const char *path, size_t len) {
        const vd_entries *ov = &m->s->over;
        for (; m->i < ov->n; m->i++) {
                const vd_entry *e = ov->v[m->i];
                if (!in_prefix(e, m->prefix, m->len) ||
                    (path && vd_path_cmp(e->path, e->path_len, path, len) >= 0))
                        break;
                int r = m->fn(m->fctx, e);
                if (r)
                        return r;
        }
        return 0;
}

static int merge_one(void *ctx, const vd_entry *b) {
        struct merge *m = ctx;
        int r = over_before(m, b->path, b->path_len);
        if (r)
                return r;
        const vd_entries *ov = &m->s->over;
        if (m->i < ov->n && vd_path_cmp(ov->v[m->i]->path, ov->v[m->i]->path_len, b->path, b->path_len) == 0)
                return m->fn(m->fctx, ov->v[m->i++]); /* the scan's, not the baseline's */
        if (vd_entries_find(&m->s->gone, b->path, b->path_len))
                return 0;
        return m->fn(m->fctx, b);
}

static int now_each_prefix(void *ctx, const char *prefix, size_t len, int (*fn)(void *fctx, const vd_entry *e),
                           void *fctx) {
        vd_stream *s = ctx;
        struct merge m = {s, prefix, len, vd_entries_lower_bound(&s->over, prefix, len), fn, fctx};
        vd_err e = VD_ERR_INIT;
        int r = vd_baseline_each_prefix(s->run->base, prefix, len, merge_one, &m, &e);
        if (r < 0 && e.code)
                view_failed(s, &e);
        return r ? r : over_before(&m, NULL, 0);
}

static const vd_entry *base_find(void *ctx, const char *path, size_t len) { return base_lookup(ctx, path, len); }

static int base_each_prefix(void *ctx, const char *prefix, size_t len, int (*fn)(void *fctx, const vd_entry *e),
                            void *fctx) {
        vd_stream *s = ctx;
        vd_err e = VD_ERR_INIT;
        int r = vd_baseline_each_prefix(s->run->base, prefix, len, fn, fctx, &e);
        if (r < 0 && e.code)
                view_failed(s, &e);
        return r;
}

vd_entry_view vd_stream_now(vd_stream *s) { return (vd_entry_view){now_find, now_each_prefix, s}; }

vd_entry_view vd_stream_base(vd_stream *s) { return (vd_entry_view){base_find, base_each_prefix, s}; }

int vd_stream_check(const vd_stream *s, vd_err *err) {
        return s->view_err.code ? vd_err_set(err, s->view_err.code, "%s", s->view_err.msg) : 0;
}

void vd_stream_free(vd_stream *s) {
        if (!s)
                return;
        vd_cmp_free(s->cmp);
        vd_baseline_iter_free(s->it);
        vd_entries_release(&s->over);
        vd_entries_release(&s->gone);
        vd_entry_free(s->found);
        free(s);
}
