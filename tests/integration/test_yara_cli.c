/* YARA on what changed, through the real vmdrift binary on directory trees
 * (the guest's side, host hashing and the delta scan: test_delta_guest):
 * planted malware and secrets found by their rules in every sink and never
 * printed, only what changed matched unless --yara-all, and each bound
 * (max_file, max_total, timeout) reported, never silencing a match it
 * could make. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define A "\x1f"

static char *work, *tmpl, *clone;

static const char EICAR[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static const char AWS_ID[] = "AKIAIOSFODNN7EXAMPLE", AWS_SECRET[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
static const char PEM_BODY[] = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
static const char EICAR_RULE[] = "rule eicar : testing virus {\n"
                                 "  meta:\n    description = \"the EICAR test file\"\n    author = \"vmdrift tests\"\n"
                                 "    reference = \"https://www.eicar.org/\"\n    severity = \"critical\"\n"
                                 "  strings:\n    $e = \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\"\n"
                                 "  condition:\n    $e\n}\n"
                                 "rule no_meta { strings: $w = \"webshell-marker-7b1\" condition: $w }\n";

/* run argv, its output dropped */
static void run(const char *const argv[]) {
        th_run r = th_exec(argv);
        cr_assert_eq(r.status, 0, "%s: %s", argv[0], r.err);
        th_run_free(&r);
}

static void random_file(const char *dir, const char *rel, size_t n, const char *plant, size_t at) {
        unsigned char *b = malloc(n);
        srandom(42);
        for (size_t i = 0; i < n; i++)
                b[i] = (unsigned char)(random() & 0x7f) | 0x80; /* no ASCII: nothing a rule could read as text */
        if (plant)
                memcpy(b + at, plant, strlen(plant));
        th_writen(dir, rel, b, n);
        free(b);
}

static void setup(void) {
        work = th_mkdtemp();
        tmpl = th_join(work, "tmpl");
        clone = th_join(work, "clone");
        th_write(tmpl, "etc/app.conf", "# the application\nlisten = 8080\nlog = /var/log/app.log\n");
        th_write(tmpl, "etc/hostname", "template\n");
        th_write(tmpl, "etc/ssh/sshd_config", "PermitRootLogin no\nPasswordAuthentication no\n");
        th_write(tmpl, "usr/bin/tool", "#!/bin/sh\necho tool\n");
        th_write(tmpl, "home/bob/.profile", "export PATH\n");
        th_write(tmpl, "home/bob/.kube/config", "apiVersion: v1\nkind: Config\nclusters: []\n");
        random_file(tmpl, "srv/data.bin", 300000, NULL, 0);
        th_write(work, "rules/eicar.yar", EICAR_RULE);
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/t.vdb" A "--policy" A VD_EXAMPLES
                              "/policies/debian.yaml",
                              tmpl, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* the clone: the template and what was planted */
        run((const char *const[]){"cp", "-a", tmpl, clone, NULL});
        char eicar[256];
        snprintf(eicar, sizeof eicar, "#!/bin/sh\n# dropped\n%s\n", EICAR);
        th_write(clone, "usr/local/bin/update", eicar);
        char pem[512];
        snprintf(pem, sizeof pem, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", PEM_BODY);
        th_write(clone, "home/bob/.ssh/deploy_key", pem);
        char conf[512];
        snprintf(conf, sizeof conf, "# the application\nlisten = 8080\nlog = /var/log/app.log\n"
                                    "aws_access_key_id = %s\naws_secret_access_key = %s\n",
                 AWS_ID, AWS_SECRET);
        th_write(clone, "etc/app.conf", conf);
        random_file(clone, "srv/big-benign.bin", 3000000, NULL, 0);
        th_write(clone, "var/www/shell.php", "<?php // webshell-marker-7b1\n");
}

static void teardown(void) {
        th_rmtree(work);
        free(work);
        free(tmpl);
        free(clone);
}

TestSuite(yara, .init = setup, .fini = teardown);

static th_run scan(const char *dir, const char *extra, const char *policy) {
        return th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t.vdb" A "--policy" A "%s" A "--yara" A
                          "%s/rules%s",
                          dir, work, policy, work, extra);
}

