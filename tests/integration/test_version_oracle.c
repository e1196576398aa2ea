/* Our version order against the package managers' own, on generated pairs:
 * dpkg --compare-versions for Debian, rpm's labelCompare (python3-rpm) for
 * RPM. Pairs come from a fixed seed: a failure reproduces. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "analyse/vd_version.h"

#define PAIRS 10000

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (unsigned)(rng % n);
}

/* A random mix of digits, letters, '~', '+', '.', '-' (and '^' for RPM),
 * sometimes with an epoch; near-equal pairs are made often, because that is
 * where orders disagree. */
static void gen(char *out, size_t cap, bool rpm, bool epoch_ok) {
        static const char deb_chars[] = "0123456789abcxyz~+.-";
        static const char rpm_chars[] = "0123456789abcxyzZ~^+._";
        const char *set = rpm ? rpm_chars : deb_chars;
        size_t n = 0;
        if (epoch_ok && rnd(4) == 0)
                n += (size_t)snprintf(out, cap, "%u:", rnd(3));
        out[n++] = (char)('0' + rnd(10)); /* Debian: upstream starts with a digit */
        unsigned len = 1 + rnd(10);
        for (unsigned i = 0; i < len && n + 2 < cap; i++)
                out[n++] = set[rnd((unsigned)strlen(set))];
        out[n] = '\0';
        if (!rpm) {
                size_t l = strlen(out);
                if (out[l - 1] == '-')
                        out[l - 1] = '0'; /* a revision may not be empty */
                char *colon = strchr(out, ':');
                char *up = colon ? colon + 1 : out;
                if (*up == '-' || *up == '~')
                        *up = '1';
        }
}

static void copy(char *out, size_t cap, const char *in) {
        size_t l = strlen(in);
        if (l >= cap)
                l = cap - 1;
        memcpy(out, in, l);
        out[l] = '\0';
}

static void mutate(const char *in, char *out, size_t cap, bool rpm) {
        copy(out, cap, in);
        size_t l = strlen(out);
        const char *set = rpm ? "0123456789az~^." : "0123456789az~+.";
        size_t at = 1 + rnd((unsigned)(l > 1 ? l - 1 : 1));
        if (at >= l)
                at = l - 1;
        switch (rnd(3)) {
        case 0: out[at] = set[rnd((unsigned)strlen(set))]; break;
        case 1:
                if (l + 2 < cap) {
                        out[l] = set[rnd((unsigned)strlen(set))];
                        out[l + 1] = '\0';
                }
                break;
        default: out[l - 1 > 0 ? l - 1 : 0] = '\0'; break;
        }
        if (!out[0] || out[0] == '-' || out[0] == '~' || out[0] == ':' || strchr(out, ':') != strrchr(out, ':'))
                copy(out, cap, in);
        size_t m = strlen(out);
        if (m && (out[m - 1] == '-' || out[m - 1] == ':'))
                out[m - 1] = '0';
}

static char a[PAIRS][48], b[PAIRS][48];

static void make_pairs(bool rpm) {
        for (int i = 0; i < PAIRS; i++) {
                gen(a[i], sizeof a[i], rpm, true);
                if (rnd(2))
                        mutate(a[i], b[i], sizeof b[i], rpm);
                else
                        gen(b[i], sizeof b[i], rpm, true);
        }
}

/* Compare cmp's answer with the oracle's (one -1/0/1 per line of out) for
 * every pair in the file's text; at least min pairs, no difference, and
 * each outcome well represented (else it is not a test of order). */
