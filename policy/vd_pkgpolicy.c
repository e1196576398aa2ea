/* The packages section of a policy: how severe package drift is.
 *
 *   packages:
 *     behind: medium          # default severity of a missing update
 *     ahead: info             # newer than the baseline
 *     added: low              # or "ignore"
 *     removed: low
 *     ignore: ["linux-headers-*"]
 *     critical: [...]         # see docs/policy.md: per-package severities when behind
 *
 * In the loaded form: severities per kind (-1: not reported), an ordered
 * list of name globs with the severity a missing update of a matching package
 * has, and globs of packages never reported.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"
#include "common/vd_json.h"
#include "vd_policy_int.h"
#include "common/vd_str.h"

void vd_pkg_conf_init(pkg_conf *c) {
        memset(c, 0, sizeof *c);
        c->behind = VD_SEV_MEDIUM;
        c->ahead = VD_SEV_INFO;
        c->added = VD_SEV_LOW;
        c->removed = VD_SEV_LOW;
        c->changed = VD_SEV_LOW;
        c->vulnerable = VD_SEV_MEDIUM;
}

void vd_pkg_conf_release(pkg_conf *c) {
        for (size_t i = 0; i < c->n_rules; i++)
                free(c->rules[i].glob);
        free(c->rules);
        vd_strv_free(c->ignore, c->n_ignore);
        memset(c, 0, sizeof *c);
}

int vd_pkg_conf_canonical(const pkg_conf *c, vd_buf *out) {
        int r = vd_buf_addf(out, "packages %d %d %d %d %d\n", c->behind, c->ahead, c->added, c->removed, c->changed);
        /* only when not the default: policies written before it keep their digest */
        if (!r && c->vulnerable != VD_SEV_MEDIUM)
                r = vd_buf_addf(out, "package-vulnerable %d\n", c->vulnerable);
        for (size_t i = 0; !r && i < c->n_rules; i++) {
                r = vd_buf_addf(out, "package-behind %d ", c->rules[i].sev);
                if (!r)
                        r = vd_json_put_cstr(out, c->rules[i].glob);
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        for (size_t i = 0; !r && i < c->n_ignore; i++) {
                r = vd_buf_adds(out, "package-ignore ");
                if (!r)
                        r = vd_json_put_cstr(out, c->ignore[i]);
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        return r;
}

int64_t vd_policy_dormant_after(const vd_policy *p, int *severity) {
        *severity = p->dormant_sev;
        return p->dormant_after_s;
}

int vd_policy_package_severity(const vd_policy *p, const char *name, int kind, const char **rule) {
        const pkg_conf *c = &p->pkg;
        *rule = "packages";
        size_t n = strlen(name);
        for (size_t i = 0; i < c->n_ignore; i++)
                if (vd_glob_match(c->ignore[i], name, n))
                        return -1;
        switch (kind) {
        case VD_CH_BEHIND:
                for (size_t i = 0; i < c->n_rules; i++)
                        if (vd_glob_match(c->rules[i].glob, name, n)) {
                                *rule = c->rules[i].glob;
                                return c->rules[i].sev;
                        }
                return c->behind;
        case VD_CH_AHEAD: return c->ahead;
        case VD_CH_ADDED: return c->added;
        case VD_CH_REMOVED: return c->removed;
        case VD_CH_VULNERABLE: *rule = "advisories"; return c->vulnerable;
        default: return c->changed;
        }
}

static const char *sev_or_ignore(int s) { return s < 0 ? "ignored" : vd_severity_name(s); }

int vd_policy_packages_summary(const vd_policy *p, vd_buf *out) {
        const pkg_conf *c = &p->pkg;
        int r = vd_buf_addf(out, "behind %s", sev_or_ignore(c->behind));
        if (!r && c->n_rules)
                r = vd_buf_addf(out, " (%zu name glob%s)", c->n_rules, c->n_rules == 1 ? "" : "s");
        if (!r)
                r = vd_buf_addf(out, ", ahead %s, added %s, removed %s, changed %s", sev_or_ignore(c->ahead),
                                sev_or_ignore(c->added), sev_or_ignore(c->removed), sev_or_ignore(c->changed));
        if (!r)
                r = vd_buf_addf(out, ", vulnerable %s when the advisory gives no severity", sev_or_ignore(c->vulnerable));
        if (!r && c->n_ignore)
                r = vd_buf_addf(out, "; %zu ignored", c->n_ignore);
        return r;
}
