/* The ND-JSON sink: one object per event, per warning, then the summary
 * (docs/events.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"
#include "common/vd_json.h"
#include "vd_sink_int.h"
#include "common/vd_str.h"


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
                return vd_json_put_str(b, v->s, tl);
        return vd_json_put_b64(b, v->s, v->len);
}

/* "path" is always a string (invalid bytes as U+FFFD); "path_b64" carries
 * the exact bytes when the path is not valid UTF-8. */
static int js_path(vd_buf *b, const char *key, const char *p, size_t n) {
        int r = vd_buf_addf(b, "\"%s\":", key);
        if (!r)
                r = vd_json_put_str(b, p, n);
        if (!r && !vd_utf8_valid(p, n)) {
                r = vd_buf_addf(b, ",\"%s_b64\":\"", key);
                if (!r)
                        r = vd_base64(b, p, n);
                if (!r)
                        r = vd_buf_addc(b, '"');
        }
        return r;
}

/* {"event":"KIND","scan_id":"...",("guest":"...",) */
static int js_head(vd_buf *b, const vd_report *r, const char *kind, const char *guest) {
        int rc = vd_buf_addf(b, "{\"event\":\"%s\",\"scan_id\":\"%s\",", kind, r->scan_id);
        if (!guest)
                guest = r->guest;
        if (!rc && guest) {
                rc = vd_buf_adds(b, "\"guest\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, guest);
                if (!rc)
                        rc = vd_buf_addc(b, ',');
        }
        return rc;
}

int vd_json_event(vd_buf *b, const vd_report *r, const vd_event *ev) {
        int rc = js_head(b, r, "drift", ev->guest);
        if (!rc)
                rc = js_path(b, ev->package ? "package" : "path", ev->path, ev->path_len);
        if (!rc && ev->fleet)
                rc = vd_buf_addf(b, ",\"change\":\"%s\",\"severity\":\"%s\",\"rule\":", vd_change_kind_name(ev->kind),
                                 vd_severity_name(ev->severity));
        else if (!rc && ev->package) {
                rc = vd_buf_adds(b, ",\"arch\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, ev->arch);
                if (!rc)
                        rc = vd_buf_addf(b, ",\"change\":\"%s\",\"severity\":\"%s\",\"rule\":",
                                         vd_change_kind_name(ev->kind), vd_severity_name(ev->severity));
        } else if (!rc)
                rc = vd_buf_addf(b, ",\"change\":\"%s\",\"type\":\"%s\",\"severity\":\"%s\",\"rule\":",
                                 vd_change_kind_name(ev->kind), vd_ftype_name(ev->ftype), vd_severity_name(ev->severity));
        if (!rc)
                rc = vd_json_put_cstr(b, ev->rule);
        if (!rc && ev->detector) {
                rc = vd_buf_adds(b, ",\"detector\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, ev->detector);
        }
        if (!rc && ev->config) {
                rc = vd_buf_adds(b, ",\"config\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, ev->config);
        }
        if (!rc)
                rc = vd_buf_adds(b, ",\"source\":");
        if (!rc)
                rc = vd_json_put_cstr(b, r->source);
        if (!rc)
                rc = vd_buf_adds(b, ",\"changes\":");
        if (!rc)
                rc = vd_json_changes(b, ev);
        if (!rc && ev->diff) {
                rc = vd_buf_adds(b, ",\"diff\":");
                if (!rc)
                        rc = vd_json_put_str(b, ev->diff, ev->diff_len);
        }
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
                        rc = vd_json_put_str(b, c->attr, strlen(c->attr));
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
                                rc = vd_json_put_cstr(b, c->note);
                }
                if (!rc)
                        rc = vd_buf_addc(b, '}');
        }
        if (!rc)
                rc = vd_buf_addc(b, '}');
        return rc;
}

/* The summary's source, baseline, counts, and how the run ended. */
static int js_summary_head(vd_buf *b, const vd_report *r) {
        vd_counts c;
        vd_report_count(r, &c);
        int rc = 0;
        rc = js_head(b, r, "summary", NULL);
        if (!rc)
                rc = vd_buf_adds(b, "\"source_kind\":");
        if (!rc)
                rc = vd_json_put_cstr(b, r->source_kind);
        if (!rc)
                rc = vd_buf_adds(b, ",\"source\":");
        if (!rc)
                rc = vd_json_put_cstr(b, r->source);
        if (!rc && r->guest_os) {
                rc = vd_buf_adds(b, ",\"guest_os\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, r->guest_os);
        }
        if (!rc && r->guest_hostname) {
                rc = vd_buf_adds(b, ",\"guest_hostname\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, r->guest_hostname);
        }
        if (!rc && r->guest_drive) {
                rc = vd_buf_adds(b, ",\"guest_drive\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, r->guest_drive);
        }
        if (!rc)
                rc = vd_buf_adds(b, ",\"baseline\":");
        if (!rc)
                rc = vd_json_put_cstr(b, r->baseline_path);
        if (!rc)
                rc = vd_buf_addf(b, ",\"baseline_verified\":%s,\"baseline_trust\":",
                                 r->baseline_verified ? "true" : "false");
        if (!rc)
                rc = vd_json_put_cstr(b, r->baseline_trust);
        if (!rc)
                rc = vd_buf_adds(b, ",\"baseline_source\":");
        if (!rc)
                rc = vd_json_put_cstr(b, r->baseline_source);
        if (!rc)
                rc = vd_buf_adds(b, ",\"baseline_digest\":");
        if (!rc)
                rc = vd_json_put_cstr(b, r->baseline_digest);
        if (!rc)
                rc = vd_buf_adds(b, ",\"started\":\"");
        if (!rc)
                rc = vd_time_rfc3339(b, r->started_ns);
        if (!rc)
                rc = vd_buf_addf(b,
                                 "\",\"total\":%zu,\"added\":%zu,\"removed\":%zu,\"changed\":%zu,\"violations\":%zu,\"packages\":%zu,\"dormant\":%zu,\"vulnerable\":%zu,\"fleet\":%zu,"
                                 "\"malware\":%zu,\"secrets\":%zu,\"severity\":{\"critical\":%zu,\"high\":%zu,\"medium\":%zu,\"low\":%zu,"
                                 "\"info\":%zu},\"warnings\":%zu,\"entries_scanned\":%llu,"
                                 "\"files_hashed\":%llu,\"bytes_hashed\":%llu,\"duration_ms\":%lld,"
                                 "\"max_rss_kb\":%lld,\"may_be_inconsistent\":%s,\"fail_on\":\"%s\",\"exit_code\":%d",
                                 c.total, c.added, c.removed, c.changed, c.violations, c.packages, c.dormant, c.vulnerable, c.fleet, c.malware, c.secrets, c.by_sev[VD_SEV_CRITICAL],
                                 c.by_sev[VD_SEV_HIGH], c.by_sev[VD_SEV_MEDIUM], c.by_sev[VD_SEV_LOW],
                                 c.by_sev[VD_SEV_INFO], r->n_warnings, (unsigned long long)r->totals.entries,
                                 (unsigned long long)r->totals.files_hashed, (unsigned long long)r->totals.bytes_hashed,
                                 (long long)(r->duration_ns / 1000000), (long long)r->max_rss_kb,
                                 r->may_be_inconsistent ? "true" : "false", vd_severity_name(r->fail_on),
                                 r->exit_code);
        return rc;
}

/* The time of each phase, and whether it is an untouched guest's kept report. */
static int js_summary_phases(vd_buf *b, const vd_report *r) {
        int rc = 0;
        /* then the phases and how the guest was mounted, and the object closes */
        if (!rc)
                rc = vd_buf_adds(b, ",\"phases_ms\":{");
        for (int p = 0; !rc && p < VD_PH_COUNT; p++)
                rc = vd_buf_addf(b, "%s\"%s\":%lld", p ? "," : "", vd_phase_name(p),
                                 (long long)(r->phase_ns[p] / 1000000));
        if (!rc)
                rc = vd_buf_addc(b, '}');
        if (!rc && r->reused_scan_id) {
                rc = vd_buf_addf(b, ",\"unchanged_since\":{\"scan_id\":\"%s\",\"started\":\"",
                                 r->reused_scan_id);
                if (!rc)
                        rc = vd_time_rfc3339(b, r->reused_started_ns);
                if (!rc)
                        rc = vd_buf_adds(b, r->reused_twin ? "\",\"identical_to_template\":true}" : "\"}");
        }
        return rc;
}

/* How a guest was mounted, and the appliance it was scanned in (and with whom). */
static int js_summary_appliance(vd_buf *b, const vd_report *r) {
        int rc = 0;
        if (!rc && r->inspection) {
                rc = vd_buf_adds(b, ",\"inspection\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, r->inspection);
        }
        if (!rc && r->appliance)
                rc = vd_buf_addf(b, ",\"appliance\":{\"started\":\"%s\",\"guests\":%u", r->appliance,
                                 r->appliance_guests);
        if (!rc && r->appliance && r->appliance_peers) {
                /* who else was in it: a guest that subverted the
                 * appliance's kernel could have written this report */
                rc = vd_buf_adds(b, ",\"shared_with\":[");
                const char *p = r->appliance_peers;
                for (bool first = true; !rc && *p; first = false) {
                        size_t n = strcspn(p, "\n");
                        if (!first)
                                rc = vd_buf_addc(b, ',');
                        if (!rc)
                                rc = vd_buf_addc(b, '"');
                        if (!rc)
                                rc = vd_escape_json(b, p, n);
                        if (!rc)
                                rc = vd_buf_addc(b, '"');
                        p += n + (p[n] == '\n');
                }
                if (!rc)
                        rc = vd_buf_addc(b, ']');
        }
        if (!rc && r->appliance)
                rc = vd_buf_addc(b, '}');
        return rc;
}

/* Advisories matched, and the last activity seen in the guest. */
static int js_summary_misc(vd_buf *b, const vd_report *r) {
        int rc = 0;
        if (!rc && r->advisories_ecosystem) {
                rc = vd_buf_adds(b, ",\"advisories\":{\"ecosystem\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, r->advisories_ecosystem);
                if (!rc)
                        rc = vd_buf_addf(b, ",\"records\":%zu,\"files\":%zu}", r->advisories_records,
                                         r->advisories_files);
        }
        if (!rc && r->last_activity_ns) {
                rc = vd_buf_adds(b, ",\"last_activity\":{\"time\":\"");
                if (!rc)
                        rc = vd_time_rfc3339(b, r->last_activity_ns);
                if (!rc)
                        rc = vd_buf_adds(b, "\",");
                if (!rc)
                        rc = js_path(b, "path", r->last_activity_path, r->last_activity_path_len);
                if (!rc)
                        rc = vd_buf_addc(b, '}');
        }
        return rc;
}

/* Where content was hashed: on the host, in the appliance, and why. */
static int js_summary_hashing(vd_buf *b, const vd_report *r) {
        int rc = 0;
        const vd_scan_stats *st = r->stats;
        if (!rc && vd_stats_hashing_said(st)) {
                rc = vd_buf_addf(b,
                                 ",\"hashing\":{\"host\":%s,\"host_files\":%llu,\"host_bytes_read\":%llu,"
                                 "\"appliance_files\":%llu,\"appliance_reasons\":{",
                                 st->host_hashing ? "true" : "false", (unsigned long long)st->host_files,
                                 (unsigned long long)st->host_bytes,
                                 (unsigned long long)(st->files_hashed - st->host_files));
                for (int i = 0, k = 0; !rc && i < VD_FB_N; i++)
                        if (st->hash_fallback[i])
                                rc = vd_buf_addf(b, "%s\"%s\":%llu", k++ ? "," : "", vd_hash_fallback_name(i),
                                                 (unsigned long long)st->hash_fallback[i]);
                if (!rc)
                        rc = vd_buf_addc(b, '}');
                if (!rc && st->host_hashing_off[0]) {
                        rc = vd_buf_adds(b, ",\"host_off\":");
                        if (!rc)
                                rc = vd_json_put_cstr(b, st->host_hashing_off);
                }
                if (!rc)
                        rc = vd_buf_addc(b, '}');
        }
        return rc;
}

/* YARA: what was matched, and each bound reached. */
static int js_summary_yara(vd_buf *b, const vd_report *r) {
        const vd_scan_stats *st = r->stats;
        if (!st || !st->yara)
                return 0;
        return vd_buf_addf(b,
                           ",\"yara\":{\"files\":%llu,\"bytes\":%llu,\"from_host_hashing\":%llu,\"over_max_file\":%llu,"
                           "\"not_matched_max_total\":%llu,\"timed_out\":%llu,\"ms\":%lld}",
                           (unsigned long long)st->yara_files, (unsigned long long)st->yara_bytes,
                           (unsigned long long)st->yara_tapped, (unsigned long long)st->yara_over,
                           (unsigned long long)st->yara_skipped, (unsigned long long)st->yara_timeouts,
                           (long long)(st->yara_ns / 1000000));
}

/* Which scan ran (delta or full) and why. */
static int js_summary_mode(vd_buf *b, const vd_report *r) {
        int rc = 0;
        const vd_scan_stats *st = r->stats;
        if (!rc && vd_stats_delta_said(st) && st->delta) {
                rc = vd_buf_addf(b,
                                 ",\"scan_mode\":\"delta\",\"delta\":{\"changed_bytes\":%llu,\"proved\":%llu,"
                                 "\"reused\":%llu,\"not_proved\":{",
                                 (unsigned long long)st->delta_changed_bytes, (unsigned long long)st->delta_proved,
                                 (unsigned long long)st->delta_reused);
                for (int i = 0, k = 0; !rc && i < VD_DW_N; i++)
                        if (st->delta_why[i])
                                rc = vd_buf_addf(b, "%s\"%s\":%llu", k++ ? "," : "", vd_delta_why_name(i),
                                                 (unsigned long long)st->delta_why[i]);
                if (!rc)
                        rc = vd_buf_addc(b, '}');
                if (!rc && st->delta_walk)
                        rc = vd_buf_addf(b, ",\"walk\":\"changed-only\",\"unvisited\":%llu,"
                                         "\"inodes_from_records\":%llu,\"inodes_read\":%llu",
                                         (unsigned long long)st->delta_unvisited,
                                         (unsigned long long)st->delta_inodes_recorded,
                                         (unsigned long long)st->delta_inodes_read);
                else if (!rc) {
                        rc = vd_buf_adds(b, ",\"walk\":\"whole\",\"walk_whole_because\":");
                        if (!rc)
                                rc = vd_json_put_cstr(b, st->delta_walk_off[0] ? st->delta_walk_off : "?");
                }
                if (!rc)
                        rc = vd_buf_addc(b, '}');
        } else if (!rc && vd_stats_delta_said(st)) {
                rc = vd_buf_adds(b, ",\"scan_mode\":\"full\",\"full_because\":");
                if (!rc)
                        rc = vd_json_put_cstr(b, st->delta_off);
        }
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
                rc = js_head(&b, r, "warning", NULL);
                if (!rc && w->path) {
                        rc = js_path(&b, "path", w->path, w->path_len);
                        if (!rc)
                                rc = vd_buf_addc(&b, ',');
                }
                if (!rc)
                        rc = vd_buf_adds(&b, "\"message\":");
                if (!rc)
                        rc = vd_json_put_cstr(&b, w->msg);
                if (!rc)
                        rc = vd_buf_adds(&b, "}\n");
                if (!rc && fwrite(b.buf, 1, b.len, s->fp) != b.len)
                        rc = VD_E_IO;
        }
        if (!rc) {
                vd_buf_reset(&b);
                rc = js_summary_head(&b, r);
                if (!rc)
                        rc = js_summary_phases(&b, r);
                if (!rc)
                        rc = js_summary_appliance(&b, r);
                if (!rc)
                        rc = js_summary_misc(&b, r);
                if (!rc)
                        rc = js_summary_hashing(&b, r);
                if (!rc)
                        rc = js_summary_mode(&b, r);
                if (!rc)
                        rc = js_summary_yara(&b, r);
                if (!rc)
                        rc = vd_buf_adds(&b, "}\n");
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

const struct vd_sink_ops vd_json_ops = {"json", json_write, NULL};
