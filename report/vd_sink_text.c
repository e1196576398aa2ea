/* The text sink: a report for a person, most severe first, in sections. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"
#include "vd_sink_int.h"
#include "common/vd_str.h"

static const char *sev_color(const vd_sink *s, int sev) {
        if (!s->color)
                return "";
        switch (sev) {
        case VD_SEV_CRITICAL: return "\033[1;35m";
        case VD_SEV_HIGH: return "\033[1;31m";
        case VD_SEV_MEDIUM: return "\033[33m";
        case VD_SEV_LOW: return "\033[36m";
        default: return "\033[2m";
        }
}

static const char *reset(const vd_sink *s) { return s->color ? "\033[0m" : ""; }

/* A value for a person: escaped, hashes shortened, long values cut. */
static int tx_val(vd_buf *b, const char *attr, const vd_val *v) {
        if (!v->s)
                return vd_buf_adds(b, "(none)");
        if (strcmp(attr, "hash") == 0) {
                const char *colon = memchr(v->s, ':', v->len);
                size_t keep = colon ? (size_t)(colon - v->s) + 1 + 16 : 16;
                if (keep < v->len)
                        return vd_buf_addf(b, "%.*s…", (int)keep, v->s);
                return vd_buf_add(b, v->s, v->len);
        }
        bool quote = strcmp(attr, "target") == 0 || strncmp(attr, "xattr.", 6) == 0 || strcmp(attr, "user") == 0 ||
                     strcmp(attr, "group") == 0;
        /* an NTFS owner and DACL: backslashes name domains; read whole
         * (bounded: a DACL can hold thousands of entries) */
        bool acl = strcmp(attr, "acl") == 0;
        size_t n = v->len, max = acl ? 1024 : 96;
        bool cut = n > max;
        if (cut)
                n = max;
        int r = quote ? vd_buf_addc(b, '"') : 0;
        if (!r)
                r = acl ? vd_escape_display_win(b, v->s, n) : vd_escape_display(b, v->s, n);
        if (!r && quote)
                r = vd_buf_addc(b, '"');
        if (!r && cut)
                r = vd_buf_addf(b, "… (%zu bytes)", v->len);
        return r;
}

static const char *chval(const vd_event *e, const char *attr, bool added) {
        const vd_attr_change *c = vd_event_find(e, attr);
        if (!c)
                return NULL;
        return added ? c->new_v.s : c->old_v.s;
}

/* An NTFS entry: type, size, then its owner and DACL and attributes
 * (ntfs-3g's modes and ids mean nothing). */
static int tx_describe_ntfs(vd_buf *b, const vd_event *e, const char *acl, bool added) {
        const char *size = chval(e, "size", added), *attrs = chval(e, "attributes", added);
        int r = vd_buf_addf(b, "%s", vd_ftype_name(e->ftype));
        if (!r && size)
                r = vd_buf_addf(b, " %s bytes", size);
        if (!r && attrs && *attrs)
                r = vd_buf_addf(b, " (%s)", attrs);
        if (!r)
                r = vd_buf_adds(b, "\n                ");
        if (!r)
                r = vd_escape_display_win(b, acl, strlen(acl));
        for (size_t i = 0; !r && i < e->n_ch; i++) /* its alternate data streams */
                if (strncmp(e->ch[i].attr, "stream:", 7) == 0) {
                        const vd_val *v = added ? &e->ch[i].new_v : &e->ch[i].old_v;
                        r = vd_buf_adds(b, "\n                ");
                        if (!r)
                                r = vd_escape_display(b, e->ch[i].attr, strlen(e->ch[i].attr));
                        if (!r)
                                r = vd_buf_adds(b, " ");
                        if (!r)
                                r = tx_val(b, e->ch[i].attr, v);
                }
        return r;
}

/* One line for an added or removed entry: type mode owner size [-> target]. */
static int tx_describe(vd_buf *b, const vd_event *e) {
        bool added = e->kind == VD_CH_ADDED;
        const char *acl = chval(e, "acl", added);
        if (acl)
                return tx_describe_ntfs(b, e, acl, added);
        const char *mode = chval(e, "mode", added), *uid = chval(e, "uid", added), *gid = chval(e, "gid", added),
                   *user = chval(e, "user", added), *group = chval(e, "group", added), *size = chval(e, "size", added);
        int r = vd_buf_addf(b, "%s %s ", vd_ftype_name(e->ftype), mode ? mode : "?");
        if (!r && user)
                r = vd_escape_display(b, user, strlen(user));
        else if (!r)
                r = vd_buf_adds(b, uid ? uid : "?");
        if (!r)
                r = vd_buf_addc(b, ':');
        if (!r && group)
                r = vd_escape_display(b, group, strlen(group));
        else if (!r)
                r = vd_buf_adds(b, gid ? gid : "?");
        if (!r && size)
                r = vd_buf_addf(b, " %s bytes", size);
        const vd_attr_change *t = vd_event_find(e, "target");
        if (!r && t) {
                const vd_val *v = added ? &t->new_v : &t->old_v;
                r = vd_buf_adds(b, " -> ");
                if (!r)
                        r = tx_val(b, "target", v);
        }
        for (size_t i = 0; !r && i < e->n_ch; i++)
                if (strncmp(e->ch[i].attr, "xattr.", 6) == 0 || strcmp(e->ch[i].attr, "status") == 0) {
                        r = vd_buf_adds(b, "\n                ");
                        if (!r)
                                r = vd_buf_addf(b, "%-10s ", e->ch[i].attr);
                        if (!r)
                                r = tx_val(b, e->ch[i].attr, added ? &e->ch[i].new_v : &e->ch[i].old_v);
                }
        return r;
}