static void check_against(const char *pairs, const char *out, int (*cmp)(const char *, const char *),
                          const char *oracle, int min) {
        const char *p = pairs, *o = out;
        int n = 0, bad = 0, seen[3] = {0};
        char first_bad[640] = "";
        while (p && *p && o && *o) {
                char x[256], y[256];
                int want;
                if (sscanf(p, "%255s %255s", x, y) != 2 || sscanf(o, "%d", &want) != 1)
                        break;
                int got = cmp(x, y);
                got = (got > 0) - (got < 0);
                if (got != want && bad++ == 0)
                        snprintf(first_bad, sizeof first_bad, "%.200s vs %.200s: %s %d, ours %d", x, y, oracle, want,
                                 got);
                if (want >= -1 && want <= 1)
                        seen[want + 1]++;
                n++;
                p = strchr(p, '\n');
                o = strchr(o, '\n');
                if (p)
                        p++;
                if (o)
                        o++;
        }
        cr_assert_geq(n, min, "only %d pairs compared", n);
        cr_assert_eq(bad, 0, "%d of %d pairs differ from %s; first: %s", bad, n, oracle, first_bad);
        cr_assert(seen[0] > 500 && seen[1] > 100 && seen[2] > 500, "older %d, equal %d, newer %d: not a test of order",
                  seen[0], seen[1], seen[2]);
}

Test(version_oracle, debian_order_is_dpkgs_on_10000_pairs_and_real_versions) {
        make_pairs(false);
        char *dir = th_mkdtemp(), *in = th_join(dir, "pairs");
        FILE *f = fopen(in, "w");
        for (int i = 0; i < PAIRS; i++)
                fprintf(f, "%s %s\n", a[i], b[i]);
        /* real versions from this host's own dpkg database, against their neighbours */
        fclose(f);
        th_run r = th_exec((const char *const[]){
                "sh", "-c",
                "dpkg-query -W -f '${Version}\\n' | sort -u | head -400 > \"$0.real\"; "
                "paste -d' ' \"$0.real\" <(tail -n +2 \"$0.real\") | grep -v ' $' >> \"$0\" || true",
                in, NULL});
        th_run_free(&r);
        /* dpkg decides: lt, eq or gt for each pair */
        r = th_exec((const char *const[]){
                "bash", "-c",
                "while read -r x y; do if dpkg --compare-versions \"$x\" lt \"$y\" 2>/dev/null; then echo -1; "
                "elif dpkg --compare-versions \"$x\" eq \"$y\" 2>/dev/null; then echo 0; else echo 1; fi; "
                "done < \"$0\"",
                in, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run pairs = th_exec((const char *const[]){"cat", in, NULL});
        check_against(pairs.out, r.out, vd_version_cmp_deb, "dpkg", PAIRS);
        th_run_free(&r);
        th_run_free(&pairs);
        th_rmtree(dir);
        free(in);
        free(dir);
}

Test(version_oracle, rpm_order_is_rpms_on_10000_pairs) {
        make_pairs(true);
        char *dir = th_mkdtemp(), *in = th_join(dir, "pairs");
        FILE *f = fopen(in, "w");
        for (int i = 0; i < PAIRS; i++) {
                /* as labels: epoch:version-release, the release a second random string */
                char rel[48];
                gen(rel, sizeof rel, true, false);
                fprintf(f, "%s-%s %s-%s\n", a[i], rel, b[i], rnd(2) ? rel : "1");
        }
        fclose(f);
        th_run r = th_exec((const char *const[]){
                "/usr/bin/python3", "-c",
                "import rpm, sys\n"
                "def evr(s):\n"
                "    e, _, vr = s.rpartition(':')\n"
                "    v, _, r = vr.rpartition('-')\n"
                "    return (e or '0', v, r)\n"
                "for line in open(sys.argv[1]):\n"
                "    x, y = line.split()\n"
                "    print(rpm.labelCompare(evr(x), evr(y)))\n",
                in, NULL});
        cr_assert_eq(r.status, 0, "python3-rpm: %s", r.err);
        th_run pairs = th_exec((const char *const[]){"cat", in, NULL});
        check_against(pairs.out, r.out, vd_version_cmp_rpm, "rpm", PAIRS);
        th_run_free(&r);
        th_run_free(&pairs);
        th_rmtree(dir);
        free(in);
        free(dir);
}
