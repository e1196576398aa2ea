/* YARA rules (analyse/vd_yara.c): compiled from a file or a directory,
 * errors naming file and line, a digest that follows the rules, matches
 * with their meta, line and tags (never the bytes), a timeout that stops a
 * match, and each shipped secret rule on its secret and beside a
 * look-alike. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse/vd_yara.h"
#include "model/vd_event.h"

static char dir[] = "/tmp/vd-yara-XXXXXX";

static void setup(void) { cr_assert_not_null(mkdtemp(dir)); }
static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
}
TestSuite(yara, .init = setup, .fini = teardown);

static char *put(const char *name, const char *text) {
        char *p = NULL;
        cr_assert_geq(asprintf(&p, "%s/%s", dir, name), 0);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
        return p;
}

static const char EICAR_RULE[] = "rule eicar : testing virus {\n"
                                 "  meta:\n"
                                 "    description = \"the EICAR test file\"\n"
                                 "    author = \"vmdrift tests\"\n"
                                 "    severity = \"critical\"\n"
                                 "  strings:\n"
                                 "    $e = \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\"\n"
                                 "  condition:\n"
                                 "    $e\n"
                                 "}\n";
static const char EICAR[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static void match(const vd_yara *y, const char *path, const char *data, vd_yara_hits *h) {
        vd_err err = VD_ERR_INIT;
        vd_yara_hits_init(h);
        cr_assert_eq(vd_yara_match(y, path, strlen(path), data, strlen(data), 10, h, &err), 0, "%s", err.msg);
}

Test(yara, a_match_names_rule_meta_tags_and_line) {
        char *p = put("eicar.yar", EICAR_RULE);
        vd_yara *y = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_yara_load(p, &y, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_yara_n_rules(y), 1);
        cr_assert_eq(strlen(vd_yara_digest(y)), 64);
        vd_yara_hits h;
        char *text = NULL;
        cr_assert_geq(asprintf(&text, "first line\nsecond\n%s\n", EICAR), 0);
        match(y, "/home/bob/eicar.com", text, &h);
        cr_assert_eq(h.n, 1);
        cr_assert_str_eq(h.v[0].rule, "eicar");
        cr_assert_str_eq(h.v[0].ns, "default");
        cr_assert_str_eq(h.v[0].tags, "testing,virus");
        cr_assert_str_eq(h.v[0].description, "the EICAR test file");
        cr_assert_str_eq(h.v[0].author, "vmdrift tests");
        cr_assert_eq(h.v[0].severity, VD_SEV_CRITICAL);
        cr_assert_eq(h.v[0].line, 3);
        cr_assert_not(h.v[0].secret);
        vd_yara_hits_release(&h);
        match(y, "/etc/motd", "a benign file\n", &h);
        cr_assert_eq(h.n, 0);
        cr_assert_not(h.timeout);
        vd_yara_hits_release(&h);
        free(text);
        vd_yara_free(y);
        free(p);
}

Test(yara, a_rules_error_names_the_file_and_line) {
        char *p = put("bad.yar", "rule ok { condition: true }\n\nrule broken {\n  condition: $nope }\n");
        vd_yara *y = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_yara_load(p, &y, &err), VD_E_INPUT);
        cr_assert_null(y);
        char *want = NULL;
        cr_assert_geq(asprintf(&want, "%s:4:", p), 0);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
        cr_assert(strstr(err.msg, "$nope"), "%s", err.msg);
        free(want);
        free(p);
        vd_err e2 = VD_ERR_INIT;
        cr_assert_lt(vd_yara_load("/nonexistent/rules.yar", &y, &e2), 0);
        cr_assert(strstr(e2.msg, "/nonexistent/rules.yar"), "%s", e2.msg);
}

Test(yara, a_directory_compiles_each_file_in_its_namespace_and_the_digest_follows_the_rules) {
        char *a = put("a.yar", "rule same { strings: $x = \"alpha\" condition: $x }\n");
        char *b = put("b.yara", "rule same { strings: $x = \"beta\" condition: $x }\n");
        char *ignored = put("notes.txt", "not rules {");
        vd_yara *y = NULL, *y2 = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_yara_load(dir, &y, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_yara_n_rules(y), 2);
        vd_yara_hits h;
        match(y, "/x", "beta", &h);
        cr_assert_eq(h.n, 1);
        cr_assert_str_eq(h.v[0].ns, "b");
        vd_yara_hits_release(&h);
        /* the same rules: the same digest; one string changed: another */
        cr_assert_eq(vd_yara_load(dir, &y2, &err), 0, "%s", err.msg);
        cr_assert_str_eq(vd_yara_digest(y), vd_yara_digest(y2));
        vd_yara_free(y2);
        free(put("b.yara", "rule same { strings: $x = \"gamma\" condition: $x }\n"));
        cr_assert_eq(vd_yara_load(dir, &y2, &err), 0, "%s", err.msg);
        cr_assert_str_neq(vd_yara_digest(y), vd_yara_digest(y2));
        vd_yara_free(y2);
        vd_yara_free(y);
        free(a);
        free(b);
        free(ignored);
}

