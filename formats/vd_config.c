#define _GNU_SOURCE
#include "formats/vd_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "common/vd_str.h"

static const char *const fmt_names[] = {NULL,     "sshd",   "sysctl", "shell",   "ini",
                                        "passwd", "group",  "shadow", "sudoers", "lines", "registry"};
#define N_FMT (sizeof fmt_names / sizeof fmt_names[0])

const char *vd_conf_format_name(int f) { return f > 0 && (size_t)f < N_FMT ? fmt_names[f] : "unknown"; }

int vd_conf_format_from_name(const char *s) {
        for (size_t i = 1; i < N_FMT; i++)
                if (strcmp(s, fmt_names[i]) == 0)
                        return (int)i;
        return 0;
}

const char *vd_conf_format_names(void) { return "sshd, sysctl, shell, ini, passwd, group, shadow, sudoers, lines"; }
/* (registry is not a file format a policy names: a config item says key:) */

void vd_settings_init(vd_settings *s) { memset(s, 0, sizeof *s); }

void vd_settings_release(vd_settings *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].key);
                free(s->v[i].value);
                free(s->v[i].file);
        }
        free(s->v);
        vd_settings_init(s);
}

static int find_key(const vd_settings *s, const char *k, size_t kl, bool icase) {
        /* Parsing is linear in the file; files with many keys (passwd of a big
         * host) stay well under VD_CONF_MAX_SETTINGS, so scan from the end,
         * where a repeated key most likely is. */
        for (size_t i = s->n; i-- > 0;) {
                const char *x = s->v[i].key;
                if (strlen(x) == kl && (icase ? strncasecmp(x, k, kl) : memcmp(x, k, kl)) == 0)
                        return (int)i;
        }
        return -1;
}

int vd_settings_put(vd_settings *s, const char *key, size_t klen, const char *val, size_t vlen, const char *file,
                    uint32_t line, bool replace, bool icase) {
        if (klen == 0)
                return 0;
        if (klen > VD_CONF_KEY_MAX)
                klen = VD_CONF_KEY_MAX;
        if (vlen > VD_CONF_VALUE_MAX)
                vlen = VD_CONF_VALUE_MAX;
        int at = s->n < 4096 || replace ? find_key(s, key, klen, icase) : -1;
        if (at >= 0 && !replace)
                return 0;
        vd_setting *t;
        if (at >= 0) {
                t = &s->v[at];
                free(t->value);
                free(t->file);
                t->value = NULL;
                t->file = NULL;
        } else {
                /* Formats where a later line overrides look every key up;
                 * keep that quadratic walk short against a hostile file. */
                if (s->n >= VD_CONF_MAX_KEPT || (replace && s->n >= VD_CONF_MAX_REPLACED))
                        return VD_E_LIMIT;
                if (vd_array_grow(&s->v, &s->alloc, s->n, sizeof *s->v, 16) < 0)
                        return VD_E_NOMEM;
                t = &s->v[s->n];
                memset(t, 0, sizeof *t);
                t->seq = (uint32_t)s->n;
                t->key = strndup(key, klen);
                if (!t->key)
                        return VD_E_NOMEM;
                s->n++;
        }
        t->value = malloc(vlen + 1);
        t->file = strdup(file ? file : "");
        if (!t->value || !t->file)
                return VD_E_NOMEM;
        memcpy(t->value, val, vlen);
        t->value[vlen] = '\0';
        t->value_len = vlen;
        t->line = line;
        t->secret = false;
        return 0;
}

static int setting_cmp(const void *a, const void *b) {
        return strcmp(((const vd_setting *)a)->key, ((const vd_setting *)b)->key);
}

static int setting_seq_cmp(const void *a, const void *b) {
        const vd_setting *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

void vd_settings_sort(vd_settings *s) {
        if (s->n < 2)
                return;
        qsort(s->v, s->n, sizeof *s->v, setting_seq_cmp);
        size_t k = 1;
        for (size_t i = 1; i < s->n; i++) {
                if (strcmp(s->v[i].key, s->v[k - 1].key) == 0) {
                        free(s->v[i].key);
                        free(s->v[i].value);
                        free(s->v[i].file);
                        continue;
                }
                s->v[k++] = s->v[i];
        }
        s->n = k;
}

const vd_setting *vd_settings_find(const vd_settings *s, const char *key) {
        vd_setting k = {.key = (char *)(uintptr_t)key};
        return s->n ? bsearch(&k, s->v, s->n, sizeof *s->v, setting_cmp) : NULL;
}

void vd_confsets_init(vd_confsets *c) { memset(c, 0, sizeof *c); }

void vd_confsets_release(vd_confsets *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].path);
                vd_settings_release(&c->v[i].s);
        }
        free(c->v);
        vd_confsets_init(c);
}

