/* /proc/self/mountinfo (see vd_mountinfo.h). */
#define _GNU_SOURCE
#include "formats/vd_mountinfo.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_io.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo */
char *vd_mount_unescape(const char *s, size_t n) {
        char *out = malloc(n + 1), *w = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && n - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *w++ = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *w++ = s[i];
        }
        *w = '\0';
        return out;
}

static bool uint_field(const char *s, size_t n, unsigned *v) {
        unsigned x = 0;
        if (n == 0 || n > 9)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                x = x * 10 + (unsigned)(s[i] - '0');
        }
        *v = x;
        return true;
}

static void mount_release(vd_mount *m) {
        free(m->root);
        free(m->mount_point);
        free(m->mount_point_raw);
        free(m->options);
        free(m->fstype);
        free(m->source);
        free(m->super_options);
}

#define FIELDS_MAX 64

/* One line: 0 and *m filled, 1 not a mount line, VD_E_NOMEM. */
static int parse_line(const char *l, size_t n, vd_mount *m) {
        const char *f[FIELDS_MAX];
        size_t fl[FIELDS_MAX], nf = 0, sep = 0;
        for (size_t i = 0; i < n;) {
                size_t j = i;
                while (j < n && l[j] != ' ')
                        j++;
                if (nf == FIELDS_MAX)
                        return 1;
                f[nf] = l + i;
                fl[nf++] = j - i;
                i = j + 1;
        }
        for (size_t k = 6; k < nf && !sep; k++)
                if (fl[k] == 1 && f[k][0] == '-')
                        sep = k;
        const char *colon = nf > 2 ? memchr(f[2], ':', fl[2]) : NULL;
        unsigned maj, min;
        if (!sep || sep + 3 > nf || !colon || !uint_field(f[2], (size_t)(colon - f[2]), &maj) ||
            !uint_field(colon + 1, fl[2] - (size_t)(colon - f[2]) - 1, &min))
                return 1;
        memset(m, 0, sizeof *m);
        m->major = maj;
        m->minor = min;
        m->root = vd_mount_unescape(f[3], fl[3]);
        m->mount_point = vd_mount_unescape(f[4], fl[4]);
        m->mount_point_raw = strndup(f[4], fl[4]);
        m->options = strndup(f[5], fl[5]);
        m->fstype = strndup(f[sep + 1], fl[sep + 1]);
        m->source = strndup(f[sep + 2], fl[sep + 2]);
        m->super_options = sep + 3 < nf ? strndup(f[sep + 3], fl[sep + 3]) : strdup("");
        if (!m->root || !m->mount_point || !m->mount_point_raw || !m->options || !m->fstype || !m->source ||
            !m->super_options) {
                mount_release(m);
                return VD_E_NOMEM;
        }
        return 0;
}

int vd_mountinfo_parse(const char *text, size_t len, vd_mount **ret, size_t *ret_n, vd_err *err) {
        *ret = NULL;
        *ret_n = 0;
        vd_mount *v = NULL;
        size_t n = 0, cap = 0;
        for (const char *l = text, *end = text + len; l < end;) {
                const char *nl = memchr(l, '\n', (size_t)(end - l));
                size_t ln = nl ? (size_t)(nl - l) : (size_t)(end - l);
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 32;
                        vd_mount *g = nc > VD_MOUNTS_MAX ? NULL : realloc(v, nc * sizeof *v);
                        if (!g) {
                                vd_mounts_free(v, n);
                                return nc > VD_MOUNTS_MAX ? vd_err_set(err, VD_E_LIMIT,
                                                                       "mountinfo: more than %d mounts", VD_MOUNTS_MAX)
                                                          : vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                        v = g;
                        cap = nc;
                }
                int r = parse_line(l, ln, &v[n]);
                if (r < 0) {
                        vd_mounts_free(v, n);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                n += r == 0;
                l += ln + 1;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int vd_mountinfo_read(vd_mount **ret, size_t *ret_n, vd_err *err) {
        vd_buf b;
        vd_buf_init(&b, VD_MOUNTINFO_MAX + 1);
        int r =
            vd_read_path("/proc/self/mountinfo", 0, VD_MOUNTINFO_MAX, VD_E_IO, "/proc/self/mountinfo", &b, NULL, err);
        if (r == 0)
                r = vd_mountinfo_parse(b.buf ? b.buf : "", b.len, ret, ret_n, err);
        vd_buf_release(&b);
        return r;
}

void vd_mounts_free(vd_mount *m, size_t n) {
        for (size_t i = 0; i < n; i++)
                mount_release(&m[i]);
        free(m);
}