static int cmp_sev_path(const void *x, const void *y) {
        const vd_event *a = *(const vd_event *const *)x, *b = *(const vd_event *const *)y;
        if (a->severity != b->severity)
                return b->severity - a->severity;
        return vd_path_cmp(a->path, a->path_len, b->path, b->path_len);
}

/* "  [rule ssh, detector setuid]" when it says more than the default. */
static int tx_why(vd_buf *b, const vd_event *e) {
        bool rule = e->rule && strcmp(e->rule, "default") != 0 && strcmp(e->rule, "config") != 0;
        if (!rule && !e->detector)
                return 0;
        int r = vd_buf_adds(b, "  [");
        if (!r && rule)
                r = vd_buf_addf(b, "rule %s", e->rule);
        if (!r && e->detector)
                r = vd_buf_addf(b, "%sdetector %s", rule ? ", " : "", e->detector);
        if (!r)
                r = vd_buf_addc(b, ']');
        return r;
}

typedef int (*escape_fn)(vd_buf *out, const char *p, size_t n);

static int tx_quoted(vd_buf *b, const vd_val *v, escape_fn esc) {
        if (!v->s)
                return vd_buf_adds(b, "(not set)");
        size_t n = v->len > 200 ? 200 : v->len;
        int r = vd_buf_addc(b, '"');
        if (!r)
                r = esc(b, v->s, n);
        if (!r)
                r = vd_buf_addc(b, '"');
        if (!r && n < v->len)
                r = vd_buf_addf(b, "… (%zu bytes)", v->len);
        return r;
}

/* Configuration drift and policy violations, one line per key:
 *   high      /etc/ssh/sshd_config: PermitRootLogin: "no" -> "yes"  (set in ...:12) */
static int tx_config(vd_sink *s, const vd_report *r, vd_buf *b, const vd_event **sorted) {
        int rc = 0;
        for (int g = 0; g < 2 && !rc; g++) {
                size_t n = 0, lines = 0;
                for (size_t i = 0; i < r->events->n; i++) {
                        const vd_event *e = &r->events->v[i];
                        if (e->config && (e->kind == VD_CH_VIOLATION) == (g == 0)) {
                                sorted[n++] = e;
                                lines += e->n_ch;
                        }
                }
                if (!n)
                        continue;
                qsort(sorted, n, sizeof *sorted, cmp_sev_path);
                /* one line per key: the header counts both, as the summary does */
                rc = vd_buf_addf(b, "\n%s (%zu file%s, %zu %s%s)\n", g == 0 ? "Policy violations" : "Configuration", n,
                                 n == 1 ? "" : "s", lines, g == 0 ? "check" : "key", lines == 1 ? "" : "s");
                for (size_t i = 0; i < n && !rc; i++) {
                        const vd_event *e = sorted[i];
                        /* registry keys and values: backslashes are separators, not escapes */
                        escape_fn esc = strcmp(e->config, "registry") == 0 ? vd_escape_display_win : vd_escape_display;
                        for (size_t k = 0; k < e->n_ch && !rc; k++) {
                                const vd_attr_change *ch = &e->ch[k];
                                rc = vd_buf_addf(b, "  %s%-8s%s  ", sev_color(s, e->severity),
                                                 vd_severity_name(e->severity), reset(s));
                                if (!rc)
                                        rc = esc(b, e->path, e->path_len);
                                if (!rc)
                                        rc = vd_buf_adds(b, ": ");
                                if (!rc)
                                        rc = esc(b, ch->attr, strlen(ch->attr));
                                if (!rc && g == 0) {
                                        rc = vd_buf_adds(b, " is ");
                                        if (!rc)
                                                rc = tx_quoted(b, &ch->new_v, esc);
                                } else if (!rc) {
                                        rc = vd_buf_adds(b, ": ");
                                        if (!rc)
                                                rc = tx_quoted(b, &ch->old_v, esc);
                                        if (!rc)
                                                rc = vd_buf_adds(b, " -> ");
                                        if (!rc)
                                                rc = tx_quoted(b, &ch->new_v, esc);
                                }
                                if (!rc && ch->note) {
                                        rc = vd_buf_adds(b, g == 0 ? ": " : "  (");
                                        if (!rc)
                                                rc = esc(b, ch->note, strlen(ch->note));
                                        if (!rc && g != 0)
                                                rc = vd_buf_addc(b, ')');
                                }
                                if (!rc && e->detector)
                                        rc = vd_buf_addf(b, "  [detector %s]", e->detector);
                                if (!rc)
                                        rc = vd_buf_addc(b, '\n');
                        }
                }
        }
        return rc;
}

