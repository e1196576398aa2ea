/* Registry hives through hivex; see vd_hive.h. hivex opens only files, so
 * the bytes go to a sealed memory file that it opens by its /proc path:
 * nothing of the guest's touches the host's disk. */
#define _GNU_SOURCE
#include "formats/vd_hive.h"

#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/vd_buf.h"
#include "common/vd_io.h"
#include "common/vd_str.h"
#include "formats/vd_ntsd.h"

int vd_reg_key_normalise(const char *in, char *out, size_t outsz, const char **why) {
        static const struct {
                const char *lng, *shrt;
        } roots[] = {{"HKEY_LOCAL_MACHINE\\", "HKLM\\"}, {"HKLM\\", "HKLM\\"}, {"HKEY_USERS\\", "HKU\\"},
                     {"HKU\\", "HKU\\"}};
        static const char *const hives[] = {"SOFTWARE", "SYSTEM", "SAM", "SECURITY"};
        const char *rest = NULL, *root = NULL;
        for (size_t i = 0; i < sizeof roots / sizeof roots[0] && !rest; i++)
                if (strncasecmp(in, roots[i].lng, strlen(roots[i].lng)) == 0) {
                        rest = in + strlen(roots[i].lng);
                        root = roots[i].shrt;
                }
        if (!rest) {
                *why = strncasecmp(in, "HKCU", 4) == 0 || strncasecmp(in, "HKEY_CURRENT_USER", 17) == 0
                               ? "a key under HKU\\* (every user's NTUSER.DAT) or HKU\\NAME, not HKCU (whoever logs on)"
                               : "a registry key beginning HKLM\\ or HKU\\ (or HKEY_LOCAL_MACHINE\\, HKEY_USERS\\)";
                return -1;
        }
        size_t first = strcspn(rest, "\\");
        if (first == 0) {
                *why = "a hive after the root (HKLM\\SOFTWARE, HKLM\\SYSTEM, HKLM\\SAM, HKLM\\SECURITY, HKU\\NAME)";
                return -1;
        }
        bool hklm = root[2] == 'L';
        char hive[64] = "";
        if (hklm) {
                for (size_t i = 0; i < 4 && !hive[0]; i++)
                        if (strlen(hives[i]) == first && strncasecmp(rest, hives[i], first) == 0)
                                snprintf(hive, sizeof hive, "%s", hives[i]);
                if (!hive[0]) {
                        *why = "HKLM\\SOFTWARE, HKLM\\SYSTEM, HKLM\\SAM or HKLM\\SECURITY (the hives vmdrift reads)";
                        return -1;
                }
        }
        const char *after = rest + first;
        if (strpbrk(hklm ? rest : after, "*?[") || (!hklm && memchr(rest, '?', first))) {
                *why = "no wildcard but HKU\\* (every user)";
                return -1;
        }
        int n = hklm ? snprintf(out, outsz, "%s%s%s", root, hive, after)
                     : snprintf(out, outsz, "%s%.*s%s", root, (int)first, rest, after);
        if (n < 0 || (size_t)n >= outsz || (size_t)n > VD_HIVE_KEY_PATH_MAX) {
                *why = "a registry key of at most 1024 characters";
                return -1;
        }
        /* no empty component, no trailing backslash */
        for (size_t i = 0; out[i]; i++)
                if (out[i] == '\\' && (out[i + 1] == '\\' || out[i + 1] == '\0')) {
                        *why = "a registry key without empty components (\\\\) or a trailing backslash";
                        return -1;
                }
        return 0;
}

bool vd_reg_key_match(const char *pattern, const char *key) {
        while (*pattern && *key) {
                if (pattern[0] == '*' && (pattern[1] == '\\' || pattern[1] == '\0')) {
                        key += strcspn(key, "\\");
                        pattern++;
                        continue;
                }
                size_t pn = strcspn(pattern, "\\"), kn = strcspn(key, "\\");
                if (pn != kn || strncasecmp(pattern, key, pn) != 0)
                        return false;
                pattern += pn;
                key += kn;
                if (*pattern != *key)
                        return false;
                if (*pattern) {
                        pattern++;
                        key++;
                }
        }
        return !*pattern && !*key;
}

struct vd_hive {
        hive_h *h;
        char *file;
};

