#include "vd_catfile.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "VDCAT001"

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

typedef struct rd {
        const unsigned char *p, *end;
} rd;

static int get_u32(rd *r, uint32_t *v) {
        if (r->end - r->p < 4)
                return VD_E_SOURCE;
        *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
        r->p += 4;
        return 0;
}

static int get_bytes(rd *r, size_t n, size_t max, char **out) {
        if (n > max || (size_t)(r->end - r->p) < n)
                return VD_E_SOURCE;
        *out = malloc(n + 1);
        if (!*out)
                return VD_E_NOMEM;
        if (n)
                memcpy(*out, r->p, n);
        (*out)[n] = '\0';
        r->p += n;
        return 0;
}

void vd_catitems_free(vd_catitem *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].msg);
                free(v[i].data);
        }
        free(v);
}

int vd_catfile_decode(const void *p, size_t n, size_t count, size_t max, vd_catitem **ret, vd_err *err) {
        rd r = {p, (const unsigned char *)p + n};
        uint32_t c;
        *ret = NULL;
        if (n < 8 || memcmp(p, MAGIC, 8) != 0)
                return vd_err_set(err, VD_E_SOURCE, "file batch: bad magic");
        r.p += 8;
        if (get_u32(&r, &c) < 0 || c != count || count > VD_CAT_FILES_MAX)
                return vd_err_set(err, VD_E_SOURCE, "file batch: %zu files asked, another count returned", count);
        vd_catitem *v = calloc(count ? count : 1, sizeof *v);
        if (!v)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int rc = 0;
        for (size_t i = 0; i < count && rc == 0; i++) {
                uint32_t code, ml, dl;
                if ((rc = get_u32(&r, &code)) < 0 || (rc = get_u32(&r, &ml)) < 0)
                        break;
                v[i].code = (int32_t)code;
                if (v[i].code != 0 && v[i].code != VD_E_IO && v[i].code != VD_E_LIMIT) {
                        rc = VD_E_SOURCE;
                        break;
                }
                if ((rc = get_bytes(&r, ml, VD_CAT_MSG_MAX, &v[i].msg)) < 0 || (rc = get_u32(&r, &dl)) < 0 ||
                    (rc = get_bytes(&r, dl, v[i].code ? 0 : max, &v[i].data)) < 0)
                        break;
                if (memchr(v[i].msg, '\0', ml)) {
                        rc = VD_E_SOURCE;
                        break;
                }
                v[i].len = dl;
        }
        if (rc == 0 && r.p != r.end)
                rc = VD_E_SOURCE;
        if (rc < 0) {
                vd_catitems_free(v, count);
                return rc == VD_E_NOMEM ? vd_err_set(err, rc, "out of memory")
                                        : vd_err_set(err, VD_E_SOURCE, "file batch: malformed");
        }
        *ret = v;
        return 0;
}