/* "  high      openssh-server (amd64)": a package event's line, up to its name */
static int tx_package_head(vd_sink *s, vd_buf *b, const vd_event *e) {
        int rc = vd_buf_addf(b, "  %s%-8s%s  ", sev_color(s, e->severity), vd_severity_name(e->severity), reset(s));
        if (!rc)
                rc = vd_escape_display(b, e->path, e->path_len);
        if (!rc && e->arch) {
                rc = vd_buf_adds(b, " (");
                if (!rc)
                        rc = vd_escape_display(b, e->arch, strlen(e->arch));
                if (!rc)
                        rc = vd_buf_addc(b, ')');
        }
        return rc;
}

/* Packages, most severe first:
 *   high      openssh-server (amd64)  behind: 1:9.2p1-2+deb12u3 -> baseline 1:9.2p1-2+deb12u10
 *   low       netcat (amd64)  added: 1.10-47 */
static int tx_packages(vd_sink *s, const vd_report *r, vd_buf *b, const vd_event **sorted) {
        size_t n = 0;
        for (size_t i = 0; i < r->events->n; i++)
                if (r->events->v[i].package && r->events->v[i].kind != VD_CH_VULNERABLE)
                        sorted[n++] = &r->events->v[i];
        if (!n)
                return 0;
        qsort(sorted, n, sizeof *sorted, cmp_sev_path);
        int rc = vd_buf_addf(b, "\nPackages (%zu)\n", n);
        for (size_t i = 0; i < n && !rc; i++) {
                const vd_event *e = sorted[i];
                const vd_attr_change *v = vd_event_find(e, "version");
                rc = tx_package_head(s, b, e);
                if (!rc)
                        rc = vd_buf_addf(b, "  %s: ", vd_change_kind_name(e->kind));
                const vd_val *now = v ? &v->new_v : NULL, *then = v ? &v->old_v : NULL;
                if (!rc && now && now->s)
                        rc = vd_escape_display(b, now->s, now->len);
                if (!rc && then && then->s) {
                        rc = vd_buf_adds(b, now && now->s ? " -> baseline " : "was ");
                        if (!rc)
                                rc = vd_escape_display(b, then->s, then->len);
                }
                if (!rc && e->rule && strcmp(e->rule, "packages") != 0) {
                        rc = vd_buf_adds(b, "  [rule ");
                        if (!rc)
                                rc = vd_escape_display(b, e->rule, strlen(e->rule));
                        if (!rc)
                                rc = vd_buf_addc(b, ']');
                }
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        }
        return rc;
}

static int tx_escaped_change(vd_buf *b, const vd_event *e, const char *attr, const char *before) {
        const vd_attr_change *c = vd_event_find(e, attr);
        if (!c || !c->new_v.s)
                return 0;
        int rc = vd_buf_adds(b, before);
        return rc ? rc : vd_escape_display(b, c->new_v.s, c->new_v.len);
}

/* Advisory hits, most severe first:
 *   high      libssl3 (amd64)  3.0.11-1~deb12u1  DSA-5532-1 (CVE-2023-5363)  fixed in 3.0.11-1~deb12u2 */
static int tx_vulnerable(vd_sink *s, const vd_report *r, vd_buf *b, const vd_event **sorted) {
        size_t n = 0;
        for (size_t i = 0; i < r->events->n; i++)
                if (r->events->v[i].kind == VD_CH_VULNERABLE)
                        sorted[n++] = &r->events->v[i];
        int rc = 0;
        if (r->advisories_ecosystem)
                rc = vd_buf_addf(b, "\nAdvisories: %zu records for %s (from %zu files)%s\n", r->advisories_records,
                                 r->advisories_ecosystem, r->advisories_files, n ? "" : "; no installed package affected");
        if (!n || rc)
                return rc;
        qsort(sorted, n, sizeof *sorted, cmp_sev_path);
        rc = vd_buf_addf(b, "Vulnerable packages (%zu)\n", n);
        for (size_t i = 0; i < n && !rc; i++) {
                const vd_event *e = sorted[i];
                rc = tx_package_head(s, b, e);
                if (!rc)
                        rc = tx_escaped_change(b, e, "version", "  ");
                if (!rc)
                        rc = tx_escaped_change(b, e, "advisory", "  ");
                if (!rc && vd_event_find(e, "aliases")) {
                        rc = tx_escaped_change(b, e, "aliases", " (");
                        if (!rc)
                                rc = vd_buf_addc(b, ')');
                }
                if (!rc)
                        rc = vd_event_find(e, "fixed") ? tx_escaped_change(b, e, "fixed", "  fixed in ")
                                                        : vd_buf_adds(b, "  no fix yet");
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        }
        return rc;
}

/* YARA matches, most severe first; a secret by its line, never its bytes:
 *   critical  /home/bob/eicar.com
 *                 rule default:eicar_test [testing]: the EICAR anti-virus test file */
static int tx_path(const vd_report *r, vd_buf *b, const char *path, size_t len);

