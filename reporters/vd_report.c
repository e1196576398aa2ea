#define _GNU_SOURCE
#include "vd_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vd_buf.h"
#include "vd_str.h"

#include "vd_sink_int.h"

void vd_report_count(const vd_report *r, vd_counts *c) {
        memset(c, 0, sizeof *c);
        for (size_t i = 0; i < r->events->n; i++) {
                const vd_event *e = &r->events->v[i];
                if (e->kind == VD_CH_ADDED)
                        c->added++;
                else if (e->kind == VD_CH_REMOVED)
                        c->removed++;
                else if (e->kind == VD_CH_VIOLATION)
                        c->violations++;
                else
                        c->changed++;
                if (e->severity >= 0 && e->severity <= VD_SEV_CRITICAL)
                        c->by_sev[e->severity]++;
                c->total++;
        }
}

/* ---------------- ND-JSON ---------------- */

static int js_str(vd_buf *b, const char *p, size_t n) {
        int r = vd_buf_addc(b, '"');
        if (!r)
                r = vd_escape_json(b, p, n);
        if (!r)
                r = vd_buf_addc(b, '"');
        return r;
}

static int js_cstr(vd_buf *b, const char *s) { return s ? js_str(b, s, strlen(s)) : vd_buf_adds(b, "null"); }

/* Text: valid UTF-8 without control bytes but tab and newline. One trailing
 * NUL (SELinux labels carry one) is allowed and not shown. */
static size_t text_len(const char *s, size_t n) {
        if (n > 0 && s[n - 1] == '\0')
                n--;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                        return SIZE_MAX;
        }
        return vd_utf8_valid(s, n) ? n : SIZE_MAX;
}

/* A value: null, a number, a string, or {"b64": ...} for binary bytes
 * (file capabilities, ACLs) and bytes that are not UTF-8. */
static int js_val(vd_buf *b, const vd_val *v) {
        if (!v->s)
                return vd_buf_adds(b, "null");
        if (v->num)
                return vd_buf_add(b, v->s, v->len);
        size_t tl = text_len(v->s, v->len);
        if (tl != SIZE_MAX)
                return js_str(b, v->s, tl);
        int r = vd_buf_adds(b, "{\"b64\":\"");
        if (!r)
                r = vd_base64(b, v->s, v->len);
        if (!r)
                r = vd_buf_adds(b, "\"}");
        return r;
}

/* "path" is always a string (invalid bytes as U+FFFD); "path_b64" carries
 * the exact bytes when the path is not valid UTF-8. */
static int js_path(vd_buf *b, const char *key, const char *p, size_t n) {
        int r = vd_buf_addf(b, "\"%s\":", key);
        if (!r)
                r = js_str(b, p, n);
        if (!r && !vd_utf8_valid(p, n)) {
                r = vd_buf_addf(b, ",\"%s_b64\":\"", key);
                if (!r)
                        r = vd_base64(b, p, n);
                if (!r)
                        r = vd_buf_addc(b, '"');
        }
        return r;
}

int vd_json_event(vd_buf *b, const vd_report *r, const vd_event *ev) {
        int rc = vd_buf_addf(b, "{\"event\":\"drift\",\"scan_id\":\"%s\",", r->scan_id);
        if (!rc)
                rc = js_path(b, "path", ev->path, ev->path_len);
        if (!rc)
                rc = vd_buf_addf(b, ",\"change\":\"%s\",\"type\":\"%s\",\"severity\":\"%s\",\"rule\":",
                                 vd_change_kind_name(ev->kind), vd_ftype_name(ev->ftype), vd_severity_name(ev->severity));
        if (!rc)
                rc = js_cstr(b, ev->rule);
        if (!rc && ev->detector) {
                rc = vd_buf_adds(b, ",\"detector\":");
                if (!rc)
                        rc = js_cstr(b, ev->detector);
        }
        if (!rc && ev->config) {
                rc = vd_buf_adds(b, ",\"config\":");
                if (!rc)
                        rc = js_cstr(b, ev->config);
        }
        if (!rc)
                rc = vd_buf_adds(b, ",\"source\":");
        if (!rc)
                rc = js_cstr(b, r->source);
        if (!rc)
                rc = vd_buf_adds(b, ",\"changes\":");
        if (!rc)
                rc = vd_json_changes(b, ev);
        if (!rc)
                rc = vd_buf_addc(b, '}');
        return rc;
}