Test(yara, externals_name_the_file) {
        char *p = put("ext.yar", "rule named { condition: filename == \"id_rsa\" and extension == \"\" and "
                                 "filepath == \"/root/.ssh/id_rsa\" }\n"
                                 "rule ext { condition: extension == \"php\" }\n");
        vd_yara *y = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_yara_load(p, &y, &err), 0, "%s", err.msg);
        vd_yara_hits h;
        match(y, "/root/.ssh/id_rsa", "x", &h);
        cr_assert_eq(h.n, 1);
        cr_assert_str_eq(h.v[0].rule, "named");
        cr_assert_eq(h.v[0].offset, UINT64_MAX); /* no string: no line */
        cr_assert_eq(h.v[0].line, 0);
        vd_yara_hits_release(&h);
        match(y, "/var/www/Shell.PHP", "x", &h);
        cr_assert_eq(h.n, 1);
        cr_assert_str_eq(h.v[0].rule, "ext");
        vd_yara_hits_release(&h);
        vd_yara_free(y);
        free(p);
}

/* A guest's file crafted to make a rule slow stops at the timeout, said. */
Test(yara, a_slow_match_stops_at_its_timeout) {
        char *p = put("slow.yar", "rule slow { condition: for all i in (0..filesize - 1) : "
                                  "(for all j in (0..filesize - 1) : (uint8(i) + uint8(j) >= 0)) }\n");
        vd_yara *y = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_yara_load(p, &y, &err), 0, "%s", err.msg);
        size_t n = 1 << 20;
        char *data = calloc(1, n);
        vd_yara_hits h;
        vd_yara_hits_init(&h);
        cr_assert_eq(vd_yara_match(y, "/x", 2, data, n, 1, &h, &err), 0, "%s", err.msg);
        cr_assert(h.timeout);
        cr_assert_eq(h.n, 0);
        vd_yara_hits_release(&h);
        free(data);
        vd_yara_free(y);
        free(p);
}

/* Each shipped secret rule: its secret matches (a secret event, its line),
 * the look-alike beside it does not. */