static bool secret_free(const char *s) {
        return !strstr(s, AWS_SECRET) && !strstr(s, AWS_ID) && !strstr(s, PEM_BODY) && !strstr(s, "-----BEGIN");
}

static char *slurp(const char *rel) {
        th_run r = th_exec((const char *const[]){"cat", th_path(work, rel), NULL});
        char *s = strdup(r.out);
        th_run_free(&r);
        return s;
}

Test(yara, planted_malware_and_secrets_by_their_rules_in_every_sink_never_their_bytes) {
        th_run r;
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t.vdb" A "--policy" A "%s" A "--yara" A "%s/rules" A
                       "--report" A "text" A "--report" A "json:%s/out.json" A "--report" A "ecs:%s/out.ecs" A
                       "--report" A "ocsf:%s/out.ocsf",
                       clone, work, VD_EXAMPLES "/policies/debian.yaml", work, work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        const char *o = r.out;
        /* the text report: its own sections, the rule, the secret's line */
        cr_assert(strstr(o, "\nMalware (2)\n  critical  /usr/local/bin/update line 3\n"
                            "                rule eicar:eicar [testing,virus]: the EICAR test file\n"
                            "                author vmdrift tests\n                reference https://www.eicar.org/\n"),
                  "%s", o);
        cr_assert(strstr(o, "  high      /var/www/shell.php line 1\n                rule eicar:no_meta\n"), "%s", o);
        cr_assert(strstr(o, "\nSecrets (2)\n"), "%s", o);
        cr_assert(strstr(o, "  high      /etc/app.conf line 5\n                rule secrets:aws_key_pair [secret]: "
                            "an AWS access key id with a secret access key beside it\n"),
                  "%s", o);
        cr_assert(strstr(o, "  high      /home/bob/.ssh/deploy_key line 1\n                rule secrets:pem_private_key"),
                  "%s", o);
        cr_assert(strstr(o, ", 2 malware, 2 secrets\n"), "%s", o);
        /* what was matched: the four added or changed files and the large benign one, nothing else */
        cr_assert(strstr(o, "YARA: matched 5 files ("), "%s", o);
        cr_assert_null(strstr(o, "big-benign.bin line"), "%s", o);
        cr_assert(secret_free(o), "a secret in the text report: %s", o);
        th_run_free(&r);
        char *js = slurp("out.json"), *ecs = slurp("out.ecs"), *ocsf = slurp("out.ocsf");
        cr_assert_eq(th_lines_with(js, "\"change\":\"secret\"", "\"path\":\"/etc/app.conf\"",
                                   "\"yara.rule\":{\"old\":null,\"new\":\"aws_key_pair\"}", "\"line\":{\"old\":null,\"new\":5}",
                                   NULL),
                     1, "%s", js);
        cr_assert(strstr(js, "\"malware\":2,\"secrets\":2,") && strstr(js, "\"yara\":{\"files\":5,"), "%s", js);
        cr_assert_eq(th_lines_with(ecs, "\"category\":[\"malware\",\"file\"]", "\"action\":\"malware\"",
                                   "\"threat\":{\"indicator\":{\"type\":\"file\"", NULL),
                     2, "%s", ecs);
        cr_assert_eq(th_lines_with(ecs, "\"rule\":{\"name\":\"eicar\",\"ruleset\":\"eicar\",\"description\":\"the EICAR "
                                   "test file\",\"author\":[\"vmdrift tests\"]", NULL),
                     1, "%s", ecs);
        cr_assert_eq(th_lines_with(ecs, "\"category\":[\"intrusion_detection\",\"file\"]", "\"action\":\"secret\"", NULL),
                     2, "%s", ecs);
        cr_assert_eq(th_lines_with(ocsf, "\"class_uid\":2004", "\"analytic\":{\"type_id\":1,\"type\":\"Rule\",\"name\":\"eicar\"",
                                   "\"malware\":[{\"name\":\"eicar\",\"classification_ids\":[19]", NULL),
                     1, "%s", ocsf);
        const char *all[] = {js, ecs, ocsf};
        for (int i = 0; i < 3; i++)
                cr_assert(secret_free(all[i]), "a secret in a report: %s", all[i]);
        /* ECS and OCSF: valid against their definitions */
        r = th_exec((const char *const[]){"python3", VD_ECS "/validate.py", VD_ECS "/ecs_fields.json", th_path(work, "out.ecs"),
                                          NULL});
        cr_assert_eq(r.status, 0, "not ECS:\n%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"python3", VD_OCSF "/validate.py", VD_OCSF "/schema", th_path(work, "out.ocsf"),
                                          NULL});
        cr_assert_eq(r.status, 0, "not OCSF:\n%s%s", r.out, r.err);
        th_run_free(&r);
        free(js);
        free(ecs);
        free(ocsf);
}