vd_confset *vd_confsets_add(vd_confsets *c, const char *path, int format) {
        if (vd_array_grow(&c->v, &c->alloc, c->n, sizeof *c->v, 8) < 0)
                return NULL;
        vd_confset *s = &c->v[c->n];
        memset(s, 0, sizeof *s);
        s->path = strdup(path);
        if (!s->path)
                return NULL;
        s->format = format;
        c->n++;
        return s;
}

int vd_confsets_copy_set(vd_confsets *c, const vd_confset *from) {
        vd_confset *s = vd_confsets_add(c, from->path, from->format);
        if (!s)
                return VD_E_NOMEM;
        for (size_t i = 0; i < from->s.n; i++) {
                const vd_setting *x = &from->s.v[i];
                if (vd_settings_put(&s->s, x->key, strlen(x->key), x->value, x->value_len, x->file, x->line, false,
                                    false) < 0)
                        return VD_E_NOMEM;
                s->s.v[s->s.n - 1].secret = x->secret;
        }
        vd_settings_sort(&s->s);
        return 0;
}

static int confset_cmp(const void *a, const void *b) {
        return strcmp(((const vd_confset *)a)->path, ((const vd_confset *)b)->path);
}

void vd_confsets_sort(vd_confsets *c) {
        if (c->n > 1)
                qsort(c->v, c->n, sizeof *c->v, confset_cmp);
}

const vd_confset *vd_confsets_find(const vd_confsets *c, const char *path) {
        vd_confset k = {.path = (char *)(uintptr_t)path};
        return c->n ? bsearch(&k, c->v, c->n, sizeof *c->v, confset_cmp) : NULL;
}

/* ---- line handling ---- */

typedef struct pctx {
        int format;
        const char *file;
        vd_conf_include_fn include;
        void *include_ctx;
        vd_settings *out;
        vd_err *err;
        int depth;
        size_t *files; /* included so far (shared) */
        char *match;   /* sshd: current Match block criteria, or NULL */
        char *section; /* ini: current section */
        bool sudo_dir; /* the include being expanded is a sudoers @includedir */
} pctx;

static bool is_sp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static void trim(const char **p, size_t *n) {
        while (*n && is_sp(**p))
                (*p)++, (*n)--;
        while (*n && is_sp((*p)[*n - 1]))
                (*n)--;
}

/* Collapse whitespace runs to one space (sudoers and cron lines compare as
 * a person reads them). */
static int norm_ws(vd_buf *b, const char *p, size_t n) {
        bool sp = false;
        for (size_t i = 0; i < n; i++) {
                if (is_sp(p[i]) || p[i] == '\n') {
                        sp = true;
                        continue;
                }
                int r = sp && b->len ? vd_buf_addc(b, ' ') : 0;
                sp = false;
                if (r == 0)
                        r = vd_buf_addc(b, p[i]);
                if (r < 0)
                        return r; /* VD_E_LIMIT when b is capped */
        }
        return 0;
}

/* A key for a normalised line: the line itself, or, when longer than a key
 * may be, its first bytes and the SHA-256 of all of it, so that two long
 * lines that share a beginning stay two keys (a long line must neither stop
 * the parse nor hide the line after it). */
