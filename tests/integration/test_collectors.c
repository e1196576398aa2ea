/* Drift events delivered to real collectors: rsyslogd over UDP, TCP, TLS and
 * a unix socket, and systemd-journald; every message must parse as RFC 5424
 * with the right structured data, hostile paths included, and a collector
 * that is down must lose nothing. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors.h"
#include "helpers.h"

#define A "\x1f"

static char *dir, *tmpl, *clone_, *vdb, *state;
static coll_rsyslog rs;

static void setup(void) {
        dir = th_mkdtemp();
        tmpl = th_join(dir, "tmpl");
        clone_ = th_join(dir, "clone");
        vdb = th_join(dir, "t.vdb");
        state = th_join(dir, "state");
        mkdir(tmpl, 0755);
        th_write(tmpl, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        th_write(tmpl, "etc/ssh/sshd_config", "PermitRootLogin no\n");
        th_write(tmpl, "usr/bin/tool", "tool");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s" A "-q", tmpl, vdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        const char *cp[] = {"cp", "-a", tmpl, clone_, NULL};
        r = th_exec(cp);
        th_run_free(&r);
        char *rd = th_join(dir, "rsyslog");
        mkdir(rd, 0700);
        coll_rsyslog_start(&rs, rd);
        free(rd);
}

static void teardown(void) {
        coll_rsyslog_stop(&rs);
        th_rmtree(dir);
        free(dir);
        free(tmpl);
        free(clone_);
        free(vdb);
        free(state);
}

TestSuite(collectors, .init = setup, .fini = teardown);

/* The hostile names of the issue: quotes, brackets, backslashes, newlines,
 * invalid UTF-8; and a drifted config value. */
static const char *const hostile[] = {"tmp/quote\"d", "tmp/br]ack[et", "tmp/back\\slash", "tmp/new\nline",
                                      "tmp/bad\xff\xfeutf8", "tmp/all \"]\\\n\xc3("};

static void drift(void) {
        th_write(clone_, "etc/ssh/sshd_config", "PermitRootLogin yes\n");
        for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
                th_write(clone_, hostile[i], "x");
}

static char *b64(const char *p, size_t n) {
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *o = malloc(n * 4 / 3 + 5), *q = o;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)p[i] << 16 | (i + 1 < n ? (unsigned char)p[i + 1] << 8 : 0) |
                             (i + 2 < n ? (unsigned char)p[i + 2] : 0);
                *q++ = t[v >> 18 & 63];
                *q++ = t[v >> 12 & 63];
                *q++ = i + 1 < n ? t[v >> 6 & 63] : '=';
                *q++ = i + 2 < n ? t[v & 63] : '=';
        }
        *q = '\0';
        return o;
}

static size_t count_json(const char *json, const char *needle) { return (size_t)th_lines_with(json, needle, NULL); }

