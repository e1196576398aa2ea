/* Every detector's test, in one place. Which detectors exist, their
 * default severities and the configuration files they need read are the
 * policy's vocabulary (policy/vd_detectors.c); whether one is on for a path,
 * and how severe, is the policy's decision. */

#include "analyse/vd_detect.h"

#include <string.h>

#include "common/vd_str.h"

/* ---------------- on files ---------------- */

static const char *const persistence_globs[] = {
        "/etc/crontab",         "/etc/cron.d/**",        "/etc/cron.hourly/**",    "/etc/cron.daily/**",
        "/etc/cron.weekly/**",  "/etc/cron.monthly/**",  "/var/spool/cron/**",     "/etc/anacrontab",
        "/etc/systemd/system/**", "/etc/systemd/user/**", "/lib/systemd/system/**", "/usr/lib/systemd/system/**",
        "/usr/lib/systemd/user/**", "/etc/init.d/**",    "/etc/rc.local",          "/etc/ld.so.preload",
        "/etc/profile.d/**",    "/etc/update-motd.d/**", "/etc/xdg/autostart/**",  NULL};

bool vd_persistence_path(const char *path, size_t len) {
        static const char *const roots[] = {"/etc/", "/var/spool/cron", "/lib/systemd/", "/usr/lib/systemd/"};
        bool any = false;
        for (size_t i = 0; i < 4 && !any; i++)
                any = len >= strlen(roots[i]) && memcmp(path, roots[i], strlen(roots[i])) == 0;
        if (!any)
                return false;
        for (size_t i = 0; persistence_globs[i]; i++)
                if (vd_glob_match(persistence_globs[i], path, len))
                        return true;
        return false;
}

static const vd_xattr *find_xattr(const vd_entry *e, const char *name) {
        for (size_t i = 0; e && i < e->n_xattrs; i++)
                if (strcmp(e->xattrs[i].name, name) == 0)
                        return &e->xattrs[i];
        return NULL;
}

static void hit(vd_det_hit *h, const vd_policy *p, int d, const char *path, size_t len) {
        if (!vd_policy_detector_on(p, d, path, len))
                return;
        int sev = vd_policy_detector_severity(p, d);
        if (h->det < 0 || sev > h->sev) {
                h->det = d;
                h->sev = sev;
        }
}

/* What the file detectors say about old -> new (either may be NULL). */
vd_det_hit vd_detect_file(const vd_policy *p, const vd_entry *parent, const vd_entry *o, const vd_entry *n) {
        vd_det_hit h = {-1, -1};
        if (!n)
                return h;
        const char *path = n->path;
        size_t len = n->path_len;
        if (n->type == VD_T_REG && (n->mode & 06000) & ~(o && o->type == VD_T_REG ? o->mode & 06000 : 0))
                hit(&h, p, VD_D_SETUID, path, len);
        bool ww = n->type != VD_T_LNK && (n->mode & 0002) && !(n->type == VD_T_DIR && (n->mode & 01000));
        bool was_ww = o && o->type != VD_T_LNK && (o->mode & 0002);
        bool sticky_parent = parent && parent->type == VD_T_DIR && (parent->mode & 01000);
        if (ww && !was_ww && !sticky_parent)
                hit(&h, p, VD_D_WORLD_WRITABLE, path, len);
        const vd_xattr *nc = find_xattr(n, "security.capability"), *oc = find_xattr(o, "security.capability");
        if (nc && (!oc || oc->len != nc->len || memcmp(oc->value, nc->value, nc->len) != 0))
                hit(&h, p, VD_D_FILE_CAP, path, len);
        if (n->type != VD_T_DIR && vd_persistence_path(path, len)) {
                bool changed = !o || o->type != n->type || o->mode != n->mode || o->uid != n->uid ||
                               o->target_len != n->target_len ||
                               (o->target && n->target && memcmp(o->target, n->target, n->target_len)) ||
                               (vd_entry_hash_known(o) && vd_entry_hash_known(n) &&
                                (o->hash_len != n->hash_len || memcmp(o->hash, n->hash, n->hash_len)));
                if (changed)
                        hit(&h, p, VD_D_PERSISTENCE, path, len);
        }
        return h;
}

/* ---------------- on configuration values ---------------- */

static bool auth_keys_path(const char *path) {
        const char *b = strrchr(path, '/');
        return b && strncmp(b + 1, "authorized_keys", 15) == 0;
}

/* The detector a key-level change trips, or -1. */
int vd_detect_config(const vd_policy *p, const vd_confset *set, const char *key, const vd_setting *o,
                     const vd_setting *n) {
        size_t pl = strlen(set->path);
        int d = -1;
        if (set->format == VD_CF_PASSWD) {
                size_t kl = strlen(key);
                bool uid = kl > 4 && strcmp(key + kl - 4, ".uid") == 0;
                if (uid && n && (!o || strcmp(o->value, n->value) != 0) &&
                    (o || vd_conf_id_is_zero(n->value, n->value_len)))
                        d = VD_D_UID0; /* a new uid-0 account, or any changed uid */
        } else if (set->format == VD_CF_SUDOERS) {
                if (n && !o)
                        d = VD_D_SUDO;
        } else if (set->format == VD_CF_LINES && n && !o) {
                if (auth_keys_path(set->path))
                        d = VD_D_AUTH_KEYS;
                else if (vd_persistence_path(set->path, pl))
                        d = VD_D_PERSISTENCE;
        }
        return d >= 0 && vd_policy_detector_on(p, d, set->path, pl) ? d : -1;
}
