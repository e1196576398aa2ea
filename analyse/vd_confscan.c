#define _GNU_SOURCE
#include "analyse/vd_confscan.h"
#include "analyse/vd_detect.h"
#include "formats/vd_catfile.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/vd_compare.h"
#include "common/vd_str.h"
#include "formats/vd_hive.h"
#include "vd_confscan_int.h"

#define MAX_LINKS 8


/* Resolve path (symlinks included) inside the source's tree to a regular
 * file entry, or NULL. Never consults the host's file system. */
static const vd_entry *resolve(const vd_entry_view *es, const char *path, size_t len, char *buf, size_t bufsz) {
        char cur[4096];
        if (len >= sizeof cur)
                return NULL;
        memcpy(cur, path, len);
        cur[len] = '\0';
        for (int hop = 0; hop <= MAX_LINKS; hop++) {
                const vd_entry *e = es->find(es->ctx, cur, strlen(cur));
                if (!e)
                        return NULL;
                if (e->type == VD_T_REG) {
                        snprintf(buf, bufsz, "%s", cur);
                        return e->status == VD_ST_OK || e->status == VD_ST_CHANGING ? e : NULL;
                }
                if (e->type != VD_T_LNK || !e->target || e->target_len == 0 || e->target_len >= sizeof cur ||
                    memchr(e->target, '\0', e->target_len))
                        return NULL;
                char joined[8192];
                if (e->target[0] == '/')
                        snprintf(joined, sizeof joined, "%.*s", (int)e->target_len, e->target);
                else {
                        char *slash = strrchr(cur, '/');
                        size_t dl = slash ? (size_t)(slash - cur) : 0;
                        snprintf(joined, sizeof joined, "%.*s/%.*s", (int)dl, cur, (int)e->target_len, e->target);
                }
                /* Normalise ".", ".." and "//" lexically; ".." at the root
                 * stays at the root, as the kernel does in a chroot. */
                char out[4096];
                size_t ol = 0;
                const char *p = joined;
                while (*p) {
                        while (*p == '/')
                                p++;
                        const char *q = p;
                        while (*q && *q != '/')
                                q++;
                        size_t cl = (size_t)(q - p);
                        if (cl == 0)
                                break;
                        if (cl == 1 && p[0] == '.') {
                        } else if (cl == 2 && p[0] == '.' && p[1] == '.') {
                                while (ol > 0 && out[ol - 1] != '/')
                                        ol--;
                                if (ol > 0)
                                        ol--;
                        } else {
                                if (ol + 1 + cl >= sizeof out)
                                        return NULL;
                                out[ol++] = '/';
                                memcpy(out + ol, p, cl);
                                ol += cl;
                        }
                        p = q;
                }
                if (ol == 0)
                        out[ol++] = '/';
                out[ol] = '\0';
                memcpy(cur, out, ol + 1);
        }
        return NULL;
}

/* The regular files (after symlinks) matching pattern, in path order. */
typedef int (*file_fn)(cctx *c, const char *file, void *ctx);

struct match {
        cctx *c;
        const char *pattern;
        file_fn fn;
        void *ctx;
};

static int match_one(void *mctx, const vd_entry *e) {
        struct match *m = mctx;
        cctx *c = m->c;
        char real[4096];
        if (e->type != VD_T_REG && e->type != VD_T_LNK)
                return 0;
        if ((!c->including && memchr(e->path, '\n', e->path_len)) || !vd_glob_match(m->pattern, e->path, e->path_len))
                return 0;
        if (!resolve(c->entries, e->path, e->path_len, real, sizeof real))
                return 0;
        int r = m->fn(c, e->path, m->ctx);
        return r < 0 ? r : 0;
}

static int each_match(cctx *c, const char *pattern, file_fn fn, void *ctx) {
        size_t lit = strcspn(pattern, "*?[\\");
        char real[4096];
        if (pattern[lit] == '\0') {
                if (!resolve(c->entries, pattern, lit, real, sizeof real))
                        return 0;
                return fn(c, real, ctx);
        }
        /* the candidates: the entries under the pattern's literal directory */
        while (lit > 0 && pattern[lit - 1] != '/')
                lit--;
        struct match m = {c, pattern, fn, ctx};
        return c->entries->each_prefix(c->entries->ctx, pattern, lit, match_one, &m);
}

