#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "policy/vd_policy.h"
#include "report/vd_report.h"

static vd_events ev;
static vd_report rep;

static void add_event(const char *path, size_t len, int kind, const char *attr, const char *o, size_t ol,
                      const char *n, size_t nl) {
        ev.v = realloc(ev.v, (ev.n + 1) * sizeof *ev.v);
        vd_event *e = &ev.v[ev.n++];
        memset(e, 0, sizeof *e);
        e->kind = kind;
        e->path = malloc(len + 1);
        memcpy(e->path, path, len);
        e->path[len] = '\0';
        e->path_len = len;
        e->ftype = 1;
        e->severity = VD_SEV_HIGH;
        e->rule = "default";
        e->ch = calloc(1, sizeof *e->ch);
        e->n_ch = 1;
        e->ch[0].attr = strdup(attr);
        if (o) {
                e->ch[0].old_v.s = malloc(ol + 1);
                memcpy(e->ch[0].old_v.s, o, ol);
                e->ch[0].old_v.s[ol] = '\0';
                e->ch[0].old_v.len = ol;
        }
        if (n) {
                e->ch[0].new_v.s = malloc(nl + 1);
                memcpy(e->ch[0].new_v.s, n, nl);
                e->ch[0].new_v.s[nl] = '\0';
                e->ch[0].new_v.len = nl;
        }
}

static void setup(void) {
        vd_events_init(&ev);
        memset(&rep, 0, sizeof rep);
        strcpy(rep.scan_id, "00000000-0000-4000-8000-000000000000");
        rep.source_kind = "dir";
        rep.source = "/srv/clone";
        rep.baseline_path = "t.vdb";
        rep.baseline_source = "/srv/tmpl";
        rep.events = &ev;
}
static void teardown(void) { vd_events_release(&ev); }
TestSuite(report, .init = setup, .fini = teardown);

static char *render(const char *kind) {
        char *dir = th_mkdtemp();
        char *file = th_join(dir, "out");
        char *spec;
        asprintf(&spec, "%s:%s", kind, file);
        vd_sink *s;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_sink_open(spec, NULL, &s, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_sink_write(s, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_sink_close(s, &err), 0);
        th_run r = th_exec((const char *const[]){"cat", file, NULL});
        th_rmtree(dir);
        free(dir);
        free(file);
        free(spec);
        char *out = r.out;
        free(r.err);
        return out;
}

Test(report, json_keeps_hostile_paths_exact_and_valid) {
        add_event("/a\"b\\c\nd\xff", 9, VD_CH_ADDED, "target", NULL, 0, "x", 1);
        char *out = render("json");
        cr_assert(strstr(out, "\"path\":\"/a\\\"b\\\\c\\nd\\ufffd\""), "%s", out);
        cr_assert(strstr(out, "\"path_b64\":\"L2EiYlxjCmT/\""), "%s", out);
        cr_assert(strstr(out, "\"change\":\"added\""), "%s", out);
        cr_assert(strstr(out, "\"event\":\"summary\""), "%s", out);
        cr_assert(strstr(out, "\"total\":1,\"added\":1"), "%s", out);
        free(out);
}

Test(report, json_gives_binary_values_as_base64_objects) {
        add_event("/bin/ping", 9, VD_CH_CHANGED, "xattr.security.capability", NULL, 0, "\x01\x00\xff", 3);
        char *out = render("json");
        cr_assert(strstr(out, "\"xattr.security.capability\":{\"old\":null,\"new\":{\"b64\":\"AQD/\"}}"), "%s", out);
        free(out);
}

Test(report, text_is_grouped_counted_and_escaped) {
        add_event("/etc/x", 6, VD_CH_CHANGED, "mode", "0644", 4, "0666", 4);
        add_event("/evil\n\x1b[2J", 10, VD_CH_ADDED, "type", NULL, 0, "file", 4);
        char *out = render("text");
        cr_assert(strstr(out, "Changed (1)"), "%s", out);
        cr_assert(strstr(out, "Added (1)"), "%s", out);
        cr_assert(strstr(out, "mode       0644 -> 0666"), "%s", out);
        cr_assert(strstr(out, "/evil\\n\\x1b[2J"), "%s", out);
        cr_assert_null(strchr(out, '\x1b'), "no raw escape sequence reaches the terminal");
        cr_assert(strstr(out, "Summary: 2 drift events: 2 on files (1 changed, 1 added, 0 removed), 0 on "
                              "configuration files (0 keys), 0 policy violations (0 checks)"),
                  "%s", out);
        free(out);
}

Test(report, unknown_sink_and_unwritable_file_are_errors) {
        vd_sink *s;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_sink_open("xml", NULL, &s, &err), VD_E_USAGE);
        cr_assert(strstr(err.msg, "unknown report 'xml'"), "%s", err.msg);
        cr_assert_eq(vd_sink_open("json:/nonexistent/dir/out.json", NULL, &s, &err), VD_E_IO);
        cr_assert(strstr(err.msg, "/nonexistent/dir/out.json"), "%s", err.msg);
        cr_assert_eq(vd_sink_open("json:", NULL, &s, &err), VD_E_USAGE);
}

