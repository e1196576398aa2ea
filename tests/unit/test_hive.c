/* Registry hives as configuration values (formats/vd_hive.c), on hives made
 * in the test from hivex's minimal hive by tests/windows/hive.sh, as the
 * Windows images are; the registry detectors (analyse/vd_detect.c); the
 * policy's registry keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyse/vd_detect.h"
#include "analyse/vd_version.h"
#include "formats/vd_hive.h"
#include "policy/vd_policy.h"

#ifndef HIVE_SH
#define HIVE_SH "tests/windows/hive.sh"
#endif

/* A hive made from reg (the .reg text) under root; its bytes in *len. */
static char *make_hive(const char *root, const char *reg, size_t *len) {
        char dir[] = "/tmp/vd-hive-XXXXXX";
        cr_assert(mkdtemp(dir));
        char regf[64], hive[64], cmd[512];
        snprintf(regf, sizeof regf, "%s/in.reg", dir);
        snprintf(hive, sizeof hive, "%s/out.hive", dir);
        FILE *f = fopen(regf, "w");
        cr_assert(f);
        fprintf(f, "Windows Registry Editor Version 5.00\n\n%s", reg);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s %s '%s' %s", HIVE_SH, hive, root, regf);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        f = fopen(hive, "rb");
        cr_assert(f);
        char *buf = malloc(1 << 20);
        *len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        unlink(regf);
        unlink(hive);
        rmdir(dir);
        return buf;
}

static const char system_reg[] =
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\n\"Current\"=dword:00000002\n\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Old]\n\"Start\"=dword:00000004\n\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\Svc]\n"
        "\"ImagePath\"=str(2):\"%SystemRoot%\\\\svc.exe\"\n\"Start\"=dword:00000002\n"
        "\"DependOnService\"=hex(7):52,00,50,00,43,00,00,00,4e,00,53,00,49,00,00,00,00,00\n"
        "\"Blob\"=hex:01,02,ff\n\"Big\"=hex(b):00,00,00,00,01,00,00,00\n@=str(1):\"the default\"\n\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\Svc\\Parameters]\n\"ServiceDll\"=str(1):\"x.dll\"\n";

static const char *val(const vd_settings *s, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i].key, key) == 0)
                        return s->v[i].value;
        return NULL;
}