static int line_key(vd_buf *key, const char *p, size_t n) {
        vd_buf_reset(key);
        vd_buf full;
        vd_buf_init(&full, VD_CONF_FILE_MAX);
        int r = norm_ws(&full, p, n);
        if (r == 0 && full.len <= VD_CONF_KEY_MAX)
                r = vd_buf_add(key, full.buf ? full.buf : "", full.len);
        else if (r == 0) {
                unsigned char md[SHA256_DIGEST_LENGTH];
                char hex[2 * SHA256_DIGEST_LENGTH + 1];
                SHA256((const unsigned char *)full.buf, full.len, md);
                vd_hex_to(hex, md, sizeof md);
                size_t keep = VD_CONF_KEY_MAX - 128;
                /* do not cut a UTF-8 sequence in two */
                while (keep > 0 && ((unsigned char)full.buf[keep] & 0xC0) == 0x80)
                        keep--;
                r = vd_buf_add(key, full.buf, keep);
                if (r == 0)
                        r = vd_buf_addf(key, " ...[%zu bytes, sha256 %s]", full.len, hex);
        }
        vd_buf_release(&full);
        return r;
}

/* important: a detector needs this setting (a uid-0 account, a key or
 * grant line); past VD_CONF_MAX_SETTINGS only such settings are kept. */
static int put(pctx *c, const char *k, size_t kl, const char *v, size_t vl, uint32_t line, bool replace,
               bool icase, bool important) {
        if (!replace && c->out->n >= VD_CONF_MAX_SETTINGS && !important) {
                c->out->dropped++;
                c->out->partial = true;
                return 0;
        }
        int r = vd_settings_put(c->out, k, kl, v, vl, c->file, line, replace, icase);
        if (r == VD_E_LIMIT) {
                c->out->partial = true;
                return vd_err_set(c->err, VD_E_LIMIT, "%s: more than %d settings", c->file,
                                  replace ? VD_CONF_MAX_REPLACED : VD_CONF_MAX_KEPT);
        }
        if (r < 0)
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        return 0;
}

static int parse_text(pctx *c, const char *text, size_t len, uint32_t first_line);

static int include_each(const char *file, const char *text, size_t len, void *ctx2) {
        pctx *parent = ctx2;
        if (parent->sudo_dir) {
                /* sudo skips names that end in '~' or contain a '.' */
                const char *base = strrchr(file, '/');
                base = base ? base + 1 : file;
                size_t bl = strlen(base);
                if (strchr(base, '.') || (bl && base[bl - 1] == '~'))
                        return 0;
        }
        if (++*parent->files > VD_CONF_INCLUDE_FILES)
                return vd_err_set(parent->err, VD_E_LIMIT, "%s: more than %d included files", parent->file,
                                  VD_CONF_INCLUDE_FILES);
        pctx c = *parent;
        c.file = file;
        c.depth = parent->depth + 1;
        c.section = NULL;
        c.sudo_dir = false;
        /* An included file starts in the includer's Match block; its own
         * Match lines end with it. */
        c.match = parent->match ? strdup(parent->match) : NULL;
        if (parent->match && !c.match)
                return vd_err_set(parent->err, VD_E_NOMEM, "out of memory");
        int r = parse_text(&c, text, len, 1);
        free(c.match);
        return r;
}

static int do_include(pctx *c, const char *pat, size_t pl, const char *base_dir, uint32_t line) {
        if (!c->include)
                return 0;
        if (c->depth >= VD_CONF_INCLUDE_DEPTH)
                return vd_err_set(c->err, VD_E_LIMIT, "%s:%u: includes nested deeper than %d", c->file, line,
                                  VD_CONF_INCLUDE_DEPTH);
        vd_buf p;
        vd_buf_init(&p, 8192);
        int r = 0;
        if (pl == 0 || pat[0] != '/')
                r = vd_buf_addf(&p, "%s/", base_dir);
        if (!r)
                r = vd_buf_add(&p, pat, pl);
        if (r < 0) {
                vd_buf_release(&p);
                return vd_err_set(c->err, VD_E_LIMIT, "%s:%u: include path too long", c->file, line);
        }
        /* sshd and sudo open "/etc/ssh/../../var/tmp/x.conf" as the kernel
         * resolves it: inside the guest's root, ".." at the root stays there. */
        p.len = vd_path_normalize(p.buf, p.len);
        r = c->include(c->include_ctx, p.buf, include_each, c, c->err);
        vd_buf_release(&p);
        return r;
}

/* ---- formats ---- */

/* sshd_config(5): keywords are case-insensitive; the first value obtained
 * wins, except for keywords that accumulate. Match blocks last until the
 * next Match or the end of the file. */
