/* Known vulnerabilities from OSV records: the range evaluation of the OSV
 * schema (introduced, fixed, last_affected, limit, unsorted events, several
 * ranges, explicit versions) in the package manager's order; ecosystem and
 * source-package matching; severities (CVSS v3 base scores, words, the
 * policy's fallback); and records as untrusted input (all or nothing per
 * record, warnings with file:line:column, files and directories bounded). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse/vd_osv.h"
#include "policy/vd_policy.h"

static vd_package P(const char *name, const char *v, const char *rel, const char *source, const char *sv) {
        return (vd_package){(char *)name, (char *)v, (char *)rel, (char *)"amd64", 0, (char *)source, (char *)sv};
}

static vd_policy *policy(const char *yaml) {
        vd_policy *p = NULL;
        vd_err e = VD_ERR_INIT;
        if (!yaml)
                cr_assert_eq(vd_policy_new_default(&p, &e), 0);
        else
                cr_assert_eq(vd_policy_parse("p.yaml", yaml, strlen(yaml), &p, &e), 0, "%s", e.msg);
        return p;
}

static vd_advisories *adv(const char *eco, const char *json) {
        vd_advisories *a = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_advisories_new(eco, &a, &e), 0, "%s", e.msg);
        vd_advisories_add_json(a, json, strlen(json), "t.json");
        return a;
}

/* One record "A" for package pkg with the given ranges/versions JSON. */
static char *record(const char *eco, const char *pkg, const char *body) {
        char *s = NULL;
        cr_assert(asprintf(&s, "{\"id\":\"A\",\"affected\":[{\"package\":{\"ecosystem\":\"%s\",\"name\":\"%s\"},%s}]}",
                           eco, pkg, body) > 0);
        return s;
}

/* Is version v of package x affected by a record with body, in eco? */
static bool hit(const char *eco, const char *body, const char *v, const char **fixed_out) {
        char *j = record(eco, "x", body);
        vd_advisories *a = adv(eco, j);
        size_t nw;
        vd_advisories_warnings(a, &nw);
        cr_assert_eq(nw, 0, "%s: %s", j, nw ? vd_advisories_warnings(a, &nw)[0] : "");
        vd_policy *pol = policy(NULL);
        vd_package p = P("x", v, "", NULL, NULL);
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_advisories_match(a, &p, 1, pol, &ev, &e), 0, "%s", e.msg);
        bool h = ev.n > 0;
        static char fixed[64];
        fixed[0] = '\0';
        if (h) {
                const vd_attr_change *f = vd_event_find(&ev.v[0], "fixed");
                if (f && f->new_v.s)
                        snprintf(fixed, sizeof fixed, "%s", f->new_v.s);
        }
        if (fixed_out)
                *fixed_out = fixed;
        vd_events_release(&ev);
        vd_policy_free(pol);
        vd_advisories_free(a);
        free(j);
        return h;
}

#define RANGE(events) "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[" events "]}]"

Test(osv, ranges_follow_the_osv_evaluation_in_dpkg_order) {
        const char *b = RANGE("{\"introduced\":\"0\"},{\"fixed\":\"1.2-3+deb12u1\"}");
        const char *f = NULL;
        cr_assert(hit("Debian:12", b, "1.2-3", &f));
        cr_assert_str_eq(f, "1.2-3+deb12u1");
        cr_assert(hit("Debian:12", b, "1.2-3~bpo1", NULL), "~ sorts before the release");
        cr_assert_not(hit("Debian:12", b, "1.2-3+deb12u1", NULL), "the fixed version itself");
        cr_assert_not(hit("Debian:12", b, "1.2-10", NULL), "10 > 3 as numbers");
        cr_assert_not(hit("Debian:12", b, "1:1.0-1", NULL), "an epoch beats everything");
        /* introduced later; last_affected; events out of order */
        const char *c = RANGE("{\"last_affected\":\"2.5\"},{\"introduced\":\"2.0\"}");
        cr_assert_not(hit("Debian:12", c, "1.9", NULL));
        cr_assert(hit("Debian:12", c, "2.0", NULL));
        cr_assert(hit("Debian:12", c, "2.5", NULL), "last_affected is affected");
        cr_assert_not(hit("Debian:12", c, "2.5.1", NULL));
        /* reintroduced: two intervals in one range */
        const char *d = RANGE("{\"introduced\":\"1.0\"},{\"fixed\":\"1.5\"},{\"introduced\":\"2.0\"},{\"fixed\":\"2.3\"}");
        cr_assert(hit("Debian:12", d, "1.4", &f));
        cr_assert_str_eq(f, "1.5");
        cr_assert_not(hit("Debian:12", d, "1.7", NULL));
        cr_assert(hit("Debian:12", d, "2.1", &f));
        cr_assert_str_eq(f, "2.3", "the lowest fix above the installed version");
        /* a limit closes the range */
        cr_assert_not(hit("Debian:12", RANGE("{\"introduced\":\"0\"},{\"limit\":\"3.0\"}"), "3.1", NULL));
        /* no fix yet */
        cr_assert(hit("Debian:12", RANGE("{\"introduced\":\"0\"}"), "99", &f));
        cr_assert_str_eq(f, "");
        /* GIT and SEMVER ranges are not package versions */
        cr_assert_not(hit("Debian:12", "\"ranges\":[{\"type\":\"GIT\",\"events\":[{\"introduced\":\"0\"}]}]", "1", NULL));
}