Test(hive, values_of_a_key_with_types_rendered_and_current_control_set_resolved) {
        size_t len;
        char *buf = make_hive("HKEY_LOCAL_MACHINE\\SYSTEM", system_reg, &len);
        vd_hive *h = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_hive_open("SYSTEM", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        vd_settings s;
        vd_settings_init(&s);
        /* Select\Current is 2: ControlSet002, not 001 */
        cr_assert_eq(vd_hive_values(h, "CurrentControlSet\\Services", 1, &s, &e), 0, "%s", e.msg);
        cr_assert_str_eq(val(&s, "Svc\\ImagePath"), "%SystemRoot%\\svc.exe");
        cr_assert_str_eq(val(&s, "Svc\\Start"), "2");
        cr_assert_str_eq(val(&s, "Svc\\DependOnService"), "RPC\nNSI");
        cr_assert_str_eq(val(&s, "Svc\\Blob"), "hex:0102ff");
        cr_assert_str_eq(val(&s, "Svc\\Big"), "4294967296");
        cr_assert_str_eq(val(&s, "Svc\\(default)"), "the default");
        cr_assert_null(val(&s, "Old\\Start"));
        cr_assert_null(val(&s, "Svc\\Parameters\\ServiceDll"), "depth 1 stops above Parameters");
        cr_assert_eq(s.v[0].line, 0);
        cr_assert_str_eq(s.v[0].file, "SYSTEM");
        vd_settings_release(&s);
        /* depth 2 reaches it; names compare case-insensitively */
        vd_settings_init(&s);
        cr_assert_eq(vd_hive_values(h, "currentcontrolset\\SERVICES", 2, &s, &e), 0, "%s", e.msg);
        cr_assert_str_eq(val(&s, "Svc\\Parameters\\ServiceDll"), "x.dll");
        vd_settings_release(&s);
        /* absent key: 1, nothing added */
        vd_settings_init(&s);
        cr_assert_eq(vd_hive_values(h, "ControlSet002\\Services\\Nope", 0, &s, &e), 1);
        cr_assert_eq(s.n, 0);
        vd_settings_release(&s);
        char **names;
        size_t n;
        cr_assert_eq(vd_hive_subkeys(h, "ControlSet002\\Services", 10, &names, &n, &e), 0);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(names[0], "Svc");
        free(names[0]);
        free(names);
        vd_hive_close(h);
}

Test(hive, a_select_that_names_no_control_set_resolves_nothing) {
        size_t len;
        char *buf = make_hive("HKEY_LOCAL_MACHINE\\SYSTEM",
                              "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\n\"Current\"=str(1):\"1\"\n\n"
                              "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control]\n\"X\"=dword:00000001\n",
                              &len);
        vd_hive *h = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_hive_open("SYSTEM", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        vd_settings s;
        vd_settings_init(&s);
        cr_assert_eq(vd_hive_values(h, "CurrentControlSet\\Control", 0, &s, &e), 1);
        vd_settings_release(&s);
        vd_hive_close(h);
}

Test(hive, bytes_that_are_no_hive_are_refused_by_name) {
        vd_hive *h = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_hive_open("/Windows/System32/config/SAM", "regf but not really", 19, &h, &e), VD_E_INPUT);
        cr_assert(strstr(e.msg, "/Windows/System32/config/SAM: not a registry hive"), "%s", e.msg);
        cr_assert_null(h);
        /* a real hive cut short */
        size_t len;
        char *buf = make_hive("HKEY_LOCAL_MACHINE\\SYSTEM", system_reg, &len);
        cr_assert_eq(vd_hive_open("SYSTEM", buf, len / 2 + 100, &h, &e), VD_E_INPUT, "a truncated hive opened");
        free(buf);
}

Test(hive, long_and_binary_values_are_bounded) {
        char reg[40000];
        int n = snprintf(reg, sizeof reg, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\K]\n\"Long\"=str(1):\"");
        for (int i = 0; i < 9000; i++)
                reg[n++] = 'a';
        n += snprintf(reg + n, sizeof reg - (size_t)n, "\"\n\"Bin\"=hex:");
        for (int i = 0; i < 100; i++)
                n += snprintf(reg + n, sizeof reg - (size_t)n, "%s%02x", i ? "," : "", i);
        snprintf(reg + n, sizeof reg - (size_t)n, "\n");
        size_t len;
        char *buf = make_hive("HKEY_LOCAL_MACHINE\\SOFTWARE", reg, &len);
        vd_hive *h = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_hive_open("SOFTWARE", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        vd_settings s;
        vd_settings_init(&s);
        cr_assert_eq(vd_hive_values(h, "K", 0, &s, &e), 0, "%s", e.msg);
        const char *l = val(&s, "Long"), *b = val(&s, "Bin");
        cr_assert(l && strncmp(l, "hex:6161", 8) == 0 && strstr(l, "(9000 bytes, sha256:"), "%s", l);
        cr_assert(b && strncmp(b, "hex:000102", 10) == 0 && strstr(b, "(100 bytes, sha256:"), "%s", b);
        cr_assert_lt(strlen(l), 200);
        vd_settings_release(&s);
        vd_hive_close(h);
}

Test(registry_key, policy_keys_are_normalised_or_refused_with_what_was_expected) {
        char out[2048];
        const char *why = NULL;
        cr_assert_eq(vd_reg_key_normalise("HKEY_LOCAL_MACHINE\\software\\Microsoft", out, sizeof out, &why), 0);
        cr_assert_str_eq(out, "HKLM\\SOFTWARE\\Microsoft");
        cr_assert_eq(vd_reg_key_normalise("HKU\\*\\Software\\Run", out, sizeof out, &why), 0);
        cr_assert_str_eq(out, "HKU\\*\\Software\\Run");
        cr_assert_eq(vd_reg_key_normalise("HKCU\\Software", out, sizeof out, &why), -1);
        cr_assert(strstr(why, "HKU\\*"), "%s", why);
        cr_assert_eq(vd_reg_key_normalise("HKLM\\HARDWARE\\X", out, sizeof out, &why), -1);
        cr_assert(strstr(why, "HKLM\\SOFTWARE"), "%s", why);
        cr_assert_eq(vd_reg_key_normalise("HKLM\\SOFTWARE\\*\\Run", out, sizeof out, &why), -1);
        cr_assert_eq(vd_reg_key_normalise("HKLM\\SOFTWARE\\\\Run", out, sizeof out, &why), -1);
        cr_assert_eq(vd_reg_key_normalise("/etc/passwd", out, sizeof out, &why), -1);
        cr_assert(vd_reg_key_match("HKU\\*\\Software\\Run", "HKU\\ops\\software\\RUN"));
        cr_assert_not(vd_reg_key_match("HKU\\*\\Software\\Run", "HKU\\ops\\Software\\Run\\x"));
        cr_assert_not(vd_reg_key_match("HKLM\\SOFTWARE\\Run", "HKLM\\SOFTWARE\\RunOnce"));
}

static vd_policy *parse(const char *y, vd_err *e) {
        vd_policy *p = NULL;
        vd_policy_parse("win.yaml", y, strlen(y), &p, e);
        return p;
}

Test(registry_key, a_policy_names_keys_with_depth_and_checks) {
        vd_err e = VD_ERR_INIT;
        vd_policy *p = parse("version: 1\nconfig:\n  - key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies'\n    depth: 2\n"
                             "    severity: high\n    expect: {EnableLUA: \"1\"}\n",
                             &e);
        cr_assert(p, "%s", e.msg);
        const vd_conf_item *items;
        size_t n = vd_policy_conf_items(p, &items);
        cr_assert_str_eq(items[0].name, "HKLM\\SOFTWARE\\Policies");
        cr_assert_eq(items[0].format, VD_CF_REGISTRY);
        cr_assert_eq(items[0].depth, 2);
        cr_assert_eq(items[0].n_checks, 1);
        bool builtin_run = false;
        for (size_t i = 0; i < n; i++)
                builtin_run |= items[i].format == VD_CF_REGISTRY &&
                               strcmp(items[i].name, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run") == 0;
        cr_assert(builtin_run, "the persistence detector reads the Run key");
        char d1[65], d2[65];
        vd_policy_digest(p, d1);
        vd_policy_free(p);
        p = parse("version: 1\nconfig:\n  - key: 'HKLM\\SOFTWARE\\Policies'\n    depth: 3\n    severity: high\n"
                  "    expect: {EnableLUA: \"1\"}\n",
                  &e);
        cr_assert(p, "%s", e.msg);
        vd_policy_digest(p, d2);
        cr_assert_str_neq(d1, d2, "depth is part of the policy's digest");
        vd_policy_free(p);
        const char *bad[][2] = {
                {"config:\n  - key: 'HKCU\\Software'\n", "win.yaml:3:10: expected a key under HKU\\* (every user's"},
                {"config:\n  - key: 'HKLM\\SOFTWARE\\X'\n    depth: 9\n", "win.yaml:4:12: expected a depth of subkeys from 0 to 8"},
                {"config:\n  - key: 'HKLM\\SOFTWARE\\X'\n    format: ini\n", "expected 'key' alone"},
                {"config:\n  - path: /etc/x\n    format: ini\n    depth: 1\n", "expected 'depth' only with 'key'"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char y[512];
                snprintf(y, sizeof y, "version: 1\n%s", bad[i][0]);
                e = (vd_err)VD_ERR_INIT;
                p = parse(y, &e);
                cr_assert_null(p, "%s", y);
                cr_assert(strstr(e.msg, bad[i][1]), "%s: %s", y, e.msg);
        }
}

static int det(const vd_policy *p, const char *set, const char *key, const char *o, const char *n) {
        vd_confset cs = {(char *)set, VD_CF_REGISTRY, {0}};
        vd_setting so = {(char *)key, (char *)o, o ? strlen(o) : 0, (char *)"hive", 0, 0, false};
        vd_setting sn = {(char *)key, (char *)n, n ? strlen(n) : 0, (char *)"hive", 0, 0, false};
        return vd_detect_config(p, &cs, key, o ? &so : NULL, n ? &sn : NULL);
}

Test(registry_detectors, persistence_security_off_and_accounts) {
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        const char *run = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run";
        cr_assert_eq(det(p, run, "Updater", NULL, "C:\\u.exe"), VD_D_PERSISTENCE);
        cr_assert_eq(det(p, run, "Updater", "C:\\a.exe", "C:\\u.exe"), VD_D_PERSISTENCE);
        cr_assert_eq(det(p, run, "Updater", "C:\\u.exe", NULL), -1, "a removed Run value starts nothing");
        cr_assert_eq(det(p, "HKU\\ops\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce", "x", NULL, "y"),
                     VD_D_PERSISTENCE);
        const char *svc = "HKLM\\SYSTEM\\CurrentControlSet\\Services";
        cr_assert_eq(det(p, svc, "New\\ImagePath", NULL, "C:\\x.exe"), VD_D_PERSISTENCE);
        cr_assert_eq(det(p, svc, "W32Time\\ObjectName", "NT AUTHORITY\\LocalService", "LocalSystem"), VD_D_PERSISTENCE);
        cr_assert_eq(det(p, svc, "W32Time\\Description", "a", "b"), -1);
        cr_assert_eq(det(p, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options",
                         "sethc.exe\\Debugger", NULL, "cmd.exe"),
                     VD_D_PERSISTENCE);
        cr_assert_eq(det(p, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon", "Shell", "explorer.exe",
                         "explorer.exe, x.exe"),
                     VD_D_PERSISTENCE);
        cr_assert_eq(det(p, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon", "LastUsedUsername", "a",
                         "b"),
                     -1);
        const char *sys = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System";
        cr_assert_eq(det(p, sys, "EnableLUA", "1", "0"), VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, sys, "EnableLUA", "0", "1"), -1, "turned on is no finding");
        cr_assert_eq(det(p, "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender", "DisableAntiSpyware", NULL, "1"),
                     VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender",
                         "Real-Time Protection\\DisableRealtimeMonitoring", NULL, "1"),
                     VD_D_SECURITY_OFF);
        const char *fw = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy";
        cr_assert_eq(det(p, fw, "PublicProfile\\EnableFirewall", "1", "0"), VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, fw, "PublicProfile\\EnableFirewall", "1", NULL), VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server", "fDenyTSConnections", "1", "0"),
                     VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest",
                         "UseLogonCredential", "0", "1"),
                     VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa", "RunAsPPL", "1", NULL), VD_D_SECURITY_OFF);
        cr_assert_eq(det(p, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa", "RunAsPPL", NULL, "1"), -1);
        cr_assert_eq(det(p, "HKLM\\SAM\\SAM\\Domains\\Account\\Users\\Names", "support\\(default)", NULL, "type 1001"),
                     VD_D_ACCOUNT);
        const char *mem = "HKLM\\SAM\\SAM\\Domains\\Builtin\\Aliases\\Members";
        cr_assert_eq(det(p, mem, "S-1-5-21-1-2-3\\000003E8\\(default)", "hex:21020000", "hex:2102000020020000"),
                     VD_D_ACCOUNT, "joined Administrators");
        cr_assert_eq(det(p, mem, "S-1-5-21-1-2-3\\000003E9\\(default)", NULL, "hex:20020000"), VD_D_ACCOUNT);
        cr_assert_eq(det(p, mem, "S-1-5-21-1-2-3\\000003E8\\(default)", "hex:2102000020020000", "hex:21020000"), -1,
                     "left it");
        cr_assert_eq(det(p, mem, "S-1-5-21-1-2-3\\000003E8\\(default)", "hex:21020000", "hex:22020000"), -1,
                     "another group");
        cr_assert_eq(det(p, mem, "x\\(default)", NULL, "hex:00200200"), -1, "544 only at a 4-byte boundary");
        vd_policy_free(p);
        /* switched off in a policy: quiet */
        vd_err e = VD_ERR_INIT;
        p = parse("version: 1\ndetectors:\n  security-off: false\n", &e);
        cr_assert(p, "%s", e.msg);
        cr_assert_eq(det(p, sys, "EnableLUA", "1", "0"), -1);
        vd_policy_free(p);
}

Test(registry_detectors, windows_files_where_programs_start) {
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        vd_entry n = {0};
        n.type = VD_T_REG;
        n.mode = 0100777;
        const struct {
                const char *path;
                int det;
        } cases[] = {
                {"/Windows/System32/Tasks/Updater", VD_D_PERSISTENCE},
                {"/windows/system32/tasks/Microsoft/x", VD_D_PERSISTENCE},
                {"/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/u.cmd", VD_D_PERSISTENCE},
                {"/Users/ops/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/u.lnk", VD_D_PERSISTENCE},
                {"/Windows/System32/evil.dll", VD_D_SYSTEM_BINARY},
                {"/Windows/SysWOW64/drivers/x.SYS", VD_D_SYSTEM_BINARY},
                {"/Windows/System32/drivers/etc/hosts", -1},
                {"/Users/Public/u.exe", -1},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                n.path = (char *)cases[i].path;
                n.path_len = strlen(cases[i].path);
                vd_det_hit h = vd_detect_file(p, NULL, NULL, &n, false);
                cr_assert_eq(h.det, cases[i].det, "%s: %d", cases[i].path, h.det);
        }
        /* NTFS: ntfs-3g's 0777 is no world-writable file; the same on ext4 is */
        n.path = (char *)"/srv/x";
        n.path_len = 6;
        cr_assert_eq(vd_detect_file(p, NULL, NULL, &n, false).det, -1);
        cr_assert_eq(vd_detect_file(p, NULL, NULL, &n, true).det, VD_D_WORLD_WRITABLE);
        n.mode = 0104755;
        cr_assert_eq(vd_detect_file(p, NULL, NULL, &n, false).det, -1);
        cr_assert_eq(vd_detect_file(p, NULL, NULL, &n, true).det, VD_D_SETUID);
        vd_policy_free(p);
}

Test(version, windows_display_versions_compare_as_dotted_numbers) {
        cr_assert_lt(vd_version_cmp_dotted("19.00", "22.01"), 0);
        cr_assert_gt(vd_version_cmp_dotted("10.0.20348.2700", "10.0.20348.887"), 0);
        cr_assert_eq(vd_version_cmp_dotted("1.2", "1.2.0"), 0);
        cr_assert_eq(vd_version_cmp_dotted("01.2", "1.2"), 0);
        cr_assert_lt(vd_version_cmp_dotted("1.2", "1.2.1"), 0);
        cr_assert_lt(vd_version_cmp_dotted("1.2", "1.2a"), 0, "a number before a word");
        cr_assert_lt(vd_version_cmp_dotted("9.99999999999999999999", "10"), 0);
        cr_assert_lt(vd_version_cmp_dotted("7.1.13", "7.10"), 0);
}

static vd_event file_event(const char *path, int kind) {
        vd_event e = {0};
        e.kind = kind;
        e.path = (char *)path;
        e.path_len = strlen(path);
        e.ftype = VD_T_REG;
        e.severity = VD_SEV_MEDIUM;
        e.rule = "default";
        return e;
}

Test(registry_detectors, a_program_a_persistence_value_names_is_persistence_too) {
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        vd_attr_change ch[] = {
                {(char *)"Updater", {NULL, 0, false}, {(char *)"\"C:\\Users\\Public\\u.exe\" /background", 0, false}, NULL},
                {(char *)"Svc\\ImagePath", {NULL, 0, false}, {(char *)"%SystemRoot%\\System32\\svc host.exe -k net", 0, false}, NULL},
                {(char *)"Shell", {NULL, 0, false}, {(char *)"explorer.exe, c:\\windows\\temp\\x.scr", 0, false}, NULL},
        };
        for (size_t i = 0; i < 3; i++)
                ch[i].new_v.len = strlen(ch[i].new_v.s);
        vd_event reg = {0};
        reg.kind = VD_CH_CHANGED;
        reg.path = (char *)"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run";
        reg.config = "registry";
        reg.detector = "persistence";
        reg.severity = VD_SEV_HIGH;
        reg.ch = ch;
        reg.n_ch = 3;
        vd_event other = reg; /* the same paths named where no persistence is: nothing */
        other.detector = NULL;
        vd_event v[] = {reg,
                        file_event("/users/public/U.EXE", VD_CH_ADDED),
                        file_event("/Windows/System32/svc host.exe", VD_CH_CHANGED),
                        file_event("/Windows/Temp/x.scr", VD_CH_ADDED),
                        file_event("/Users/Public/other.exe", VD_CH_ADDED),
                        file_event("/Windows/Temp/x.scr", VD_CH_REMOVED)};
        vd_events ev = {v, sizeof v / sizeof v[0], sizeof v / sizeof v[0]};
        cr_assert_eq(vd_detect_named_programs(p, &ev), 0);
        for (size_t i = 1; i <= 3; i++) {
                cr_assert_eq(v[i].severity, VD_SEV_HIGH, "%s", v[i].path);
                cr_assert_str_eq(v[i].detector, "persistence", "%s", v[i].path);
        }
        cr_assert_eq(v[4].severity, VD_SEV_MEDIUM);
        cr_assert_null(v[4].detector);
        cr_assert_null(v[5].detector, "a removed file starts nothing");
        vd_event w[] = {other, file_event("/Users/Public/u.exe", VD_CH_ADDED)};
        vd_events ew = {w, 2, 2};
        cr_assert_eq(vd_detect_named_programs(p, &ew), 0);
        cr_assert_null(w[1].detector);
        vd_policy_free(p);
}

Test(hive, sam_membership_lists_are_read_as_bytes_whatever_their_type_says) {
        size_t len;
        char *buf = make_hive("HKEY_LOCAL_MACHINE\\SAM",
                              "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Builtin\\Aliases\\Members\\S-1-5-21-1-2-3\\000003E8]\n"
                              "@=hex(1):20,02,00,00\n",
                              &len);
        vd_hive *h = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_hive_open("SAM", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        vd_settings s;
        vd_settings_init(&s);
        cr_assert_eq(vd_hive_values_raw(h, "SAM\\Domains\\Builtin\\Aliases\\Members", 2, &s, &e), 0, "%s", e.msg);
        cr_assert_str_eq(val(&s, "S-1-5-21-1-2-3\\000003E8\\(default)"), "hex:20020000");
        vd_settings_release(&s);
        vd_hive_close(h);
}

/* SAM's local accounts: the machine SID at the end of Account's V, each
 * name's RID in its default value's type; a V that ends in no domain SID
 * names no machine. */
Test(hive, sam_accounts_are_the_machine_sid_and_each_name_with_its_rid) {
        size_t len;
        char *buf = make_hive("HKEY_LOCAL_MACHINE\\SAM",
                              "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Account]\n"
                              "\"V\"=hex:ff,ee,01,04,00,00,00,00,00,05,15,00,00,00,dc,f4,dc,3b,83,3d,2b,46,82,8b,a6,28\n\n"
                              "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Account\\Users\\Names\\Administrator]\n"
                              "@=hex(1f4):\n\n"
                              "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Account\\Users\\Names\\ops]\n@=hex(3e8):\n\n"
                              "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Account\\Users\\Names\\norid]\n\"x\"=dword:00000001\n",
                              &len);
        vd_hive *h = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_hive_open("SAM", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        char sid[VD_SID_TEXT_MAX];
        vd_sam_account *v;
        size_t n;
        bool more;
        cr_assert_eq(vd_hive_sam_accounts(h, 10, sid, &v, &n, &more, &e), 0, "%s", e.msg);
        cr_assert_str_eq(sid, "S-1-5-21-1004336348-1177238915-682003330");
        cr_assert_eq(n, 2, "a name without a default value has no RID: %zu", n);
        cr_assert_not(more);
        bool admin = false, ops = false;
        for (size_t i = 0; i < n; i++) {
                admin |= strcmp(v[i].name, "Administrator") == 0 && v[i].rid == 500;
                ops |= strcmp(v[i].name, "ops") == 0 && v[i].rid == 1000;
        }
        cr_assert(admin && ops);
        vd_sam_accounts_free(v, n);
        cr_assert_eq(vd_hive_sam_accounts(h, 1, sid, &v, &n, &more, &e), 0);
        cr_assert(more && n <= 1);
        vd_sam_accounts_free(v, n);
        vd_hive_close(h);

        buf = make_hive("HKEY_LOCAL_MACHINE\\SAM",
                        "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Account]\n\"V\"=hex:01,02,03\n\n"
                        "[HKEY_LOCAL_MACHINE\\SAM\\SAM\\Domains\\Builtin]\n",
                        &len);
        cr_assert_eq(vd_hive_open("SAM", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        cr_assert_eq(vd_hive_sam_accounts(h, 10, sid, &v, &n, &more, &e), 0);
        cr_assert_str_eq(sid, "", "a V too short for a SID names no machine");
        cr_assert_eq(n, 0);
        vd_sam_accounts_free(v, n);
        vd_hive_close(h);
        buf = make_hive("HKEY_LOCAL_MACHINE\\SYSTEM", "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\n\"Current\"=dword:00000001\n", &len);
        cr_assert_eq(vd_hive_open("SYSTEM", buf, len, &h, &e), 0, "%s", e.msg);
        free(buf);
        cr_assert_eq(vd_hive_sam_accounts(h, 10, sid, &v, &n, &more, &e), 1, "no Account domain");
        vd_hive_close(h);
}