static const char *const sshd_multi[] = {"acceptenv",   "allowgroups",       "allowusers",  "denygroups",
                                         "denyusers",   "hostcertificate",   "hostkey",     "listenaddress",
                                         "port",        "setenv",            "subsystem",   "authorizedkeysfile",
                                         "permitlisten", "permitopen",       NULL};

static bool sshd_is_multi(const char *k, size_t kl) {
        for (size_t i = 0; sshd_multi[i]; i++)
                if (strlen(sshd_multi[i]) == kl && strncasecmp(sshd_multi[i], k, kl) == 0)
                        return true;
        return false;
}

static int sshd_line(pctx *c, const char *p, size_t n, uint32_t line) {
        size_t kl = 0;
        while (kl < n && !is_sp(p[kl]) && p[kl] != '=')
                kl++;
        const char *v = p + kl;
        size_t vl = n - kl;
        trim(&v, &vl);
        if (vl && *v == '=') {
                v++, vl--;
                trim(&v, &vl);
        }
        if (kl == 5 && strncasecmp(p, "Match", 5) == 0) {
                free(c->match);
                c->match = NULL;
                if (vl && !(vl == 3 && strncasecmp(v, "all", 3) == 0)) {
                        vd_buf m, crit;
                        vd_buf_init(&m, VD_CONF_KEY_MAX + 16);
                        vd_buf_init(&crit, VD_CONF_KEY_MAX);
                        int mr = line_key(&crit, v, vl);
                        if (mr == 0)
                                mr = vd_buf_adds(&m, "Match ");
                        if (mr == 0)
                                mr = vd_buf_add(&m, crit.buf ? crit.buf : "", crit.len);
                        vd_buf_release(&crit);
                        if (mr < 0) {
                                vd_buf_release(&m);
                                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
                        }
                        c->match = vd_buf_detach(&m, NULL);
                }
                return 0;
        }
        if (kl == 7 && strncasecmp(p, "Include", 7) == 0) {
                /* Each space-separated pattern; relative ones are under /etc/ssh. */
                while (vl) {
                        size_t w = 0;
                        while (w < vl && !is_sp(v[w]))
                                w++;
                        int r = do_include(c, v, w, "/etc/ssh", line);
                        if (r < 0)
                                return r;
                        v += w, vl -= w;
                        trim(&v, &vl);
                }
                return 0;
        }
        vd_buf k;
        vd_buf_init(&k, VD_CONF_KEY_MAX + 16);
        int r = 0;
        if (c->match)
                r = vd_buf_addf(&k, "%s/", c->match);
        if (!r)
                r = vd_buf_add(&k, p, kl);
        if (r < 0) {
                vd_buf_release(&k);
                return 0; /* an over-long key is not a setting sshd would accept either */
        }
        if (sshd_is_multi(p, kl)) {
                int at = find_key(c->out, k.buf, k.len, true);
                if (at >= 0) {
                        vd_setting *s = &c->out->v[at];
                        vd_buf nv;
                        vd_buf_init(&nv, VD_CONF_VALUE_MAX);
                        if (vd_buf_add(&nv, s->value, s->value_len) == 0 && vd_buf_adds(&nv, ", ") == 0 &&
                            vd_buf_add(&nv, v, vl) == 0)
                                r = put(c, k.buf, k.len, nv.buf, nv.len, s->line, true, true, true);
                        vd_buf_release(&nv);
                        vd_buf_release(&k);
                        return r;
                }
        }
        r = put(c, k.buf, k.len, v, vl, line, false, true, true);
        vd_buf_release(&k);
        return r;
}

static int sysctl_line(pctx *c, const char *p, size_t n, uint32_t line) {
        const char *eq = memchr(p, '=', n);
        if (!eq)
                return 0; /* systemd-sysctl ignores such lines with a warning */
        const char *k = p, *v = eq + 1;
        size_t kl = (size_t)(eq - p), vl = n - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        if (kl && *k == '-')
                k++, kl--;
        char key[VD_CONF_KEY_MAX];
        if (kl >= sizeof key)
                return 0;
        for (size_t i = 0; i < kl; i++)
                key[i] = k[i] == '/' ? '.' : k[i];
        return put(c, key, kl, v, vl, line, true, false, false);
}

