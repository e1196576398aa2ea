#define _GNU_SOURCE
/* The YAML policy loader (docs/policy.md): every error names file:line:column
 * and what was expected; unknown keys are errors. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/vd_buf.h"
#include "vd_policy_int.h"
#include "common/vd_str.h"
#include "formats/vd_hive.h"
#include "formats/vd_yaml.h"

/* the policy this loader fills (its ld.user) */
static inline vd_policy *pol(const ld *l) {
        return l->user;
}

#define POLICY_FILE_MAX ((size_t)1 << 20)
#define MAX_RULES 10000
#define MAX_PATTERNS 1000
#define MAX_DOUBLE_STAR 4

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
                        return yl_fail(l, n, "expected '+' or '-' between attributes in '%s'", s);
                }
                while (*p == ' ')
                        p++;
                size_t k = strcspn(p, "+-, ");
                if (k == 0)
                        return yl_fail(l, n, "expected an attribute name in '%s'", s);
                uint32_t bits = 0;
                bool found = vd_attr_lookup(p, k, &bits);
                for (size_t g = 0; !found && g < pol(l)->n_groups; g++)
                        if (strlen(pol(l)->groups[g].name) == k && !strncmp(pol(l)->groups[g].name, p, k)) {
                                bits = pol(l)->groups[g].bits;
                                found = true;
                        }
                if (!found)
                        return yl_fail(l, n, "unknown attribute or group '%.*s' (expected one of: %s, or a name from groups)",
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
        int r = yl_strings(l, n, "an attribute expression", attr_cb, &m);
        if (r == 0)
                *ret = m;
        return r;
}

static int group_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        uint32_t bits;
        if (vd_attr_lookup(k, strlen(k), &bits))
                return yl_fail(l, kn, "group '%s' would shadow the attribute of that name", k);
        int r = attrs_node(l, vn, &bits);
        if (r < 0)
                return r;
        if (vd_array_grow(&pol(l)->groups, &pol(l)->groups_alloc, pol(l)->n_groups, sizeof *pol(l)->groups, 8) < 0)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        group_def *ng = pol(l)->groups;
        ng[pol(l)->n_groups].name = strdup(k);
        ng[pol(l)->n_groups].bits = bits;
        if (!ng[pol(l)->n_groups].name)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        pol(l)->n_groups++;
        return 0;
}

static int default_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        vd_rule *d = &pol(l)->def;
        if (!strcmp(k, "attrs")) {
                int r = attrs_node(l, vn, &d->attrs);
                d->dir_attrs = d->attrs & ~VD_A_DIR_OFF;
                return r;
        }
        if (!strcmp(k, "severity"))
                return yl_severity(l, vn, &d->severity);
        return yl_unknown(l, kn, k, "default", "attrs, severity");
}

typedef struct pats_ctx {
        vd_pat **v;
        size_t *n, *alloc;
} pats_ctx;

static int pat_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        pats_ctx *pc = ctx;
        if (s[0] != '/')
                return yl_fail(l, n, "expected an absolute path pattern (starting with '/'), got '%s'", s);
        size_t ds = 0;
        for (const char *q = s; (q = strstr(q, "**")); q += 2)
                ds++;
        if (ds > MAX_DOUBLE_STAR)
                return yl_fail(l, n, "at most %d '**' in one pattern", MAX_DOUBLE_STAR);
        for (const char *q = s; (q = strstr(q, "**")); q += 2)
                if ((q != s && q[-1] != '/') || (q[2] && q[2] != '/'))
                        return yl_fail(l, n, "'**' must be a whole path component (as in /var/**/x), in '%s'", s);
        if (*pc->n >= MAX_PATTERNS)
                return yl_fail(l, n, "more than %d patterns", MAX_PATTERNS);
        if (vd_array_grow(pc->v, pc->alloc, *pc->n, sizeof **pc->v, 4) < 0)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        if (vd_pat_init(&(*pc->v)[*pc->n], s) < 0)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        (*pc->n)++;
        return 0;
}

