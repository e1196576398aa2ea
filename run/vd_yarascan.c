/* YARA on what changed; see vd_yarascan.h. */
#define _GNU_SOURCE
#include "run/vd_yarascan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_log.h"
#include "analyse/vd_detect.h"
#include "common/vd_str.h"

#define PREFETCH_FILE_MAX ((size_t)1 << 20) /* read in the guest's batch; larger ones in pieces */
#define RANGE_PIECE ((size_t)4 << 20)

enum { SET_RULES = 1, SET_SECRETS = 2 };

/* One file matched: from the tap (during hashing) or read after the compare. */
typedef struct matched {
        char *path;
        size_t path_len;
        unsigned char hash[VD_HASH_MAX];
        uint8_t hash_len;
        uint64_t size, bytes; /* the file's size, the bytes matched */
        bool over, skipped, failed; /* over max_file; past max_total (not matched); unreadable */
        vd_yara_hits hits[2];       /* the operator's rules, the secret rules */
        char **named;               /* a persistence file: the programs it names (vd_detect.h) */
        size_t n_named;
} matched;

struct vd_yarascan {
        struct {
                const vd_yara *rules, *secrets;
                bool all;
        } rq;
        const vd_policy_yara *conf;
        const vd_entries *base;
        vd_content_tap tap;
        pthread_mutex_t mu;
        matched *m;
        size_t n, alloc;
        atomic_uint_fast64_t budget;
        atomic_int nomem;
};

static int sets_for(const vd_yarascan *ys, bool added) {
        int s = ys->rq.rules ? SET_RULES : 0;
        int sc = ys->conf->secrets;
        if (ys->rq.secrets && sc != VD_SECRETS_OFF && (ys->rq.all || added || sc == VD_SECRETS_CHANGED))
                s |= SET_SECRETS;
        return s;
}

static bool same_content(const vd_entry *a, const vd_entry *b) {
        return a && b && a->type == VD_T_REG && b->type == VD_T_REG && vd_entry_hash_known(a) &&
               vd_entry_hash_known(b) && a->hash_len == b->hash_len && !memcmp(a->hash, b->hash, a->hash_len);
}

static uint64_t cap_of(const vd_yarascan *ys, uint64_t size) {
        return size < ys->conf->max_file ? size : ys->conf->max_file;
}

/* Take n bytes of the scan's budget; false when it is spent. */
static bool take_budget(vd_yarascan *ys, uint64_t n) {
        uint_fast64_t used = atomic_fetch_add(&ys->budget, n);
        return used + n <= ys->conf->max_total;
}

/* Match data against the sets into m (bytes, hits, over). */
static int match_into(vd_yarascan *ys, matched *m, int sets, const void *data, size_t n, vd_err *err) {
        m->bytes = n;
        m->over = m->size > n;
        const vd_yara *y[2] = {ys->rq.rules, ys->rq.secrets};
        for (int k = 0; k < 2; k++)
                if ((sets & (1 << k)) &&
                    vd_yara_match(y[k], m->path, m->path_len, data, n, ys->conf->timeout_s, &m->hits[k], err) < 0)
                        return err->code;
        return 0;
}

static int push(vd_yarascan *ys, const matched *m) {
        pthread_mutex_lock(&ys->mu);
        int r = vd_array_grow(&ys->m, &ys->alloc, ys->n, sizeof *ys->m, 64);
        if (r == 0)
                ys->m[ys->n++] = *m;
        pthread_mutex_unlock(&ys->mu);
        return r;
}

static void matched_release(matched *m) {
        for (size_t i = 0; i < m->n_named; i++)
                free(m->named[i]);
        free(m->named);
        free(m->path);
        vd_yara_hits_release(&m->hits[0]);
        vd_yara_hits_release(&m->hits[1]);
}

static bool init_matched(matched *m, const vd_entry *e) {
        memset(m, 0, sizeof *m);
        vd_yara_hits_init(&m->hits[0]);
        vd_yara_hits_init(&m->hits[1]);
        m->size = e->size;
        m->hash_len = e->hash_len;
        memcpy(m->hash, e->hash, sizeof m->hash);
        m->path_len = e->path_len;
        if (!(m->path = malloc(e->path_len + 1)))
                return false;
        memcpy(m->path, e->path, e->path_len);
        m->path[e->path_len] = '\0';
        return true;
}

