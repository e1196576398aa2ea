#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/vd_policy.h"

Test(policy, attribute_lists_parse_and_unknown_names_are_named) {
        uint32_t m;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_attrs_parse("ctime,inode", &m, &e), 0);
        cr_assert_eq(m, VD_A_CTIME | VD_A_INODE);
        cr_assert_eq(vd_attrs_parse("owner", &m, &e), 0);
        cr_assert_eq(m, VD_A_UID | VD_A_GID);
        cr_assert_eq(vd_attrs_parse("ctime,shaa256", &m, &e), VD_E_USAGE);
        cr_assert(strstr(e.msg, "unknown attribute 'shaa256'"), "%s", e.msg);
}

Test(policy, severities_round_trip) {
        for (int s = VD_SEV_INFO; s <= VD_SEV_CRITICAL; s++)
                cr_assert_eq(vd_severity_from_name(vd_severity_name(s)), s);
        cr_assert_eq(vd_severity_from_name("urgent"), -1);
}

Test(policy, default_rule_turns_off_directory_noise) {
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        const vd_rule *r = vd_policy_match(p, "/etc", 4, 2);
        cr_assert(r->attrs & VD_A_MTIME);
        cr_assert_not(r->dir_attrs & VD_A_MTIME);
        cr_assert_not(r->dir_attrs & VD_A_NLINK);
        cr_assert(r->dir_attrs & VD_A_MODE);
        vd_policy_ignore(p, VD_A_CTIME);
        cr_assert_not(vd_policy_match(p, "/x", 2, 1)->attrs & VD_A_CTIME);
        vd_policy_free(p);
}

Test(policy, canonical_form_changes_with_ignored_attributes) {
        vd_policy *p;
        vd_policy_new_default(&p, NULL);
        vd_buf a, b;
        vd_buf_init(&a, 0);
        vd_buf_init(&b, 0);
        vd_policy_canonical(p, &a);
        vd_policy_ignore(p, VD_A_INODE);
        vd_policy_canonical(p, &b);
        cr_assert_str_neq(a.buf, b.buf);
        vd_buf_release(&a);
        vd_buf_release(&b);
        vd_policy_free(p);
}

/* ---- YAML policies ---- */

static vd_policy *load(const char *y) {
        vd_policy *p = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_policy_parse("p.yaml", y, strlen(y), &p, &e), 0, "%s", e.msg);
        return p;
}

static const char *load_err(const char *y) {
        static vd_err e;
        vd_err_clear(&e);
        vd_policy *p = NULL;
        cr_assert_eq(vd_policy_parse("p.yaml", y, strlen(y), &p, &e), VD_E_INPUT, "accepted:\n%s", y);
        cr_assert_null(p);
        return e.msg;
}