static int owner_value(ld *l, const yaml_node_t *vn, bool *has, uint32_t *id, char **name) {
        const char *s = NULL;
        int r = yl_scalar(l, vn, "a user or group (name or number)", &s);
        if (r < 0)
                return r;
        uint64_t u;
        if (vd_parse_u64(s, &u)) {
                if (u > UINT32_MAX)
                        return yl_fail(l, vn, "expected an id below 2^32, got '%s'", s);
                *id = (uint32_t)u;
                *has = true;
                return 0;
        }
        if (!s[0] || strpbrk(s, ":/ \t\n"))
                return yl_fail(l, vn, "expected a user or group name or number, got '%s'", s);
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
                if ((x = yl_scalar(l, vn, "a rule name", &s)) < 0)
                        return x;
                if (!s[0] || strpbrk(s, "\n\r\"\\]"))
                        return yl_fail(l, vn, "expected a rule name without quotes, backslashes, ']' or newlines");
                free(r->name);
                r->name = strdup(s);
                return r->name ? 0 : vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        }
        if (!strcmp(k, "paths") || !strcmp(k, "path"))
                return yl_strings(l, vn, "a path pattern", pat_cb, &(pats_ctx){&r->inc, &r->n_inc, &r->inc_alloc});
        if (!strcmp(k, "exclude"))
                return yl_strings(l, vn, "a path pattern", pat_cb, &(pats_ctx){&r->exc, &r->n_exc, &r->exc_alloc});
        if (!strcmp(k, "kind")) {
                if ((x = yl_scalar(l, vn, "a rule kind", &s)) < 0)
                        return x;
                for (int i = 0; i <= VD_K_GROWING; i++)
                        if (!strcmp(s, vd_rule_kind_name(i))) {
                                r->r.kind = i;
                                return 0;
                        }
                return yl_fail(l, vn, "expected a rule kind (watch, ignore, volatile, per-clone, growing), got '%s'", s);
        }
        if (!strcmp(k, "attrs")) {
                rc->has_attrs = true;
                return attrs_node(l, vn, &r->r.attrs);
        }
        if (!strcmp(k, "severity"))
                return yl_severity(l, vn, &r->r.severity);
        if (!strcmp(k, "owner"))
                return owner_value(l, vn, &r->r.has_uid, &r->r.uid, &r->user);
        if (!strcmp(k, "group"))
                return owner_value(l, vn, &r->r.has_gid, &r->r.gid, &r->group);
        if (!strcmp(k, "mode")) {
                if ((x = yl_scalar(l, vn, "an octal mode", &s)) < 0)
                        return x;
                char *end;
                errno = 0;
                unsigned long m = strtoul(s, &end, 8);
                if (!s[0] || *end || errno || m > 07777)
                        return yl_fail(l, vn, "expected an octal mode such as \"0600\", got '%s'", s);
                r->r.mode = (uint32_t)m;
                r->r.has_mode = true;
                return 0;
        }
        return yl_unknown(l, kn, k, "a rule", "name, paths, exclude, kind, attrs, severity, owner, group, mode");
}

