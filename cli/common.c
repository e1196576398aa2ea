#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "collect/vd_accel.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include <unistd.h>

bool cli_parse_uint(const char *s, unsigned *ret) {
        uint64_t v;
        if (!vd_parse_u64(s, &v) || v > 1000000)
                return false;
        *ret = (unsigned)v;
        return true;
}

const cli_opt cli_source_options[] = {
        {NULL, 0, NULL,
         "source (exactly one kind):\n"},
        {"dir", CLI_OPT_DIR, "PATH", "a directory tree (symlinks are never followed)"},
        {"image", CLI_OPT_IMAGE, "FILE", "a guest disk image, read-only; repeat for every disk of one guest"},
        {"image-format", CLI_OPT_IMAGE_FORMAT, "FMT",
         "read the image as FMT (raw, qcow2, vmdk, ...); default: the format it\n"
         "had when first seen here (pinned in the state directory), or\n"
         "detected on first sight; another header since is refused"},
        {"domain", CLI_OPT_DOMAIN, "NAME", "a libvirt guest's disks, read-only"},
        {"connect", CLI_OPT_CONNECT, "URI", "libvirt URI for --domain"},
        {"strategy", CLI_OPT_STRATEGY, "S", "guest scan strategy: walker (default) or api"},
        {"one-file-system", CLI_OPT_ONEFS, NULL, "--dir: do not descend into other file systems"},
        {"threads", CLI_OPT_THREADS, "N", "hashing threads (default: one per CPU)"},
        {"max-depth", CLI_OPT_DEPTH, "N", "directory levels to descend (default 4096)"},
        {"accel", CLI_OPT_ACCEL, "MODE",
         "appliance acceleration: auto (default: KVM if it works, else\n"
         "software emulation, remembered per host), kvm (never falls\n"
         "back), tcg (emulation)"},
        {"allow-backing", CLI_OPT_ALLOW_BACKING, "P",
         "a backing file (or directory of them) an image's header may name\n"
         "besides its own directory and the baseline's template (repeatable)"},
        {"state-dir", CLI_OPT_STATE_DIR, "DIR",
         "what vmdrift remembers on this host (KVM outcome, syslog spool);\n"
         "default $STATE_DIRECTORY or /var/lib/vmdrift"},
        {"full-inspection", CLI_OPT_FULL_INSPECTION, NULL,
         "scan, accept: inspect the guest even when the baseline's file\n"
         "system layout (UUIDs, /etc/fstab, package database) still fits"},
        {"hash-in", CLI_OPT_HASH_IN, "WHERE",
         "guests: host (default: large files' blocks read from the image on\n"
         "the host, where the appliance says they are; the rest in the\n"
         "appliance) or appliance (every file hashed inside it)"},
        CLI_OPT_END,
};

int cli_source_opt(vd_source_spec *o, int c, const char *arg, const char *cmd) {
        switch (c) {
        case CLI_OPT_DIR: o->dir = arg; return 1;
        case CLI_OPT_IMAGE:
                if (o->n_images == VD_SPEC_IMAGES_MAX)
                        return cli_usage(cmd, "at most %d --image options", VD_SPEC_IMAGES_MAX);
                o->images[o->n_images++] = arg;
                return 1;
        case CLI_OPT_IMAGE_FORMAT: o->image_format = arg; return 1;
        case CLI_OPT_DOMAIN: o->domain = arg; return 1;
        case CLI_OPT_CONNECT: o->connect = arg; return 1;
        case CLI_OPT_STRATEGY:
                if (strcmp(arg, "walker") == 0)
                        o->strategy = VD_GUEST_WALKER;
                else if (strcmp(arg, "api") == 0)
                        o->strategy = VD_GUEST_API;
                else
                        return cli_usage(cmd, "--strategy expects walker or api, not '%s'", arg);
                return 1;
        case CLI_OPT_ONEFS: o->one_file_system = true; return 1;
        case CLI_OPT_THREADS:
                if (!cli_parse_uint(arg, &o->threads) || o->threads == 0 || o->threads > 64)
                        return cli_usage(cmd, "--threads expects 1 to 64, not '%s'", arg);
                return 1;
        case CLI_OPT_ACCEL:
                if ((o->accel = vd_accel_from_name(arg)) < 0)
                        return cli_usage(cmd, "--accel expects auto, kvm or tcg, not '%s'", arg);
                return 1;
        case CLI_OPT_STATE_DIR: o->state_dir = arg; return 1;
        case CLI_OPT_FULL_INSPECTION: o->full_inspection = true; return 1;
        case CLI_OPT_HASH_IN:
                if (strcmp(arg, "host") == 0)
                        o->hash_in = VD_HASH_IN_HOST;
                else if (strcmp(arg, "appliance") == 0)
                        o->hash_in = VD_HASH_IN_APPLIANCE;
                else
                        return cli_usage(cmd, "--hash-in expects host or appliance, not '%s'", arg);
                return 1;
        case CLI_OPT_ALLOW_BACKING:
                if (o->n_allow_backing == 8)
                        return cli_usage(cmd, "at most 8 --allow-backing options");
                o->allow_backing[o->n_allow_backing++] = arg;
                return 1;
        case CLI_OPT_DEPTH:
                if (!cli_parse_uint(arg, &o->max_depth) || o->max_depth == 0)
                        return cli_usage(cmd, "--max-depth expects a positive number, not '%s'", arg);
                return 1;
        default: return 0;
        }
}