int vd_json_changes(vd_buf *b, const vd_event *ev) {
        int rc = vd_buf_addc(b, '{');
        for (size_t i = 0; i < ev->n_ch && !rc; i++) {
                const vd_attr_change *c = &ev->ch[i];
                if (i)
                        rc = vd_buf_addc(b, ',');
                if (!rc)
                        rc = js_str(b, c->attr, strlen(c->attr));
                if (!rc)
                        rc = vd_buf_adds(b, ":{\"old\":");
                if (!rc)
                        rc = js_val(b, &c->old_v);
                if (!rc)
                        rc = vd_buf_adds(b, ",\"new\":");
                if (!rc)
                        rc = js_val(b, &c->new_v);
                if (!rc && c->note) {
                        rc = vd_buf_adds(b, ev->kind == VD_CH_VIOLATION ? ",\"violation\":" : ",\"where\":");
                        if (!rc)
                                rc = js_cstr(b, c->note);
                }
                if (!rc)
                        rc = vd_buf_addc(b, '}');
        }
        if (!rc)
                rc = vd_buf_addc(b, '}');
        return rc;
}

static int json_write(vd_sink *s, const vd_report *r, vd_err *err) {
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = 0;
        for (size_t i = 0; i < r->events->n && !rc; i++) {
                vd_buf_reset(&b);
                rc = vd_json_event(&b, r, &r->events->v[i]);
                if (!rc)
                        rc = vd_buf_addc(&b, '\n');
                if (!rc && fwrite(b.buf, 1, b.len, s->fp) != b.len)
                        rc = VD_E_IO;
        }
        for (size_t i = 0; i < r->n_warnings && !rc; i++) {
                const vd_warning *w = &r->warnings[i];
                vd_buf_reset(&b);
                rc = vd_buf_addf(&b, "{\"event\":\"warning\",\"scan_id\":\"%s\",", r->scan_id);
                if (!rc && w->path) {
                        rc = js_path(&b, "path", w->path, w->path_len);
                        if (!rc)
                                rc = vd_buf_addc(&b, ',');
                }
                if (!rc)
                        rc = vd_buf_adds(&b, "\"message\":");
                if (!rc)
                        rc = js_cstr(&b, w->msg);
                if (!rc)
                        rc = vd_buf_adds(&b, "}\n");
                if (!rc && fwrite(b.buf, 1, b.len, s->fp) != b.len)
                        rc = VD_E_IO;
        }
        if (!rc) {
                vd_counts c;
                vd_report_count(r, &c);
                vd_buf_reset(&b);
                rc = vd_buf_addf(&b, "{\"event\":\"summary\",\"scan_id\":\"%s\",\"source_kind\":", r->scan_id);
                if (!rc)
                        rc = js_cstr(&b, r->source_kind);
                if (!rc)
                        rc = vd_buf_adds(&b, ",\"source\":");
                if (!rc)
                        rc = js_cstr(&b, r->source);
                if (!rc && r->guest_os) {
                        rc = vd_buf_adds(&b, ",\"guest_os\":");
                        if (!rc)
                                rc = js_cstr(&b, r->guest_os);
                }
                if (!rc && r->guest_hostname) {
                        rc = vd_buf_adds(&b, ",\"guest_hostname\":");
                        if (!rc)
                                rc = js_cstr(&b, r->guest_hostname);
                }
                if (!rc)
                        rc = vd_buf_adds(&b, ",\"baseline\":");
                if (!rc)
                        rc = js_cstr(&b, r->baseline_path);
                if (!rc)
                        rc = vd_buf_addf(&b, ",\"baseline_verified\":%s,\"baseline_trust\":",
                                         r->baseline_verified ? "true" : "false");
                if (!rc)
                        rc = js_cstr(&b, r->baseline_trust);
                if (!rc)
                        rc = vd_buf_adds(&b, ",\"baseline_source\":");
                if (!rc)
                        rc = js_cstr(&b, r->baseline_source);
                if (!rc)
                        rc = vd_buf_adds(&b, ",\"baseline_digest\":");
                if (!rc)
                        rc = js_cstr(&b, r->baseline_digest);
                if (!rc)
                        rc = vd_buf_adds(&b, ",\"started\":\"");
                if (!rc)
                        rc = vd_time_rfc3339(&b, r->started_ns);
                if (!rc)
                        rc = vd_buf_addf(&b,
                                         "\",\"total\":%zu,\"added\":%zu,\"removed\":%zu,\"changed\":%zu,\"violations\":%zu,"
                                         "\"severity\":{\"critical\":%zu,\"high\":%zu,\"medium\":%zu,\"low\":%zu,"
                                         "\"info\":%zu},\"warnings\":%zu,\"entries_scanned\":%llu,"
                                         "\"files_hashed\":%llu,\"bytes_hashed\":%llu,\"duration_ms\":%lld,"
                                         "\"may_be_inconsistent\":%s,\"fail_on\":\"%s\",\"exit_code\":%d}\n",
                                         c.total, c.added, c.removed, c.changed, c.violations, c.by_sev[VD_SEV_CRITICAL],
                                         c.by_sev[VD_SEV_HIGH], c.by_sev[VD_SEV_MEDIUM], c.by_sev[VD_SEV_LOW],
                                         c.by_sev[VD_SEV_INFO], r->n_warnings, (unsigned long long)r->entries_scanned,
                                         (unsigned long long)r->files_hashed, (unsigned long long)r->bytes_hashed,
                                         (long long)(r->duration_ns / 1000000),
                                         r->may_be_inconsistent ? "true" : "false", vd_severity_name(r->fail_on),
                                         r->exit_code);
                if (!rc && fwrite(b.buf, 1, b.len, s->fp) != b.len)
                        rc = VD_E_IO;
        }
        vd_buf_release(&b);
        if (rc == VD_E_IO)
                return vd_err_errno(err, VD_E_IO, errno, "cannot write JSON report to %s", s->path ? s->path : "stdout");
        if (rc < 0)
                return vd_err_set(err, rc, "cannot format JSON report");
        return 0;
}

