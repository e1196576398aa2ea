/* Configuration parsers: normal files, and what a hostile guest may write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_config.h"

static vd_settings parse(int fmt, const char *text) {
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(fmt, "/f", text, strlen(text), NULL, NULL, &s, &e), 0, "%s", e.msg);
        vd_settings_sort(&s);
        return s;
}

static const char *val(const vd_settings *s, const char *k) {
        const vd_setting *x = vd_settings_find(s, k);
        return x ? x->value : NULL;
}

Test(config, sshd_first_value_wins_and_match_blocks_are_scoped) {
        vd_settings s = parse(VD_CF_SSHD, "# comment\n  PermitRootLogin no\npermitrootlogin yes\n"
                                          "Port 22\nPort 2222\nPasswordAuthentication=no\n"
                                          "Match User bob Address 10.0.0.*\n\tPasswordAuthentication yes\n"
                                          "Match all\nX11Forwarding no\n");
        cr_assert_str_eq(val(&s, "PermitRootLogin"), "no");
        cr_assert_str_eq(val(&s, "Port"), "22, 2222");
        cr_assert_str_eq(val(&s, "PasswordAuthentication"), "no");
        cr_assert_str_eq(val(&s, "Match User bob Address 10.0.0.*/PasswordAuthentication"), "yes");
        cr_assert_str_eq(val(&s, "X11Forwarding"), "no");
        const vd_setting *x = vd_settings_find(&s, "PermitRootLogin");
        cr_assert_eq(x->line, 2);
        vd_settings_release(&s);
}

typedef struct inc_files {
        const char *name[4], *text[4];
        int calls;
} inc_files;

static int inc(void *ctx, const char *pattern, vd_conf_each_fn each, void *ctx2, vd_err *err) {
        inc_files *f = ctx;
        f->calls++;
        for (int i = 0; i < 4 && f->name[i]; i++)
                if (strncmp(pattern, f->name[i], strlen(pattern) - 1) == 0 || strcmp(pattern, f->name[i]) == 0) {
                        int r = each(f->name[i], f->text[i], strlen(f->text[i]), ctx2);
                        if (r < 0)
                                return r;
                }
        return 0;
}

Test(config, sshd_include_is_read_in_place_and_relative_to_etc_ssh) {
        inc_files f = {{"/etc/ssh/sshd_config.d/x.conf"}, {"PermitRootLogin prohibit-password\n"}, 0};
        const char *t = "Include sshd_config.d/*\nPermitRootLogin no\n";
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(VD_CF_SSHD, "/etc/ssh/sshd_config", t, strlen(t), inc, &f, &s, &e), 0);
        vd_settings_sort(&s);
        cr_assert_eq(f.calls, 1);
        const vd_setting *x = vd_settings_find(&s, "PermitRootLogin");
        cr_assert_str_eq(x->value, "prohibit-password");
        cr_assert_str_eq(x->file, "/etc/ssh/sshd_config.d/x.conf");
        vd_settings_release(&s);
}

static int self_include(void *ctx, const char *pattern, vd_conf_each_fn each, void *ctx2, vd_err *err) {
        const char *t = "Include /etc/ssh/loop\n";
        return each("/etc/ssh/loop", t, strlen(t), ctx2);
}

Test(config, an_include_loop_is_cut_with_an_error_not_a_crash) {
        const char *t = "Include /etc/ssh/loop\n";
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(VD_CF_SSHD, "/etc/ssh/sshd_config", t, strlen(t), self_include, NULL, &s, &e),
                     VD_E_LIMIT);
        cr_assert(strstr(e.msg, "nested deeper"), "%s", e.msg);
        vd_settings_release(&s);
}

