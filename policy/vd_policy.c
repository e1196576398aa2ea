#define _GNU_SOURCE
#include "vd_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "vd_buf.h"
#include "vd_str.h"

#define POLICY_FILE_MAX ((size_t)1 << 20)
#define MAX_RULES 10000
#define MAX_PATTERNS 1000
#define MAX_DOUBLE_STAR 4

static const char *const kind_names[] = {"watch", "ignore", "volatile", "per-clone", "growing"};

const char *vd_rule_kind_name(int k) { return k >= 0 && k <= VD_K_GROWING ? kind_names[k] : "unknown"; }

static const struct {
        const char *name;
        int sev;
} det_tab[VD_D_COUNT] = {
        {"setuid", VD_SEV_HIGH},          {"world-writable", VD_SEV_HIGH}, {"file-capability", VD_SEV_HIGH},
        {"uid0", VD_SEV_CRITICAL},        {"authorized-keys", VD_SEV_HIGH}, {"persistence", VD_SEV_HIGH},
        {"sudo", VD_SEV_HIGH},
};

const char *vd_detector_name(int d) { return d >= 0 && d < VD_D_COUNT ? det_tab[d].name : "unknown"; }
int vd_detector_default_severity(int d) { return d >= 0 && d < VD_D_COUNT ? det_tab[d].sev : VD_SEV_MEDIUM; }

static const struct {
        const char *name;
        uint32_t bits;
} attr_tab[] = {
        {"type", VD_A_TYPE},   {"mode", VD_A_MODE},     {"uid", VD_A_UID},       {"gid", VD_A_GID},
        {"owner", VD_A_UID | VD_A_GID},                 {"size", VD_A_SIZE},     {"mtime", VD_A_MTIME},
        {"ctime", VD_A_CTIME}, {"inode", VD_A_INODE},   {"nlink", VD_A_NLINK},   {"rdev", VD_A_RDEV},
        {"target", VD_A_TARGET},                        {"xattrs", VD_A_XATTRS}, {"hash", VD_A_HASH},
        {"content", VD_A_HASH | VD_A_SIZE},             {"times", VD_A_MTIME | VD_A_CTIME},
        {"perms", VD_A_TYPE | VD_A_MODE | VD_A_UID | VD_A_GID | VD_A_XATTRS | VD_A_TARGET | VD_A_RDEV},
        {"all", VD_A_ALL},     {"none", 0},
};

const char *vd_attr_names(void) {
        return "type mode uid gid owner size mtime ctime times inode nlink rdev target xattrs hash content perms all "
               "none";
}

static bool attr_lookup(const char *p, size_t n, uint32_t *bits) {
        for (size_t i = 0; i < sizeof attr_tab / sizeof attr_tab[0]; i++)
                if (strlen(attr_tab[i].name) == n && strncmp(p, attr_tab[i].name, n) == 0) {
                        *bits = attr_tab[i].bits;
                        return true;
                }
        return false;
}

int vd_attrs_parse(const char *list, uint32_t *ret, vd_err *err) {
        uint32_t m = 0;
        const char *p = list;
        while (*p) {
                size_t n = strcspn(p, ",");
                uint32_t bits;
                if (!attr_lookup(p, n, &bits))
                        return vd_err_set(err, VD_E_USAGE, "unknown attribute '%.*s' (expected one of: %s)", (int)n,
                                          p, vd_attr_names());
                m |= bits;
                p += n;
                if (*p == ',')
                        p++;
        }
        *ret = m;
        return 0;
}

/* ---------------- globs ---------------- */

/* One character of a component pattern against c; *adv: pattern bytes used. */
static bool glob_one(const char *p, const char *pe, unsigned char c, size_t *adv) {
        if (*p == '?') {
                *adv = 1;
                return true;
        }
        if (*p == '\\' && p + 1 < pe) {
                *adv = 2;
                return (unsigned char)p[1] == c;
        }
        if (*p == '[') {
                const char *q = p + 1;
                bool neg = q < pe && (*q == '!' || *q == '^');
                if (neg)
                        q++;
                const char *start = q;
                bool hit = false;
                while (q < pe && (*q != ']' || q == start)) {
                        unsigned char lo = (unsigned char)*q, hi = lo;
                        if (q + 2 < pe && q[1] == '-' && q[2] != ']') {
                                hi = (unsigned char)q[2];
                                q += 2;
                        }
                        if (c >= lo && c <= hi)
                                hit = true;
                        q++;
                }
                if (q < pe) { /* found the closing ']' */
                        *adv = (size_t)(q + 1 - p);
                        return hit != neg;
                }
        }
        *adv = 1;
        return (unsigned char)*p == c;
}

static bool glob_comp(const char *p, const char *pe, const char *s, const char *se) {
        const char *star_p = NULL, *star_s = NULL;
        while (s < se) {
                if (p < pe && *p == '*') {
                        star_p = ++p;
                        star_s = s;
                        continue;
                }
                size_t adv;
                if (p < pe && glob_one(p, pe, (unsigned char)*s, &adv)) {
                        p += adv;
                        s++;
                        continue;
                }
                if (!star_p)
                        return false;
                p = star_p;
                s = ++star_s;
        }
        while (p < pe && *p == '*')
                p++;
        return p == pe;
}

static const char *comp_end(const char *p, const char *pe) {
        const char *q = memchr(p, '/', (size_t)(pe - p));
        return q ? q : pe;
}

static bool glob_from(const char *p, const char *pe, const char *s, const char *se) {
        for (;;) {
                if (p == pe)
                        return s == se;
                const char *pce = comp_end(p, pe);
                if (pce - p == 2 && p[0] == '*' && p[1] == '*') {
                        const char *np = pce == pe ? pe : pce + 1;
                        if (np == pe)
                                return true;
                        for (const char *t = s;;) {
                                if (glob_from(np, pe, t, se))
                                        return true;
                                const char *sl = memchr(t, '/', (size_t)(se - t));
                                if (!sl)
                                        return false;
                                t = sl + 1;
                        }
                }
                if (s == se)
                        return false;
                const char *sce = comp_end(s, se);
                if (!glob_comp(p, pce, s, sce))
                        return false;
                if (pce == pe)
                        return sce == se;
                p = pce + 1;
                s = sce == se ? se : sce + 1;
        }
}

bool vd_glob_match(const char *pattern, const char *path, size_t len) {
        size_t pl = strlen(pattern);
        if (pl && pattern[0] == '/')
                pattern++, pl--;
        if (len && path[0] == '/')
                path++, len--;
        return glob_from(pattern, pattern + pl, path, path + len);
}

typedef struct pat {
        char *text;
        size_t len;
        size_t prefix_len; /* literal bytes every match starts with */
        size_t suffix_len; /* literal bytes every match ends with */
        bool literal;
} pat;

