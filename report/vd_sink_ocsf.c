/* The OCSF sink: one Open Cybersecurity Schema Framework event per drift
 * event, ND-JSON, OCSF 1.8.0 (docs/events.md): drift is a Detection
 * Finding (2004) with the file as evidence, a desired-state failure a
 * Compliance Finding (2003), an advisory hit a Vulnerability Finding
 * (2002), a configuration value a Device Config State Change (5019); the
 * device is the guest, vmdrift's own fields go in "unmapped". Checked in
 * the tests against the schema's class and object definitions
 * (tests/ocsf/validate.py on files of ocsf/ocsf-schema v1.8.0). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_buf.h"
#include "report/vd_doc.h"
#include "vd_sink_int.h"

#define OCSF_VERSION "1.8.0"

enum { C_VULNERABILITY = 2002, C_COMPLIANCE = 2003, C_DETECTION = 2004, C_CONFIG_STATE = 5019 };

static int class_of(const vd_event *e) {
        if (e->kind == VD_CH_VIOLATION)
                return C_COMPLIANCE;
        if (e->kind == VD_CH_VULNERABLE)
                return C_VULNERABILITY;
        if (e->config)
                return C_CONFIG_STATE;
        return C_DETECTION;
}

static const char *class_name(int c) {
        switch (c) {
        case C_VULNERABILITY: return "Vulnerability Finding";
        case C_COMPLIANCE: return "Compliance Finding";
        case C_CONFIG_STATE: return "Device Config State Change";
        default: return "Detection Finding";
        }
}

/* OCSF severity_id: 1 Informational ... 5 Critical */
static int severity_id(int s) { return s >= VD_SEV_CRITICAL ? 5 : s < VD_SEV_INFO ? 0 : s + 1; }

static const char *severity_caption(int id) {
        static const char *const c[] = {"Unknown", "Informational", "Low", "Medium", "High", "Critical"};
        return id >= 0 && id <= 5 ? c[id] : "Unknown";
}

static int file_type_id(int t) {
        switch (t) {
        case VD_T_REG: return 1;
        case VD_T_DIR: return 2;
        case VD_T_CHR: return 3;
        case VD_T_BLK: return 4;
        case VD_T_SOCK: return 5;
        case VD_T_FIFO: return 6;
        case VD_T_LNK: return 7;
        default: return 99;
        }
}

/* The file as the scan found it (as it was, if removed). */
static void file_obj(vd_doc *d, const vd_event *e) {
        vd_doc_open(d, "file");
        const char *slash = memrchr(e->path, '/', e->path_len);
        const char *name = slash ? slash + 1 : e->path;
        size_t nl = e->path_len - (size_t)(name - e->path);
        vd_doc_str(d, "name", nl ? name : "/", nl ? nl : 1);
        vd_doc_str(d, "path", e->path, e->path_len);
        if (slash)
                vd_doc_str(d, "parent_folder", e->path, slash == e->path ? 1 : (size_t)(slash - e->path));
        vd_doc_int(d, "type_id", file_type_id(e->ftype));
        const vd_val *size = vd_event_now(e, "size"), *h = vd_event_now(e, "hash");
        if (size && size->num)
                vd_doc_raw(d, "size", size->s, size->len);
        if (h && h->len > 7 && memchr(h->s, ':', h->len)) {
                /* sha256:HEX is SHA-256 (3); xxh3-128:HEX, vmdrift's keyed hash, is Other */
                const char *colon = memchr(h->s, ':', h->len);
                bool sha = (size_t)(colon - h->s) == 6 && !strncmp(h->s, "sha256", 6);
                vd_doc_open_array(d, "hashes");
                vd_doc_open(d, NULL);
                vd_doc_int(d, "algorithm_id", sha ? 3 : 99);
                vd_doc_str(d, "algorithm", sha ? "SHA-256" : h->s, sha ? 7 : (size_t)(colon - h->s));
                vd_doc_str(d, "value", colon + 1, h->len - (size_t)(colon - h->s) - 1);
                vd_doc_close(d);
                vd_doc_close_array(d);
        }
        vd_doc_close(d);
}

static void device_obj(vd_doc *d, const vd_report *r, const vd_event *e) {
        vd_doc_open(d, "device");
        bool guest = r->source_kind && strcmp(r->source_kind, "dir") != 0;
        vd_doc_int(d, "type_id", guest ? 6 : 1); /* Virtual; a tree: the host's (Server) */
        vd_doc_cstr(d, "type", guest ? "Virtual" : "Server");
        vd_doc_cstr(d, "name", e->guest ? e->guest : r->guest ? r->guest : r->guest_hostname ? r->guest_hostname : r->source);
        vd_doc_cstr(d, "hostname", r->guest_hostname);
        int os = !r->guest_os_type ? 0 : !strcmp(r->guest_os_type, "linux") ? 200 : !strcmp(r->guest_os_type, "windows") ? 100 : 0;
        if (os && r->guest_os) {
                vd_doc_open(d, "os");
                vd_doc_cstr(d, "name", r->guest_os);
                vd_doc_int(d, "type_id", os);
                vd_doc_close(d);
        }
        vd_doc_close(d);
}

