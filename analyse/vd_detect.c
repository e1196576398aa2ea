/* Every detector's test, in one place. Which detectors exist, their
 * default severities and the configuration files they need read are the
 * policy's vocabulary (policy/vd_detectors.c); whether one is on for a path,
 * and how severe, is the policy's decision. */

#include "analyse/vd_detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/vd_str.h"
#include "formats/vd_hive.h"
#include "formats/vd_ntsd.h"

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

/* Windows (names compare case-insensitively, as NTFS's do): scheduled
 * tasks and Startup folders, where a file is a program Windows starts. */
static bool has_prefix_icase(const char *path, size_t len, const char *prefix) {
        size_t pl = strlen(prefix);
        return len > pl && strncasecmp(path, prefix, pl) == 0;
}

static bool win_persistence_path(const char *path, size_t len) {
        static const char startup[] = "/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/";
        if (has_prefix_icase(path, len, "/Windows/System32/Tasks/") ||
            has_prefix_icase(path, len, "/Windows/SysWOW64/Tasks/") ||
            has_prefix_icase(path, len, "/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/"))
                return true;
        if (!has_prefix_icase(path, len, "/Users/"))
                return false;
        const char *user_end = memchr(path + 7, '/', len - 7);
        return user_end && has_prefix_icase(user_end, len - (size_t)(user_end - path), startup);
}

/* A program file of Windows' own directories (exe, dll, sys, ...). */
static bool win_system_binary(const char *path, size_t len) {
        static const char *const ext[] = {".exe", ".dll", ".sys", ".scr", ".com", ".cpl", ".ocx", ".drv", NULL};
        if (!has_prefix_icase(path, len, "/Windows/System32/") && !has_prefix_icase(path, len, "/Windows/SysWOW64/"))
                return false;
        for (size_t i = 0; ext[i]; i++)
                if (len > 4 && strncasecmp(path + len - 4, ext[i], 4) == 0)
                        return true;
        return false;
}

static const vd_xattr *find_xattr(const vd_entry *e, const char *name) {
        for (size_t i = 0; e && i < e->n_xattrs; i++)
                if (strcmp(e->xattrs[i].name, name) == 0)
                        return &e->xattrs[i];
        return NULL;
}