Test(yara, only_what_changed_is_matched_unless_yara_all_and_the_template_matches_nothing) {
        th_run d = scan(clone, A "--report" A "json", VD_EXAMPLES "/policies/debian.yaml");
        cr_assert_eq(d.status, 1, "%s%s", d.out, d.err);
        th_run all = scan(clone, A "--report" A "json" A "--yara-all", VD_EXAMPLES "/policies/debian.yaml");
        cr_assert_eq(all.status, 1, "%s%s", all.out, all.err);
        char *a = th_drift_lines(d.out), *b = th_drift_lines(all.out);
        cr_assert_str_eq(a, b, "--yara-all found other events than the scan of what changed");
        cr_assert(strstr(d.out, "\"yara\":{\"files\":5,"), "%s", d.out);
        cr_assert(strstr(all.out, "\"yara\":{\"files\":11,"), "%s", all.out); /* every regular file of the clone */
        free(a);
        free(b);
        th_run_free(&d);
        th_run_free(&all);
        /* the template itself: nothing, every file matched */
        th_run t = scan(tmpl, A "--report" A "json" A "--yara-all", VD_EXAMPLES "/policies/debian.yaml");
        cr_assert_eq(t.status, 0, "%s%s", t.out, t.err);
        cr_assert(strstr(t.out, "\"malware\":0,\"secrets\":0,") && strstr(t.out, "\"yara\":{\"files\":7,"), "%s", t.out);
        th_run_free(&t);
        /* without --yara, the shipped secret rules still run on added files (the default policy) */
        th_run s = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t.vdb" A "--report" A "json", clone, work);
        cr_assert_eq(th_lines_with(s.out, "\"change\":\"secret\"", NULL), 1, "%s", s.out);
        cr_assert_eq(th_lines_with(s.out, "\"change\":\"secret\"", "deploy_key", NULL), 1, "%s", s.out);
        cr_assert_eq(th_lines_with(s.out, "\"change\":\"malware\"", NULL), 0, "%s", s.out);
        th_run_free(&s);
}

Test(yara, each_bound_reached_is_reported_and_never_hides_what_it_can_match) {
        /* max_file: the benign file is matched on its first MiB; a file with
         * EICAR past the cap is still reported as drift */
        random_file(clone, "srv/late.bin", 2500000, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE", 2200000);
        random_file(clone, "srv/early.bin", 2500000, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE", 1000);
        th_write(work, "small.yaml", "version: 1\nyara:\n  max_file: 1M\n  secrets: changed\n");
        th_run r = scan(clone, A "--report" A "json", th_path(work, "small.yaml"));
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "YARA: 3 files larger than yara.max_file (1048576 bytes): matched on their first "
                                "1048576 bytes only"),
                  "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"malware\"", "/srv/early.bin", "\"yara.matched\":{\"old\":null,"
                                   "\"new\":\"first 1048576 of 2500000 bytes\"}", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"malware\"", "/srv/late.bin", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"added\"", "/srv/late.bin", NULL), 1, "%s", r.out);
        th_run_free(&r);
        /* max_total: files past it are counted, unmatched */
        th_write(work, "budget.yaml", "version: 1\nyara:\n  max_total: 1M\n");
        r = scan(clone, A "--report" A "json", th_path(work, "budget.yaml"));
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "YARA: yara.max_total (1048576 bytes) spent: "), "%s", r.out);
        cr_assert_gt(strtoul(strstr(r.out, "\"not_matched_max_total\":") + 24, NULL, 10), 0, "%s", r.out);
        th_run_free(&r);
        /* timeout: a rule a guest's file makes slow names the file */
        th_write(work, "slow/slow.yar", "rule slow { condition: for all i in (0..filesize - 1) : "
                                        "(for all j in (0..filesize - 1) : (uint8(i) + uint8(j) >= 0)) }\n");
        th_write(work, "t1.yaml", "version: 1\nyara:\n  timeout: 1s\n");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t.vdb" A "--policy" A "%s/t1.yaml" A "--yara" A
                       "%s/slow" A "--report" A "json",
                       clone, work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "YARA: the operator's rules did not finish within 1 s (yara.timeout)"), "%s", r.out);
        cr_assert(strstr(r.out, "\"path\":\"/srv/big-benign.bin\",\"message\":\"YARA: the operator") ||
                      strstr(r.out, "big-benign.bin"),
                  "%s", r.out);
        cr_assert_gt(strtoul(strstr(r.out, "\"timed_out\":") + 12, NULL, 10), 0, "%s", r.out);
        th_run_free(&r);
}

