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
        {"sudo", VD_SEV_HIGH},            {"security-off", VD_SEV_HIGH},   {"account", VD_SEV_HIGH},
        {"system-binary", VD_SEV_HIGH},
};

const char *vd_detector_name(int d) { return d >= 0 && d < VD_D_COUNT ? det_tab[d].name : "unknown"; }
int vd_detector_default_severity(int d) { return d >= 0 && d < VD_D_COUNT ? det_tab[d].sev : VD_SEV_MEDIUM; }

/* Configuration files the detectors read, unless the policy already names
 * them or the detector is off (vd_policy_add_detector_items). */
static const vd_detector_item det_items[] = {
        {VD_D_UID0, VD_CF_PASSWD, false, {"/etc/passwd"}, 0},
        {VD_D_SUDO, VD_CF_SUDOERS, false, {"/etc/sudoers"}, 0},
        {VD_D_AUTH_KEYS,
         VD_CF_LINES,
         false,
         {"/root/.ssh/authorized_keys", "/root/.ssh/authorized_keys2", "/home/*/.ssh/authorized_keys",
          "/home/*/.ssh/authorized_keys2"},
         0},
        {VD_D_PERSISTENCE,
         VD_CF_LINES,
         false,
         {"/etc/crontab", "/etc/cron.d/*", "/var/spool/cron/crontabs/*", "/var/spool/cron/*", "/etc/ld.so.preload"},
         0},
/* Windows: the registry keys each detector reads (one key an item; depth:
 * subkey levels). A guest without hives reads none of them. */
#define REG(d, key, depth) {d, VD_CF_REGISTRY, false, {key}, depth}
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", 0),
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce", 0),
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Run", 0),
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\RunOnce", 0),
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon", 0),
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Windows", 0),
        REG(VD_D_PERSISTENCE, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options", 1),
        REG(VD_D_PERSISTENCE, "HKLM\\SYSTEM\\CurrentControlSet\\Services", 1),
        REG(VD_D_PERSISTENCE, "HKU\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", 0),
        REG(VD_D_PERSISTENCE, "HKU\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce", 0),
        REG(VD_D_SECURITY_OFF, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System", 0),
        REG(VD_D_SECURITY_OFF, "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender", 1),
        REG(VD_D_SECURITY_OFF, "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection", 0),
        REG(VD_D_SECURITY_OFF, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy", 1),
        REG(VD_D_SECURITY_OFF, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server", 0),
        REG(VD_D_SECURITY_OFF, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest", 0),
        REG(VD_D_SECURITY_OFF, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa", 0),
        REG(VD_D_ACCOUNT, "HKLM\\SAM\\SAM\\Domains\\Account\\Users\\Names", 1),
        /* each member's SID (the machine's domain, its RID): the built-in groups it is in */
        REG(VD_D_ACCOUNT, "HKLM\\SAM\\SAM\\Domains\\Builtin\\Aliases\\Members", 2),
#undef REG
};

const vd_detector_item *vd_detector_items(size_t *n) {
        *n = sizeof det_items / sizeof det_items[0];
        return det_items;
}