Test(policy_yaml, every_error_names_line_column_and_what_was_expected) {
        cr_assert_str_eq(load_err("version: 1\nrules:\n  - name: a\n    paths: /etc/**\n    sevrity: high\n"),
                         "p.yaml:5:5: unknown key 'sevrity' in a rule (expected one of: name, paths, exclude, kind, "
                         "attrs, severity, owner, group, mode)");
        cr_assert(strstr(load_err("rules:\n  - name: a\n    paths: [/etc]\n    severity: urgent\n"),
                         "p.yaml:4:15: expected a severity (info, low, medium, high, critical), got 'urgent'"));
        cr_assert(strstr(load_err("rules:\n  - name: a\n    paths: [etc/x]\n"), "p.yaml:3:13: expected an absolute path"));
        cr_assert(strstr(load_err("rules:\n  - name: a\n    paths: [/x]\n    attrs: perms+sha1\n"),
                         "p.yaml:4:12: unknown attribute or group 'sha1'"));
        cr_assert(strstr(load_err("rules: [\n"), "p.yaml:2:1:"));
        cr_assert(strstr(load_err("colour: red\n"), "p.yaml:1:1: unknown key 'colour' in the policy"));
        cr_assert(strstr(load_err("version: 2\n"), "p.yaml:1:10: expected version 1"));
        cr_assert(strstr(load_err("rules:\n  - paths: [/x]\n"), "p.yaml:2:5: expected a 'name'"));
        cr_assert(strstr(load_err("rules:\n  - {name: a, paths: [/x]}\n  - {name: a, paths: [/y]}\n"),
                         "a second rule named 'a' (the first is on line 2)"));
        cr_assert(strstr(load_err("config:\n  - path: /etc/x\n    format: toml\n"), "p.yaml:3:13: expected a format"));
        cr_assert(strstr(load_err("config:\n  - path: /etc/x\n    format: sshd\n    match: {A: \"(\"}\n"),
                         "p.yaml:4:13: expected a POSIX extended regular expression for 'A'"));
        cr_assert(strstr(load_err("detectors:\n  setuid: maybe\n"), "p.yaml:2:11: expected a detector switch"));
        cr_assert(strstr(load_err("detectors:\n  rootkit: true\n"), "unknown key 'rootkit' in detectors"));
        cr_assert(strstr(load_err("rules:\n  - {name: a, paths: [/x], mode: \"0644\"}\n"), "need kind: per-clone"));
        cr_assert(strstr(load_err("rules:\n  - {name: a, paths: [/x/**y]}\n"), "whole path component"));
        cr_assert(strstr(load_err("version: 1\nversion: 1\n"), "p.yaml:2:1: duplicate key 'version'"));
        cr_assert(strstr(load_err(""), "p.yaml:1:1: expected the policy (a mapping)"), "%s", load_err(""));
        cr_assert(strstr(load_err("- a\n"), "expected the policy (a mapping), got a list"));
        cr_assert(strstr(load_err("a: 1\n---\nb: 2\n"), "more than one"));
}

Test(policy_yaml, aliases_are_refused_so_no_billion_laughs) {
        cr_assert(strstr(load_err("groups:\n  a: &x perms\n  b: *x\n"), "aliases"));
        cr_assert(strstr(load_err("rules:\n  - &r {name: a, paths: [/x]}\n  - *r\n"), "aliases"));
}

Test(policy_yaml, first_matching_rule_wins_and_excludes_fall_through) {
        vd_policy *p = load("rules:\n"
                            "  - {name: keys, paths: [/etc/ssh/ssh_host_*_key], kind: per-clone, severity: high}\n"
                            "  - {name: ssh, paths: [/etc/ssh/**], exclude: [/etc/ssh/moduli], severity: high}\n"
                            "  - {name: etc, paths: [/etc/**], severity: medium}\n");
        cr_assert_str_eq(vd_policy_match(p, "/etc/ssh/ssh_host_rsa_key", 25, 1)->name, "keys");
        cr_assert_str_eq(vd_policy_match(p, "/etc/ssh/ssh_host_rsa_key.pub", 29, 1)->name, "ssh");
        cr_assert_str_eq(vd_policy_match(p, "/etc/ssh", 8, 2)->name, "ssh", "** matches zero components");
        cr_assert_str_eq(vd_policy_match(p, "/etc/ssh/moduli", 15, 1)->name, "etc");
        cr_assert_str_eq(vd_policy_match(p, "/etcetera", 9, 1)->name, "default");
        cr_assert_str_eq(vd_policy_match(p, "/", 1, 2)->name, "default");
        cr_assert_eq(vd_policy_match(p, "/etc/passwd", 11, 1)->severity, VD_SEV_MEDIUM);
        vd_policy_free(p);
}