Test(config, sysctl_later_wins_slashes_are_dots_and_junk_is_skipped) {
        vd_settings s = parse(VD_CF_SYSCTL, "; c\nnet.ipv4.ip_forward = 0\nnet/ipv4/ip_forward=1\n"
                                            "-kernel.kptr_restrict = 2\nno equals sign here\n = empty\n");
        cr_assert_str_eq(val(&s, "net.ipv4.ip_forward"), "1");
        cr_assert_str_eq(val(&s, "kernel.kptr_restrict"), "2");
        cr_assert_eq(s.n, 2);
        vd_settings_release(&s);
}

Test(config, shell_and_login_defs_styles) {
        vd_settings s = parse(VD_CF_SHELL, "export A=1\nB=\"two words\" # c\nC='x\"y'\nD=a\\ b\n"
                                           "PASS_MAX_DAYS\t99999\nbad line without value\nE=\"esc \\\" q\"\n");
        cr_assert_str_eq(val(&s, "A"), "1");
        cr_assert_str_eq(val(&s, "B"), "two words");
        cr_assert_str_eq(val(&s, "C"), "x\"y");
        cr_assert_str_eq(val(&s, "D"), "a b");
        cr_assert_str_eq(val(&s, "PASS_MAX_DAYS"), "99999");
        cr_assert_str_eq(val(&s, "E"), "esc \" q");
        vd_settings_release(&s);
}

Test(config, ini_sections_prefix_keys) {
        vd_settings s = parse(VD_CF_INI, "top = 1\n[main]\ngpgcheck=1\nname: \"x\"\n[repo two]\nenabled = 0\n");
        cr_assert_str_eq(val(&s, "top"), "1");
        cr_assert_str_eq(val(&s, "main.gpgcheck"), "1");
        cr_assert_str_eq(val(&s, "main.name"), "x");
        cr_assert_str_eq(val(&s, "repo two.enabled"), "0");
        vd_settings_release(&s);
}

Test(config, colon_files_never_keep_a_password_hash) {
        vd_settings s = parse(VD_CF_SHADOW, "root:$6$salt$verysecrethash:19000:0:99999:7:::\nbob:!$6$x$y:1::\n"
                                            "nopw::1::\nsvc:*:1::\n");
        cr_assert_str_eq(val(&s, "root.password"), "set");
        cr_assert_str_eq(val(&s, "bob.password"), "locked");
        cr_assert_str_eq(val(&s, "nopw.password"), "empty");
        cr_assert_str_eq(val(&s, "svc.password"), "locked");
        for (size_t i = 0; i < s.n; i++)
                cr_assert_null(strstr(s.v[i].value, "secret"));
        vd_settings_release(&s);
        s = parse(VD_CF_PASSWD, "root:x:0:0:root:/root:/bin/bash\nold:$1$hash:5:5::/:/bin/sh\nshort:x:1\n");
        cr_assert_str_eq(val(&s, "root.uid"), "0");
        cr_assert_str_eq(val(&s, "root.shell"), "/bin/bash");
        cr_assert_null(val(&s, "root.password"));
        cr_assert_str_eq(val(&s, "old.password"), "set");
        cr_assert_null(val(&s, "short.uid"));
        vd_settings_release(&s);
        s = parse(VD_CF_GROUP, "sudo:x:27:alice,bob\n");
        cr_assert_str_eq(val(&s, "sudo.members"), "alice,bob");
        vd_settings_release(&s);
}

Test(config, sudoers_lines_continuations_and_includedir) {
        inc_files f = {{"/etc/sudoers.d/bob", "/etc/sudoers.d/README.txt"}, {"bob ALL=(ALL) NOPASSWD: ALL\n", "x y\n"}, 0};
        const char *t = "Defaults env_reset\n# comment\nroot\tALL=(ALL:ALL) \\\n   ALL\n#includedir /etc/sudoers.d\n";
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(VD_CF_SUDOERS, "/etc/sudoers", t, strlen(t), inc, &f, &s, &e), 0, "%s", e.msg);
        vd_settings_sort(&s);
        cr_assert_not_null(vd_settings_find(&s, "root ALL=(ALL:ALL) ALL"));
        cr_assert_eq(vd_settings_find(&s, "root ALL=(ALL:ALL) ALL")->line, 3);
        cr_assert_not_null(vd_settings_find(&s, "Defaults env_reset"));
        cr_assert_not_null(vd_settings_find(&s, "bob ALL=(ALL) NOPASSWD: ALL"));
        cr_assert_null(vd_settings_find(&s, "x y"), "sudo skips names with a dot");
        cr_assert_eq(s.n, 3);
        vd_settings_release(&s);
}