/* Strip one level of shell quoting: 'x', "x" (with \" \\ \$ \`), bare words. */
static int unquote(vd_buf *b, const char *v, size_t vl) {
        char q = 0;
        for (size_t i = 0; i < vl; i++) {
                char ch = v[i];
                if (q == '\'') {
                        if (ch == '\'') {
                                q = 0;
                                continue;
                        }
                } else if (q == '"') {
                        if (ch == '"') {
                                q = 0;
                                continue;
                        }
                        if (ch == '\\' && i + 1 < vl && strchr("\"\\$`", v[i + 1]))
                                ch = v[++i];
                } else {
                        if (ch == '\'' || ch == '"') {
                                q = ch;
                                continue;
                        }
                        if (ch == '#' && (i == 0 || is_sp(v[i - 1])))
                                break;
                        if (ch == '\\' && i + 1 < vl)
                                ch = v[++i];
                }
                if (vd_buf_addc(b, ch) < 0)
                        return VD_E_LIMIT;
        }
        return 0;
}

static int shell_line(pctx *c, const char *p, size_t n, uint32_t line) {
        if (n > 7 && strncmp(p, "export", 6) == 0 && is_sp(p[6])) {
                p += 7, n -= 7;
                trim(&p, &n);
        }
        size_t kl = 0;
        while (kl < n && (isalnum((unsigned char)p[kl]) || p[kl] == '_' || p[kl] == '.' || p[kl] == '-'))
                kl++;
        if (kl == 0 || kl == n)
                return 0;
        const char *v = p + kl;
        size_t vl = n - kl;
        if (*v == '=')
                v++, vl--;
        else if (is_sp(*v))
                trim(&v, &vl); /* login.defs: KEY VALUE */
        else
                return 0;
        vd_buf b;
        vd_buf_init(&b, VD_CONF_VALUE_MAX);
        int r = unquote(&b, v, vl); /* VD_E_LIMIT: keep the first VD_CONF_VALUE_MAX bytes */
        r = 0;
        {
                const char *bv = b.buf ? b.buf : "";
                size_t bl = b.len;
                trim(&bv, &bl);
                r = put(c, p, kl, bv, bl, line, true, false, false);
        }
        vd_buf_release(&b);
        return r < 0 ? r : 0;
}

static int ini_line(pctx *c, const char *p, size_t n, uint32_t line) {
        if (*p == '[') {
                const char *e = memchr(p, ']', n);
                if (!e)
                        return 0;
                const char *s = p + 1;
                size_t sl = (size_t)(e - s);
                trim(&s, &sl);
                free(c->section);
                c->section = strndup(s, sl < VD_CONF_KEY_MAX / 2 ? sl : VD_CONF_KEY_MAX / 2);
                return c->section ? 0 : vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        }
        size_t kl = 0; /* p is a line inside the file: not NUL-terminated */
        while (kl < n && p[kl] != '=' && p[kl] != ':')
                kl++;
        const char *k = p, *v = p + kl + (kl < n);
        size_t vl = kl < n ? n - kl - 1 : 0;
        trim(&k, &kl);
        trim(&v, &vl);
        if (vl >= 2 && ((v[0] == '"' && v[vl - 1] == '"') || (v[0] == '\'' && v[vl - 1] == '\'')))
                v++, vl -= 2;
        vd_buf key;
        vd_buf_init(&key, VD_CONF_KEY_MAX);
        int r = 0;
        if (c->section)
                r = vd_buf_addf(&key, "%s.", c->section);
        if (!r)
                r = vd_buf_add(&key, k, kl);
        if (r == VD_E_LIMIT) { /* a key longer than any real one: not a setting */
                vd_buf_release(&key);
                return 0;
        }
        if (!r)
                r = put(c, key.buf, key.len, v, vl, line, true, false, false);
        vd_buf_release(&key);
        return r;
}

/* Split a colon line into at most max fields. */
static size_t colon_fields(const char *p, size_t n, const char **f, size_t *fl, size_t max) {
        size_t k = 0;
        const char *s = p;
        for (size_t i = 0; i <= n && k < max; i++)
                if (i == n || p[i] == ':') {
                        f[k] = s;
                        fl[k++] = (size_t)(p + i - s);
                        s = p + i + 1;
                }
        return k;
}

static bool name_ok(const char *s, size_t n) {
        if (n == 0 || n > 256)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
                        return false;
        return true;
}