Test(collectors, every_transport_delivers_valid_rfc5424_with_hostile_paths) {
        drift();
        char *jf = th_join(dir, "events.json");
        char udp[64], tcp[64], tls[64], unx[400];
        snprintf(udp, sizeof udp, "syslog:udp://127.0.0.1:%d", rs.udp);
        snprintf(tcp, sizeof tcp, "syslog:tcp://127.0.0.1:%d", rs.tcp);
        snprintf(tls, sizeof tls, "syslog:tls://localhost:%d", rs.tls);
        snprintf(unx, sizeof unx, "syslog:unix:%s", rs.sock);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--report" A "%s" A
                              "--report" A "%s" A "--report" A "%s" A "--report" A "json:%s" A "--syslog-ca" A "%s" A
                              "--state-dir" A "%s" A "--syslog-enterprise" A "99999" A "--syslog-facility" A "local4",
                              vdb, clone_, udp, tcp, tls, unx, jf, rs.ca, state);
        cr_assert_eq(r.status, 1, "%s", r.err);
        th_run_free(&r);
        const char *argv[] = {"cat", jf, NULL};
        th_run j = th_exec(argv);
        size_t n_drift = count_json(j.out, "\"event\":\"drift\""), n_warn = count_json(j.out, "\"event\":\"warning\"");
        size_t per = n_drift + n_warn + 1;
        cr_assert_geq(n_drift, 8, "%s", j.out);

        char *out = coll_rsyslog_wait(&rs, 4 * per);
        coll_line *lines;
        size_t n = coll_lines(out, &lines);
        cr_assert_eq(n, 4 * per, "every message on every transport (%zu expected):\n%s", 4 * per, out);
        size_t by_input[4] = {0}, hostile_seen[4] = {0};
        for (size_t i = 0; i < n; i++) {
                coll_line *l = &lines[i];
                int k = !strcmp(l->input, "udp") ? 0 : !strcmp(l->input, "tcp") ? 1 : !strcmp(l->input, "tls") ? 2 : 3;
                by_input[k]++;
                rfc5424 m;
                const char *e = rfc5424_parse(l->raw, &m);
                cr_assert_null(e, "%s: not RFC 5424: %s\n%s", l->input, e, l->raw);
                /* rsyslog parsed it as RFC 5424 too: the same MSGID, APP-NAME and SD */
                cr_assert_str_eq(l->msgid, m.msgid);
                cr_assert_str_eq(l->app, "vmdrift");
                cr_assert_str_eq(l->sd, m.sd_raw, "%s", l->raw);
                cr_assert_eq(m.pri / 8, 20, "facility local4");
                cr_assert_str_eq(m.sd_id, "vmdrift@99999");
                cr_assert_not_null(rfc5424_param(&m, "scan_id"), "%s", l->raw);
                if (!strcmp(m.msgid, "summary")) {
                        char want[32];
                        snprintf(want, sizeof want, "%zu", n_drift);
                        cr_assert_str_eq(rfc5424_param(&m, "total"), want);
                }
                const char *b = rfc5424_param(&m, "path_b64");
                for (size_t h = 0; b && h < sizeof hostile / sizeof hostile[0]; h++) {
                        char full[128];
                        snprintf(full, sizeof full, "/%s", hostile[h]);
                        char *want = b64(full, strlen(full));
                        if (!strcmp(want, b)) {
                                hostile_seen[k]++;
                                cr_assert_str_eq(rfc5424_param(&m, "change"), "added");
                                cr_assert_eq(m.pri % 8, 4, "medium -> warning");
                        }
                        free(want);
                }
                /* quotes, brackets and backslashes survive SD escaping exactly */
                const char *pp = rfc5424_param(&m, "path");
                if (pp && !b) {
                        for (size_t h = 0; h < 3; h++)
                                if (!strcmp(pp + 1, hostile[h]))
                                        hostile_seen[k]++;
                }
                if (pp && !strcmp(pp, "/etc/ssh/sshd_config"))
                        cr_assert(strstr(rfc5424_param(&m, "changes"), "\"hash\":{\"old\":"), "%s", l->raw);
                rfc5424_free(&m);
        }
        for (int k = 0; k < 4; k++) {
                cr_assert_eq(by_input[k], per, "input %d", k);
                cr_assert_eq(hostile_seen[k], sizeof hostile / sizeof hostile[0], "input %d saw %zu hostile paths", k,
                             hostile_seen[k]);
        }
        coll_lines_free(lines, n);
        free(out);
        th_run_free(&j);
        free(jf);
}