/* A section: its events of kind (files_only: not configuration or
 * package events) into sorted, most severe first, and its heading; how
 * many (none: no heading). */
static size_t tx_section(const vd_report *r, const vd_event **sorted, int kind, bool files_only, const char *title,
                         vd_buf *b, int *rc) {
        size_t n = 0;
        for (size_t i = 0; i < r->events->n; i++)
                if (r->events->v[i].kind == kind && (!files_only || (!r->events->v[i].config && !r->events->v[i].package)))
                        sorted[n++] = &r->events->v[i];
        if (!n)
                return 0;
        qsort(sorted, n, sizeof *sorted, cmp_sev_path);
        *rc = vd_buf_addf(b, "\n%s (%zu)\n", title, n);
        return *rc ? 0 : n;
}

/* "  high      /etc/app.conf" */
static int tx_sev_path(const vd_sink *s, const vd_report *r, vd_buf *b, const vd_event *e) {
        int rc = vd_buf_addf(b, "  %s%-8s%s  ", sev_color(s, e->severity), vd_severity_name(e->severity), reset(s));
        return rc ? rc : tx_path(r, b, e->path, e->path_len);
}

static int tx_yara(vd_sink *s, const vd_report *r, vd_buf *b, const vd_event **sorted) {
        int rc = 0;
        static const int kinds[] = {VD_CH_MALWARE, VD_CH_SECRET};
        static const char *const title[] = {"Malware", "Secrets"};
        for (int g = 0; g < 2 && !rc; g++) {
                size_t n = tx_section(r, sorted, kinds[g], false, title[g], b, &rc);
                for (size_t i = 0; i < n && !rc; i++) {
                        const vd_event *e = sorted[i];
                        rc = tx_sev_path(s, r, b, e);
                        if (!rc)
                                rc = tx_escaped_change(b, e, "line", " line ");
                        if (!rc)
                                rc = tx_escaped_change(b, e, "yara.namespace", "\n                rule ");
                        if (!rc)
                                rc = tx_escaped_change(b, e, "yara.rule", ":");
                        if (!rc && vd_event_find(e, "yara.tags")) {
                                rc = tx_escaped_change(b, e, "yara.tags", " [");
                                if (!rc)
                                        rc = vd_buf_addc(b, ']');
                        }
                        if (!rc)
                                rc = tx_escaped_change(b, e, "yara.description", ": ");
                        if (!rc)
                                rc = tx_escaped_change(b, e, "yara.author", "\n                author ");
                        if (!rc)
                                rc = tx_escaped_change(b, e, "yara.reference", "\n                reference ");
                        if (!rc && vd_event_find(e, "yara.matched")) {
                                rc = tx_escaped_change(b, e, "yara.matched", "\n                matched on its ");
                                if (!rc)
                                        rc = vd_buf_adds(b, " only (yara.max_file)");
                        }
                        if (!rc)
                                rc = vd_buf_addc(b, '\n');
                }
        }
        return rc;
}

static int human_bytes(vd_buf *b, uint64_t n) {
        static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double d = (double)n;
        int i = 0;
        while (d >= 1024 && i < 4) {
                d /= 1024;
                i++;
        }
        return i ? vd_buf_addf(b, "%.1f %s", d, u[i]) : vd_buf_addf(b, "%llu B", (unsigned long long)n);
}

/* vmdrift fleet's own findings, most severe first:
 *   high      unreachable  web-03  /var/lib/libvirt/images/web-03.qcow2: gone (No such file or directory) */
static int fleet_render(vd_sink *s, const vd_report *r, vd_buf *b) {
        vd_counts c;
        vd_report_count(r, &c);
        int rc = vd_buf_adds(b, "vmdrift fleet findings for ");
        if (!rc)
                rc = vd_escape_display(b, r->source, strlen(r->source));
        if (!rc)
                rc = vd_buf_addf(b, "\n  run id %s\n", r->scan_id);
        const vd_event **sorted = calloc(r->events->n ? r->events->n : 1, sizeof *sorted);
        if (!sorted)
                return VD_E_NOMEM;
        size_t n = 0;
        for (size_t i = 0; i < r->events->n; i++)
                sorted[n++] = &r->events->v[i];
        qsort(sorted, n, sizeof *sorted, cmp_sev_path);
        if (!rc && n)
                rc = vd_buf_addf(b, "\nFleet (%zu)\n", n);
        for (size_t i = 0; i < n && !rc; i++) {
                const vd_event *e = sorted[i];
                rc = vd_buf_addf(b, "  %s%-8s%s  %-11s  ", sev_color(s, e->severity), vd_severity_name(e->severity),
                                 reset(s), vd_change_kind_name(e->kind));
                if (!rc && e->guest) {
                        rc = vd_escape_display(b, e->guest, strlen(e->guest));
                        if (!rc)
                                rc = vd_buf_adds(b, "  ");
                }
                if (!rc)
                        rc = vd_escape_display(b, e->path, e->path_len);
                for (size_t k = 0; k < e->n_ch && !rc; k++) {
                        const vd_attr_change *ch = &e->ch[k];
                        if (!ch->new_v.s)
                                continue;
                        rc = vd_buf_addf(b, "%s%s ", k ? "; " : ": ", ch->attr);
                        if (!rc)
                                rc = vd_escape_display(b, ch->new_v.s, ch->new_v.len);
                }
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        }
        free(sorted);
        for (size_t i = 0; i < r->n_warnings && !rc; i++)
                rc = vd_buf_addf(b, "%s  warning: %s\n", i ? "" : "\n", r->warnings[i].msg);
        if (!rc)
                rc = n ? vd_buf_addf(b, "\nSummary: %zu fleet finding%s: %zu critical, %zu high, %zu medium, %zu low, %zu info\n",
                                     n, n == 1 ? "" : "s", c.by_sev[VD_SEV_CRITICAL], c.by_sev[VD_SEV_HIGH],
                                     c.by_sev[VD_SEV_MEDIUM], c.by_sev[VD_SEV_LOW], c.by_sev[VD_SEV_INFO])
                       : vd_buf_adds(b, "\nNo fleet findings: every image and domain is covered, reachable and fresh.\n");
        return rc;
}

