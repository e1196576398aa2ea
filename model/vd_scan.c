#include "model/vd_scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"

static const char *const fb_names[VD_FB_N] = {"small",  "file-system",      "device",       "inline-data", "encoded",
                                              "data-journal", "too-many-extents", "fiemap-error", "host-read"};

const char *vd_hash_fallback_name(int reason) {
        return reason >= 0 && reason < VD_FB_N ? fb_names[reason] : "?";
}

static const char *const why_names[VD_DW_N] = {"changed", "file-system", "geometry", "layout", "malformed"};

const char *vd_delta_why_name(int why) {
        return why >= 0 && why < VD_DW_N ? why_names[why] : "?";
}

void vd_scan_init(vd_scan *s) {
        memset(s, 0, sizeof *s);
        vd_entries_init(&s->entries);
}

void vd_facts_free(vd_fact *f, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(f[i].key);
                free(f[i].value);
        }
        free(f);
}

void vd_packages_free(vd_package *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(p[i].name);
                free(p[i].version);
                free(p[i].release);
                free(p[i].arch);
                free(p[i].source);
                free(p[i].source_version);
        }
        free(p);
}

void vd_scan_release(vd_scan *s) {
        if (!s)
                return;
        vd_facts_free(s->facts, s->n_facts);
        vd_packages_free(s->packages, s->n_packages);
        vd_entries_release(&s->entries);
        for (size_t i = 0; i < s->n_warnings; i++) {
                free(s->warnings[i].path);
                free(s->warnings[i].msg);
        }
        free(s->warnings);
        free(s->appliance_peers);
        for (size_t i = 0; i < s->n_sid_names; i++) {
                free(s->sid_names[i].sid);
                free(s->sid_names[i].name);
        }
        free(s->sid_names);
        vd_scan_init(s);
}

int vd_scan_warn(vd_scan *s, const char *path, size_t path_len, const char *fmt, ...) {
        if (vd_array_grow(&s->warnings, &s->warnings_alloc, s->n_warnings, sizeof *s->warnings, 8) < 0)
                return VD_E_NOMEM;
        vd_warning *w = &s->warnings[s->n_warnings];
        memset(w, 0, sizeof *w);
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        w->msg = strdup(msg);
        if (path) {
                w->path = malloc(path_len + 1);
                if (w->path) {
                        memcpy(w->path, path, path_len);
                        w->path[path_len] = '\0';
                        w->path_len = path_len;
                }
        }
        if (!w->msg || (path && !w->path)) {
                free(w->msg);
                free(w->path);
                return VD_E_NOMEM;
        }
        s->n_warnings++;
        return 0;
}

int vd_scan_add_fact(vd_scan *s, const char *key, const char *value) {
        if (vd_array_grow(&s->facts, &s->facts_alloc, s->n_facts, sizeof *s->facts, 16) < 0)
                return VD_E_NOMEM;
        vd_fact *nf = s->facts;
        nf[s->n_facts].key = strdup(key);
        nf[s->n_facts].value = strndup(value ? value : "", 4096);
        if (!nf[s->n_facts].key || !nf[s->n_facts].value) {
                free(nf[s->n_facts].key);
                free(nf[s->n_facts].value);
                return VD_E_NOMEM;
        }
        s->n_facts++;
        return 0;
}

int vd_scan_add_package(vd_scan *s, const char *name, int32_t epoch, const char *version, const char *release,
                        const char *arch) {
        if (vd_array_grow(&s->packages, &s->packages_alloc, s->n_packages, sizeof *s->packages, 256) < 0)
                return VD_E_NOMEM;
        vd_package *p = &s->packages[s->n_packages];
        p->name = strndup(name ? name : "", 1024);
        p->version = strndup(version ? version : "", 1024);
        p->release = strndup(release ? release : "", 1024);
        p->arch = strndup(arch ? arch : "", 64);
        p->epoch = epoch;
        p->source = p->source_version = NULL;
        if (!p->name || !p->version || !p->release || !p->arch) {
                free(p->name);
                free(p->version);
                free(p->release);
                free(p->arch);
                return VD_E_NOMEM;
        }
        s->n_packages++;
        return 0;
}