/* Does e's NTFS security descriptor let anyone write? (none recorded: no) */
static bool nt_world_writable(const vd_entry *e) {
        const vd_xattr *x = find_xattr(e, VD_NTSD_XATTR);
        return x && vd_ntsd_world_writable(x->value, x->len) == 1;
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
vd_det_hit vd_detect_file(const vd_policy *p, const vd_entry *parent, const vd_entry *o, const vd_entry *n,
                          bool posix_modes) {
        vd_det_hit h = {-1, -1};
        if (!n)
                return h;
        const char *path = n->path;
        size_t len = n->path_len;
        if (posix_modes && n->type == VD_T_REG && (n->mode & 06000) & ~(o && o->type == VD_T_REG ? o->mode & 06000 : 0))
                hit(&h, p, VD_D_SETUID, path, len);
        bool ww = posix_modes && n->type != VD_T_LNK && (n->mode & 0002) && !(n->type == VD_T_DIR && (n->mode & 01000));
        bool was_ww = o && o->type != VD_T_LNK && (o->mode & 0002);
        bool sticky_parent = parent && parent->type == VD_T_DIR && (parent->mode & 01000);
        if (ww && !was_ww && !sticky_parent)
                hit(&h, p, VD_D_WORLD_WRITABLE, path, len);
        if (!posix_modes && n->type != VD_T_LNK && nt_world_writable(n) && !nt_world_writable(o) &&
            !nt_world_writable(parent)) /* NTFS: the DACL, broadened past its folder's */
                hit(&h, p, VD_D_WORLD_WRITABLE, path, len);
        const vd_xattr *nc = find_xattr(n, "security.capability"), *oc = find_xattr(o, "security.capability");
        if (nc && (!oc || oc->len != nc->len || memcmp(oc->value, nc->value, nc->len) != 0))
                hit(&h, p, VD_D_FILE_CAP, path, len);
        bool win_persist = n->type != VD_T_DIR && win_persistence_path(path, len);
        if (n->type != VD_T_DIR && (vd_persistence_path(path, len) || win_persist || win_system_binary(path, len))) {
                bool changed = !o || o->type != n->type || o->mode != n->mode || o->uid != n->uid ||
                               o->target_len != n->target_len ||
                               (o->target && n->target && memcmp(o->target, n->target, n->target_len)) ||
                               (vd_entry_hash_known(o) && vd_entry_hash_known(n) &&
                                (o->hash_len != n->hash_len || memcmp(o->hash, n->hash, n->hash_len)));
                if (changed)
                        hit(&h, p, vd_persistence_path(path, len) || win_persist ? VD_D_PERSISTENCE : VD_D_SYSTEM_BINARY,
                            path, len);
        }
        return h;
}

/* ---------------- on configuration values ---------------- */

static bool auth_keys_path(const char *path) {
        const char *b = strrchr(path, '/');
        return b && strncmp(b + 1, "authorized_keys", 15) == 0;
}

/* ---------------- on registry values (Windows) ---------------- */

/* The last component of a value's key ("Svc\ImagePath" -> "ImagePath"). */
static const char *leaf(const char *key) {
        const char *b = strrchr(key, '\\');
        return b ? b + 1 : key;
}

static bool is(const vd_setting *s, const char *v) { return s && strcmp(s->value, v) == 0; }

static bool changed(const vd_setting *o, const vd_setting *n) {
        return n && (!o || o->value_len != n->value_len || memcmp(o->value, n->value, n->value_len) != 0);
}

#define SW "HKLM\\SOFTWARE\\"
#define CCS "HKLM\\SYSTEM\\CurrentControlSet\\"

static bool under(const vd_confset *set, const char *pattern) { return vd_reg_key_match(pattern, set->path); }

/* Where Windows starts programs by itself: any new or changed value of the
 * Run keys; the values that name a program elsewhere. */
static bool reg_persistence(const vd_confset *set, const char *key, const vd_setting *o, const vd_setting *n) {
        static const char *const run_keys[] = {
                SW "Microsoft\\Windows\\CurrentVersion\\Run",
                SW "Microsoft\\Windows\\CurrentVersion\\RunOnce",
                SW "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Run",
                SW "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
                "HKU\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
                "HKU\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
                NULL};
        if (!changed(o, n))
                return false;
        for (size_t i = 0; run_keys[i]; i++)
                if (under(set, run_keys[i]))
                        return true;
        const char *l = leaf(key);
        if (under(set, SW "Microsoft\\Windows NT\\CurrentVersion\\Winlogon"))
                return !strcasecmp(l, "Shell") || !strcasecmp(l, "Userinit") || !strcasecmp(l, "Taskman") ||
                       !strcasecmp(l, "AppSetup");
        if (under(set, SW "Microsoft\\Windows NT\\CurrentVersion\\Windows"))
                return (!strcasecmp(l, "AppInit_DLLs") && n->value[0]) ||
                       (!strcasecmp(l, "LoadAppInit_DLLs") && !is(n, "0")) || !strcasecmp(l, "Load") ||
                       !strcasecmp(l, "Run");
        if (under(set, SW "Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options"))
                return !strcasecmp(l, "Debugger") || !strcasecmp(l, "GlobalFlag");
        /* a new service, or one that runs something else, as someone else, or starts by itself now */
        if (under(set, CCS "Services"))
                return !strcasecmp(l, "ImagePath") || !strcasecmp(l, "ObjectName") || !strcasecmp(l, "Start") ||
                       !strcasecmp(l, "ServiceDll");
        return false;
}

/* A protection turned off: the value that switches it off set, or the one
 * that switches it on removed. */
static bool reg_security_off(const vd_confset *set, const char *key, const vd_setting *o, const vd_setting *n) {
        const char *l = leaf(key);
        if (under(set, SW "Microsoft\\Windows\\CurrentVersion\\Policies\\System"))
                return !strcasecmp(l, "EnableLUA") && changed(o, n) && is(n, "0");
        if (under(set, SW "Policies\\Microsoft\\Windows Defender") ||
            under(set, SW "Microsoft\\Windows Defender\\Real-Time Protection"))
                return !strncasecmp(l, "Disable", 7) && changed(o, n) && !is(n, "0");
        if (under(set, CCS "Services\\SharedAccess\\Parameters\\FirewallPolicy"))
                return !strcasecmp(l, "EnableFirewall") && ((changed(o, n) && is(n, "0")) || (o && !n && !is(o, "0")));
        if (under(set, CCS "Control\\Terminal Server"))
                return !strcasecmp(l, "fDenyTSConnections") && changed(o, n) && is(n, "0");
        if (under(set, CCS "Control\\SecurityProviders\\WDigest"))
                return !strcasecmp(l, "UseLogonCredential") && changed(o, n) && !is(n, "0");
        if (under(set, CCS "Control\\Lsa"))
                return (!strcasecmp(l, "RunAsPPL") && ((o && !n && !is(o, "0")) || (changed(o, n) && is(n, "0")))) ||
                       (!strcasecmp(l, "NoLMHash") && changed(o, n) && is(n, "0"));
        return false;
}

/* Does a raw SAM list ("hex:...": 4-byte little-endian RIDs) hold rid
 * (as 8 hex digits)? */
static bool lists_rid(const vd_setting *s, const char *rid) {
        if (!s || strncmp(s->value, "hex:", 4) != 0)
                return false;
        const char *h = s->value + 4;
        size_t n = strcspn(h, ".");
        for (size_t i = 0; i + 8 <= n; i += 8)
                if (strncmp(h + i, rid, 8) == 0)
                        return true;
        return false;
}

static int reg_detect(const vd_confset *set, const char *key, const vd_setting *o, const vd_setting *n) {
        if (reg_security_off(set, key, o, n))
                return VD_D_SECURITY_OFF;
        if (reg_persistence(set, key, o, n))
                return VD_D_PERSISTENCE;
        /* SAM: Names\USER\(default) holds a new account's RID */
        if (n && !o && under(set, "HKLM\\SAM\\SAM\\Domains\\Account\\Users\\Names"))
                return VD_D_ACCOUNT;
        /* SAM: Builtin\Aliases\Members\DOMAIN-SID\RID lists the built-in groups
         * an account is in (4-byte RIDs): one that joined Administrators (544) */
        if (changed(o, n) && under(set, "HKLM\\SAM\\SAM\\Domains\\Builtin\\Aliases\\Members") &&
            lists_rid(n, "20020000") && !lists_rid(o, "20020000"))
                return VD_D_ACCOUNT;
        return -1;
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
        } else if (set->format == VD_CF_REGISTRY) {
                d = reg_detect(set, key, o, n);
        } else if (set->format == VD_CF_LINES && n && !o) {
                if (auth_keys_path(set->path))
                        d = VD_D_AUTH_KEYS;
                else if (vd_persistence_path(set->path, pl))
                        d = VD_D_PERSISTENCE;
        }
        return d >= 0 && vd_policy_detector_on(p, d, set->path, pl) ? d : -1;
}

