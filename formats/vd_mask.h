/* Secrets never leave the guest through a file's content: the files that
 * hold them are never stored, and in every other file the values that look
 * like secrets are masked before the content is kept or diffed.
 *
 * Never stored (vd_mask_never_store): /etc/shadow, /etc/gshadow (and their
 * backups), /etc/security/opasswd, SSH host and user private keys (id_rsa,
 * id_ecdsa, id_ed25519, id_dsa, ssh_host_*_key), anything under
 * /etc/ssl/private, *.key, *.keytab, and credential stores (.git-credentials,
 * .netrc, .pgpass, .aws/credentials, .docker/config.json, .kube/config,
 * NetworkManager's system-connections).
 *
 * Masked (vd_mask_secrets), each as "[masked:XXXXXXXX]", eight hex digits of
 * an HMAC-SHA256 of the value under the caller's key: the same value masks
 * the same, so a changed secret still shows as a changed line, never its
 * value.
 *   - the body of a PEM private key block (BEGIN ... PRIVATE KEY ... END)
 *   - crypt(3) password hashes ($1$ $2b$ $5$ $6$ $y$ $apr1$...) and GRUB's
 *     grub.pbkdf2.* hashes
 *   - the value of an assignment whose name says secret: password, passwd,
 *     passphrase, secret, token, api key, access key, private key,
 *     credential, requirepass, masterauth, bindpw, psk (name = value,
 *     name: value, name value)
 *   - AWS access key ids (AKIA..., ASIA...), GitHub tokens (ghp_, gho_, ghu_,
 *     ghs_, ghr_, github_pat_), GitLab tokens (glpat-), Slack tokens (xox?-)
 */
#ifndef VD_MASK_H
#define VD_MASK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/vd_buf.h"

bool vd_mask_never_store(const char *path, size_t len);

/* p[0..n) with secrets masked, into out; *masked (may be NULL) counts the
 * values masked. 0 or VD_E_NOMEM. */
int vd_mask_secrets(const char *p, size_t n, const unsigned char *key, size_t key_len, vd_buf *out, size_t *masked);

#endif
