/* Files' text kept in a baseline; see vd_content.h. */
#include "baseline/vd_content.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/vd_err.h"
#include "common/vd_str.h"

void vd_contents_release(vd_contents *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].data);
        free(c->v);
        memset(c, 0, sizeof *c);
}

static int cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl) {
        int r = memcmp(a, b, al < bl ? al : bl);
        return r ? r : (al > bl) - (al < bl);
}

static int cmp_content(const void *x, const void *y) {
        const vd_content *a = x, *b = y;
        return cmp(a->hash, a->hash_len, b->hash, b->hash_len);
}

int vd_contents_take(vd_contents *c, const unsigned char *hash, size_t hash_len, uint32_t size, unsigned char *data,
                     size_t data_len) {
        if (hash_len > VD_HASH_MAX || vd_array_grow(&c->v, &c->alloc, c->n, sizeof *c->v, 16) < 0) {
                free(data);
                return hash_len > VD_HASH_MAX ? VD_E_INPUT : VD_E_NOMEM;
        }
        vd_content *ct = &c->v[c->n++];
        memset(ct, 0, sizeof *ct);
        memcpy(ct->hash, hash, hash_len);
        ct->hash_len = (uint8_t)hash_len;
        ct->size = size;
        ct->data = data;
        ct->data_len = data_len;
        c->text_bytes += size;
        c->sorted = false;
        return 0;
}

int vd_contents_put(vd_contents *c, const unsigned char *hash, size_t hash_len, const char *text, size_t len) {
        if (len > UINT32_MAX)
                return VD_E_INPUT;
        uLongf out = compressBound((uLong)len);
        unsigned char *data = malloc(out ? out : 1);
        if (!data)
                return VD_E_NOMEM;
        if (compress2(data, &out, (const Bytef *)text, (uLong)len, 6) != Z_OK) {
                free(data);
                return VD_E_NOMEM;
        }
        return vd_contents_take(c, hash, hash_len, (uint32_t)len, data, out);
}

int vd_contents_copy(vd_contents *c, const vd_content *ct) {
        unsigned char *d = malloc(ct->data_len ? ct->data_len : 1);
        if (!d)
                return VD_E_NOMEM;
        memcpy(d, ct->data, ct->data_len);
        return vd_contents_take(c, ct->hash, ct->hash_len, ct->size, d, ct->data_len);
}

void vd_contents_sort(vd_contents *c) {
        if (c->sorted)
                return;
        if (c->n > 1)
                qsort(c->v, c->n, sizeof *c->v, cmp_content);
        size_t k = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (k && cmp_content(&c->v[k - 1], &c->v[i]) == 0) {
                        c->text_bytes -= c->v[i].size;
                        free(c->v[i].data);
                        continue;
                }
                c->v[k++] = c->v[i];
        }
        c->n = k;
        c->sorted = true;
}

const vd_content *vd_contents_find(const vd_contents *c, const unsigned char *hash, size_t hash_len) {
        size_t lo = 0, hi = c->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int r = cmp(c->v[mid].hash, c->v[mid].hash_len, hash, hash_len);
                if (r == 0)
                        return &c->v[mid];
                if (r < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

int vd_content_text(const vd_content *ct, vd_buf *out) {
        unsigned char *t = malloc((size_t)ct->size + 1);
        if (!t)
                return VD_E_NOMEM;
        uLongf n = ct->size;
        int r = uncompress(t, &n, ct->data, (uLong)ct->data_len) != Z_OK || n != ct->size ? VD_E_BASELINE : 0;
        if (r == 0 && vd_buf_add(out, t, n) < 0)
                r = VD_E_NOMEM;
        free(t);
        return r;
}