/* What OCSF has no attribute for: vmdrift's own fields, as in ECS's vmdrift.* */
static void unmapped(vd_doc *d, const vd_report *r, const vd_event *e) {
        vd_doc_open(d, "unmapped");
        vd_doc_open(d, "vmdrift");
        vd_doc_ident(d, r, e);
        vd_doc_cstr(d, "rule", e->rule);
        if (e->diff)
                vd_doc_str(d, "diff", e->diff, e->diff_len);
        vd_doc_changes(d, "changes", e);
        vd_doc_close(d);
        vd_doc_close(d);
}

static void finding_info(vd_doc *d, const vd_event *e, const char *uid, const char *title) {
        vd_doc_open(d, "finding_info");
        vd_doc_cstr(d, "uid", uid);
        vd_doc_cstr(d, "title", title);
        const char *type = vd_change_kind_name(e->kind);
        vd_doc_strs(d, "types", &type, 1);
        const vd_val *yr = vd_event_now(e, "yara.rule"), *yd = vd_event_now(e, "yara.description");
        if (yr && yr->s) {
                /* a YARA match: the rule is the analytic */
                vd_doc_open(d, "analytic");
                vd_doc_int(d, "type_id", 1); /* Rule */
                vd_doc_cstr(d, "type", "Rule");
                vd_doc_str(d, "name", yr->s, yr->len);
                if (yd && yd->s)
                        vd_doc_str(d, "desc", yd->s, yd->len);
                vd_doc_close(d);
        } else if (e->rule) {
                vd_doc_open(d, "analytic");
                vd_doc_int(d, "type_id", 1); /* Rule */
                vd_doc_cstr(d, "type", "Rule");
                vd_doc_cstr(d, "name", e->detector ? e->detector : e->rule);
                vd_doc_close(d);
        }
        vd_doc_close(d);
}

/* A malware match whose rule's tags name an OCSF classification (trojan,
 * backdoor, webshell...): the malware object (its classification is
 * required, and 1.8.0's enum has no Other); the analytic names the rule
 * either way. */
static void malware_obj(vd_doc *d, const vd_event *e) {
        static const char *const names[] = {NULL, "adware", "backdoor", "bot", "bootkit", "ddos", "downloader",
                                            "dropper", "exploit-kit", "keylogger", "ransomware",
                                            "remote-access-trojan", NULL, "resource-exploitation",
                                            "rogue-security-software", "rootkit", "screen-capture", "spyware",
                                            "trojan", "virus", "webshell", "wiper", "worm"};
        const vd_val *rl = vd_event_now(e, "yara.rule"), *tags = vd_event_now(e, "yara.tags");
        int cls = 99;
        for (int i = 1; tags && tags->s && cls == 99 && i < (int)(sizeof names / sizeof *names); i++) {
                if (!names[i])
                        continue;
                size_t nl = strlen(names[i]);
                for (const char *p = tags->s; (p = strcasestr(p, names[i])); p += nl)
                        if ((p == tags->s || p[-1] == ',') && (p[nl] == ',' || p[nl] == '\0')) {
                                cls = i;
                                break;
                        }
        }
        if (cls == 99)
                return;
        char ids[16];
        int n = snprintf(ids, sizeof ids, "[%d]", cls);
        vd_doc_open_array(d, "malware");
        vd_doc_open(d, NULL);
        if (rl && rl->s)
                vd_doc_str(d, "name", rl->s, rl->len);
        vd_doc_raw(d, "classification_ids", ids, (size_t)n);
        vd_doc_cstr(d, "provider", "vmdrift YARA");
        vd_doc_close(d);
        vd_doc_close_array(d);
}

static void vulnerabilities(vd_doc *d, const vd_event *e, const char *title) {
        const vd_val *adv = vd_event_now(e, "advisory"), *ver = vd_event_now(e, "version"), *fixed = vd_event_now(e, "fixed");
        vd_doc_open_array(d, "vulnerabilities");
        vd_doc_open(d, NULL);
        vd_doc_cstr(d, "title", title);
        vd_doc_cstr(d, "severity", severity_caption(severity_id(e->severity)));
        if (adv) {
                vd_doc_open(d, "advisory");
                vd_doc_str(d, "uid", adv->s, adv->len);
                vd_doc_close(d);
        }
        vd_doc_open_array(d, "affected_packages");
        vd_doc_open(d, NULL);
        vd_doc_str(d, "name", e->path, e->path_len);
        if (ver)
                vd_doc_str(d, "version", ver->s, ver->len);
        else
                vd_doc_cstr(d, "version", "");
        vd_doc_cstr(d, "architecture", e->arch);
        if (fixed)
                vd_doc_str(d, "fixed_in_version", fixed->s, fixed->len);
        vd_doc_close(d);
        vd_doc_close_array(d);
        vd_doc_raw(d, "is_fix_available", fixed ? "true" : "false", fixed ? 4 : 5);
        vd_doc_close(d);
        vd_doc_close_array(d);
}