/* 0: read; 1: absent or unreadable (said as a warning); 2: over a limit
 * (said in *limit, for a finding). */
static int read_source(cctx *c, const char *file, vd_buf *b, vd_err *limit) {
        char real[4096];
        if (!resolve(c->entries, file, strlen(file), real, sizeof real))
                return 1;
        vd_err e2 = VD_ERR_INIT;
        int r = c->src->ops->read_file(c->src, real, VD_CONF_FILE_MAX, b, &e2);
        if (r == VD_E_LIMIT && limit) {
                *limit = e2;
                return 2;
        }
        if (r < 0) {
                if (vd_scan_warn(c->scan, file, strlen(file), "configuration not read: %s", e2.msg) < 0)
                        return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
                return 1;
        }
        return 0;
}

/* Includes (sshd Include, sudoers @include): expand in the source's tree. */
typedef struct inc_ctx {
        vd_conf_each_fn each;
        void *ctx2;
} inc_ctx;

static int inc_file(cctx *c, const char *file, void *ctx) {
        inc_ctx *ic = ctx;
        vd_buf b;
        vd_buf_init(&b, VD_CONF_FILE_MAX + 1);
        vd_err limit = VD_ERR_INIT;
        int r = read_source(c, file, &b, &limit);
        if (r == 0)
                r = ic->each(file, b.buf ? b.buf : "", b.len, ic->ctx2);
        else if (r == 2) /* an included file over a limit: the includer is only partly read */
                r = vd_err_set(c->err, VD_E_LIMIT, "%s", limit.msg);
        vd_buf_release(&b);
        return r < 0 ? r : 0;
}

static int include_cb(void *ctx, const char *pattern, vd_conf_each_fn each, void *ctx2, vd_err *err) {
        cctx *c = ctx;
        inc_ctx ic = {each, ctx2};
        bool was = c->including;
        c->including = true;
        int r = each_match(c, pattern, inc_file, &ic);
        c->including = was;
        return r;
}

static int keyed(const unsigned char *key, size_t key_len, const char *v, size_t n, char out[72]) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)v, n, mac, &ml) || ml != 32)
                return VD_E_INTERNAL;
        memcpy(out, "keyed:", 6);
        vd_hex_to(out + 6, mac, 32);
        out[6 + 64] = '\0';
        return 0;
}

typedef struct viol_ctx {
        vd_events *out;
        const vd_confset *set;
        vd_event ev;
        size_t alloc;
        int sev;
} viol_ctx;

static int dup_val(vd_val *v, const char *s, size_t n) {
        v->s = malloc(n + 1);
        if (!v->s)
                return VD_E_NOMEM;
        memcpy(v->s, s, n);
        v->s[n] = '\0';
        v->len = n;
        v->num = false;
        return 0;
}

static int push_change(vd_event *ev, size_t *alloc, const char *attr, const char *ov, size_t ol, const char *nv,
                       size_t nl, const char *note) {
        vd_val o = {0}, n = {0};
        char *nt = note ? strdup(note) : NULL;
        if ((ov && dup_val(&o, ov, ol) < 0) || (nv && dup_val(&n, nv, nl) < 0) || (note && !nt)) {
                free(o.s);
                free(n.s);
                free(nt);
                return VD_E_NOMEM;
        }
        return vd_event_add_change(ev, alloc, attr, strlen(attr), o, n, nt);
}

static void event_free(vd_event *ev) {
        vd_event_release(ev);
        memset(ev, 0, sizeof *ev);
}

static int on_violation(void *ctx, const vd_conf_item *it, const vd_check *c, const vd_setting *s, const char *msg) {
        viol_ctx *vc = ctx;
        char note[VD_CONF_VALUE_MAX + 128];
        if (s && s->line)
                snprintf(note, sizeof note, "%s (%s:%u)", msg, s->file, s->line);
        else if (s) /* a registry value */
                snprintf(note, sizeof note, "%s (%s)", msg, s->file);
        else
                snprintf(note, sizeof note, "%s", msg);
        bool secret = s && vd_conf_item_secret(it, s->key);
        const char *nv = s ? (secret ? "(secret)" : s->value) : NULL;
        if (push_change(&vc->ev, &vc->alloc, c->key, NULL, 0, nv, nv ? strlen(nv) : 0, note) < 0)
                return VD_E_NOMEM;
        if (it->severity > vc->sev)
                vc->sev = it->severity;
        return 0;
}