/* ---------------- the tap: bytes the host hashes ---------------- */

static int tap_sets(const vd_yarascan *ys, const vd_entry *e, bool after_hash) {
        if (e->type != VD_T_REG)
                return 0;
        if (ys->rq.all)
                return sets_for(ys, true);
        const vd_entry *b = vd_entries_find(ys->base, e->path, e->path_len);
        if (after_hash && same_content(b, e))
                return 0;
        return sets_for(ys, b == NULL);
}

static size_t tap_want(void *ctx, const vd_entry *e) {
        vd_yarascan *ys = ctx;
        return tap_sets(ys, e, false) ? (size_t)cap_of(ys, e->size) : 0;
}

/* The tap's record of what a persistence file names (its own path is the "by"). */
static int keep_named(void *ctx, const char *path, size_t len, const char *by) {
        (void)by;
        matched *m = ctx;
        if (m->n_named >= VD_PERSISTENCE_NAMED_MAX)
                return 0;
        char **nv = realloc(m->named, (m->n_named + 1) * sizeof *nv);
        if (!nv)
                return VD_E_NOMEM;
        m->named = nv;
        if (!(nv[m->n_named] = strndup(path, len)))
                return VD_E_NOMEM;
        m->n_named++;
        return 0;
}

static void tap_seen(void *ctx, const vd_entry *e, const void *data, size_t n) {
        vd_yarascan *ys = ctx;
        int sets = tap_sets(ys, e, true);
        if (!sets || atomic_load(&ys->nomem))
                return;
        matched m;
        if (!init_matched(&m, e)) {
                atomic_store(&ys->nomem, 1);
                return;
        }
        vd_err err = VD_ERR_INIT;
        if (!take_budget(ys, n))
                m.skipped = true;
        else if (match_into(ys, &m, sets, data, n, &err) < 0 ||
                 vd_persistence_named_in_text(m.path, m.path_len, data, n, keep_named, &m) < 0) {
                vd_debug("yara: %s", err.msg);
                atomic_store(&ys->nomem, 1);
                matched_release(&m);
                return;
        }
        if (push(ys, &m) < 0) {
                atomic_store(&ys->nomem, 1);
                matched_release(&m);
        }
}

/* The shipped secret rules, compiled once a process. */
static pthread_mutex_t secrets_mu = PTHREAD_MUTEX_INITIALIZER;
static vd_yara *secrets_rules;

static int shipped_secrets(const vd_yara **ret, vd_err *err) {
        pthread_mutex_lock(&secrets_mu);
        int r = secrets_rules ? 0 : vd_yara_load_secrets(&secrets_rules, err);
        *ret = secrets_rules;
        pthread_mutex_unlock(&secrets_mu);
        return r;
}

int vd_yarascan_new(const vd_yara_req *rq, const vd_policy *pol, const vd_entries *base, vd_yarascan **ret,
                    vd_err *err) {
        *ret = NULL;
        vd_yarascan probe = {.rq = {rq->rules, NULL, rq->all}, .conf = vd_policy_yara_conf(pol)};
        if (probe.conf->secrets != VD_SECRETS_OFF && shipped_secrets(&probe.rq.secrets, err) < 0)
                return err->code;
        /* the operator's rules hold the secret rules (examples/yara/secrets.yar
         * given again): one pass over each file, theirs, wherever they run */
        if (probe.rq.rules && probe.rq.secrets && vd_yara_covers(probe.rq.rules, probe.rq.secrets))
                probe.rq.secrets = NULL;
        if (!sets_for(&probe, true))
                return 0;
        vd_yarascan *ys = calloc(1, sizeof *ys);
        if (!ys)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        *ys = probe;
        ys->base = base;
        pthread_mutex_init(&ys->mu, NULL);
        ys->tap = (vd_content_tap){tap_want, tap_seen, ys};
        *ret = ys;
        return 0;
}

const vd_content_tap *vd_yarascan_tap(vd_yarascan *ys) { return ys && (ys->base || ys->rq.all) ? &ys->tap : NULL; }

