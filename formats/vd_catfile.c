#include "formats/vd_catfile.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "VDCAT002"
#define CAT_PATH_MAX 4096u

static int put_u32(vd_buf *b, uint32_t v) {
        unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                              (unsigned char)(v >> 24)};
        return vd_buf_add(b, x, 4);
}

int vd_catfile_begin(vd_buf *b, size_t count) {
        if (count > VD_CAT_FILES_MAX)
                return VD_E_LIMIT;
        int r = vd_buf_add(b, MAGIC, 8);
        return r < 0 ? r : put_u32(b, (uint32_t)count);
}

int vd_catfile_add(vd_buf *b, int code, const char *msg, const void *data, size_t len) {
        size_t ml = strnlen(msg, VD_CAT_MSG_MAX);
        if (len > UINT32_MAX)
                return VD_E_LIMIT;
        int r = put_u32(b, (uint32_t)code);
        if (!r)
                r = put_u32(b, (uint32_t)ml);
        if (!r)
                r = vd_buf_add(b, msg, ml);
        if (!r)
                r = put_u32(b, (uint32_t)len);
        if (!r && len)
                r = vd_buf_add(b, data, len);
        return r;
}

int vd_catfile_extra(vd_buf *b, size_t n) {
        return n > VD_CAT_FILES_MAX ? VD_E_LIMIT : put_u32(b, (uint32_t)n);
}

int vd_catfile_add_extra(vd_buf *b, const char *path, int code, const char *msg, const void *data, size_t len) {
        size_t pl = strlen(path);
        if (pl > CAT_PATH_MAX)
                return VD_E_LIMIT;
        int r = put_u32(b, (uint32_t)pl);
        if (!r)
                r = vd_buf_add(b, path, pl);
        return r ? r : vd_catfile_add(b, code, msg, data, len);
}

static int get_bytes(vd_rd *r, size_t n, size_t max, char **out) {
        const unsigned char *q = n > max ? NULL : vd_rd_take(r, n);
        if (!q)
                return VD_E_SOURCE;
        *out = malloc(n + 1);
        if (!*out)
                return VD_E_NOMEM;
        if (n)
                memcpy(*out, q, n);
        (*out)[n] = '\0';
        return 0;
}

void vd_catitems_free(vd_catitem *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].msg);
                free(v[i].data);
        }
        free(v);
}

/* One item (code, message, data) at r into *it. */
static int get_item(vd_rd *r, size_t max, vd_catitem *it) {
        uint32_t code, ml, dl;
        int rc;
        if ((rc = vd_rd_u32(r, &code) ? 0 : VD_E_SOURCE) < 0 || (rc = vd_rd_u32(r, &ml) ? 0 : VD_E_SOURCE) < 0)
                return rc;
        it->code = (int32_t)code;
        if (it->code != 0 && it->code != VD_E_IO && it->code != VD_E_LIMIT)
                return VD_E_SOURCE;
        if ((rc = get_bytes(r, ml, VD_CAT_MSG_MAX, &it->msg)) < 0 || (rc = vd_rd_u32(r, &dl) ? 0 : VD_E_SOURCE) < 0 ||
            (rc = get_bytes(r, dl, it->code ? 0 : max, &it->data)) < 0)
                return rc;
        if (memchr(it->msg, '\0', ml))
                return VD_E_SOURCE;
        it->len = dl;
        return 0;
}

int vd_catfile_decode_extra(const void *p, size_t n, size_t count, size_t max, vd_catitem **ret, char ***paths,
                            vd_catitem **extra, size_t *n_extra, vd_err *err) {
        vd_rd r;
        vd_rd_init(&r, p, n);
        uint32_t c, ne = 0;
        *ret = NULL;
        if (paths) {
                *paths = NULL;
                *extra = NULL;
                *n_extra = 0;
        }
        if (n < 8 || memcmp(p, MAGIC, 8) != 0)
                return vd_err_set(err, VD_E_SOURCE, "file batch: bad magic");
        vd_rd_take(&r, 8);
        if (!vd_rd_u32(&r, &c) || c != count || count > VD_CAT_FILES_MAX)
                return vd_err_set(err, VD_E_SOURCE, "file batch: %zu files asked, another count returned", count);
        vd_catitem *v = calloc(count ? count : 1, sizeof *v), *x = NULL;
        char **xp = NULL;
        if (!v)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int rc = 0;
        for (size_t i = 0; i < count && rc == 0; i++)
                rc = get_item(&r, max, &v[i]);
        if (rc == 0 && (!vd_rd_u32(&r, &ne) || ne > VD_CAT_FILES_MAX - count || (ne && !paths)))
                rc = VD_E_SOURCE;
        if (rc == 0 && ne && (!(x = calloc(ne, sizeof *x)) || !(xp = calloc(ne, sizeof *xp))))
                rc = VD_E_NOMEM;
        for (size_t i = 0; i < ne && rc == 0; i++) {
                uint32_t pl;
                if ((rc = vd_rd_u32(&r, &pl) ? 0 : VD_E_SOURCE) < 0 || pl == 0 ||
                    (rc = get_bytes(&r, pl, CAT_PATH_MAX, &xp[i])) < 0)
                        break;
                if (xp[i][0] != '/' || memchr(xp[i], '\0', pl)) {
                        rc = VD_E_SOURCE;
                        break;
                }
                rc = get_item(&r, max, &x[i]);
        }
        if (rc == 0 && r.p != r.end)
                rc = VD_E_SOURCE;
        if (rc < 0) {
                vd_catitems_free(v, count);
                vd_catitems_free(x, x ? ne : 0);
                for (size_t i = 0; xp && i < ne; i++)
                        free(xp[i]);
                free(xp);
                return rc == VD_E_NOMEM ? vd_err_set(err, rc, "out of memory")
                                        : vd_err_set(err, VD_E_SOURCE, "file batch: malformed");
        }
        *ret = v;
        if (paths) {
                *paths = xp;
                *extra = x;
                *n_extra = ne;
        }
        return 0;
}

int vd_catfile_decode(const void *p, size_t n, size_t count, size_t max, vd_catitem **ret, vd_err *err) {
        return vd_catfile_decode_extra(p, n, count, max, ret, NULL, NULL, NULL, err);
}
