/* One baseline kept open for guest after guest (vd_baseline_cache.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "baseline/vd_baseline_cache.h"
#include "common/vd_str.h"

struct vd_baseline_cache {
        char *path, *key;
        struct stat st, key_st;
        vd_baseline *b;
};

#define KEPT_SETTLED_NS 2000000000LL

vd_baseline_cache *vd_baseline_cache_new(void) { return calloc(1, sizeof(vd_baseline_cache)); }

void vd_baseline_cache_free(vd_baseline_cache *c) {
        if (!c)
                return;
        vd_baseline_free(c->b);
        free(c->path);
        free(c->key);
        free(c);
}

static bool hit(const vd_baseline_cache *c, const char *path, const char *verify_key, const struct stat *st,
                const struct stat *kst) {
        if (!c->b || strcmp(c->path, path) != 0 || !vd_stat_same(st, &c->st))
                return false;
        if (!verify_key)
                return !c->key;
        return c->key && strcmp(c->key, verify_key) == 0 && vd_stat_same(kst, &c->key_st);
}

int vd_baseline_cache_open(vd_baseline_cache *c, const char *path, const char *verify_key, const vd_baseline **ret,
                           bool *owned, vd_err *err) {
        struct stat st, kst;
        bool have = stat(path, &st) == 0, have_key = !verify_key || stat(verify_key, &kst) == 0;
        if (have && have_key && hit(c, path, verify_key, &st, &kst)) {
                *ret = c->b;
                *owned = false;
                return 0;
        }
        int64_t t0 = vd_now_ns();
        vd_baseline *b = NULL;
        if (vd_baseline_open(path, verify_key, &b, err) < 0)
                return err->code;
        *ret = b;
        *owned = true;
        struct stat after, kafter;
        if (!have || !have_key || b->template_path || stat(path, &after) < 0 || !vd_stat_same(&st, &after) ||
            !vd_stat_settled(&after, t0, KEPT_SETTLED_NS) ||
            (verify_key && (stat(verify_key, &kafter) < 0 || !vd_stat_same(&kst, &kafter) ||
                            !vd_stat_settled(&kafter, t0, KEPT_SETTLED_NS))))
                return 0;
        char *p = strdup(path), *k = verify_key ? strdup(verify_key) : NULL;
        if (!p || (verify_key && !k)) {
                free(p);
                free(k);
                return 0;
        }
        vd_baseline_free(c->b);
        free(c->path);
        free(c->key);
        c->path = p;
        c->key = k;
        c->st = after;
        if (verify_key)
                c->key_st = kafter;
        c->b = b;
        *owned = false;
        return 0;
}
