/* Registry keys as configuration values. A policy's (or a detector's)
 * registry item names a key; the hive holding it is found among the scanned
 * entries (the system root's System32/config/SOFTWARE, SYSTEM, SAM,
 * SECURITY; a profile's NTUSER.DAT for HKU\NAME), read through the source
 * like any configuration file (bounded: VD_HIVE_FILE_MAX), opened once per
 * run, and the key's values become one set named by the key. NTFS names
 * are matched case-insensitively when the guest is Windows: the first
 * exact lookup almost always finds them, and only a miss walks the tree. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/vd_str.h"
#include "formats/vd_hive.h"
#include "vd_confscan_int.h"

#define PROFILES_MAX 1000 /* HKU\*: profiles read, as ITEM_FILES_MAX for files */
#define ACCOUNTS_MAX 5000 /* local accounts named (a SAM holds a handful) */

struct hive_slot {
        char *file; /* the entry's path */
        vd_hive *h; /* NULL: could not be read (said once) */
};

struct vd_regcache {
        struct hive_slot *v;
        size_t n, alloc;
};

void vd_regscan_release(cctx *c) {
        if (!c->reg)
                return;
        for (size_t i = 0; i < c->reg->n; i++) {
                vd_hive_close(c->reg->v[i].h);
                free(c->reg->v[i].file);
        }
        free(c->reg->v);
        free(c->reg);
        c->reg = NULL;
}

static bool windows_guest(const cctx *c) {
        const char *t = c->scan ? vd_scan_fact(c->scan, "os.type") : NULL;
        return t && strcmp(t, "windows") == 0;
}

struct icase {
        const char *want;
        size_t want_len;
        int type;          /* VD_T_REG or VD_T_DIR */
        char found[4096];
};

static int icase_one(void *ctx, const vd_entry *e) {
        struct icase *ic = ctx;
        if (e->type != ic->type || e->path_len != ic->want_len || e->path_len >= sizeof ic->found ||
            strncasecmp(e->path, ic->want, ic->want_len) != 0 || memchr(e->path, '\0', e->path_len))
                return 0;
        memcpy(ic->found, e->path, e->path_len);
        ic->found[e->path_len] = '\0';
        return 1;
}

/* The entry of type type whose path is want, exactly or (a Windows guest)
 * case-insensitively; its path in real. */
static bool find_icase(cctx *c, const char *want, int type, char *real, size_t realsz) {
        size_t wl = strlen(want);
        const vd_entry *e = c->entries->find(c->entries->ctx, want, wl);
        if (e && e->type == type) {
                snprintf(real, realsz, "%s", want);
                return true;
        }
        if (!windows_guest(c))
                return false;
        struct icase ic = {want, wl, type, ""};
        if (c->entries->each_prefix(c->entries->ctx, "/", 1, icase_one, &ic) != 1)
                return false;
        snprintf(real, realsz, "%s", ic.found);
        return true;
}

/* The hive in file, opened once a run; NULL when it cannot be (said as a
 * warning, or, for an item's hive, a finding when it is over a limit or not
 * a hive). */
static int open_hive(cctx *c, item_run *ir, const char *file, vd_hive **ret) {
        *ret = NULL;
        if (!c->reg && !(c->reg = calloc(1, sizeof *c->reg)))
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        for (size_t i = 0; i < c->reg->n; i++)
                if (strcmp(c->reg->v[i].file, file) == 0) {
                        *ret = c->reg->v[i].h;
                        return 0;
                }
        if (vd_array_grow(&c->reg->v, &c->reg->alloc, c->reg->n, sizeof *c->reg->v, 4) < 0)
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        struct hive_slot *slot = &c->reg->v[c->reg->n];
        if (!(slot->file = strdup(file)))
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        slot->h = NULL;
        c->reg->n++;
        vd_buf b;
        vd_buf_init(&b, VD_HIVE_FILE_MAX + 1);
        vd_err e2 = VD_ERR_INIT;
        int r = c->src->ops->read_range ? c->src->ops->read_range(c->src, file, 0, VD_HIVE_FILE_MAX + 1, &b, &e2)
                                        : c->src->ops->read_file(c->src, file, VD_HIVE_FILE_MAX, &b, &e2);
        if (r == 0 && b.len > VD_HIVE_FILE_MAX)
                r = vd_err_set(&e2, VD_E_LIMIT, "%s: hive larger than %zu bytes", file, VD_HIVE_FILE_MAX);
        if (r == 0)
                r = vd_hive_open(file, b.buf ? b.buf : "", b.len, &slot->h, &e2);
        vd_buf_release(&b);
        if (r == VD_E_NOMEM)
                return vd_err_set(c->err, VD_E_NOMEM, "%s", e2.msg);
        if ((r == VD_E_LIMIT || r == VD_E_INPUT) && ir) /* padded past a limit, or a hive hivex refuses: a finding */
                return vd_confscan_limit(c, ir, file, e2.msg);
        if (r < 0 && vd_scan_warn(c->scan, file, strlen(file), "registry not read: %s", e2.msg) < 0)
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        *ret = slot->h;
        return 0;
}

