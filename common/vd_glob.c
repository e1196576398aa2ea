/* Path globs: matching, compiled patterns and the covering test. */

#include "common/vd_glob.h"

#include <stdlib.h>
#include <string.h>

#include "common/vd_err.h"

/* One character of a component pattern against c; *adv: pattern bytes used. */
static bool glob_one(const char *p, const char *pe, unsigned char c, size_t *adv) {
        if (*p == '?') {
                *adv = 1;
                return true;
        }
        if (*p == '\\' && p + 1 < pe) {
                *adv = 2;
                return (unsigned char)p[1] == c;
        }
        if (*p == '[') {
                const char *q = p + 1;
                bool neg = q < pe && (*q == '!' || *q == '^');
                if (neg)
                        q++;
                const char *start = q;
                bool hit = false;
                while (q < pe && (*q != ']' || q == start)) {
                        unsigned char lo = (unsigned char)*q, hi = lo;
                        if (q + 2 < pe && q[1] == '-' && q[2] != ']') {
                                hi = (unsigned char)q[2];
                                q += 2;
                        }
                        if (c >= lo && c <= hi)
                                hit = true;
                        q++;
                }
                if (q < pe) { /* found the closing ']' */
                        *adv = (size_t)(q + 1 - p);
                        return hit != neg;
                }
        }
        *adv = 1;
        return (unsigned char)*p == c;
}

static bool glob_comp(const char *p, const char *pe, const char *s, const char *se) {
        const char *star_p = NULL, *star_s = NULL;
        while (s < se) {
                if (p < pe && *p == '*') {
                        star_p = ++p;
                        star_s = s;
                        continue;
                }
                size_t adv;
                if (p < pe && glob_one(p, pe, (unsigned char)*s, &adv)) {
                        p += adv;
                        s++;
                        continue;
                }
                if (!star_p)
                        return false;
                p = star_p;
                s = ++star_s;
        }
        while (p < pe && *p == '*')
                p++;
        return p == pe;
}

static const char *comp_end(const char *p, const char *pe) {
        const char *q = memchr(p, '/', (size_t)(pe - p));
        return q ? q : pe;
}

static bool glob_from(const char *p, const char *pe, const char *s, const char *se) {
        for (;;) {
                if (p == pe)
                        return s == se;
                const char *pce = comp_end(p, pe);
                if (pce - p == 2 && p[0] == '*' && p[1] == '*') {
                        const char *np = pce == pe ? pe : pce + 1;
                        if (np == pe)
                                return true;
                        for (const char *t = s;;) {
                                if (glob_from(np, pe, t, se))
                                        return true;
                                const char *sl = memchr(t, '/', (size_t)(se - t));
                                if (!sl)
                                        return false;
                                t = sl + 1;
                        }
                }
                if (s == se)
                        return false;
                const char *sce = comp_end(s, se);
                if (!glob_comp(p, pce, s, sce))
                        return false;
                if (pce == pe)
                        return sce == se;
                p = pce + 1;
                s = sce == se ? se : sce + 1;
        }
}

bool vd_glob_match(const char *pattern, const char *path, size_t len) {
        size_t pl = strlen(pattern);
        if (pl && pattern[0] == '/')
                pattern++, pl--;
        if (len && path[0] == '/')
                path++, len--;
        return glob_from(pattern, pattern + pl, path, path + len);
}

int vd_pat_init(vd_pat *pt, const char *s) {
        pt->text = strdup(s);
        if (!pt->text)
                return VD_E_NOMEM;
        size_t n = strcspn(s, "*?[\\");
        pt->literal = s[n] == '\0';
        pt->prefix_len = n;
        /* "/etc/ssh/" + "**" also matches "/etc/ssh": the quick check may only
         * require what every match starts with. */
        if (!pt->literal)
                while (pt->prefix_len > 0 && s[pt->prefix_len - 1] != '/')
                        pt->prefix_len--;
        if (pt->prefix_len > 1)
                pt->prefix_len--;
        /* The bytes after the last wildcard end every match (".bak" for a
         * pattern ending in "*.bak"): most paths are turned away by two memcmp calls. */
        pt->len = strlen(s);
        pt->suffix_len = 0;
        if (!pt->literal && !strchr(s, '\\')) {
                size_t i = pt->len;
                while (i > 0 && !strchr("*?[]", s[i - 1]))
                        i--;
                pt->suffix_len = pt->len - i;
        }
        return 0;
}

bool vd_pat_match(const vd_pat *pt, const char *path, size_t len) {
        if (pt->literal)
                return pt->len == len && memcmp(pt->text, path, len) == 0;
        if (len < pt->prefix_len || memcmp(pt->text, path, pt->prefix_len) != 0)
                return false;
        if (pt->suffix_len &&
            (len < pt->suffix_len || memcmp(pt->text + pt->len - pt->suffix_len, path + len - pt->suffix_len,
                                            pt->suffix_len) != 0))
                return false;
        return vd_glob_match(pt->text, path, len);
}

void vd_pats_free(vd_pat *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].text);
        free(p);
}

bool vd_pats_any(const vd_pat *v, size_t n, const char *path, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (vd_pat_match(&v[i], path, len))
                        return true;
        return false;
}

/* Does every path b can match also match a? Sound, not complete: a is b
 * itself, or "D/" + "**" with D literal and b rooted at or under D. */
bool vd_pat_covers(const vd_pat *a, const vd_pat *b) {
        if (strcmp(a->text, b->text) == 0)
                return true;
        size_t al = a->len;
        if (al < 3 || strcmp(a->text + al - 3, "/**") != 0)
                return false;
        size_t dl = al - 3;
        if (strcspn(a->text, "*?[\\") < dl)
                return false; /* D itself has wildcards */
        if (dl == 0)
                return true; /* "/" + "**": everything */
        size_t bl = strcspn(b->text, "*?[\\");
        return bl >= dl && memcmp(b->text, a->text, dl) == 0 && (b->text[dl] == '/' || b->text[dl] == '\0');
}