/* ---------------- text ---------------- */

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
        size_t n = v->len;
        bool cut = n > 96;
        if (cut)
                n = 96;
        int r = quote ? vd_buf_addc(b, '"') : 0;
        if (!r)
                r = vd_escape_display(b, v->s, n);
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

/* One line for an added or removed entry: type mode owner size [-> target]. */
static int tx_describe(vd_buf *b, const vd_event *e) {
        bool added = e->kind == VD_CH_ADDED;
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

static int tx_quoted(vd_buf *b, const vd_val *v) {
        if (!v->s)
                return vd_buf_adds(b, "(not set)");
        size_t n = v->len > 200 ? 200 : v->len;
        int r = vd_buf_addc(b, '"');
        if (!r)
                r = vd_escape_display(b, v->s, n);
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
                        for (size_t k = 0; k < e->n_ch && !rc; k++) {
                                const vd_attr_change *ch = &e->ch[k];
                                rc = vd_buf_addf(b, "  %s%-8s%s  ", sev_color(s, e->severity),
                                                 vd_severity_name(e->severity), reset(s));
                                if (!rc)
                                        rc = vd_escape_display(b, e->path, e->path_len);
                                if (!rc)
                                        rc = vd_buf_adds(b, ": ");
                                if (!rc)
                                        rc = vd_escape_display(b, ch->attr, strlen(ch->attr));
                                if (!rc && g == 0) {
                                        rc = vd_buf_adds(b, " is ");
                                        if (!rc)
                                                rc = tx_quoted(b, &ch->new_v);
                                } else if (!rc) {
                                        rc = vd_buf_adds(b, ": ");
                                        if (!rc)
                                                rc = tx_quoted(b, &ch->old_v);
                                        if (!rc)
                                                rc = vd_buf_adds(b, " -> ");
                                        if (!rc)
                                                rc = tx_quoted(b, &ch->new_v);
                                }
                                if (!rc && ch->note) {
                                        rc = vd_buf_adds(b, g == 0 ? ": " : "  (");
                                        if (!rc)
                                                rc = vd_escape_display(b, ch->note, strlen(ch->note));
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

static int text_render(vd_sink *s, const vd_report *r, vd_buf *b) {
        vd_counts c;
        vd_report_count(r, &c);
        int rc = vd_buf_adds(b, "vmdrift scan of ");
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
        if (!rc && r->baseline_trust)
                rc = vd_buf_addf(b, "\n  baseline signature %s%s", r->baseline_trust,
                                 r->baseline_verified ? "" : ": a modified baseline would go unnoticed");
        if (!rc)
                rc = vd_buf_addf(b, "\n  scan id %s\n", r->scan_id);
        if (!rc && r->may_be_inconsistent)
                rc = vd_buf_adds(b, "  NOTE: the source was in use during the scan (a running guest?); the result may be inconsistent\n");

        const vd_event **sorted = calloc(r->events->n ? r->events->n : 1, sizeof *sorted);
        if (!sorted)
                return VD_E_NOMEM;
        if (!rc)
                rc = tx_config(s, r, b, sorted);
        static const int order[] = {VD_CH_CHANGED, VD_CH_ADDED, VD_CH_REMOVED};
        static const char *const title[] = {"Changed", "Added", "Removed"};
        for (int g = 0; g < 3 && !rc; g++) {
                size_t n = 0;
                for (size_t i = 0; i < r->events->n; i++)
                        if (r->events->v[i].kind == order[g] && !r->events->v[i].config)
                                sorted[n++] = &r->events->v[i];
                if (!n)
                        continue;
                qsort(sorted, n, sizeof *sorted, cmp_sev_path);
                rc = vd_buf_addf(b, "\n%s (%zu)\n", title[g], n);
                for (size_t i = 0; i < n && !rc; i++) {
                        const vd_event *e = sorted[i];
                        rc = vd_buf_addf(b, "  %s%-8s%s  ", sev_color(s, e->severity), vd_severity_name(e->severity),
                                         reset(s));
                        if (!rc)
                                rc = vd_escape_display(b, e->path, e->path_len);
                        if (!rc)
                                rc = tx_why(b, e);
                        if (!rc && order[g] != VD_CH_CHANGED) {
                                rc = vd_buf_adds(b, "\n                ");
                                if (!rc)
                                        rc = tx_describe(b, e);
                                if (!rc)
                                        rc = vd_buf_addc(b, '\n');
                                continue;
                        }
                        if (!rc)
                                rc = vd_buf_addc(b, '\n');
                        for (size_t k = 0; k < e->n_ch && !rc; k++) {
                                const vd_attr_change *ch = &e->ch[k];
                                rc = vd_buf_addf(b, "                %-10s ", ch->attr);
                                if (!rc)
                                        rc = tx_val(b, ch->attr, &ch->old_v);
                                if (!rc)
                                        rc = vd_buf_adds(b, " -> ");
                                if (!rc)
                                        rc = tx_val(b, ch->attr, &ch->new_v);
                                if (!rc)
                                        rc = vd_buf_addc(b, '\n');
                        }
                }
        }
        free(sorted);
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
        if (!rc) {
                /* The summary adds up to the sections above: files by change,
                 * configuration files with their keys, violations with their
                 * checks (one event per file, one line per key). */
                size_t f[3] = {0}, cfg = 0, cfg_keys = 0, vio = 0, vio_keys = 0;
                for (size_t i = 0; i < r->events->n; i++) {
                        const vd_event *e = &r->events->v[i];
                        if (e->kind == VD_CH_VIOLATION) {
                                vio++;
                                vio_keys += e->n_ch;
                        } else if (e->config) {
                                cfg++;
                                cfg_keys += e->n_ch;
                        } else
                                f[e->kind == VD_CH_ADDED ? 1 : e->kind == VD_CH_REMOVED ? 2 : 0]++;
                }
                if (c.total == 0)
                        rc = vd_buf_adds(b, "\nNo drift.\n");
                else
                        rc = vd_buf_addf(b,
                                         "\nSummary: %zu drift event%s: %zu on files (%zu changed, %zu added, %zu "
                                         "removed), %zu on configuration files (%zu key%s), %zu policy violation%s "
                                         "(%zu check%s)\n"
                                         "  by severity: %zu critical, %zu high, %zu medium, %zu low, %zu info\n",
                                         c.total, c.total == 1 ? "" : "s", f[0] + f[1] + f[2], f[0], f[1], f[2], cfg,
                                         cfg_keys, cfg_keys == 1 ? "" : "s", vio, vio == 1 ? "" : "s", vio_keys,
                                         vio_keys == 1 ? "" : "s", c.by_sev[VD_SEV_CRITICAL], c.by_sev[VD_SEV_HIGH],
                                         c.by_sev[VD_SEV_MEDIUM], c.by_sev[VD_SEV_LOW], c.by_sev[VD_SEV_INFO]);
        }
        if (!rc)
                rc = vd_buf_addf(b, "Scanned %llu entries, hashed %llu files (", (unsigned long long)r->entries_scanned,
                                 (unsigned long long)r->files_hashed);
        if (!rc)
                rc = human_bytes(b, r->bytes_hashed);
        if (!rc)
                rc = vd_buf_addf(b, ") in %.2f s; exit %d (fail-on: %s)\n", (double)r->duration_ns / 1e9, r->exit_code,
                                 vd_severity_name(r->fail_on));
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

static const struct vd_sink_ops text_ops = {"text", text_write, NULL};
static const struct vd_sink_ops json_ops = {"json", json_write, NULL};

int vd_facility_from_name(const char *s) {
        static const char *const names[] = {"kern",   "user",   "mail",   "daemon", "auth",   "syslog",
                                            "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
                                            "ntp",    "audit",  "alert",  "clock",  "local0", "local1",
                                            "local2", "local3", "local4", "local5", "local6", "local7"};
        for (int i = 0; i < 24; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        uint64_t v;
        if (vd_parse_u64(s, &v) && v < 24)
                return (int)v;
        return -1;
}

void vd_sink_opts_init(vd_sink_opts *o) {
        memset(o, 0, sizeof *o);
        o->facility = 13; /* log audit */
        o->enterprise = VD_DEFAULT_ENTERPRISE;
        o->format = VD_SYSLOG_RFC5424;
        o->max_events = VD_DEFAULT_MAX_EVENTS;
        o->attempts = 4;
        o->backoff_ms = 250;
}

static mode_t current_umask(void) {
        mode_t m = umask(0);
        umask(m);
        return m;
}

int vd_sink_open(const char *spec, const vd_sink_opts *o, vd_sink **ret, vd_err *err) {
        vd_sink_opts defaults;
        if (!o) {
                vd_sink_opts_init(&defaults);
                o = &defaults;
        }
        const char *colon = strchr(spec, ':');
        size_t kl = colon ? (size_t)(colon - spec) : strlen(spec);
        const struct vd_sink_ops *ops = NULL;
        if (kl == 4 && strncmp(spec, "text", 4) == 0)
                ops = &text_ops;
        else if (kl == 4 && strncmp(spec, "json", 4) == 0)
                ops = &json_ops;
        else if (kl == 6 && strncmp(spec, "syslog", 6) == 0)
                return vd_syslog_open(colon ? colon + 1 : "unix:/dev/log", o, ret, err);
        else if (kl == 7 && strncmp(spec, "journal", 7) == 0) {
                if (colon)
                        return vd_err_set(err, VD_E_USAGE, "report 'journal' takes no argument");
                return vd_journal_open(o, ret, err);
        } else
                return vd_err_set(err, VD_E_USAGE,
                                  "unknown report '%.*s' (expected text[:FILE], json[:FILE], syslog[:URL] or journal)",
                                  (int)kl, spec);
        if (colon && !colon[1])
                return vd_err_set(err, VD_E_USAGE, "report '%s': empty file name", spec);
        vd_sink *s = calloc(1, sizeof *s);
        if (!s)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        s->ops = ops;
        if (colon && strcmp(colon + 1, "-") != 0) {
                /* A regular file (or a new one) is written beside its place
                 * and renamed at close: a run that fails leaves the previous
                 * report, never a truncated one. Anything else (a terminal,
                 * a pipe, /dev/stdout) is written to as it is. */
                s->path = strdup(colon + 1);
                struct stat st;
                bool direct = s->path && stat(s->path, &st) == 0 && !S_ISREG(st.st_mode);
                int fd = -1;
                s->tmp = NULL;
                if (direct)
                        fd = open(s->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                else if (s->path && asprintf(&s->tmp, "%s.tmp.XXXXXX", s->path) >= 0)
                        fd = mkostemp(s->tmp, O_CLOEXEC);
                else
                        s->tmp = NULL;
                s->fp = fd >= 0 ? fdopen(fd, "w") : NULL;
                if (!s->fp) {
                        int e = errno;
                        if (fd >= 0) {
                                close(fd);
                                if (s->tmp)
                                        unlink(s->tmp);
                        }
                        free(s->tmp);
                        free(s->path);
                        free(s);
                        return vd_err_errno(err, VD_E_IO, e, "cannot open report file '%s'", colon + 1);
                }
                if (s->tmp)
                        fchmod(fd, 0666 & ~current_umask());
        } else {
                s->fp = stdout;
                const char *nc = getenv("NO_COLOR");
                s->color = ops == &text_ops && isatty(STDOUT_FILENO) && !(nc && *nc);
        }
        *ret = s;
        return 0;
}

int vd_sink_write(vd_sink *s, const vd_report *r, vd_err *err) {
        int rc = s->ops->write(s, r, err);
        if (rc == 0)
                s->written = true;
        return rc;
}

const char *vd_sink_name(const vd_sink *s) { return s->ops->name; }

int vd_sink_close(vd_sink *s, vd_err *err) {
        if (!s)
                return 0;
        if (s->ops->close)
                return s->ops->close(s, err);
        int rc = 0;
        if (s->path && !s->tmp) {
                if (fclose(s->fp) != 0)
                        rc = vd_err_errno(err, VD_E_IO, errno, "cannot write report file '%s'", s->path);
        } else if (s->path) {
                if ((fflush(s->fp) != 0 || fsync(fileno(s->fp)) != 0) && s->written)
                        rc = vd_err_errno(err, VD_E_IO, errno, "cannot write report file '%s'", s->path);
                if (fclose(s->fp) != 0 && rc == 0 && s->written)
                        rc = vd_err_errno(err, VD_E_IO, errno, "cannot write report file '%s'", s->path);
                if (rc == 0 && s->written && rename(s->tmp, s->path) != 0)
                        rc = vd_err_errno(err, VD_E_IO, errno, "cannot write report file '%s': rename", s->path);
                if (rc < 0 || !s->written)
                        unlink(s->tmp);
                free(s->tmp);
        } else if (fflush(s->fp) != 0)
                rc = vd_err_errno(err, VD_E_IO, errno, "cannot write report to stdout");
        free(s->path);
        free(s);
        return rc;
}
