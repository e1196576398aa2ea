/* Content hashing: XXH3-128 keyed with a per-baseline secret, or SHA-256.
 *
 * XXH3 is not a cryptographic hash; keying it with a random secret that lives
 * only in the host-side baseline means a guest cannot craft a collision for a
 * hash whose key it never sees. Use SHA-256 where a policy wants a
 * cryptographic digest. A vd_hasher is for one thread at a time.
 */
#ifndef VD_HASH_H
#define VD_HASH_H

#include <stddef.h>

#include "model/vd_entry.h"

#define VD_HASH_SEED_LEN 32

typedef struct vd_hasher vd_hasher;

/* seed is required (VD_HASH_SEED_LEN bytes) for XXH3 and ignored for SHA-256. */
vd_hasher *vd_hasher_new(int algo, const unsigned char *seed);
void vd_hasher_free(vd_hasher *h);
int vd_hasher_reset(vd_hasher *h);
int vd_hasher_update(vd_hasher *h, const void *p, size_t n);
/* Writes vd_hash_algo_len(algo) bytes to out; returns that length or < 0. */
int vd_hasher_final(vd_hasher *h, unsigned char out[VD_HASH_MAX]);

/* Fill buf with n bytes from the OS random source. */
int vd_random_bytes(void *buf, size_t n, vd_err *err);

/* A random (version 4) UUID, lower-case hex with hyphens (all zeros if the
 * OS random source fails). */
void vd_uuid4(char out[37]);

/* One-shot SHA-256. */
int vd_sha256(const void *p, size_t n, unsigned char out[32]);

#endif
