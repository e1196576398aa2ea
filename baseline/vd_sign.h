/* Ed25519 keys and signatures for baselines (OpenSSL libcrypto).
 *
 * A baseline is signed over its content digest (SHA-256 of the canonical
 * metadata, entries, facts and packages), so changing any row or any metadata
 * breaks the signature. Keys are PEM files: PKCS#8 private (mode 0600), and
 * SubjectPublicKeyInfo public (NAME.pub).
 *
 * Ownership: nothing here allocates for the caller; results go into the
 * caller's fixed-size buffers (sig_hex, keyid), untouched on failure.
 */
#ifndef VD_SIGN_H
#define VD_SIGN_H

#include <stdbool.h>

#include "common/vd_err.h"

#define VD_SIG_LEN 64
#define VD_KEYID_LEN 16 /* hex digits of SHA-256(raw public key) */

/* Write NAME (private, 0600) and NAME.pub; never overwrites either. */
int vd_key_generate(const char *name, vd_err *err);

/* Sign the hex content digest with the private key in key_path. Fills sig
 * (128 hex + NUL) and keyid (VD_KEYID_LEN hex + NUL). */
int vd_sign_digest(const char *key_path, const char *digest_hex, char sig_hex[2 * VD_SIG_LEN + 1],
                   char keyid[VD_KEYID_LEN + 1], vd_err *err);

/* The key id of a private (or, with private_key false, public) key file. */
int vd_key_id(const char *path, bool private_key, char keyid[VD_KEYID_LEN + 1], vd_err *err);

/* Verify sig_hex over digest_hex with the public key in pub_path. Returns 0,
 * or VD_E_BASELINE if the signature does not verify, VD_E_INPUT if the key
 * file is unusable. Fills keyid of the public key. */
int vd_verify_digest(const char *pub_path, const char *digest_hex, const char *sig_hex, char keyid[VD_KEYID_LEN + 1],
                     vd_err *err);

#endif