static int pat_init(pat *pt, const char *s) {
        pt->text = strdup(s);
        if (!pt->text)
                return VD_E_NOMEM;
        size_t n = strcspn(s, "*?[\\");
        pt->literal = s[n] == '\0';
        pt->prefix_len = n;
        /* "/etc/ssh/" + "**" also matches "/etc/ssh": the quick check may only
         * require what every match starts with. */
        if (!pt->literal)
                while (pt->prefix_len > 0 && s[pt->prefix_len - 1] != '/')
                        pt->prefix_len--;
        if (pt->prefix_len > 1)
                pt->prefix_len--;
        /* The bytes after the last wildcard end every match (".bak" for a
         * pattern ending in "*.bak"): most paths are turned away by two memcmp calls. */
        pt->len = strlen(s);
        pt->suffix_len = 0;
        if (!pt->literal && !strchr(s, '\\')) {
                size_t i = pt->len;
                while (i > 0 && !strchr("*?[]", s[i - 1]))
                        i--;
                pt->suffix_len = pt->len - i;
        }
        return 0;
}

static bool pat_match(const pat *pt, const char *path, size_t len) {
        if (pt->literal)
                return pt->len == len && memcmp(pt->text, path, len) == 0;
        if (len < pt->prefix_len || memcmp(pt->text, path, pt->prefix_len) != 0)
                return false;
        if (pt->suffix_len &&
            (len < pt->suffix_len || memcmp(pt->text + pt->len - pt->suffix_len, path + len - pt->suffix_len,
                                            pt->suffix_len) != 0))
                return false;
        return vd_glob_match(pt->text, path, len);
}

/* ---------------- the policy ---------------- */

typedef struct prule {
        vd_rule r;
        char *name, *user, *group;
        pat *inc, *exc;
        size_t n_inc, n_exc;
        uint32_t line;
} prule;

typedef struct det_conf {
        bool on;
        int sev;
        pat *exc;
        size_t n_exc;
} det_conf;

typedef struct group_def {
        char *name;
        uint32_t bits;
} group_def;

struct vd_policy {
        char *source;
        vd_rule def;
        prule *rules;
        size_t n_rules;
        vd_conf_item *items;
        size_t n_items;
        det_conf det[VD_D_COUNT];
        int hash_algo;
        group_def *groups;
        size_t n_groups;
        char *description;
        /* Rule index: the literal prefix of every include pattern (a
         * directory path, or a whole literal path) -> the rules that have a
         * pattern there, ascending. A path looks up each of its ancestors. */
        struct pidx *idx;
        size_t idx_cap; /* power of two; 0: no index */
};

typedef struct pidx {
        uint64_t h;
        const char *key; /* points into a pattern's text */
        size_t klen;
        uint32_t *rules;
        size_t n, alloc;
} pidx;

static uint64_t fnv_step(uint64_t h, unsigned char c) { return (h ^ c) * 0x100000001b3ull; }
#define FNV_INIT 0xcbf29ce484222325ull

static pidx *idx_slot(pidx *t, size_t cap, uint64_t h, const char *k, size_t kl) {
        for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
                if (!t[i].key || (t[i].h == h && t[i].klen == kl && memcmp(t[i].key, k, kl) == 0))
                        return &t[i];
}

static void idx_free(vd_policy *p) {
        for (size_t i = 0; i < p->idx_cap; i++)
                free(p->idx[i].rules);
        free(p->idx);
        p->idx = NULL;
        p->idx_cap = 0;
}

static int idx_build(vd_policy *p) {
        size_t n_pat = 0;
        for (size_t i = 0; i < p->n_rules; i++)
                n_pat += p->rules[i].n_inc;
        size_t cap = 16;
        while (cap < n_pat * 2)
                cap *= 2;
        p->idx = calloc(cap, sizeof *p->idx);
        if (!p->idx)
                return VD_E_NOMEM;
        p->idx_cap = cap;
        for (size_t i = 0; i < p->n_rules; i++)
                for (size_t j = 0; j < p->rules[i].n_inc; j++) {
                        const pat *pt = &p->rules[i].inc[j];
                        size_t kl = pt->literal ? pt->len : pt->prefix_len;
                        uint64_t h = FNV_INIT;
                        for (size_t k = 0; k < kl; k++)
                                h = fnv_step(h, (unsigned char)pt->text[k]);
                        pidx *e = idx_slot(p->idx, cap, h, pt->text, kl);
                        if (!e->key) {
                                e->h = h;
                                e->key = pt->text;
                                e->klen = kl;
                        }
                        if (e->n && e->rules[e->n - 1] == (uint32_t)i)
                                continue;
                        if (vd_array_grow(&e->rules, &e->alloc, e->n, sizeof *e->rules, 4) < 0)
                                return VD_E_NOMEM;
                        e->rules[e->n++] = (uint32_t)i;
                }
        return 0;
}

static void pats_free(pat *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].text);
        free(p);
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void item_release(vd_conf_item *it) {
        free(it->name);
        strv_free(it->paths, it->n_paths);
        strv_free(it->secret, it->n_secret);
        for (size_t i = 0; i < it->n_checks; i++) {
                free(it->checks[i].key);
                free(it->checks[i].value);
                if (it->checks[i].op == VD_CHK_MATCH)
                        regfree(&it->checks[i].re);
        }
        free(it->checks);
}

void vd_policy_free(vd_policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_rules; i++) {
                prule *r = &p->rules[i];
                free(r->name);
                free(r->user);
                free(r->group);
                pats_free(r->inc, r->n_inc);
                pats_free(r->exc, r->n_exc);
        }
        free(p->rules);
        for (size_t i = 0; i < p->n_items; i++)
                item_release(&p->items[i]);
        free(p->items);
        for (int d = 0; d < VD_D_COUNT; d++)
                pats_free(p->det[d].exc, p->det[d].n_exc);
        for (size_t i = 0; i < p->n_groups; i++)
                free(p->groups[i].name);
        free(p->groups);
        idx_free(p);
        free(p->source);
        free(p->description);
        free(p);
}

static vd_policy *policy_alloc(const char *source) {
        vd_policy *p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->source = strdup(source);
        if (!p->source) {
                free(p);
                return NULL;
        }
        p->def.name = "default";
        p->def.kind = VD_K_WATCH;
        p->def.attrs = VD_A_ALL;
        p->def.dir_attrs = VD_A_ALL & ~VD_A_DIR_OFF;
        p->def.severity = -1;
        for (int d = 0; d < VD_D_COUNT; d++) {
                p->det[d].on = true;
                p->det[d].sev = det_tab[d].sev;
        }
        return p;
}

/* Configuration files the detectors read, unless the policy already names
 * them or the detector is off. */
static const struct {
        int det;
        int format;
        bool merge;
        const char *paths[6];
} det_items[] = {
        {VD_D_UID0, VD_CF_PASSWD, false, {"/etc/passwd"}},
        {VD_D_SUDO, VD_CF_SUDOERS, false, {"/etc/sudoers"}},
        {VD_D_AUTH_KEYS,
         VD_CF_LINES,
         false,
         {"/root/.ssh/authorized_keys", "/root/.ssh/authorized_keys2", "/home/*/.ssh/authorized_keys",
          "/home/*/.ssh/authorized_keys2"}},
        {VD_D_PERSISTENCE,
         VD_CF_LINES,
         false,
         {"/etc/crontab", "/etc/cron.d/*", "/var/spool/cron/crontabs/*", "/var/spool/cron/*", "/etc/ld.so.preload"}},
};