/* ---------------- programs a persistence value names ---------------- */

#define NAMED_MAX 256
#define NAMED_PATH_MAX 512

/* The guest paths of the programs v names ("C:\Users\Public\u.exe",
 * "%SystemRoot%\System32\svchost.exe -k x", "explorer.exe, C:\x.exe"):
 * each drive-C or system-root path up to its program's extension (or the
 * first blank, quote, comma or semicolon), '\' as '/'. */
static size_t named_paths(const char *v, size_t len, char (*out)[NAMED_PATH_MAX], size_t n, size_t max) {
        static const char *const roots[][2] = {{"c:\\", "/"}, {"%systemroot%\\", "/Windows/"}, {"%windir%\\", "/Windows/"}};
        static const char *const ext[] = {".exe", ".dll", ".sys", ".scr", ".com", ".cmd", ".bat", ".ps1",
                                          ".vbs", ".js",  ".hta", ".cpl", NULL};
        for (size_t i = 0; i < len && n < max; i++) {
                size_t r = 0, rl = 0;
                for (; r < 3; r++) {
                        rl = strlen(roots[r][0]);
                        if (len - i >= rl && strncasecmp(v + i, roots[r][0], rl) == 0)
                                break;
                }
                if (r == 3)
                        continue;
                size_t s = i + rl, e = s;
                while (e < len && v[e] != '"' && v[e] != ',' && v[e] != ';' && v[e] != '\n')
                        e++;
                size_t end = e; /* the program ends at its extension, else at a blank */
                for (size_t k = s; k < e && end == e; k++)
                        for (size_t x = 0; ext[x]; x++) {
                                size_t xl = strlen(ext[x]);
                                if (e - k >= xl && strncasecmp(v + k, ext[x], xl) == 0 &&
                                    (k + xl == e || v[k + xl] == ' ')) {
                                        end = k + xl;
                                        break;
                                }
                        }
                if (end == e)
                        for (size_t k = s; k < e; k++)
                                if (v[k] == ' ') {
                                        end = k;
                                        break;
                                }
                int w = snprintf(out[n], NAMED_PATH_MAX, "%s%.*s", roots[r][1], (int)(end - s), v + s);
                if (w > 0 && w < NAMED_PATH_MAX && end > s) {
                        for (char *c = out[n]; *c; c++)
                                if (*c == '\\')
                                        *c = '/';
                        n++;
                }
                i = end;
        }
        return n;
}

