#define _GNU_SOURCE
#include "formats/vd_dpkg.h"

#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 512

struct stanza {
        char pkg[FIELD_MAX], ver[FIELD_MAX], arch[FIELD_MAX], status[FIELD_MAX], source[FIELD_MAX];
        bool bad;
};

static void set(char *dst, const char *v, size_t n, bool *bad) {
        while (n && (*v == ' ' || *v == '\t')) {
                v++;
                n--;
        }
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
                n--;
        if (n >= FIELD_MAX || memchr(v, '\0', n)) {
                *bad = true;
                return;
        }
        memcpy(dst, v, n);
        dst[n] = '\0';
}

/* "want flag status": installed when the last word is "installed". */
static bool installed(const char *st) {
        const char *sp = strrchr(st, ' ');
        return strcmp(sp ? sp + 1 : st, "installed") == 0;
}

static int flush(struct stanza *z, vd_scan *s, size_t *skipped) {
        int r = 0;
        if (!z->pkg[0])
                goto out;
        if (z->bad || !z->ver[0]) {
                ++*skipped;
                goto out;
        }
        if (!installed(z->status))
                goto out;
        if (s->n_packages >= VD_DPKG_PACKAGES_MAX) {
                ++*skipped;
                goto out;
        }
        /* [epoch:]upstream[-revision] */
        char *v = z->ver, *colon = strchr(v, ':');
        long epoch = 0;
        if (colon) {
                char *end;
                epoch = strtol(v, &end, 10);
                if (end != colon || epoch < 0 || epoch > 1000000 || colon == v) {
                        ++*skipped;
                        goto out;
                }
                v = colon + 1;
        }
        char *dash = strrchr(v, '-');
        const char *rel = "";
        if (dash) {
                *dash = '\0';
                rel = dash + 1;
        }
        if (!*v) {
                ++*skipped;
                goto out;
        }
        r = vd_scan_add_package(s, z->pkg, (int32_t)epoch, v, rel, z->arch);
        if (r == 0 && z->source[0]) {
                /* "name" or "name (version)": the source's version differs
                 * from the binary's (a binNMU "+b1", a separately versioned
                 * binary) */
                char *sv = NULL, *sp = strchr(z->source, ' ');
                if (sp) {
                        *sp = '\0';
                        char *open = strchr(sp + 1, '('), *close = open ? strchr(open, ')') : NULL;
                        if (open && close && close > open + 1) {
                                *close = '\0';
                                sv = open + 1;
                        }
                }
                if (strcmp(z->source, z->pkg) != 0 || sv)
                        r = vd_scan_set_package_source(s, z->source, sv);
        }
out:
        memset(z, 0, sizeof *z);
        return r;
}

int vd_dpkg_parse(const char *text, size_t len, vd_scan *s, size_t *skipped) {
        struct stanza z;
        memset(&z, 0, sizeof z);
        *skipped = 0;
        int r = 0;
        for (size_t off = 0; off < len && r == 0;) {
                const char *l = text + off, *nl = memchr(l, '\n', len - off);
                size_t n = nl ? (size_t)(nl - l) : len - off;
                off += n + (nl ? 1 : 0);
                if (n == 0 || (n == 1 && l[0] == '\r')) {
                        r = flush(&z, s, skipped);
                        continue;
                }
                if (l[0] == ' ' || l[0] == '\t')
                        continue; /* a continuation line (Description, Conffiles) */
                const char *c = memchr(l, ':', n);
                if (!c)
                        continue;
                size_t kl = (size_t)(c - l), vl = n - kl - 1;
                if (kl == 7 && !strncasecmp(l, "Package", 7))
                        set(z.pkg, c + 1, vl, &z.bad);
                else if (kl == 7 && !strncasecmp(l, "Version", 7))
                        set(z.ver, c + 1, vl, &z.bad);
                else if (kl == 12 && !strncasecmp(l, "Architecture", 12))
                        set(z.arch, c + 1, vl, &z.bad);
                else if (kl == 6 && !strncasecmp(l, "Status", 6))
                        set(z.status, c + 1, vl, &z.bad);
                else if (kl == 6 && !strncasecmp(l, "Source", 6))
                        set(z.source, c + 1, vl, &z.bad);
        }
        if (r == 0)
                r = flush(&z, s, skipped);
        return r;
}
