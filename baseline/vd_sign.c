#define _GNU_SOURCE
#include "baseline/vd_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/vd_str.h"

static const char sig_context[] = "vmdrift-baseline-signature-v1\n";

static const char *ossl_err(void) {
        static __thread char buf[256];
        unsigned long e = ERR_get_error();
        if (!e)
                return "unknown OpenSSL error";
        ERR_error_string_n(e, buf, sizeof buf);
        ERR_clear_error();
        return buf;
}

/* The message is the context string followed by the hex digest. */
static size_t message(const char *digest_hex, unsigned char *out, size_t cap) {
        size_t cl = sizeof sig_context - 1, dl = strlen(digest_hex);
        if (cl + dl > cap)
                return 0;
        memcpy(out, sig_context, cl);
        memcpy(out + cl, digest_hex, dl);
        return cl + dl;
}

static int keyid_of(EVP_PKEY *pk, char keyid[VD_KEYID_LEN + 1]) {
        unsigned char raw[32], md[32];
        size_t rl = sizeof raw;
        unsigned int ml = 0;
        if (EVP_PKEY_get_raw_public_key(pk, raw, &rl) != 1 ||
            EVP_Digest(raw, rl, md, &ml, EVP_sha256(), NULL) != 1)
                return -1;
        vd_hex_to(keyid, md, VD_KEYID_LEN / 2);
        return 0;
}

static FILE *create_excl(const char *path, mode_t mode, vd_err *err) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0) {
                vd_err_errno(err, errno == EEXIST ? VD_E_USAGE : VD_E_IO, errno, "cannot create key file '%s'", path);
                return NULL;
        }
        FILE *f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                vd_err_errno(err, VD_E_IO, errno, "cannot create key file '%s'", path);
        }
        return f;
}

int vd_key_generate(const char *name, vd_err *err) {
        char *pub = NULL;
        EVP_PKEY *pk = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        FILE *fpriv = NULL, *fpub = NULL;
        int r = 0;
        if (asprintf(&pub, "%s.pub", name) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (access(name, F_OK) == 0 || access(pub, F_OK) == 0) {
                r = vd_err_set(err, VD_E_USAGE, "'%s' or '%s' already exists: not overwriting a key", name, pub);
                goto out;
        }
        ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pk) != 1) {
                r = vd_err_set(err, VD_E_INTERNAL, "cannot generate an Ed25519 key: %s", ossl_err());
                goto out;
        }
        if (!(fpriv = create_excl(name, 0600, err))) {
                r = err->code;
                goto out;
        }
        if (PEM_write_PrivateKey(fpriv, pk, NULL, NULL, 0, NULL, NULL) != 1 || fclose(fpriv) != 0) {
                fpriv = NULL;
                unlink(name);
                r = vd_err_set(err, VD_E_IO, "cannot write '%s'", name);
                goto out;
        }
        fpriv = NULL;
        if (!(fpub = create_excl(pub, 0644, err))) {
                unlink(name);
                r = err->code;
                goto out;
        }
        if (PEM_write_PUBKEY(fpub, pk) != 1 || fclose(fpub) != 0) {
                fpub = NULL;
                unlink(name);
                unlink(pub);
                r = vd_err_set(err, VD_E_IO, "cannot write '%s'", pub);
                goto out;
        }
        fpub = NULL;
out:
        if (fpriv)
                fclose(fpriv);
        if (fpub)
                fclose(fpub);
        EVP_PKEY_free(pk);
        EVP_PKEY_CTX_free(ctx);
        free(pub);
        return r;
}

static EVP_PKEY *load_key(const char *path, bool private_key, vd_err *err) {
        FILE *f = fopen(path, "re");
        if (!f) {
                vd_err_errno(err, VD_E_INPUT, errno, "cannot open key '%s'", path);
                return NULL;
        }
        if (private_key) {
                struct stat st;
                if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
                        fclose(f);
                        vd_err_set(err, VD_E_INPUT, "private key '%s' is readable by others (mode %04o): chmod 600 it",
                                   path, st.st_mode & 07777);
                        return NULL;
                }
        }
        EVP_PKEY *pk = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        if (!pk) {
                vd_err_set(err, VD_E_INPUT, "'%s' is not a PEM %s key: %s", path, private_key ? "private" : "public",
                           ossl_err());
                return NULL;
        }
        if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(pk);
                vd_err_set(err, VD_E_INPUT, "'%s' is not an Ed25519 key", path);
                return NULL;
        }
        return pk;
}

int vd_key_id(const char *path, bool private_key, char keyid[VD_KEYID_LEN + 1], vd_err *err) {
        EVP_PKEY *pk = load_key(path, private_key, err);
        if (!pk)
                return err->code;
        int r = keyid_of(pk, keyid) < 0 ? vd_err_set(err, VD_E_INTERNAL, "cannot read key '%s'", path) : 0;
        EVP_PKEY_free(pk);
        return r;
}

int vd_sign_digest(const char *key_path, const char *digest_hex, char sig_hex[2 * VD_SIG_LEN + 1],
                   char keyid[VD_KEYID_LEN + 1], vd_err *err) {
        EVP_PKEY *pk = load_key(key_path, true, err);
        if (!pk)
                return err->code;
        unsigned char msg[256], sig[VD_SIG_LEN];
        size_t ml = message(digest_hex, msg, sizeof msg), sl = sizeof sig;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && ml && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
                 EVP_DigestSign(md, sig, &sl, msg, ml) == 1 && sl == VD_SIG_LEN && keyid_of(pk, keyid) == 0;
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pk);
        if (!ok)
                return vd_err_set(err, VD_E_INTERNAL, "cannot sign with '%s': %s", key_path, ossl_err());
        vd_hex_to(sig_hex, sig, VD_SIG_LEN);
        return 0;
}

int vd_verify_digest(const char *pub_path, const char *digest_hex, const char *sig_hex, char keyid[VD_KEYID_LEN + 1],
                     vd_err *err) {
        EVP_PKEY *pk = load_key(pub_path, false, err);
        if (!pk)
                return err->code;
        int r = 0;
        unsigned char sig[VD_SIG_LEN], msg[256];
        size_t ml = message(digest_hex, msg, sizeof msg);
        bool hex_ok = vd_unhex(sig_hex, sig, VD_SIG_LEN);
        if (keyid_of(pk, keyid) < 0)
                r = vd_err_set(err, VD_E_INTERNAL, "cannot read the public key '%s'", pub_path);
        EVP_MD_CTX *md = r == 0 ? EVP_MD_CTX_new() : NULL;
        if (r == 0 && (!hex_ok || !md || !ml || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) != 1 ||
                       EVP_DigestVerify(md, sig, VD_SIG_LEN, msg, ml) != 1)) {
                ERR_clear_error();
                r = VD_E_BASELINE;
        }
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pk);
        return r;
}