static int strv_push(char ***v, size_t *n, const char *s) {
        char **nv = realloc(*v, (*n + 1) * sizeof *nv);
        if (!nv)
                return VD_E_NOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return VD_E_NOMEM;
        (*n)++;
        return 0;
}

static vd_conf_item *item_push(vd_policy *p) {
        vd_conf_item *ni = realloc(p->items, (p->n_items + 1) * sizeof *ni);
        if (!ni)
                return NULL;
        p->items = ni;
        vd_conf_item *it = &ni[p->n_items++];
        memset(it, 0, sizeof *it);
        it->severity = VD_SEV_MEDIUM;
        it->detector = -1;
        return it;
}

static bool item_names(const vd_policy *p, const char *path) {
        for (size_t i = 0; i < p->n_items; i++)
                for (size_t j = 0; j < p->items[i].n_paths; j++)
                        if (strcmp(p->items[i].paths[j], path) == 0)
                                return true;
        return false;
}

static int add_detector_items(vd_policy *p) {
        for (size_t i = 0; i < sizeof det_items / sizeof det_items[0]; i++) {
                if (!p->det[det_items[i].det].on || item_names(p, det_items[i].paths[0]))
                        continue;
                vd_conf_item *it = item_push(p);
                if (!it)
                        return VD_E_NOMEM;
                it->detector = det_items[i].det;
                it->format = det_items[i].format;
                it->merge = det_items[i].merge;
                it->severity = VD_SEV_LOW; /* raised by the detector where it matters */
                for (size_t j = 0; j < 6 && det_items[i].paths[j]; j++)
                        if (strv_push(&it->paths, &it->n_paths, det_items[i].paths[j]) < 0)
                                return VD_E_NOMEM;
                it->name = strdup(it->paths[0]);
                if (!it->name)
                        return VD_E_NOMEM;
        }
        return 0;
}