/* What was scanned against which baseline, how it was mounted, and what to trust. */
static int tx_head(const vd_sink *s, const vd_report *r, vd_buf *b) {
        int rc = vd_buf_adds(b, "vmdrift scan of ");
        if (!rc && r->guest) {
                rc = vd_buf_adds(b, "guest ");
                if (!rc)
                        rc = vd_escape_display(b, r->guest, strlen(r->guest));
                if (!rc)
                        rc = vd_buf_adds(b, ": ");
        }
        if (!rc)
                rc = vd_escape_display(b, r->source, strlen(r->source));
        if (!rc)
                rc = vd_buf_addf(b, " (%s)\n  baseline ", r->source_kind);
        if (!rc)
                rc = vd_escape_display(b, r->baseline_path, strlen(r->baseline_path));
        if (!rc)
                rc = vd_buf_adds(b, ", captured ");
        if (!rc)
                rc = vd_time_rfc3339(b, r->baseline_created_ns);
        if (!rc)
                rc = vd_buf_adds(b, " from ");
        if (!rc)
                rc = vd_escape_display(b, r->baseline_source ? r->baseline_source : "?",
                                       strlen(r->baseline_source ? r->baseline_source : "?"));
        if (!rc && (r->guest_os || r->guest_hostname)) {
                rc = vd_buf_adds(b, "\n  guest ");
                if (!rc)
                        rc = vd_escape_display(b, r->guest_os ? r->guest_os : "?", strlen(r->guest_os ? r->guest_os : "?"));
                if (!rc)
                        rc = vd_buf_adds(b, ", hostname ");
                if (!rc)
                        rc = vd_escape_display(b, r->guest_hostname ? r->guest_hostname : "?",
                                               strlen(r->guest_hostname ? r->guest_hostname : "?"));
        }
        if (!rc && r->inspection && strcmp(r->inspection, "full") != 0)
                rc = vd_buf_addf(b, " (mounted from the %s, not inspected)", r->inspection);
        if (!rc && r->appliance && r->appliance_guests > 1)
                rc = vd_buf_addf(b, "\n  appliance %s, shared by %u guests of this fleet run",
                                 strcmp(r->appliance, "shared") == 0 ? "started for an earlier guest" : "started here",
                                 r->appliance_guests);
        if (!rc && r->appliance && r->appliance_peers && *r->appliance_peers) {
                /* a guest that subverted the shared kernel could have
                 * falsified this report: say who */
                rc = vd_buf_adds(b, "\n  shared with: ");
                const char *p = r->appliance_peers;
                for (bool first = true; !rc && *p; first = false) {
                        size_t n = strcspn(p, "\n");
                        if (!first)
                                rc = vd_buf_adds(b, ", ");
                        if (!rc)
                                rc = vd_escape_display(b, p, n);
                        p += n + (p[n] == '\n');
                }
        }
        if (!rc && r->baseline_trust)
                rc = vd_buf_addf(b, "\n  baseline signature %s%s", r->baseline_trust,
                                 r->baseline_verified ? "" : ": a modified baseline would go unnoticed");
        if (!rc)
                rc = vd_buf_addf(b, "\n  scan id %s\n", r->scan_id);
        if (!rc && r->reused_scan_id && r->reused_twin) {
                rc = vd_buf_addf(b, "  identical to its template image (nothing written above it): the findings of "
                                    "scan %s of another such clone at ",
                                 r->reused_scan_id);
                if (!rc)
                        rc = vd_time_rfc3339(b, r->reused_started_ns);
                if (!rc)
                        rc = vd_buf_adds(b, " again, no appliance started\n");
        } else if (!rc && r->reused_scan_id) {
                rc = vd_buf_addf(b, "  unchanged since scan %s at ", r->reused_scan_id);
                if (!rc)
                        rc = vd_time_rfc3339(b, r->reused_started_ns);
                if (!rc)
                        rc = vd_buf_adds(b, ": the images, baseline and policy are as they were; its findings "
                                            "again, no appliance started\n");
        }
        if (!rc && r->may_be_inconsistent)
                rc = vd_buf_adds(b, "  NOTE: the source was in use during the scan (a running guest?); the result may be inconsistent\n");
        return rc;
}