Test(collectors, cee_ecs_and_cef_payloads) {
        drift();
        char tcp[64];
        snprintf(tcp, sizeof tcp, "syslog:tcp://127.0.0.1:%d", rs.tcp);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--syslog-format" A
                              "cee" A "--state-dir" A "%s",
                              vdb, clone_, tcp, state);
        cr_assert_eq(r.status, 1, "%s", r.err);
        th_run_free(&r);
        char *out = coll_rsyslog_wait(&rs, 9);
        coll_line *lines;
        size_t n = coll_lines(out, &lines);
        cr_assert_geq(n, 9);
        /* every @cee payload is one JSON object (python's json module decides) */
        char *pf = th_join(dir, "cee.txt");
        FILE *f = fopen(pf, "w");
        for (size_t i = 0; i < n; i++) {
                rfc5424 m;
                cr_assert_null(rfc5424_parse(lines[i].raw, &m), "%s", lines[i].raw);
                cr_assert_str_eq(m.sd_raw, "-");
                cr_assert(strncmp(m.msg, "@cee: {", 7) == 0, "%s", m.msg);
                fprintf(f, "%s\n", m.msg + 6);
                rfc5424_free(&m);
        }
        fclose(f);
        const char *py[] = {"python3", "-c",
                            "import json,sys\nn=0\nfor l in open(sys.argv[1]):\n  o=json.loads(l)\n  assert o['scan_id']\n"
                            "  n+=o['event']=='added' and 'path' in o and isinstance(o['changes'],dict)\nprint(n)",
                            pf, NULL};
        th_run p = th_exec(py);
        cr_assert_eq(p.status, 0, "%s", p.err);
        cr_assert_geq(atoi(p.out), 6, "%s", p.out);
        th_run_free(&p);
        coll_lines_free(lines, n);
        free(out);
        free(pf);

        /* ECS: each payload one Elastic Common Schema document, through a
         * real rsyslog, valid against Elastic's own definitions */
        unlink(rs.out);
        coll_rsyslog_stop(&rs);
        coll_rsyslog_start(&rs, rs.dir);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--syslog-format" A "ecs" A
                       "--state-dir" A "%s",
                       vdb, clone_, tcp, state);
        cr_assert_eq(r.status, 1, "%s", r.err);
        th_run_free(&r);
        out = coll_rsyslog_wait(&rs, 9);
        n = coll_lines(out, &lines);
        char *ef = th_join(dir, "ecs.ndjson");
        f = fopen(ef, "w");
        size_t drift = 0;
        for (size_t i = 0; i < n; i++) {
                rfc5424 m;
                cr_assert_null(rfc5424_parse(lines[i].raw, &m), "%s", lines[i].raw);
                cr_assert(strncmp(m.msg, "@cee: {\"@timestamp\":", 20) == 0, "%s", m.msg);
                drift += strstr(m.msg, "\"event\":{\"kind\":\"alert\"") != NULL;
                fprintf(f, "%s\n", m.msg + 6);
                rfc5424_free(&m);
        }
        fclose(f);
        cr_assert_geq(drift, 6, "%s", out);
        p = th_exec((const char *const[]){"python3", VD_SOURCE_DIR "/tests/ecs/validate.py",
                                          VD_SOURCE_DIR "/tests/ecs/ecs_fields.json", ef, NULL});
        cr_assert_eq(p.status, 0, "not ECS:\n%s%s", p.out, p.err);
        th_run_free(&p);
        coll_lines_free(lines, n);
        free(out);
        free(ef);

        /* CEF */
        unlink(rs.out);
        coll_rsyslog_stop(&rs);
        coll_rsyslog_start(&rs, rs.dir);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--syslog-format" A "cef" A
                       "--state-dir" A "%s",
                       vdb, clone_, tcp, state);
        cr_assert_eq(r.status, 1, "%s", r.err);
        th_run_free(&r);
        out = coll_rsyslog_wait(&rs, 9);
        cr_assert(strstr(out, "CEF:0|vmdrift|vmdrift|"), "%s", out);
        cr_assert(strstr(out, "|changed|drift|5|filePath=/etc/ssh/sshd_config act=changed"), "%s", out);
        free(out);
}