Test(config, hostile_bytes_lines_and_sizes) {
        /* NUL bytes, invalid UTF-8, a very long key and value, CRLF, no final newline. */
        char big[40000];
        memset(big, 'A', sizeof big);
        memcpy(big, "K", 1);
        big[20000] = '=';
        big[sizeof big - 1] = '\0';
        vd_settings s = parse(VD_CF_SHELL, big);
        cr_assert_leq(s.n, 1);
        vd_settings_release(&s);
        const char nul[] = "A=1\nB=\0x\nC=\xff\xfe\r\n";
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(VD_CF_SHELL, "/f", nul, sizeof nul - 1, NULL, NULL, &s, &e), 0);
        vd_settings_sort(&s);
        cr_assert_str_eq(val(&s, "A"), "1");
        cr_assert_null(val(&s, "B"), "a line with NUL is no setting");
        cr_assert_str_eq(val(&s, "C"), "\xff\xfe");
        vd_settings_release(&s);
}

static void too_many(int fmt, size_t limit) {
        size_t n = limit + 10;
        char *t = malloc(n * 16);
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t)sprintf(t + off, "k%zu=v\n", i);
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(fmt, "/f", t, off, NULL, NULL, &s, &e), VD_E_LIMIT);
        cr_assert(strstr(e.msg, "more than"), "%s", e.msg);
        cr_assert_eq(s.n, limit);
        vd_settings_release(&s);
        free(t);
}

Test(config, too_many_settings_is_an_error_that_keeps_what_was_read) {
        /* every line of a line format is one a detector may need: kept up to
         * the hard bound */
        too_many(VD_CF_LINES, VD_CONF_MAX_KEPT);
        /* overriding formats look each key up: a lower bound keeps that cheap */
        too_many(VD_CF_SYSCTL, VD_CONF_MAX_REPLACED);
        too_many(VD_CF_SHELL, VD_CONF_MAX_REPLACED);
}

Test(config, lines_format_normalises_whitespace) {
        vd_settings s = parse(VD_CF_LINES, "# m h dom mon dow\n*/5  *\t* * *  root  /usr/bin/x\n\nssh-ed25519 AAAA c\n");
        cr_assert_not_null(vd_settings_find(&s, "*/5 * * * * root /usr/bin/x"));
        cr_assert_not_null(vd_settings_find(&s, "ssh-ed25519 AAAA c"));
        cr_assert_eq(s.n, 2);
        vd_settings_release(&s);
}

Test(config, repeated_lines_in_a_huge_file_leave_one_setting_each) {
        /* Past 4096 settings repeats are no longer looked up one by one; the
         * sort must still leave unique keys (the baseline's primary key). */
        size_t n = 6000;
        char *t = malloc(n * 32);
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t)sprintf(t + off, "line %zu\n", i % 5000);
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(VD_CF_LINES, "/f", t, off, NULL, NULL, &s, &e), 0, "%s", e.msg);
        vd_settings_sort(&s);
        cr_assert_eq(s.n, 5000);
        for (size_t i = 1; i < s.n; i++)
                cr_assert_lt(strcmp(s.v[i - 1].key, s.v[i].key), 0);
        cr_assert_eq(vd_settings_find(&s, "line 10")->line, 11, "the first appearance is kept");
        vd_settings_release(&s);
        free(t);
}