void vd_yarascan_free(vd_yarascan *ys) {
        if (!ys)
                return;
        for (size_t i = 0; i < ys->n; i++)
                matched_release(&ys->m[i]);
        free(ys->m);
        pthread_mutex_destroy(&ys->mu);
        free(ys);
}

void vd_yara_req_key(const vd_yara_req *rq, char *out, size_t n) {
        snprintf(out, n, "yara=%s yara_all=%d", rq->rules ? vd_yara_digest(rq->rules) : "-", rq->all);
}

/* ---------------- after the compare ---------------- */

/* A file to match: a copy of what the view handed on. */
typedef struct cand {
        vd_entry e; /* path (owned), type, size, status, hash */
        int sets;
        matched *done; /* the tap's, for this content */
} cand;

typedef struct collect_ctx {
        vd_yarascan *ys;
        cand *c;
        size_t n, alloc;
        int r;
} collect_ctx;

static int add_cand(collect_ctx *cc, const vd_entry *e, int sets) {
        if (vd_array_grow(&cc->c, &cc->alloc, cc->n, sizeof *cc->c, 64) < 0)
                return cc->r = VD_E_NOMEM;
        cand *c = &cc->c[cc->n];
        memset(c, 0, sizeof *c);
        c->sets = sets;
        c->e.type = e->type;
        c->e.status = e->status;
        c->e.size = e->size;
        c->e.hash_len = e->hash_len;
        memcpy(c->e.hash, e->hash, sizeof c->e.hash);
        if (!(c->e.path = malloc(e->path_len + 1)))
                return cc->r = VD_E_NOMEM;
        memcpy(c->e.path, e->path, e->path_len);
        c->e.path[e->path_len] = '\0';
        c->e.path_len = e->path_len;
        cc->n++;
        return 0;
}

static int collect_all(void *ctx, const vd_entry *e) {
        collect_ctx *cc = ctx;
        if (!e || e->type != VD_T_REG)
                return 0;
        return add_cand(cc, e, sets_for(cc->ys, true)) < 0 ? 1 : 0;
}

static int cmp_matched(const void *x, const void *y) {
        const matched *a = x, *b = y;
        return vd_path_cmp(a->path, a->path_len, b->path, b->path_len);
}

static int cmp_cand(const void *x, const void *y) {
        const cand *a = x, *b = y;
        return vd_path_cmp(a->e.path, a->e.path_len, b->e.path, b->e.path_len);
}

/* The tap's record of this content, or NULL. */
static matched *tapped(vd_yarascan *ys, const vd_entry *e) {
        size_t lo = 0, hi = ys->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = vd_path_cmp(ys->m[mid].path, ys->m[mid].path_len, e->path, e->path_len);
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < ys->n && ys->m[lo].path_len == e->path_len && !memcmp(ys->m[lo].path, e->path, e->path_len) &&
            ys->m[lo].hash_len == e->hash_len && !memcmp(ys->m[lo].hash, e->hash, e->hash_len))
                return &ys->m[lo];
        return NULL;
}

/* Read c's first bytes (up to max_file) through the source. */
static int read_cand(vd_yarascan *ys, vd_source *src, const cand *c, vd_buf *out, vd_err *e2) {
        uint64_t want = cap_of(ys, c->e.size);
        if (c->e.size <= ys->conf->max_file)
                return src->ops->read_file(src, c->e.path, (size_t)want, out, e2);
        if (!src->ops->read_range)
                return vd_err_set(e2, VD_E_SOURCE, "this source cannot read part of a file");
        for (uint64_t off = 0; off < want;) {
                size_t k = want - off < RANGE_PIECE ? (size_t)(want - off) : RANGE_PIECE;
                size_t before = out->len;
                int r = src->ops->read_range(src, c->e.path, off, k, out, e2);
                if (r < 0)
                        return r;
                if (out->len == before)
                        break; /* shorter than it was */
                off += out->len - before;
        }
        return 0;
}

static int change(vd_event *ev, size_t *alloc, const char *attr, const char *v, bool num) {
        if (!v || !*v)
                return 0;
        char *s = strdup(v);
        if (!s)
                return VD_E_NOMEM;
        return vd_event_add_change(ev, alloc, attr, strlen(attr), (vd_val){NULL, 0, false},
                                   (vd_val){s, strlen(s), num}, NULL);
}