/* SAM's membership lists are keyed by each member's SID, the machine's own
 * accounts under the machine's SID: that part becomes "(this machine)", so
 * a clone given a new machine SID (sysprep) keeps its memberships, and an
 * account that joined a group still shows as new. */
#define THIS_MACHINE "(this machine)"

static int machine_members(cctx *c, vd_hive *h, vd_settings *s) {
        char sid[VD_SID_TEXT_MAX];
        vd_sam_account *none = NULL;
        size_t n = 0;
        bool more;
        int r = vd_hive_sam_accounts(h, 0, sid, &none, &n, &more, c->err);
        vd_sam_accounts_free(none, n);
        if (r != 0 || !sid[0])
                return r < 0 ? r : 0;
        size_t sl = strlen(sid);
        for (size_t i = 0; i < s->n; i++) {
                char *k = s->v[i].key;
                if (strncmp(k, sid, sl) != 0 || k[sl] != '\\')
                        continue;
                size_t rest = strlen(k + sl);
                char *nk = malloc(sizeof THIS_MACHINE + rest);
                if (!nk)
                        return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
                memcpy(nk, THIS_MACHINE, sizeof THIS_MACHINE - 1);
                memcpy(nk + sizeof THIS_MACHINE - 1, k + sl, rest + 1);
                free(k);
                s->v[i].key = nk;
        }
        vd_settings_sort(s);
        return 0;
}

/* One set: name's values from subkey of hive file. */
static int one_set(cctx *c, item_run *ir, const char *file, const char *subkey, const char *name) {
        for (size_t i = 0; i < ir->out->n; i++)
                if (strcmp(ir->out->v[i].path, name) == 0)
                        return 0; /* an earlier item read it */
        vd_hive *h = NULL;
        int r = open_hive(c, ir, file, &h);
        if (r < 0 || !h)
                return r;
        vd_confset *set = vd_confsets_add(ir->out, name, VD_CF_REGISTRY);
        if (!set)
                return vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        /* SAM's membership lists keep their count in the type: read as bytes */
        bool raw = vd_reg_key_match("HKLM\\SAM\\SAM\\Domains\\*\\Aliases\\Members", name) ||
                   vd_reg_key_match("HKLM\\SAM\\SAM\\Domains\\*\\Groups\\Members", name);
        r = raw ? vd_hive_values_raw(h, subkey, ir->it->depth, &set->s, c->err)
                : vd_hive_values(h, subkey, ir->it->depth, &set->s, c->err);
        if (r == 0 && raw)
                r = machine_members(c, h, &set->s);
        if (r < 0)
                return r;
        bool absent = r == 1;
        if (!absent && set->s.partial) {
                char why[512];
                snprintf(why, sizeof why,
                         "%s: more than %d keys or %d values below the key, or deeper than %d: the rest are not "
                         "compared",
                         name, VD_HIVE_KEYS_MAX, VD_CONF_MAX_KEPT, VD_HIVE_DEPTH_MAX);
                if ((r = vd_confscan_limit(c, ir, file, why)) < 0)
                        return r;
        }
        r = vd_confscan_finish_set(c, ir, set);
        if (r == 0 && absent) {
                /* checked (an expected value of an absent key is a violation), no values kept */
                vd_settings_release(&ir->out->v[ir->out->n - 1].s);
                free(ir->out->v[ir->out->n - 1].path);
                ir->out->n--;
        }
        return r;
}

struct profiles {
        cctx *c;
        item_run *ir;
        size_t dir_len; /* "/Users/" */
        const char *rest; /* the key below HKU\NAME, "" or "\..." */
        size_t seen;
        int r;
};

static int profile_one(void *ctx, const vd_entry *e) {
        struct profiles *pr = ctx;
        if (e->type != VD_T_REG || e->path_len <= pr->dir_len || memchr(e->path, '\0', e->path_len))
                return 0;
        const char *name = e->path + pr->dir_len, *end = e->path + e->path_len;
        const char *slash = memchr(name, '/', (size_t)(end - name));
        if (!slash || slash == name || (size_t)(end - slash - 1) != 10 || strncasecmp(slash + 1, "NTUSER.DAT", 10) != 0)
                return 0;
        if (++pr->seen > PROFILES_MAX)
                return 0;
        char file[4096], set[VD_HIVE_KEY_PATH_MAX + 512];
        if (e->path_len >= sizeof file)
                return 0;
        memcpy(file, e->path, e->path_len);
        file[e->path_len] = '\0';
        int n = snprintf(set, sizeof set, "HKU\\%.*s%s", (int)(slash - name), name, pr->rest);
        if (n < 0 || (size_t)n >= sizeof set)
                return 0;
        pr->r = one_set(pr->c, pr->ir, file, pr->rest[0] ? pr->rest + 1 : "", set);
        return pr->r < 0 ? 1 : 0;
}