int vd_policy_new_default(vd_policy **ret, vd_err *err) {
        vd_policy *p = policy_alloc("built-in default");
        if (!p || add_detector_items(p) < 0) {
                vd_policy_free(p);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        *ret = p;
        return 0;
}

void vd_policy_ignore(vd_policy *p, uint32_t attrs) {
        p->def.attrs &= ~attrs;
        p->def.dir_attrs &= ~attrs;
        for (size_t i = 0; i < p->n_rules; i++) {
                p->rules[i].r.attrs &= ~attrs;
                p->rules[i].r.dir_attrs &= ~attrs;
        }
}

static bool pats_any(const pat *v, size_t n, const char *path, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (pat_match(&v[i], path, len))
                        return true;
        return false;
}

static bool rule_matches(const prule *r, const char *path, size_t len) {
        return pats_any(r->inc, r->n_inc, path, len) && !pats_any(r->exc, r->n_exc, path, len);
}

#define MAX_CANDIDATES 512

const vd_rule *vd_policy_match(const vd_policy *p, const char *path, size_t len, int ftype) {
        (void)ftype;
        if (!p->idx_cap || len == 0 || path[0] != '/') {
                for (size_t i = 0; i < p->n_rules; i++)
                        if (rule_matches(&p->rules[i], path, len))
                                return &p->rules[i].r;
                return &p->def;
        }
        /* Candidates: the rules with a pattern rooted at "/", at an ancestor
         * directory of path, or at path itself. Then the first in file order
         * that matches wins, exactly as a linear walk would decide. */
        uint32_t cand[MAX_CANDIDATES];
        size_t nc = 0;
        bool overflow = false;
        uint64_t h = fnv_step(FNV_INIT, '/');
        for (size_t i = 1; i <= len && !overflow; i++) {
                if (i == 1 || i == len || path[i] == '/') {
                        size_t kl = i == 1 ? 1 : i;
                        uint64_t hk = i == 1 ? fnv_step(FNV_INIT, '/') : h;
                        const pidx *e = idx_slot(p->idx, p->idx_cap, hk, path, kl);
                        if (e->key) {
                                if (nc + e->n > MAX_CANDIDATES)
                                        overflow = true;
                                else {
                                        memcpy(cand + nc, e->rules, e->n * sizeof *cand);
                                        nc += e->n;
                                }
                        }
                }
                if (i < len)
                        h = fnv_step(h, (unsigned char)path[i]);
        }
        if (overflow) {
                for (size_t i = 0; i < p->n_rules; i++)
                        if (rule_matches(&p->rules[i], path, len))
                                return &p->rules[i].r;
                return &p->def;
        }
        for (size_t i = 1; i < nc; i++) { /* insertion sort: a handful of entries */
                uint32_t v = cand[i];
                size_t j = i;
                while (j > 0 && cand[j - 1] > v) {
                        cand[j] = cand[j - 1];
                        j--;
                }
                cand[j] = v;
        }
        for (size_t i = 0; i < nc; i++)
                if ((i == 0 || cand[i] != cand[i - 1]) && rule_matches(&p->rules[cand[i]], path, len))
                        return &p->rules[cand[i]].r;
        return &p->def;
}

const char *vd_policy_source(const vd_policy *p) { return p->source; }
int vd_policy_hash_algo(const vd_policy *p) { return p->hash_algo; }
size_t vd_policy_n_rules(const vd_policy *p) { return p->n_rules; }

/* Does every path b can match also match a? Sound, not complete: a is b
 * itself, or "D/" + "**" with D literal and b rooted at or under D. */
static bool pat_covers(const pat *a, const pat *b) {
        if (strcmp(a->text, b->text) == 0)
                return true;
        size_t al = a->len;
        if (al < 3 || strcmp(a->text + al - 3, "/**") != 0)
                return false;
        size_t dl = al - 3;
        if (strcspn(a->text, "*?[\\") < dl)
                return false; /* D itself has wildcards */
        if (dl == 0)
                return true; /* "/" + "**": everything */
        size_t bl = strcspn(b->text, "*?[\\");
        return bl >= dl && memcmp(b->text, a->text, dl) == 0 && (b->text[dl] == '/' || b->text[dl] == '\0');
}

void vd_policy_shadowed(const vd_policy *p, vd_shadow_fn fn, void *ctx) {
        for (size_t j = 1; j < p->n_rules; j++) {
                const prule *b = &p->rules[j];
                for (size_t i = 0; i < j; i++) {
                        const prule *a = &p->rules[i];
                        if (a->n_exc)
                                continue;
                        bool all = true;
                        for (size_t k = 0; all && k < b->n_inc; k++) {
                                bool one = false;
                                for (size_t m = 0; !one && m < a->n_inc; m++)
                                        one = pat_covers(&a->inc[m], &b->inc[k]);
                                all = one;
                        }
                        if (all) {
                                fn(ctx, b->name, b->line, a->name, a->line);
                                break;
                        }
                }
        }
}

bool vd_policy_detector_on(const vd_policy *p, int d, const char *path, size_t len) {
        if (d < 0 || d >= VD_D_COUNT || !p->det[d].on)
                return false;
        return !path || !pats_any(p->det[d].exc, p->det[d].n_exc, path, len);
}

int vd_policy_detector_severity(const vd_policy *p, int d) {
        return d >= 0 && d < VD_D_COUNT ? p->det[d].sev : VD_SEV_MEDIUM;
}

size_t vd_policy_conf_items(const vd_policy *p, const vd_conf_item **ret) {
        *ret = p->items;
        return p->n_items;
}

bool vd_conf_item_secret(const vd_conf_item *it, const char *key) {
        for (size_t i = 0; i < it->n_secret; i++)
                if (vd_glob_match(it->secret[i], key, strlen(key)) ||
                    (it->format == VD_CF_SSHD && strcasecmp(it->secret[i], key) == 0))
                        return true;
        return false;
}

static const vd_setting *find_setting(const vd_conf_item *it, const vd_settings *set, const char *key) {
        if (it->format != VD_CF_SSHD)
                return vd_settings_find(set, key);
        for (size_t i = 0; i < set->n; i++)
                if (strcasecmp(set->v[i].key, key) == 0)
                        return &set->v[i];
        return NULL;
}

int vd_conf_check(const vd_conf_item *it, const vd_settings *set, vd_violation_fn fn, void *ctx) {
        bool icase = it->format == VD_CF_SSHD;
        for (size_t i = 0; i < it->n_checks; i++) {
                const vd_check *c = &it->checks[i];
                const vd_setting *s = find_setting(it, set, c->key);
                char msg[VD_CONF_VALUE_MAX + 64];
                msg[0] = '\0';
                switch (c->op) {
                case VD_CHK_EXPECT:
                        if (!s)
                                snprintf(msg, sizeof msg, "not set; expected \"%s\"", c->value);
                        else if (icase ? strcasecmp(s->value, c->value) : strcmp(s->value, c->value))
                                snprintf(msg, sizeof msg, "expected \"%s\"", c->value);
                        break;
                case VD_CHK_FORBID:
                        if (s && (!c->value[0] || (icase ? !strcasecmp(s->value, c->value) : !strcmp(s->value, c->value))))
                                snprintf(msg, sizeof msg, c->value[0] ? "forbidden value" : "forbidden setting");
                        break;
                case VD_CHK_MATCH:
                        if (!s)
                                snprintf(msg, sizeof msg, "not set; expected a value matching /%s/", c->value);
                        else if (regexec(&c->re, s->value, 0, NULL, 0) != 0)
                                snprintf(msg, sizeof msg, "does not match /%s/", c->value);
                        break;
                default: break;
                }
                if (msg[0]) {
                        int r = fn(ctx, it, c, s, msg);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* ---------------- canonical form ---------------- */

static int canon_str(vd_buf *b, const char *s) {
        int r = vd_buf_addc(b, '"');
        if (!r)
                r = vd_escape_json(b, s ? s : "", s ? strlen(s) : 0);
        if (!r)
                r = vd_buf_addc(b, '"');
        return r;
}

int vd_policy_canonical(const vd_policy *p, vd_buf *out) {
        int r = vd_buf_addf(out, "vmdrift-policy-v2\nhash %d\ndefault %x %x %d\n", p->hash_algo, p->def.attrs,
                            p->def.dir_attrs, p->def.severity);
        for (size_t i = 0; !r && i < p->n_rules; i++) {
                const prule *pr = &p->rules[i];
                const vd_rule *ru = &pr->r;
                r = vd_buf_adds(out, "rule ");
                if (!r)
                        r = canon_str(out, pr->name);
                if (!r)
                        r = vd_buf_addf(out, " %d %x %x %d %d:%u %d:%u %d:%o ", ru->kind, ru->attrs, ru->dir_attrs,
                                        ru->severity, ru->has_uid, ru->uid, ru->has_gid, ru->gid, ru->has_mode,
                                        ru->mode);
                if (!r)
                        r = canon_str(out, pr->user);
                if (!r)
                        r = canon_str(out, pr->group);
                for (size_t j = 0; !r && j < pr->n_inc; j++) {
                        r = vd_buf_adds(out, " +");
                        if (!r)
                                r = canon_str(out, pr->inc[j].text);
                }
                for (size_t j = 0; !r && j < pr->n_exc; j++) {
                        r = vd_buf_adds(out, " -");
                        if (!r)
                                r = canon_str(out, pr->exc[j].text);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        for (size_t i = 0; !r && i < p->n_items; i++) {
                const vd_conf_item *it = &p->items[i];
                r = vd_buf_addf(out, "config %d %d %d %d name=", it->format, it->merge, it->severity, it->detector);
                if (!r)
                        r = canon_str(out, it->name);
                for (size_t j = 0; !r && j < it->n_paths; j++) {
                        r = vd_buf_adds(out, " path=");
                        if (!r)
                                r = canon_str(out, it->paths[j]);
                }
                for (size_t j = 0; !r && j < it->n_secret; j++) {
                        r = vd_buf_adds(out, " secret=");
                        if (!r)
                                r = canon_str(out, it->secret[j]);
                }
                for (size_t j = 0; !r && j < it->n_checks; j++) {
                        r = vd_buf_addf(out, " check%d=", it->checks[j].op);
                        if (!r)
                                r = canon_str(out, it->checks[j].key);
                        if (!r)
                                r = canon_str(out, it->checks[j].value);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        for (int d = 0; !r && d < VD_D_COUNT; d++) {
                r = vd_buf_addf(out, "detector %s %d %d", det_tab[d].name, p->det[d].on, p->det[d].sev);
                for (size_t j = 0; !r && j < p->det[d].n_exc; j++) {
                        r = vd_buf_adds(out, " -");
                        if (!r)
                                r = canon_str(out, p->det[d].exc[j].text);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        return r;
}

/* ---------------- the YAML loader ---------------- */

typedef struct ld {
        const char *file;
        yaml_document_t doc;
        vd_err *err;
        vd_policy *p;
        unsigned char *seen;
        size_t n_nodes;
} ld;

static int fail(ld *l, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ld *l, const yaml_node_t *n, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return vd_err_set(l->err, VD_E_INPUT, "%s:%zu:%zu: %s", l->file, n ? n->start_mark.line + 1 : 1,
                          n ? n->start_mark.column + 1 : 1, msg);
}

static const char *node_kind(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_SCALAR_NODE: return "a scalar";
        case YAML_SEQUENCE_NODE: return "a list";
        case YAML_MAPPING_NODE: return "a mapping";
        default: return "nothing";
        }
}

/* Every node is visited once: a second visit is an alias, which we refuse
 * (no billion laughs, and no surprises about what a rule shares). */
static yaml_node_t *get(ld *l, int id, const yaml_node_t *parent) {
        yaml_node_t *n = yaml_document_get_node(&l->doc, id);
        if (!n) {
                fail(l, parent, "damaged document");
                return NULL;
        }
        size_t i = (size_t)(id - 1);
        if (i < l->n_nodes) {
                if (l->seen[i]) {
                        fail(l, n, "aliases (*name) are not supported in a policy");
                        return NULL;
                }
                l->seen[i] = 1;
        }
        return n;
}

static int scalar(ld *l, const yaml_node_t *n, const char *what, const char **ret) {
        if (n->type != YAML_SCALAR_NODE)
                return fail(l, n, "expected %s (a scalar), got %s", what, node_kind(n));
        const char *s = (const char *)n->data.scalar.value;
        if (strlen(s) != n->data.scalar.length)
                return fail(l, n, "expected %s, got a value with a NUL byte", what);
        *ret = s;
        return 0;
}

static int boolean(ld *l, const yaml_node_t *n, const char *what, bool *ret) {
        const char *s = NULL;
        int r = scalar(l, n, what, &s);
        if (r < 0)
                return r;
        if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
                *ret = true;
        else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
                *ret = false;
        else
                return fail(l, n, "expected %s: true or false, got '%s'", what, s);
        return 0;
}

static int severity(ld *l, const yaml_node_t *n, int *ret) {
        const char *s = NULL;
        int r = scalar(l, n, "a severity", &s);
        if (r < 0)
                return r;
        *ret = vd_severity_from_name(s);
        if (*ret < 0)
                return fail(l, n, "expected a severity (info, low, medium, high, critical), got '%s'", s);
        return 0;
}

/* A string or a list of strings. */
typedef int (*str_fn)(ld *l, const yaml_node_t *n, const char *s, void *ctx);

static int strings(ld *l, const yaml_node_t *n, const char *what, str_fn fn, void *ctx) {
        const char *s;
        if (n->type == YAML_SCALAR_NODE) {
                int r = scalar(l, n, what, &s);
                return r < 0 ? r : fn(l, n, s, ctx);
        }
        if (n->type != YAML_SEQUENCE_NODE)
                return fail(l, n, "expected %s or a list of them, got %s", what, node_kind(n));
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
                yaml_node_t *c = get(l, *it, n);
                if (!c)
                        return VD_E_INPUT;
                int r = scalar(l, c, what, &s);
                if (r == 0)
                        r = fn(l, c, s, ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Iterate a mapping: fn(key string, key node, value node). */
typedef int (*map_fn)(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx);

static int mapping_range(ld *l, const yaml_node_t *n, yaml_node_pair_t *from, yaml_node_pair_t *to,
                         const char *what, map_fn fn, void *ctx) {
        for (yaml_node_pair_t *pr = from; pr < to; pr++) {
                yaml_node_t *kn = get(l, pr->key, n), *vn = kn ? get(l, pr->value, n) : NULL;
                if (!kn || !vn)
                        return VD_E_INPUT;
                const char *k;
                int r = scalar(l, kn, "a key", &k);
                if (r == 0)
                        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pr; q++) {
                                yaml_node_t *pk = yaml_document_get_node(&l->doc, q->key);
                                if (pk && pk->type == YAML_SCALAR_NODE && !strcmp((char *)pk->data.scalar.value, k)) {
                                        r = fail(l, kn, "duplicate key '%s' in %s", k, what);
                                        break;
                                }
                        }
                if (r == 0)
                        r = fn(l, k, kn, vn, ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mapping(ld *l, const yaml_node_t *n, const char *what, map_fn fn, void *ctx) {
        if (n->type != YAML_MAPPING_NODE)
                return fail(l, n, "expected %s (a mapping), got %s", what, node_kind(n));
        return mapping_range(l, n, n->data.mapping.pairs.start, n->data.mapping.pairs.top, what, fn, ctx);
}

static int unknown(ld *l, const yaml_node_t *kn, const char *k, const char *where, const char *expected) {
        return fail(l, kn, "unknown key '%s' in %s (expected one of: %s)", k, where, expected);
}

/* Attribute expression: "perms+content-mtime", "hash,size", or a list of
 * such terms; groups defined in `groups` may be used by name. */
static int attr_term(ld *l, const yaml_node_t *n, const char *s, uint32_t *m) {
        const char *p = s;
        bool first = true;
        while (*p) {
                while (*p == ' ')
                        p++;
                char op = '+';
                if (*p == '+' || *p == '-' || *p == ',') {
                        op = *p == '-' ? '-' : '+';
                        p++;
                } else if (!first) {
                        return fail(l, n, "expected '+' or '-' between attributes in '%s'", s);
                }
                while (*p == ' ')
                        p++;
                size_t k = strcspn(p, "+-, ");
                if (k == 0)
                        return fail(l, n, "expected an attribute name in '%s'", s);
                uint32_t bits = 0;
                bool found = attr_lookup(p, k, &bits);
                for (size_t g = 0; !found && g < l->p->n_groups; g++)
                        if (strlen(l->p->groups[g].name) == k && !strncmp(l->p->groups[g].name, p, k)) {
                                bits = l->p->groups[g].bits;
                                found = true;
                        }
                if (!found)
                        return fail(l, n, "unknown attribute or group '%.*s' (expected one of: %s, or a name from groups)",
                                    (int)k, p, vd_attr_names());
                if (op == '-')
                        *m &= ~bits;
                else
                        *m |= bits;
                p += k;
                while (*p == ' ')
                        p++;
                first = false;
        }
        return 0;
}

static int attr_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) { return attr_term(l, n, s, ctx); }

static int attrs_node(ld *l, const yaml_node_t *n, uint32_t *ret) {
        uint32_t m = 0;
        int r = strings(l, n, "an attribute expression", attr_cb, &m);
        if (r == 0)
                *ret = m;
        return r;
}

static int group_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        uint32_t bits;
        if (attr_lookup(k, strlen(k), &bits))
                return fail(l, kn, "group '%s' would shadow the attribute of that name", k);
        int r = attrs_node(l, vn, &bits);
        if (r < 0)
                return r;
        group_def *ng = realloc(l->p->groups, (l->p->n_groups + 1) * sizeof *ng);
        if (!ng)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        l->p->groups = ng;
        ng[l->p->n_groups].name = strdup(k);
        ng[l->p->n_groups].bits = bits;
        if (!ng[l->p->n_groups].name)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        l->p->n_groups++;
        return 0;
}

static int default_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        vd_rule *d = &l->p->def;
        if (!strcmp(k, "attrs")) {
                int r = attrs_node(l, vn, &d->attrs);
                d->dir_attrs = d->attrs & ~VD_A_DIR_OFF;
                return r;
        }
        if (!strcmp(k, "severity"))
                return severity(l, vn, &d->severity);
        return unknown(l, kn, k, "default", "attrs, severity");
}

typedef struct pats_ctx {
        pat **v;
        size_t *n;
} pats_ctx;

static int pat_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        pats_ctx *pc = ctx;
        if (s[0] != '/')
                return fail(l, n, "expected an absolute path pattern (starting with '/'), got '%s'", s);
        size_t ds = 0;
        for (const char *q = s; (q = strstr(q, "**")); q += 2)
                ds++;
        if (ds > MAX_DOUBLE_STAR)
                return fail(l, n, "at most %d '**' in one pattern", MAX_DOUBLE_STAR);
        for (const char *q = s; (q = strstr(q, "**")); q += 2)
                if ((q != s && q[-1] != '/') || (q[2] && q[2] != '/'))
                        return fail(l, n, "'**' must be a whole path component (as in /var/**/x), in '%s'", s);
        if (*pc->n >= MAX_PATTERNS)
                return fail(l, n, "more than %d patterns", MAX_PATTERNS);
        pat *nv = realloc(*pc->v, (*pc->n + 1) * sizeof *nv);
        if (!nv)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        *pc->v = nv;
        if (pat_init(&nv[*pc->n], s) < 0)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        (*pc->n)++;
        return 0;
}

static int owner_value(ld *l, const yaml_node_t *vn, bool *has, uint32_t *id, char **name) {
        const char *s = NULL;
        int r = scalar(l, vn, "a user or group (name or number)", &s);
        if (r < 0)
                return r;
        uint64_t u;
        if (vd_parse_u64(s, &u)) {
                if (u > UINT32_MAX)
                        return fail(l, vn, "expected an id below 2^32, got '%s'", s);
                *id = (uint32_t)u;
                *has = true;
                return 0;
        }
        if (!s[0] || strpbrk(s, ":/ \t\n"))
                return fail(l, vn, "expected a user or group name or number, got '%s'", s);
        free(*name);
        *name = strdup(s);
        return *name ? 0 : vd_err_set(l->err, VD_E_NOMEM, "out of memory");
}

typedef struct rule_ctx {
        prule *r;
        bool has_attrs;
} rule_ctx;

static int rule_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        rule_ctx *rc = ctx;
        prule *r = rc->r;
        const char *s;
        int x;
        if (!strcmp(k, "name")) {
                if ((x = scalar(l, vn, "a rule name", &s)) < 0)
                        return x;
                if (!s[0] || strpbrk(s, "\n\r\"\\]"))
                        return fail(l, vn, "expected a rule name without quotes, backslashes, ']' or newlines");
                free(r->name);
                r->name = strdup(s);
                return r->name ? 0 : vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        }
        if (!strcmp(k, "paths") || !strcmp(k, "path"))
                return strings(l, vn, "a path pattern", pat_cb, &(pats_ctx){&r->inc, &r->n_inc});
        if (!strcmp(k, "exclude"))
                return strings(l, vn, "a path pattern", pat_cb, &(pats_ctx){&r->exc, &r->n_exc});
        if (!strcmp(k, "kind")) {
                if ((x = scalar(l, vn, "a rule kind", &s)) < 0)
                        return x;
                for (int i = 0; i <= VD_K_GROWING; i++)
                        if (!strcmp(s, kind_names[i])) {
                                r->r.kind = i;
                                return 0;
                        }
                return fail(l, vn, "expected a rule kind (watch, ignore, volatile, per-clone, growing), got '%s'", s);
        }
        if (!strcmp(k, "attrs")) {
                rc->has_attrs = true;
                return attrs_node(l, vn, &r->r.attrs);
        }
        if (!strcmp(k, "severity"))
                return severity(l, vn, &r->r.severity);
        if (!strcmp(k, "owner"))
                return owner_value(l, vn, &r->r.has_uid, &r->r.uid, &r->user);
        if (!strcmp(k, "group"))
                return owner_value(l, vn, &r->r.has_gid, &r->r.gid, &r->group);
        if (!strcmp(k, "mode")) {
                if ((x = scalar(l, vn, "an octal mode", &s)) < 0)
                        return x;
                char *end;
                errno = 0;
                unsigned long m = strtoul(s, &end, 8);
                if (!s[0] || *end || errno || m > 07777)
                        return fail(l, vn, "expected an octal mode such as \"0600\", got '%s'", s);
                r->r.mode = (uint32_t)m;
                r->r.has_mode = true;
                return 0;
        }
        return unknown(l, kn, k, "a rule", "name, paths, exclude, kind, attrs, severity, owner, group, mode");
}

static int rules_node(ld *l, const yaml_node_t *n) {
        if (n->type != YAML_SEQUENCE_NODE)
                return fail(l, n, "expected the rules (a list), got %s", node_kind(n));
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
                yaml_node_t *c = get(l, *it, n);
                if (!c)
                        return VD_E_INPUT;
                if (l->p->n_rules >= MAX_RULES)
                        return fail(l, c, "more than %d rules", MAX_RULES);
                prule *nr = realloc(l->p->rules, (l->p->n_rules + 1) * sizeof *nr);
                if (!nr)
                        return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
                l->p->rules = nr;
                prule *r = &nr[l->p->n_rules++];
                memset(r, 0, sizeof *r);
                r->r.severity = -1;
                r->line = (uint32_t)c->start_mark.line + 1;
                rule_ctx rc = {r, false};
                int x = mapping(l, c, "a rule", rule_cb, &rc);
                if (x < 0)
                        return x;
                if (!r->name)
                        return fail(l, c, "expected a 'name' in this rule (events carry it)");
                r->r.name = r->name;
                r->r.user = r->user;
                r->r.group = r->group;
                for (size_t j = 0; j + 1 < l->p->n_rules; j++)
                        if (!strcmp(l->p->rules[j].name, r->name))
                                return fail(l, c, "a second rule named '%s' (the first is on line %u)", r->name,
                                            l->p->rules[j].line);
                if (r->n_inc == 0)
                        return fail(l, c, "expected 'paths' in rule '%s'", r->name);
                if (!rc.has_attrs)
                        r->r.attrs = r->r.kind == VD_K_PER_CLONE ? VD_A_TYPE | VD_A_MODE | VD_A_UID | VD_A_GID
                                                                 : l->p->def.attrs;
                if ((r->user || r->group || r->r.has_uid || r->r.has_gid || r->r.has_mode) &&
                    r->r.kind != VD_K_PER_CLONE)
                        return fail(l, c, "owner, group and mode expectations need kind: per-clone (rule '%s')",
                                    r->name);
                if (r->r.kind == VD_K_VOLATILE)
                        r->r.attrs &= ~(VD_A_HASH | VD_A_SIZE | VD_A_MTIME | VD_A_CTIME | VD_A_INODE);
                if (r->r.kind == VD_K_GROWING) /* a shrinking size is checked by the compare engine */
                        r->r.attrs &= ~(VD_A_HASH | VD_A_SIZE | VD_A_MTIME | VD_A_CTIME);
                if (r->r.kind == VD_K_PER_CLONE)
                        r->r.attrs &= VD_A_TYPE | VD_A_MODE | VD_A_UID | VD_A_GID | VD_A_XATTRS;
                r->r.dir_attrs = r->r.attrs & ~VD_A_DIR_OFF;
        }
        return 0;
}

/* config: items */

typedef struct item_ctx {
        vd_conf_item *it;
        const yaml_node_t *format_node;
} item_ctx;

static int path_str_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        vd_conf_item *it = ctx;
        if (s[0] != '/')
                return fail(l, n, "expected an absolute path (or glob), got '%s'", s);
        if (it->n_paths >= 64)
                return fail(l, n, "more than 64 paths in one config item");
        return strv_push(&it->paths, &it->n_paths, s) < 0 ? vd_err_set(l->err, VD_E_NOMEM, "out of memory") : 0;
}

static int secret_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        vd_conf_item *it = ctx;
        return strv_push(&it->secret, &it->n_secret, s) < 0 ? vd_err_set(l->err, VD_E_NOMEM, "out of memory") : 0;
}

static int add_check(ld *l, vd_conf_item *it, int op, const yaml_node_t *kn, const char *key, const char *value) {
        if (it->n_checks >= 1000)
                return fail(l, kn, "more than 1000 checks in one config item");
        vd_check *nc = realloc(it->checks, (it->n_checks + 1) * sizeof *nc);
        if (!nc)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        it->checks = nc;
        vd_check *c = &nc[it->n_checks];
        memset(c, 0, sizeof *c);
        c->op = op;
        c->line = (uint32_t)kn->start_mark.line + 1;
        c->col = (uint32_t)kn->start_mark.column + 1;
        if (op == VD_CHK_MATCH) {
                int rr = regcomp(&c->re, value, REG_EXTENDED | REG_NOSUB);
                if (rr != 0) {
                        char eb[256];
                        regerror(rr, &c->re, eb, sizeof eb);
                        return fail(l, kn, "expected a POSIX extended regular expression for '%s': %s", key, eb);
                }
        }
        c->key = strdup(key);
        c->value = strdup(value);
        it->n_checks++;
        if (!c->key || !c->value)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        return 0;
}

typedef struct chk_ctx {
        vd_conf_item *it;
        int op;
} chk_ctx;

static int check_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        chk_ctx *cc = ctx;
        const char *v = NULL;
        int r = scalar(l, vn, cc->op == VD_CHK_MATCH ? "a regular expression" : "a value", &v);
        return r < 0 ? r : add_check(l, cc->it, cc->op, kn, k, v);
}

static int forbid_key_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        return add_check(l, ctx, VD_CHK_FORBID, n, s, "");
}

static int item_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        item_ctx *ic = ctx;
        vd_conf_item *it = ic->it;
        const char *s;
        int x;
        if (!strcmp(k, "path") || !strcmp(k, "paths"))
                return strings(l, vn, "a path", path_str_cb, it);
        if (!strcmp(k, "name")) {
                if ((x = scalar(l, vn, "a name (the path events carry)", &s)) < 0)
                        return x;
                if (s[0] != '/')
                        return fail(l, vn, "expected an absolute path as the name, got '%s'", s);
                free(it->name);
                it->name = strdup(s);
                return it->name ? 0 : vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        }
        if (!strcmp(k, "format")) {
                if ((x = scalar(l, vn, "a format", &s)) < 0)
                        return x;
                it->format = vd_conf_format_from_name(s);
                if (!it->format)
                        return fail(l, vn, "expected a format (%s), got '%s'", vd_conf_format_names(), s);
                return 0;
        }
        if (!strcmp(k, "merge"))
                return boolean(l, vn, "merge", &it->merge);
        if (!strcmp(k, "severity"))
                return severity(l, vn, &it->severity);
        if (!strcmp(k, "secret"))
                return strings(l, vn, "a key or key glob", secret_cb, it);
        if (!strcmp(k, "expect"))
                return mapping(l, vn, "expect (key: value)", check_cb, &(chk_ctx){it, VD_CHK_EXPECT});
        if (!strcmp(k, "match"))
                return mapping(l, vn, "match (key: regular expression)", check_cb, &(chk_ctx){it, VD_CHK_MATCH});
        if (!strcmp(k, "forbid")) {
                if (vn->type == YAML_MAPPING_NODE)
                        return mapping(l, vn, "forbid (key: value)", check_cb, &(chk_ctx){it, VD_CHK_FORBID});
                return strings(l, vn, "a key", forbid_key_cb, it);
        }
        return unknown(l, kn, k, "a config item", "path, name, format, merge, severity, secret, expect, forbid, match");
}

static int config_node(ld *l, const yaml_node_t *n) {
        if (n->type != YAML_SEQUENCE_NODE)
                return fail(l, n, "expected the config items (a list), got %s", node_kind(n));
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *c = get(l, *i, n);
                if (!c)
                        return VD_E_INPUT;
                if (l->p->n_items >= 1000)
                        return fail(l, c, "more than 1000 config items");
                vd_conf_item *it = item_push(l->p);
                if (!it)
                        return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
                it->line = (uint32_t)c->start_mark.line + 1;
                int x = mapping(l, c, "a config item", item_cb, &(item_ctx){it, NULL});
                if (x < 0)
                        return x;
                if (it->n_paths == 0)
                        return fail(l, c, "expected 'path' in this config item");
                if (!it->format)
                        return fail(l, c, "expected 'format' (%s) in the config item for %s", vd_conf_format_names(),
                                    it->paths[0]);
                if (!it->name && !(it->name = strdup(it->paths[0])))
                        return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

typedef struct det_ctx {
        det_conf *d;
} det_ctx;

static int det_field_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        det_conf *d = ctx;
        if (!strcmp(k, "enabled"))
                return boolean(l, vn, "enabled", &d->on);
        if (!strcmp(k, "severity"))
                return severity(l, vn, &d->sev);
        if (!strcmp(k, "exclude"))
                return strings(l, vn, "a path pattern", pat_cb, &(pats_ctx){&d->exc, &d->n_exc});
        return unknown(l, kn, k, "a detector", "enabled, severity, exclude");
}

static int detectors_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        for (int d = 0; d < VD_D_COUNT; d++)
                if (!strcmp(k, det_tab[d].name)) {
                        if (vn->type == YAML_SCALAR_NODE)
                                return boolean(l, vn, "a detector switch", &l->p->det[d].on);
                        return mapping(l, vn, "a detector", det_field_cb, &l->p->det[d]);
                }
        return unknown(l, kn, k, "detectors",
                       "setuid, world-writable, file-capability, uid0, authorized-keys, persistence, sudo");
}

static int top_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        const char *s;
        int x;
        if (!strcmp(k, "version")) {
                if ((x = scalar(l, vn, "the policy version", &s)) < 0)
                        return x;
                if (strcmp(s, "1") != 0)
                        return fail(l, vn, "expected version 1, got '%s' (a newer vmdrift wrote this policy?)", s);
                return 0;
        }
        if (!strcmp(k, "description")) {
                if ((x = scalar(l, vn, "a description", &s)) < 0)
                        return x;
                free(l->p->description);
                l->p->description = strdup(s);
                return 0;
        }
        if (!strcmp(k, "hash")) {
                if ((x = scalar(l, vn, "a hash algorithm", &s)) < 0)
                        return x;
                if (!strcmp(s, "xxh3"))
                        l->p->hash_algo = 1;
                else if (!strcmp(s, "sha256"))
                        l->p->hash_algo = 2;
                else
                        return fail(l, vn, "expected a hash algorithm (xxh3, sha256), got '%s'", s);
                return 0;
        }
        if (!strcmp(k, "groups"))
                return mapping(l, vn, "groups (name: attributes)", group_cb, NULL);
        if (!strcmp(k, "default"))
                return mapping(l, vn, "default", default_cb, NULL);
        if (!strcmp(k, "rules"))
                return rules_node(l, vn);
        if (!strcmp(k, "config"))
                return config_node(l, vn);
        if (!strcmp(k, "detectors"))
                return mapping(l, vn, "detectors", detectors_cb, NULL);
        return unknown(l, kn, k, "the policy", "version, description, hash, groups, default, rules, config, detectors");
}