Test(policy_yaml, globs) {
        cr_assert(vd_glob_match("/var/**/x", "/var/x", 6));
        cr_assert(vd_glob_match("/var/**/x", "/var/a/b/x", 10));
        cr_assert_not(vd_glob_match("/var/**/x", "/var/a/b/xy", 11));
        cr_assert(vd_glob_match("/home/*/.ssh/authorized_keys", "/home/bob/.ssh/authorized_keys", 30));
        cr_assert_not(vd_glob_match("/home/*/.ssh/authorized_keys", "/home/a/b/.ssh/authorized_keys", 30));
        cr_assert(vd_glob_match("/etc/cron.[dh]*/**", "/etc/cron.daily/x", 17));
        cr_assert_not(vd_glob_match("/etc/[!c]*", "/etc/cron", 9));
        cr_assert(vd_glob_match("/a\\*b", "/a*b", 4));
        cr_assert_not(vd_glob_match("/a\\*b", "/axb", 4));
        cr_assert(vd_glob_match("/x/[", "/x/[", 4), "an unclosed class is a literal '['");
        cr_assert(vd_glob_match("/**", "/", 1));
        /* raw bytes and newlines in a path are just bytes */
        cr_assert(vd_glob_match("/tmp/*", "/tmp/a\nb\xff", 9));
}

Test(policy_yaml, kinds_shape_the_attributes) {
        vd_policy *p = load("groups:\n  mine: perms+content-xattrs\n"
                            "default: {attrs: all-inode-ctime}\n"
                            "rules:\n"
                            "  - {name: v, paths: [/var/log/**], kind: volatile}\n"
                            "  - {name: g, paths: [/h], kind: growing}\n"
                            "  - {name: c, paths: [/k], kind: per-clone, owner: root, group: 0, mode: \"0600\"}\n"
                            "  - {name: m, paths: [/m], attrs: [mine, +mtime]}\n");
        const vd_rule *v = vd_policy_match(p, "/var/log/syslog", 15, 1);
        cr_assert_eq(v->kind, VD_K_VOLATILE);
        cr_assert_not(v->attrs & (VD_A_HASH | VD_A_SIZE | VD_A_MTIME | VD_A_CTIME));
        cr_assert(v->attrs & VD_A_MODE);
        cr_assert(v->attrs & VD_A_UID);
        const vd_rule *g = vd_policy_match(p, "/h", 2, 1);
        cr_assert_eq(g->kind, VD_K_GROWING);
        const vd_rule *c = vd_policy_match(p, "/k", 2, 1);
        cr_assert_eq(c->kind, VD_K_PER_CLONE);
        cr_assert(c->has_mode && c->mode == 0600);
        cr_assert_str_eq(c->user, "root");
        cr_assert(c->has_gid && c->gid == 0);
        const vd_rule *m = vd_policy_match(p, "/m", 2, 1);
        cr_assert_eq(m->attrs, (VD_A_TYPE | VD_A_MODE | VD_A_UID | VD_A_GID | VD_A_TARGET | VD_A_RDEV | VD_A_HASH |
                                VD_A_SIZE | VD_A_MTIME));
        const vd_rule *d = vd_policy_match(p, "/other", 6, 1);
        cr_assert_not(d->attrs & (VD_A_INODE | VD_A_CTIME));
        vd_policy_free(p);
}

Test(policy_yaml, the_digest_follows_meaning_not_formatting) {
        vd_policy *a = load("rules:\n  - name: a\n    paths: [/x]\n    severity: high\n");
        vd_policy *b = load("# comment\nrules: [{name: a, paths: /x, severity: high}]\n");
        vd_policy *c = load("rules: [{name: a, paths: /x, severity: low}]\n");
        vd_buf x, y, z;
        vd_buf_init(&x, 0);
        vd_buf_init(&y, 0);
        vd_buf_init(&z, 0);
        vd_policy_canonical(a, &x);
        vd_policy_canonical(b, &y);
        vd_policy_canonical(c, &z);
        cr_assert_eq(x.len, y.len);
        cr_assert_eq(memcmp(x.buf, y.buf, x.len), 0);
        cr_assert(x.len != z.len || memcmp(x.buf, z.buf, x.len) != 0);
        vd_buf_release(&x);
        vd_buf_release(&y);
        vd_buf_release(&z);
        vd_policy_free(a);
        vd_policy_free(b);
        vd_policy_free(c);
}

static int count_violation(void *ctx, const vd_conf_item *it, const vd_check *c, const vd_setting *s,
                           const char *msg) {
        vd_buf *b = ctx;
        return vd_buf_addf(b, "%s:%s;", c->key, msg);
}