int vd_regscan_item(cctx *c, item_run *ir) {
        const char *key = ir->it->paths[0]; /* normalised by the policy: HKLM\HIVE\... or HKU\NAME\... */
        const char *after_root = strchr(key, '\\');
        if (!after_root)
                return 0;
        after_root++;
        size_t hl = strcspn(after_root, "\\");
        const char *rest = after_root + hl; /* "" or "\sub\key" */
        if (strncmp(key, "HKLM\\", 5) == 0) {
                const char *sysroot = c->scan ? vd_scan_fact(c->scan, "os.systemroot") : NULL;
                char want[1024], file[4096];
                snprintf(want, sizeof want, "%s/System32/config/%.*s", sysroot && *sysroot ? sysroot : "/Windows",
                         (int)hl, after_root);
                if (!find_icase(c, want, VD_T_REG, file, sizeof file))
                        return 0;
                return one_set(c, ir, file, rest[0] ? rest + 1 : "", key);
        }
        /* HKU\NAME or HKU\*: profiles under /Users */
        char users[4096];
        if (!find_icase(c, "/Users", VD_T_DIR, users, sizeof users))
                return 0;
        if (hl == 1 && after_root[0] == '*') {
                char prefix[4200];
                snprintf(prefix, sizeof prefix, "%s/", users);
                struct profiles pr = {c, ir, strlen(prefix), rest, 0, 0};
                c->entries->each_prefix(c->entries->ctx, prefix, strlen(prefix), profile_one, &pr);
                if (pr.r == 0 && pr.seen > PROFILES_MAX) {
                        char why[256];
                        snprintf(why, sizeof why, "more than %d user profiles: %s read for the first %d", PROFILES_MAX,
                                 key, PROFILES_MAX);
                        pr.r = vd_confscan_limit(c, ir, users, why);
                }
                return pr.r;
        }
        char want[4300], file[4096];
        snprintf(want, sizeof want, "%s/%.*s/NTUSER.DAT", users, (int)hl, after_root);
        if (!find_icase(c, want, VD_T_REG, file, sizeof file))
                return 0;
        return one_set(c, ir, file, rest[0] ? rest + 1 : "", key);
}

/* A name Windows would give an account: no control bytes, none of the
 * characters it refuses in user names (which also keeps a hostile name
 * from posing as more of a descriptor's text: "x; allow Everyone: ..."). */
static bool plain_account_name(const char *n) {
        if (!*n || strlen(n) > 256)
                return false;
        for (const unsigned char *p = (const unsigned char *)n; *p; p++)
                if (*p < 0x20 || *p == 0x7f || strchr("\"/\\[]:;|=,+*?<>", *p))
                        return false;
        return true;
}

int vd_regscan_accounts(cctx *c) {
        if (!c->scan || !windows_guest(c))
                return 0;
        const char *sysroot = vd_scan_fact(c->scan, "os.systemroot");
        char want[1024], file[4096];
        snprintf(want, sizeof want, "%s/System32/config/SAM", sysroot && *sysroot ? sysroot : "/Windows");
        if (!find_icase(c, want, VD_T_REG, file, sizeof file))
                return 0;
        vd_hive *h = NULL;
        int r = open_hive(c, NULL, file, &h);
        if (r < 0 || !h)
                return r;
        char sid[VD_SID_TEXT_MAX];
        vd_sam_account *v = NULL;
        size_t n = 0;
        bool more = false;
        r = vd_hive_sam_accounts(h, ACCOUNTS_MAX, sid, &v, &n, &more, c->err);
        if (r != 0)
                return r < 0 ? r : 0;
        const char *host = vd_scan_fact(c->scan, "os.hostname");
        for (size_t i = 0; r == 0 && sid[0] && i < n; i++) {
                if (!plain_account_name(v[i].name))
                        continue; /* shown by its SID */
                char s[VD_SID_TEXT_MAX + 16], name[600];
                snprintf(s, sizeof s, "%s-%u", sid, (unsigned)v[i].rid);
                if (host && *host && plain_account_name(host))
                        snprintf(name, sizeof name, "%.256s\\%s", host, v[i].name);
                else
                        snprintf(name, sizeof name, "%s", v[i].name);
                if (vd_scan_add_sid_name(c->scan, s, name) < 0)
                        r = vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        }
        vd_sam_accounts_free(v, n);
        if (r == 0 && more &&
            vd_scan_warn(c->scan, file, strlen(file),
                         "more than %d local accounts: owners and ACLs name the first %d, the rest by SID",
                         ACCOUNTS_MAX, ACCOUNTS_MAX) < 0)
                r = vd_err_set(c->err, VD_E_NOMEM, "out of memory");
        return r;
}
