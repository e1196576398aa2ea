/* The fleet's page; see vd_html.h. */
#include "report/vd_html.h"

#include <stdio.h>
#include <string.h>

#include "common/vd_str.h"

/* s[0..n) as text inside an element or a quoted attribute: display-escaped
 * first (no control, bidi or invisible character, no invalid UTF-8 reaches
 * the page), then & < > " ' as entities. */
static int esc(vd_buf *b, const char *s, size_t n) {
        vd_buf t;
        vd_buf_init(&t, 0);
        int r = vd_escape_display(&t, s ? s : "", s ? n : 0);
        for (size_t i = 0; r == 0 && i < t.len; i++) {
                char c = t.buf[i];
                r = c == '&'    ? vd_buf_adds(b, "&amp;")
                    : c == '<'  ? vd_buf_adds(b, "&lt;")
                    : c == '>'  ? vd_buf_adds(b, "&gt;")
                    : c == '"'  ? vd_buf_adds(b, "&quot;")
                    : c == '\'' ? vd_buf_adds(b, "&#39;")
                                : vd_buf_addc(b, c);
        }
        vd_buf_release(&t);
        return r;
}

static int escs(vd_buf *b, const char *s) { return esc(b, s, s ? strlen(s) : 0); }

static int when(vd_buf *b, int64_t ns) {
        if (!ns)
                return vd_buf_adds(b, "never");
        return vd_time_rfc3339(b, ns);
}

static const char *const sev_names[5] = {"info", "low", "medium", "high", "critical"};

/* "2 critical, 1 high" (none: "none") */
static int sev_counts(vd_buf *b, const size_t by_sev[5]) {
        int r = 0, k = 0;
        for (int i = 4; i >= 0 && r == 0; i--)
                if (by_sev[i])
                        r = vd_buf_addf(b, "%s<span class=\"sev s%d\">%zu %s</span>", k++ ? " " : "", i, by_sev[i],
                                        sev_names[i]);
        if (r == 0 && !k)
                r = vd_buf_adds(b, "none");
        return r;
}

static const char *result_class(const char *r) {
        return !r || !*r                   ? "never"
               : !strcmp(r, "clean")       ? "clean"
               : !strcmp(r, "drift")       ? "drift"
               : !strcmp(r, "unreachable") ? "unreachable"
                                           : "error";
}

static const char STYLE[] =
        "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}"
        "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
        "table{border-collapse:collapse;width:100%}td,th{padding:.25em .5em;border-bottom:1px solid #ddd;"
        "text-align:left;vertical-align:top}"
        ".st{padding:0 .4em;border-radius:3px;color:#fff}.clean{background:#2a7d3a}.drift{background:#c0392b}"
        ".error{background:#7d3c98}.unreachable{background:#555}.never{background:#999}"
        ".sev{white-space:nowrap}.s4{color:#a00;font-weight:bold}.s3{color:#c0392b}.s2{color:#b9770e}"
        ".s1{color:#555}.s0{color:#888}"
        ".h{display:inline-block;width:.7em;height:1em;margin-right:1px}"
        "details{margin:.2em 0}summary{cursor:pointer}code,.path{font-family:monospace;word-break:break-all}"
        ".muted{color:#777}";