Test(policy_yaml, desired_state_checks) {
        vd_policy *p = load("config:\n  - path: /etc/ssh/sshd_config\n    format: sshd\n"
                            "    expect: {PermitRootLogin: \"no\", UsePAM: \"yes\"}\n"
                            "    forbid: {PermitEmptyPasswords: \"yes\"}\n"
                            "    match: {Ciphers: \"^aes\"}\n"
                            "  - path: /etc/x\n    format: shell\n    forbid: [DEBUG]\n    secret: [TOKEN*]\n"
                            "detectors:\n  setuid: false\n  sudo: {severity: critical, exclude: [/etc/sudoers]}\n");
        const vd_conf_item *items;
        size_t n = vd_policy_conf_items(p, &items);
        cr_assert_geq(n, 2);
        vd_settings s;
        vd_settings_init(&s);
        vd_settings_put(&s, "permitrootlogin", 15, "No", 2, "/f", 1, false, true);
        vd_settings_put(&s, "PermitEmptyPasswords", 20, "yes", 3, "/f", 2, false, true);
        vd_settings_put(&s, "Ciphers", 7, "chacha20", 8, "/f", 3, false, true);
        vd_settings_sort(&s);
        vd_buf out;
        vd_buf_init(&out, 0);
        cr_assert_eq(vd_conf_check(&items[0], &s, count_violation, &out), 0);
        cr_assert_str_eq(out.buf, "UsePAM:not set; expected \"yes\";PermitEmptyPasswords:forbidden value;"
                                  "Ciphers:does not match /^aes/;");
        vd_settings_release(&s);
        vd_settings_init(&s);
        vd_settings_put(&s, "DEBUG", 5, "0", 1, "/f", 1, false, false);
        vd_buf_reset(&out);
        cr_assert_eq(vd_conf_check(&items[1], &s, count_violation, &out), 0);
        cr_assert_str_eq(out.buf, "DEBUG:forbidden setting;");
        cr_assert(vd_conf_item_secret(&items[1], "TOKEN_A"));
        cr_assert_not(vd_conf_item_secret(&items[1], "DEBUG"));
        vd_settings_release(&s);
        vd_buf_release(&out);
        cr_assert_not(vd_policy_detector_on(p, VD_D_SETUID, "/x", 2));
        cr_assert(vd_policy_detector_on(p, VD_D_SUDO, "/etc/sudoers.d/x", 16));
        cr_assert_not(vd_policy_detector_on(p, VD_D_SUDO, "/etc/sudoers", 12));
        cr_assert_eq(vd_policy_detector_severity(p, VD_D_SUDO), VD_SEV_CRITICAL);
        vd_policy_free(p);
}

Test(policy_yaml, the_example_policies_load) {
        const char *names[] = {"debian.yaml", "rhel.yaml", "strict.yaml"};
        for (size_t i = 0; i < 3; i++) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", VD_EXAMPLES "/policies", names[i]);
                vd_policy *p = NULL;
                vd_err e = VD_ERR_INIT;
                cr_assert_eq(vd_policy_load(path, &p, &e), 0, "%s", e.msg);
                cr_assert_gt(vd_policy_n_rules(p), 5);
                vd_policy_free(p);
        }
}