Test(collectors, flood_control_sends_the_most_severe_and_a_count) {
        for (int i = 0; i < 30; i++) {
                char p[64];
                snprintf(p, sizeof p, "srv/file%02d", i);
                th_write(clone_, p, "new");
        }
        th_write(clone_, "usr/bin/suid", "x");
        chmod(th_path(clone_, "usr/bin/suid"), 04755);
        char tcp[64];
        snprintf(tcp, sizeof tcp, "syslog:tcp://127.0.0.1:%d", rs.tcp);
        char *jf = th_join(dir, "all.json");
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--report" A
                              "json:%s" A "--max-events" A "5" A "--state-dir" A "%s" A "--ignore" A "ctime,inode",
                              vdb, clone_, tcp, jf, state);
        cr_assert_eq(r.status, 1, "%s", r.err);
        th_run_free(&r);
        char *out = coll_rsyslog_wait(&rs, 7);
        coll_line *lines;
        size_t n = coll_lines(out, &lines);
        cr_assert_eq(n, 7, "5 events, a held-back notice, the summary:\n%s", out);
        cr_assert_str_eq(lines[0].msgid, "added");
        cr_assert(strstr(lines[0].raw, "path=\"/usr/bin/suid\""), "the most severe first: %s", lines[0].raw);
        cr_assert_str_eq(lines[5].msgid, "held-back");
        cr_assert(strstr(lines[5].raw, "held_back=\"27\""), "%s", lines[5].raw);
        cr_assert_str_eq(lines[6].msgid, "summary");
        cr_assert(strstr(lines[6].raw, "total=\"32\""), "%s", lines[6].raw);
        const char *argv[] = {"cat", jf, NULL};
        th_run j = th_exec(argv);
        cr_assert_eq(count_json(j.out, "\"event\":\"drift\""), 32, "the JSON report has them all");
        th_run_free(&j);
        coll_lines_free(lines, n);
        free(out);
        free(jf);
}

Test(collectors, a_collector_that_is_down_loses_nothing) {
        drift();
        coll_rsyslog_stop(&rs);
        char tcp[64];
        snprintf(tcp, sizeof tcp, "syslog:tcp://127.0.0.1:%d", rs.tcp);
        char *jf = th_join(dir, "down.json");
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--report" A
                              "json:%s" A "--state-dir" A "%s" A "--syslog-attempts" A "2",
                              vdb, clone_, tcp, jf, state);
        cr_assert_eq(r.status, 3, "an undelivered report is a runtime error: %s", r.err);
        cr_assert(strstr(r.err, "Connection refused"), "%s", r.err);
        cr_assert(strstr(r.err, "messages kept in"), "%s", r.err);
        cr_assert(strstr(r.err, "sent first by the next run"), "%s", r.err);
        th_run_free(&r);
        const char *argv[] = {"cat", jf, NULL};
        th_run j = th_exec(argv);
        size_t n_first = count_json(j.out, "\"event\":\"drift\"") + count_json(j.out, "\"event\":\"warning\"") + 1;
        cr_assert_geq(n_first, 9, "the JSON report is complete all the same");
        /* the scan id of the first run, to find its messages later */
        const char *sid = strstr(j.out, "\"scan_id\":\"");
        cr_assert_not_null(sid);
        char first_id[37];
        memcpy(first_id, sid + 11, 36);
        first_id[36] = '\0';
        th_run_free(&j);

        /* the collector is back: the next run sends the spool first, then its own */
        coll_rsyslog_start(&rs, rs.dir);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--state-dir" A "%s", vdb,
                       tmpl, tcp, state);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.err, "delivered"), "%s", r.err);
        th_run_free(&r);
        char *out = coll_rsyslog_wait(&rs, n_first + 1);
        coll_line *lines;
        size_t n = coll_lines(out, &lines);
        cr_assert_eq(n, n_first + 1, "%s", out);
        size_t from_first = 0;
        for (size_t i = 0; i < n; i++) {
                rfc5424 m;
                cr_assert_null(rfc5424_parse(lines[i].raw, &m));
                if (!strcmp(rfc5424_param(&m, "scan_id"), first_id)) {
                        from_first++;
                        cr_assert_lt(i, n_first, "the spool goes first");
                }
                rfc5424_free(&m);
        }
        cr_assert_eq(from_first, n_first);
        /* and the spool is empty now */
        const char *ls[] = {"sh", "-c", "find \"$0\" -name '*.spool' | wc -l", state, NULL};
        th_run l = th_exec(ls);
        cr_assert_eq(atoi(l.out), 0, "%s", l.out);
        th_run_free(&l);
        coll_lines_free(lines, n);
        free(out);
        free(jf);
}

