#include "report/vd_remote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"

/* Stable identifiers: never change one, only add (docs/events.md and
 * report/vmdrift.catalog carry the same). */
static const struct {
        const char *msgid, *message_id;
} kinds[] = {
        [VD_RK_ADDED] = {"added", "26a667cb043e41acbb91ca0d51b21bac"},
        [VD_RK_REMOVED] = {"removed", "ca76508f1ddf41a9a426620338044fa1"},
        [VD_RK_CHANGED] = {"changed", "ce99aed8075a446aaba26d0365a282bd"},
        [VD_RK_VIOLATION] = {"violation", "3b01638b527a425ca7b2c980dbec6e7d"},
        [VD_RK_SUMMARY] = {"summary", "fffe402d67e14ac2939abe5c2d096658"},
        [VD_RK_WARNING] = {"warning", "be37d48779684dbaaa4f60a11489e25a"},
        [VD_RK_HELD] = {"held-back", "15d9b57bcddf43389a57dfab00b78e45"},
        [VD_RK_PACKAGE] = {"package", "6f3c2a9e8b41487d9e0c5b7a21d4f608"},
        [VD_RK_DORMANT] = {"dormant", "a84d1f0c3e5b4c2f9d7e6b5a4c3d2e1f"},
        [VD_RK_VULNERABLE] = {"vulnerable", "0c9e4b7a2d6f4e13a5b8c1d7e2f90a64"},
        [VD_RK_FLEET] = {"fleet", "5d2e8c41f7a94b06b3e1c9d8a7f60b25"},
        [VD_RK_MALWARE] = {"malware", "1edb1eef2f544a6aabf9ccb0eee05234"},
        [VD_RK_SECRET] = {"secret", "e5caa42bbf444d0babe27e9b9c74631e"},
};

const char *vd_rkind_msgid(int k) { return kinds[k].msgid; }
const char *vd_rkind_message_id(int k) { return kinds[k].message_id; }

int vd_syslog_severity(const vd_rmsg *m) {
        static const int map[] = {6, 5, 4, 3, 2}; /* info notice warning err crit */
        if (m->kind == VD_RK_WARNING || m->kind == VD_RK_HELD)
                return 4;
        if (m->severity < 0 || m->severity > VD_SEV_CRITICAL)
                return 6;
        return map[m->severity];
}

void vd_rmsg_release(vd_rmsg *m) {
        for (size_t i = 0; i < m->nf; i++)
                free(m->f[i].v);
        free(m->text);
        memset(m, 0, sizeof *m);
}

static bool clean(const char *p, size_t n) { return vd_text_clean(p, n); }

/* Add a field; a value that is not clean UTF-8 is display-escaped. */
static int add(vd_rmsg *m, const char *name, const char *v, size_t n) {
        if (m->nf == VD_RF_MAX)
                return VD_E_INTERNAL;
        vd_buf b;
        vd_buf_init(&b, 0);
        int r = clean(v, n) ? vd_buf_add(&b, v, n) : vd_escape_display(&b, v, n);
        if (r == 0 && b.len == 0)
                r = vd_buf_adds(&b, ""); /* detach needs an allocation */
        if (r < 0) {
                vd_buf_release(&b);
                return r;
        }
        vd_rfield *f = &m->f[m->nf++];
        f->name = name;
        f->v = vd_buf_detach(&b, &f->n);
        f->json = false;
        return f->v ? 0 : VD_E_NOMEM;
}

static int adds(vd_rmsg *m, const char *name, const char *v) { return v ? add(m, name, v, strlen(v)) : 0; }

/* path, and path_b64 (its exact bytes) when it is not clean UTF-8 */
static int add_path(vd_rmsg *m, const vd_event *ev) {
        int rc = add(m, "path", ev->path, ev->path_len);
        if (!rc && !clean(ev->path, ev->path_len)) {
                vd_buf b;
                vd_buf_init(&b, 0);
                rc = vd_base64(&b, ev->path, ev->path_len);
                if (!rc)
                        rc = add(m, "path_b64", b.buf ? b.buf : "", b.len);
                vd_buf_release(&b);
        }
        return rc;
}

