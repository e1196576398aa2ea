/* Secrets never leave the guest through a diff (formats/vd_mask.c): each
 * pattern masked, by a keyed fingerprint that changes with the value and
 * never shows it; the files never stored; and the unified diffs of
 * formats/vd_diff.c (libgit2). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_diff.h"
#include "formats/vd_mask.h"

static const unsigned char KEY[] = "baseline seed";

static char *mask(const char *in, size_t *n) {
        vd_buf b;
        vd_buf_init(&b, 0);
        size_t m = 0;
        cr_assert_eq(vd_mask_secrets(in, strlen(in), KEY, sizeof KEY - 1, &b, &m), 0);
        if (n)
                *n = m;
        char *s = strdup(b.buf ? b.buf : "");
        vd_buf_release(&b);
        return s;
}

/* in masked: none of secret left, n values masked, and keep still there */
static void masks(const char *in, const char *secret, size_t n, const char *keep) {
        size_t got;
        char *s = mask(in, &got);
        cr_assert_null(strstr(s, secret), "%s kept in: %s", secret, s);
        cr_assert(strstr(s, "[masked:"), "%s", s);
        cr_assert_eq(got, n, "%zu masked in: %s", got, s);
        if (keep)
                cr_assert(strstr(s, keep), "%s lost in: %s", keep, s);
        free(s);
}

Test(mask, password_hashes) {
        masks("root:$6$rounds=5000$saltsalt$GmEGzL1nqD0ZrJY5n0hU3v1:19000:0:99999:7:::\n", "GmEGzL1nqD0Z", 1, "root:");
        masks("alice:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TeY0:1\n", "X3DX6M94c7o7", 1, "alice:");
        masks("admin:$apr1$9Cv/OMGj$ZomWQzuQbL.3TRCS81A1g/\n", "ZomWQzuQbL", 1, "admin:");
        masks("password_pbkdf2 root grub.pbkdf2.sha512.10000.0A1B2C3D4E5F60718293A4B5C6D7E8F9.ABCDEF0123456789ABCDEF\n",
              "0A1B2C3D4E5F6071", 1, "password_pbkdf2 root");
}

