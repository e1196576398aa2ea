/* The scan pipeline. */
#define _GNU_SOURCE
#include "run/vd_pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "analyse/vd_compare.h"
#include "run/vd_texts.h"
#include "analyse/vd_confscan.h"
#include "analyse/vd_detect.h"
#include "analyse/vd_osv.h"
#include "analyse/vd_packages.h"
#include "collect/vd_hash.h"
#include "common/vd_log.h"
#include "common/vd_str.h"
#include "common/vd_testpoint.h"
#include "formats/vd_dpkg.h"

#include "vd_stream_int.h"

void vd_run_init(vd_run *run, int mode) {
        memset(run, 0, sizeof *run);
        run->mode = mode;
        vd_scan_opts_init(&run->opts);
}

void vd_run_out_init(vd_run_out *out) {
        memset(out, 0, sizeof *out);
        vd_scan_init(&out->scan);
        vd_events_init(&out->events);
        vd_events_init(&out->violations);
        vd_confsets_init(&out->conf);
}

void vd_run_out_release(vd_run_out *out) {
        vd_events_release(&out->events);
        vd_events_release(&out->violations);
        vd_confsets_release(&out->conf);
        vd_contents_release(&out->texts);
        vd_scan_release(&out->scan);
        free(out->last_activity_buf);
        out->last_activity_buf = NULL;
}

/* A directory tree's installed packages, from its dpkg status file (a
 * template rootfs, a mounted Debian guest). No such file: none known. */
/* os-release: ID, VERSION_ID and PRETTY_NAME as inspection names them
 * (os.distro, os.version, os.product). Values may be quoted; anything odd is
 * left out. */
static int dir_os_release(vd_source *src, vd_scan *sc) {
        vd_buf b;
        vd_buf_init(&b, 65537);
        vd_err e = VD_ERR_INIT;
        int r = src->ops->read_file(src, "/etc/os-release", 65536, &b, &e);
        if (r < 0) {
                vd_buf_release(&b);
                return r == VD_E_NOMEM ? r : 0;
        }
        static const char *const keys[][2] = {{"ID", "os.distro"}, {"VERSION_ID", "os.version"},
                                              {"PRETTY_NAME", "os.product"}};
        r = 0;
        for (size_t off = 0; off < b.len && r == 0;) {
                const char *l = b.buf + off, *nl = memchr(l, '\n', b.len - off);
                size_t n = nl ? (size_t)(nl - l) : b.len - off;
                off += n + 1;
                const char *eq = memchr(l, '=', n);
                if (!eq)
                        continue;
                size_t kl = (size_t)(eq - l), vl = n - kl - 1;
                const char *v = eq + 1;
                if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
                        v++;
                        vl -= 2;
                }
                if (vl == 0 || vl > 200 || !vd_text_clean(v, vl) || memchr(v, '"', vl) || memchr(v, '\\', vl))
                        continue;
                for (size_t k = 0; k < 3; k++)
                        if (strlen(keys[k][0]) == kl && !memcmp(l, keys[k][0], kl) && !vd_scan_fact(sc, keys[k][1])) {
                                char val[201];
                                memcpy(val, v, vl);
                                val[vl] = '\0';
                                r = vd_scan_add_fact(sc, keys[k][1], val);
                        }
        }
        vd_buf_release(&b);
        return r;
}