/* Files changed, added and removed, most severe first. */
/* A file's diff under its event, each line indented and escaped (the
 * guest wrote it: a line cannot move the terminal or pose as ours). */
static int tx_diff(vd_buf *b, const vd_event *e) {
        int rc = 0;
        const char *p = e->diff, *end = e->diff + e->diff_len;
        while (p < end && !rc) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                rc = vd_buf_adds(b, "                | ");
                if (!rc)
                        rc = vd_escape_display(b, p, n);
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
                p = nl ? nl + 1 : end;
        }
        return rc;
}

/* A file's path as the guest's own system shows it: C:\\Windows\\... on a
 * Windows guest whose drive inspection named. */
static int tx_path(const vd_report *r, vd_buf *b, const char *path, size_t len) {
        if (r->guest_drive && r->guest_drive[0] && !r->guest_drive[1] && len && path[0] == '/')
                return vd_escape_display_winpath(b, r->guest_drive[0], path, len);
        return vd_escape_display(b, path, len);
}

static int tx_files(const vd_sink *s, const vd_report *r, vd_buf *b, const vd_event **sorted) {
        int rc = 0;
        static const int order[] = {VD_CH_CHANGED, VD_CH_ADDED, VD_CH_REMOVED};
        static const char *const title[] = {"Changed", "Added", "Removed"};
        for (int g = 0; g < 3 && !rc; g++) {
                size_t n = tx_section(r, sorted, order[g], true, title[g], b, &rc);
                for (size_t i = 0; i < n && !rc; i++) {
                        const vd_event *e = sorted[i];
                        rc = tx_sev_path(s, r, b, e);
                        if (!rc)
                                rc = tx_why(b, e);
                        if (!rc && order[g] != VD_CH_CHANGED) {
                                rc = vd_buf_adds(b, "\n                ");
                                if (!rc)
                                        rc = tx_describe(b, e);
                                if (!rc)
                                        rc = vd_buf_addc(b, '\n');
                                if (!rc && e->diff)
                                        rc = tx_diff(b, e);
                                continue;
                        }
                        if (!rc)
                                rc = vd_buf_addc(b, '\n');
                        for (size_t k = 0; k < e->n_ch && !rc; k++) {
                                const vd_attr_change *ch = &e->ch[k];
                                rc = vd_buf_addf(b, "                %-10s ", ch->attr);
                                if (!rc)
                                        rc = tx_val(b, ch->attr, &ch->old_v);
                                if (!rc) /* a descriptor is long: the new one below the old */
                                        rc = vd_buf_adds(b, strcmp(ch->attr, "acl") == 0 ? "\n                        -> "
                                                                                          : " -> ");
                                if (!rc)
                                        rc = tx_val(b, ch->attr, &ch->new_v);
                                if (!rc)
                                        rc = vd_buf_addc(b, '\n');
                        }
                        if (!rc && e->diff)
                                rc = tx_diff(b, e);
                }
        }
        return rc;
}

/* A dormant guest, and its last sign of life. */
static int tx_dormant(const vd_sink *s, const vd_report *r, vd_buf *b) {
        int rc = 0;
        for (size_t i = 0; i < r->events->n && !rc; i++) {
                const vd_event *e = &r->events->v[i];
                const vd_attr_change *d = vd_event_find(e, "days_idle");
                if (e->kind != VD_CH_DORMANT)
                        continue;
                rc = vd_buf_addf(b, "\nDormant\n  %s%-8s%s  no sign of life for %.*s days (dormant_after): newest ",
                                 sev_color(s, e->severity), vd_severity_name(e->severity), reset(s),
                                 d && d->new_v.s ? (int)d->new_v.len : 1, d && d->new_v.s ? d->new_v.s : "?");
                if (!rc)
                        rc = tx_path(r, b, e->path, e->path_len);
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        }
        if (!rc && r->last_activity_ns) {
                rc = vd_buf_adds(b, "\nLast sign of life: ");
                if (!rc)
                        rc = vd_time_rfc3339(b, r->last_activity_ns);
                if (!rc)
                        rc = vd_buf_adds(b, " (");
                if (!rc)
                        rc = tx_path(r, b, r->last_activity_path, r->last_activity_path_len);
                if (!rc)
                        rc = vd_buf_adds(b, ")\n");
        }
        return rc;
}

/* What could not be fully checked. */
static int tx_warnings(const vd_report *r, vd_buf *b) {
        int rc = 0;
        if (!rc && r->n_warnings) {
                rc = vd_buf_addf(b, "\nWarnings (%zu): these parts of the source could not be fully checked\n",
                                 r->n_warnings);
                for (size_t i = 0; i < r->n_warnings && !rc; i++) {
                        rc = vd_buf_adds(b, "  ");
                        if (!rc && r->warnings[i].path) {
                                rc = vd_escape_display(b, r->warnings[i].path, r->warnings[i].path_len);
                                if (!rc)
                                        rc = vd_buf_adds(b, ": ");
                        }
                        if (!rc)
                                rc = vd_buf_addf(b, "%s\n", r->warnings[i].msg);
                }
        }
        return rc;
}

