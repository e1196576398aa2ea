/* The policy object: allocation, the built-in default, accessors. Its
 * parts: rules (vd_rules.c), detectors (vd_detectors.c), desired-state
 * checks (vd_checks.c), canonical form (vd_canon.c), YAML (vd_policy_load.c). */

#include <stdlib.h>
#include <string.h>

#include "vd_policy_int.h"
#include "common/vd_str.h"

static const char *const kind_names[] = {"watch", "ignore", "volatile", "per-clone", "growing"};

const char *vd_rule_kind_name(int k) { return k >= 0 && k <= VD_K_GROWING ? kind_names[k] : "unknown"; }

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

bool vd_attr_lookup(const char *p, size_t n, uint32_t *bits) {
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
                if (!vd_attr_lookup(p, n, &bits))
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

static void item_release(vd_conf_item *it) {
        free(it->name);
        vd_strv_free(it->paths, it->n_paths);
        vd_strv_free(it->secret, it->n_secret);
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
                vd_pats_free(r->inc, r->n_inc);
                vd_pats_free(r->exc, r->n_exc);
        }
        free(p->rules);
        for (size_t i = 0; i < p->n_items; i++)
                item_release(&p->items[i]);
        free(p->items);
        for (int d = 0; d < VD_D_COUNT; d++)
                vd_pats_free(p->det[d].exc, p->det[d].n_exc);
        vd_pats_free(p->content_inc, p->n_content_inc);
        vd_pats_free(p->content_exc, p->n_content_exc);
        for (size_t i = 0; i < p->n_groups; i++)
                free(p->groups[i].name);
        free(p->groups);
        vd_policy_index_free(p);
        vd_pkg_conf_release(&p->pkg);
        free(p->source);
        free(p->description);
        free(p);
}

vd_policy *vd_policy_alloc(const char *source) {
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
        vd_pkg_conf_init(&p->pkg);
        p->dormant_sev = VD_SEV_MEDIUM;
        p->yara = (vd_policy_yara){VD_SECRETS_ADDED, VD_SEV_HIGH, VD_YARA_FILE_DEFAULT, VD_YARA_TOTAL_DEFAULT,
                                   VD_YARA_TIMEOUT_DEFAULT};
        for (int d = 0; d < VD_D_COUNT; d++) {
                p->det[d].on = true;
                p->det[d].sev = vd_detector_default_severity(d);
        }
        return p;
}

vd_conf_item *vd_policy_item_push(vd_policy *p) {
        if (vd_array_grow(&p->items, &p->items_alloc, p->n_items, sizeof *p->items, 16) < 0)
                return NULL;
        vd_conf_item *it = &p->items[p->n_items++];
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

int vd_policy_add_detector_items(vd_policy *p) {
        size_t n_items;
        const vd_detector_item *det_items = vd_detector_items(&n_items);
        for (size_t i = 0; i < n_items; i++) {
                if (!p->det[det_items[i].det].on || item_names(p, det_items[i].paths[0]))
                        continue;
                vd_conf_item *it = vd_policy_item_push(p);
                if (!it)
                        return VD_E_NOMEM;
                it->detector = det_items[i].det;
                it->format = det_items[i].format;
                it->merge = det_items[i].merge;
                it->severity = VD_SEV_LOW; /* raised by the detector where it matters */
                it->depth = det_items[i].depth;
                for (size_t j = 0; j < VD_DETECTOR_PATHS_MAX && det_items[i].paths[j]; j++)
                        if (vd_strv_push(&it->paths, &it->n_paths, &it->paths_alloc, det_items[i].paths[j]) < 0)
                                return VD_E_NOMEM;
                it->name = strdup(it->paths[0]);
                if (!it->name)
                        return VD_E_NOMEM;
        }
        return 0;
}

/* Every attribute of every file counts, except the bytes of a Windows
 * guest's registry hives: Windows rewrites them at every boot, and their
 * values are compared key by key (the detectors' registry items). */
static const char default_policy[] =
        "version: 1\n"
        "rules:\n"
        "  - name: registry-hives\n"
        "    paths: [/Windows/System32/config/SOFTWARE, /Windows/System32/config/SYSTEM,\n"
        "            /Windows/System32/config/SAM, /Windows/System32/config/SECURITY,\n"
        "            /Windows/System32/config/DEFAULT, \"/Windows/System32/config/*.LOG[12]\",\n"
        "            /Users/*/NTUSER.DAT, \"/Users/*/NTUSER.DAT.LOG[12]\", \"/Users/*/ntuser.dat.LOG[12]\"]\n"
        "    attrs: perms\n";

int vd_policy_new_default(vd_policy **ret, vd_err *err) {
        return vd_policy_parse("built-in default", default_policy, sizeof default_policy - 1, ret, err);
}

int vd_policy_open(const char *path, vd_policy **ret, vd_err *err) {
        return path ? vd_policy_load(path, ret, err) : vd_policy_new_default(ret, err);
}

void vd_policy_ignore(vd_policy *p, uint32_t attrs) {
        p->def.attrs &= ~attrs;
        p->def.dir_attrs &= ~attrs;
        for (size_t i = 0; i < p->n_rules; i++) {
                p->rules[i].r.attrs &= ~attrs;
                p->rules[i].r.dir_attrs &= ~attrs;
        }
}

const char *vd_policy_source(const vd_policy *p) { return p->source; }
int vd_policy_hash_algo(const vd_policy *p) { return p->hash_algo; }
size_t vd_policy_n_rules(const vd_policy *p) { return p->n_rules; }

bool vd_policy_detector_on(const vd_policy *p, int d, const char *path, size_t len) {
        if (d < 0 || d >= VD_D_COUNT || !p->det[d].on)
                return false;
        return !path || !vd_pats_any(p->det[d].exc, p->det[d].n_exc, path, len);
}

int vd_policy_detector_severity(const vd_policy *p, int d) {
        return d >= 0 && d < VD_D_COUNT ? p->det[d].sev : VD_SEV_MEDIUM;
}

size_t vd_policy_conf_items(const vd_policy *p, const vd_conf_item **ret) {
        *ret = p->items;
        return p->n_items;
}

bool vd_policy_content(const vd_policy *p, const char *path, size_t len) {
        return p->n_content_inc && vd_pats_any(p->content_inc, p->n_content_inc, path, len) &&
               !vd_pats_any(p->content_exc, p->n_content_exc, path, len);
}

bool vd_policy_has_content(const vd_policy *p) { return p->n_content_inc > 0; }

void vd_policy_content_limits(const vd_policy *p, uint64_t *max_file, uint64_t *max_total) {
        *max_file = p->content_max_file ? p->content_max_file : VD_CONTENT_FILE_DEFAULT;
        *max_total = p->content_max_total ? p->content_max_total : VD_CONTENT_TOTAL_DEFAULT;
}

const vd_policy_yara *vd_policy_yara_conf(const vd_policy *p) { return &p->yara; }

size_t vd_policy_content_patterns(const vd_policy *p, const vd_pat **ret) {
        *ret = p->content_inc;
        return p->n_content_inc;
}
