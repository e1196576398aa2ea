/* Reading the guest's files for the configuration scan: in one batch through
 * the walker (its --cat pass, during the walk or after it) into a cache, or
 * file by file through the appliance. A regular file, never a symlink, and
 * never more than the caller's bound. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_glob.h"
#include "common/vd_log.h"

#include "guest_int.h"

static bool in_cache(const struct guest_src *s, const char *path);

/* Read the configuration files the host is about to ask for in one batch:
 * the walker reads them in the appliance (never through a symlink) and one
 * file comes back, instead of two round trips per file. Only with the
 * walker's scratch disk; otherwise read_file goes file by file. */
#define PREFETCH_LIST_MAX ((size_t)2 << 20)

#define PREFETCH_TOTAL_MAX ((size_t)256 << 20)

void vdg_drop_cache(struct guest_src *s) {
        for (size_t i = 0; i < s->n_cache; i++)
                free(s->cache_paths[i]);
        free(s->cache_paths);
        vd_catitems_free(s->cache, s->n_cache);
        s->cache_paths = NULL;
        s->cache = NULL;
        s->n_cache = 0;
}

/* /catlist for the walker's --cat: paths, NUL-separated, as many as fit
 * (*n in, how many out), then, if all fit, the patterns as "*PATTERN" items
 * (after a walk: the walker reads its regular files that match one as
 * extras). How many patterns it holds, or -1. */
int vdg_write_catlist(struct guest_src *s, const char *const *paths, size_t *n, const char *const *globs,
                      size_t n_globs) {
        size_t want = *n > VD_CAT_FILES_MAX ? VD_CAT_FILES_MAX : *n, k = 0;
        vd_buf list;
        vd_buf_init(&list, PREFETCH_LIST_MAX);
        for (; k < want; k++)
                if (vd_buf_add(&list, paths[k], strlen(paths[k]) + 1) < 0)
                        break;
        size_t ng = 0;
        for (size_t i = 0; k == want && i < n_globs; i++) {
                size_t at = list.len;
                if (vd_buf_addc(&list, '*') < 0 || vd_buf_add(&list, globs[i], strlen(globs[i]) + 1) < 0) {
                        list.len = at; /* not cut inside a pattern */
                        break;
                }
                ng++;
        }
        int r = guestfs_write(s->g, "/catlist", list.buf ? list.buf : "", list.len);
        vd_buf_release(&list);
        *n = k; /* what fits; the rest is read file by file */
        return r < 0 ? -1 : (int)ng;
}

/* Add item (moved) for path to the cache; VD_E_NOMEM. */
static int cache_add(struct guest_src *s, const char *path, vd_catitem *item) {
        char **cp = realloc(s->cache_paths, (s->n_cache + 1) * sizeof *cp);
        if (cp)
                s->cache_paths = cp;
        vd_catitem *ci = cp ? realloc(s->cache, (s->n_cache + 1) * sizeof *ci) : NULL;
        if (ci)
                s->cache = ci;
        if (!ci || !(s->cache_paths[s->n_cache] = strdup(path)))
                return VD_E_NOMEM;
        s->cache[s->n_cache++] = *item;
        *item = (vd_catitem){0};
        return 0;
}

/* /catout, the walker's answer for paths (n of them) and the extra files it
 * found matching globs, into the cache beside what it holds already. An
 * extra file must match one of the globs and be neither asked for nor held:
 * anything else is a bad answer, and none of it is kept. */
int vdg_load_catout(struct guest_src *s, const char *const *paths, size_t n, size_t max, const char *const *globs,
                    size_t n_globs, vd_err *err) {
        char *data = NULL, **xp = NULL;
        size_t len = 0, nx = 0;
        vd_catitem *items = NULL, *extra = NULL;
        int r = vdg_download_bounded(s, "/catout", "the file batch", PREFETCH_TOTAL_MAX, &data, &len, err);
        if (r == 0)
                r = vd_catfile_decode_extra(data, len, n, max, &items, &xp, &extra, &nx, err);
        free(data);
        for (size_t i = 0; r == 0 && i < nx; i++) {
                bool ok = !in_cache(s, xp[i]);
                for (size_t k = 0; ok && k < n; k++)
                        ok = strcmp(paths[k], xp[i]) != 0;
                for (size_t k = 0; ok && k < i; k++)
                        ok = strcmp(xp[k], xp[i]) != 0;
                bool match = false;
                for (size_t k = 0; ok && !match && k < n_globs; k++)
                        match = vd_glob_match(globs[k], xp[i], strlen(xp[i]));
                if (!ok || !match)
                        r = vd_err_set(err, VD_E_SOURCE, "file batch: an extra file that was not asked for");
        }
        for (size_t i = 0; r == 0 && i < n; i++)
                r = cache_add(s, paths[i], &items[i]);
        for (size_t i = 0; r == 0 && i < nx; i++)
                r = cache_add(s, xp[i], &extra[i]);
        if (r == 0 && nx)
                vd_debug("read-ahead: %zu files new since the baseline matched the configuration's globs", nx);
        vd_catitems_free(items, items ? n : 0);
        vd_catitems_free(extra, nx);
        for (size_t i = 0; i < nx; i++)
                free(xp[i]);
        free(xp);
        return r == VD_E_NOMEM ? vd_err_set(err, VD_E_NOMEM, "out of memory") : r;
}

