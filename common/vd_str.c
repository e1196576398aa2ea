#include "common/vd_str.h"

#include "common/vd_buf.h"
#include "common/vd_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at p (1..4) or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
        unsigned char c = p[0];
        if (c < 0x80)
                return 1;
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        if (cp >= 0xd800 && cp <= 0xdfff)
                return 0;
        return len;
}

static uint32_t utf8_cp(const unsigned char *p, size_t len) {
        if (len == 1)
                return p[0];
        uint32_t cp = p[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
        for (size_t i = 1; i < len; i++)
                cp = (cp << 6) | (p[i] & 0x3f);
        return cp;
}

#include "vd_invisible.h"

/* Code points that are invisible or change how a terminal or an editor
 * shows the text around them: C1 controls, bidirectional overrides and
 * isolates, line and paragraph separators, spaces other than U+0020,
 * zero-width and other format characters, Hangul fillers, variation
 * selectors, tags, noncharacters. "/etc/\u202Egnp.exe" must not read as
 * "exe.png". The table is generated from the Unicode data files
 * (common/gen_invisible.py). */
static bool deceptive_cp(uint32_t cp) {
        size_t lo = 0, hi = VD_INVISIBLE_RANGES;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cp < vd_invisible[mid][0])
                        hi = mid;
                else if (cp > vd_invisible[mid][1])
                        lo = mid + 1;
                else
                        return true;
        }
        return false;
}

bool vd_text_clean(const char *p, size_t n) {
        const unsigned char *u = (const unsigned char *)p;
        size_t i = 0;
        while (i < n) {
                if (u[i] < 0x20 || u[i] == 0x7f)
                        return false;
                size_t l = utf8_seq(u + i, n - i);
                if (!l || (l > 1 && deceptive_cp(utf8_cp(u + i, l))))
                        return false;
                i += l;
        }
        return true;
}

bool vd_utf8_valid(const char *p, size_t n) {
        const unsigned char *u = (const unsigned char *)p;
        size_t i = 0;
        while (i < n) {
                size_t l = utf8_seq(u + i, n - i);
                if (!l)
                        return false;
                i += l;
        }
        return true;
}

enum esc_mode { ESC_DISPLAY, ESC_JSON, ESC_DISPLAY_WIN };

/* One loop for both escapers; they differ in what they escape and how. */
static int escape(vd_buf *out, const char *p, size_t n, enum esc_mode m) {
        const unsigned char *u = (const unsigned char *)p;
        size_t i = 0;
        int r = 0;
        while (i < n && r == 0) {
                unsigned char c = u[i];
                size_t l = 1;
                if ((c == '\\' && m != ESC_DISPLAY_WIN) || (m == ESC_JSON && c == '"')) {
                        char e[2] = {'\\', (char)c};
                        r = vd_buf_add(out, e, 2);
                } else if (c == '\n')
                        r = vd_buf_add(out, "\\n", 2);
                else if (c == '\t')
                        r = vd_buf_add(out, "\\t", 2);
                else if (c == '\r')
                        r = vd_buf_add(out, "\\r", 2);
                else if (c < 0x20 || c == 0x7f)
                        r = m == ESC_JSON ? vd_buf_addf(out, "\\u%04x", c) : vd_buf_addf(out, "\\x%02x", c);
                else if (c < 0x80)
                        r = vd_buf_addc(out, (char)c);
                else {
                        l = utf8_seq(u + i, n - i);
                        uint32_t cp = l ? utf8_cp(u + i, l) : 0;
                        if (l && deceptive_cp(cp)) {
                                /* shown, never obeyed: each byte as \xNN in
                                 * text, the code point as \uXXXX in JSON */
                                if (m == ESC_JSON && cp < 0x10000)
                                        r = vd_buf_addf(out, "\\u%04x", cp);
                                else if (m == ESC_JSON)
                                        r = vd_buf_addf(out, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
                                                        0xdc00 + ((cp - 0x10000) & 0x3ff));
                                else
                                        for (size_t k = 0; k < l && r == 0; k++)
                                                r = vd_buf_addf(out, "\\x%02x", u[i + k]);
                        } else if (l)
                                r = vd_buf_add(out, p + i, l);
                        else {
                                r = m == ESC_JSON ? vd_buf_add(out, "\\ufffd", 6) : vd_buf_addf(out, "\\x%02x", c);
                                l = 1;
                        }
                }
                i += l;
        }
        return r;
}

int vd_escape_display(vd_buf *out, const char *p, size_t n) { return escape(out, p, n, ESC_DISPLAY); }
int vd_escape_display_win(vd_buf *out, const char *p, size_t n) { return escape(out, p, n, ESC_DISPLAY_WIN); }

/* Windows shows '\\' between names, so no backslash escape can be read
 * back here: what a name may hold that Windows names do not (a backslash,
 * which ntfs-3g allows, control bytes, invisible characters, bytes of no
 * UTF-8) is %XX, and so is '%' itself. */