Test(mask, assignments_to_secret_names) {
        masks("DB_PASSWORD=hunter2\n", "hunter2", 1, "DB_PASSWORD=");
        masks("  client_secret: 'sup3r s3cret'\n", "sup3r", 1, "client_secret: '");
        masks("requirepass foobared\n", "foobared", 1, "requirepass ");
        masks("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "wJalrXUtnFEMI", 1, NULL);
        masks("export API_TOKEN=\"abc123def456\";\n", "abc123def456", 1, "export API_TOKEN=\"");
        masks("bindpw secretbind\nrootbinddn cn=admin\n", "secretbind", 1, "rootbinddn cn=admin\n");
        masks("wpa: psk=\"correct horse\"\n", "correct horse", 1, NULL);
        /* an unquoted value runs to the end of the line ("a secret phrase"
         * would leak at its first space otherwise): what follows goes too */
        masks("user=a password=p1 token=t1 mode=x\n", "t1", 1, "user=a password=[masked:");
        /* quoted values end at their quote: each of a line's is masked */
        masks("password=\"p1\" token='t1' mode=x\n", "t1", 2, "\" token='[masked:");
        masks("password=\"p1\" token='t1' mode=x\n", "p1", 2, "' mode=x\n");
}

/* A line of nothing but tokens, a long one: masked in time linear in it. */
Test(mask, a_hostile_line_of_tokens_stays_linear, .timeout = 10) {
        size_t n = 200000 / 21;
        char *in = malloc(n * 21 + 2);
        for (size_t i = 0; i < n; i++)
                memcpy(in + 21 * i, "AKIAIOSFODNN7EXAMPLE ", 21);
        in[n * 21] = '\n';
        in[n * 21 + 1] = '\0';
        size_t got;
        char *s = mask(in, &got);
        cr_assert_eq(got, n);
        cr_assert_null(strstr(s, "AKIA"));
        free(s);
        free(in);
}

Test(mask, configuration_that_only_mentions_passwords_is_kept) {
        const char *sshd = "PasswordAuthentication no\nPermitEmptyPasswords no\nPermitRootLogin yes\nUsePAM yes\n";
        size_t n;
        char *s = mask(sshd, &n);
        cr_assert_str_eq(s, sshd);
        cr_assert_eq(n, 0);
        free(s);
        /* a comment that names one is masked all the same: the safe side */
        masks("# old password: hunter2\n", "hunter2", 1, "# old password: ");
}

Test(mask, pem_private_keys_and_tokens) {
        masks("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACD\n"
              "-----END OPENSSH PRIVATE KEY-----\ncert follows\n",
              "b3BlbnNzaC1rZXktdjEAAAAA", 1, "-----END OPENSSH PRIVATE KEY-----\ncert follows");
        masks("key: AKIAIOSFODNN7EXAMPLE\n", "AKIAIOSFODNN7EXAMPLE", 1, "key: ");
        masks("url = https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/x\n",
              "ghp_0123456789abcdefghij", 1, "@github.com/x");
        masks("GITLAB=glpat-abcdefghij0123456789\n", "glpat-abcdefghij", 1, NULL);
        masks("hook xoxb-1234567890-abcdefghij\n", "xoxb-1234567890", 1, "hook ");
        /* a public certificate is no secret */
        const char *cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        char *s = mask(cert, NULL);
        cr_assert_str_eq(s, cert);
        free(s);
}

/* The mask is a fingerprint: a changed secret is a changed line, the same
 * secret the same line; another key, another fingerprint. */
Test(mask, the_same_value_masks_the_same_and_a_changed_one_differently) {
        char *a = mask("password=one\n", NULL), *b = mask("password=one\n", NULL), *c = mask("password=two\n", NULL);
        cr_assert_str_eq(a, b);
        cr_assert_str_neq(a, c);
        vd_buf o;
        vd_buf_init(&o, 0);
        cr_assert_eq(vd_mask_secrets("password=one\n", 13, (const unsigned char *)"other", 5, &o, NULL), 0);
        cr_assert_str_neq(o.buf, a);
        vd_buf_release(&o);
        free(a);
        free(b);
        free(c);
}

Test(mask, files_that_hold_secrets_are_never_stored) {
        const char *never[] = {"/etc/shadow", "/etc/gshadow-", "/etc/ssh/ssh_host_ed25519_key", "/root/.ssh/id_rsa",
                               "/home/a/.ssh/id_ed25519", "/etc/ssl/private/site.pem", "/srv/tls/server.key",
                               "/home/a/.git-credentials", "/root/.netrc", "/var/lib/postgresql/.pgpass",
                               "/root/.aws/credentials", "/root/.docker/config.json", "/home/a/.kube/config",
                               "/etc/krb5.keytab", "/etc/NetworkManager/system-connections/wifi.nmconnection"};
        for (size_t i = 0; i < sizeof never / sizeof *never; i++)
                cr_assert(vd_mask_never_store(never[i], strlen(never[i])), "%s", never[i]);
        const char *kept[] = {"/etc/ssh/sshd_config", "/etc/ssh/ssh_host_ed25519_key.pub", "/home/a/.ssh/id_rsa.pub",
                              "/etc/passwd", "/etc/shadow.d/x", "/etc/keyboard"};
        for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
                cr_assert_not(vd_mask_never_store(kept[i], strlen(kept[i])), "%s", kept[i]);
}

Test(diff, unified_with_context_binary_and_cut) {
        vd_buf b;
        vd_buf_init(&b, 0);
        const char *o = "a\nb\nc\nd\ne\nf\ng\n", *n = "a\nb\nc\nD\ne\nf\ng\n";
        cr_assert_eq(vd_diff_unified("/etc/x.conf", o, strlen(o), n, strlen(n), 4096, &b), 0);
        cr_assert_str_eq(b.buf, "--- a/etc/x.conf\n+++ b/etc/x.conf\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n");
        b.len = 0;
        cr_assert_eq(vd_diff_unified("/etc/cron.d/job", NULL, 0, "* * * * * root x\n", 17, 4096, &b), 0);
        cr_assert(strstr(b.buf, "--- /dev/null\n+++ b/etc/cron.d/job\n@@ -0,0 +1 @@\n+* * * * * root x\n"), "%s", b.buf);
        b.len = 0;
        cr_assert_eq(vd_diff_unified("/bin/x", "a\0b", 3, "a\0c", 3, 4096, &b), 0);
        cr_assert_str_eq(b.buf, VD_DIFF_BINARY);
        b.len = 0;
        char big[4000];
        for (size_t i = 0; i < sizeof big - 1; i++)
                big[i] = i % 10 == 9 ? '\n' : 'x';
        big[sizeof big - 1] = '\0';
        cr_assert_eq(vd_diff_unified("/etc/big", NULL, 0, big, strlen(big), 300, &b), 0);
        cr_assert_leq(b.len, 360);
        cr_assert(strstr(b.buf, " more lines of diff not shown)\n"), "%s", b.buf);
        vd_buf_release(&b);
}
