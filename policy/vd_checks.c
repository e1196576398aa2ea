/* Desired state of configuration values: expect, forbid, match; and which
 * keys are secret. */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vd_policy_int.h"

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