int vd_scan_set_package_source(vd_scan *s, const char *source, const char *source_version) {
        if (!s->n_packages)
                return VD_E_INTERNAL;
        vd_package *p = &s->packages[s->n_packages - 1];
        char *a = source && *source ? strndup(source, 1024) : NULL;
        char *b = source_version && *source_version ? strndup(source_version, 1024) : NULL;
        if ((source && *source && !a) || (source_version && *source_version && !b)) {
                free(a);
                free(b);
                return VD_E_NOMEM;
        }
        free(p->source);
        free(p->source_version);
        p->source = a;
        p->source_version = b;
        return 0;
}

int vd_scan_copy_package(vd_scan *s, const vd_package *p) {
        int r = vd_scan_add_package(s, p->name, p->epoch, p->version, p->release, p->arch);
        if (r == 0 && (p->source || p->source_version))
                r = vd_scan_set_package_source(s, p->source, p->source_version);
        return r;
}

static int cmp_fact(const void *a, const void *b) {
        return strcmp(((const vd_fact *)a)->key, ((const vd_fact *)b)->key);
}

static int cmp_pkg(const void *a, const void *b) {
        const vd_package *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        if (!c)
                c = strcmp(x->arch, y->arch);
        if (!c)
                c = strcmp(x->version, y->version);
        if (!c)
                c = strcmp(x->release, y->release);
        return c ? c : (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

void vd_scan_sort_inventory(vd_scan *s) {
        if (s->n_facts > 1)
                qsort(s->facts, s->n_facts, sizeof *s->facts, cmp_fact);
        if (s->n_packages > 1)
                qsort(s->packages, s->n_packages, sizeof *s->packages, cmp_pkg);
}

const char *vd_scan_fact(const vd_scan *s, const char *key) {
        for (size_t i = 0; i < s->n_facts; i++)
                if (strcmp(s->facts[i].key, key) == 0)
                        return s->facts[i].value;
        return NULL;
}

/* sid_names are kept sorted by SID (memcmp, then length): looked up by
 * bisection, as a hostile guest may name many accounts and change many
 * files' owners. */
static int sid_cmp(const char *a, size_t al, const char *b, size_t bl) {
        int c = memcmp(a, b, al < bl ? al : bl);
        return c ? c : (al > bl) - (al < bl);
}

static size_t sid_lower(const vd_scan *s, const char *sid, size_t len) {
        size_t lo = 0, hi = s->n_sid_names;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const char *m = s->sid_names[mid].sid;
                if (sid_cmp(m, strlen(m), sid, len) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int vd_scan_add_sid_name(vd_scan *s, const char *sid, const char *name) {
        if (vd_array_grow(&s->sid_names, &s->sid_names_alloc, s->n_sid_names, sizeof *s->sid_names, 8) < 0)
                return VD_E_NOMEM;
        char *k = strdup(sid), *v = strdup(name);
        if (!k || !v) {
                free(k);
                free(v);
                return VD_E_NOMEM;
        }
        size_t at = sid_lower(s, sid, strlen(sid));
        if (at < s->n_sid_names && strcmp(s->sid_names[at].sid, sid) == 0) {
                free(k); /* named twice: the first name stays */
                free(v);
                return 0;
        }
        memmove(&s->sid_names[at + 1], &s->sid_names[at], (s->n_sid_names - at) * sizeof *s->sid_names);
        s->sid_names[at] = (vd_sid_label){k, v};
        s->n_sid_names++;
        return 0;
}

const char *vd_scan_sid_name(const vd_scan *s, const char *sid, size_t len) {
        size_t at = sid_lower(s, sid, len);
        if (at < s->n_sid_names && strlen(s->sid_names[at].sid) == len && memcmp(s->sid_names[at].sid, sid, len) == 0)
                return s->sid_names[at].name;
        return NULL;
}