static int rules_node(ld *l, const yaml_node_t *n) {
        if (n->type != YAML_SEQUENCE_NODE)
                return yl_fail(l, n, "expected the rules (a list), got %s", yl_kind(n));
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
                yaml_node_t *c = yl_get(l, *it, n);
                if (!c)
                        return VD_E_INPUT;
                if (pol(l)->n_rules >= MAX_RULES)
                        return yl_fail(l, c, "more than %d rules", MAX_RULES);
                if (vd_array_grow(&pol(l)->rules, &pol(l)->rules_alloc, pol(l)->n_rules, sizeof *pol(l)->rules, 16) < 0)
                        return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
                prule *r = &pol(l)->rules[pol(l)->n_rules++];
                memset(r, 0, sizeof *r);
                r->r.severity = -1;
                r->line = (uint32_t)c->start_mark.line + 1;
                rule_ctx rc = {r, false};
                int x = yl_mapping(l, c, "a rule", rule_cb, &rc);
                if (x < 0)
                        return x;
                if (!r->name)
                        return yl_fail(l, c, "expected a 'name' in this rule (events carry it)");
                r->r.name = r->name;
                r->r.user = r->user;
                r->r.group = r->group;
                for (size_t j = 0; j + 1 < pol(l)->n_rules; j++)
                        if (!strcmp(pol(l)->rules[j].name, r->name))
                                return yl_fail(l, c, "a second rule named '%s' (the first is on line %u)", r->name,
                                            pol(l)->rules[j].line);
                if (r->n_inc == 0)
                        return yl_fail(l, c, "expected 'paths' in rule '%s'", r->name);
                if (!rc.has_attrs)
                        r->r.attrs = r->r.kind == VD_K_PER_CLONE ? VD_A_TYPE | VD_A_MODE | VD_A_UID | VD_A_GID
                                                                 : pol(l)->def.attrs;
                if ((r->user || r->group || r->r.has_uid || r->r.has_gid || r->r.has_mode) &&
                    r->r.kind != VD_K_PER_CLONE)
                        return yl_fail(l, c, "owner, group and mode expectations need kind: per-clone (rule '%s')",
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
                return yl_fail(l, n, "expected an absolute path (or glob), got '%s'", s);
        if (it->n_paths >= 64)
                return yl_fail(l, n, "more than 64 paths in one config item");
        return vd_strv_push(&it->paths, &it->n_paths, &it->paths_alloc, s) < 0 ? vd_err_set(l->err, VD_E_NOMEM, "out of memory") : 0;
}

static int secret_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        vd_conf_item *it = ctx;
        return vd_strv_push(&it->secret, &it->n_secret, &it->secret_alloc, s) < 0 ? vd_err_set(l->err, VD_E_NOMEM, "out of memory") : 0;
}