static int put_field(pctx *c, const char *name, size_t nl, const char *what, const char *v, size_t vl,
                     uint32_t line, bool important) {
        char key[VD_CONF_KEY_MAX];
        int kl = snprintf(key, sizeof key, "%.*s.%s", (int)nl, name, what);
        if (kl < 0 || (size_t)kl >= sizeof key)
                return 0;
        return put(c, key, (size_t)kl, v, vl, line, false, false, important);
}

/* What a password field says, never the hash itself. */
static const char *pw_state(const char *p, size_t n, bool passwd_file) {
        if (passwd_file && n == 1 && (*p == 'x' || *p == '*'))
                return NULL; /* the password is in shadow */
        if (n == 0)
                return "empty";
        if (*p == '!' || *p == '*')
                return "locked";
        return "set";
}

static int colon_line(pctx *c, const char *p, size_t n, uint32_t line) {
        const char *f[8];
        size_t fl[8];
        size_t k = colon_fields(p, n, f, fl, 8);
        if (k == 0 || !name_ok(f[0], fl[0]) || (f[0][0] == '+' || f[0][0] == '-'))
                return 0;
        int r = 0;
        if (c->format == VD_CF_PASSWD) {
                if (k < 7)
                        return 0;
                const char *st = pw_state(f[1], fl[1], true);
                bool root = vd_conf_id_is_zero(f[2], fl[2]); /* the uid0 detector's lines */
                r = put_field(c, f[0], fl[0], "uid", f[2], fl[2], line, root);
                if (!r)
                        r = put_field(c, f[0], fl[0], "gid", f[3], fl[3], line, root);
                if (!r)
                        r = put_field(c, f[0], fl[0], "home", f[5], fl[5], line, root);
                if (!r)
                        r = put_field(c, f[0], fl[0], "shell", f[6], fl[6], line, root);
                if (!r && st)
                        r = put_field(c, f[0], fl[0], "password", st, strlen(st), line, root);
        } else if (c->format == VD_CF_GROUP) {
                if (k < 4)
                        return 0;
                bool root = vd_conf_id_is_zero(f[2], fl[2]);
                r = put_field(c, f[0], fl[0], "gid", f[2], fl[2], line, root);
                if (!r)
                        r = put_field(c, f[0], fl[0], "members", f[3], fl[3], line, root);
        } else {
                if (k < 2)
                        return 0;
                const char *st = pw_state(f[1], fl[1], false);
                r = put_field(c, f[0], fl[0], "password", st, strlen(st), line, false);
        }
        return r;
}

static int lines_line(pctx *c, const char *p, size_t n, uint32_t line);

static int sudoers_line(pctx *c, const char *p, size_t n, uint32_t line) {
        /* @include / #include, @includedir / #includedir (sudoers(5)). */
        const char *d = p;
        size_t dl = n;
        if (dl && (*d == '@' || *d == '#')) {
                d++, dl--;
                bool dir = dl > 10 && strncmp(d, "includedir", 10) == 0 && is_sp(d[10]);
                bool file = !dir && dl > 7 && strncmp(d, "include", 7) == 0 && is_sp(d[7]);
                if (dir || file) {
                        d += dir ? 10 : 7, dl -= dir ? 10 : 7;
                        trim(&d, &dl);
                        if (dl >= 2 && d[0] == '"' && d[dl - 1] == '"')
                                d++, dl -= 2;
                        if (!dir)
                                return do_include(c, d, dl, "/etc", line);
                        /* Files in the directory whose names hold no '.' and do
                         * not end in '~', as sudo reads them. */
                        char pat[4096];
                        int pl = snprintf(pat, sizeof pat, "%s%.*s/*", dl && *d != '/' ? "/etc/" : "", (int)dl, d);
                        if (pl < 0 || (size_t)pl >= sizeof pat)
                                return 0;
                        c->sudo_dir = true;
                        int r = do_include(c, pat, (size_t)pl, "/etc", line);
                        c->sudo_dir = false;
                        return r;
                }
                if (*p == '#')
                        return 0; /* a comment */
        }
        return lines_line(c, p, n, line);
}

/* One key per line, whitespace normalised (see line_key for long lines).
 * Every line is one a detector may need (a key, a grant, a cron job). */