static bool in_cache(const struct guest_src *s, const char *path) {
        for (size_t i = 0; i < s->n_cache; i++)
                if (strcmp(s->cache_paths[i], path) == 0)
                        return true;
        return false;
}

int guest_prefetch(vd_source *src, const char *const *paths, size_t n, size_t max, vd_err *err) {
        struct guest_src *s = src->priv;
        if (strcmp(s->prefix, "/guest") != 0 || n == 0)
                return 0;
        /* what the walk's pass (vd_scan_opts.read_ahead) did not read */
        const char **miss = calloc(n, sizeof *miss);
        if (!miss)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        size_t nm = 0;
        for (size_t i = 0; i < n; i++)
                if (!in_cache(s, paths[i]))
                        miss[nm++] = paths[i];
        if (nm == 0) {
                vd_debug("configuration: all %zu files read in the walk's pass", n);
                free(miss);
                return 0;
        }
        char maxs[32];
        snprintf(maxs, sizeof maxs, "%zu", max);
        const char *argv[] = {"/vmdrift-walker", "--root", "/guest", "--cat", "/catlist", "--max", maxs, "--out",
                              "/catout", NULL};
        int r = 0;
        char *res = NULL;
        size_t k = nm;
        if (vdg_write_catlist(s, miss, &k, NULL, 0) < 0 || !(res = guestfs_command(s->g, (char *const *)argv)))
                r = vd_err_set(err, VD_E_SOURCE, "the walker could not read the files: %s", guestfs_last_error(s->g));
        free(res);
        if (r == 0)
                r = vdg_load_catout(s, miss, k, max, NULL, 0, err);
        if (r == 0)
                vd_debug("prefetched %zu files in one batch (%zu read in the walk's pass)", k, n - nm);
        free(miss);
        return r;
}

/* The batch's answer for path, as read_file would give it; 1 if not in it. */
static int cached_read(struct guest_src *s, const char *path, size_t max, vd_buf *out, vd_err *err) {
        for (size_t i = 0; i < s->n_cache; i++) {
                if (strcmp(s->cache_paths[i], path) != 0)
                        continue;
                const vd_catitem *c = &s->cache[i];
                if (c->code == VD_E_LIMIT || (c->code == 0 && c->len > max))
                        return vd_err_set(err, VD_E_LIMIT, "%s: larger than %zu bytes", path, max);
                if (c->code != 0)
                        return vd_err_set(err, VD_E_IO, "%s", c->msg[0] ? c->msg : "cannot read");
                if (vd_buf_add(out, c->data, c->len) < 0)
                        return vd_err_set(err, VD_E_LIMIT, "%s: larger than %zu bytes", path, max);
                return 0;
        }
        return 1;
}

/* path of the guest, as the appliance sees it (*ret_ap, malloc'ed), a
 * regular file (never a symlink) of at most max bytes. */
static int guest_regular(struct guest_src *s, const char *path, uint64_t max, char **ret_ap, vd_err *err) {
        char *ap = *ret_ap = vdg_join(s->prefix, path);
        if (!ap)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int r = 0;
        struct guestfs_statns *st = guestfs_lstatns(s->g, ap);
        if (!st || (st->st_mode & 0170000) != 0100000)
                r = vd_err_set(err, VD_E_IO, "%s: not a regular file", path);
        else if ((uint64_t)st->st_size > max)
                r = vd_err_set(err, VD_E_LIMIT, "%s: larger than %llu bytes", path, (unsigned long long)max);
        if (st)
                guestfs_free_statns(st);
        return r;
}

int guest_read_file(vd_source *src, const char *path, size_t max, vd_buf *out, vd_err *err) {
        struct guest_src *s = src->priv;
        int cr = cached_read(s, path, max, out, err);
        if (cr <= 0)
                return cr;
        char *ap = NULL;
        int r = guest_regular(s, path, max, &ap, err);
        if (!ap)
                return r;
        size_t n = 0;
        char *data = r == 0 ? guestfs_read_file(s->g, ap, &n) : NULL;
        if (r == 0 && !data)
                r = vd_err_set(err, VD_E_IO, "%s: %s", path, guestfs_last_error(s->g));
        if (r == 0 && (n > max || vd_buf_add(out, data, n) < 0))
                r = vd_err_set(err, VD_E_LIMIT, "%s: larger than %zu bytes", path, max);
        free(data);
        free(ap);
        return r;
}

/* pread through the appliance, in pieces a protocol message holds */
#define GUEST_PREAD_MAX ((size_t)1 << 20)

int guest_read_range(vd_source *src, const char *path, uint64_t off, size_t n, vd_buf *out, vd_err *err) {
        struct guest_src *s = src->priv;
        char *ap = NULL;
        int r = guest_regular(s, path, UINT64_MAX, &ap, err);
        if (!ap)
                return r;
        while (r == 0 && n > 0 && off <= INT64_MAX) {
                size_t want = n < GUEST_PREAD_MAX ? n : GUEST_PREAD_MAX, got = 0;
                char *data = guestfs_pread(s->g, ap, (int)want, (int64_t)off, &got);
                if (!data)
                        r = vd_err_set(err, VD_E_IO, "%s: %s", path, guestfs_last_error(s->g));
                else if (got > want || vd_buf_add(out, data, got) < 0)
                        r = vd_err_set(err, VD_E_LIMIT, "%s: more than the buffer holds", path);
                free(data);
                if (r || got == 0)
                        break;
                off += got;
                n -= got;
        }
        free(ap);
        return r;
}