int vd_escape_display_winpath(vd_buf *out, char drive, const char *p, size_t n) {
        const unsigned char *u = (const unsigned char *)p;
        int r = vd_buf_addf(out, "%c:", drive);
        for (size_t i = 0; i < n && r == 0;) {
                unsigned char c = u[i];
                size_t l = c < 0x80 ? 1 : utf8_seq(u + i, n - i);
                if (c == '/')
                        r = vd_buf_addc(out, '\\');
                else if (c == '%' || c == '\\' || c < 0x20 || c == 0x7f || !l || (c >= 0x80 && deceptive_cp(utf8_cp(u + i, l)))) {
                        for (size_t k = 0; k < (l ? l : 1) && r == 0; k++)
                                r = vd_buf_addf(out, "%%%02X", u[i + k]);
                } else
                        r = vd_buf_add(out, p + i, l);
                i += l ? l : 1;
        }
        return r;
}

int vd_escape_json(vd_buf *out, const char *p, size_t n) { return escape(out, p, n, ESC_JSON); }

int vd_base64(vd_buf *out, const void *p, size_t n) {
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *u = p;
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i += 3) {
                uint32_t v = (uint32_t)u[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)u[i + 1] << 8;
                if (i + 2 < n)
                        v |= u[i + 2];
                char q[4] = {t[(v >> 18) & 63], t[(v >> 12) & 63], i + 1 < n ? t[(v >> 6) & 63] : '=',
                             i + 2 < n ? t[v & 63] : '='};
                r = vd_buf_add(out, q, 4);
        }
        return r;
}

void vd_hex_to(char *out, const void *p, size_t n) {
        static const char h[] = "0123456789abcdef";
        const unsigned char *u = p;
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = h[u[i] >> 4];
                out[2 * i + 1] = h[u[i] & 15];
        }
        out[2 * n] = '\0';
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

bool vd_unhex(const char *hex, void *out, size_t n) {
        unsigned char *u = out;
        if (strlen(hex) != 2 * n)
                return false;
        for (size_t i = 0; i < n; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                u[i] = (unsigned char)(hi << 4 | lo);
        }
        return true;
}

int vd_hex(vd_buf *out, const void *p, size_t n) {
        static const char h[] = "0123456789abcdef";
        const unsigned char *u = p;
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                char q[2] = {h[u[i] >> 4], h[u[i] & 15]};
                r = vd_buf_add(out, q, 2);
        }
        return r;
}

int vd_time_rfc3339(vd_buf *out, int64_t ns) {
        int64_t sec = ns / 1000000000;
        int64_t frac = ns % 1000000000;
        if (frac < 0) {
                frac += 1000000000;
                sec -= 1;
        }
        time_t t = (time_t)sec;
        struct tm tm;
        if (!gmtime_r(&t, &tm))
                return vd_buf_addf(out, "@%lld.%09lld", (long long)sec, (long long)frac);
        return vd_buf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}

int64_t vd_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t vd_mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool vd_parse_u64(const char *s, uint64_t *ret) {
        if (!s || !*s)
                return false;
        uint64_t v = 0;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                unsigned d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

size_t vd_path_normalize(char *path, size_t len) {
        size_t ol = 0, i = 0;
        /* the output never outruns the input: write in place */
        while (i < len) {
                while (i < len && path[i] == '/')
                        i++;
                size_t st = i;
                while (i < len && path[i] != '/')
                        i++;
                size_t cl = i - st;
                if (cl == 0 || (cl == 1 && path[st] == '.'))
                        continue;
                if (cl == 2 && path[st] == '.' && path[st + 1] == '.') {
                        while (ol > 0 && path[ol - 1] != '/')
                                ol--;
                        if (ol > 0)
                                ol--;
                        continue;
                }
                path[ol++] = '/';
                memmove(path + ol, path + st, cl);
                ol += cl;
        }
        if (ol == 0)
                path[ol++] = '/';
        path[ol] = '\0';
        return ol;
}

int vd_path_cmp(const char *a, size_t alen, const char *b, size_t blen) {
        size_t m = alen < blen ? alen : blen;
        int c = m ? memcmp(a, b, m) : 0;
        if (c)
                return c;
        return alen < blen ? -1 : alen > blen ? 1 : 0;
}

bool vd_stat_same(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

bool vd_stat_settled(const struct stat *st, int64_t before_ns, int64_t margin_ns) {
        int64_t ct = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
        int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
        return ct <= before_ns - margin_ns && mt <= before_ns - margin_ns;
}

int vd_strv_push(char ***v, size_t *n, size_t *alloc, const char *s) {
        if (vd_array_grow(v, alloc, *n, sizeof **v, 4) < 0)
                return VD_E_NOMEM;
        (*v)[*n] = strdup(s);
        if (!(*v)[*n])
                return VD_E_NOMEM;
        (*n)++;
        return 0;
}

void vd_strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}