/* The summary, adding up to the sections above. */
static int tx_summary(const vd_sink *s, const vd_report *r, vd_buf *b) {
        vd_counts c;
        vd_report_count(r, &c);
        int rc = 0;
        if (!rc) {
                /* The summary adds up to the sections above: files by change,
                 * configuration files with their keys, violations with their
                 * checks (one event per file, one line per key). */
                size_t f[3] = {0}, cfg = 0, cfg_keys = 0, vio = 0, vio_keys = 0;
                for (size_t i = 0; i < r->events->n; i++) {
                        const vd_event *e = &r->events->v[i];
                        if (e->package || e->kind == VD_CH_DORMANT || e->kind == VD_CH_MALWARE ||
                            e->kind == VD_CH_SECRET)
                                continue; /* c.packages, c.dormant, c.malware, c.secrets */
                        if (e->kind == VD_CH_VIOLATION) {
                                vio++;
                                vio_keys += e->n_ch;
                        } else if (e->config) {
                                cfg++;
                                cfg_keys += e->n_ch;
                        } else
                                f[e->kind == VD_CH_ADDED ? 1 : e->kind == VD_CH_REMOVED ? 2 : 0]++;
                }
                char pk[160] = "", *pe = pk;
                if (c.malware)
                        pe += snprintf(pe, sizeof pk - (size_t)(pe - pk), ", %zu malware", c.malware);
                if (c.secrets)
                        pe += snprintf(pe, sizeof pk - (size_t)(pe - pk), ", %zu secret%s", c.secrets,
                                       c.secrets == 1 ? "" : "s");
                if (c.packages)
                        pe += snprintf(pe, sizeof pk - (size_t)(pe - pk), ", %zu on packages", c.packages);
                if (c.vulnerable)
                        pe += snprintf(pe, sizeof pk - (size_t)(pe - pk), ", %zu vulnerable", c.vulnerable);
                if (c.dormant)
                        snprintf(pe, sizeof pk - (size_t)(pe - pk), ", dormant");
                if (c.total == 0)
                        rc = vd_buf_adds(b, "\nNo drift.\n");
                else
                        rc = vd_buf_addf(b,
                                         "\nSummary: %zu drift event%s: %zu on files (%zu changed, %zu added, %zu "
                                         "removed), %zu on configuration files (%zu key%s), %zu policy violation%s "
                                         "(%zu check%s)%s\n"
                                         "  by severity: %zu critical, %zu high, %zu medium, %zu low, %zu info\n",
                                         c.total, c.total == 1 ? "" : "s", f[0] + f[1] + f[2], f[0], f[1], f[2], cfg,
                                         cfg_keys, cfg_keys == 1 ? "" : "s", vio, vio == 1 ? "" : "s", vio_keys,
                                         vio_keys == 1 ? "" : "s", pk,
                                         c.by_sev[VD_SEV_CRITICAL], c.by_sev[VD_SEV_HIGH],
                                         c.by_sev[VD_SEV_MEDIUM], c.by_sev[VD_SEV_LOW], c.by_sev[VD_SEV_INFO]);
        }
        if (!rc)
                rc = vd_buf_addf(b, "Scanned %llu entries, hashed %llu files (", (unsigned long long)r->totals.entries,
                                 (unsigned long long)r->totals.files_hashed);
        if (!rc)
                rc = human_bytes(b, r->totals.bytes_hashed);
        if (!rc)
                rc = vd_buf_addf(b, ") in %.2f s", (double)r->duration_ns / 1e9);
        bool any = false;
        for (int p = 0; p < VD_PH_COUNT; p++)
                any |= r->phase_ns[p] >= 5000000;
        for (int p = 0, n = 0; !rc && any && p < VD_PH_COUNT; p++)
                if (r->phase_ns[p] >= 5000000)
                        rc = vd_buf_addf(b, "%s%s %.1f", n++ ? ", " : " (", vd_phase_name(p), (double)r->phase_ns[p] / 1e9);
        if (!rc && any)
                rc = vd_buf_addc(b, ')');
        if (!rc)
                rc = vd_buf_addf(b, "; exit %d (fail-on: %s)\n", r->exit_code, vd_severity_name(r->fail_on));
        return rc;
}