/* The event's changes, as the JSON the ND-JSON report gives them. */
static int add_changes(vd_rmsg *m, const vd_event *ev) {
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = vd_json_changes(&b, ev);
        if (!rc)
                rc = add(m, "changes", b.buf, b.len);
        if (!rc)
                m->f[m->nf - 1].json = true;
        vd_buf_release(&b);
        return rc;
}

/* A file's diff, cut at a line past VD_REMOTE_DIFF_MAX bytes with a line
 * that says so (the JSON report has it whole). */
static int add_diff(vd_rmsg *m, const vd_event *ev) {
        size_t n = ev->diff_len;
        if (n <= VD_REMOTE_DIFF_MAX)
                return add(m, "diff", ev->diff, n);
        size_t keep = VD_REMOTE_DIFF_MAX;
        while (keep > 0 && ev->diff[keep - 1] != '\n')
                keep--;
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = vd_buf_add(&b, ev->diff, keep);
        if (!rc)
                rc = vd_buf_addf(&b, "... (diff cut at %zu of %zu bytes: the JSON report has it whole)\n", keep, n);
        if (!rc)
                rc = add(m, "diff", b.buf, b.len);
        vd_buf_release(&b);
        return rc;
}

static int addf(vd_rmsg *m, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int addf(vd_rmsg *m, const char *name, const char *fmt, ...) {
        char v[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v, sizeof v, fmt, ap);
        va_end(ap);
        return add(m, name, v, strlen(v));
}

static int common(vd_rmsg *m, const vd_report *r, const char *guest) {
        int rc = adds(m, "scan_id", r->scan_id);
        if (!rc)
                rc = adds(m, "guest", guest ? guest : r->guest);
        if (!rc)
                rc = adds(m, "source_kind", r->source_kind);
        if (!rc)
                rc = adds(m, "source", r->source);
        if (!rc)
                rc = adds(m, "guest_hostname", r->guest_hostname);
        if (!rc)
                rc = adds(m, "baseline", r->baseline_digest);
        if (!rc)
                rc = adds(m, "template", r->baseline_source);
        return rc;
}

static int set_text(vd_rmsg *m, vd_buf *t) {
        if (vd_buf_adds(t, "") < 0)
                return VD_E_NOMEM;
        m->text = vd_buf_detach(t, &m->text_len);
        return m->text ? 0 : VD_E_NOMEM;
}

/* The message's text from t (cut at its cap: still a message), t released. */
static int finish_text(vd_rmsg *m, vd_buf *t, int rc) {
        if (rc == VD_E_LIMIT)
                rc = 0;
        if (!rc)
                rc = set_text(m, t);
        vd_buf_release(t);
        return rc;
}

/* One attribute change for a person, bounded. */
static int text_change(vd_buf *t, const vd_attr_change *c) {
        int r = vd_escape_display(t, c->attr, strlen(c->attr));
        for (int side = 0; side < 2 && !r; side++) {
                const vd_val *v = side ? &c->new_v : &c->old_v;
                r = vd_buf_adds(t, side ? " -> " : " ");
                if (!r && !v->s)
                        r = vd_buf_adds(t, "(none)");
                else if (!r && (v->num || clean(v->s, v->len)) && v->len <= 80)
                        r = vd_buf_addf(t, v->num ? "%.*s" : "\"%.*s\"", (int)v->len, v->s);
                else if (!r)
                        r = vd_buf_addf(t, "(%zu bytes)", v->len);
        }
        return r;
}

static int package_event(vd_rmsg *m, const vd_report *r, const vd_event *ev) {
        bool vuln = ev->kind == VD_CH_VULNERABLE;
        m->kind = vuln ? VD_RK_VULNERABLE : VD_RK_PACKAGE;
        m->severity = ev->severity;
        int rc = common(m, r, NULL);
        if (!rc)
                rc = add(m, "package", ev->path, ev->path_len);
        if (!rc)
                rc = adds(m, "arch", ev->arch);
        if (!rc)
                rc = adds(m, "change", vd_change_kind_name(ev->kind));
        if (!rc)
                rc = adds(m, "severity", vd_severity_name(ev->severity));
        if (!rc)
                rc = adds(m, "rule", ev->rule);
        const vd_attr_change *v = vd_event_find(ev, "version");
        const vd_attr_change *adv = vd_event_find(ev, "advisory"), *al = vd_event_find(ev, "aliases"),
                             *fx = vd_event_find(ev, "fixed");
        if (!rc && adv && adv->new_v.s)
                rc = add(m, "advisory", adv->new_v.s, adv->new_v.len);
        if (!rc && al && al->new_v.s)
                rc = add(m, "aliases", al->new_v.s, al->new_v.len);
        if (!rc && fx && fx->new_v.s)
                rc = add(m, "fixed", fx->new_v.s, fx->new_v.len);
        if (!rc)
                rc = add_changes(m, ev);
        /* "behind openssh-server (amd64): 1:9.2p1-2+deb12u3, baseline 1:9.2p1-2+deb12u10 (high, rule ...)" */
        vd_buf t;
        vd_buf_init(&t, 4096);
        if (!rc)
                rc = vd_buf_addf(&t, "package %s ", vd_change_kind_name(ev->kind));
        if (!rc)
                rc = vd_escape_display(&t, ev->path, ev->path_len);
        if (!rc && ev->arch)
                rc = vd_buf_addf(&t, " (%s)", ev->arch);
        if (!rc && v && v->new_v.s) {
                rc = vd_buf_adds(&t, ": ");
                if (!rc)
                        rc = vd_escape_display(&t, v->new_v.s, v->new_v.len);
        }
        if (!rc && v && v->old_v.s) {
                rc = vd_buf_adds(&t, v->new_v.s ? ", baseline " : ": was ");
                if (!rc)
                        rc = vd_escape_display(&t, v->old_v.s, v->old_v.len);
        }
        /* "vulnerable libssl3 (amd64): 3.0.11-1~deb12u1, DSA-5532-1 (CVE-2023-5363), fixed in 3.0.11-1~deb12u2" */
        if (!rc && adv && adv->new_v.s) {
                rc = vd_buf_adds(&t, ", ");
                if (!rc)
                        rc = vd_escape_display(&t, adv->new_v.s, adv->new_v.len);
                if (!rc && al && al->new_v.s) {
                        rc = vd_buf_adds(&t, " (");
                        if (!rc)
                                rc = vd_escape_display(&t, al->new_v.s, al->new_v.len);
                        if (!rc)
                                rc = vd_buf_addc(&t, ')');
                }
                if (!rc)
                        rc = fx && fx->new_v.s ? vd_buf_adds(&t, ", fixed in ") : vd_buf_adds(&t, ", no fix yet");
                if (!rc && fx && fx->new_v.s)
                        rc = vd_escape_display(&t, fx->new_v.s, fx->new_v.len);
        }
        if (!rc)
                rc = vd_buf_addf(&t, " (%s, rule %s)", vd_severity_name(ev->severity), ev->rule ? ev->rule : "packages");
        return finish_text(m, &t, rc);
}

/* A YARA match: the rule and where, never the bytes that matched.
 * "secret /home/bob/.aws/credentials line 3 (high): rule secrets:aws_key_pair: an AWS access key id ..." */
static int yara_event(vd_rmsg *m, const vd_report *r, const vd_event *ev) {
        m->kind = ev->kind == VD_CH_SECRET ? VD_RK_SECRET : VD_RK_MALWARE;
        m->severity = ev->severity;
        int rc = common(m, r, NULL);
        if (!rc)
                rc = add_path(m, ev);
        if (!rc)
                rc = adds(m, "change", vd_change_kind_name(ev->kind));
        if (!rc)
                rc = adds(m, "severity", vd_severity_name(ev->severity));
        static const char *const f[][2] = {{"yara.rule", "yara_rule"},     {"yara.namespace", "yara_namespace"},
                                           {"yara.tags", "yara_tags"},     {"yara.description", "yara_description"},
                                           {"yara.reference", "yara_reference"}, {"line", "line"}};
        for (size_t i = 0; !rc && i < sizeof f / sizeof f[0]; i++) {
                const vd_val *v = vd_event_now(ev, f[i][0]);
                if (v && v->s)
                        rc = add(m, f[i][1], v->s, v->len);
        }
        if (!rc)
                rc = add_changes(m, ev);
        vd_buf t;
        vd_buf_init(&t, 4096);
        const vd_val *ln = vd_event_now(ev, "line"), *ns = vd_event_now(ev, "yara.namespace"),
                     *rl = vd_event_now(ev, "yara.rule"), *de = vd_event_now(ev, "yara.description");
        if (!rc)
                rc = vd_buf_addf(&t, "%s ", vd_change_kind_name(ev->kind));
        if (!rc)
                rc = vd_escape_display(&t, ev->path, ev->path_len);
        if (!rc && ln && ln->s)
                rc = vd_buf_addf(&t, " line %.*s", (int)ln->len, ln->s);
        if (!rc)
                rc = vd_buf_addf(&t, " (%s): rule ", vd_severity_name(ev->severity));
        if (!rc && ns && ns->s) {
                rc = vd_escape_display(&t, ns->s, ns->len);
                if (!rc)
                        rc = vd_buf_addc(&t, ':');
        }
        if (!rc && rl && rl->s)
                rc = vd_escape_display(&t, rl->s, rl->len);
        if (!rc && de && de->s) {
                rc = vd_buf_adds(&t, ": ");
                if (!rc)
                        rc = vd_escape_display(&t, de->s, de->len);
        }
        return finish_text(m, &t, rc);
}

int vd_rmsg_event(vd_rmsg *m, const vd_report *r, const vd_event *ev) {
        memset(m, 0, sizeof *m);
        if (ev->package)
                return package_event(m, r, ev);
        if (ev->kind == VD_CH_MALWARE || ev->kind == VD_CH_SECRET)
                return yara_event(m, r, ev);
        m->kind = ev->kind == VD_CH_ADDED     ? VD_RK_ADDED
                  : ev->kind == VD_CH_REMOVED ? VD_RK_REMOVED
                  : ev->kind == VD_CH_VIOLATION ? VD_RK_VIOLATION
                  : ev->kind == VD_CH_DORMANT   ? VD_RK_DORMANT
                                                : VD_RK_CHANGED;
        if (ev->fleet)
                m->kind = VD_RK_FLEET;
        m->severity = ev->severity;
        int rc = common(m, r, ev->guest);
        if (!rc)
                rc = add_path(m, ev);
        if (!rc)
                rc = adds(m, "change", vd_change_kind_name(ev->kind));
        if (!rc && !ev->fleet)
                rc = adds(m, "type", vd_ftype_name(ev->ftype));
        if (!rc)
                rc = adds(m, "severity", vd_severity_name(ev->severity));
        if (!rc)
                rc = adds(m, "rule", ev->rule);
        if (!rc)
                rc = adds(m, "detector", ev->detector);
        if (!rc)
                rc = adds(m, "config", ev->config);
        if (!rc)
                rc = add_changes(m, ev);
        if (!rc && ev->diff)
                rc = add_diff(m, ev);
        vd_buf t;
        vd_buf_init(&t, 4096);
        if (!rc)
                rc = vd_buf_addf(&t, "%s ", vd_change_kind_name(ev->kind));
        if (!rc)
                rc = vd_escape_display(&t, ev->path, ev->path_len);
        if (!rc)
                rc = vd_buf_addf(&t, " (%s, %s%s%s%s%s)", vd_severity_name(ev->severity), ev->config ? "config " : "rule ",
                                 ev->config ? ev->config : ev->rule, ev->detector ? ", detector " : "",
                                 ev->detector ? ev->detector : "", "");
        for (size_t i = 0; !rc && i < ev->n_ch && t.len < 1500; i++) {
                rc = vd_buf_adds(&t, i ? "; " : ": ");
                if (!rc)
                        rc = text_change(&t, &ev->ch[i]);
        }
        return finish_text(m, &t, rc);
}

int vd_rmsg_warning(vd_rmsg *m, const vd_report *r, const vd_warning *w) {
        memset(m, 0, sizeof *m);
        m->kind = VD_RK_WARNING;
        m->severity = VD_SEV_MEDIUM;
        int rc = common(m, r, NULL);
        if (!rc && w->path)
                rc = add(m, "path", w->path, w->path_len);
        if (!rc)
                rc = adds(m, "message", w->msg);
        vd_buf t;
        vd_buf_init(&t, 4096);
        if (!rc)
                rc = vd_buf_adds(&t, "not fully checked: ");
        if (!rc && w->path) {
                rc = vd_escape_display(&t, w->path, w->path_len);
                if (!rc)
                        rc = vd_buf_adds(&t, ": ");
        }
        if (!rc)
                rc = vd_escape_display(&t, w->msg, strlen(w->msg));
        return finish_text(m, &t, rc);
}

int vd_rmsg_held(vd_rmsg *m, const vd_report *r, size_t held, size_t max) {
        memset(m, 0, sizeof *m);
        m->kind = VD_RK_HELD;
        m->severity = VD_SEV_MEDIUM;
        int rc = common(m, r, NULL);
        if (!rc)
                rc = addf(m, "held_back", "%zu", held);
        if (!rc)
                rc = addf(m, "max_events", "%zu", max);
        vd_buf t;
        vd_buf_init(&t, 0);
        if (!rc)
                rc = vd_buf_addf(&t,
                                 "%zu more drift events held back (flood control: at most %zu per scan, most severe "
                                 "first); the JSON report has them all",
                                 held, max);
        if (!rc)
                rc = set_text(m, &t);
        vd_buf_release(&t);
        return rc;
}

int vd_rmsg_summary(vd_rmsg *m, const vd_report *r, size_t held) {
        memset(m, 0, sizeof *m);
        vd_counts c;
        vd_report_count(r, &c);
        m->kind = VD_RK_SUMMARY;
        m->severity = VD_SEV_INFO;
        for (int s = VD_SEV_CRITICAL; s >= 0; s--)
                if (c.by_sev[s]) {
                        m->severity = s > VD_SEV_LOW ? VD_SEV_LOW : s; /* notice at most: the events carry the rest */
                        break;
                }
        int rc = common(m, r, NULL);
        if (!rc)
                rc = addf(m, "total", "%zu", c.total);
        if (!rc)
                rc = addf(m, "added", "%zu", c.added);
        if (!rc)
                rc = addf(m, "removed", "%zu", c.removed);
        if (!rc)
                rc = addf(m, "changed", "%zu", c.changed);
        if (!rc)
                rc = addf(m, "violations", "%zu", c.violations);
        if (!rc)
                rc = addf(m, "packages", "%zu", c.packages);
        if (!rc)
                rc = addf(m, "vulnerable", "%zu", c.vulnerable);
        if (!rc)
                rc = adds(m, "unchanged_since", r->reused_scan_id);
        if (!rc && c.fleet)
                rc = addf(m, "fleet", "%zu", c.fleet);
        static const char *const sn[] = {"info", "low", "medium", "high", "critical"};
        for (int s = VD_SEV_CRITICAL; !rc && s >= 0; s--)
                rc = addf(m, sn[s], "%zu", c.by_sev[s]);
        if (!rc)
                rc = addf(m, "warnings", "%zu", r->n_warnings);
        if (!rc)
                rc = addf(m, "entries_scanned", "%llu", (unsigned long long)r->totals.entries);
        if (!rc)
                rc = addf(m, "files_hashed", "%llu", (unsigned long long)r->totals.files_hashed);
        if (!rc)
                rc = addf(m, "bytes_hashed", "%llu", (unsigned long long)r->totals.bytes_hashed);
        if (!rc)
                rc = addf(m, "duration_ms", "%lld", (long long)(r->duration_ns / 1000000));
        if (!rc)
                rc = addf(m, "held_back", "%zu", held);
        if (!rc)
                rc = adds(m, "may_be_inconsistent", r->may_be_inconsistent ? "true" : "false");
        if (!rc)
                rc = adds(m, "baseline_verified", r->baseline_verified ? "true" : "false");
        if (!rc)
                rc = addf(m, "exit_code", "%d", r->exit_code);
        vd_buf t;
        vd_buf_init(&t, 4096);
        if (!rc)
                rc = vd_buf_adds(&t, "scan of ");
        if (!rc)
                rc = vd_escape_display(&t, r->source, strlen(r->source));
        if (!rc)
                rc = vd_buf_addf(&t,
                                 ": %zu drift events (%zu critical, %zu high, %zu medium, %zu low, %zu info), %zu "
                                 "warnings, %llu entries in %.1f s%s",
                                 c.total, c.by_sev[4], c.by_sev[3], c.by_sev[2], c.by_sev[1], c.by_sev[0],
                                 r->n_warnings, (unsigned long long)r->totals.entries,
                                 (double)r->duration_ns / 1e9, held ? " (some held back)" : "");
        return finish_text(m, &t, rc);
}

void vd_rmsg_drop_changes(vd_rmsg *m) {
        for (size_t i = 0; i < m->nf; i++)
                if (strcmp(m->f[i].name, "diff") == 0) {
                        free(m->f[i].v);
                        m->f[i] = m->f[--m->nf];
                        break;
                }
        for (size_t i = 0; i < m->nf; i++)
                if (strcmp(m->f[i].name, "changes") == 0) {
                        free(m->f[i].v);
                        m->f[i].v = strdup("{\"truncated\":true}");
                        m->f[i].n = m->f[i].v ? strlen(m->f[i].v) : 0;
                        if (!m->f[i].v) {
                                m->f[i] = m->f[--m->nf];
                        }
                        return;
                }
}

/* ---- which events a remote sink gets, in which order ---- */

static int by_severity(const void *a, const void *b) {
        const vd_event *x = *(const vd_event *const *)a, *y = *(const vd_event *const *)b;
        if (x->severity != y->severity)
                return y->severity - x->severity;
        return x < y ? -1 : x > y; /* stable: the compare order */
}

static size_t remote_order(const vd_report *r, size_t max_events, const vd_event ***ret, size_t *held) {
        size_t n = r->events->n;
        const vd_event **v = calloc(n ? n : 1, sizeof *v);
        *ret = v;
        *held = 0;
        if (!v)
                return 0;
        for (size_t i = 0; i < n; i++)
                v[i] = &r->events->v[i];
        qsort(v, n, sizeof *v, by_severity);
        if (max_events && n > max_events) {
                *held = n - max_events;
                n = max_events;
        }
        return n;
}

int vd_remote_each(const vd_report *r, size_t max_events, vd_rmsg_fn fn, void *ctx) {
        const vd_event **ev = NULL;
        size_t held = 0, n = remote_order(r, max_events, &ev, &held);
        if (!ev)
                return VD_E_NOMEM;
        size_t n_warn = r->n_warnings < VD_REMOTE_WARNINGS_MAX ? r->n_warnings : VD_REMOTE_WARNINGS_MAX;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < n + n_warn + 2; i++) {
                vd_rmsg m;
                const vd_event *e = NULL;
                if (i == n && !held)
                        continue;
                if (i < n)
                        rc = vd_rmsg_event(&m, r, e = ev[i]);
                else if (i == n)
                        rc = vd_rmsg_held(&m, r, held, max_events);
                else if (i < n + 1 + n_warn)
                        rc = vd_rmsg_warning(&m, r, &r->warnings[i - n - 1]);
                else
                        rc = vd_rmsg_summary(&m, r, held);
                if (rc == 0)
                        rc = fn(ctx, &m, e);
                vd_rmsg_release(&m);
        }
        free(ev);
        return rc;
}