static int hit_event(const vd_yarascan *ys, const matched *m, const vd_yara_hit *h, const char *by, vd_events *out) {
        vd_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = h->secret ? VD_CH_SECRET : VD_CH_MALWARE;
        ev.ftype = VD_T_REG;
        ev.severity = h->severity >= 0 ? h->severity : h->secret ? VD_SEV_HIGH : ys->conf->severity;
        ev.rule = "yara";
        size_t alloc = 0;
        char line[32] = "", part[96] = "";
        if (h->line)
                snprintf(line, sizeof line, "%llu", (unsigned long long)h->line);
        if (m->over)
                snprintf(part, sizeof part, "first %llu of %llu bytes", (unsigned long long)m->bytes,
                         (unsigned long long)m->size);
        int r = (ev.path = malloc(m->path_len + 1)) ? 0 : VD_E_NOMEM;
        if (r == 0) {
                memcpy(ev.path, m->path, m->path_len);
                ev.path[m->path_len] = '\0';
                ev.path_len = m->path_len;
        }
        if (r == 0)
                r = change(&ev, &alloc, "yara.rule", h->rule, false);
        if (r == 0)
                r = change(&ev, &alloc, "yara.namespace", h->ns, false);
        if (r == 0)
                r = change(&ev, &alloc, "yara.tags", h->tags, false);
        if (r == 0)
                r = change(&ev, &alloc, "yara.description", h->description, false);
        if (r == 0)
                r = change(&ev, &alloc, "yara.author", h->author, false);
        if (r == 0)
                r = change(&ev, &alloc, "yara.reference", h->reference, false);
        if (r == 0)
                r = change(&ev, &alloc, "line", line, true);
        if (r == 0)
                r = change(&ev, &alloc, "yara.matched", part, false);
        if (r == 0 && by) /* a program persistence names, matched although unchanged */
                r = change(&ev, &alloc, "persistence", by, false);
        if (r == 0)
                r = vd_events_push(out, &ev);
        else
                vd_event_release(&ev);
        return r;
}

/* A secret rule the operator's rules hold too (examples/yara/secrets.yar
 * given with --yara): one event, the operator's. */
static bool also_operators(const matched *m, const vd_yara_hit *h) {
        for (size_t i = 0; i < m->hits[0].n; i++)
                if (!strcmp(m->hits[0].v[i].rule, h->rule) && !strcmp(m->hits[0].v[i].ns, h->ns))
                        return true;
        return false;
}

/* What one round of matching counted. */
typedef struct tally {
        uint64_t files, bytes, from_tap, over, skipped, timeouts;
} tally;

/* The programs persistence names (vd_detect.h), gathered while matching:
 * each with what names it. */
typedef struct named {
        char *path, *by;
        size_t len;
} named;
typedef struct named_list {
        named *v;
        size_t n, alloc;
        int r;
} named_list;

static int add_named(void *ctx, const char *path, size_t len, const char *by) {
        named_list *l = ctx;
        if (l->n >= 4096)
                return 0; /* bounded: a guest's file naming thousands is matched on its first ones */
        if (vd_array_grow(&l->v, &l->alloc, l->n, sizeof *l->v, 16) < 0)
                return l->r = VD_E_NOMEM;
        named *x = &l->v[l->n];
        x->path = strndup(path, len);
        x->by = strdup(by);
        x->len = len;
        if (!x->path || !x->by) {
                free(x->path);
                free(x->by);
                return l->r = VD_E_NOMEM;
        }
        l->n++;
        return 0;
}

static void named_release(named_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].path);
                free(l->v[i].by);
        }
        free(l->v);
}

/* Match candidate c (the tap's record of it, or read now), its events into
 * ev (marked with by: the persistence that names it, or NULL), what it
 * names into nl. */
