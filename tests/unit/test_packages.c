/* Package drift: the comparison (added, removed, behind, ahead; several
 * installed versions; formats without an order), the policy's packages
 * section (severities, per-package globs, ignore, errors with line:column,
 * the canonical form), and dpkg's status file read from a directory tree
 * as untrusted input. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/vd_packages.h"
#include "analyse/vd_sbom.h"
#include "formats/vd_dpkg.h"
#include "policy/vd_policy.h"

static vd_package P(const char *name, int epoch, const char *v, const char *rel, const char *arch) {
        return (vd_package){(char *)name, (char *)v, (char *)rel, (char *)arch, epoch, NULL, NULL};
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

static const vd_event *find(const vd_events *ev, const char *name) {
        for (size_t i = 0; i < ev->n; i++)
                if (!strcmp(ev->v[i].path, name))
                        return &ev->v[i];
        return NULL;
}

static void expect(const vd_events *ev, const char *name, int kind, int sev, const char *old_v, const char *new_v) {
        const vd_event *e = find(ev, name);
        cr_assert_not_null(e, "no event for %s", name);
        cr_assert(e->package);
        cr_assert_eq(e->kind, kind, "%s: kind %s", name, vd_change_kind_name(e->kind));
        cr_assert_eq(e->severity, sev, "%s: severity %s", name, vd_severity_name(e->severity));
        const vd_attr_change *c = vd_event_find(e, "version");
        cr_assert_not_null(c);
        if (old_v)
                cr_assert_str_eq(c->old_v.s, old_v);
        else
                cr_assert_null(c->old_v.s);
        if (new_v)
                cr_assert_str_eq(c->new_v.s, new_v);
        else
                cr_assert_null(c->new_v.s);
}

Test(packages, deb_guest_against_its_baseline) {
        /* sorted by name, arch, as scans and baselines keep them */
        vd_package base[] = {P("bash", 0, "5.2.15", "2+b7", "amd64"), P("libc6", 0, "2.36", "9+deb12u9", "amd64"),
                             P("libc6", 0, "2.36", "9+deb12u9", "i386"), P("openssh-server", 1, "9.2p1", "2+deb12u10", "amd64"),
                             P("sudo", 0, "1.9.13p3", "1+deb12u1", "amd64"), P("tzdata", 0, "2024a", "0+deb12u1", "all")};
        vd_package cur[] = {P("libc6", 0, "2.36", "9+deb12u9", "amd64"), P("libc6", 0, "2.36", "9+deb12u4", "i386"),
                            P("netcat-openbsd", 0, "1.219", "1", "amd64"), P("openssh-server", 1, "9.2p1", "2+deb12u3", "amd64"),
                            P("sudo", 0, "1.9.13p3", "1+deb12u1~bpo1", "amd64"), P("tzdata", 0, "2024a", "0+deb12u1", "all")};
        vd_policy *pol = policy(NULL);
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_packages_compare(base, 6, cur, 6, VD_PKG_DEB, pol, &ev, &e), 0, "%s", e.msg);
        cr_assert_eq(ev.n, 5);
        expect(&ev, "bash", VD_CH_REMOVED, VD_SEV_LOW, "5.2.15-2+b7", NULL);
        expect(&ev, "netcat-openbsd", VD_CH_ADDED, VD_SEV_LOW, NULL, "1.219-1");
        expect(&ev, "openssh-server", VD_CH_BEHIND, VD_SEV_MEDIUM, "1:9.2p1-2+deb12u10", "1:9.2p1-2+deb12u3");
        /* u10 > u3 only as numbers: a string compare would say ahead */
        /* "~" sorts before the end: 1+deb12u1~bpo1 is older than 1+deb12u1 */
        expect(&ev, "sudo", VD_CH_BEHIND, VD_SEV_MEDIUM, "1.9.13p3-1+deb12u1", "1.9.13p3-1+deb12u1~bpo1");
        /* architectures are separate packages */
        const vd_event *l = find(&ev, "libc6");
        cr_assert_not_null(l);
        cr_assert_str_eq(l->arch, "i386");
        cr_assert_eq(l->kind, VD_CH_BEHIND);
        cr_assert_null(find(&ev, "tzdata"));
        vd_events_release(&ev);
        vd_policy_free(pol);
}