static int add_check(ld *l, vd_conf_item *it, int op, const yaml_node_t *kn, const char *key, const char *value) {
        if (it->n_checks >= 1000)
                return yl_fail(l, kn, "more than 1000 checks in one config item");
        if (vd_array_grow(&it->checks, &it->checks_alloc, it->n_checks, sizeof *it->checks, 8) < 0)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        vd_check *c = &it->checks[it->n_checks];
        memset(c, 0, sizeof *c);
        c->op = op;
        c->line = (uint32_t)kn->start_mark.line + 1;
        c->col = (uint32_t)kn->start_mark.column + 1;
        if (op == VD_CHK_MATCH) {
                int rr = regcomp(&c->re, value, REG_EXTENDED | REG_NOSUB);
                if (rr != 0) {
                        char eb[256];
                        regerror(rr, &c->re, eb, sizeof eb);
                        return yl_fail(l, kn, "expected a POSIX extended regular expression for '%s': %s", key, eb);
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
        int r = yl_scalar(l, vn, cc->op == VD_CHK_MATCH ? "a regular expression" : "a value", &v);
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
        if (!strcmp(k, "path") || !strcmp(k, "paths")) {
                if (it->format == VD_CF_REGISTRY)
                        return yl_fail(l, kn, "expected 'key' or 'path' in a config item, not both");
                return yl_strings(l, vn, "a path", path_str_cb, it);
        }
        if (!strcmp(k, "key")) {
                if ((x = yl_scalar(l, vn, "a registry key", &s)) < 0)
                        return x;
                if (it->n_paths || ic->format_node)
                        return yl_fail(l, kn, "expected 'key' alone: a registry key has no 'path' or 'format'");
                char norm[VD_HIVE_KEY_PATH_MAX + 64];
                const char *why = NULL;
                if (vd_reg_key_normalise(s, norm, sizeof norm, &why) < 0)
                        return yl_fail(l, vn, "expected %s, got '%s'", why, s);
                it->format = VD_CF_REGISTRY;
                free(it->name);
                it->name = strdup(norm);
                if (!it->name || vd_strv_push(&it->paths, &it->n_paths, &it->paths_alloc, norm) < 0)
                        return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
                return 0;
        }
        if (!strcmp(k, "depth")) {
                long long d = 0;
                if ((x = yl_scalar(l, vn, "a depth", &s)) < 0)
                        return x;
                char *end = NULL;
                d = strtoll(s, &end, 10);
                if (!*s || *end || d < 0 || d > VD_HIVE_DEPTH_MAX)
                        return yl_fail(l, vn, "expected a depth of subkeys from 0 to %d, got '%s'", VD_HIVE_DEPTH_MAX, s);
                it->depth = (unsigned)d;
                return 0;
        }
        if (!strcmp(k, "name")) {
                if ((x = yl_scalar(l, vn, "a name (the path events carry)", &s)) < 0)
                        return x;
                if (s[0] != '/')
                        return yl_fail(l, vn, "expected an absolute path as the name, got '%s'", s);
                free(it->name);
                it->name = strdup(s);
                return it->name ? 0 : vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        }
        if (!strcmp(k, "format")) {
                if ((x = yl_scalar(l, vn, "a format", &s)) < 0)
                        return x;
                if (it->format == VD_CF_REGISTRY)
                        return yl_fail(l, kn, "expected 'key' alone: a registry key has no 'path' or 'format'");
                ic->format_node = vn;
                it->format = vd_conf_format_from_name(s);
                if (!it->format)
                        return yl_fail(l, vn, "expected a format (%s), got '%s'", vd_conf_format_names(), s);
                return 0;
        }
        if (!strcmp(k, "merge"))
                return yl_boolean(l, vn, "merge", &it->merge);
        if (!strcmp(k, "severity"))
                return yl_severity(l, vn, &it->severity);
        if (!strcmp(k, "secret"))
                return yl_strings(l, vn, "a key or key glob", secret_cb, it);
        if (!strcmp(k, "expect"))
                return yl_mapping(l, vn, "expect (key: value)", check_cb, &(chk_ctx){it, VD_CHK_EXPECT});
        if (!strcmp(k, "match"))
                return yl_mapping(l, vn, "match (key: regular expression)", check_cb, &(chk_ctx){it, VD_CHK_MATCH});
        if (!strcmp(k, "forbid")) {
                if (vn->type == YAML_MAPPING_NODE)
                        return yl_mapping(l, vn, "forbid (key: value)", check_cb, &(chk_ctx){it, VD_CHK_FORBID});
                return yl_strings(l, vn, "a key", forbid_key_cb, it);
        }
        return yl_unknown(l, kn, k, "a config item",
                          "path, name, format, merge, severity, secret, expect, forbid, match, key, depth");
}

static int config_node(ld *l, const yaml_node_t *n) {
        if (n->type != YAML_SEQUENCE_NODE)
                return yl_fail(l, n, "expected the config items (a list), got %s", yl_kind(n));
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *c = yl_get(l, *i, n);
                if (!c)
                        return VD_E_INPUT;
                if (pol(l)->n_items >= 1000)
                        return yl_fail(l, c, "more than 1000 config items");
                vd_conf_item *it = vd_policy_item_push(pol(l));
                if (!it)
                        return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
                it->line = (uint32_t)c->start_mark.line + 1;
                int x = yl_mapping(l, c, "a config item", item_cb, &(item_ctx){it, NULL});
                if (x < 0)
                        return x;
                if (it->n_paths == 0)
                        return yl_fail(l, c, "expected 'path' (a file) or 'key' (a registry key) in this config item");
                if (it->depth && it->format != VD_CF_REGISTRY)
                        return yl_fail(l, c, "expected 'depth' only with 'key' (subkey levels of a registry key)");
                if (it->format == VD_CF_REGISTRY && it->merge)
                        return yl_fail(l, c, "expected no 'merge' with 'key': each registry key is its own set");
                if (!it->format)
                        return yl_fail(l, c, "expected 'format' (%s) in the config item for %s", vd_conf_format_names(),
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
                return yl_boolean(l, vn, "enabled", &d->on);
        if (!strcmp(k, "severity"))
                return yl_severity(l, vn, &d->sev);
        if (!strcmp(k, "exclude"))
                return yl_strings(l, vn, "a path pattern", pat_cb, &(pats_ctx){&d->exc, &d->n_exc, &d->exc_alloc});
        return yl_unknown(l, kn, k, "a detector", "enabled, severity, exclude");
}

static int detectors_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        for (int d = 0; d < VD_D_COUNT; d++)
                if (!strcmp(k, vd_detector_name(d))) {
                        if (vn->type == YAML_SCALAR_NODE)
                                return yl_boolean(l, vn, "a detector switch", &pol(l)->det[d].on);
                        return yl_mapping(l, vn, "a detector", det_field_cb, &pol(l)->det[d]);
                }
        return yl_unknown(l, kn, k, "detectors",
                       "setuid, world-writable, file-capability, uid0, authorized-keys, persistence, sudo, "
                       "security-off, account, system-binary");
}

/* ---- packages ---- */

#define MAX_PKG_GLOBS 10000

/* A severity, or "ignore" (-1): not reported. */
static int severity_or_ignore(ld *l, const yaml_node_t *n, int *ret) {
        if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "ignore")) {
                *ret = -1;
                return 0;
        }
        int r = yl_severity(l, n, ret);
        if (r < 0)
                return yl_fail(l, n, "expected a severity (info, low, medium, high, critical) or ignore, got '%s'",
                            n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : yl_kind(n));
        return 0;
}