/* Where content was hashed, and which scan ran. */
static int tx_how(const vd_sink *s, const vd_report *r, vd_buf *b) {
        int rc = 0;
        const vd_scan_stats *st = r->stats;
        const char *off = st ? st->host_hashing_off : "";
        if (!rc && vd_stats_hashing_said(st)) {
                uint64_t appliance = st->files_hashed - st->host_files;
                if (st->host_hashing) {
                        rc = vd_buf_addf(b, "Hashed on the host: %llu files (", (unsigned long long)st->host_files);
                        if (!rc)
                                rc = human_bytes(b, st->host_bytes);
                        if (!rc)
                                rc = vd_buf_addf(b, " read from the image); in the appliance: %llu",
                                                 (unsigned long long)appliance);
                } else
                        rc = vd_buf_addf(b, "Hashed in the appliance: %llu files; on the host: none%s%s%s",
                                         (unsigned long long)appliance, off[0] ? " (" : "", off, off[0] ? ")" : "");
                int k = 0;
                for (int i = 0; !rc && st->host_hashing && i < VD_FB_N; i++)
                        if (st->hash_fallback[i])
                                rc = vd_buf_addf(b, "%s%s %llu", k++ ? ", " : " (", vd_hash_fallback_name(i),
                                                 (unsigned long long)st->hash_fallback[i]);
                if (!rc && k)
                        rc = vd_buf_addc(b, ')');
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        }
        if (!rc && vd_stats_delta_said(st) && st->delta) {
                rc = vd_buf_adds(b, "Delta scan (");
                if (!rc)
                        rc = human_bytes(b, st->delta_changed_bytes);
                if (!rc && st->delta_walk)
                        rc = vd_buf_addf(b, " of the disk written since the template): only what changed was walked, "
                                         "%llu entries taken from the baseline unread; of the files visited, ",
                                         (unsigned long long)st->delta_unvisited);
                else if (!rc)
                        rc = vd_buf_addf(b, " of the disk written since the template): the whole tree was walked (%s); ",
                                         st->delta_walk_off[0] ? st->delta_walk_off : "?");
                if (!rc)
                        rc = vd_buf_addf(b, "%llu proved unchanged, %llu hashes from the baseline",
                                         (unsigned long long)st->delta_proved, (unsigned long long)st->delta_reused);
                for (int i = 0, k = 0; !rc && i < VD_DW_N; i++)
                        if (st->delta_why[i])
                                rc = vd_buf_addf(b, "%s%s %llu", k++ ? ", " : "; not proved: ", vd_delta_why_name(i),
                                                 (unsigned long long)st->delta_why[i]);
                /* a baseline from before block records: every inode taken was read */
                if (!rc && st->delta_walk && st->delta_inodes_read && !st->delta_inodes_recorded)
                        rc = vd_buf_addf(b, "; %llu inodes read to prove them (no block records in the baseline: "
                                         "capture it again with this vmdrift to skip those reads)",
                                         (unsigned long long)st->delta_inodes_read);
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        } else if (!rc && vd_stats_delta_said(st) && st->delta_off[0])
                rc = vd_buf_addf(b, "Full scan: %s\n", st->delta_off);
        if (!rc && st && st->yara) {
                rc = vd_buf_addf(b, "YARA: matched %llu file%s (", (unsigned long long)st->yara_files,
                                 st->yara_files == 1 ? "" : "s");
                if (!rc)
                        rc = human_bytes(b, st->yara_bytes);
                if (!rc)
                        rc = vd_buf_addf(b, "), %llu from the host's hashing reads", (unsigned long long)st->yara_tapped);
                if (!rc && st->yara_over)
                        rc = vd_buf_addf(b, ", %llu in part (max_file)", (unsigned long long)st->yara_over);
                if (!rc && st->yara_skipped)
                        rc = vd_buf_addf(b, ", %llu not matched (max_total)", (unsigned long long)st->yara_skipped);
                if (!rc && st->yara_timeouts)
                        rc = vd_buf_addf(b, ", %llu timed out", (unsigned long long)st->yara_timeouts);
                if (!rc)
                        rc = vd_buf_addc(b, '\n');
        }
        return rc;
}

static int text_render(vd_sink *s, const vd_report *r, vd_buf *b) {
        if (r->source_kind && strcmp(r->source_kind, "fleet") == 0)
                return fleet_render(s, r, b);
        int rc = tx_head(s, r, b);
        const vd_event **sorted = calloc(r->events->n ? r->events->n : 1, sizeof *sorted);
        if (!sorted)
                return VD_E_NOMEM;
        if (!rc)
                rc = tx_yara(s, r, b, sorted);
        if (!rc)
                rc = tx_config(s, r, b, sorted);
        if (!rc)
                rc = tx_files(s, r, b, sorted);
        if (!rc)
                rc = tx_packages(s, r, b, sorted);
        if (!rc)
                rc = tx_vulnerable(s, r, b, sorted);
        free(sorted);
        if (!rc)
                rc = tx_dormant(s, r, b);
        if (!rc)
                rc = tx_warnings(r, b);
        if (!rc)
                rc = tx_summary(s, r, b);
        if (!rc)
                rc = tx_how(s, r, b);
        return rc;
}

static int text_write(vd_sink *s, const vd_report *r, vd_err *err) {
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = text_render(s, r, &b);
        if (!rc && fwrite(b.buf, 1, b.len, s->fp) != b.len)
                rc = VD_E_IO;
        vd_buf_release(&b);
        if (rc == VD_E_IO)
                return vd_err_errno(err, VD_E_IO, errno, "cannot write text report to %s", s->path ? s->path : "stdout");
        if (rc < 0)
                return vd_err_set(err, rc, "cannot format text report");
        return 0;
}

const struct vd_sink_ops vd_text_ops = {"text", text_write, NULL};