Test(packages, rpm_kernels_compare_newest_and_epochs_count) {
        vd_package base[] = {P("kernel", 0, "5.14.0", "362.8.1.el9_3", "x86_64"),
                             P("kernel", 0, "5.14.0", "427.13.1.el9_4", "x86_64"), P("openssl", 1, "3.0.7", "27.el9", "x86_64")};
        vd_package cur[] = {P("kernel", 0, "5.14.0", "362.8.1.el9_3", "x86_64"), P("kernel", 0, "5.14.0", "70.13.1.el9_0", "x86_64"),
                            P("openssl", 0, "3.2.2", "6.el9", "x86_64")};
        vd_policy *pol = policy("version: 1\npackages:\n  behind:\n    kernel: critical\n    \"openssl*\": high\n");
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_packages_compare(base, 3, cur, 3, VD_PKG_RPM, pol, &ev, &e), 0, "%s", e.msg);
        cr_assert_eq(ev.n, 2);
        /* newest installed kernel 362 against the baseline's newest 427 */
        expect(&ev, "kernel", VD_CH_BEHIND, VD_SEV_CRITICAL, "5.14.0-427.13.1.el9_4", "5.14.0-362.8.1.el9_3");
        cr_assert_str_eq(find(&ev, "kernel")->rule, "kernel");
        /* epoch 1 beats any version of epoch 0 */
        expect(&ev, "openssl", VD_CH_BEHIND, VD_SEV_HIGH, "1:3.0.7-27.el9", "3.2.2-6.el9");
        cr_assert_str_eq(find(&ev, "openssl")->rule, "openssl*");
        vd_events_release(&ev);
        vd_policy_free(pol);
}

Test(packages, policy_ignores_and_turns_kinds_off) {
        vd_package base[] = {P("a", 0, "1", "", "amd64"), P("linux-headers-6.1", 0, "1", "", "amd64"),
                             P("z", 0, "2", "", "amd64")};
        vd_package cur[] = {P("a", 0, "2", "", "amd64"), P("b", 0, "1", "", "amd64"), P("linux-headers-6.1", 0, "0", "", "amd64")};
        vd_policy *pol = policy("version: 1\npackages:\n  ahead: ignore\n  added: high\n  removed: ignore\n"
                                "  ignore: [\"linux-headers-*\"]\n");
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_packages_compare(base, 3, cur, 3, VD_PKG_DEB, pol, &ev, &e), 0);
        cr_assert_eq(ev.n, 1, "only the added package: %zu events", ev.n);
        expect(&ev, "b", VD_CH_ADDED, VD_SEV_HIGH, NULL, "1");
        vd_events_release(&ev);
        /* a format without an order: only "changed" */
        cr_assert_eq(vd_packages_compare(base, 3, cur, 3, VD_PKG_OTHER, pol, &ev, &e), 0);
        expect(&ev, "a", VD_CH_CHANGED, VD_SEV_LOW, "1", "2");
        vd_events_release(&ev);
        vd_policy_free(pol);
}