int vd_dir_packages(vd_source *src, vd_scan *sc, vd_err *err) {
        if (dir_os_release(src, sc) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_scan_sort_inventory(sc);
        vd_buf b;
        vd_buf_init(&b, VD_READ_FILE_MAX + 1);
        vd_err e = VD_ERR_INIT;
        int r = src->ops->read_file(src, "/var/lib/dpkg/status", VD_READ_FILE_MAX, &b, &e);
        if (r < 0) {
                vd_buf_release(&b);
                if (r == VD_E_NOMEM)
                        return vd_err_set(err, r, "out of memory");
                if (e.errnum != ENOENT && vd_scan_warn(sc, NULL, 0, "/var/lib/dpkg/status: %s: installed "
                                                                   "packages not known", e.msg) < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                return 0;
        }
        size_t skipped = 0;
        r = vd_dpkg_parse(b.buf ? b.buf : "", b.len, sc, &skipped);
        vd_buf_release(&b);
        if (r == 0 && skipped)
                r = vd_scan_warn(sc, "/var/lib/dpkg/status", 20, "%zu package stanzas are malformed or over the "
                                 "limit (%d packages): not recorded", skipped, VD_DPKG_PACKAGES_MAX);
        if (r == 0 && !vd_scan_fact(sc, "os.package_format"))
                r = vd_scan_add_fact(sc, "os.package_format", "deb");
        if (r < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        sc->packages_known = true;
        vd_scan_sort_inventory(sc);
        vd_debug("dpkg status: %zu packages", sc->n_packages);
        return 0;
}

/* The newest file under /var/log: the guest's own last sign of life. Times
 * more than a day ahead of this host's clock are not evidence (a guest can
 * set any mtime; one in the future would hide dormancy for ever). */
/* since_ns: when the walk began (a file more than a day after is not a
 * sign of life); a streamed scan finds the same as it goes (vd_stream.c). */
static int last_activity(vd_run_out *out, int64_t since_ns) {
        size_t future = 0;
        const vd_entries *es = &out->scan.entries;
        for (size_t i = 0; i < es->n; i++) {
                const vd_entry *e = es->v[i];
                if (e->type != VD_T_REG || e->path_len < 10 || memcmp(e->path, "/var/log/", 9) != 0)
                        continue;
                if (e->mtime_ns > since_ns + (int64_t)86400 * 1000000000) {
                        future++;
                        continue;
                }
                if (e->mtime_ns > out->last_activity_ns) {
                        out->last_activity_ns = e->mtime_ns;
                        out->last_activity_path = e->path;
                        out->last_activity_path_len = e->path_len;
                }
        }
        if (future && vd_scan_warn(&out->scan, "/var/log", 8, "%zu files have modification times more than a day "
                                   "ahead of this host's clock: not taken as signs of life", future) < 0)
                return VD_E_NOMEM;
        return 0;
}

/* The guest's packages against an offline OSV feed. The feed's problems are
 * warnings: the scan still reports everything else. */
static int advisories(const vd_run *run, const vd_baseline *pb, vd_run_out *out, vd_err *err) {
        int64_t t = vd_now_ns();
        const char *eco = run->ecosystem;
        if (!eco) {
                const char *distro = vd_scan_fact(&out->scan, "os.distro"), *ver = vd_scan_fact(&out->scan, "os.version");
                for (size_t i = 0; i < pb->n_facts; i++) { /* a guest whose inventory was reused */
                        if (!distro && !strcmp(pb->facts[i].key, "os.distro"))
                                distro = pb->facts[i].value;
                        if (!ver && !strcmp(pb->facts[i].key, "os.version"))
                                ver = pb->facts[i].value;
                }
                eco = vd_osv_ecosystem(distro, ver, out->ecosystem);
                if (!eco)
                        return vd_scan_warn(&out->scan, NULL, 0,
                                            "--advisories: the guest's OSV ecosystem is not known (distribution "
                                            "'%s', version '%s'): give --ecosystem, e.g. Debian:12; nothing matched",
                                            distro ? distro : "?", ver ? ver : "?") < 0
                                       ? vd_err_set(err, VD_E_NOMEM, "out of memory")
                                       : 0;
        }
        if (eco != out->ecosystem)
                snprintf(out->ecosystem, sizeof out->ecosystem, "%s", eco);
        if (!out->scan.packages_known)
                return vd_scan_warn(&out->scan, NULL, 0, "--advisories: the guest's packages are not known (no "
                                    "package database was read), nothing matched") < 0
                               ? vd_err_set(err, VD_E_NOMEM, "out of memory")
                               : 0;
        vd_advisories *adv = NULL;
        if (vd_advisories_load(run->advisories, eco, &adv, err) < 0)
                return err->code;
        size_t nw = 0, entries = 0;
        const char *const *w = vd_advisories_warnings(adv, &nw);
        int r = 0;
        for (size_t i = 0; i < nw && r == 0; i++)
                if (vd_scan_warn(&out->scan, NULL, 0, "advisories: %s", w[i]) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_advisories_counts(adv, &out->advisory_files, &out->advisory_records, &entries);
        size_t before = out->events.n;
        if (r == 0)
                r = vd_advisories_match(adv, out->scan.packages, out->scan.n_packages, run->policy, &out->events, err);
        vd_advisories_free(adv);
        out->advisories_ns = vd_now_ns() - t;
        vd_debug("advisories: %zu records (%zu entries) of %s from %zu files: %zu hits in %lld ms",
                 out->advisory_records, entries, eco, out->advisory_files, out->events.n - before,
                 (long long)(out->advisories_ns / 1000000));
        return r;
}

static int dormant(const vd_run *run, vd_run_out *out, int64_t now_ns, vd_err *err) {
        int sev;
        int64_t after = vd_policy_dormant_after(run->policy, &sev);
        if (!after)
                return 0;
        if (!out->last_activity_ns) {
                if (vd_scan_warn(&out->scan, NULL, 0, "no file under /var/log: the guest's last sign of life is "
                                 "unknown, dormant_after not judged") < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                return 0;
        }
        if (now_ns - out->last_activity_ns <= after * 1000000000)
                return 0;
        vd_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = VD_CH_DORMANT;
        ev.ftype = VD_T_REG;
        ev.severity = sev;
        ev.rule = "dormant_after";
        size_t alloc = 0;
        vd_buf t;
        vd_buf_init(&t, 64);
        char *days = NULL;
        if (vd_time_rfc3339(&t, out->last_activity_ns) < 0 ||
            asprintf(&days, "%lld", (long long)((now_ns - out->last_activity_ns) / 1000000000 / 86400)) < 0)
                days = NULL;
        char *when = vd_buf_detach(&t, NULL);
        ev.path = malloc(out->last_activity_path_len + 1);
        if (ev.path) {
                memcpy(ev.path, out->last_activity_path, out->last_activity_path_len);
                ev.path[out->last_activity_path_len] = '\0';
                ev.path_len = out->last_activity_path_len;
        }
        int r = !ev.path || !when || !days ? VD_E_NOMEM : 0;
        if (r == 0)
                r = vd_event_add_change(&ev, &alloc, "last_activity", 13, (vd_val){NULL, 0, false},
                                        (vd_val){when, strlen(when), false}, NULL);
        else
                free(when);
        when = NULL;
        if (r == 0)
                r = vd_event_add_change(&ev, &alloc, "days_idle", 9, (vd_val){NULL, 0, false},
                                        (vd_val){days, strlen(days), true}, NULL);
        else
                free(days);
        if (r == 0)
                r = vd_events_push(&out->events, &ev);
        if (r < 0) {
                vd_event_release(&ev);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

/* The walk and, unless capturing, the file drift: the source's entries in
 * out->scan, compared with the baseline's list. */
static int walk_collected(const vd_run *run, vd_scan_opts *o, vd_run_out *out, vd_err *err) {
        const vd_baseline *b = run->base;
        if (run->mode == VD_RUN_SCAN && run->quick)
                o->reference = &b->entries;
        else if (run->mode == VD_RUN_SCAN && run->delta)
                o->delta_reference = &b->entries;
        /* a capture notes each inode's blocks for later delta scans */
        o->want_records = run->mode == VD_RUN_CAPTURE;
        if (run->mode != VD_RUN_CAPTURE)
                vd_debug("baseline and policy loaded: %zu entries, %zu rules", b->entries.n,
                         vd_policy_n_rules(run->policy));
        /* The configuration files as the baseline has them: a guest reads
         * them in its walk's pass (one appliance command, not two). */
        char **ahead = NULL;
        size_t n_ahead = 0;
        if (vd_config_files(&b->entries, run->policy, &ahead, &n_ahead, err) < 0)
                return err->code;
        const char **globs = NULL;
        size_t n_globs = 0;
        if (vd_config_globs(run->policy, &globs, &n_globs, err) < 0) {
                for (size_t i = 0; i < n_ahead; i++)
                        free(ahead[i]);
                free(ahead);
                return err->code;
        }
        o->read_ahead = (const char *const *)ahead;
        o->n_read_ahead = n_ahead;
        o->read_ahead_max = VD_CONF_FILE_MAX;
        o->read_ahead_globs = globs;
        o->n_read_ahead_globs = n_globs;
        int sr = vd_source_scan(run->src, o, &out->scan, err);
        for (size_t i = 0; i < n_ahead; i++)
                free(ahead[i]);
        free(ahead);
        free(globs);
        if (sr < 0)
                return err->code;
        out->n_entries = out->scan.entries.n;
        vd_debug("source walked: %zu entries", out->scan.entries.n);
        if (run->mode == VD_RUN_CAPTURE)
                return 0;
        int64_t t = vd_now_ns();
        if (vd_compare_scan(&b->entries, &out->scan, run->policy, &out->events, err) < 0)
                return err->code;
        out->compare_ns = vd_now_ns() - t;
        vd_debug("compared: %zu events", out->events.n);
        return 0;
}

static int exec_rest(const vd_run *run, vd_run_out *out, int64_t since, const vd_entry_view *now_view,
                     const vd_entry_view *base_view, vd_err *err);

int vd_run_exec(const vd_run *run, vd_run_out *out, vd_err *err) {
        const vd_baseline *b = run->base;
        vd_scan_opts o = run->opts;
        o.hash_algo = b->hash_algo;
        memcpy(o.seed, b->seed, sizeof o.seed);
        int64_t since = vd_now_ns();
        /* a baseline left in its file: a scan that streams (vd_stream.c) */
        vd_stream *st = NULL;
        if ((b->lazy && (run->mode != VD_RUN_SCAN || run->quick)) || (run->writer && run->mode != VD_RUN_CAPTURE))
                return vd_err_set(err, VD_E_INTERNAL, "a streaming run that is not a full scan or a capture");
        /* YARA matches from the host's hashing as it goes (vd_yarascan.h) */
        vd_yarascan *ys = NULL;
        if (run->mode == VD_RUN_SCAN &&
            vd_yarascan_new(&run->yara, run->policy, b->lazy ? NULL : &b->entries, &ys, err) < 0)
                return err->code;
        o.tap = vd_yarascan_tap(ys);
        int r;
        vd_entry_view now = vd_entry_view_of(&out->scan.entries), base = vd_entry_view_of(&b->entries);
        if (run->writer) {
                /* a capture that streams: what it put is found in its file */
                o.want_records = true;
                r = vd_stream_capture(run, &o, out, err);
                now = vd_baseline_writer_view(run->writer);
        } else if (b->lazy) {
                r = vd_stream_walk(run, &o, since, out, &st, err);
                if (r == 0) {
                        now = vd_stream_now(st);
                        base = vd_stream_base(st);
                }
        } else
                r = walk_collected(run, &o, out, err);
        if (r == 0)
                r = exec_rest(run, out, since, &now, &base, err);
        if (r == 0)
                r = vd_yarascan_finish(ys, run->src, &now, &base, &out->events, &out->scan, err);
        vd_yarascan_free(ys);
        if (r == 0 && st)
                r = vd_stream_check(st, err);
        if (r == 0 && run->writer)
                r = vd_baseline_writer_check(run->writer, err);
        vd_stream_free(st);
        return r;
}

/* After the walk: configuration values, their drift, packages, advisories,
 * the guest's last sign of life. */
static int exec_rest(const vd_run *run, vd_run_out *out, int64_t since, const vd_entry_view *now_view,
                     const vd_entry_view *base_view, vd_err *err) {
        const vd_baseline *b = run->base;
        if (!strcmp(run->src->ops->kind, "dir") && vd_dir_packages(run->src, &out->scan, err) < 0)
                return err->code;
        vd_test_point("scan:walked");
        if (run->mode == VD_RUN_SCAN && run->warning && vd_scan_warn(&out->scan, NULL, 0, "%s", run->warning) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int64_t t2 = vd_now_ns();
        vd_events *viol = run->mode == VD_RUN_SCAN ? &out->events : &out->violations;
        if (vd_config_collect(run->src, now_view, run->policy, b->seed, sizeof b->seed, &out->conf, viol,
                              &out->scan, err) < 0)
                return err->code;
        out->config_ns = vd_now_ns() - t2;
        vd_texts_ctx tc = {run->src, run->policy, b->hash_algo, b->seed, &out->scan};
        if (run->mode == VD_RUN_CAPTURE && vd_texts_capture(&tc, now_view, &out->texts, err) < 0)
                return err->code;
        /* an accept keeps the text of what it takes in */
        if (run->mode == VD_RUN_ACCEPT &&
            vd_texts_diff(&tc, now_view, base_view, &b->contents, &out->events, &out->texts, err) < 0)
                return err->code;
        if (run->mode != VD_RUN_SCAN)
                return 0;
        int64_t t = vd_now_ns();
        if (vd_config_compare(&b->config, base_view, &out->conf, run->policy, &out->events, &out->scan, err) < 0)
                return err->code;
        if (vd_detect_named_programs(run->policy, &out->events) < 0 ||
            vd_compare_name_accounts(&out->scan, &out->events) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        /* what changed inside the files the policy keeps the text of */
        if (vd_texts_diff(&tc, now_view, base_view, &b->contents, &out->events, &out->texts, err) < 0)
                return err->code;
        out->config_ns += vd_now_ns() - t;
        vd_debug("configuration: %zu files; %zu events in all", out->conf.n, out->events.n);
        /* Packages: when the guest's database was read (a directory tree
         * or a guest without one has nothing to compare) */
        const vd_baseline *pb = run->packages_from ? run->packages_from : b;
        if (out->scan.packages_known) {
                const char *fmt = vd_scan_fact(&out->scan, "os.package_format");
                for (size_t i = 0; !fmt && i < pb->n_facts; i++)
                        if (!strcmp(pb->facts[i].key, "os.package_format"))
                                fmt = pb->facts[i].value;
                size_t before = out->events.n;
                if (vd_packages_compare(pb->packages, pb->n_packages, out->scan.packages, out->scan.n_packages,
                                        vd_pkg_format_of(fmt), run->policy, &out->events, err) < 0)
                        return err->code;
                vd_debug("packages: %zu against %zu of the %s baseline: %zu events", out->scan.n_packages,
                         pb->n_packages, run->packages_from ? "--packages-from" : "scan's", out->events.n - before);
        } else if (run->packages_from &&
                   vd_scan_warn(&out->scan, NULL, 0, "--packages-from: the guest's packages are not known (no "
                                "package database was read), nothing compared") < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (run->advisories && advisories(run, pb, out, err) < 0)
                return err->code;
        int64_t now = vd_now_ns();
        if (!out->last_activity_buf && last_activity(out, since) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (dormant(run, out, now, err) < 0)
                return err->code;
        const char *dg = run->policy_digest;
        if (dg && b->policy_digest && strcmp(dg, b->policy_digest) != 0 &&
            vd_scan_warn(&out->scan, NULL, 0,
                         "scanning under policy %s (sha256 %.12s), but the baseline was captured under %s "
                         "(sha256 %.12s): configuration files only one of them names are not compared",
                         vd_policy_source(run->policy), dg, b->policy_source ? b->policy_source : "?",
                         b->policy_digest) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        return 0;
}

void vd_scan_id(char out[37]) { vd_uuid4(out); }

void vd_report_baseline(const vd_baseline *b, const char *baseline_path, bool verified, char trust[96],
                        vd_report *rep) {
        rep->baseline_path = baseline_path;
        rep->baseline_source = b->source;
        rep->baseline_digest = b->content_digest;
        rep->baseline_created_ns = b->created_ns;
        rep->baseline_trust = vd_baseline_trust(b, verified, trust);
        rep->baseline_verified = verified;
}

void vd_run_report(const vd_run *run, const vd_run_out *out, const char *baseline_path, bool verified,
                   int fail_on, char trust[96], vd_report *rep) {
        memset(rep, 0, sizeof *rep);
        vd_scan_id(rep->scan_id);
        rep->source_kind = run->src->ops->kind;
        rep->source = run->src->desc;
        vd_report_baseline(run->base, baseline_path, verified, trust, rep);
        const vd_scan *sc = &out->scan;
        rep->phase_ns[VD_PH_LAUNCH] = sc->st.launch_ns;
        rep->phase_ns[VD_PH_MOUNT] = sc->st.mount_ns;
        rep->phase_ns[VD_PH_WALK] = sc->duration_ns - sc->st.hash_ns;
        rep->phase_ns[VD_PH_HASH] = sc->st.hash_ns;
        rep->phase_ns[VD_PH_CONFIG] = out->config_ns;
        rep->phase_ns[VD_PH_COMPARE] = out->compare_ns;
        rep->started_ns = run->started_ns ? run->started_ns : sc->started_ns - sc->st.launch_ns - sc->st.mount_ns;
        rep->duration_ns = vd_now_ns() - rep->started_ns;
        rep->inspection = sc->st.is_guest ? (sc->st.layout_reused ? "baseline layout" : "full") : NULL;
        rep->appliance = sc->st.is_guest ? (sc->st.appliance_shared ? "shared" : "launched") : NULL;
        rep->appliance_guests = sc->st.appliance_guests ? sc->st.appliance_guests : 1;
        rep->appliance_peers = sc->appliance_peers;
        rep->events = &out->events;
        rep->warnings = out->scan.warnings;
        rep->n_warnings = out->scan.n_warnings;
        rep->totals = (vd_scan_totals){out->n_entries, out->scan.st.files_hashed, out->scan.st.bytes_hashed};
        rep->last_activity_ns = out->last_activity_ns;
        rep->last_activity_path = out->last_activity_path;
        rep->last_activity_path_len = out->last_activity_path_len;
        rep->stats = &sc->st;
        rep->may_be_inconsistent = out->scan.may_be_inconsistent;
        if (run->advisories && out->ecosystem[0]) {
                rep->advisories_ecosystem = out->ecosystem;
                rep->advisories_records = out->advisory_records;
                rep->advisories_files = out->advisory_files;
        }
        rep->guest_os = vd_scan_fact(&out->scan, "os.product");
        rep->guest_hostname = vd_scan_fact(&out->scan, "os.hostname");
        rep->guest_drive = vd_scan_fact(&out->scan, "os.drive");
        rep->guest_os_type = vd_scan_fact(&out->scan, "os.type");
        rep->fail_on = fail_on;
}

int vd_run_capture(const vd_run *run, vd_run_out *out, vd_baseline *b, vd_err *err) {
        char dg[65] = "", host[256] = "";
        vd_policy_digest(run->policy, dg);
        gethostname(host, sizeof host - 1);
        b->policy_digest = strdup(dg);
        b->policy_source = strdup(vd_policy_source(run->policy));
        b->source_kind = strdup(run->src->ops->kind);
        b->source = strdup(run->src->desc);
        b->hostname = strdup(host);
        b->tool_version = strdup(VD_VERSION);
        if (!b->policy_digest || !b->policy_source || !b->source_kind || !b->source || !b->hostname ||
            !b->tool_version)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_confsets_release(&b->config);
        b->config = out->conf; /* transferred */
        vd_confsets_init(&out->conf);
        vd_contents_release(&b->contents);
        b->contents = out->texts; /* transferred */
        memset(&out->texts, 0, sizeof out->texts);
        b->created_ns = out->scan.started_ns;
        b->owners_resolved = out->scan.owners_resolved;
        b->capture_warnings = out->scan.n_warnings;
        vd_baseline_take_inventory(b, &out->scan);
        vd_entries_release(&b->entries);
        b->entries = out->scan.entries; /* transferred */
        vd_entries_init(&out->scan.entries);
        return 0;
}

void vd_diff_out_init(vd_diff_out *d) {
        memset(d, 0, sizeof *d);
        vd_events_init(&d->events);
}

void vd_diff_out_release(vd_diff_out *d) { vd_events_release(&d->events); }

int vd_diff_exec(const vd_baseline *a, const vd_baseline *b, vd_policy *policy, vd_diff_out *out, vd_err *err) {
        out->keys_differ = a->hash_algo != b->hash_algo ||
                           (a->hash_algo == VD_HASH_XXH3 && memcmp(a->seed, b->seed, sizeof a->seed) != 0);
        if (out->keys_differ) {
                out->keys_warning = (vd_warning){NULL, 0,
                                                 (char *)"the baselines use different hash keys or algorithms: "
                                                         "content is compared by size only (capture B with "
                                                         "--key-from A)"};
                vd_policy_ignore(policy, VD_A_HASH);
        }
        return vd_compare(&a->entries, &b->entries, policy, &out->events, err);
}

void vd_diff_report(const vd_baseline *a, const vd_baseline *b, const char *path_a, const char *path_b,
                    const vd_diff_out *d, bool verified, int fail_on, char trust[96], vd_report *rep) {
        memset(rep, 0, sizeof *rep);
        snprintf(rep->scan_id, sizeof rep->scan_id, "diff-%.15s-%.15s", a->content_digest, b->content_digest);
        rep->source_kind = "baseline";
        rep->source = path_b;
        rep->baseline_path = path_a;
        rep->baseline_source = a->source;
        rep->baseline_digest = a->content_digest;
        rep->baseline_created_ns = a->created_ns;
        rep->baseline_trust = vd_baseline_trust(a, verified, trust);
        rep->baseline_verified = verified;
        rep->started_ns = b->created_ns;
        rep->events = &d->events;
        rep->warnings = d->keys_differ ? &d->keys_warning : NULL;
        rep->n_warnings = d->keys_differ ? 1 : 0;
        rep->totals.entries = b->entries.n;
        rep->fail_on = fail_on;
}