Test(config, a_long_line_is_kept_under_a_unique_key_and_the_lines_after_it_too) {
        char *t = malloc(8192);
        memset(t, 'A', 3000);
        memcpy(t, "ssh-rsa ", 8);
        strcpy(t + 3000, " one\n");
        size_t n = strlen(t);
        memcpy(t + n, t, n); /* the same 3000 bytes, another ending */
        strcpy(t + 2 * n - 5, " two\nssh-ed25519 AAAAC3admin admin@corp\n");
        vd_settings s = parse(VD_CF_LINES, t);
        cr_assert_eq(s.n, 3, "two long lines that share 3000 bytes stay two keys");
        cr_assert_not_null(vd_settings_find(&s, "ssh-ed25519 AAAAC3admin admin@corp"));
        for (size_t i = 0; i < s.n; i++)
                cr_assert_leq(strlen(s.v[i].key), VD_CONF_KEY_MAX + 128);
        vd_settings_release(&s);
        free(t);
}

Test(config, past_the_settings_limit_uid0_accounts_are_still_kept) {
        size_t cap = 30000 * 48, off = 0;
        char *t = malloc(cap);
        for (int i = 0; i < 30000; i++)
                off += (size_t)snprintf(t + off, cap - off, "u%d:x:%d:%d::/:/bin/sh\n", i, 1000 + i, 1000 + i);
        off += (size_t)snprintf(t + off, cap - off, "evil:x:+0:0::/root:/bin/bash\n");
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_conf_parse(VD_CF_PASSWD, "/etc/passwd", t, off, NULL, NULL, &s, &e), 0, "%s", e.msg);
        cr_assert(s.partial);
        cr_assert_gt(s.dropped, 0);
        vd_settings_sort(&s);
        cr_assert_str_eq(vd_settings_find(&s, "evil.uid")->value, "+0");
        cr_assert_not_null(vd_settings_find(&s, "evil.shell"));
        cr_assert_not_null(vd_settings_find(&s, "u0.uid"), "what fits is kept");
        cr_assert_null(vd_settings_find(&s, "u29999.uid"), "what does not fit and matters to no detector is not");
        vd_settings_release(&s);
        free(t);
}

Test(config, ids_that_read_as_zero) {
        cr_assert(vd_conf_id_is_zero("0", 1));
        cr_assert(vd_conf_id_is_zero("000", 3));
        cr_assert(vd_conf_id_is_zero("+0", 2));
        cr_assert(vd_conf_id_is_zero(" 0", 2));
        cr_assert_not(vd_conf_id_is_zero("", 0));
        cr_assert_not(vd_conf_id_is_zero("+", 1));
        cr_assert_not(vd_conf_id_is_zero("01", 2));
        cr_assert_not(vd_conf_id_is_zero("0x0", 3));
}

static int record_pattern(void *ctx, const char *pattern, vd_conf_each_fn each, void *ctx2, vd_err *err) {
        snprintf(ctx, 256, "%s", pattern);
        return 0;
}

Test(config, include_paths_are_resolved_inside_the_guest_root) {
        char got[256] = "";
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        const char *t = "Include ../../var/tmp/x.conf\n";
        cr_assert_eq(vd_conf_parse(VD_CF_SSHD, "/etc/ssh/sshd_config", t, strlen(t), record_pattern, got, &s, &e), 0);
        cr_assert_str_eq(got, "/var/tmp/x.conf");
        t = "Include ../../../../../../etc/./ssh//y.conf\n";
        cr_assert_eq(vd_conf_parse(VD_CF_SSHD, "/etc/ssh/sshd_config", t, strlen(t), record_pattern, got, &s, &e), 0);
        cr_assert_str_eq(got, "/etc/ssh/y.conf", "'..' at the root stays at the root");
        t = "@includedir /etc/../opt/x\n";
        cr_assert_eq(vd_conf_parse(VD_CF_SUDOERS, "/etc/sudoers", t, strlen(t), record_pattern, got, &s, &e), 0);
        cr_assert_str_eq(got, "/opt/x/*");
        vd_settings_release(&s);
}

