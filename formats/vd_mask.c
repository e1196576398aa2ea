/* Secrets masked in file content; see vd_mask.h. Line by line: a PEM
 * private key block spans lines, everything else is found within one. The
 * input is the guest's: any bytes, any line length (a line is only ever
 * scanned forwards, and each pattern is bounded). */
#define _GNU_SOURCE
#include "formats/vd_mask.h"

#include <openssl/hmac.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/vd_err.h"

static bool ends_with(const char *p, size_t n, const char *suffix) {
        size_t s = strlen(suffix);
        return n >= s && memcmp(p + n - s, suffix, s) == 0;
}

bool vd_mask_never_store(const char *path, size_t n) {
        static const char *const exact[] = {"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
                                            "/etc/security/opasswd", "/etc/krb5.keytab"};
        for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
                if (strlen(exact[i]) == n && memcmp(path, exact[i], n) == 0)
                        return true;
        static const char *const under[] = {"/etc/ssl/private/", "/etc/NetworkManager/system-connections/"};
        for (size_t i = 0; i < sizeof under / sizeof *under; i++)
                if (n > strlen(under[i]) && memcmp(path, under[i], strlen(under[i])) == 0)
                        return true;
        const char *slash = memrchr(path, '/', n);
        const char *name = slash ? slash + 1 : path;
        size_t nl = n - (size_t)(name - path);
        static const char *const names[] = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
                                            ".git-credentials", ".netrc", ".pgpass"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
                if (strlen(names[i]) == nl && memcmp(name, names[i], nl) == 0)
                        return true;
        if (nl > 9 && memcmp(name, "ssh_host_", 9) == 0 && ends_with(name, nl, "_key"))
                return true;
        static const char *const tails[] = {".key", ".keytab", "/.aws/credentials", "/.docker/config.json",
                                            "/.kube/config"};
        for (size_t i = 0; i < sizeof tails / sizeof *tails; i++)
                if (ends_with(path, n, tails[i]))
                        return true;
        return false;
}

typedef struct masker {
        const unsigned char *key;
        size_t key_len;
        vd_buf *out;
        size_t masked;
        int r;
} masker;

/* "[masked:XXXXXXXX]": the value's keyed fingerprint, never the value */
static void put_mask(masker *m, const char *v, size_t n) {
        unsigned char md[32];
        unsigned int ml = 0;
        if (!HMAC(EVP_sha256(), m->key, (int)m->key_len, (const unsigned char *)v, n, md, &ml))
                memset(md, 0, sizeof md);
        if (!m->r)
                m->r = vd_buf_addf(m->out, "[masked:%02x%02x%02x%02x]", md[0], md[1], md[2], md[3]);
        m->masked++;
}

static void put(masker *m, const char *p, size_t n) {
        if (!m->r && n)
                m->r = vd_buf_add(m->out, p, n);
}

/* Names that say their value is a secret, as the name's end ("db_password",
 * "client_secret", "aws_secret_access_key"; not "PasswordAuthentication"). */
static bool secret_name(const char *p, size_t n) {
        static const char *const kw[] = {"password", "passwd", "passphrase", "secret", "token", "apikey", "api_key",
                                         "api-key", "accesskey", "access_key", "privatekey", "private_key",
                                         "credential", "credentials", "requirepass", "masterauth", "bindpw", "psk",
                                         "pwd"};
        for (size_t i = 0; i < sizeof kw / sizeof *kw; i++) {
                size_t k = strlen(kw[i]);
                if (n >= k && strncasecmp(p + n - k, kw[i], k) == 0)
                        return true;
        }
        return false;
}

static bool ident(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
}

/* In line [p, p+n): the value of the first assignment to a secret name:
 * its start and length, or false. */
static bool assignment(const char *p, size_t n, size_t *vs, size_t *vl) {
        size_t i = 0;
        while (i < n) {
                while (i < n && !ident(p[i]))
                        i++;
                size_t s = i;
                while (i < n && ident(p[i]))
                        i++;
                if (i == s || !secret_name(p + s, i - s))
                        continue;
                size_t j = i;
                if (j < n && (p[j] == '"' || p[j] == '\''))
                        j++;
                size_t blanks = j;
                while (j < n && (p[j] == ' ' || p[j] == '\t'))
                        j++;
                bool sep = j < n && (p[j] == '=' || p[j] == ':');
                if (sep)
                        j++;
                else if (j == blanks)
                        continue; /* "token_count" or "password," : no value follows */
                while (j < n && (p[j] == ' ' || p[j] == '\t'))
                        j++;
                if (j >= n || p[j] == '#' || (sep && p[j] == '=') /* "==" */)
                        continue;
                size_t e = n;
                if (p[j] == '"' || p[j] == '\'') {
                        const char *q = memchr(p + j + 1, p[j], n - j - 1);
                        j++;
                        e = q ? (size_t)(q - p) : n;
                } else {
                        while (e > j && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\r' || p[e - 1] == ';' ||
                                         p[e - 1] == ','))
                                e--;
                }
                if (e <= j || (e - j >= 8 && memcmp(p + j, "[masked:", 8) == 0))
                        continue;
                *vs = j;
                *vl = e - j;
                return true;
        }
        return false;
}