int vd_hive_open(const char *file, const void *buf, size_t len, vd_hive **ret, vd_err *err) {
        *ret = NULL;
        if (len > VD_HIVE_FILE_MAX)
                return vd_err_set(err, VD_E_LIMIT, "%s: hive of %zu bytes, over the limit of %zu", file, len,
                                  VD_HIVE_FILE_MAX);
        int fd = memfd_create("vmdrift-hive", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return vd_err_errno(err, VD_E_IO, errno, "%s: cannot make a memory file for the hive", file);
        if (vd_write_full(fd, buf, len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK) < 0) {
                int e = errno;
                close(fd);
                return vd_err_errno(err, VD_E_IO, e, "%s: cannot copy the hive to memory", file);
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        errno = 0;
        hive_h *h = hivex_open(path, 0);
        int e = errno;
        close(fd); /* hivex holds its own descriptor or copy */
        if (!h)
                return vd_err_set(err, VD_E_INPUT, "%s: not a registry hive hivex can trust: %s", file,
                                  e ? strerror(e) : "refused");
        vd_hive *v = calloc(1, sizeof *v);
        if (!v || !(v->file = strdup(file))) {
                free(v);
                hivex_close(h);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        v->h = h;
        *ret = v;
        return 0;
}

void vd_hive_close(vd_hive *h) {
        if (!h)
                return;
        hivex_close(h->h);
        free(h->file);
        free(h);
}

/* The node of key below the root; 0 when absent. "CurrentControlSet" as
 * the first component is resolved through Select\Current (a SYSTEM hive). */
static hive_node_h find_key(vd_hive *h, const char *key) {
        hive_node_h node = hivex_root(h->h);
        const char *p = key;
        bool first = true;
        while (node && *p) {
                while (*p == '\\')
                        p++;
                size_t n = strcspn(p, "\\");
                if (n == 0)
                        break;
                char comp[256];
                if (n >= sizeof comp)
                        return 0;
                memcpy(comp, p, n);
                comp[n] = '\0';
                if (first && strcasecmp(comp, "CurrentControlSet") == 0) {
                        hive_node_h sel = hivex_node_get_child(h->h, node, "Select");
                        hive_value_h cur = sel ? hivex_node_get_value(h->h, sel, "Current") : 0;
                        errno = 0;
                        int32_t set = cur ? hivex_value_dword(h->h, cur) : -1;
                        if (set <= 0 || set > 999 || errno)
                                return 0;
                        snprintf(comp, sizeof comp, "ControlSet%03d", (int)set);
                }
                first = false;
                node = hivex_node_get_child(h->h, node, comp);
                p += n;
        }
        return node;
}

static int hex(vd_buf *b, const unsigned char *p, size_t n) {
        static const char d[] = "0123456789abcdef";
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
                char x[2] = {d[p[i] >> 4], d[p[i] & 15]};
                bad |= vd_buf_add(b, x, 2) < 0;
        }
        return bad;
}

/* Bytes too long for a setting, or not text: their start and digest. */
static int render_bytes(vd_buf *b, const unsigned char *p, size_t n, size_t show) {
        int bad = vd_buf_adds(b, "hex:") < 0;
        if (n <= show)
                return bad | hex(b, p, n);
        bad |= hex(b, p, n < 32 ? n : 32);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        if (!EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL))
                ml = 0;
        bad |= vd_buf_addf(b, "... (%zu bytes, sha256:", n) < 0;
        bad |= hex(b, md, ml < 16 ? ml : 16);
        return bad | (vd_buf_adds(b, "...)") < 0);
}

static int render_value(hive_h *h, hive_value_h v, vd_buf *b, bool as_bytes) {
        hive_type t;
        size_t len = 0;
        if (hivex_value_type(h, v, &t, &len) < 0) {
                return vd_buf_adds(b, "(unreadable)") < 0;
        }
        if (as_bytes) { /* the bytes whatever the type says (SAM keeps a count there) */
                hive_type rt;
                size_t rl = 0;
                char *d = hivex_value_value(h, v, &rt, &rl);
                int bad = d ? render_bytes(b, (const unsigned char *)d, rl, 64) : vd_buf_adds(b, "(unreadable)") < 0;
                free(d);
                return bad;
        }
        if (t == hive_t_REG_SZ || t == hive_t_REG_EXPAND_SZ || t == hive_t_REG_LINK) {
                char *s = hivex_value_string(h, v);
                if (s) {
                        size_t sl = strlen(s);
                        int bad = sl <= VD_CONF_VALUE_MAX - 96 ? vd_buf_add(b, s, sl) < 0
                                                                : render_bytes(b, (const unsigned char *)s, sl, 0);
                        free(s);
                        return bad;
                }
        } else if (t == hive_t_REG_DWORD || t == hive_t_REG_DWORD_BIG_ENDIAN) {
                errno = 0;
                int32_t d = hivex_value_dword(h, v);
                if (errno == 0)
                        return vd_buf_addf(b, "%u", (unsigned)d) < 0;
        } else if (t == hive_t_REG_QWORD) {
                errno = 0;
                int64_t q = hivex_value_qword(h, v);
                if (errno == 0)
                        return vd_buf_addf(b, "%llu", (unsigned long long)q) < 0;
        } else if (t == hive_t_REG_MULTI_SZ) {
                char **m = hivex_value_multiple_strings(h, v);
                if (m) {
                        int bad = 0;
                        bool end = false; /* an empty string ends the list, as Windows reads it */
                        for (size_t i = 0; m[i]; i++) {
                                end |= !m[i][0];
                                if (!end && b->len + strlen(m[i]) < VD_CONF_VALUE_MAX - 96)
                                        bad |= (i && vd_buf_adds(b, "\n") < 0) || vd_buf_adds(b, m[i]) < 0;
                                free(m[i]);
                        }
                        free(m);
                        return bad;
                }
        }
        hive_type rt;
        size_t rl = 0;
        char *raw = hivex_value_value(h, v, &rt, &rl);
        if (!raw)
                return vd_buf_adds(b, "(unreadable)") < 0;
        int bad = 0;
        if (t != hive_t_REG_BINARY && t != hive_t_REG_NONE && rl == 0) { /* SAM keeps a user's RID as the type */
                free(raw);
                return vd_buf_addf(b, "type %u", (unsigned)t) < 0;
        }
        if (t != hive_t_REG_BINARY && t != hive_t_REG_NONE)
                bad |= vd_buf_addf(b, "type %u: ", (unsigned)t) < 0;
        bad |= render_bytes(b, (const unsigned char *)raw, rl, 64);
        free(raw);
        return bad;
}

struct walk {
        vd_hive *h;
        vd_settings *out;
        size_t keys;
        vd_buf name, val;
        bool over;
        bool raw;
};

/* name = its first plen bytes, then "\\" and comp (0, or 1: out of memory) */
static int set_name(vd_buf *name, size_t plen, const char *comp) {
        name->len = plen;
        if (name->buf)
                name->buf[plen] = '\0';
        size_t n = strlen(comp), room = name->cap - plen - 2; /* a value name may be 16,383 characters */
        return (plen && vd_buf_adds(name, "\\") < 0) || vd_buf_add(name, comp, n < room ? n : room) < 0;
}

static int walk(struct walk *w, hive_node_h node, size_t plen, unsigned depth) {
        if (++w->keys > VD_HIVE_KEYS_MAX) {
                w->over = true;
                return 0;
        }
        hive_value_h *vals = hivex_node_values(w->h->h, node);
        for (size_t i = 0; vals && vals[i]; i++) {
                char *k = hivex_value_key(w->h->h, vals[i]);
                int bad = set_name(&w->name, plen, k && *k ? k : "(default)");
                free(k);
                vd_buf_reset(&w->val);
                bad |= render_value(w->h->h, vals[i], &w->val, w->raw);
                if (bad) {
                        free(vals);
                        return VD_E_NOMEM;
                }
                int r = vd_settings_put(w->out, w->name.buf, w->name.len, w->val.buf ? w->val.buf : "", w->val.len,
                                        w->h->file, 0, false, true);
                if (r == VD_E_LIMIT) {
                        w->over = true;
                        break;
                }
                if (r < 0) {
                        free(vals);
                        return r;
                }
        }
        free(vals);
        if (depth == 0 || w->over)
                return 0;
        hive_node_h *kids = hivex_node_children(w->h->h, node);
        for (size_t i = 0; kids && kids[i] && !w->over; i++) {
                char *n = hivex_node_name(w->h->h, kids[i]);
                int bad = set_name(&w->name, plen, n ? n : "(unnamed)");
                free(n);
                if (bad) {
                        free(kids);
                        return VD_E_NOMEM;
                }
                if (w->name.len > VD_HIVE_KEY_PATH_MAX) {
                        w->over = true;
                        break;
                }
                int r = walk(w, kids[i], w->name.len, depth - 1);
                if (r < 0) {
                        free(kids);
                        return r;
                }
        }
        free(kids);
        return 0;
}

static int values(vd_hive *h, const char *key, unsigned depth, bool raw, vd_settings *out, vd_err *err) {
        hive_node_h node = find_key(h, key);
        if (!node)
                return 1;
        if (depth > VD_HIVE_DEPTH_MAX) {
                depth = VD_HIVE_DEPTH_MAX;
                out->partial = true;
        }
        struct walk w = {h, out, 0, {0}, {0}, false, raw};
        vd_buf_init(&w.name, VD_HIVE_KEY_PATH_MAX + 1024);
        vd_buf_init(&w.val, VD_CONF_VALUE_MAX);
        int r = walk(&w, node, 0, depth);
        vd_buf_release(&w.name);
        vd_buf_release(&w.val);
        if (w.over)
                out->partial = true;
        if (r < 0)
                return vd_err_set(err, r, "%s: out of memory reading %s", h->file, key);
        return 0;
}

int vd_hive_values(vd_hive *h, const char *key, unsigned depth, vd_settings *out, vd_err *err) {
        return values(h, key, depth, false, out, err);
}

int vd_hive_values_raw(vd_hive *h, const char *key, unsigned depth, vd_settings *out, vd_err *err) {
        return values(h, key, depth, true, out, err);
}

int vd_hive_subkeys(vd_hive *h, const char *key, size_t max, char ***names, size_t *n, vd_err *err) {
        *names = NULL;
        *n = 0;
        hive_node_h node = find_key(h, key);
        if (!node)
                return 1;
        hive_node_h *kids = hivex_node_children(h->h, node);
        size_t k = 0;
        while (kids && kids[k] && k < max)
                k++;
        char **v = calloc(k ? k : 1, sizeof *v);
        if (!v) {
                free(kids);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < k; i++) {
                v[i] = hivex_node_name(h->h, kids[i]);
                if (!v[i] && !(v[i] = strdup("(unnamed)"))) {
                        for (size_t j = 0; j < i; j++)
                                free(v[j]);
                        free(v);
                        free(kids);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
        }
        free(kids);
        *names = v;
        *n = k;
        return 0;
}

void vd_sam_accounts_free(vd_sam_account *v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i].name);
        free(v);
}

