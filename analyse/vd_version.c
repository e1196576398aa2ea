#include "analyse/vd_version.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* ---- Debian ---- */

/* A character's weight in a non-digit run; the end of the string weighs 0. */
static int deb_weight(char c) {
        if (c == '\0' || is_digit(c))
                return 0;
        if (is_alpha(c))
                return (unsigned char)c;
        if (c == '~')
                return -1;
        return (unsigned char)c + 256;
}

/* Compare [a, ae) with [b, be) as dpkg compares upstream versions and revisions. */
static int deb_part(const char *a, const char *ae, const char *b, const char *be) {
        while (a < ae || b < be) {
                /* the non-digit run, character by character */
                while ((a < ae && !is_digit(*a)) || (b < be && !is_digit(*b))) {
                        int wa = a < ae ? deb_weight(*a) : 0, wb = b < be ? deb_weight(*b) : 0;
                        if (wa != wb)
                                return wa < wb ? -1 : 1;
                        if (a < ae)
                                a++;
                        if (b < be)
                                b++;
                }
                /* the digit run, as a number of any length */
                while (a < ae && *a == '0')
                        a++;
                while (b < be && *b == '0')
                        b++;
                int first = 0;
                while (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
                        if (!first && *a != *b)
                                first = *a < *b ? -1 : 1;
                        a++;
                        b++;
                }
                if (a < ae && is_digit(*a))
                        return 1;
                if (b < be && is_digit(*b))
                        return -1;
                if (first)
                        return first;
        }
        return 0;
}

typedef struct deb_ver {
        const char *epoch, *epoch_end; /* digits, may be empty */
        const char *up, *up_end;
        const char *rev, *rev_end;
} deb_ver;

static void deb_split(const char *s, deb_ver *v) {
        const char *end = s + strlen(s);
        /* dpkg skips leading and trailing blanks */
        while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        const char *colon = memchr(s, ':', (size_t)(end - s));
        if (colon) {
                v->epoch = s;
                v->epoch_end = colon;
                s = colon + 1;
        } else
                v->epoch = v->epoch_end = s;
        const char *hyphen = NULL;
        for (const char *p = s; p < end; p++)
                if (*p == '-')
                        hyphen = p;
        v->up = s;
        v->up_end = hyphen ? hyphen : end;
        v->rev = hyphen ? hyphen + 1 : end;
        v->rev_end = end;
}

/* Epochs compare as numbers (of any length: leading zeros do not count). */
static int num_cmp(const char *a, const char *ae, const char *b, const char *be) {
        while (a < ae && *a == '0')
                a++;
        while (b < be && *b == '0')
                b++;
        if (ae - a != be - b)
                return ae - a < be - b ? -1 : 1;
        for (; a < ae; a++, b++)
                if (*a != *b)
                        return *a < *b ? -1 : 1;
        return 0;
}

int vd_version_cmp_deb(const char *a, const char *b) {
        deb_ver x, y;
        deb_split(a, &x);
        deb_split(b, &y);
        int r = num_cmp(x.epoch, x.epoch_end, y.epoch, y.epoch_end);
        if (!r)
                r = deb_part(x.up, x.up_end, y.up, y.up_end);
        if (!r)
                r = deb_part(x.rev, x.rev_end, y.rev, y.rev_end);
        return r;
}

/* ---- RPM ---- */