int cli_source_check(const vd_source_spec *o, const char *cmd) {
        vd_err err = VD_ERR_INIT;
        return vd_source_spec_check(o, &err) < 0 ? cli_usage(cmd, "%s", err.msg) : 0;
}

/* The warning a source printed while it opened: also among the scan's
 * warnings, which capture prints again. */
static char printed_notice[VD_ERR_MSG_MAX];

/* Progress only where a person is waiting; warnings and errors always (cron
 * mails them). */
void cli_notice(void *ud, int level, const char *msg) {
        (void)ud;
        if (level == VD_NOTICE_WARNING) {
                fprintf(stderr, "vmdrift: warning: %s\n", msg);
                snprintf(printed_notice, sizeof printed_notice, "%s", msg);
        } else if (level == VD_NOTICE_ERROR)
                fprintf(stderr, "vmdrift: %s\n", msg);
        else if (isatty(STDERR_FILENO))
                fprintf(stderr, "vmdrift: %s...\n", msg);
}

int cli_open_source(const vd_source_spec *o, bool want_walker, vd_source **ret, vd_err *err) {
        return vd_source_spec_open(o, &cli_env_get()->host, want_walker, ret, err);
}

int cli_scan_run(const vd_scan_request *rq, vd_scan_outcome *ret) {
        vd_err err = VD_ERR_INIT;
        int rc = vd_scan_request_run(rq, &cli_env_get()->host, ret, &err);
        if (err.code == VD_E_USAGE)
                cli_usage("scan", "%s", err.msg);
        else if (err.code)
                cli_fail(&err);
        return rc;
}

const cli_opt cli_report_spec_options[] = {
        {"report", CLI_OPT_REPORT, "SPEC",
         "where the report goes; repeatable, several at once:\n"
         "  text[:FILE]    a report for a person (default, stdout)\n"
         "  json[:FILE]    ND-JSON: one object per event, then a summary\n"
         "  ecs[:FILE]     ND-JSON in the Elastic Common Schema: one document per event\n"
         "  ocsf[:FILE]    ND-JSON OCSF 1.8 findings: one event per drift event\n"
         "  prometheus[:FILE] metrics for node_exporter's textfile collector\n"
         "  html:FILE      vmdrift fleet: one page of every guest, its runs and events\n"
         "  syslog[:URL]   RFC 5424 to unix:/dev/log (default), udp://HOST:PORT,\n"
         "                 tcp://HOST:PORT (octet counting) or tls://HOST:PORT\n"
         "  journal        the systemd journal (MESSAGE_ID per event kind)"},
        CLI_OPT_END,
};

const cli_opt cli_report_options[] = {
        {"syslog-ca", CLI_OPT_SYSLOG_CA, "FILE", "tls://: the CA the collector's certificate must chain to"},
        {"syslog-facility", CLI_OPT_SYSLOG_FACILITY, "F", "daemon, auth, authpriv, local0..local7, audit (default) or 0-23"},
        {"syslog-enterprise", CLI_OPT_SYSLOG_ENTERPRISE, "N", "SD-ID vmdrift@N (default 32473, the documentation number)"},
        {"syslog-format", CLI_OPT_SYSLOG_FORMAT, "F", "rfc5424 (structured data, default), cee (@cee: JSON), ecs (@cee: an ECS document) or cef"},
        {"syslog-attempts", CLI_OPT_SYSLOG_ATTEMPTS, "N", "connection attempts, with doubling backoff, before spooling (4)"},
        {"max-events", CLI_OPT_MAX_EVENTS, "N",
         "syslog and journal get the N most severe drift events, then one\n"
         "held-back notice and the summary (default 1000; 0: all)\n"
         "undelivered syslog messages wait in the state directory's spool\n"
         "(--state-dir) and are sent first by the next run"},
        CLI_OPT_END,
};