Test(report, a_full_disk_is_reported) {
        vd_sink *s;
        vd_err err = VD_ERR_INIT;
        add_event("/x", 2, VD_CH_ADDED, "type", NULL, 0, "file", 4);
        cr_assert_eq(vd_sink_open("json:/dev/full", NULL, &s, &err), 0);
        int w = vd_sink_write(s, &rep, &err);
        int c = vd_sink_close(s, &err);
        cr_assert(w < 0 || c < 0, "writing to /dev/full must fail");
        cr_assert_eq(err.code, VD_E_IO);
}

/* ---- syslog messages, over a real unix datagram socket ---- */

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "collectors.h"

typedef struct dgrams {
        char *v[64];
        size_t n;
} dgrams;

/* Open a syslog sink to a socket of our own, write rep, collect the datagrams. */
static dgrams send_syslog(const vd_sink_opts *o) {
        char *dir = th_mkdtemp();
        char *sock = th_join(dir, "log.sock");
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
        cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        int big = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        char spec[400];
        snprintf(spec, sizeof spec, "syslog:unix:%s", sock);
        vd_sink_opts oo = *o;
        oo.state_dir = dir;
        vd_sink *s;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_sink_open(spec, &oo, &s, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_sink_write(s, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_sink_close(s, &err), 0);
        dgrams d = {.n = 0};
        char buf[70000];
        ssize_t k;
        while (d.n < 64 && (k = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
                d.v[d.n++] = strndup(buf, (size_t)k);
        close(fd);
        th_rmtree(dir);
        free(sock);
        free(dir);
        return d;
}

static void dgrams_free(dgrams *d) {
        for (size_t i = 0; i < d->n; i++)
                free(d->v[i]);
}

Test(report, syslog_structured_data_escapes_and_keeps_exact_bytes) {
        const char p[] = "/tmp/a\"b]c\\d\ne\xff";
        add_event(p, sizeof p - 1, VD_CH_ADDED, "mode", NULL, 0, "0644", 4);
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        o.hostname = "hv01";
        dgrams d = send_syslog(&o);
        cr_assert_eq(d.n, 2, "the event and the summary");
        rfc5424 m;
        const char *e = rfc5424_parse(d.v[0], &m);
        cr_assert_null(e, "%s: %s", e, d.v[0]);
        cr_assert_eq(m.pri, 13 * 8 + 3, "log audit, high -> err");
        cr_assert_str_eq(m.hostname, "hv01");
        cr_assert_str_eq(m.msgid, "added");
        cr_assert_str_eq(m.sd_id, "vmdrift@32473");
        cr_assert_str_eq(rfc5424_param(&m, "path"), "/tmp/a\"b]c\\\\d\\ne\\xff");
        cr_assert_str_eq(rfc5424_param(&m, "path_b64"), "L3RtcC9hImJdY1xkCmX/");
        cr_assert_str_eq(rfc5424_param(&m, "changes"), "{\"mode\":{\"old\":null,\"new\":\"0644\"}}");
        cr_assert_str_eq(rfc5424_param(&m, "severity"), "high");
        cr_assert_null(strchr(d.v[0], '\n'), "no raw newline anywhere in the message");
        rfc5424_free(&m);
        cr_assert_null(rfc5424_parse(d.v[1], &m));
        cr_assert_str_eq(m.msgid, "summary");
        cr_assert_str_eq(rfc5424_param(&m, "total"), "1");
        cr_assert_str_eq(rfc5424_param(&m, "high"), "1");
        rfc5424_free(&m);
        dgrams_free(&d);
}

Test(report, a_message_over_8000_bytes_drops_its_change_detail_not_the_event) {
        char big[9000];
        memset(big, 'x', sizeof big);
        add_event("/etc/big", 8, VD_CH_CHANGED, "xattr.user.a", big, sizeof big, "y", 1);
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        dgrams d = send_syslog(&o);
        cr_assert_eq(d.n, 2);
        cr_assert_leq(strlen(d.v[0]), 8000);
        rfc5424 m;
        cr_assert_null(rfc5424_parse(d.v[0], &m));
        cr_assert_str_eq(rfc5424_param(&m, "changes"), "{\"truncated\":true}");
        cr_assert_str_eq(rfc5424_param(&m, "path"), "/etc/big");
        rfc5424_free(&m);
        dgrams_free(&d);
}

/* A file's diff: whole in JSON, cut at a line with a marker in syslog (and
 * dropped before the event is when even that is too long). */
Test(report, a_diff_is_whole_in_json_and_cut_with_a_marker_in_syslog) {
        add_event("/etc/app.conf", 13, VD_CH_CHANGED, "size", "1", 1, "2", 1);
        vd_buf d;
        vd_buf_init(&d, 0);
        vd_buf_adds(&d, "--- a/etc/app.conf\n+++ b/etc/app.conf\n@@ -1,300 +1,300 @@\n");
        for (int i = 0; i < 300; i++)
                vd_buf_addf(&d, "-line %03d old\n+line %03d new\n", i, i);
        ev.v[0].diff = vd_buf_detach(&d, &ev.v[0].diff_len);
        vd_buf j;
        vd_buf_init(&j, 0);
        cr_assert_eq(vd_json_event(&j, &rep, &ev.v[0]), 0);
        cr_assert(strstr(j.buf, "\"diff\":\"--- a/etc/app.conf\\n") && strstr(j.buf, "+line 299 new\\n\"}"), "%s", j.buf);
        vd_buf_release(&j);
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        dgrams dg = send_syslog(&o);
        cr_assert_eq(dg.n, 2);
        rfc5424 m;
        cr_assert_null(rfc5424_parse(dg.v[0], &m));
        const char *df = rfc5424_param(&m, "diff");
        cr_assert(df && strstr(df, "--- a/etc/app.conf") && strstr(df, "... (diff cut at ") &&
                      strstr(df, " bytes: the JSON report has it whole)"),
                  "%s", df ? df : dg.v[0]);
        cr_assert_null(strstr(df, "line 299"), "%s", df);
        rfc5424_free(&m);
        dgrams_free(&dg);
}

Test(report, flood_control_keeps_the_most_severe) {
        for (int i = 0; i < 5; i++) {
                char p[16];
                snprintf(p, sizeof p, "/f%d", i);
                add_event(p, strlen(p), VD_CH_ADDED, "mode", NULL, 0, "0644", 4);
                ev.v[ev.n - 1].severity = i == 3 ? VD_SEV_CRITICAL : VD_SEV_LOW;
        }
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        o.max_events = 2;
        dgrams d = send_syslog(&o);
        cr_assert_eq(d.n, 4, "2 events, held-back, summary");
        cr_assert(strstr(d.v[0], "path=\"/f3\""), "%s", d.v[0]);
        cr_assert(strstr(d.v[1], "path=\"/f0\""), "then the compare order: %s", d.v[1]);
        cr_assert(strstr(d.v[2], " held-back [") && strstr(d.v[2], "held_back=\"3\""), "%s", d.v[2]);
        cr_assert(strstr(d.v[3], "held_back=\"3\""), "%s", d.v[3]);
        dgrams_free(&d);
}

Test(report, cef_escapes_its_separators) {
        const char p[] = "/a=b|c\\d";
        add_event(p, sizeof p - 1, VD_CH_REMOVED, "mode", "0644", 4, NULL, 0);
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        o.format = VD_SYSLOG_CEF;
        dgrams d = send_syslog(&o);
        cr_assert(strstr(d.v[0], "CEF:0|vmdrift|vmdrift|"), "%s", d.v[0]);
        cr_assert(strstr(d.v[0], "|removed|drift|8|filePath=/a\\=b|c\\\\d act=removed"), "%s", d.v[0]);
        dgrams_free(&d);
}

/* The text summary adds up to its sections: one event per file, one line
 * per configuration key or failed check. */
Test(report, text_summary_adds_up_to_the_sections) {
        add_event("/etc/x", 6, VD_CH_CHANGED, "mode", "0644", 4, "0666", 4);
        add_event("/etc/y", 6, VD_CH_ADDED, "type", NULL, 0, "file", 4);
        add_event("/etc/ssh/sshd_config", 20, VD_CH_CHANGED, "PermitRootLogin", "no", 2, "yes", 3);
        vd_event *cf = &ev.v[ev.n - 1];
        cf->config = "sshd";
        cf->ch = realloc(cf->ch, 2 * sizeof *cf->ch);
        memset(&cf->ch[1], 0, sizeof cf->ch[1]);
        cf->ch[1].attr = strdup("X11Forwarding");
        cf->n_ch = 2;
        add_event("/etc/ssh/sshd_config", 20, VD_CH_VIOLATION, "PermitRootLogin", NULL, 0, "yes", 3);
        ev.v[ev.n - 1].config = "sshd";
        char *out = render("text");
        cr_assert(strstr(out, "\nConfiguration (1 file, 2 keys)\n"), "%s", out);
        cr_assert(strstr(out, "\nPolicy violations (1 file, 1 check)\n"), "%s", out);
        cr_assert(strstr(out, "\nChanged (1)\n"), "%s", out);
        cr_assert(strstr(out, "\nAdded (1)\n"), "%s", out);
        cr_assert(strstr(out, "Summary: 4 drift events: 2 on files (1 changed, 1 added, 0 removed), 1 on "
                              "configuration files (2 keys), 1 policy violation (1 check)"),
                  "%s", out);
        free(out);
}

Test(report, says_where_file_content_was_hashed) {
        vd_scan_stats st = {.is_guest = true, .host_hashing = true, .files_mapped = 29, .host_files = 29,
                            .host_bytes = 3 << 20, .files_hashed = 60};
        st.hash_fallback[VD_FB_INLINE] = 30;
        st.hash_fallback[VD_FB_JOURNAL] = 1;
        rep.stats = &st;
        char *out = render("text");
        cr_assert(strstr(out, "\nHashed on the host: 29 files (3.0 MiB read from the image); in the appliance: 31 "
                              "(inline-data 30, data-journal 1)\n"),
                  "%s", out);
        free(out);
        out = render("json");
        cr_assert(strstr(out, ",\"hashing\":{\"host\":true,\"host_files\":29,\"host_bytes_read\":3145728,"
                              "\"appliance_files\":31,\"appliance_reasons\":{\"inline-data\":30,\"data-journal\":1}}}"),
                  "%s", out);
        free(out);
        /* off: why, in both */
        st = (vd_scan_stats){.is_guest = true, .host_hashing_off = "--hash-in appliance", .files_hashed = 60};
        out = render("text");
        cr_assert(strstr(out, "\nHashed in the appliance: 60 files; on the host: none (--hash-in appliance)\n"), "%s",
                  out);
        free(out);
        out = render("json");
        cr_assert(strstr(out, "\"appliance_reasons\":{},\"host_off\":\"--hash-in appliance\"}"), "%s", out);
        free(out);
}

Test(report, package_events_have_their_own_fields_msgid_and_section) {
        vd_event e;
        memset(&e, 0, sizeof e);
        e.kind = VD_CH_BEHIND;
        e.package = true;
        e.path = strdup("openssh-server");
        e.path_len = strlen(e.path);
        e.arch = strdup("amd64");
        e.severity = VD_SEV_HIGH;
        e.rule = "openssh-server";
        size_t alloc = 0;
        vd_event_add_change(&e, &alloc, "version", 7, (vd_val){strdup("1:9.2p1-2+deb12u10"), 18, false},
                            (vd_val){strdup("1:9.2p1-2+deb12u3"), 17, false}, NULL);
        vd_events_push(&ev, &e);
        char *out = render("text");
        cr_assert(strstr(out, "\nPackages (1)\n  high      openssh-server (amd64)  behind: 1:9.2p1-2+deb12u3 -> "
                              "baseline 1:9.2p1-2+deb12u10  [rule openssh-server]\n"),
                  "%s", out);
        cr_assert(strstr(out, "0 policy violations (0 checks), 1 on packages\n"), "%s", out);
        cr_assert_null(strstr(out, "\nChanged"), "not a file: %s", out);
        free(out);
        out = render("json");
        cr_assert(strstr(out, "\"package\":\"openssh-server\",\"arch\":\"amd64\",\"change\":\"behind\",\"severity\":"
                              "\"high\",\"rule\":\"openssh-server\""),
                  "%s", out);
        cr_assert_null(strstr(out, "\"path\""), "%s", out);
        cr_assert(strstr(out, "\"changed\":0,\"violations\":0,\"packages\":1,"), "%s", out);
        free(out);
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        o.hostname = "hv01";
        dgrams d = send_syslog(&o);
        cr_assert_eq(d.n, 2);
        rfc5424 m;
        cr_assert_null(rfc5424_parse(d.v[0], &m), "%s", d.v[0]);
        cr_assert_str_eq(m.msgid, "package");
        cr_assert_str_eq(rfc5424_param(&m, "package"), "openssh-server");
        cr_assert_str_eq(rfc5424_param(&m, "arch"), "amd64");
        cr_assert_str_eq(rfc5424_param(&m, "change"), "behind");
        cr_assert(strstr(d.v[0], "package behind openssh-server (amd64): 1:9.2p1-2+deb12u3, baseline "
                                 "1:9.2p1-2+deb12u10 (high, rule openssh-server)"),
                  "%s", d.v[0]);
        rfc5424_free(&m);
        cr_assert_null(rfc5424_parse(d.v[1], &m));
        cr_assert_str_eq(rfc5424_param(&m, "packages"), "1");
        rfc5424_free(&m);
        dgrams_free(&d);
}

Test(report, vulnerable_events_and_the_guest_name_reach_every_sink) {
        vd_event e;
        memset(&e, 0, sizeof e);
        e.kind = VD_CH_VULNERABLE;
        e.package = true;
        e.path = strdup("libssl3");
        e.path_len = 7;
        e.arch = strdup("amd64");
        e.severity = VD_SEV_HIGH;
        e.rule = "advisories";
        size_t alloc = 0;
        vd_val none = {NULL, 0, false};
        vd_event_add_change(&e, &alloc, "version", 7, none, (vd_val){strdup("3.0.11-1~deb12u1"), 16, false}, NULL);
        vd_event_add_change(&e, &alloc, "advisory", 8, none, (vd_val){strdup("DSA-5532-1"), 10, false}, NULL);
        vd_event_add_change(&e, &alloc, "aliases", 7, none, (vd_val){strdup("CVE-2023-5363"), 13, false}, NULL);
        vd_event_add_change(&e, &alloc, "fixed", 5, none, (vd_val){strdup("3.0.11-1~deb12u2"), 16, false}, NULL);
        vd_events_push(&ev, &e);
        rep.guest = "web-01";
        rep.advisories_ecosystem = "Debian:12";
        rep.advisories_records = 50000;
        rep.advisories_files = 49000;
        char *out = render("text");
        cr_assert(strstr(out, "vmdrift scan of guest web-01: /srv/clone (dir)"), "%s", out);
        cr_assert(strstr(out, "\nAdvisories: 50000 records for Debian:12 (from 49000 files)\nVulnerable packages (1)\n"
                              "  high      libssl3 (amd64)  3.0.11-1~deb12u1  DSA-5532-1 (CVE-2023-5363)  fixed in "
                              "3.0.11-1~deb12u2\n"),
                  "%s", out);
        cr_assert_null(strstr(out, "\nPackages ("), "not package drift: %s", out);
        cr_assert(strstr(out, "(0 checks), 1 vulnerable\n"), "%s", out);
        free(out);
        out = render("json");
        cr_assert(strstr(out, "{\"event\":\"drift\",\"scan_id\":\"00000000-0000-4000-8000-000000000000\",\"guest\":"
                              "\"web-01\",\"package\":\"libssl3\",\"arch\":\"amd64\",\"change\":\"vulnerable\""),
                  "%s", out);
        cr_assert(strstr(out, "\"packages\":0,\"dormant\":0,\"vulnerable\":1,"), "%s", out);
        cr_assert(strstr(out, "\"advisories\":{\"ecosystem\":\"Debian:12\",\"records\":50000,\"files\":49000}"), "%s",
                  out);
        free(out);
        vd_sink_opts o;
        vd_sink_opts_init(&o);
        o.hostname = "hv01";
        dgrams d = send_syslog(&o);
        cr_assert_eq(d.n, 2);
        rfc5424 m;
        cr_assert_null(rfc5424_parse(d.v[0], &m), "%s", d.v[0]);
        cr_assert_str_eq(m.msgid, "vulnerable");
        cr_assert_str_eq(rfc5424_param(&m, "guest"), "web-01");
        cr_assert_str_eq(rfc5424_param(&m, "advisory"), "DSA-5532-1");
        cr_assert_str_eq(rfc5424_param(&m, "aliases"), "CVE-2023-5363");
        cr_assert_str_eq(rfc5424_param(&m, "fixed"), "3.0.11-1~deb12u2");
        cr_assert(strstr(d.v[0], "package vulnerable libssl3 (amd64): 3.0.11-1~deb12u1, DSA-5532-1 (CVE-2023-5363), "
                                 "fixed in 3.0.11-1~deb12u2 (high, rule advisories)"),
                  "%s", d.v[0]);
        rfc5424_free(&m);
        cr_assert_null(rfc5424_parse(d.v[1], &m));
        cr_assert_str_eq(rfc5424_param(&m, "vulnerable"), "1");
        cr_assert_str_eq(rfc5424_param(&m, "guest"), "web-01");
        rfc5424_free(&m);
        dgrams_free(&d);
}

/* The delta scan's line: what was taken unread, and, for a baseline without
 * block records, that its inodes were read and how to stop that. */
Test(report, the_delta_line_says_when_the_baseline_has_no_block_records) {
        vd_scan_stats st = {.is_guest = true, .delta = true, .delta_changed_bytes = 4096, .delta_walk = true,
                            .delta_unvisited = 9927, .delta_inodes_recorded = 9941};
        rep.stats = &st;
        char *out = render("text");
        cr_assert(strstr(out, "only what changed was walked, 9927 entries taken from the baseline unread"), "%s", out);
        cr_assert(!strstr(out, "no block records"), "%s", out);
        free(out);
        out = render("json");
        cr_assert(strstr(out, "\"unvisited\":9927,\"inodes_from_records\":9941,\"inodes_read\":0"), "%s", out);
        free(out);
        st.delta_inodes_recorded = 0;
        st.delta_inodes_read = 9941;
        out = render("text");
        cr_assert(strstr(out, "; 9941 inodes read to prove them (no block records in the baseline: capture it again "
                              "with this vmdrift to skip those reads)\n"),
                  "%s", out);
        free(out);
}