static int head(vd_buf *b, const vd_html_fleet *f) {
        int r = vd_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                               "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
                               "<meta name=\"referrer\" content=\"no-referrer\">\n<title>vmdrift fleet: ");
        if (!r)
                r = escs(b, f->inventory);
        if (!r)
                r = vd_buf_addf(b, "</title>\n<style>%s</style></head>\n<body>\n<h1>vmdrift fleet: ", STYLE);
        if (!r)
                r = escs(b, f->inventory);
        if (!r)
                r = vd_buf_adds(b, "</h1>\n<p class=\"muted\">run ");
        if (!r)
                r = when(b, f->time_ns);
        if (!r && f->host) {
                r = vd_buf_adds(b, " on ");
                if (!r)
                        r = escs(b, f->host);
        }
        size_t n[5] = {0}; /* clean drift error unreachable never */
        for (size_t i = 0; i < f->n_guests; i++) {
                const char *c = result_class(f->guests[i].result);
                n[!strcmp(c, "clean") ? 0 : !strcmp(c, "drift") ? 1 : !strcmp(c, "error") ? 2 : !strcmp(c, "unreachable") ? 3 : 4]++;
        }
        if (!r)
                r = vd_buf_addf(b,
                                "</p>\n<p id=\"counts\">%zu guests: <span class=\"st clean\">%zu clean</span> "
                                "<span class=\"st drift\">%zu drift</span> <span class=\"st error\">%zu error</span> "
                                "<span class=\"st unreachable\">%zu unreachable</span> <span class=\"st never\">%zu "
                                "never scanned</span>; %zu fleet findings</p>\n",
                                f->n_guests, n[0], n[1], n[2], n[3], n[4], f->findings ? f->findings->n : 0);
        return r;
}

static int findings(vd_buf *b, const vd_events *ev) {
        int r = vd_buf_addf(b, "<h2>Fleet findings (%zu)</h2>\n", ev ? ev->n : 0);
        if (!r && (!ev || !ev->n))
                return vd_buf_adds(b, "<p>None: every image and domain is covered, every guest scanned in time.</p>\n");
        if (!r)
                r = vd_buf_adds(b, "<table id=\"findings\"><tr><th>finding</th><th>severity</th><th>guest</th><th>image, "
                                   "domain or guest</th><th>why</th></tr>\n");
        for (size_t i = 0; !r && i < ev->n; i++) {
                const vd_event *e = &ev->v[i];
                r = vd_buf_addf(b, "<tr><td>%s</td><td class=\"sev s%d\">%s</td><td>", vd_change_kind_name(e->kind),
                                e->severity >= 0 && e->severity <= 4 ? e->severity : 0, vd_severity_name(e->severity));
                if (!r)
                        r = escs(b, e->guest);
                if (!r)
                        r = vd_buf_adds(b, "</td><td class=\"path\">");
                if (!r)
                        r = esc(b, e->path, e->path_len);
                if (!r)
                        r = vd_buf_adds(b, "</td><td>");
                for (size_t k = 0; !r && k < e->n_ch; k++) {
                        if (k)
                                r = vd_buf_adds(b, "; ");
                        if (!r)
                                r = escs(b, e->ch[k].attr);
                        if (!r && e->ch[k].new_v.s) {
                                r = vd_buf_adds(b, ": ");
                                if (!r)
                                        r = esc(b, e->ch[k].new_v.s, e->ch[k].new_v.len);
                        }
                }
                if (!r)
                        r = vd_buf_adds(b, "</td></tr>\n");
        }
        return r ? r : vd_buf_adds(b, "</table>\n");
}

/* The guest's last runs, oldest first: one coloured mark each, its title
 * the run. */
static int history(vd_buf *b, const vd_html_guest *g) {
        int r = 0;
        for (size_t i = 0; i < g->n_history && r == 0; i++) {
                const vd_html_run *h = &g->history[i];
                r = vd_buf_addf(b, "<span class=\"h %s\" title=\"", result_class(h->result));
                if (!r)
                        r = when(b, h->time_ns);
                if (!r)
                        r = vd_buf_adds(b, ": ");
                if (!r)
                        r = escs(b, h->result && *h->result ? h->result : "not run");
                if (!r)
                        r = vd_buf_addf(b, ", %zu events (%zu critical, %zu high)", h->total, h->by_sev[4], h->by_sev[3]);
                if (!r && h->mode && *h->mode) {
                        r = vd_buf_adds(b, ", ");
                        if (!r)
                                r = escs(b, h->mode);
                }
                if (!r)
                        r = vd_buf_addf(b, ", %.1f s\"></span>", (double)h->duration_ms / 1000);
        }
        return r;
}