static int pkg_glob_ok(ld *l, const yaml_node_t *n, const char *s) {
        if (!*s || strlen(s) > 256)
                return yl_fail(l, n, "expected a package name or glob (1 to 256 bytes), got '%.40s'", s);
        return 0;
}

static int behind_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        (void)ctx;
        pkg_conf *c = &pol(l)->pkg;
        if (!strcmp(k, "default"))
                return severity_or_ignore(l, vn, &c->behind);
        int r = pkg_glob_ok(l, kn, k);
        if (r < 0)
                return r;
        if (c->n_rules >= MAX_PKG_GLOBS)
                return yl_fail(l, kn, "more than %d package globs", MAX_PKG_GLOBS);
        int sev;
        if ((r = severity_or_ignore(l, vn, &sev)) < 0)
                return r;
        if (vd_array_grow(&c->rules, &c->rules_alloc, c->n_rules, sizeof *c->rules, 8) < 0 ||
            !(c->rules[c->n_rules].glob = strdup(k)))
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        c->rules[c->n_rules].sev = sev;
        c->rules[c->n_rules++].line = (uint32_t)kn->start_mark.line + 1;
        return 0;
}

static int pkg_ignore_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        (void)ctx;
        pkg_conf *c = &pol(l)->pkg;
        int r = pkg_glob_ok(l, n, s);
        if (r < 0)
                return r;
        if (c->n_ignore >= MAX_PKG_GLOBS)
                return yl_fail(l, n, "more than %d package globs", MAX_PKG_GLOBS);
        if (vd_strv_push(&c->ignore, &c->n_ignore, &c->ignore_alloc, s) < 0)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        return 0;
}