Test(osv, explicit_versions_and_several_ranges) {
        const char *b = "\"versions\":[\"1.0-1\",\"1.0-2\"]," RANGE("{\"introduced\":\"3.0\"},{\"fixed\":\"3.1\"}");
        cr_assert(hit("Debian:12", b, "1.0-2", NULL));
        cr_assert_not(hit("Debian:12", b, "1.0-3", NULL));
        cr_assert(hit("Debian:12", b, "3.0.5", NULL));
        const char *two = "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.0\"}]},"
                          "{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"2.0\"},{\"fixed\":\"2.2\"}]}]";
        cr_assert(hit("Debian:12", two, "0.9", NULL));
        cr_assert_not(hit("Debian:12", two, "1.5", NULL));
        cr_assert(hit("Debian:12", two, "2.1", NULL));
}

Test(osv, rpm_ecosystems_compare_in_rpm_order) {
        const char *b = RANGE("{\"introduced\":\"0\"},{\"fixed\":\"1:3.0.7-25.el9_3\"}");
        cr_assert(hit("AlmaLinux:9", b, "1:3.0.7-24.el9", NULL));
        cr_assert_not(hit("AlmaLinux:9", b, "1:3.0.7-25.el9_3", NULL));
        cr_assert(hit("AlmaLinux:9", b, "3.0.9-1.el9", NULL), "a missing epoch is 0");
        /* rpm: 1.0~rc1 < 1.0 < 1.0^post */
        const char *c = RANGE("{\"introduced\":\"1.0\"}");
        cr_assert_not(hit("Rocky Linux:9", c, "1.0~rc1-1", NULL));
        cr_assert(hit("Rocky Linux:9", c, "1.0^post-1", NULL));
}

Test(osv, ecosystems_and_source_packages_match_exactly) {
        const char *j = "[{\"id\":\"DSA-1\",\"aliases\":[\"CVE-1\",\"CVE-2\"],\"affected\":["
                        "{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"}," RANGE(
                                "{\"introduced\":\"0\"},{\"fixed\":\"3.0.11-1~deb12u2\"}") "},"
                        "{\"package\":{\"ecosystem\":\"Debian:11\",\"name\":\"sudo\"}," RANGE("{\"introduced\":\"0\"}") "},"
                        "{\"package\":{\"ecosystem\":\"Debian:120\",\"name\":\"sudo\"}," RANGE("{\"introduced\":\"0\"}") "}]},"
                        "{\"id\":\"UBUNTU-1\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12:extra\",\"name\":"
                        "\"bash\"}," RANGE("{\"introduced\":\"0\"}") "}]}]";
        vd_advisories *a = adv("Debian:12", j);
        size_t files, records, entries;
        vd_advisories_counts(a, &files, &records, &entries);
        cr_assert_eq(records, 2);
        cr_assert_eq(entries, 2, "Debian:11 and Debian:120 are not Debian:12");
        vd_package pk[] = {
                P("bash", "5.2.15", "2+b7", NULL, NULL),
                P("libssl3", "3.0.11", "1~deb12u2+b1", "openssl", "3.0.11-1~deb12u1"), /* binNMU of an old source */
                P("openssl", "3.0.11", "1~deb12u2", NULL, NULL),                        /* fixed */
                P("sudo", "1.9", "1", NULL, NULL),
        };
        vd_policy *pol = policy(NULL);
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_advisories_match(a, pk, 4, pol, &ev, &e), 0, "%s", e.msg);
        cr_assert_eq(ev.n, 2);
        cr_assert_str_eq(ev.v[0].path, "bash", "Debian:12:extra is in Debian:12");
        const vd_event *s = &ev.v[1];
        cr_assert_str_eq(s->path, "libssl3", "matched by its source, at the source's version");
        cr_assert_eq(s->kind, VD_CH_VULNERABLE);
        cr_assert(s->package);
        cr_assert_str_eq(s->arch, "amd64");
        cr_assert_str_eq(vd_event_find(s, "version")->new_v.s, "3.0.11-1~deb12u2+b1");
        cr_assert_str_eq(vd_event_find(s, "advisory")->new_v.s, "DSA-1");
        cr_assert_str_eq(vd_event_find(s, "aliases")->new_v.s, "CVE-1, CVE-2");
        cr_assert_str_eq(vd_event_find(s, "fixed")->new_v.s, "3.0.11-1~deb12u2");
        cr_assert_str_eq(vd_event_find(s, "source")->new_v.s, "openssl");
        cr_assert_eq(s->severity, VD_SEV_MEDIUM, "no severity in the record: the policy's default");
        cr_assert_str_eq(s->rule, "advisories");
        vd_events_release(&ev);
        vd_policy_free(pol);
        vd_advisories_free(a);
}