/* A guest with a hundred thousand home directories would otherwise make
 * /home/STAR/.ssh/authorized_keys a hundred thousand reads. */
#define ITEM_FILES_MAX 1000

int vd_confscan_finish_set(cctx *c, item_run *ir, vd_confset *set) {
        const vd_conf_item *it = ir->it;
        vd_settings_sort(&set->s);
        /* Desired state on the clear values, then hash the secrets. */
        viol_ctx vc = {.out = ir->violations, .set = set, .sev = -1};
        int r = vd_conf_check(it, &set->s, on_violation, &vc);
        if (r == 0 && vc.ev.n_ch) {
                vc.ev.kind = VD_CH_VIOLATION;
                vc.ev.path = strdup(set->path);
                vc.ev.path_len = strlen(set->path);
                vc.ev.ftype = VD_T_REG;
                vc.ev.severity = vc.sev;
                vc.ev.rule = "config";
                vc.ev.config = vd_conf_format_name(it->format);
                r = vc.ev.path ? vd_events_push(ir->violations, &vc.ev) : VD_E_NOMEM;
        }
        if (r < 0)
                event_free(&vc.ev);
        for (size_t i = 0; r == 0 && i < set->s.n; i++) {
                vd_setting *s = &set->s.v[i];
                if (!vd_conf_item_secret(it, s->key))
                        continue;
                char h[72];
                r = keyed(ir->key, ir->key_len, s->value, s->value_len, h);
                if (r == 0) {
                        free(s->value);
                        s->value = strdup(h);
                        s->value_len = strlen(h);
                        s->secret = true;
                        if (!s->value)
                                r = VD_E_NOMEM;
                }
        }
        if (r < 0)
                return vd_err_set(c->err, r == VD_E_NOMEM ? VD_E_NOMEM : VD_E_INTERNAL,
                                  "cannot record the configuration of %s", set->path);
        return 0;
}

/* A configuration file that reached one of our limits was only partly read
 * (or not at all). A real one rarely does and a hostile guest pads files to
 * get there, so it is a finding of its own, at least high: a scan that could
 * not read a sudoers file must not pass --fail-on high. */