static const char *const token_res[] = {
        "\\$(1|2[abxy]?|5|6|7|y|gy|apr1|sha1|md5)\\$[./A-Za-z0-9$=,+-]{8,}", /* crypt(3) hashes */
        "grub\\.pbkdf2\\.[a-z0-9]+\\.[0-9]+\\.[A-Fa-f0-9.]{16,}",           /* GRUB's */
        "(AKIA|ASIA)[0-9A-Z]{16}",                                           /* AWS access key ids */
        "gh[pousr]_[A-Za-z0-9]{36}",                                          /* GitHub tokens */
        "github_pat_[A-Za-z0-9_]{22,}",
        "glpat-[A-Za-z0-9_-]{20,}", /* GitLab */
        "xox[abprs]-[A-Za-z0-9-]{10,}", /* Slack */
};
#define N_TOKEN_RES (sizeof token_res / sizeof *token_res)

static regex_t res[N_TOKEN_RES];
static bool res_ok; /* false: a pattern did not compile (never: they are ours), tokens not masked */
static pthread_once_t res_once = PTHREAD_ONCE_INIT;

static void compile_once(void) {
        for (size_t i = 0; i < N_TOKEN_RES; i++)
                if (regcomp(&res[i], token_res[i], REG_EXTENDED) != 0)
                        return;
        res_ok = true;
}

static void compile(void) { pthread_once(&res_once, compile_once); }

/* The tokens of one line, found pattern by pattern from a position on: each
 * pattern's next match is remembered until the line passes it, so a line
 * is searched about once per pattern however many tokens it holds (a
 * hostile file of nothing but tokens stays linear). */
typedef struct tokens {
        const char *p;
        size_t n;
        regoff_t s[N_TOKEN_RES], e[N_TOKEN_RES]; /* -1: none left */
        bool known[N_TOKEN_RES];
} tokens;

static bool next_token(tokens *t, size_t from, size_t *ts, size_t *tl) {
        bool found = false;
        for (size_t i = 0; res_ok && i < N_TOKEN_RES; i++) {
                if (!t->known[i] || (t->s[i] >= 0 && (size_t)t->s[i] < from)) {
                        regmatch_t m[1] = {{(regoff_t)from, (regoff_t)t->n}};
                        if (from < t->n && regexec(&res[i], t->p, 1, m, REG_STARTEND) == 0 && m[0].rm_eo > m[0].rm_so) {
                                t->s[i] = m[0].rm_so;
                                t->e[i] = m[0].rm_eo;
                        } else
                                t->s[i] = t->e[i] = -1;
                        t->known[i] = true;
                }
                if (t->s[i] >= 0 && (!found || (size_t)t->s[i] < *ts)) {
                        *ts = (size_t)t->s[i];
                        *tl = (size_t)(t->e[i] - t->s[i]);
                        found = true;
                }
        }
        return found;
}

/* One line without its newline: tokens anywhere, and the value of every
 * assignment to a secret name (each found once: linear in the line). */
static void mask_line(masker *m, const char *p, size_t n) {
        size_t vs = 0, vl = 0;
        bool assign = assignment(p, n, &vs, &vl);
        tokens t = {.p = p, .n = n};
        size_t i = 0;
        while (i < n && !m->r) {
                if (assign && vs < i) { /* passed (inside a token): the next one */
                        assign = assignment(p + i, n - i, &vs, &vl);
                        vs += i;
                }
                size_t ts = 0, tl = 0;
                bool tok = next_token(&t, i, &ts, &tl);
                if (assign && (!tok || vs <= ts)) {
                        put(m, p + i, vs - i);
                        put_mask(m, p + vs, vl);
                        i = vs + vl;
                        assign = i < n && assignment(p + i, n - i, &vs, &vl);
                        vs += i;
                        continue;
                }
                if (!tok) {
                        put(m, p + i, n - i);
                        break;
                }
                put(m, p + i, ts - i);
                put_mask(m, p + ts, tl);
                i = ts + tl;
        }
}

static bool pem_begin(const char *p, size_t n) {
        return memmem(p, n, "-----BEGIN ", 11) && memmem(p, n, "PRIVATE KEY-----", 16);
}

int vd_mask_secrets(const char *in, size_t n, const unsigned char *key, size_t key_len, vd_buf *out, size_t *masked) {
        compile();
        /* regexec is given each line's bounds (REG_STARTEND), but a string
         * must still end in a NUL within its buffer (sanitizers read to it) */
        char *p = malloc(n + 1);
        if (!p)
                return VD_E_NOMEM;
        memcpy(p, in, n);
        p[n] = '\0';
        masker m = {key, key_len, out, 0, 0};
        size_t i = 0;
        while (i < n && !m.r) {
                const char *nl = memchr(p + i, '\n', n - i);
                size_t e = nl ? (size_t)(nl - p) : n;
                if (pem_begin(p + i, e - i)) {
                        /* the BEGIN line, the body as one mask, the END line */
                        put(&m, p + i, e - i + (nl ? 1 : 0));
                        size_t body = nl ? e + 1 : n, j = body;
                        while (j < n) {
                                const char *l2 = memchr(p + j, '\n', n - j);
                                size_t e2 = l2 ? (size_t)(l2 - p) : n;
                                if (memmem(p + j, e2 - j, "-----END ", 9))
                                        break;
                                j = l2 ? e2 + 1 : n;
                        }
                        if (j > body) {
                                put_mask(&m, p + body, j - body);
                                put(&m, "\n", 1);
                        }
                        i = j;
                        continue;
                }
                mask_line(&m, p + i, e - i);
                if (nl)
                        put(&m, "\n", 1);
                i = nl ? e + 1 : n;
        }
        free(p);
        if (masked)
                *masked = m.masked;
        return m.r ? VD_E_NOMEM : 0;
}