Test(policy_yaml, the_rule_index_decides_exactly_as_a_linear_walk) {
        /* Rules rooted at "/", at ancestors, at the path itself, literal and
         * glob, with excludes: the indexed lookup must pick the first rule in
         * file order that a linear walk over vd_glob_match would pick. */
        static const struct {
                const char *inc, *exc;
        } rules[] = {
                {"/usr/share/doc/*/changelog*", NULL}, {"/**/*.pyc", "/usr/lib/python3/x.pyc"},
                {"/usr/lib/**", "/usr/lib/debug/**"}, {"/usr/**/doc/**", NULL},
                {"/etc/passwd", NULL},                 {"/etc/*", "/etc/shadow"},
                {"/**", "/tmp/**"},
        };
        vd_buf y;
        vd_buf_init(&y, 0);
        vd_buf_adds(&y, "rules:\n");
        for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
                vd_buf_addf(&y, "  - {name: r%zu, paths: [\"%s\"]", i, rules[i].inc);
                if (rules[i].exc)
                        vd_buf_addf(&y, ", exclude: [\"%s\"]", rules[i].exc);
                vd_buf_adds(&y, "}\n");
        }
        vd_policy *p = load(y.buf);
        static const char *const paths[] = {
                "/", "/usr", "/usr/share/doc/bash/changelog.gz", "/usr/share/doc/bash/copyright", "/usr/lib/python3/x.pyc",
                "/usr/lib/python3/y.pyc", "/usr/lib/debug/a", "/usr/lib/debug", "/usr/local/doc", "/usr/local/doc/x",
                "/etc/passwd", "/etc/shadow", "/etc/passwd/x", "/etc", "/tmp/a.pyc", "/tmp/b", "/x.pyc", "/usr/lib",
                "/usr/libx/a", "/etc/passwdx"};
        for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
                const char *path = paths[k];
                size_t len = strlen(path);
                char want[16] = "default";
                for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
                        if (vd_glob_match(rules[i].inc, path, len) &&
                            !(rules[i].exc && vd_glob_match(rules[i].exc, path, len))) {
                                snprintf(want, sizeof want, "r%zu", i);
                                break;
                        }
                cr_assert_str_eq(vd_policy_match(p, path, len, 1)->name, want, "%s", path);
        }
        vd_policy_free(p);
        vd_buf_release(&y);
}

static void count_shadow(void *ctx, const char *rule, uint32_t line, const char *by, uint32_t by_line) {
        vd_buf *b = ctx;
        vd_buf_addf(b, "%s@%u<%s@%u;", rule, line, by, by_line);
}

Test(policy_yaml, rules_an_earlier_rule_hides_are_named) {
        vd_policy *p = load("rules:\n"
                            "  - {name: logs, paths: [/var/log/**]}\n"
                            "  - {name: journal, paths: [/var/log/journal/**], kind: ignore}\n"
                            "  - {name: wtmp, paths: [/var/log/wtmp]}\n"
                            "  - {name: tmp, paths: [/tmp/**], exclude: [/tmp/keep]}\n"
                            "  - {name: tmpx, paths: [/tmp/x/**]}\n"
                            "  - {name: ok, paths: [/var/lib/**, /var/log/x]}\n"
                            "  - {name: etc, paths: [/etc/*]}\n"
                            "  - {name: etcssh, paths: [/etc/ssh/**]}\n");
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_policy_shadowed(p, count_shadow, &b);
        cr_assert_str_eq(b.buf, "journal@3<logs@2;wtmp@4<logs@2;", "an exclude or a partial overlap is not shadowing");
        vd_buf_release(&b);
        vd_policy_free(p);
        /* and the examples have none */
        const char *names[] = {"debian.yaml", "rhel.yaml", "strict.yaml"};
        for (size_t i = 0; i < 3; i++) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", VD_EXAMPLES "/policies", names[i]);
                vd_err e = VD_ERR_INIT;
                cr_assert_eq(vd_policy_load(path, &p, &e), 0, "%s", e.msg);
                vd_buf_init(&b, 0);
                vd_policy_shadowed(p, count_shadow, &b);
                cr_assert_eq(b.len, 0, "%s: %s", names[i], b.buf);
                vd_buf_release(&b);
                vd_policy_free(p);
        }
}

Test(policy, deep_nesting_is_refused_quickly_with_its_position) {
        size_t n = 100000;
        char *t = malloc(2 * n + 32);
        size_t off = (size_t)sprintf(t, "rules: ");
        memset(t + off, '[', n);
        memset(t + off + n, ']', n);
        t[off + 2 * n] = '\n';
        vd_policy *p = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_policy_parse("deep.yaml", t, off + 2 * n + 1, &p, &e), VD_E_INPUT);
        cr_assert(strstr(e.msg, "deep.yaml:1:71: nested deeper than 64 levels"), "%s", e.msg);
        cr_assert_null(p);
        free(t);
}