static int rpm_range(const char *a, const char *ae, const char *b, const char *be) {
        if (ae - a == be - b && memcmp(a, b, (size_t)(ae - a)) == 0)
                return 0;
        while (a < ae || b < be) {
                /* separators: anything but letters, digits, '~' and '^' */
                while (a < ae && !is_alpha(*a) && !is_digit(*a) && *a != '~' && *a != '^')
                        a++;
                while (b < be && !is_alpha(*b) && !is_digit(*b) && *b != '~' && *b != '^')
                        b++;
                bool ta = a < ae && *a == '~', tb = b < be && *b == '~';
                if (ta || tb) {
                        if (!ta)
                                return 1;
                        if (!tb)
                                return -1;
                        a++, b++;
                        continue;
                }
                bool ca = a < ae && *a == '^', cb = b < be && *b == '^';
                if (ca || cb) {
                        if (a == ae)
                                return -1;
                        if (b == be)
                                return 1;
                        if (!ca)
                                return 1;
                        if (!cb)
                                return -1;
                        a++, b++;
                        continue;
                }
                if (a == ae || b == be)
                        break;
                bool num = is_digit(*a);
                const char *sa = a, *sb = b;
                while (a < ae && (num ? is_digit(*a) : is_alpha(*a)))
                        a++;
                while (b < be && (num ? is_digit(*b) : is_alpha(*b)))
                        b++;
                if (sb == b) /* a number against letters: the number is newer */
                        return num ? 1 : -1;
                if (num) {
                        while (sa < a && *sa == '0')
                                sa++;
                        while (sb < b && *sb == '0')
                                sb++;
                        if (a - sa != b - sb)
                                return a - sa > b - sb ? 1 : -1;
                }
                size_t la = (size_t)(a - sa), lb = (size_t)(b - sb);
                int c = memcmp(sa, sb, la < lb ? la : lb);
                if (c)
                        return c < 0 ? -1 : 1;
                if (la != lb)
                        return la < lb ? -1 : 1;
        }
        if (a == ae && b == be)
                return 0;
        return a == ae ? -1 : 1;
}

int vd_rpmvercmp(const char *a, const char *b) { return rpm_range(a, a + strlen(a), b, b + strlen(b)); }

int vd_version_cmp_rpm(const char *a, const char *b) {
        const char *ae = a + strlen(a), *be = b + strlen(b);
        const char *ca = memchr(a, ':', (size_t)(ae - a)), *cb = memchr(b, ':', (size_t)(be - b));
        const char *ea = a, *eae = ca ? ca : a, *eb = b, *ebe = cb ? cb : b;
        int r = num_cmp(ea, eae, eb, ebe);
        if (r)
                return r;
        const char *va = ca ? ca + 1 : a, *vb = cb ? cb + 1 : b;
        const char *ha = NULL, *hb = NULL;
        for (const char *p = va; p < ae; p++)
                if (*p == '-')
                        ha = p;
        for (const char *p = vb; p < be; p++)
                if (*p == '-')
                        hb = p;
        r = rpm_range(va, ha ? ha : ae, vb, hb ? hb : be);
        if (!r)
                r = rpm_range(ha ? ha + 1 : ae, ae, hb ? hb + 1 : be, be);
        return r;
}

/* One dot-separated part: [p, end). */
static int dotted_part(const char *a, size_t al, const char *b, size_t bl) {
        bool an = al && strspn(a, "0123456789") >= al, bn = bl && strspn(b, "0123456789") >= bl;
        if (al == 0)
                return bl == 0 || (bn && strspn(b, "0") >= bl) ? 0 : -1;
        if (bl == 0)
                return an && strspn(a, "0") >= al ? 0 : 1;
        if (an != bn)
                return an ? -1 : 1;
        if (an) { /* numbers of any length: leading zeros off, then longer is larger */
                while (al > 1 && *a == '0')
                        a++, al--;
                while (bl > 1 && *b == '0')
                        b++, bl--;
                if (al != bl)
                        return al < bl ? -1 : 1;
        }
        int c = memcmp(a, b, al < bl ? al : bl);
        return c ? (c < 0 ? -1 : 1) : al == bl ? 0 : al < bl ? -1 : 1;
}

int vd_version_cmp_dotted(const char *a, const char *b) {
        while (*a || *b) {
                size_t al = strcspn(a, "."), bl = strcspn(b, ".");
                int c = dotted_part(a, al, b, bl);
                if (c)
                        return c;
                a += al + (a[al] == '.');
                b += bl + (b[bl] == '.');
        }
        return 0;
}