static int packages_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        (void)ctx;
        pkg_conf *c = &pol(l)->pkg;
        if (!strcmp(k, "behind")) {
                if (vn->type == YAML_MAPPING_NODE)
                        return yl_mapping(l, vn, "packages.behind (package glob: severity)", behind_cb, NULL);
                return severity_or_ignore(l, vn, &c->behind);
        }
        if (!strcmp(k, "ahead"))
                return severity_or_ignore(l, vn, &c->ahead);
        if (!strcmp(k, "added"))
                return severity_or_ignore(l, vn, &c->added);
        if (!strcmp(k, "removed"))
                return severity_or_ignore(l, vn, &c->removed);
        if (!strcmp(k, "changed"))
                return severity_or_ignore(l, vn, &c->changed);
        if (!strcmp(k, "vulnerable"))
                return severity_or_ignore(l, vn, &c->vulnerable);
        if (!strcmp(k, "ignore"))
                return yl_strings(l, vn, "a package name or glob", pkg_ignore_cb, NULL);
        return yl_unknown(l, kn, k, "packages", "behind, ahead, added, removed, changed, vulnerable, ignore");
}

/* "256K", "16M", "1MiB", "4096": bytes, at most max */
static int size_node(ld *l, const yaml_node_t *vn, uint64_t max, uint64_t *ret) {
        const char *s;
        int x = yl_scalar(l, vn, "a size (bytes, or with K or M)", &s);
        if (x < 0)
                return x;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        uint64_t mul = 1;
        if (end && (!strcmp(end, "K") || !strcmp(end, "KiB") || !strcmp(end, "k")))
                mul = 1024;
        else if (end && (!strcmp(end, "M") || !strcmp(end, "MiB")))
                mul = 1024 * 1024;
        else if (end && (!strcmp(end, "G") || !strcmp(end, "GiB")))
                mul = 1024 * 1024 * 1024;
        else if (end && *end)
                end = NULL;
        if (!end || end == s || errno || s[0] == '-' || v == 0 || v > max / mul)
                return yl_fail(l, vn, "expected a size from 1 to %llu bytes (as 256K or 16M), got '%s'",
                               (unsigned long long)max, s);
        *ret = v * mul;
        return 0;
}

static int content_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        (void)ctx;
        vd_policy *p = pol(l);
        if (!strcmp(k, "paths"))
                return yl_strings(l, vn, "a path pattern", pat_cb,
                                  &(pats_ctx){&p->content_inc, &p->n_content_inc, &p->content_inc_alloc});
        if (!strcmp(k, "exclude"))
                return yl_strings(l, vn, "a path pattern", pat_cb,
                                  &(pats_ctx){&p->content_exc, &p->n_content_exc, &p->content_exc_alloc});
        if (!strcmp(k, "max_file"))
                return size_node(l, vn, VD_CONTENT_FILE_MAX, &p->content_max_file);
        if (!strcmp(k, "max_total"))
                return size_node(l, vn, VD_CONTENT_TOTAL_MAX, &p->content_max_total);
        return yl_unknown(l, kn, k, "content", "paths, exclude, max_file, max_total");
}

static int yara_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        (void)ctx;
        vd_policy_yara *y = &pol(l)->yara;
        const char *s;
        int x;
        if (!strcmp(k, "secrets")) {
                if ((x = yl_scalar(l, vn, "where the secret rules run", &s)) < 0)
                        return x;
                if (!strcmp(s, "off"))
                        y->secrets = VD_SECRETS_OFF;
                else if (!strcmp(s, "added"))
                        y->secrets = VD_SECRETS_ADDED;
                else if (!strcmp(s, "changed"))
                        y->secrets = VD_SECRETS_CHANGED;
                else
                        return yl_fail(l, vn, "expected off, added or changed (added and changed files), got '%s'", s);
                return 0;
        }
        if (!strcmp(k, "severity"))
                return yl_severity(l, vn, &y->severity);
        if (!strcmp(k, "max_file"))
                return size_node(l, vn, VD_YARA_FILE_MAX, &y->max_file);
        if (!strcmp(k, "max_total"))
                return size_node(l, vn, VD_YARA_TOTAL_MAX, &y->max_total);
        if (!strcmp(k, "timeout")) {
                int64_t t = 0;
                if ((x = yl_duration(l, vn, &t)) < 0)
                        return x;
                if (t < 1 || t > VD_YARA_TIMEOUT_MAX)
                        return yl_fail(l, vn, "expected a timeout from 1 s to %d s", VD_YARA_TIMEOUT_MAX);
                y->timeout_s = (int)t;
                return 0;
        }
        return yl_unknown(l, kn, k, "yara", "secrets, severity, max_file, max_total, timeout");
}

