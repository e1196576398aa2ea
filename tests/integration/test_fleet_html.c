/* The fleet's page (--report html:FILE) of a fleet of directory trees (no
 * appliance: the page is the same for images), rendered by a real browser:
 * headless Chromium dumps the DOM it built and takes a screenshot (kept in
 * the build's tests/ folder). Guest names and paths hold markup, quotes
 * and bidirectional characters: each must come out as text, and nothing
 * from the data may become an element or run. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"

#define A "\x1f"

static char *work;

static void setup(void) { work = th_mkdtemp(); }
static void teardown(void) {
        th_rmtree(work);
        free(work);
}
TestSuite(fleet_html, .init = setup, .fini = teardown, .timeout = 300);

static th_run fleet(void) {
        return th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state" A "--report" A
                          "html:%s/page.html" A "--progress" A "never",
                          work, work, work);
}

static bool matches(const char *s, const char *re) {
        regex_t r;
        cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
        bool m = regexec(&r, s, 0, NULL, 0) == 0;
        regfree(&r);
        return m;
}

Test(fleet_html, hostile_names_and_paths_render_as_text_in_a_real_browser) {
        th_write(work, "t/etc/motd", "hello\n");
        th_write(work, "t/etc/ssh/sshd_config", "PermitRootLogin no\n");
        th_run r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s/t" A "-o" A "%s/t.vdb", work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"sh", "-c", "cp -a \"$0/t\" \"$0/g1\" && cp -a \"$0/t\" \"$0/g2\"", work, NULL});
        th_run_free(&r);
        /* a path with markup, quotes and an ampersand; one with a right-to-left override */
        th_write(work, "g1/etc/<img src=x onerror=alert(1)>\"q'&.conf", "x");
        th_write(work, "g1/etc/invoice-\xe2\x80\xaegpj.exe", "y");
        th_write(work, "g2/etc/motd", "changed\n");
        th_write(work, "fleet.yaml", "defaults: {baseline: t.vdb}\nguests:\n"
                                     "  - {name: \"web<svg onload=alert(1)>\\\"'\\u202e\", dir: g1}\n"
                                     "  - {name: plain, dir: g2}\n  - {name: gone, dir: nothere}\n");
        mkdir(th_path(work, "state"), 0700);
        for (int i = 0; i < 32; i++) { /* the history keeps the last 30 runs */
                r = fleet();
                cr_assert_eq(r.status, 3, "%s%s", r.out, r.err); /* a guest unreachable */
                th_run_free(&r);
        }
        r = th_exec((const char *const[]){"cat", th_path(work, "page.html"), NULL});
        const char *page = r.out;
        /* self-contained: a policy that forbids scripts and every request, and nothing to request */
        cr_assert(strstr(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                               "style-src 'unsafe-inline'"),
                  "%s", page);
        cr_assert(!matches(page, "<script|<link|<img|<svg|<iframe|src=\"|href=|url\\(|@import|https?:"), "%s", page);
        cr_assert_eq(th_lines_with(page, "<span class=\"h ", NULL), 3, "%s", page);
        cr_assert(!matches(page, "(<span class=\"h [a-z]+\"[^>]*></span>){31}"), "more than 30 runs kept: %s", page);
        cr_assert(matches(page, "(<span class=\"h drift\"[^>]*></span>){30}"), "not 30 runs: %s", page);
        th_run_free(&r);

        /* the browser's own DOM: the hostile strings are text, no element came from them */
        char shot[4200];
        snprintf(shot, sizeof shot, "--screenshot=%s", VD_TEST_OUT "/fleet-page.png");
        const char *chromium[] = {"chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                  "--no-first-run", "--disable-extensions", "--dump-dom", NULL, NULL};
        char url[4200];
        snprintf(url, sizeof url, "file://%s/page.html", work);
        chromium[7] = url;
        th_run d = th_exec(chromium);
        cr_assert_eq(d.status, 0, "chromium: %s", d.err);
        const char *dom = d.out;
        cr_assert(strstr(dom, "<title>vmdrift fleet: "), "%s", dom);
        cr_assert(strstr(dom, "3 guests: <span class=\"st clean\">0 clean</span> <span class=\"st drift\">2 drift</span>"),
                  "%s", dom);
        cr_assert(strstr(dom, "web&lt;svg onload=alert(1)&gt;\"'\\xe2\\x80\\xae</summary>"), "%s", dom);
        cr_assert(strstr(dom, "/etc/&lt;img src=x onerror=alert(1)&gt;\"q'&amp;.conf"), "%s", dom);
        cr_assert(strstr(dom, "/etc/invoice-\\xe2\\x80\\xaegpj.exe"), "%s", dom);
        cr_assert(!matches(dom, "<(img|svg|script)|<[^>]* on[a-z]+="), "markup from the data became elements: %s", dom);
        cr_assert(!strstr(dom, "\xe2\x80\xae"), "a bidi override reached the page: %s", dom);
        /* the findings and each guest's events */
        cr_assert(matches(dom, "<td>unreachable</td><td class=\"sev s3\">high</td><td>gone</td>"), "%s", dom);
        cr_assert(strstr(dom, "<td class=\"path\">/etc/motd</td>"), "%s", dom);
        th_run_free(&d);
        /* and a screenshot of it, in the test's output */
        const char *ss[] = {"chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--window-size=1200,900", shot, url, NULL};
        d = th_exec(ss);
        cr_assert_eq(d.status, 0, "chromium: %s", d.err);
        struct stat st;
        cr_assert(stat(VD_TEST_OUT "/fleet-page.png", &st) == 0 && st.st_size > 10000, "no screenshot");
        th_run_free(&d);

        /* a scan is no fleet: html is refused with what to use */
        r = th_vmdrift("scan" A "--dir" A "%s/g1" A "--baseline" A "%s/t.vdb" A "--report" A "html:%s/x.html", work, work,
                       work);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "report 'html' is the fleet's page of every guest: vmdrift fleet --report html:FILE"),
                  "%s", r.err);
        th_run_free(&r);
}