static int events(vd_buf *b, const vd_html_guest *g) {
        if (!g->events_known)
                return vd_buf_adds(b, "<p class=\"muted\">No events from this run (not scanned by it, or its report "
                                      "could not be read).</p>\n");
        if (!g->n_events)
                return vd_buf_adds(b, "<p>No drift.</p>\n");
        int r = vd_buf_adds(b, "<table class=\"events\"><tr><th>severity</th><th>change</th><th>path</th><th>rule</th>"
                               "<th>what changed</th></tr>\n");
        for (size_t i = 0; !r && i < g->n_events; i++) {
                const vd_html_event *e = &g->events[i];
                int s = 0;
                for (int k = 0; k < 5; k++)
                        if (e->severity && !strcmp(e->severity, sev_names[k]))
                                s = k;
                r = vd_buf_addf(b, "<tr><td class=\"sev s%d\">%s</td><td>", s, sev_names[s]);
                if (!r)
                        r = escs(b, e->change);
                if (!r)
                        r = vd_buf_adds(b, "</td><td class=\"path\">");
                if (!r)
                        r = escs(b, e->path);
                if (!r)
                        r = vd_buf_adds(b, "</td><td>");
                if (!r)
                        r = escs(b, e->what);
                if (!r)
                        r = vd_buf_adds(b, "</td><td><code>");
                if (!r)
                        r = escs(b, e->details);
                if (!r)
                        r = vd_buf_adds(b, "</code></td></tr>\n");
        }
        if (!r)
                r = vd_buf_adds(b, "</table>\n");
        if (!r && g->events_total > g->n_events)
                r = vd_buf_addf(b, "<p class=\"muted\">and %zu more: the guest's JSON report has them all.</p>\n",
                                g->events_total - g->n_events);
        return r;
}

static int guest(vd_buf *b, const vd_html_guest *g) {
        const char *cls = result_class(g->result);
        int r = vd_buf_addf(b, "<tr><td><details><summary class=\"guest\">");
        if (!r)
                r = escs(b, g->name);
        if (!r)
                r = vd_buf_adds(b, "</summary>\n<p class=\"muted\">source <span class=\"path\">");
        if (!r)
                r = escs(b, g->source);
        if (!r)
                r = vd_buf_adds(b, "</span></p>\n");
        if (!r && g->error && *g->error) {
                r = vd_buf_adds(b, "<p>error: ");
                if (!r)
                        r = escs(b, g->error);
                if (!r)
                        r = vd_buf_adds(b, "</p>\n");
        }
        if (!r)
                r = events(b, g);
        if (!r)
                r = vd_buf_addf(b, "</details></td><td><span class=\"st %s\">%s</span></td><td>", cls,
                                *cls == 'n' ? "never scanned" : cls);
        if (!r)
                r = sev_counts(b, g->by_sev);
        if (!r)
                r = vd_buf_adds(b, "</td><td>");
        if (!r)
                r = when(b, g->time_ns);
        if (!r)
                r = vd_buf_adds(b, "</td><td>");
        if (!r)
                r = escs(b, g->mode && *g->mode ? g->mode : "-");
        if (!r)
                r = vd_buf_addf(b, "</td><td>%.1f s</td><td>", (double)g->duration_ms / 1000);
        if (!r)
                r = history(b, g);
        return r ? r : vd_buf_adds(b, "</td></tr>\n");
}

int vd_html_fleet_render(vd_buf *b, const vd_html_fleet *f) {
        int r = head(b, f);
        if (!r)
                r = findings(b, f->findings);
        if (!r)
                r = vd_buf_addf(b, "<h2>Guests (%zu)</h2>\n<table id=\"guests\"><tr><th>guest (open for its events)</th>"
                                   "<th>status</th><th>drift</th><th>last scan</th><th>mode</th><th>duration</th>"
                                   "<th>last runs</th></tr>\n",
                                f->n_guests);
        for (size_t i = 0; !r && i < f->n_guests; i++)
                r = guest(b, &f->guests[i]);
        if (!r)
                r = vd_buf_adds(b, "</table>\n<p class=\"muted\">vmdrift " VD_VERSION
                                   ": every name, path and value above is the guest's or the inventory's, shown "
                                   "escaped.</p>\n</body></html>\n");
        return r;
}