static int top_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        const char *s;
        int x;
        if (!strcmp(k, "version")) {
                if ((x = yl_scalar(l, vn, "the policy version", &s)) < 0)
                        return x;
                if (strcmp(s, "1") != 0)
                        return yl_fail(l, vn, "expected version 1, got '%s' (a newer vmdrift wrote this policy?)", s);
                return 0;
        }
        if (!strcmp(k, "description")) {
                if ((x = yl_scalar(l, vn, "a description", &s)) < 0)
                        return x;
                free(pol(l)->description);
                pol(l)->description = strdup(s);
                return 0;
        }
        if (!strcmp(k, "hash")) {
                if ((x = yl_scalar(l, vn, "a hash algorithm", &s)) < 0)
                        return x;
                if (!strcmp(s, "xxh3"))
                        pol(l)->hash_algo = 1;
                else if (!strcmp(s, "sha256"))
                        pol(l)->hash_algo = 2;
                else
                        return yl_fail(l, vn, "expected a hash algorithm (xxh3, sha256), got '%s'", s);
                return 0;
        }
        if (!strcmp(k, "groups"))
                return yl_mapping(l, vn, "groups (name: attributes)", group_cb, NULL);
        if (!strcmp(k, "default"))
                return yl_mapping(l, vn, "default", default_cb, NULL);
        if (!strcmp(k, "rules"))
                return rules_node(l, vn);
        if (!strcmp(k, "config"))
                return config_node(l, vn);
        if (!strcmp(k, "detectors"))
                return yl_mapping(l, vn, "detectors", detectors_cb, NULL);
        if (!strcmp(k, "dormant_after"))
                return yl_duration(l, vn, &pol(l)->dormant_after_s);
        if (!strcmp(k, "content"))
                return yl_mapping(l, vn, "content", content_cb, NULL);
        if (!strcmp(k, "dormant_severity"))
                return yl_severity(l, vn, &pol(l)->dormant_sev);
        if (!strcmp(k, "yara"))
                return yl_mapping(l, vn, "yara", yara_cb, NULL);
        if (!strcmp(k, "packages")) {
                pol(l)->pkg.set = true;
                return yl_mapping(l, vn, "packages", packages_cb, NULL);
        }
        return yl_unknown(l, kn, k, "the policy",
                       "version, description, hash, groups, default, rules, config, detectors, packages, "
                       "dormant_after, dormant_severity, content, yara");
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
                int r = yl_mapping_range(l, root, pr, pr + 1, "the policy", top_cb, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vd_policy_parse(const char *file, const char *text, size_t len, vd_policy **ret, vd_err *err) {
        *ret = NULL;
        ld l = {.file = file, .err = err};
        yaml_node_t *root = NULL;
        int r = yl_open(&l, text, len, POLICY_FILE_MAX, "policy", &root);
        if (r == 0 && !(l.user = vd_policy_alloc(file)))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0)
                r = top_pass(&l, root, true);
        if (r == 0)
                r = top_pass(&l, root, false);
        if (r == 0 && (vd_policy_add_detector_items(((vd_policy *)l.user)) < 0 || vd_policy_index(((vd_policy *)l.user)) < 0))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        yl_close(&l);
        if (r < 0) {
                vd_policy_free(((vd_policy *)l.user));
                return r;
        }
        *ret = ((vd_policy *)l.user);
        return 0;
}

int vd_policy_load(const char *path, vd_policy **ret, vd_err *err) {
        vd_buf b;
        int r = yl_read_file(path, POLICY_FILE_MAX, "policy", &b, err);
        if (r == 0)
                r = vd_policy_parse(path, b.buf ? b.buf : "", b.len, ret, err);
        vd_buf_release(&b);
        return r;
}
