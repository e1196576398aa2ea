#define _GNU_SOURCE
#include "analyse/vd_packages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/vd_version.h"

int vd_pkg_format_of(const char *f) {
        if (!f)
                return VD_PKG_OTHER;
        if (!strcmp(f, "deb"))
                return VD_PKG_DEB;
        if (!strcmp(f, "rpm"))
                return VD_PKG_RPM;
        if (!strcmp(f, "windows"))
                return VD_PKG_WINDOWS;
        return VD_PKG_OTHER;
}

char *vd_package_label(const vd_package *p) {
        char *s = NULL, ep[16] = "";
        if (p->epoch > 0)
                snprintf(ep, sizeof ep, "%d:", (int)p->epoch);
        const char *v = p->version ? p->version : "", *r = p->release ? p->release : "";
        if (asprintf(&s, "%s%s%s%s", ep, v, *r ? "-" : "", r) < 0)
                return NULL;
        return s;
}

static int cmp_versions(int format, const char *a, const char *b) {
        switch (format) {
        case VD_PKG_DEB: return vd_version_cmp_deb(a, b);
        case VD_PKG_RPM: return vd_version_cmp_rpm(a, b);
        case VD_PKG_WINDOWS: return vd_version_cmp_dotted(a, b);
        default: return strcmp(a, b) != 0;
        }
}

static int key_cmp(const vd_package *a, const vd_package *b) {
        int c = strcmp(a->name ? a->name : "", b->name ? b->name : "");
        return c ? c : strcmp(a->arch ? a->arch : "", b->arch ? b->arch : "");
}

/* The group of entries with v[*i]'s name and arch: advances *i past it and
 * returns the newest one's label (malloc'ed). */
static char *group_newest(const vd_package *v, size_t n, size_t *i, int format, const vd_package **first) {
        size_t s = *i;
        *first = &v[s];
        char *best = vd_package_label(&v[s]);
        for (*i = s + 1; *i < n && key_cmp(&v[*i], &v[s]) == 0; (*i)++) {
                char *l = vd_package_label(&v[*i]);
                if (l && best && cmp_versions(format, l, best) > 0) {
                        free(best);
                        best = l;
                } else
                        free(l);
        }
        return best;
}

int vd_package_event_begin(vd_event *ev, const vd_package *p, int kind, int severity, const char *rule) {
        memset(ev, 0, sizeof *ev);
        ev->kind = kind;
        ev->package = true;
        ev->severity = severity;
        ev->rule = rule;
        ev->path = strdup(p->name ? p->name : "");
        ev->path_len = ev->path ? strlen(ev->path) : 0;
        ev->arch = p->arch && *p->arch ? strdup(p->arch) : NULL;
        if (!ev->path || (p->arch && *p->arch && !ev->arch)) {
                vd_event_release(ev);
                return VD_E_NOMEM;
        }
        return 0;
}

static int emit(const vd_package *p, int kind, char *old_l, char *new_l, const vd_policy *pol, vd_events *out,
                vd_err *err) {
        const char *rule = NULL;
        int sev = vd_policy_package_severity(pol, p->name ? p->name : "", kind, &rule);
        if (sev < 0) {
                free(old_l);
                free(new_l);
                return 0;
        }
        vd_event ev;
        size_t alloc = 0;
        vd_val o = {old_l, old_l ? strlen(old_l) : 0, false}, n = {new_l, new_l ? strlen(new_l) : 0, false};
        if (vd_package_event_begin(&ev, p, kind, sev, rule) < 0) {
                free(old_l);
                free(new_l);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        if (vd_event_add_change(&ev, &alloc, "version", 7, o, n, NULL) < 0 || vd_events_push(out, &ev) < 0) {
                vd_event_release(&ev);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

int vd_packages_compare(const vd_package *base, size_t nb, const vd_package *cur, size_t nc, int format,
                        const vd_policy *pol, vd_events *out, vd_err *err) {
        size_t i = 0, j = 0;
        int r = 0;
        while (r == 0 && (i < nb || j < nc)) {
                int c = i >= nb ? 1 : j >= nc ? -1 : key_cmp(&base[i], &cur[j]);
                const vd_package *bp = NULL, *cp = NULL;
                char *bl = NULL, *cl = NULL;
                if (c <= 0)
                        bl = group_newest(base, nb, &i, format, &bp);
                if (c >= 0)
                        cl = group_newest(cur, nc, &j, format, &cp);
                if ((c <= 0 && !bl) || (c >= 0 && !cl)) {
                        free(bl);
                        free(cl);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                if (c < 0)
                        r = emit(bp, VD_CH_REMOVED, bl, NULL, pol, out, err);
                else if (c > 0)
                        r = emit(cp, VD_CH_ADDED, NULL, cl, pol, out, err);
                else {
                        /* equal in the package manager's order ("1.0", "1.00"): not drift */
                        int v = strcmp(bl, cl) == 0 ? 0 : cmp_versions(format, cl, bl);
                        if (v == 0) {
                                free(bl);
                                free(cl);
                        } else
                                r = emit(cp, format == VD_PKG_OTHER ? VD_CH_CHANGED : v < 0 ? VD_CH_BEHIND : VD_CH_AHEAD,
                                         bl, cl, pol, out, err);
                }
        }
        return r;
}