Test(collectors, one_scan_to_syslog_journal_and_json_lands_everywhere) {
        pid_t jd = coll_journald_ensure();
        drift();
        /* and a YARA match: its own MSGID and MESSAGE_ID */
        th_write(clone_, "tmp/eicar.com", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n");
        th_write(dir, "eicar.yar", "rule eicar { meta: description = \"the EICAR test file\" severity = \"critical\" "
                                   "strings: $e = \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\" condition: $e }\n");
        char tcp[64];
        snprintf(tcp, sizeof tcp, "syslog:tcp://127.0.0.1:%d", rs.tcp);
        char *jf = th_join(dir, "scan.json");
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s" A "--report" A
                              "journal" A "--report" A "json:%s" A "--state-dir" A "%s" A "--yara" A "%s/eicar.yar",
                              vdb, clone_, tcp, jf, state, dir);
        cr_assert_eq(r.status, 1, "%s", r.err);
        th_run_free(&r);
        const char *argv[] = {"cat", jf, NULL};
        th_run j = th_exec(argv);
        size_t n_drift = count_json(j.out, "\"event\":\"drift\"");
        size_t per = n_drift + count_json(j.out, "\"event\":\"warning\"") + 1;
        const char *sid = strstr(j.out, "\"scan_id\":\"");
        char scan_id[37];
        memcpy(scan_id, sid + 11, 36);
        scan_id[36] = '\0';
        th_run_free(&j);

        char *out = coll_rsyslog_wait(&rs, per);
        coll_line *lines;
        size_t n = coll_lines(out, &lines);
        cr_assert_eq(n, per, "%s", out);
        coll_lines_free(lines, n);
        cr_assert_eq(th_lines_with(out, " vmdrift ", " malware [vmdrift@", "path=\"/tmp/eicar.com\"", "yara_rule=\"eicar\"",
                                   "line=\"1\"", "malware /tmp/eicar.com line 1 (critical): rule default:eicar: the EICAR test file",
                                   NULL),
                     1, "%s", out);
        free(out);

        /* the journal: every event, with its fields */
        char filter[64];
        snprintf(filter, sizeof filter, "VMDRIFT_SCAN_ID=%s", scan_id);
        const char *jc[] = {"journalctl", "--no-pager", "-o", "json", filter, NULL};
        th_run q;
        for (int i = 0; i < 50; i++) {
                q = th_exec(jc);
                if ((size_t)th_lines_with(q.out, "\"SYSLOG_IDENTIFIER\":\"vmdrift\"", NULL) >= per)
                        break;
                th_run_free(&q);
                usleep(100000);
        }
        cr_assert_eq((size_t)th_lines_with(q.out, "\"SYSLOG_IDENTIFIER\":\"vmdrift\"", NULL), per, "%s", q.out);
        cr_assert_eq(th_lines_with(q.out, "\"MESSAGE_ID\":\"ce99aed8075a446aaba26d0365a282bd\"",
                                   "\"VMDRIFT_PATH\":\"/etc/ssh/sshd_config\"", "\"VMDRIFT_CHANGES\":",
                                   "\"PRIORITY\":\"4\"", NULL),
                     1, "%s", q.out);
        cr_assert_eq(th_lines_with(q.out, "\"MESSAGE_ID\":\"fffe402d67e14ac2939abe5c2d096658\"", "\"VMDRIFT_TOTAL\":", NULL),
                     1, "%s", q.out);
        cr_assert_eq((size_t)th_lines_with(q.out, "\"MESSAGE_ID\":\"26a667cb043e41acbb91ca0d51b21bac\"", NULL),
                     sizeof hostile / sizeof hostile[0] + 2, "%s", q.out);
        cr_assert_eq(th_lines_with(q.out, "\"MESSAGE_ID\":\"1edb1eef2f544a6aabf9ccb0eee05234\"", "\"VMDRIFT_YARA_RULE\":\"eicar\"",
                                   "\"PRIORITY\":\"2\"", "\"VMDRIFT_PATH\":\"/tmp/eicar.com\"", NULL),
                     1, "%s", q.out);
        /* a path that is not UTF-8 is kept as exact bytes (journalctl shows them as a byte array) */
        cr_assert_eq(th_lines_with(q.out, "\"VMDRIFT_PATH\":[47,116,109,112,47,98,97,100,255,254", NULL), 1, "%s", q.out);
        th_run_free(&q);

        /* journalctl -x explains each event: the catalog compiles and names every MESSAGE_ID */
        char *root = th_join(dir, "catroot");
        const char *cat[] = {"sh", "-ec",
                             "mkdir -p \"$0/usr/lib/systemd/catalog\" && cp \"$1\" \"$0/usr/lib/systemd/catalog/\" && "
                             "journalctl --root \"$0\" --update-catalog && journalctl --root \"$0\" --list-catalog",
                             root, VD_SOURCE_DIR "/report/vmdrift.catalog", NULL};
        th_run c = th_exec(cat);
        cr_assert_eq(c.status, 0, "%s", c.err);
        static const char *const ids[] = {"26a667cb043e41acbb91ca0d51b21bac", "ca76508f1ddf41a9a426620338044fa1",
                                          "ce99aed8075a446aaba26d0365a282bd", "3b01638b527a425ca7b2c980dbec6e7d",
                                          "fffe402d67e14ac2939abe5c2d096658", "be37d48779684dbaaa4f60a11489e25a",
                                          "15d9b57bcddf43389a57dfab00b78e45", "1edb1eef2f544a6aabf9ccb0eee05234",
                                          "e5caa42bbf444d0babe27e9b9c74631e"};
        for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
                cr_assert(strstr(c.out, ids[i]), "%s missing from the catalog:\n%s", ids[i], c.out);
        th_run_free(&c);
        free(root);
        free(jf);
        coll_journald_stop(jd);
}