/* vd_config_files: the batch a scan reads with its walk, guessed from the
 * baseline's entries: the files the policy names, symlinks followed inside
 * the tree, each once, and nothing for a file the entries do not have. */
#include "analyse/vd_confscan.h"

static vd_entry *entry(vd_entries *es, const char *path, int type, const char *target) {
        vd_entry *e = vd_entry_new();
        cr_assert(e);
        vd_entry_set_path(e, path, strlen(path));
        e->type = (uint8_t)type;
        e->mode = type == VD_T_DIR ? 0755 : type == VD_T_LNK ? 0777 : 0644;
        if (target) {
                e->target = strdup(target);
                e->target_len = strlen(target);
        }
        vd_entries_push(es, e);
        return e;
}

Test(config, the_read_ahead_guess_follows_symlinks_inside_the_tree) {
        vd_entries es;
        vd_entries_init(&es);
        entry(&es, "/etc", VD_T_DIR, NULL);
        entry(&es, "/etc/passwd", VD_T_LNK, "passwd.local");
        entry(&es, "/etc/passwd.local", VD_T_REG, NULL);
        entry(&es, "/etc/cron.d", VD_T_DIR, NULL);
        entry(&es, "/etc/cron.d/job", VD_T_REG, NULL); /* a glob's match */
        entry(&es, "/etc/cron.d/sub", VD_T_DIR, NULL);
        entry(&es, "/root", VD_T_DIR, NULL);
        entry(&es, "/root/.ssh", VD_T_DIR, NULL);
        entry(&es, "/root/.ssh/authorized_keys", VD_T_LNK, "/etc/keys"); /* absolute: inside the tree */
        entry(&es, "/etc/keys", VD_T_REG, NULL);
        entry(&es, "/etc/sudoers", VD_T_LNK, "../../../../etc/shadow"); /* dangling inside the tree */
        vd_entries_sort(&es);
        vd_policy *p = NULL;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        char **paths = NULL;
        size_t n = 0;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_config_files(&es, p, &paths, &n, &err), 0, "%s", err.msg);
        bool passwd = false, local = false, job = false, keys = false;
        for (size_t i = 0; i < n; i++) {
                passwd |= strcmp(paths[i], "/etc/passwd") == 0;
                local |= strcmp(paths[i], "/etc/passwd.local") == 0;
                job |= strcmp(paths[i], "/etc/cron.d/job") == 0;
                keys |= strcmp(paths[i], "/etc/keys") == 0;
                cr_assert(strcmp(paths[i], "/etc/cron.d/sub") != 0, "a directory asked for");
                cr_assert(strcmp(paths[i], "/etc/sudoers") != 0 && strcmp(paths[i], "/etc/shadow") != 0,
                          "%s: not a regular file of the tree", paths[i]);
                for (size_t k = 0; k < i; k++)
                        cr_assert_str_neq(paths[i], paths[k], "asked twice");
        }
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        free(paths);
        cr_assert(local && !passwd, "the symlink's target, not the symlink");
        cr_assert(job && keys);
        vd_policy_free(p);
        vd_entries_release(&es);
}

/* The globs of the configuration the walker expands after its walk, so that
 * a file new since the baseline (a cron job) is read in the same pass: the
 * detectors' patterns, each once, no literal path. */
Test(config, the_read_ahead_globs_are_the_patterns_and_only_them) {
        vd_policy *p = NULL;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        const char **g = NULL;
        size_t n = 0;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_config_globs(p, &g, &n, &err), 0, "%s", err.msg);
        bool cron = false;
        for (size_t i = 0; i < n; i++) {
                cron |= strcmp(g[i], "/etc/cron.d/*") == 0;
                cr_assert(strpbrk(g[i], "*?["), "%s: not a glob", g[i]);
                cr_assert_eq(g[i][0], '/');
                for (size_t k = 0; k < i; k++)
                        cr_assert_str_neq(g[i], g[k], "given twice");
        }
        cr_assert(cron, "the persistence detector's cron directory");
        free(g);
        vd_policy_free(p);
}