static int match_cand(vd_yarascan *ys, vd_source *src, const cand *c, const char *by, vd_buf *buf, vd_events *ev,
                      vd_scan *scan, tally *t, named_list *nl, vd_err *err) {
        matched own, *m = c->done;
        int r = 0;
        if (m)
                t->from_tap++;
        else {
                if (!init_matched(&own, &c->e))
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                m = &own;
                vd_buf_reset(buf);
                vd_err e2 = VD_ERR_INIT;
                if (!take_budget(ys, cap_of(ys, c->e.size)))
                        own.skipped = true;
                else if (read_cand(ys, src, c, buf, &e2) < 0) {
                        if (e2.code == VD_E_NOMEM)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        else if (vd_scan_warn(scan, c->e.path, c->e.path_len, "not matched against the YARA rules: %s",
                                              e2.msg) < 0)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        own.failed = true;
                } else
                        r = match_into(ys, &own, c->sets, buf->buf ? buf->buf : "", buf->len, err);
                /* what a persistence file names, from the bytes just read */
                if (r == 0 && !own.skipped && !own.failed && nl &&
                    vd_persistence_named_in_text(own.path, own.path_len, buf->buf ? buf->buf : "", buf->len, add_named,
                                                 nl) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; r == 0 && nl && m == c->done && i < m->n_named; i++)
                if (add_named(nl, m->named[i], strlen(m->named[i]), m->path) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0 && m->skipped)
                t->skipped++;
        else if (r == 0 && !m->failed) {
                t->files++;
                t->bytes += m->bytes;
                t->over += m->over;
        }
        for (int k = 0; r == 0 && k < 2; k++) {
                for (size_t h = 0; r == 0 && h < m->hits[k].n; h++)
                        if (!(k == 1 && also_operators(m, &m->hits[1].v[h])) &&
                            hit_event(ys, m, &m->hits[k].v[h], by, ev) < 0)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                if (r == 0 && m->hits[k].more &&
                    vd_scan_warn(scan, m->path, m->path_len, "%zu more YARA rules matched than are reported (%d)",
                                 m->hits[k].more, VD_YARA_HITS_MAX) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                if (r == 0 && m->hits[k].timeout) {
                        t->timeouts++;
                        if (vd_scan_warn(scan, m->path, m->path_len,
                                         "YARA: the %s rules did not finish within %d s (yara.timeout): rules "
                                         "not yet decided are unknown for this file",
                                         k ? "secret" : "operator's", ys->conf->timeout_s) < 0)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
        }
        if (m == &own)
                matched_release(&own);
        return r;
}

static int cmp_named(const void *x, const void *y) {
        const named *a = x, *b = y;
        return vd_path_cmp(a->path, a->len, b->path, b->len);
}

static bool is_cand(const collect_ctx *cc, const char *path, size_t len) {
        size_t lo = 0, hi = cc->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = vd_path_cmp(cc->c[mid].e.path, cc->c[mid].e.path_len, path, len);
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

/* The programs persistence names that were not matched already: with the
 * operator's rules, whether or not they changed. */
static int match_named(vd_yarascan *ys, vd_source *src, const vd_entry_view *now, const collect_ctx *cc,
                       named_list *nl, vd_buf *buf, vd_events *ev, vd_scan *scan, tally *t, vd_err *err) {
        if (!ys->rq.rules || !nl->n)
                return 0;
        qsort(nl->v, nl->n, sizeof *nl->v, cmp_named);
        int r = 0;
        for (size_t i = 0; i < nl->n && r == 0; i++) {
                named *x = &nl->v[i];
                if ((i && cmp_named(&nl->v[i - 1], x) == 0) || is_cand(cc, x->path, x->len))
                        continue;
                const vd_entry *e = now->find(now->ctx, x->path, x->len);
                if (!e || e->type != VD_T_REG)
                        continue;
                collect_ctx one = {.ys = ys};
                if (add_cand(&one, e, SET_RULES) < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                one.c[0].done = tapped(ys, &one.c[0].e);
                r = match_cand(ys, src, &one.c[0], x->by, buf, ev, scan, t, NULL, err);
                free(one.c[0].e.path);
                free(one.c);
        }
        return r;
}

int vd_yarascan_finish(vd_yarascan *ys, vd_source *src, const vd_entry_view *now, const vd_entry_view *base,
                       vd_events *ev, vd_scan *scan, vd_err *err) {
        (void)base;
        if (!ys)
                return 0;
        int64_t t0 = vd_now_ns();
        if (atomic_load(&ys->nomem))
                return vd_err_set(err, VD_E_NOMEM, "out of memory while matching YARA rules");
        if (ys->n > 1)
                qsort(ys->m, ys->n, sizeof *ys->m, cmp_matched);
        /* what is to be matched: every regular file, or what the compare found added or changed */
        collect_ctx cc = {.ys = ys};
        if (ys->rq.all)
                now->each_prefix(now->ctx, "/", 1, collect_all, &cc);
        else
                for (size_t i = 0; i < ev->n && !cc.r; i++) {
                        const vd_event *e = &ev->v[i];
                        bool added = e->kind == VD_CH_ADDED;
                        if (e->config || e->package || e->fleet || e->ftype != VD_T_REG ||
                            !(added || (e->kind == VD_CH_CHANGED && (vd_event_find(e, "hash") || vd_event_find(e, "type")))))
                                continue;
                        const vd_entry *n = now->find(now->ctx, e->path, e->path_len);
                        int sets = sets_for(ys, added);
                        if (n && n->type == VD_T_REG && sets)
                                add_cand(&cc, n, sets);
                }
        int r = cc.r ? vd_err_set(err, VD_E_NOMEM, "out of memory") : 0;
        if (cc.n > 1)
                qsort(cc.c, cc.n, sizeof *cc.c, cmp_cand);
        /* the tap's first; the rest read, small ones in one batch */
        char **names = calloc(cc.n ? cc.n : 1, sizeof *names);
        size_t nn = 0;
        for (size_t i = 0; r == 0 && i < cc.n; i++) {
                cand *c = &cc.c[i];
                c->done = tapped(ys, &c->e);
                if (!c->done && c->e.size <= PREFETCH_FILE_MAX && c->e.size <= ys->conf->max_file && names &&
                    !memchr(c->e.path, '\0', c->e.path_len))
                        names[nn++] = c->e.path;
        }
        vd_err pe = VD_ERR_INIT;
        if (r == 0 && nn && vd_source_prefetch(src, (const char *const *)names, nn, PREFETCH_FILE_MAX, &pe) < 0 &&
            pe.code == VD_E_NOMEM)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        free(names);
        tally t = {0};
        named_list nl = {0};
        vd_buf buf;
        vd_buf_init(&buf, (size_t)ys->conf->max_file + 1);
        for (size_t i = 0; r == 0 && i < cc.n; i++)
                r = match_cand(ys, src, &cc.c[i], NULL, &buf, ev, scan, &t, &nl, err);
        /* then the programs persistence names: a Windows Run value's, a cron line's, a unit's */
        if (r == 0 && ys->rq.rules && vd_persistence_named_in_events(ev, add_named, &nl) < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0 && nl.r)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0)
                r = match_named(ys, src, now, &cc, &nl, &buf, ev, scan, &t, err);
        named_release(&nl);
        vd_buf_release(&buf);
        for (size_t i = 0; i < cc.n; i++)
                free(cc.c[i].e.path);
        free(cc.c);
        if (r == 0 && t.over &&
            vd_scan_warn(scan, NULL, 0, "YARA: %llu file%s larger than yara.max_file (%llu bytes): matched on %s first "
                         "%llu bytes only",
                         (unsigned long long)t.over, t.over == 1 ? "" : "s", (unsigned long long)ys->conf->max_file,
                         t.over == 1 ? "its" : "their", (unsigned long long)ys->conf->max_file) < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0 && t.skipped &&
            vd_scan_warn(scan, NULL, 0, "YARA: yara.max_total (%llu bytes) spent: %llu more file%s not matched",
                         (unsigned long long)ys->conf->max_total, (unsigned long long)t.skipped,
                         t.skipped == 1 ? "" : "s") < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        scan->st.yara = true;
        scan->st.yara_files = t.files;
        scan->st.yara_bytes = t.bytes;
        scan->st.yara_tapped = t.from_tap;
        scan->st.yara_over = t.over;
        scan->st.yara_skipped = t.skipped;
        scan->st.yara_timeouts = t.timeouts;
        scan->st.yara_ns = vd_now_ns() - t0;
        vd_debug("yara: %llu files matched (%llu from the host's hashing), %llu bytes, %llu over max_file, %llu past "
                 "max_total, %llu timed out",
                 (unsigned long long)t.files, (unsigned long long)t.from_tap, (unsigned long long)t.bytes,
                 (unsigned long long)t.over, (unsigned long long)t.skipped, (unsigned long long)t.timeouts);
        return r;
}