Test(collectors, bad_syslog_urls_are_usage_errors_before_any_work) {
        static const char *const bad[] = {"syslog:ftp://x",       "syslog:tcp://h:x",      "syslog:tcp://:514",
                                          "syslog:udp://h:99999", "syslog:unix:relative", "syslog:tls://h:6514",
                                          "syslog:tcp://[::1"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "%s", vdb, clone_,
                                      bad[i]);
                cr_assert_eq(r.status, 2, "%s: %s", bad[i], r.err);
                th_run_free(&r);
        }
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "syslog:tls://localhost:%d" A
                              "--syslog-ca" A "/etc/hostname",
                              vdb, clone_, rs.tls);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "not a readable PEM certificate"), "%s", r.err);
        th_run_free(&r);
}

Test(collectors, a_tls_collector_with_an_untrusted_certificate_is_refused) {
        /* a CA that did not sign the collector's certificate */
        const char *mk[] = {"sh", "-ec",
                            "cd \"$0\" && openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem "
                            "-days 1 -subj '/CN=someone else' 2>/dev/null",
                            dir, NULL};
        th_run m = th_exec(mk);
        cr_assert_eq(m.status, 0);
        th_run_free(&m);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "syslog:tls://localhost:%d" A
                              "--syslog-ca" A "%s/other.pem" A "--state-dir" A "%s" A "--syslog-attempts" A "1",
                              vdb, tmpl, rs.tls, dir, state);
        cr_assert_eq(r.status, 3, "%s", r.err);
        cr_assert(strstr(r.err, "certificate"), "%s", r.err);
        th_run_free(&r);
}