/* Keys whose order matters: groups before rules that use them, default
 * before rules that inherit its attributes. */
static int top_pass(ld *l, const yaml_node_t *root, bool first) {
        for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
                yaml_node_t *kn = yaml_document_get_node(&l->doc, pr->key);
                if (!kn || kn->type != YAML_SCALAR_NODE)
                        continue;
                const char *k = (const char *)kn->data.scalar.value;
                bool early = !strcmp(k, "groups") || !strcmp(k, "default");
                if (early != first)
                        continue;
                int r = mapping_range(l, root, pr, pr + 1, "the policy", top_cb, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A policy is a few levels deep. libyaml's document loader is not linear
 * in the nesting of flow collections (a 200 KB "[[[[..." took 44 s), so
 * the events are read once first and anything deeper is refused before a
 * document is built. */
#define POLICY_DEPTH_MAX 64

static int check_depth(const char *file, const char *text, size_t len, vd_err *err) {
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        int depth = 0, r = 0;
        for (;;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev))
                        break; /* the loader says what is wrong, with its position */
                yaml_event_type_t t = ev.type;
                if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
                        if (++depth > POLICY_DEPTH_MAX)
                                r = vd_err_set(err, VD_E_INPUT,
                                               "%s:%zu:%zu: nested deeper than %d levels (a policy needs a few)",
                                               file, ev.start_mark.line + 1, ev.start_mark.column + 1,
                                               POLICY_DEPTH_MAX);
                } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
                        depth--;
                yaml_event_delete(&ev);
                if (r < 0 || t == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&parser);
        return r;
}