Test(yara, bad_rules_and_bad_policies_are_clear_errors) {
        th_write(work, "bad/x.yar", "rule ok { condition: true }\nrule broken {\n  condition: $nope }\n");
        th_run r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t.vdb" A "--yara" A "%s/bad", clone, work, work);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "/bad/x.yar:3: undefined string \"$nope\""), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t.vdb" A "--yara" A "%s/none", clone, work, work);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "--yara '") && strstr(r.err, "/none': No such file or directory"), "%s", r.err);
        th_run_free(&r);
        th_write(work, "p.yaml", "version: 1\nyara:\n  secrets: sometimes\n");
        r = th_vmdrift("policy" A "check" A "%s/p.yaml", work);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "p.yaml:3:12: expected off, added or changed (added and changed files), got 'sometimes'"),
                  "%s", r.err);
        th_run_free(&r);
        th_write(work, "p.yaml", "version: 1\nyara:\n  timeout: 2h\n");
        r = th_vmdrift("policy" A "check" A "%s/p.yaml", work);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "p.yaml:3:12: expected a timeout from 1 s to 3600 s"), "%s", r.err);
        th_run_free(&r);
}

/* A program a new cron job or unit names is matched although it did not
 * change (what persistence starts is what matters), the event saying which
 * persistence names it; without --yara nothing is matched for it. */
Test(yara, a_program_that_persistence_names_is_matched_unchanged) {
        th_write(tmpl, "usr/lib/helper/run", "#!/bin/sh\n# webshell-marker-7b1\n");
        th_write(tmpl, "opt/agent/bin/agentd", "#!/bin/sh\necho webshell-marker-7b1\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/t2.vdb", tmpl, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        run((const char *const[]){"cp", "-a", th_path(tmpl, "usr/lib"), th_path(clone, "usr/"), NULL});
        run((const char *const[]){"cp", "-a", th_path(tmpl, "opt"), th_path(clone, "opt"), NULL});
        th_write(clone, "etc/cron.d/backup", "# nightly\nSHELL=/bin/sh\n17 3 * * * root /usr/lib/helper/run --quiet >/dev/null 2>&1\n");
        th_write(clone, "etc/systemd/system/agent.service",
                 "[Unit]\nDescription=agent\n[Service]\nExecStart=-/opt/agent/bin/agentd --foreground\n");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/t2.vdb" A "--yara" A "%s/rules" A "--report" A "json",
                       clone, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"malware\"", "\"path\":\"/usr/lib/helper/run\"",
                                   "\"persistence\":{\"old\":null,\"new\":\"/etc/cron.d/backup\"}", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"malware\"", "\"path\":\"/opt/agent/bin/agentd\"",
                                   "\"persistence\":{\"old\":null,\"new\":\"/etc/systemd/system/agent.service\"}", NULL),
                     1, "%s", r.out);
        /* neither's content changed (copied: a new inode, nothing more) */
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/usr/lib/helper/run\"", "\"hash\":{", NULL), 0, "%s", r.out);
        th_run_free(&r);
}