Test(yara, the_shipped_secret_rules) {
        vd_yara *y = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_yara_load_secrets(&y, &err), 0, "%s", err.msg);
        static const struct {
                const char *path, *text, *rule; /* rule NULL: nothing matches */
                unsigned line;
        } cases[] = {
                {"/home/bob/key.pem",
                 "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
                 "-----END RSA PRIVATE KEY-----\n",
                 "pem_private_key", 2},
                {"/etc/ssl/x.pem", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+PH1bh\n", "pem_private_key", 1},
                {"/etc/ssl/enc.pem", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A\n",
                 "pem_private_key", 1},
                /* the header text alone: no key */
                {"/etc/ssl/doc.txt", "a key starts with -----BEGIN RSA PRIVATE KEY-----\n(and base64 lines)\n", NULL, 0},
                /* a TLS library's self-test key, in an ELF object: not a credential left on the guest */
                {"/usr/lib/libtls.so",
                 "\x7f" "ELF\x02\x01-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMx\n", NULL, 0},
                {"/etc/ssl/cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", NULL, 0},
                {"/home/bob/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n",
                 "openssh_private_key", 1},
                {"/home/bob/.ssh/id_ed25519.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI bob@h\n", NULL, 0},
                {"/root/.aws/credentials",
                 "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                 "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                 "aws_key_pair", 3},
                {"/etc/app.conf", "key_id = AKIAIOSFODNN7EXAMPLE\n", NULL, 0}, /* an id alone is no key pair */
                {"/etc/profile.d/ci.sh", "export GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n", "github_token", 1},
                {"/etc/x", "see ghp_short for details\n", NULL, 0},
                {"/etc/gitlab.rb", "token: glpat-AbCdEfGhIjKlMnOpQrSt\n", "gitlab_token", 1},
                {"/etc/slack", "hook xoxb-1234567890123-abcdefghijKLMN\n", "slack_token", 1},
                {"/home/bob/.netrc", "machine example.com login bob password hunter22\n", "netrc_password", 1},
                {"/home/bob/notes", "machine example.com login bob password hunter22\n", NULL, 0},
                {"/var/lib/postgresql/.pgpass", "db.example.com:5432:app:app:s3cr3t\n", "pgpass_password", 1},
                {"/home/bob/.kube/config",
                 "apiVersion: v1\nkind: Config\nusers:\n- name: bob\n  user:\n    token: eyJhbGciOiJSUzI1NiIsImtpZCI6Ik\n",
                 "kubeconfig_token", 6},
                {"/etc/kubernetes/admin.yaml", "apiVersion: v1\nkind: Config\nclusters: []\n", NULL, 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                vd_yara_hits h;
                match(y, cases[i].path, cases[i].text, &h);
                if (!cases[i].rule) {
                        cr_assert_eq(h.n, 0, "%s: %s matched", cases[i].path, h.n ? h.v[0].rule : "");
                } else {
                        cr_assert_eq(h.n, 1, "%s: %zu rules", cases[i].path, h.n);
                        cr_assert_str_eq(h.v[0].rule, cases[i].rule);
                        cr_assert(h.v[0].secret, "%s", cases[i].rule);
                        cr_assert_eq(h.v[0].severity, VD_SEV_HIGH);
                        cr_assert_eq(h.v[0].line, cases[i].line, "%s: line %llu", cases[i].rule,
                                     (unsigned long long)h.v[0].line);
                }
                vd_yara_hits_release(&h);
        }
        vd_yara_free(y);
}

/* What persistence names (analyse/vd_detect.c), from a guest's own files:
 * the absolute paths of its lines that are no comments, bounded however
 * the file is made. */
typedef struct names {
        char v[80][128];
        size_t n;
} names;

static int collect(void *ctx, const char *path, size_t len, const char *by) {
        names *n = ctx;
        cr_assert_lt(n->n, 80);
        snprintf(n->v[n->n++], 128, "%.*s <- %s", (int)(len < 100 ? len : 100), path, by);
        return 0;
}

#include "analyse/vd_detect.h"

Test(yara, what_persistence_names) {
        names n = {.n = 0};
        const char cron[] = "# 5 * * * * root /not/this\nSHELL=/bin/sh\n*/5 * * * * root /usr/local/bin/job --x >/dev/null "
                            "2>&1\n@reboot root /opt/a;/opt/b|/opt/c http://example.com//x\n";
        cr_assert_eq(vd_persistence_named_in_text("/etc/cron.d/job", 15, cron, sizeof cron - 1, collect, &n), 0);
        const char *want[] = {"/bin/sh <- /etc/cron.d/job", "/usr/local/bin/job <- /etc/cron.d/job",
                              "/dev/null <- /etc/cron.d/job", "/opt/a <- /etc/cron.d/job", "/opt/b <- /etc/cron.d/job",
                              "/opt/c <- /etc/cron.d/job"};
        cr_assert_eq(n.n, 6);
        for (size_t i = 0; i < 6; i++)
                cr_assert_str_eq(n.v[i], want[i]);
        n.n = 0;
        const char unit[] = "[Service]\nExecStartPre=!/usr/sbin/prep\nExecStart=-@/opt/agent/bin/agentd agentd --c=/etc/a.conf\n";
        cr_assert_eq(vd_persistence_named_in_text("/etc/systemd/system/a.service", 29, unit, sizeof unit - 1, collect, &n), 0);
        cr_assert_eq(n.n, 3, "%zu: %s", n.n, n.v[0]);
        cr_assert_str_eq(n.v[0], "/usr/sbin/prep <- /etc/systemd/system/a.service");
        cr_assert_str_eq(n.v[1], "/opt/agent/bin/agentd <- /etc/systemd/system/a.service");
        cr_assert_str_eq(n.v[2], "/etc/a.conf <- /etc/systemd/system/a.service"); /* an option's path is named too */
        /* not a persistence file: nothing */
        n.n = 0;
        cr_assert_eq(vd_persistence_named_in_text("/etc/motd", 9, cron, sizeof cron - 1, collect, &n), 0);
        cr_assert_eq(n.n, 0);
        /* a guest's file made to be long: one line of 2 MiB of paths, no newline */
        size_t big = 2 << 20;
        char *h = malloc(big);
        for (size_t i = 0; i < big; i++)
                h[i] = i % 4 == 0 ? ' ' : i % 4 == 1 ? '/' : 'x';
        n.n = 0;
        cr_assert_eq(vd_persistence_named_in_text("/etc/rc.local", 13, h, big, collect, &n), 0);
        cr_assert_eq(n.n, VD_PERSISTENCE_NAMED_MAX);
        free(h);
}