Test(osv, cvss3_base_scores_are_computed_as_the_specification) {
        const struct {
                const char *v;
                double score;
                int sev;
        } t[] = {
                {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, VD_SEV_CRITICAL},
                {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, VD_SEV_CRITICAL},
                {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, VD_SEV_MEDIUM},
                {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5, VD_SEV_MEDIUM},
                {"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, VD_SEV_MEDIUM},
                {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, VD_SEV_HIGH},
                {"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, VD_SEV_LOW},
                {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, VD_SEV_INFO},
                {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/E:P", 9.9, VD_SEV_CRITICAL}, /* temporal ignored */
        };
        for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
                double s = -1;
                cr_assert_eq(vd_cvss3_severity(t[i].v, &s), t[i].sev, "%s", t[i].v);
                cr_assert_float_eq(s, t[i].score, 0.001, "%s: %.1f", t[i].v, s);
        }
        const char *bad[] = {"CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                             "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:NN/AC:L", "", NULL};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                cr_assert_eq(vd_cvss3_severity(bad[i], NULL), -1, "%s", bad[i] ? bad[i] : "NULL");
}

Test(osv, severity_comes_from_the_record_then_the_policy) {
        const char *j = "[{\"id\":\"C\",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/"
                        "C:H/I:H/A:H\"}],\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},"
                        RANGE("{\"introduced\":\"0\"}") "}]},"
                        "{\"id\":\"U\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"b\"},"
                        "\"ecosystem_specific\":{\"urgency\":\"low**\"}," RANGE("{\"introduced\":\"0\"}") "}]},"
                        "{\"id\":\"W\",\"database_specific\":{\"severity\":\"Important\"},\"affected\":[{\"package\":"
                        "{\"ecosystem\":\"Debian:12\",\"name\":\"c\"}," RANGE("{\"introduced\":\"0\"}") "}]},"
                        "{\"id\":\"N\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"d\"},"
                        "\"ecosystem_specific\":{\"urgency\":\"not yet assigned\"}," RANGE("{\"introduced\":\"0\"}") "}]}]";
        vd_advisories *a = adv("Debian:12", j);
        vd_package pk[] = {P("a", "1", "", NULL, NULL), P("b", "1", "", NULL, NULL), P("c", "1", "", NULL, NULL),
                           P("d", "1", "", NULL, NULL)};
        vd_policy *pol = policy("packages:\n  vulnerable: high\n  ignore: [\"c\"]\n");
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_advisories_match(a, pk, 4, pol, &ev, &e), 0, "%s", e.msg);
        cr_assert_eq(ev.n, 3, "c is ignored by the policy");
        cr_assert_eq(ev.v[0].severity, VD_SEV_CRITICAL);
        cr_assert_eq(ev.v[1].severity, VD_SEV_LOW, "Debian's urgency, its ** guess mark dropped");
        cr_assert_eq(ev.v[2].severity, VD_SEV_HIGH, "no usable severity: the policy's vulnerable");
        vd_events_release(&ev);
        vd_policy_free(pol);
        vd_advisories_free(a);
        /* "vulnerable: ignore" turns the matching off */
        a = adv("Debian:12", j);
        pol = policy("packages:\n  vulnerable: ignore\n");
        vd_events_init(&ev);
        cr_assert_eq(vd_advisories_match(a, pk, 4, pol, &ev, &e), 0);
        cr_assert_eq(ev.n, 0);
        vd_policy_free(pol);
        vd_advisories_free(a);
}

Test(osv, a_malformed_record_is_skipped_whole_and_named) {
        const char *j = "[{\"id\":\"GOOD\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},"
                        RANGE("{\"introduced\":\"0\"}") "}]},"
                        "{\"id\":\"HALF\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"b\"},"
                        RANGE("{\"introduced\":\"0\"}") "},{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"c\"},"
                        RANGE("{\"fixed\":\"1\",\"introduced\":\"0\"}") "}]},"
                        "{\"affected\":[]},"
                        "42]";
        vd_advisories *a = adv("Debian:12", j);
        size_t nw, files, records, entries;
        const char *const *w = vd_advisories_warnings(a, &nw);
        vd_advisories_counts(a, &files, &records, &entries);
        cr_assert_eq(records, 1);
        cr_assert_eq(entries, 1, "nothing of HALF is kept");
        cr_assert_eq(nw, 3);
        cr_assert(strstr(w[0], "t.json: HALF: a range event that is not one of"), "%s", w[0]);
        cr_assert(strstr(w[1], "t.json: a record without an \"id\""), "%s", w[1]);
        cr_assert(strstr(w[2], "t.json: not an OSV record"), "%s", w[2]);
        vd_advisories_free(a);
        a = adv("Debian:12", "{\"id\": \"X\",\n \"affected\": [}");
        w = vd_advisories_warnings(a, &nw);
        cr_assert_eq(nw, 1);
        cr_assert(strstr(w[0], "t.json:2:15: expected a value"), "%s", w[0]);
        vd_advisories_free(a);
}

static void put(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "%s", path);
        fputs(text, f);
        fclose(f);
}

Test(osv, directories_are_read_in_order_without_following_links) {
        char dir[] = "/tmp/vd-osv-XXXXXX", p[512];
        cr_assert_not_null(mkdtemp(dir));
        char *r1 = record("Debian:12", "a", RANGE("{\"introduced\":\"0\"}"));
        snprintf(p, sizeof p, "%s/A.json", dir);
        put(p, r1);
        snprintf(p, sizeof p, "%s/d1/d2/d3", dir);
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "mkdir -p %s/d1/d2/d3/d4/d5 && cp %s/A.json %s/d1/B.json && cp %s/A.json "
                                  "%s/d1/d2/d3/d4/d5/deep.json && ln -s /etc/passwd %s/link.json && ln -s d1 %s/dl && "
                                  "echo '{' > %s/d1/bad.json && echo notjson > %s/README",
                 dir, dir, dir, dir, dir, dir, dir, dir, dir);
        cr_assert_eq(system(cmd), 0);
        vd_advisories *a = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_advisories_load(dir, "Debian:12", &a, &e), 0, "%s", e.msg);
        size_t nw, files, records, entries;
        const char *const *w = vd_advisories_warnings(a, &nw);
        vd_advisories_counts(a, &files, &records, &entries);
        cr_assert_eq(files, 3, "A, d1/B and d1/bad: no link, no README, not deeper than four levels");
        cr_assert_eq(records, 2);
        cr_assert_eq(nw, 2);
        cr_assert(strstr(w[0], "/d1/bad.json:2:1: expected a member name"), "%s", w[0]);
        cr_assert(strstr(w[1], "/d1/d2/d3/d4/d5: deeper than 4 directory levels"), "%s", w[1]);
        vd_advisories_free(a);
        /* one file; a missing path */
        snprintf(p, sizeof p, "%s/A.json", dir);
        cr_assert_eq(vd_advisories_load(p, "Debian:12", &a, &e), 0, "%s", e.msg);
        vd_advisories_counts(a, &files, &records, &entries);
        cr_assert_eq(records, 1);
        vd_advisories_free(a);
        snprintf(p, sizeof p, "%s/none", dir);
        cr_assert_eq(vd_advisories_load(p, "Debian:12", &a, &e), VD_E_USAGE);
        cr_assert(strstr(e.msg, "cannot read advisories") && strstr(e.msg, "/none"), "%s", e.msg);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        system(cmd);
        free(r1);
}

Test(osv, the_guest_ecosystem_is_named_as_osv_names_it) {
        char b[64];
        cr_assert_str_eq(vd_osv_ecosystem("debian", "12.8", b), "Debian:12");
        cr_assert_str_eq(vd_osv_ecosystem("debian", "12", b), "Debian:12");
        cr_assert_str_eq(vd_osv_ecosystem("ubuntu", "22.4", b), "Ubuntu:22.04");
        cr_assert_str_eq(vd_osv_ecosystem("almalinux", "9.3", b), "AlmaLinux:9");
        cr_assert_str_eq(vd_osv_ecosystem("rocky", "9.4", b), "Rocky Linux:9");
        cr_assert_str_eq(vd_osv_ecosystem("alpine", "3.19", b), "Alpine:v3.19");
        cr_assert_null(vd_osv_ecosystem("windows", "10.0", b));
        cr_assert_null(vd_osv_ecosystem("debian", "", b));
        cr_assert_null(vd_osv_ecosystem(NULL, "12", b));
}
