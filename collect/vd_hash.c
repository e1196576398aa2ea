#define XXH_INLINE_ALL
#include "collect/vd_hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <xxhash.h>

struct vd_hasher {
        int algo;
        XXH3_state_t *xxh;
        EVP_MD_CTX *md;
        unsigned char secret[XXH3_SECRET_DEFAULT_SIZE];
};

vd_hasher *vd_hasher_new(int algo, const unsigned char *seed) {
        vd_hasher *h = calloc(1, sizeof *h);
        if (!h)
                return NULL;
        h->algo = algo;
        if (algo == VD_HASH_XXH3) {
                if (!seed)
                        goto fail;
                if (XXH3_generateSecret(h->secret, sizeof h->secret, seed, VD_HASH_SEED_LEN) != XXH_OK)
                        goto fail;
                h->xxh = XXH3_createState();
                if (!h->xxh)
                        goto fail;
        } else if (algo == VD_HASH_SHA256) {
                h->md = EVP_MD_CTX_new();
                if (!h->md)
                        goto fail;
        } else
                goto fail;
        if (vd_hasher_reset(h) < 0)
                goto fail;
        return h;
fail:
        vd_hasher_free(h);
        return NULL;
}

void vd_hasher_free(vd_hasher *h) {
        if (!h)
                return;
        if (h->xxh)
                XXH3_freeState(h->xxh);
        EVP_MD_CTX_free(h->md);
        free(h);
}

int vd_hasher_reset(vd_hasher *h) {
        if (h->algo == VD_HASH_XXH3)
                return XXH3_128bits_reset_withSecret(h->xxh, h->secret, sizeof h->secret) == XXH_OK ? 0
                                                                                                   : VD_E_INTERNAL;
        return EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) == 1 ? 0 : VD_E_INTERNAL;
}

int vd_hasher_update(vd_hasher *h, const void *p, size_t n) {
        if (h->algo == VD_HASH_XXH3)
                return XXH3_128bits_update(h->xxh, p, n) == XXH_OK ? 0 : VD_E_INTERNAL;
        return EVP_DigestUpdate(h->md, p, n) == 1 ? 0 : VD_E_INTERNAL;
}

int vd_hasher_final(vd_hasher *h, unsigned char out[VD_HASH_MAX]) {
        if (h->algo == VD_HASH_XXH3) {
                XXH128_canonical_t c;
                XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->xxh));
                memcpy(out, c.digest, 16);
                return 16;
        }
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(h->md, out, &len) != 1 || len != 32)
                return VD_E_INTERNAL;
        return 32;
}

int vd_random_bytes(void *buf, size_t n, vd_err *err) {
        unsigned char *p = buf;
        while (n > 0) {
                ssize_t k = getrandom(p, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return vd_err_errno(err, VD_E_IO, errno, "cannot read random bytes");
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int vd_sha256(const void *p, size_t n, unsigned char out[32]) {
        unsigned int len = 0;
        return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : VD_E_INTERNAL;
}

void vd_uuid4(char out[37]) {
        unsigned char u[16];
        if (vd_random_bytes(u, sizeof u, NULL) < 0)
                memset(u, 0, sizeof u);
        u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
        u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
                 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}