static int lines_line(pctx *c, const char *p, size_t n, uint32_t line) {
        vd_buf k;
        vd_buf_init(&k, VD_CONF_KEY_MAX + 128);
        int r = line_key(&k, p, n);
        if (r < 0)
                r = vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        else if (k.len)
                r = put(c, k.buf, k.len, "present", 7, line, false, false, true);
        vd_buf_release(&k);
        return r;
}

bool vd_conf_id_is_zero(const char *p, size_t n) {
        /* as strtoul reads a passwd field: leading blanks and '+' allowed */
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
        if (i < n && p[i] == '+')
                i++;
        if (i == n)
                return false;
        for (; i < n; i++)
                if (p[i] != '0')
                        return false;
        return true;
}

static int parse_text(pctx *c, const char *text, size_t len, uint32_t first_line) {
        if (len > VD_CONF_FILE_MAX)
                return vd_err_set(c->err, VD_E_LIMIT, "%s: larger than %zu bytes", c->file, VD_CONF_FILE_MAX);
        uint32_t line = first_line - 1;
        size_t i = 0;
        vd_buf cont; /* sudoers: backslash continuation */
        vd_buf_init(&cont, VD_CONF_VALUE_MAX);
        uint32_t cont_line = 0;
        int r = 0;
        while (r == 0 && i < len) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t e = nl ? (size_t)(nl - text) : len;
                const char *p = text + i;
                size_t n = e - i;
                i = e + 1;
                line++;
                if (memchr(p, '\0', n))
                        continue; /* no format here holds NUL bytes: not a setting */
                if (c->format == VD_CF_SUDOERS) {
                        bool more = n && p[n - 1] == '\\';
                        if (cont.len || more) {
                                if (!cont.len)
                                        cont_line = line;
                                if (vd_buf_add(&cont, p, more ? n - 1 : n) < 0 || vd_buf_addc(&cont, ' ') < 0) {
                                        vd_buf_reset(&cont);
                                        continue;
                                }
                                if (more)
                                        continue;
                                p = cont.buf;
                                n = cont.len;
                        }
                }
                uint32_t at = cont.len ? cont_line : line;
                trim(&p, &n);
                bool comment = n == 0 || *p == '#' || (*p == ';' && c->format != VD_CF_SUDOERS);
                if (comment && !(c->format == VD_CF_SUDOERS && n > 8 && *p == '#' &&
                                 (strncmp(p + 1, "include", 7) == 0))) {
                        vd_buf_reset(&cont);
                        continue;
                }
                switch (c->format) {
                case VD_CF_SSHD: r = sshd_line(c, p, n, at); break;
                case VD_CF_SYSCTL: r = sysctl_line(c, p, n, at); break;
                case VD_CF_SHELL: r = shell_line(c, p, n, at); break;
                case VD_CF_INI: r = ini_line(c, p, n, at); break;
                case VD_CF_PASSWD:
                case VD_CF_GROUP:
                case VD_CF_SHADOW: r = colon_line(c, p, n, at); break;
                case VD_CF_SUDOERS: r = sudoers_line(c, p, n, at); break;
                default: r = lines_line(c, p, n, at); break;
                }
                vd_buf_reset(&cont);
        }
        vd_buf_release(&cont);
        free(c->section);
        c->section = NULL;
        return r;
}

int vd_conf_parse(int format, const char *file, const char *text, size_t len, vd_conf_include_fn include,
                  void *include_ctx, vd_settings *out, vd_err *err) {
        return vd_conf_parse_at(format, file, text, len, 1, include, include_ctx, out, err);
}

int vd_conf_parse_at(int format, const char *file, const char *text, size_t len, uint32_t first_line,
                     vd_conf_include_fn include, void *include_ctx, vd_settings *out, vd_err *err) {
        if (first_line == 0)
                return vd_err_set(err, VD_E_INPUT, "%s: lines count from 1", file);
        if (format <= 0 || (size_t)format >= N_FMT)
                return vd_err_set(err, VD_E_INPUT, "unknown configuration format %d", format);
        size_t files = 0;
        pctx c = {.format = format,
                  .file = file,
                  .include = include,
                  .include_ctx = include_ctx,
                  .out = out,
                  .err = err,
                  .files = &files};
        int r = parse_text(&c, text, len, first_line);
        free(c.match);
        return r;
}
