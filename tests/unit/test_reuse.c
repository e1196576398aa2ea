/* An untouched guest is not scanned again: the key changes with anything
 * the result depends on (an overlay's bytes even with size and times put
 * back, a backing image's identity, the baseline, the policy, the options),
 * a chain outside the allowed places gives no key, and a kept report comes
 * back event for event (hostile bytes included) or not at all. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "run/vd_reuse.h"
#include "run/vd_shortcut.h"
#include "run/vd_yarascan.h"

static char *dir;

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"sh", "-ec", script, dir, NULL});
        cr_assert_eq(r.status, 0, "%s: %s%s", script, r.out, r.err);
        th_run_free(&r);
}

static void setup(void) {
        dir = th_mkdtemp();
        sh("cd \"$0\" && mkdir -p state tmpl && chmod 700 state && qemu-img create -q -f qcow2 tmpl/base.qcow2 16M && "
           "qemu-img create -q -f qcow2 -b tmpl/base.qcow2 -F qcow2 c.qcow2");
}
static void teardown(void) {
        char other[600];
        snprintf(other, sizeof other, "%s.elsewhere", dir);
        th_rmtree(other);
        th_rmtree(dir);
        free(dir);
}
TestSuite(reuse, .init = setup, .fini = teardown, .timeout = 120);

static int key(const char *policy, const char *options, bool paranoid, vd_reuse_key *k, char *why) {
        char img[600], tmpl[600];
        snprintf(img, sizeof img, "%s/c.qcow2", dir);
        snprintf(tmpl, sizeof tmpl, "%s/tmpl", dir);
        const char *images[] = {img}, *allow[] = {tmpl};
        vd_err e = VD_ERR_INIT;
        why[0] = '\0';
        int r = vd_reuse_key_make(images, 1, NULL, allow, 1, "bdigest", policy, options, paranoid, k, why, 1024, &e);
        cr_assert_geq(r, 0, "%s", e.msg);
        return r;
}

Test(reuse, the_key_follows_everything_the_result_depends_on) {
        vd_reuse_key k0, k;
        char why[1024];
        cr_assert_eq(key("p", "o", false, &k0, why), 0, "%s", why);
        cr_assert_eq(key("p", "o", false, &k, why), 0);
        cr_assert_str_eq(k.digest, k0.digest, "nothing changed");
        cr_assert_eq(key("p2", "o", false, &k, why), 0);
        cr_assert_str_neq(k.digest, k0.digest, "the policy");
        cr_assert_str_eq(k.slot, k0.slot, "the same guest");
        cr_assert_eq(key("p", "o2", false, &k, why), 0);
        cr_assert_str_neq(k.digest, k0.digest, "the options");
        /* the overlay's bytes, with its size and times put back */
        sh("cd \"$0\" && touch -r c.qcow2 ref && qemu-io -c 'write -P 7 0 4096' c.qcow2 >/dev/null && "
           "touch -r ref c.qcow2");
        cr_assert_eq(key("p", "o", false, &k, why), 0);
        cr_assert_str_neq(k.digest, k0.digest, "a write into the overlay, mtime restored");
        vd_reuse_key k1 = k;
        /* the backing image: a new inode (replaced by a copy) */
        sh("cd \"$0\" && cp -p tmpl/base.qcow2 tmpl/b2 && mv tmpl/b2 tmpl/base.qcow2");
        cr_assert_eq(key("p", "o", false, &k, why), 0);
        cr_assert_str_neq(k.digest, k1.digest, "the backing image was replaced");
        /* --paranoid reads the backing image too: a different key than without */
        vd_reuse_key kp;
        cr_assert_eq(key("p", "o", true, &kp, why), 0);
        cr_assert_str_neq(kp.digest, k.digest);
        /* a backing file outside the allowed places: no key, and why */
        sh("cd \"$0\" && mkdir -p \"$0.elsewhere\" && qemu-img create -q -f qcow2 \"$0.elsewhere/b.qcow2\" 16M && "
           "qemu-img rebase -u -f qcow2 -b \"$0.elsewhere/b.qcow2\" -F qcow2 c.qcow2");
        cr_assert_eq(key("p", "o", false, &k, why), 1);
        cr_assert(strstr(why, "names the backing file") && strstr(why, "refused"), "%s", why);
}