int vd_policy_parse(const char *file, const char *text, size_t len, vd_policy **ret, vd_err *err) {
        *ret = NULL;
        if (len > POLICY_FILE_MAX)
                return vd_err_set(err, VD_E_INPUT, "%s: larger than %zu bytes", file, POLICY_FILE_MAX);
        int dr = check_depth(file, text, len, err);
        if (dr < 0)
                return dr;
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        ld l = {.file = file, .err = err};
        if (!yaml_parser_load(&parser, &l.doc)) {
                int r = vd_err_set(err, VD_E_INPUT, "%s:%zu:%zu: %s%s%s", file, parser.problem_mark.line + 1,
                                   parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML",
                                   parser.context ? " " : "", parser.context ? parser.context : "");
                yaml_parser_delete(&parser);
                return r;
        }
        /* A second document is a mistake (a stray '---'), not a policy. */
        yaml_document_t extra;
        bool more = false;
        if (yaml_parser_load(&parser, &extra)) {
                more = yaml_document_get_root_node(&extra) != NULL;
                yaml_document_delete(&extra);
        }
        yaml_parser_delete(&parser);
        int r = 0;
        yaml_node_t *root = yaml_document_get_root_node(&l.doc);
        l.n_nodes = (size_t)(l.doc.nodes.top - l.doc.nodes.start);
        l.seen = calloc(l.n_nodes + 1, 1);
        l.p = policy_alloc(file);
        if (!l.seen || !l.p)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        else if (more)
                r = vd_err_set(err, VD_E_INPUT, "%s: expected one YAML document, found more than one", file);
        else if (!root)
                r = vd_err_set(err, VD_E_INPUT, "%s:1:1: expected a policy (a mapping with 'rules'), got an empty file",
                               file);
        else if (root->type != YAML_MAPPING_NODE)
                r = fail(&l, root, "expected the policy (a mapping), got %s", node_kind(root));
        else {
                l.seen[0] = 1;
                for (yaml_node_pair_t *a = root->data.mapping.pairs.start; r == 0 && a < root->data.mapping.pairs.top;
                     a++)
                        for (yaml_node_pair_t *b2 = root->data.mapping.pairs.start; r == 0 && b2 < a; b2++) {
                                yaml_node_t *ka = yaml_document_get_node(&l.doc, a->key);
                                yaml_node_t *kb = yaml_document_get_node(&l.doc, b2->key);
                                if (ka && kb && ka->type == YAML_SCALAR_NODE && kb->type == YAML_SCALAR_NODE &&
                                    !strcmp((char *)ka->data.scalar.value, (char *)kb->data.scalar.value))
                                        r = fail(&l, ka, "duplicate key '%s' in the policy",
                                                 (char *)ka->data.scalar.value);
                        }
                if (r == 0)
                        r = top_pass(&l, root, true);
                if (r == 0)
                        r = top_pass(&l, root, false);
        }
        if (r == 0 && (add_detector_items(l.p) < 0 || idx_build(l.p) < 0))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        free(l.seen);
        yaml_document_delete(&l.doc);
        if (r < 0) {
                vd_policy_free(l.p);
                return r;
        }
        *ret = l.p;
        return 0;
}

int vd_policy_load(const char *path, vd_policy **ret, vd_err *err) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return vd_err_errno(err, VD_E_INPUT, errno, "cannot open policy '%s'", path);
        vd_buf b;
        vd_buf_init(&b, POLICY_FILE_MAX + 1);
        char chunk[65536];
        int r = 0;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = vd_err_errno(err, VD_E_INPUT, errno, "cannot read policy '%s'", path);
                        break;
                }
                if (n == 0)
                        break;
                if (vd_buf_add(&b, chunk, (size_t)n) < 0) {
                        r = vd_err_set(err, VD_E_INPUT, "%s: larger than %zu bytes", path, POLICY_FILE_MAX);
                        break;
                }
        }
        close(fd);
        if (r == 0)
                r = vd_policy_parse(path, b.buf ? b.buf : "", b.len, ret, err);
        vd_buf_release(&b);
        return r;
}