static int ocsf_event(vd_buf *b, const vd_report *r, const vd_event *e, size_t idx) {
        int cls = class_of(e), activity = cls == C_CONFIG_STATE ? 2 : 1; /* Collect; Create */
        int sev = severity_id(e->severity);
        char uid[64];
        snprintf(uid, sizeof uid, "%s-%zu", r->scan_id, idx);
        vd_buf m;
        vd_buf_init(&m, 0);
        vd_doc d;
        vd_doc_begin(&d, b);
        if (vd_doc_message(&m, e) < 0)
                d.rc = VD_E_NOMEM;
        vd_doc_int(&d, "class_uid", cls);
        vd_doc_cstr(&d, "class_name", class_name(cls));
        vd_doc_int(&d, "category_uid", cls / 1000);
        vd_doc_cstr(&d, "category_name", cls / 1000 == 2 ? "Findings" : "Discovery");
        vd_doc_int(&d, "activity_id", activity);
        vd_doc_cstr(&d, "activity_name", activity == 2 ? "Collect" : "Create");
        vd_doc_int(&d, "type_uid", (long long)cls * 100 + activity);
        vd_doc_int(&d, "time", r->started_ns / 1000000);
        vd_doc_int(&d, "severity_id", sev);
        vd_doc_cstr(&d, "severity", severity_caption(sev));
        vd_doc_str(&d, "message", m.buf, m.len);
        vd_doc_open(&d, "metadata");
        vd_doc_cstr(&d, "version", OCSF_VERSION);
        vd_doc_cstr(&d, "uid", uid);
        vd_doc_open(&d, "product");
        vd_doc_cstr(&d, "name", "vmdrift");
        vd_doc_cstr(&d, "vendor_name", "vmdrift");
        vd_doc_cstr(&d, "version", VD_VERSION);
        vd_doc_close(&d);
        vd_doc_close(&d);
        device_obj(&d, r, e);
        if (cls == C_CONFIG_STATE) {
                /* a protection switched off reads as Disabled; any other value as Other, said */
                bool off = e->detector && !strcmp(e->detector, "security-off");
                vd_doc_int(&d, "state_id", off ? 1 : 99);
                vd_doc_str(&d, "state", off ? "Disabled" : m.buf, off ? 8 : m.len);
        } else {
                finding_info(&d, e, uid, m.buf);
                if (cls == C_DETECTION)
                        vd_doc_raw(&d, "is_alert", e->severity >= VD_SEV_MEDIUM ? "true" : "false",
                                   e->severity >= VD_SEV_MEDIUM ? 4 : 5);
        }
        if (cls == C_DETECTION && !e->package && !e->fleet && e->kind != VD_CH_DORMANT) {
                vd_doc_open_array(&d, "evidences");
                vd_doc_open(&d, NULL);
                file_obj(&d, e);
                vd_doc_close(&d);
                vd_doc_close_array(&d);
                if (e->kind == VD_CH_MALWARE)
                        malware_obj(&d, e);
        } else if (cls == C_COMPLIANCE) {
                vd_doc_open(&d, "compliance");
                vd_doc_cstr(&d, "control", e->rule);
                const char *std = "vmdrift policy";
                vd_doc_strs(&d, "standards", &std, 1);
                vd_doc_int(&d, "status_id", 3); /* Fail */
                vd_doc_cstr(&d, "status", "Fail");
                const char *note = e->n_ch ? e->ch[0].note : NULL;
                vd_doc_cstr(&d, "desc", note);
                vd_doc_close(&d);
        } else if (cls == C_VULNERABILITY)
                vulnerabilities(&d, e, m.buf);
        unmapped(&d, r, e);
        vd_buf_release(&m);
        return vd_doc_end(&d);
}

static int ocsf_one(vd_buf *b, const vd_report *r, const vd_event *e, size_t idx, void *ctx) {
        (void)ctx;
        return ocsf_event(b, r, e, idx);
}

static int ocsf_write(vd_sink *s, const vd_report *r, vd_err *err) {
        return vd_doc_write_events(s->fp, r, ocsf_one, NULL, "OCSF", err);
}

const struct vd_sink_ops vd_ocsf_ops = {"ocsf", ocsf_write, NULL};