Test(reuse, a_kept_report_comes_back_event_for_event_or_not_at_all) {
        vd_events ev;
        vd_events_init(&ev);
        vd_event e;
        memset(&e, 0, sizeof e);
        e.kind = VD_CH_CHANGED;
        e.ftype = 1;
        e.severity = VD_SEV_HIGH;
        e.rule = "ssh-config";
        e.detector = "suid";
        e.path = malloc(12);
        memcpy(e.path, "/etc/a\nb\xff\0z", 11);
        e.path_len = 11;
        size_t alloc = 0;
        cr_assert_eq(vd_event_add_change(&e, &alloc, "mode", 4, (vd_val){strdup("0644"), 4, true},
                                         (vd_val){strdup("04755"), 5, true}, strdup("a note")),
                     0);
        cr_assert_eq(vd_event_add_change(&e, &alloc, "target", 6, (vd_val){NULL, 0, false},
                                         (vd_val){strdup("/tmp/x"), 6, false}, NULL),
                     0);
        e.diff = strdup("--- a/etc/a\n+++ b/etc/a\n@@ -1 +1 @@\n-x\n+y\n");
        e.diff_len = strlen(e.diff);
        vd_events_push(&ev, &e);
        vd_warning w = {strdup("/tmp/deep"), 9, strdup("deeper than 4096 levels")};
        vd_report rep;
        memset(&rep, 0, sizeof rep);
        strcpy(rep.scan_id, "11111111-1111-4111-8111-111111111111");
        rep.started_ns = 1795413839000000000LL;
        rep.source_kind = "image";
        rep.source = "/srv/c.qcow2";
        rep.guest_os = "Debian 12";
        rep.inspection = "baseline layout";
        rep.totals.entries = 7859;
        rep.totals.files_hashed = 42;
        rep.events = &ev;
        rep.warnings = &w;
        rep.n_warnings = 1;
        vd_reuse_key k;
        char why[1024], state[600];
        snprintf(state, sizeof state, "%s/state", dir);
        cr_assert_eq(key("p", "o", false, &k, why), 0);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_reuse_save(state, &k, &rep, &err), 0, "%s", err.msg);
        vd_reused *u = NULL;
        cr_assert_eq(vd_reuse_load(state, &k, &u, &err), 0, "%s", err.msg);
        vd_report back;
        memset(&back, 0, sizeof back);
        vd_reused_report(u, &back);
        cr_assert_str_eq(back.reused_scan_id, rep.scan_id);
        cr_assert_eq(back.reused_started_ns, rep.started_ns);
        cr_assert_str_eq(back.source, "/srv/c.qcow2");
        cr_assert_str_eq(back.inspection, "baseline layout");
        cr_assert_eq(back.totals.entries, 7859);
        cr_assert_eq(back.n_warnings, 1);
        cr_assert_str_eq(back.warnings[0].msg, "deeper than 4096 levels");
        cr_assert_eq(back.events->n, 1);
        const vd_event *b = &back.events->v[0];
        cr_assert_eq(b->path_len, 11);
        cr_assert(memcmp(b->path, "/etc/a\nb\xff\0z", 11) == 0, "hostile bytes kept exactly");
        cr_assert_str_eq(b->rule, "ssh-config");
        cr_assert_str_eq(b->detector, "suid");
        cr_assert_null(b->config);
        cr_assert_eq(b->severity, VD_SEV_HIGH);
        cr_assert_eq(b->n_ch, 2);
        cr_assert_str_eq(b->ch[0].new_v.s, "04755");
        cr_assert(b->ch[0].new_v.num);
        cr_assert_str_eq(b->ch[0].note, "a note");
        cr_assert_null(b->ch[1].old_v.s);
        cr_assert_str_eq(b->diff, "--- a/etc/a\n+++ b/etc/a\n@@ -1 +1 @@\n-x\n+y\n", "a kept report repeats the diff");
        vd_reused_free(u);
        /* another digest: nothing */
        vd_reuse_key other = k;
        other.digest[0] = other.digest[0] == 'a' ? 'b' : 'a';
        cr_assert_eq(vd_reuse_load(state, &other, &u, &err), 1);
        cr_assert_null(u);
        /* a damaged file: an error naming it (the caller scans in full) */
        char f[800];
        snprintf(f, sizeof f, "%s/scans/%s.vdr", state, k.slot);
        cr_assert_eq(truncate(f, 200), 0);
        cr_assert_eq(vd_reuse_load(state, &k, &u, &err), VD_E_IO);
        cr_assert(strstr(err.msg, "damaged") && strstr(err.msg, k.slot), "%s", err.msg);
        /* through the shortcut: damaged is worth a warning, none is not */
        vd_shortcut_keys sk = {.have_key = true, .key = k};
        bool twin = true;
        vd_err warn = VD_ERR_INIT;
        cr_assert_eq(vd_shortcut_load(&sk, state, &u, &twin, &warn), 1);
        cr_assert(warn.code && strstr(warn.msg, "damaged"), "%s", warn.msg);
        cr_assert_not(twin);
        cr_assert_eq(unlink(f), 0);
        vd_err quiet = VD_ERR_INIT;
        cr_assert_eq(vd_shortcut_load(&sk, state, &u, &twin, &quiet), 1);
        cr_assert_eq(quiet.code, 0, "no kept report is not a warning: %s", quiet.msg);
        vd_events_release(&ev);
        free(w.path);
        free(w.msg);
}