int vd_persistence_named_in_events(const vd_events *ev, int (*fn)(void *ctx, const char *path, size_t len, const char *by),
                                   void *ctx) {
        char (*named)[NAMED_PATH_MAX] = NULL;
        int r = 0;
        for (size_t i = 0; i < ev->n && r == 0; i++) {
                const vd_event *e = &ev->v[i];
                if (!e->config || strcmp(e->config, "registry") != 0 || !e->detector ||
                    strcmp(e->detector, vd_detector_name(VD_D_PERSISTENCE)) != 0)
                        continue;
                if (!named && !(named = malloc(VD_PERSISTENCE_NAMED_MAX * sizeof *named)))
                        return VD_E_NOMEM;
                size_t n = 0;
                for (size_t k = 0; k < e->n_ch && n < VD_PERSISTENCE_NAMED_MAX; k++)
                        if (e->ch[k].new_v.s)
                                n = named_paths(e->ch[k].new_v.s, e->ch[k].new_v.len, named, n, VD_PERSISTENCE_NAMED_MAX);
                char *by = strndup(e->path, e->path_len);
                for (size_t k = 0; k < n && r == 0; k++)
                        r = fn(ctx, named[k], strlen(named[k]), by ? by : "");
                free(by);
        }
        free(named);
        return r;
}

/* A byte that ends a path in a command line. */
static bool path_end(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '"' || c == '\'' || c == ';' || c == '|' || c == '&' ||
               c == '>' || c == '<' || c == '`' || c == '(' || c == ')' || c == '$' || c == ',' || c == '=';
}

int vd_persistence_named_in_text(const char *path, size_t path_len, const char *text, size_t n,
                                 int (*fn)(void *ctx, const char *path, size_t len, const char *by), void *ctx) {
        if (!vd_persistence_path(path, path_len))
                return 0;
        char *by = strndup(path, path_len);
        if (!by)
                return VD_E_NOMEM;
        size_t found = 0;
        int r = 0;
        for (size_t i = 0; i < n && r == 0 && found < VD_PERSISTENCE_NAMED_MAX;) {
                const char *nl = memchr(text + i, '\n', n - i);
                size_t end = nl ? (size_t)(nl - text) : n, k = i;
                while (k < end && (text[k] == ' ' || text[k] == '\t'))
                        k++;
                bool comment = k < end && (text[k] == '#' || text[k] == ';');
                for (; !comment && k < end && r == 0 && found < VD_PERSISTENCE_NAMED_MAX; k++) {
                        /* an absolute path at a token's start (after systemd's @-:+! prefixes) */
                        bool start = k == i || path_end(text[k - 1]) || text[k - 1] == '@' || text[k - 1] == '-' ||
                                     text[k - 1] == '+' || text[k - 1] == '!' || text[k - 1] == ':';
                        if (text[k] != '/' || !start || (k + 1 < end && text[k + 1] == '/'))
                                continue;
                        size_t e = k;
                        while (e < end && !path_end(text[e]))
                                e++;
                        if (e - k > 1 && e - k < NAMED_PATH_MAX) {
                                r = fn(ctx, text + k, e - k, by);
                                found++;
                        }
                        k = e;
                }
                i = end + 1;
        }
        free(by);
        return r;
}

int vd_detect_named_programs(const vd_policy *p, vd_events *ev) {
        char (*named)[NAMED_PATH_MAX] = NULL;
        size_t n = 0;
        for (size_t i = 0; i < ev->n; i++) {
                const vd_event *e = &ev->v[i];
                if (!e->config || strcmp(e->config, "registry") != 0 || !e->detector ||
                    strcmp(e->detector, vd_detector_name(VD_D_PERSISTENCE)) != 0)
                        continue;
                if (!named && !(named = malloc(NAMED_MAX * sizeof *named)))
                        return VD_E_NOMEM;
                for (size_t k = 0; k < e->n_ch && n < NAMED_MAX; k++)
                        if (e->ch[k].new_v.s)
                                n = named_paths(e->ch[k].new_v.s, e->ch[k].new_v.len, named, n, NAMED_MAX);
        }
        int sev = vd_policy_detector_severity(p, VD_D_PERSISTENCE);
        for (size_t i = 0; n && i < ev->n; i++) {
                vd_event *e = &ev->v[i];
                if (e->config || e->package || e->fleet || e->ftype != VD_T_REG ||
                    (e->kind != VD_CH_ADDED && e->kind != VD_CH_CHANGED))
                        continue;
                for (size_t k = 0; k < n; k++)
                        if (strlen(named[k]) == e->path_len && strncasecmp(named[k], e->path, e->path_len) == 0 &&
                            vd_policy_detector_on(p, VD_D_PERSISTENCE, e->path, e->path_len)) {
                                if (sev > e->severity)
                                        e->severity = sev;
                                if (!e->detector)
                                        e->detector = vd_detector_name(VD_D_PERSISTENCE);
                                break;
                        }
        }
        free(named);
        return 0;
}