int cli_report_opt(vd_sink_opts *o, int c, const char *arg, const char *cmd) {
        unsigned u;
        switch (c) {
        case CLI_OPT_SYSLOG_CA: o->syslog_ca = arg; return 1;
        case CLI_OPT_STATE_DIR: o->state_dir = arg; return 1;
        case CLI_OPT_SYSLOG_FACILITY:
                o->facility = vd_facility_from_name(arg);
                if (o->facility < 0)
                        return cli_usage(cmd, "--syslog-facility expects a name (daemon, auth, local0...) or 0-23, not '%s'",
                                         arg);
                return 1;
        case CLI_OPT_SYSLOG_ENTERPRISE:
                if (!cli_parse_uint(arg, &u) || u == 0)
                        return cli_usage(cmd, "--syslog-enterprise expects an IANA enterprise number, not '%s'", arg);
                o->enterprise = u;
                return 1;
        case CLI_OPT_SYSLOG_FORMAT:
                if (strcmp(arg, "rfc5424") == 0)
                        o->format = VD_SYSLOG_RFC5424;
                else if (strcmp(arg, "cee") == 0)
                        o->format = VD_SYSLOG_CEE;
                else if (strcmp(arg, "ecs") == 0)
                        o->format = VD_SYSLOG_ECS;
                else if (strcmp(arg, "cef") == 0)
                        o->format = VD_SYSLOG_CEF;
                else
                        return cli_usage(cmd, "--syslog-format expects rfc5424, cee, ecs or cef, not '%s'", arg);
                return 1;
        case CLI_OPT_MAX_EVENTS:
                if (!cli_parse_uint(arg, &u))
                        return cli_usage(cmd, "--max-events expects a number (0: no limit), not '%s'", arg);
                o->max_events = u;
                return 1;
        case CLI_OPT_SYSLOG_ATTEMPTS:
                if (!cli_parse_uint(arg, &u) || u == 0 || u > 100)
                        return cli_usage(cmd, "--syslog-attempts expects 1-100, not '%s'", arg);
                o->attempts = u;
                return 1;
        default: return 0;
        }
}

static void sink_notice(void *ctx, const char *msg) {
        (void)ctx;
        fprintf(stderr, "vmdrift: %s\n", msg);
}

void cli_sink_opts_init(vd_sink_opts *o) {
        vd_sink_opts_init(o);
        o->no_color = cli_env_get()->no_color;
        o->notice = sink_notice;
}

int cli_open_sinks(const char *const *specs, size_t n, const vd_sink_opts *o, vd_sink **sinks) {
        vd_err err = VD_ERR_INIT;
        return vd_sinks_open(specs, n, o, sinks, &err) < 0 ? cli_fail(&err) : 0;
}

static void sink_failed(void *ctx, const vd_err *err) {
        (void)ctx;
        cli_fail(err);
}

int cli_deliver(vd_sink **sinks, size_t n, vd_report *rep) { return vd_sinks_deliver(sinks, n, rep, sink_failed, NULL); }

void cli_print_warnings(const vd_scan *s) {
        vd_buf b;
        vd_buf_init(&b, 0);
        for (size_t i = 0; i < s->n_warnings; i++) {
                if (!s->warnings[i].path && printed_notice[0] && strcmp(s->warnings[i].msg, printed_notice) == 0)
                        continue; /* said once already, as the source opened */
                vd_buf_reset(&b);
                vd_buf_adds(&b, "vmdrift: warning: ");
                if (s->warnings[i].path) {
                        vd_escape_display(&b, s->warnings[i].path, s->warnings[i].path_len);
                        vd_buf_adds(&b, ": ");
                }
                vd_buf_addf(&b, "%s\n", s->warnings[i].msg);
                fputs(b.buf, stderr);
        }
        vd_buf_release(&b);
}

void cli_print_violations(const vd_events *ev, FILE *fp) {
        for (size_t i = 0; i < ev->n; i++) {
                const vd_event *e = &ev->v[i];
                for (size_t k = 0; k < e->n_ch; k++) {
                        const vd_attr_change *c = &e->ch[k];
                        vd_buf m;
                        vd_buf_init(&m, 0);
                        vd_buf_addf(&m, "vmdrift: policy violation (%s): ", vd_severity_name(e->severity));
                        vd_escape_display(&m, e->path, e->path_len);
                        vd_buf_adds(&m, ": ");
                        vd_escape_display(&m, c->attr, strlen(c->attr));
                        if (c->new_v.s) {
                                vd_buf_adds(&m, " is \"");
                                vd_escape_display(&m, c->new_v.s, c->new_v.len);
                                vd_buf_adds(&m, "\"");
                        }
                        if (c->note) {
                                vd_buf_adds(&m, ": ");
                                vd_escape_display(&m, c->note, strlen(c->note));
                        }
                        vd_buf_addc(&m, '\n');
                        fputs(m.buf, fp);
                        vd_buf_release(&m);
                }
        }
}

int cli_refuse_overwrite(const char *cmd, const char *what, const char *out, const vd_input *in, size_t n) {
        vd_err err = VD_ERR_INIT;
        return vd_refuse_overwrite(what, out, in, n, &err) < 0 ? cli_usage(cmd, "%s", err.msg) : 0;
}