/* The kept report's key takes the YARA rules (their compiled digest) and
 * --yara-all: other rules, or every file matched, is another result. */
Test(reuse, the_key_follows_the_yara_rules_and_yara_all) {
        vd_baseline *b = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_new(&b, &e), 0, "%s", e.msg);
        char img[600], tmpl[600], state[600];
        snprintf(img, sizeof img, "%s/c.qcow2", dir);
        snprintf(tmpl, sizeof tmpl, "%s/tmpl", dir);
        snprintf(state, sizeof state, "%s/state", dir);
        const char *images[] = {img}, *allow[] = {tmpl};
        sh("cd \"$0\" && printf 'rule a { strings: $a = \"alpha\" condition: $a }\\n' >a.yar && "
           "printf 'rule a { strings: $a = \"beta\" condition: $a }\\n' >b.yar");
        vd_yara *ya = NULL, *yb = NULL;
        char pa[700], pb[700];
        snprintf(pa, sizeof pa, "%s/a.yar", dir);
        snprintf(pb, sizeof pb, "%s/b.yar", dir);
        cr_assert_eq(vd_yara_load(pa, &ya, &e), 0, "%s", e.msg);
        cr_assert_eq(vd_yara_load(pb, &yb, &e), 0, "%s", e.msg);
        vd_yara_req reqs[] = {{NULL, false}, {ya, false}, {yb, false}, {ya, true}};
        char digests[4][65];
        for (int i = 0; i < 4; i++) {
                char yk[200];
                vd_yara_req_key(&reqs[i], yk, sizeof yk);
                vd_shortcut_in in = {.images = images, .n_images = 1, .allow_backing = allow, .n_allow_backing = 1,
                                     .state_dir = state, .baseline = b, .policy_digest = "p", .yara_key = yk};
                vd_shortcut_keys k;
                vd_shortcut_keys_make(&in, &k);
                cr_assert(k.have_key, "no key");
                snprintf(digests[i], sizeof digests[i], "%s", k.key.digest);
        }
        for (int i = 0; i < 4; i++)
                for (int j = i + 1; j < 4; j++)
                        cr_assert_str_neq(digests[i], digests[j], "requests %d and %d share a key", i, j);
        vd_yara_free(ya);
        vd_yara_free(yb);
        vd_baseline_free(b);
}