int vd_confscan_limit(cctx *c, item_run *ir, const char *file, const char *why) {
        if (vd_scan_warn(c->scan, file, strlen(file), "configuration only partly read: %s", why) < 0)
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        vd_event ev;
        memset(&ev, 0, sizeof ev);
        size_t alloc = 0;
        int r = push_change(&ev, &alloc, "limits", NULL, 0, why, strlen(why),
                            "only partly read: settings past the limit are not compared; a file this large is "
                            "suspicious");
        if (r == 0) {
                ev.kind = VD_CH_VIOLATION;
                ev.path = strdup(file);
                ev.path_len = strlen(file);
                ev.ftype = VD_T_REG;
                ev.severity = ir->it->severity > VD_SEV_HIGH ? ir->it->severity : VD_SEV_HIGH;
                ev.rule = "config";
                ev.config = vd_conf_format_name(ir->it->format);
                r = ev.path ? vd_events_push(ir->violations, &ev) : VD_E_NOMEM;
        }
        if (r < 0) {
                event_free(&ev);
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

/* A file over VD_CONF_FILE_MAX is still read for the lines detectors need:
 * in pieces of STREAM_PIECE bytes, its lines of at most STREAM_LINE_MAX
 * bytes (a longer one is no setting: skipped, which breaks nothing since
 * lines number on) gathered into windows of at most VD_CONF_FILE_MAX that
 * are parsed at their line numbers into s. A guest that pads passwd with a
 * 5 MiB line before "toor:x:0:0:..." gets a limits finding and still its
 * uid-0 account found. Bounded memory; STREAM_MAX bytes at most (said). */
#define STREAM_PIECE ((size_t)1 << 20)
#define STREAM_LINE_MAX ((size_t)64 << 10)
#define STREAM_MAX ((uint64_t)1 << 30)

struct stream {
        cctx *c;
        item_run *ir;
        const char *file;
        vd_settings *s;
        vd_buf window, line;
        uint32_t window_first, lineno; /* the window's first line; the line being read */
        bool skipping;                 /* the line being read is too long */
};

static int stream_flush(struct stream *st) {
        int r = 0;
        if (st->window.len) {
                vd_err e2 = VD_ERR_INIT;
                r = vd_conf_parse_at(st->ir->it->format, st->file, st->window.buf, st->window.len, st->window_first,
                                     include_cb, st->c, st->s, &e2);
                if (r < 0 && r != VD_E_NOMEM)
                        r = 0; /* too many settings: what was kept stands; already a limits finding */
                vd_buf_reset(&st->window);
        }
        return r;
}

/* the line just ended (without its newline) */
static int stream_line_end(struct stream *st) {
        int r = 0;
        if (st->skipping) {
                /* the window must not run across the skipped line */
                r = stream_flush(st);
        } else {
                if (st->window.len + st->line.len + 1 > VD_CONF_FILE_MAX)
                        r = stream_flush(st);
                if (r == 0 && st->window.len == 0)
                        st->window_first = st->lineno;
                if (r == 0 && (vd_buf_add(&st->window, st->line.buf ? st->line.buf : "", st->line.len) < 0 ||
                               vd_buf_addc(&st->window, '\n') < 0))
                        r = VD_E_NOMEM;
        }
        vd_buf_reset(&st->line);
        st->skipping = false;
        st->lineno++;
        if (st->window.len == 0)
                st->window_first = st->lineno;
        return r;
}

static int stream_lines(cctx *c, item_run *ir, const char *file, vd_settings *s) {
        char real[4096];
        if (!c->src->ops->read_range || !resolve(c->entries, file, strlen(file), real, sizeof real))
                return 0;
        struct stream st = {.c = c, .ir = ir, .file = file, .s = s, .window_first = 1, .lineno = 1};
        vd_buf_init(&st.window, VD_CONF_FILE_MAX + 1);
        vd_buf_init(&st.line, STREAM_LINE_MAX + 1);
        vd_buf piece;
        vd_buf_init(&piece, STREAM_PIECE + 1);
        uint64_t off = 0;
        int r = 0;
        while (r == 0 && off < STREAM_MAX) {
                vd_err e2 = VD_ERR_INIT;
                vd_buf_reset(&piece);
                if (c->src->ops->read_range(c->src, real, off, STREAM_PIECE, &piece, &e2) < 0) {
                        if (vd_scan_warn(c->scan, file, strlen(file), "configuration not read past byte %llu: %s",
                                         (unsigned long long)off, e2.msg) < 0)
                                r = VD_E_NOMEM;
                        break;
                }
                if (piece.len == 0)
                        break;
                off += piece.len;
                for (size_t i = 0; r == 0 && i < piece.len;) {
                        const char *nl = memchr(piece.buf + i, '\n', piece.len - i);
                        size_t n = nl ? (size_t)(nl - (piece.buf + i)) : piece.len - i;
                        if (!st.skipping && st.line.len + n > STREAM_LINE_MAX) {
                                st.skipping = true;
                                vd_buf_reset(&st.line);
                        }
                        if (!st.skipping && vd_buf_add(&st.line, piece.buf + i, n) < 0)
                                r = VD_E_NOMEM;
                        i += n;
                        if (r == 0 && nl) {
                                i++;
                                r = stream_line_end(&st);
                        }
                }
        }
        if (r == 0 && (st.line.len || st.skipping))
                r = stream_line_end(&st);
        if (r == 0)
                r = stream_flush(&st);
        if (r == 0 && off >= STREAM_MAX &&
            vd_scan_warn(c->scan, file, strlen(file), "configuration not read past its first %llu bytes",
                         (unsigned long long)STREAM_MAX) < 0)
                r = VD_E_NOMEM;
        vd_buf_release(&piece);
        vd_buf_release(&st.window);
        vd_buf_release(&st.line);
        return r < 0 ? vd_err_set(c->err, VD_E_NOMEM, "out of memory") : 0;
}

static int parse_into(cctx *c, item_run *ir, const char *file, vd_settings *s) {
        vd_buf b;
        vd_buf_init(&b, VD_CONF_FILE_MAX + 1);
        vd_err limit = VD_ERR_INIT;
        int r = read_source(c, file, &b, &limit);
        if (r == 2) {
                s->partial = true;
                r = vd_confscan_limit(c, ir, file, limit.msg);
                if (r == 0)
                        r = stream_lines(c, ir, file, s);
        } else if (r == 0) {
                vd_err e2 = VD_ERR_INIT;
                r = vd_conf_parse(ir->it->format, file, b.buf ? b.buf : "", b.len, include_cb, c, s, &e2);
                if (r < 0 && r != VD_E_NOMEM) {
                        /* Too big, too many settings or includes: keep what was
                         * parsed (the lines detectors need come first). */
                        s->partial = true;
                        r = vd_confscan_limit(c, ir, file, e2.msg);
                } else if (r == 0 && s->dropped) {
                        char why[512];
                        snprintf(why, sizeof why,
                                 "%s: more than %d settings: %zu past the limit not kept (uid-0 accounts, key, "
                                 "grant and cron lines are)",
                                 file, VD_CONF_MAX_SETTINGS, s->dropped);
                        r = vd_confscan_limit(c, ir, file, why);
                } else if (r < 0)
                        r = vd_err_set(c->err, r, "%s", e2.msg);
        }
        vd_buf_release(&b);
        return r < 0 ? r : 0;
}

static int item_file(cctx *c, const char *file, void *ctx) {
        item_run *ir = ctx;
        if (++ir->files > ITEM_FILES_MAX) {
                if (ir->files == ITEM_FILES_MAX + 1) {
                        char why[512];
                        snprintf(why, sizeof why, "more than %d files match %s; the rest are not parsed",
                                 ITEM_FILES_MAX, ir->it->name);
                        return vd_confscan_limit(c, ir, file, why);
                }
                return 0;
        }
        if (ir->merged)
                return parse_into(c, ir, file, &ir->merged->s);
        /* an earlier item already read it */
        for (size_t i = 0; i < ir->out->n; i++)
                if (strcmp(ir->out->v[i].path, file) == 0)
                        return 0;
        vd_confset *set = vd_confsets_add(ir->out, file, ir->it->format);
        if (!set)
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        int r = parse_into(c, ir, file, &set->s);
        return r < 0 ? r : vd_confscan_finish_set(c, ir, set);
}

/* sysctl.d semantics: files ordered by name across the directories, a name
 * in a later directory replacing the same name in an earlier one. */
typedef struct namelist {
        char **v;
        size_t n, alloc;
        bool full; /* ITEM_FILES_MAX reached (said once) */
} namelist;

static int collect_name(cctx *c, const char *file, void *ctx) {
        namelist *nl = ctx;
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        for (size_t i = 0; i < nl->n; i++) {
                const char *ob = strrchr(nl->v[i], '/');
                if (strcmp(ob ? ob + 1 : nl->v[i], base) == 0 && strcmp(base, "sysctl.conf") != 0) {
                        char *d = strdup(file);
                        if (!d)
                                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
                        free(nl->v[i]);
                        nl->v[i] = d;
                        return 0;
                }
        }
        if (nl->n >= ITEM_FILES_MAX) {
                if (!nl->full &&
                    vd_scan_warn(c->scan, file, strlen(file),
                                 "configuration not read: more than %d files to merge; the rest are not parsed",
                                 ITEM_FILES_MAX) < 0)
                        return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
                nl->full = true;
                return 0;
        }
        if (vd_array_grow(&nl->v, &nl->alloc, nl->n, sizeof *nl->v, 16) < 0 || !(nl->v[nl->n] = strdup(file)))
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        nl->n++;
        return 0;
}

static int by_base(const void *a, const void *b) {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        const char *bx = strrchr(x, '/'), *by = strrchr(y, '/');
        bx = bx ? bx + 1 : x;
        by = by ? by + 1 : y;
        /* /etc/sysctl.conf is read last, as systemd-sysctl and procps do. */
        bool cx = strcmp(x, "/etc/sysctl.conf") == 0, cy = strcmp(y, "/etc/sysctl.conf") == 0;
        if (cx != cy)
                return cx ? 1 : -1;
        return strcmp(bx, by);
}

/* Every file the items name (after symlinks), once: what the source is
 * asked to read in one batch before the items are parsed one by one. */
static int want_file(cctx *c, const char *file, void *ctx) {
        namelist *nl = ctx;
        char real[4096];
        if (!resolve(c->entries, file, strlen(file), real, sizeof real))
                return 0;
        for (size_t i = 0; i < nl->n; i++)
                if (strcmp(nl->v[i], real) == 0)
                        return 0;
        if (nl->n >= VD_CAT_FILES_MAX)
                return 0;
        if (vd_array_grow(&nl->v, &nl->alloc, nl->n, sizeof *nl->v, 16) < 0 || !(nl->v[nl->n] = strdup(real)))
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        nl->n++;
        return 0;
}

static void free_names(namelist *nl) {
        for (size_t i = 0; i < nl->n; i++)
                free(nl->v[i]);
        free(nl->v);
}

static int want_files(cctx *c, const vd_conf_item *items, size_t n, namelist *want) {
        int r = 0;
        for (size_t i = 0; r == 0 && i < n; i++)
                if (items[i].format != VD_CF_REGISTRY) /* hives are read whole, not in the batch */
                for (size_t j = 0; r == 0 && j < items[i].n_paths; j++)
                        r = each_match(c, items[i].paths[j], want_file, want);
        return r;
}

int vd_config_files(const vd_entries *entries, const vd_policy *p, char ***paths, size_t *n, vd_err *err) {
        vd_scan scratch;
        vd_scan_init(&scratch);
        vd_entry_view view = vd_entry_view_of(entries);
        cctx c = {NULL, &view, &scratch, err, false, NULL};
        const vd_conf_item *items;
        size_t ni = vd_policy_conf_items(p, &items);
        namelist want = {0};
        int r = want_files(&c, items, ni, &want);
        vd_scan_release(&scratch);
        if (r < 0) {
                free_names(&want);
                return r;
        }
        *paths = want.v;
        *n = want.n;
        return 0;
}

int vd_config_globs(const vd_policy *p, const char ***patterns, size_t *n, vd_err *err) {
        const vd_conf_item *items;
        size_t ni = vd_policy_conf_items(p, &items), k = 0, total = 0;
        *patterns = NULL;
        *n = 0;
        for (size_t i = 0; i < ni; i++)
                total += items[i].n_paths;
        const char **v = malloc((total ? total : 1) * sizeof *v);
        if (!v)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        for (size_t i = 0; i < ni; i++)
                for (size_t j = 0; j < items[i].n_paths; j++) {
                        const char *pat = items[i].paths[j];
                        bool seen = false;
                        for (size_t x = 0; x < k && !seen; x++)
                                seen = strcmp(v[x], pat) == 0;
                        if (!seen && pat[0] == '/' && pat[strcspn(pat, "*?[")])
                                v[k++] = pat;
                }
        *patterns = v;
        *n = k;
        return 0;
}

static int prefetch(cctx *c, const vd_conf_item *items, size_t n) {
        namelist want = {0};
        int r = want_files(c, items, n, &want);
        if (r == 0 && want.n) {
                vd_err e2 = VD_ERR_INIT;
                if (vd_source_prefetch(c->src, (const char *const *)want.v, want.n, VD_CONF_FILE_MAX, &e2) < 0) {
                        if (e2.code == VD_E_NOMEM)
                                r = vd_err_set(c->err, VD_E_NOMEM, "%s", e2.msg);
                        else if (vd_scan_warn(c->scan, NULL, 0,
                                              "configuration files read one by one (slower): the batch read "
                                              "failed: %s",
                                              e2.msg) < 0)
                                r = vd_err_set(c->err, VD_E_NOMEM, "out of memory");
                }
        }
        free_names(&want);
        return r;
}

int vd_config_collect(vd_source *src, const vd_entry_view *entries, const vd_policy *p, const unsigned char *key,
                      size_t key_len, vd_confsets *out, vd_events *violations, vd_scan *scan, vd_err *err) {
        cctx c = {src, entries, scan, err, false, NULL};
        const vd_conf_item *items;
        size_t n = vd_policy_conf_items(p, &items);
        int r = prefetch(&c, items, n);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const vd_conf_item *it = &items[i];
                item_run ir = {it, NULL, key, key_len, out, violations, 0};
                if (it->format == VD_CF_REGISTRY) {
                        r = vd_regscan_item(&c, &ir);
                        vd_confsets_sort(out);
                        continue;
                }
                if (!it->merge) {
                        for (size_t j = 0; r == 0 && j < it->n_paths; j++)
                                r = each_match(&c, it->paths[j], item_file, &ir);
                        /* A desired state on a file that is not there is a
                         * violation too (expect on an absent sshd_config). */
                        if (r == 0 && it->n_checks && it->n_paths == 1 && !strpbrk(it->paths[0], "*?[")) {
                                bool found = false;
                                for (size_t k = 0; k < out->n; k++)
                                        found |= strcmp(out->v[k].path, it->paths[0]) == 0;
                                if (!found) {
                                        vd_confset *set = vd_confsets_add(out, it->paths[0], it->format);
                                        r = set ? vd_confscan_finish_set(&c, &ir, set) : vd_err_set(err, VD_E_NOMEM, "out of memory");
                                        /* keep no values for an absent file */
                                        if (r == 0) {
                                                vd_settings_release(&out->v[out->n - 1].s);
                                                free(out->v[out->n - 1].path);
                                                out->n--;
                                        }
                                }
                        }
                        vd_confsets_sort(out);
                        continue;
                }
                namelist nl = {0};
                for (size_t j = 0; r == 0 && j < it->n_paths; j++)
                        r = each_match(&c, it->paths[j], collect_name, &nl);
                if (r == 0 && it->format == VD_CF_SYSCTL && nl.n > 1)
                        qsort(nl.v, nl.n, sizeof *nl.v, by_base);
                if (r == 0) {
                        ir.merged = vd_confsets_add(out, it->name, it->format);
                        if (!ir.merged)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                for (size_t j = 0; r == 0 && j < nl.n; j++) {
                        vd_settings tmp;
                        vd_settings_init(&tmp);
                        r = parse_into(&c, &ir, nl.v[j], &tmp);
                        if (tmp.partial)
                                ir.merged->s.partial = true;
                        /* later files override earlier ones, key by key */
                        for (size_t k = 0; r == 0 && k < tmp.n; k++) {
                                const vd_setting *s = &tmp.v[k];
                                int pr = vd_settings_put(&ir.merged->s, s->key, strlen(s->key), s->value, s->value_len,
                                                         s->file, s->line, true, false);
                                if (pr == VD_E_LIMIT) {
                                        /* a hostile pile of files: keep what fits, say so */
                                        if (vd_scan_warn(scan, nl.v[j], strlen(nl.v[j]),
                                                         "configuration only partly read: more than %d settings in %s",
                                                         VD_CONF_MAX_REPLACED, it->name) < 0)
                                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                                        break;
                                }
                                if (pr < 0)
                                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                        vd_settings_release(&tmp);
                }
                if (r == 0)
                        r = vd_confscan_finish_set(&c, &ir, ir.merged);
                for (size_t j = 0; j < nl.n; j++)
                        free(nl.v[j]);
                free(nl.v);
                vd_confsets_sort(out);
        }
        if (r == 0)
                r = vd_regscan_accounts(&c);
        vd_regscan_release(&c);
        return r;
}

/* ---------------- compare ---------------- */

static const vd_conf_item *item_for(const vd_policy *p, const vd_confset *set) {
        const vd_conf_item *items;
        size_t n = vd_policy_conf_items(p, &items);
        for (size_t i = 0; i < n; i++) {
                if (items[i].format != set->format)
                        continue;
                if (set->format == VD_CF_REGISTRY) {
                        if (vd_reg_key_match(items[i].paths[0], set->path))
                                return &items[i];
                        continue;
                }
                if (strcmp(items[i].name, set->path) == 0)
                        return &items[i];
                for (size_t j = 0; !items[i].merge && j < items[i].n_paths; j++)
                        if (vd_glob_match(items[i].paths[j], set->path, strlen(set->path)))
                                return &items[i];
        }
        return NULL;
}

static int diff_set(const vd_policy *p, const vd_confset *o, const vd_confset *n, vd_events *out, int kind) {
        const vd_confset *any = n ? n : o;
        const vd_conf_item *it = item_for(p, any);
        vd_event ev;
        memset(&ev, 0, sizeof ev);
        size_t alloc = 0;
        int sev = it ? it->severity : VD_SEV_MEDIUM, det = -1, det_sev = -1;
        size_t i = 0, j = 0;
        const vd_settings *os = o ? &o->s : NULL, *ns = n ? &n->s : NULL;
        size_t on = os ? os->n : 0, nn = ns ? ns->n : 0;
        int r = 0;
        while (r == 0 && (i < on || j < nn)) {
                const vd_setting *a = i < on ? &os->v[i] : NULL, *b = j < nn ? &ns->v[j] : NULL;
                int c = !a ? 1 : !b ? -1 : strcmp(a->key, b->key);
                const vd_setting *x = c <= 0 ? a : NULL, *y = c >= 0 ? b : NULL;
                if (c <= 0)
                        i++;
                if (c >= 0)
                        j++;
                if (x && y && x->value_len == y->value_len && memcmp(x->value, y->value, x->value_len) == 0)
                        continue;
                /* a partly read file says nothing of the keys it lacks (the
                 * limits finding says it was partly read) */
                if (x && !y && ns && ns->partial)
                        continue;
                char note[4200];
                const vd_setting *w = y ? y : x;
                if (w->line) /* a registry value has no line */
                        snprintf(note, sizeof note, "%s %s:%u", y ? "set in" : "was set in", w->file, w->line);
                else
                        snprintf(note, sizeof note, "%s %s", y ? "set in" : "was set in", w->file);
                bool secret = (x && x->secret) || (y && y->secret);
                r = push_change(&ev, &alloc, w->key, x ? (secret ? "(secret)" : x->value) : NULL,
                                x ? (secret ? 8 : x->value_len) : 0,
                                y ? (secret ? (x ? "(secret, changed)" : "(secret)") : y->value) : NULL,
                                y ? (secret ? strlen(x ? "(secret, changed)" : "(secret)") : y->value_len) : 0, note);
                int d = vd_detect_config(p, any, w->key, x, y);
                if (d >= 0 && vd_policy_detector_severity(p, d) > det_sev) {
                        det = d;
                        det_sev = vd_policy_detector_severity(p, d);
                }
        }
        if (r == 0 && ev.n_ch) {
                ev.kind = kind;
                ev.path = strdup(any->path);
                ev.path_len = strlen(any->path);
                ev.ftype = VD_T_REG;
                ev.rule = "config";
                ev.config = vd_conf_format_name(any->format);
                ev.severity = sev;
                if (det >= 0) {
                        ev.detector = vd_detector_name(det);
                        if (det_sev > ev.severity)
                                ev.severity = det_sev;
                }
                r = ev.path ? vd_events_push(out, &ev) : VD_E_NOMEM;
        }
        if (r < 0)
                event_free(&ev);
        return r;
}

int vd_config_compare(const vd_confsets *base, const vd_entry_view *base_entries, const vd_confsets *now,
                      const vd_policy *p, vd_events *out, vd_scan *scan, vd_err *err) {
        int r = 0;
        for (size_t i = 0; r == 0 && i < now->n; i++) {
                const vd_confset *n = &now->v[i];
                const vd_confset *o = vd_confsets_find(base, n->path);
                if (!o && base_entries->find(base_entries->ctx, n->path, strlen(n->path))) {
                        r = vd_scan_warn(scan, n->path, strlen(n->path),
                                         "the baseline holds no configuration values for this file (captured under "
                                         "another policy?): key-level drift not checked");
                        continue;
                }
                r = diff_set(p, o, n, out, o ? VD_CH_CHANGED : VD_CH_ADDED);
        }
        /* Files parsed at capture and gone now: their keys are removed. */
        for (size_t i = 0; r == 0 && i < base->n; i++) {
                const vd_confset *o = &base->v[i];
                if (!vd_confsets_find(now, o->path) && item_for(p, o))
                        r = diff_set(p, o, NULL, out, VD_CH_REMOVED);
        }
        if (r < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory comparing configuration");
        return 0;
}
