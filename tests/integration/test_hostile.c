/* Replays tests/hostile/cases: each a hostile guest's change to its own
 * files, with the events the scan must give (see tests/hostile/README.md). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "common/vd_buf.h"

#define A "\x1f"
#define POLICY VD_EXAMPLES "/policies/debian.yaml"

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int keep_sh(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return n > 3 && strcmp(d->d_name + n - 3, ".sh") == 0;
}

/* Does one line of out hold every " && "-separated part of want? */
static bool line_has_all(const char *out, const char *want) {
        char *w = strdup(want);
        const char *parts[16];
        size_t n = 0;
        for (char *p = w, *q; p && n < 16; p = q) {
                q = strstr(p, " && ");
                if (q) {
                        *q = '\0';
                        q += 4;
                }
                parts[n++] = p;
        }
        bool found = false;
        for (const char *l = out; !found && l && *l;) {
                const char *nl = strchr(l, '\n');
                size_t ll = nl ? (size_t)(nl - l) : strlen(l);
                char *line = strndup(l, ll);
                bool all = true;
                for (size_t i = 0; all && i < n; i++)
                        all = strstr(line, parts[i]) != NULL;
                found = all;
                free(line);
                l = nl ? nl + 1 : NULL;
        }
        free(w);
        return found;
}

Test(hostile, every_case_gives_the_events_it_expects, .timeout = 600) {
        char *work = th_mkdtemp(), *tmpl = th_join(work, "tmpl"), *vdb = th_join(work, "t.vdb");
        th_run r = th_exec((const char *const[]){"bash", HOSTILE "/template.sh", tmpl, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "--policy" A POLICY A "-o" A "%s", tmpl, vdb);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);

        struct dirent **names;
        int n = scandir(HOSTILE "/cases", &names, keep_sh, by_name);
        cr_assert_gt(n, 0, "no cases");
        vd_buf fails;
        vd_buf_init(&fails, 0);
        for (int i = 0; i < n; i++) {
                char *script = th_join(HOSTILE "/cases", names[i]->d_name), *clone = th_join(work, "clone");
                th_run c = th_exec((const char *const[]){"sh", "-c", "rm -rf \"$1\" && cp -a \"$0\" \"$1\"", tmpl,
                                                         clone, NULL});
                th_run_free(&c);
                c = th_exec((const char *const[]){"bash", "-e", script, clone, NULL});
                cr_assert_eq(c.status, 0, "%s: %s", names[i]->d_name, c.err);
                th_run_free(&c);
                r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                               "ctime,inode" A "--fail-on" A "high" A "--report" A "json",
                               vdb, clone);
                th_run text = th_exec((const char *const[]){"cat", script, NULL});
                for (const char *l = text.out; l && *l;) {
                        const char *nl = strchr(l, '\n');
                        size_t ll = nl ? (size_t)(nl - l) : strlen(l);
                        char *line = strndup(l, ll);
                        int want_exit;
                        if (sscanf(line, "# expect-exit: %d", &want_exit) == 1 && r.status != want_exit)
                                vd_buf_addf(&fails, "%s: exit %d, expected %d\n%s\n", names[i]->d_name, r.status,
                                            want_exit, r.err);
                        else if (strncmp(line, "# expect: ", 10) == 0 && !line_has_all(r.out, line + 10))
                                vd_buf_addf(&fails, "%s: no line with %s\n", names[i]->d_name, line + 10);
                        else if (strncmp(line, "# expect-none: ", 15) == 0 && line_has_all(r.out, line + 15))
                                vd_buf_addf(&fails, "%s: a line with %s\n", names[i]->d_name, line + 15);
                        free(line);
                        l = nl ? nl + 1 : NULL;
                }
                th_run_free(&text);
                th_run_free(&r);
                free(script);
                free(clone);
                free(names[i]);
        }
        free(names);
        cr_assert_eq(fails.len, 0, "%s", fails.buf);
        vd_buf_release(&fails);
        th_rmtree(work);
        free(work);
        free(tmpl);
        free(vdb);
}
