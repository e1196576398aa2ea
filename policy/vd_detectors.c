/* The detectors the policy knows: their names, default severities and the
 * configuration files each needs read: tables, nothing that builds a policy. Their tests are in
 * analyse/vd_detect.c. */

#include "vd_policy_int.h"

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
 * them or the detector is off (vd_policy_add_detector_items). */
static const vd_detector_item det_items[] = {
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

const vd_detector_item *vd_detector_items(size_t *n) {
        *n = sizeof det_items / sizeof det_items[0];
        return det_items;
}
