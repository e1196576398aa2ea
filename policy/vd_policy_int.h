/* Inside policy/: the policy object as its parts (model, rules index,
 * detectors, canonical form, YAML loader) share it. Nothing outside policy/
 * includes this. */
#ifndef VD_POLICY_INT_H
#define VD_POLICY_INT_H

#include "common/vd_glob.h"
#include "policy/vd_policy.h"

typedef struct prule {
        vd_rule r;
        char *name, *user, *group;
        vd_pat *inc, *exc;
        size_t n_inc, n_exc, inc_alloc, exc_alloc;
        uint32_t line;
} prule;

typedef struct det_conf {
        bool on;
        int sev;
        vd_pat *exc;
        size_t n_exc, exc_alloc;
} det_conf;

typedef struct group_def {
        char *name;
        uint32_t bits;
} group_def;

typedef struct pkg_rule {
        char *glob;
        int sev;
        uint32_t line;
} pkg_rule;

/* The packages section (vd_pkgpolicy.c). Severities are -1 when that kind
 * of change is not reported. */
typedef struct pkg_conf {
        bool set; /* the policy has a packages section (it enters the canonical form) */
        int behind, ahead, added, removed, changed;
        int vulnerable; /* an advisory hit whose record gives no severity */
        pkg_rule *rules; /* behind: first matching glob decides */
        size_t n_rules, rules_alloc;
        char **ignore;
        size_t n_ignore, ignore_alloc;
} pkg_conf;

struct vd_policy {
        char *source;
        pkg_conf pkg;
        vd_rule def;
        prule *rules;
        size_t n_rules, rules_alloc;
        vd_conf_item *items;
        size_t n_items, items_alloc;
        det_conf det[VD_D_COUNT];
        int hash_algo;
        group_def *groups;
        size_t n_groups, groups_alloc;
        char *description;
        int64_t dormant_after_s; /* 0: no dormant finding */
        int dormant_sev;
        /* content: the files whose text the baseline keeps, for diffs */
        vd_pat *content_inc, *content_exc;
        size_t n_content_inc, content_inc_alloc, n_content_exc, content_exc_alloc;
        uint64_t content_max_file, content_max_total;
        vd_policy_yara yara; /* yara: the shipped secret rules and the bounds of every match */
        /* Rule index: the literal prefix of every include pattern (a
         * directory path, or a whole literal path) -> the rules that have a
         * pattern there, ascending. A path looks up each of its ancestors. */
        struct pidx *idx;
        size_t idx_cap; /* power of two; 0: no index */
        /* The same rules with their patterns in ASCII lower case, and their
         * index: NTFS names compare case-insensitively (vd_policy_match_icase). */
        prule *fold;
        struct pidx *fold_idx;
        size_t fold_cap;
};

typedef struct pidx {
        uint64_t h;
        const char *key; /* points into a pattern's text */
        size_t klen;
        uint32_t *rules;
        size_t n, alloc;
} pidx;

/* vd_policy.c: the object */
vd_policy *vd_policy_alloc(const char *source);
vd_conf_item *vd_policy_item_push(vd_policy *p);
bool vd_attr_lookup(const char *name, size_t n, uint32_t *bits);
/* Add the configuration files the detectors read (vd_detector_items) that
 * the policy does not name, for the detectors that are on. */
int vd_policy_add_detector_items(vd_policy *p);
/* vd_detectors.c: the files each detector reads */
#define VD_DETECTOR_PATHS_MAX 6
typedef struct vd_detector_item {
        int det;
        int format; /* VD_CF_* */
        bool merge;
        const char *paths[VD_DETECTOR_PATHS_MAX];
        unsigned depth; /* registry keys */
} vd_detector_item;
const vd_detector_item *vd_detector_items(size_t *n);
/* vd_pkgpolicy.c: defaults, free, canonical form */
void vd_pkg_conf_init(pkg_conf *c);
void vd_pkg_conf_release(pkg_conf *c);
int vd_pkg_conf_canonical(const pkg_conf *c, vd_buf *out);
/* vd_rules.c: the rule index (built once all rules are in) */
int vd_policy_index(vd_policy *p);
void vd_policy_index_free(vd_policy *p);

#endif
