/* The detectors the policy knows: their names, default severities and the
 * configuration files each needs read. Their tests are in
 * analyse/vd_detect.c. */

#include <stdlib.h>
#include <string.h>

#include "vd_policy_int.h"
#include "common/vd_str.h"

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

static bool item_names(const vd_policy *p, const char *path) {
        for (size_t i = 0; i < p->n_items; i++)
                for (size_t j = 0; j < p->items[i].n_paths; j++)
                        if (strcmp(p->items[i].paths[j], path) == 0)
                                return true;
        return false;
}

int vd_policy_add_detector_items(vd_policy *p) {
        for (size_t i = 0; i < sizeof det_items / sizeof det_items[0]; i++) {
                if (!p->det[det_items[i].det].on || item_names(p, det_items[i].paths[0]))
                        continue;
                vd_conf_item *it = vd_policy_item_push(p);
                if (!it)
                        return VD_E_NOMEM;
                it->detector = det_items[i].det;
                it->format = det_items[i].format;
                it->merge = det_items[i].merge;
                it->severity = VD_SEV_LOW; /* raised by the detector where it matters */
                for (size_t j = 0; j < 6 && det_items[i].paths[j]; j++)
                        if (vd_strv_push(&it->paths, &it->n_paths, &it->paths_alloc, det_items[i].paths[j]) < 0)
                                return VD_E_NOMEM;
                it->name = strdup(it->paths[0]);
                if (!it->name)
                        return VD_E_NOMEM;
        }
        return 0;
}
