#include "common/vd_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vd_buf_init(vd_buf *b, size_t cap) {
        b->buf = NULL;
        b->len = 0;
        b->alloc = 0;
        b->cap = cap ? cap : VD_BUF_DEFAULT_CAP;
}

void vd_buf_release(vd_buf *b) {
        if (!b)
                return;
        free(b->buf);
        b->buf = NULL;
        b->len = b->alloc = 0;
}

void vd_buf_reset(vd_buf *b) {
        b->len = 0;
        if (b->buf)
                b->buf[0] = '\0';
}

char *vd_buf_detach(vd_buf *b, size_t *ret_len) {
        char *p = b->buf;
        if (!p) {
                p = calloc(1, 1);
                if (!p)
                        return NULL;
        }
        if (ret_len)
                *ret_len = b->len;
        b->buf = NULL;
        b->len = b->alloc = 0;
        return p;
}

static int grow(vd_buf *b, size_t extra) {
        if (extra > b->cap || b->len > b->cap - extra)
                return VD_E_LIMIT;
        size_t need = b->len + extra + 1;
        if (need <= b->alloc)
                return 0;
        size_t n = b->alloc ? b->alloc : 64;
        while (n < need)
                n = n > SIZE_MAX / 2 ? need : n * 2;
        if (n > b->cap + 1)
                n = b->cap + 1;
        char *p = realloc(b->buf, n);
        if (!p)
                return VD_E_NOMEM;
        b->buf = p;
        b->alloc = n;
        return 0;
}

int vd_buf_add(vd_buf *b, const void *p, size_t n) {
        int r = grow(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->buf + b->len, p, n);
        b->len += n;
        b->buf[b->len] = '\0';
        return 0;
}

int vd_buf_addc(vd_buf *b, char c) { return vd_buf_add(b, &c, 1); }

int vd_buf_adds(vd_buf *b, const char *s) { return vd_buf_add(b, s, strlen(s)); }

int vd_buf_vaddf(vd_buf *b, const char *fmt, va_list ap) {
        va_list cp;
        va_copy(cp, ap);
        int n = vsnprintf(NULL, 0, fmt, cp);
        va_end(cp);
        if (n < 0)
                return VD_E_INTERNAL;
        int r = grow(b, (size_t)n);
        if (r < 0)
                return r;
        vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return 0;
}

int vd_buf_addf(vd_buf *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vd_buf_vaddf(b, fmt, ap);
        va_end(ap);
        return r;
}

int vd_buf_add_u32(vd_buf *b, uint32_t v) {
        unsigned char x[4];
        for (int i = 0; i < 4; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        return vd_buf_add(b, x, 4);
}

int vd_buf_add_u64(vd_buf *b, uint64_t v) {
        unsigned char x[8];
        for (int i = 0; i < 8; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        return vd_buf_add(b, x, 8);
}

void vd_rd_init(vd_rd *r, const void *p, size_t n) {
        r->p = p;
        r->end = r->p + n;
        r->bad = false;
}

size_t vd_rd_left(const vd_rd *r) { return r->bad ? 0 : (size_t)(r->end - r->p); }

const unsigned char *vd_rd_take(vd_rd *r, size_t n) {
        if (r->bad || (size_t)(r->end - r->p) < n) {
                r->bad = true;
                return NULL;
        }
        const unsigned char *q = r->p;
        r->p += n;
        return q;
}

bool vd_rd_bytes(vd_rd *r, void *dst, size_t n) {
        const unsigned char *q = vd_rd_take(r, n);
        if (q && n)
                memcpy(dst, q, n);
        return q != NULL;
}

bool vd_rd_u32(vd_rd *r, uint32_t *v) {
        const unsigned char *q = vd_rd_take(r, 4);
        *v = q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
        return q != NULL;
}

bool vd_rd_u64(vd_rd *r, uint64_t *v) {
        uint32_t lo = 0, hi = 0;
        bool ok = vd_rd_u32(r, &lo) && vd_rd_u32(r, &hi);
        *v = ok ? (uint64_t)hi << 32 | lo : 0;
        return ok;
}

int vd_array_grow(void *pv, size_t *alloc, size_t n, size_t elem, size_t first) {
        if (n < *alloc)
                return 0;
        size_t na = *alloc ? *alloc * 2 : first;
        if (na <= n)
                na = n + 1;
        if (na > SIZE_MAX / elem)
                return VD_E_NOMEM;
        void **slot = pv;
        void *nv = realloc(*slot, na * elem);
        if (!nv)
                return VD_E_NOMEM;
        *slot = nv;
        *alloc = na;
        return 0;
}