Test(packages, policy_errors_name_line_and_column_and_the_digest_covers_the_section) {
        static const struct {
                const char *yaml, *msg;
        } bad[] = {
                {"version: 1\npackages:\n  behind:\n    sudo: severe\n", "p.yaml:4:11: expected a severity"},
                {"version: 1\npackages:\n  wrong: 1\n", "p.yaml:3:3: unknown key 'wrong' in packages"},
                {"version: 1\npackages: [a]\n", "p.yaml:2:11: expected packages (a mapping)"},
                {"version: 1\npackages:\n  ignore: [\"\"]\n", "p.yaml:3:12: expected a package name or glob"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                vd_policy *p = NULL;
                vd_err e = VD_ERR_INIT;
                cr_assert_eq(vd_policy_parse("p.yaml", bad[i].yaml, strlen(bad[i].yaml), &p, &e), VD_E_INPUT,
                             "accepted: %s", bad[i].yaml);
                cr_assert(strstr(e.msg, bad[i].msg), "want '%s', got '%s'", bad[i].msg, e.msg);
        }
        char d1[65], d2[65], d3[65];
        vd_policy *a = policy("version: 1\n"), *b = policy("version: 1\npackages:\n  behind: high\n"),
                  *c = policy("version: 1\npackages:\n  behind: medium\n");
        vd_policy_digest(a, d1);
        vd_policy_digest(b, d2);
        vd_policy_digest(c, d3);
        cr_assert_str_neq(d1, d2);
        cr_assert_str_neq(d2, d3);
        vd_policy_free(a);
        vd_policy_free(b);
        vd_policy_free(c);
}

Test(packages, dpkg_status_is_parsed_as_untrusted_input) {
        const char *t = "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\n"
                        "Version: 1:9.2p1-2+deb12u3\nDescription: x\n Package: not-a-field\n\n"
                        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0-1\n\n"
                        "Package: noversion\nStatus: install ok installed\n\n"
                        "Package: badepoch\nStatus: install ok installed\nVersion: x:1.0\n\n"
                        "Package: native\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a\r\n\r\n"
                        "Package: last\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3-4-5";
        vd_scan s;
        vd_scan_init(&s);
        size_t skipped = 0;
        cr_assert_eq(vd_dpkg_parse(t, strlen(t), &s, &skipped), 0);
        cr_assert_eq(skipped, 2, "noversion and badepoch: %zu", skipped);
        cr_assert_eq(s.n_packages, 3);
        const vd_package *p = &s.packages[0];
        cr_assert_str_eq(p->name, "openssh-server");
        cr_assert_eq(p->epoch, 1);
        cr_assert_str_eq(p->version, "9.2p1");
        cr_assert_str_eq(p->release, "2+deb12u3");
        cr_assert_str_eq(s.packages[1].name, "native");
        cr_assert_str_eq(s.packages[1].version, "2024a");
        cr_assert_str_eq(s.packages[1].release, "");
        cr_assert_str_eq(s.packages[2].version, "3-4", "the revision is after the last hyphen");
        cr_assert_str_eq(s.packages[2].release, "5");
        char *l = vd_package_label(p);
        cr_assert_str_eq(l, "1:9.2p1-2+deb12u3");
        free(l);
        vd_scan_release(&s);

        /* a field longer than any real one: the stanza is skipped, not cut */
        char big[2000];
        int n = snprintf(big, sizeof big, "Package: x\nStatus: install ok installed\nVersion: 1.0\nArchitecture: ");
        memset(big + n, 'a', 1000);
        big[n + 1000] = '\0';
        vd_scan_init(&s);
        cr_assert_eq(vd_dpkg_parse(big, strlen(big), &s, &skipped), 0);
        cr_assert_eq(s.n_packages, 0);
        cr_assert_eq(skipped, 1);
        vd_scan_release(&s);
}

Test(packages, purls_follow_the_spec) {
        char k1[] = "os.distro", k2[] = "os.package_format", k3[] = "os.version", k4[] = "os.type";
        char debian[] = "debian", debf[] = "deb", d12[] = "12.8", rocky[] = "rocky", rpmf[] = "rpm", r9[] = "9.4",
             linux[] = "linux";
        vd_fact deb[] = {{k1, debian}, {k2, debf}, {k3, d12}};
        vd_fact rpm[] = {{k1, rocky}, {k2, rpmf}, {k3, r9}};
        vd_fact none[] = {{k4, linux}};
        vd_package ssh = P("openssh-server", 1, "9.2p1", "2+deb12u3", "amd64"), cxx = P("libstdc++6", 0, "12.2.0", "14", "amd64"),
                   ossl = P("openssl", 1, "3.0.7", "27.el9", "x86_64");
        char *u = vd_purl(&ssh, deb, 3);
        cr_assert_str_eq(u, "pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u3?arch=amd64&distro=debian-12");
        free(u);
        u = vd_purl(&cxx, deb, 3);
        cr_assert_str_eq(u, "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12");
        free(u);
        u = vd_purl(&ossl, rpm, 3);
        cr_assert_str_eq(u, "pkg:rpm/rocky/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rocky-9");
        free(u);
        u = vd_purl(&ossl, none, 1);
        cr_assert_str_eq(u, "pkg:generic/openssl@1:3.0.7-27.el9?arch=x86_64");
        free(u);
}

/* Advisories name source packages: dpkg's Source field, with the source's
 * own version when it differs (a binNMU). */
Test(packages, dpkg_source_packages_are_kept) {
        const char *t = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\n"
                        "Version: 2.36-9+deb12u4\n\n"
                        "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n"
                        "Source: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2+b1\n\n"
                        "Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nSource: sudo\n"
                        "Version: 1.9.13p3-1+deb12u1\n\n"
                        "Package: odd\nStatus: install ok installed\nArchitecture: amd64\nSource: odd (\n"
                        "Version: 1\n";
        vd_scan s;
        vd_scan_init(&s);
        size_t skipped = 0;
        cr_assert_eq(vd_dpkg_parse(t, strlen(t), &s, &skipped), 0);
        cr_assert_eq(s.n_packages, 4);
        cr_assert_str_eq(s.packages[0].source, "glibc");
        cr_assert_null(s.packages[0].source_version);
        cr_assert_str_eq(s.packages[1].source, "openssl");
        cr_assert_str_eq(s.packages[1].source_version, "3.0.11-1~deb12u2");
        cr_assert_null(s.packages[2].source, "the same name as the binary");
        cr_assert_null(s.packages[3].source, "a malformed version part is ignored");
        vd_scan_release(&s);
}