/* The machine SID at the end of Account's V value: a domain SID of four
 * sub-authorities, the first 21 (24 bytes). "" when it is not there. */
static void machine_sid(vd_hive *h, hive_node_h account, char out[VD_SID_TEXT_MAX]) {
        out[0] = '\0';
        hive_value_h v = hivex_node_get_value(h->h, account, "V");
        hive_type t;
        size_t len = 0;
        char *data = v ? hivex_value_value(h->h, v, &t, &len) : NULL;
        static const unsigned char head[12] = {1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0};
        size_t used = 0;
        if (data && len >= 24 && memcmp(data + len - 24, head, sizeof head) == 0 &&
            vd_sid_text((const unsigned char *)data + len - 24, 24, &used, out, VD_SID_TEXT_MAX) < 0)
                out[0] = '\0';
        free(data);
}

int vd_hive_sam_accounts(vd_hive *h, size_t max, char sid[VD_SID_TEXT_MAX], vd_sam_account **names, size_t *n,
                         bool *more, vd_err *err) {
        *names = NULL;
        *n = 0;
        *more = false;
        sid[0] = '\0';
        hive_node_h account = find_key(h, "SAM\\Domains\\Account");
        if (!account)
                return 1;
        machine_sid(h, account, sid);
        hive_node_h list = find_key(h, "SAM\\Domains\\Account\\Users\\Names");
        hive_node_h *kids = list ? hivex_node_children(h->h, list) : NULL;
        size_t k = 0;
        while (kids && kids[k])
                k++;
        if (k > max) {
                *more = true;
                k = max;
        }
        vd_sam_account *v = calloc(k ? k : 1, sizeof *v);
        if (!v) {
                free(kids);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        size_t got = 0;
        for (size_t i = 0; i < k; i++) {
                /* the RID is the default value's type; a name without one is skipped */
                hive_value_h dv = hivex_node_get_value(h->h, kids[i], "");
                hive_type t;
                size_t len;
                if (!dv || hivex_value_type(h->h, dv, &t, &len) < 0)
                        continue;
                char *name = hivex_node_name(h->h, kids[i]);
                if (!name) {
                        if (errno == ENOMEM) {
                                vd_sam_accounts_free(v, got);
                                free(kids);
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                        continue;
                }
                v[got].name = name;
                v[got].rid = (uint32_t)t;
                got++;
        }
        free(kids);
        *names = v;
        *n = got;
        return 0;
}
