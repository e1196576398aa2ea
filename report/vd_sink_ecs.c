/* The ECS sink: one Elastic Common Schema document per event, ND-JSON, in
 * the field set Elastic's File Integrity module uses (docs/events.md):
 * event.* says what kind of finding it is, file.* the file as the scan
 * found it (the attributes the event carries), host.* the guest,
 * observer.* the host that scanned it; what ECS has no field for
 * (previous values, the attributes that changed, configuration keys) is
 * under vmdrift.*. tests/ecs/validate.py checks every field against
 * Elastic's own definitions. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_buf.h"
#include "common/vd_json.h"
#include "common/vd_str.h"
#include "report/vd_remote.h"
#include "report/vd_doc.h"
#include "vd_sink_int.h"

#define ECS_VERSION "9.4.0" /* the definitions tests/ecs/ecs_fields.json holds */

/* ECS's severity is a number; these are Elastic's risk-score steps. */
static const char *severity_number(int s) {
        switch (s) {
        case VD_SEV_CRITICAL: return "99";
        case VD_SEV_HIGH: return "73";
        case VD_SEV_MEDIUM: return "47";
        case VD_SEV_LOW: return "21";
        default: return "0";
        }
}

static bool file_event(const vd_event *e) { return !e->config && !e->package && !e->fleet && e->kind != VD_CH_DORMANT; }

/* Did the content change (not only metadata)? */
static bool content_changed(const vd_event *e) {
        for (size_t i = 0; i < e->n_ch; i++)
                if (!strcmp(e->ch[i].attr, "hash") || !strcmp(e->ch[i].attr, "size") || !strcmp(e->ch[i].attr, "target") ||
                    !strncmp(e->ch[i].attr, "stream:", 7))
                        return true;
        return false;
}

/* event.category, event.type and event.action (Elastic's categorisation:
 * each type one the category expects). */
static void categorise(const vd_event *e, const char **cat, size_t *ncat, const char **type, const char **action) {
        *ncat = 1;
        if (e->kind == VD_CH_MALWARE || e->kind == VD_CH_SECRET) {
                /* a YARA match: an alert about a file */
                cat[0] = e->kind == VD_CH_MALWARE ? "malware" : "intrusion_detection";
                cat[1] = "file";
                *ncat = 2;
                *type = "info";
                *action = vd_change_kind_name(e->kind);
        } else if (e->kind == VD_CH_VIOLATION) {
                cat[0] = e->config ? "configuration" : "file";
                *type = "info";
                *action = "violation";
        } else if (e->fleet || e->kind == VD_CH_DORMANT) {
                cat[0] = "host";
                *type = "info";
                *action = vd_change_kind_name(e->kind);
        } else if (e->package) {
                cat[0] = "package";
                *action = vd_change_kind_name(e->kind);
                *type = e->kind == VD_CH_ADDED     ? "installation"
                        : e->kind == VD_CH_REMOVED ? "deletion"
                        : e->kind == VD_CH_VULNERABLE ? "info"
                                                      : "change";
                if (e->kind == VD_CH_VULNERABLE) {
                        cat[1] = "vulnerability";
                        *ncat = 2;
                }
        } else {
                cat[0] = e->config ? "configuration" : "file";
                if (e->config && !strcmp(e->config, "registry")) {
                        cat[1] = "registry";
                        *ncat = 2;
                }
                *type = e->kind == VD_CH_ADDED ? "creation" : e->kind == VD_CH_REMOVED ? "deletion" : "change";
                *action = e->kind == VD_CH_ADDED     ? "created"
                          : e->kind == VD_CH_REMOVED ? "deleted"
                          : e->config || content_changed(e) ? "updated"
                                                             : "attributes_modified";
        }
}

/* file.*: the path and its parts, and each attribute the event carries,
 * as it is now (as it was, for a removed file). */
static void file_obj(vd_doc *d, const vd_report *r, const vd_event *e) {
        vd_doc_open(d, "file");
        vd_doc_str(d, "path", e->path, e->path_len);
        const char *slash = memrchr(e->path, '/', e->path_len);
        const char *name = slash ? slash + 1 : e->path;
        size_t nl = e->path_len - (size_t)(name - e->path);
        vd_doc_str(d, "name", name, nl);
        if (slash)
                vd_doc_str(d, "directory", e->path, slash == e->path ? 1 : (size_t)(slash - e->path));
        const char *dot = nl ? memrchr(name, '.', nl) : NULL;
        if (dot && dot > name && e->ftype == VD_T_REG)
                vd_doc_str(d, "extension", dot + 1, nl - (size_t)(dot - name) - 1);
        vd_doc_cstr(d, "type", e->ftype == VD_T_DIR ? "dir" : e->ftype == VD_T_LNK ? "symlink" : vd_ftype_name(e->ftype));
        if (r->guest_drive && r->guest_drive[0] && !r->guest_drive[1])
                vd_doc_cstr(d, "drive_letter", r->guest_drive);
        static const struct {
                const char *attr, *field;
                bool number;
        } attrs[] = {{"size", "size", true},  {"inode", "inode", false}, {"uid", "uid", false},
                     {"gid", "gid", false},    {"user", "owner", false},  {"group", "group", false},
                     {"mode", "mode", false},  {"mtime", "mtime", false}, {"ctime", "ctime", false},
                     {"target", "target_path", false}};
        for (size_t i = 0; i < sizeof attrs / sizeof *attrs && !d->rc; i++) {
                const vd_val *v = vd_event_now(e, attrs[i].attr);
                if (!v || (attrs[i].number && !v->num) || !vd_text_clean(v->s, v->len))
                        continue;
                if (attrs[i].number)
                        vd_doc_raw(d, attrs[i].field, v->s, v->len);
                else
                        vd_doc_str(d, attrs[i].field, v->s, v->len);
        }
        const vd_val *h = vd_event_now(e, "hash");
        if (h && h->len > 7 && !strncmp(h->s, "sha256:", 7)) {
                vd_doc_open(d, "hash");
                vd_doc_str(d, "sha256", h->s + 7, h->len - 7);
                vd_doc_close(d);
        }
        const vd_val *attributes = vd_event_now(e, "attributes");
        if (attributes && attributes->len) {
                /* NTFS attributes: ECS's words are the same (readonly, hidden, system, archive...) */
                const char *v[16];
                char *copy = strndup(attributes->s, attributes->len), *save = NULL;
                size_t n = 0;
                for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && n < 16; t = strtok_r(NULL, ",", &save))
                        v[n++] = t;
                if (copy && n)
                        vd_doc_strs(d, "attributes", v, n);
                free(copy);
        }
        vd_doc_close(d);
}

/* vmdrift.*: what ECS has no field for. */
static void vmdrift_obj(vd_doc *d, const vd_report *r, const vd_event *e, bool compact) {
        vd_doc_open(d, "vmdrift");
        vd_doc_ident(d, r, e);
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < e->n_ch && n < 64; i++)
                names[n++] = e->ch[i].attr;
        if (n)
                vd_doc_strs(d, "changed_attributes", names, n);
        if (!compact && e->diff)
                vd_doc_str(d, "diff", e->diff, e->diff_len);
        const vd_val *h = file_event(e) ? vd_event_now(e, "hash") : NULL;
        if (h && vd_text_clean(h->s, h->len))
                vd_doc_str(d, "hash", h->s, h->len); /* any algorithm: ECS names only md5, sha1, sha256... */
        if (!compact && file_event(e) && e->kind == VD_CH_CHANGED) {
                vd_doc_open(d, "previous");
                for (size_t i = 0; i < e->n_ch && !d->rc; i++)
                        if (e->ch[i].old_v.s)
                                vd_doc_val(d, e->ch[i].attr, &e->ch[i].old_v);
                vd_doc_close(d);
        }
        if (!compact && (!file_event(e) || e->kind == VD_CH_VIOLATION)) {
                /* keys of a configuration, a package's attributes: a list,
                 * so a guest's key names never become index fields */
                vd_doc_changes(d, "changes", e);
        }
        vd_doc_close(d);
}

static void package_obj(vd_doc *d, const vd_event *e) {
        vd_doc_open(d, "package");
        vd_doc_str(d, "name", e->path, e->path_len);
        const vd_val *v = vd_event_now(e, "version");
        if (v)
                vd_doc_str(d, "version", v->s, v->len);
        vd_doc_cstr(d, "architecture", e->arch);
        vd_doc_close(d);
        if (e->kind != VD_CH_VULNERABLE)
                return;
        const vd_val *id = vd_event_now(e, "advisory");
        vd_doc_open(d, "vulnerability");
        if (id)
                vd_doc_str(d, "id", id->s, id->len);
        vd_doc_cstr(d, "severity", vd_severity_name(e->severity));
        vd_doc_open(d, "scanner");
        vd_doc_cstr(d, "vendor", "vmdrift");
        vd_doc_close(d);
        vd_doc_close(d);
}

/* A YARA match: rule.* is the YARA rule, threat.indicator.* the file it
 * matched (never the bytes that matched). */
static void yara_rule_threat(vd_doc *d, const vd_event *e) {
        const vd_val *rl = vd_event_now(e, "yara.rule"), *ns = vd_event_now(e, "yara.namespace"),
                     *de = vd_event_now(e, "yara.description"), *au = vd_event_now(e, "yara.author"),
                     *rf = vd_event_now(e, "yara.reference");
        vd_doc_open(d, "rule");
        if (rl)
                vd_doc_str(d, "name", rl->s, rl->len);
        if (ns)
                vd_doc_str(d, "ruleset", ns->s, ns->len);
        if (de)
                vd_doc_str(d, "description", de->s, de->len);
        if (au) {
                char *a = strndup(au->s, au->len);
                const char *v[1] = {a};
                if (a)
                        vd_doc_strs(d, "author", v, 1);
                free(a);
        }
        if (rf)
                vd_doc_str(d, "reference", rf->s, rf->len);
        vd_doc_cstr(d, "category", e->kind == VD_CH_SECRET ? "secret" : "malware");
        vd_doc_close(d);
        vd_doc_open(d, "threat");
        vd_doc_open(d, "indicator");
        vd_doc_cstr(d, "type", "file");
        vd_doc_cstr(d, "provider", "vmdrift YARA");
        if (de)
                vd_doc_str(d, "description", de->s, de->len);
        vd_doc_open(d, "file");
        vd_doc_str(d, "path", e->path, e->path_len);
        const char *slash = memrchr(e->path, '/', e->path_len);
        if (slash)
                vd_doc_str(d, "name", slash + 1, e->path_len - (size_t)(slash - e->path) - 1);
        vd_doc_close(d);
        vd_doc_close(d);
        vd_doc_close(d);
}

/* A document's start: when, and which ECS. */
static void ecs_begin(vd_doc *d, vd_buf *b, const vd_report *r) {
        vd_doc_begin(d, b);
        vd_doc_time(d, "@timestamp", r->started_ns);
        vd_doc_open(d, "ecs");
        vd_doc_cstr(d, "version", ECS_VERSION);
        vd_doc_close(d);
}

/* host.*: the guest; observer.*: the host that scanned it. */
static void host_observer(vd_doc *d, const vd_report *r, const char *guest, const char *observer) {
        vd_doc_open(d, "host");
        vd_doc_cstr(d, "name", guest ? guest : r->guest ? r->guest : r->guest_hostname ? r->guest_hostname : r->source);
        vd_doc_cstr(d, "hostname", r->guest_hostname);
        if (r->guest_os) {
                vd_doc_open(d, "os");
                vd_doc_cstr(d, "full", r->guest_os);
                vd_doc_close(d);
        }
        vd_doc_close(d);
        vd_doc_open(d, "observer");
        vd_doc_cstr(d, "hostname", observer);
        vd_doc_cstr(d, "product", "vmdrift");
        vd_doc_cstr(d, "vendor", "vmdrift");
        vd_doc_cstr(d, "version", VD_VERSION);
        vd_doc_cstr(d, "type", "integrity-monitor");
        vd_doc_close(d);
}

static int ecs_event(vd_buf *b, const vd_report *r, const vd_event *e, size_t idx, const char *observer,
                     bool compact) {
        vd_doc d;
        ecs_begin(&d, b, r);
        /* message: what a person reads in Discover */
        vd_buf m;
        vd_buf_init(&m, 0);
        int mr = vd_doc_message(&m, e);
        if (mr)
                d.rc = mr;
        else
                vd_doc_str(&d, "message", m.buf, m.len);
        vd_buf_release(&m);

        const char *cat[2], *type, *action;
        size_t ncat;
        categorise(e, cat, &ncat, &type, &action);
        vd_doc_open(&d, "event");
        vd_doc_cstr(&d, "kind", e->severity > VD_SEV_INFO ? "alert" : "event");
        vd_doc_strs(&d, "category", cat, ncat);
        vd_doc_strs(&d, "type", &type, 1);
        vd_doc_cstr(&d, "action", action);
        vd_doc_cstr(&d, "module", "vmdrift");
        vd_doc_cstr(&d, "dataset", e->package ? "vmdrift.package" : e->config ? "vmdrift.config" : "vmdrift.file");
        const char *sev = severity_number(e->severity);
        vd_doc_raw(&d, "severity", sev, strlen(sev));
        char id[64];
        int il = snprintf(id, sizeof id, "%s-%zu", r->scan_id, idx);
        vd_doc_str(&d, "id", id, (size_t)il);
        vd_doc_close(&d);

        if (file_event(e))
                file_obj(&d, r, e);
        else if (e->config && !strcmp(e->config, "registry")) {
                /* the key: HKLM\SOFTWARE\... (a user's: HKU\NAME\...) */
                vd_doc_open(&d, "registry");
                vd_doc_str(&d, "path", e->path, e->path_len);
                const char *bs = memchr(e->path, '\\', e->path_len);
                if (bs) {
                        vd_doc_str(&d, "hive", e->path, (size_t)(bs - e->path));
                        vd_doc_str(&d, "key", bs + 1, e->path_len - (size_t)(bs - e->path) - 1);
                }
                vd_doc_close(&d);
        } else if (e->config && e->path_len && e->path[0] == '/') {
                vd_doc_open(&d, "file");
                vd_doc_str(&d, "path", e->path, e->path_len);
                vd_doc_close(&d);
        } else if (e->package)
                package_obj(&d, e);

        host_observer(&d, r, e ? e->guest : NULL, observer);
        if (e->kind == VD_CH_MALWARE || e->kind == VD_CH_SECRET)
                yara_rule_threat(&d, e);
        else if (e->rule) {
                vd_doc_open(&d, "rule");
                vd_doc_cstr(&d, "name", e->rule);
                vd_doc_cstr(&d, "ruleset", r->baseline_source ? "vmdrift policy" : "vmdrift");
                vd_doc_close(&d);
        }
        vmdrift_obj(&d, r, e, compact);
        return vd_doc_end(&d);
}

static int ecs_one(vd_buf *b, const vd_report *r, const vd_event *e, size_t idx, void *observer) {
        return ecs_event(b, r, e, idx, observer, false);
}

static int ecs_write(vd_sink *s, const vd_report *r, vd_err *err) {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        return vd_doc_write_events(s->fp, r, ecs_one, host[0] ? host : NULL, "ECS", err);
}

const struct vd_sink_ops vd_ecs_ops = {"ecs", ecs_write, NULL};

/* For the syslog sink (--syslog-format ecs): the event's document on one
 * line without its newline, or, compact, without the previous values and
 * configuration keys (a message has a size limit). */
int vd_ecs_document(vd_buf *b, const vd_report *r, const vd_event *e, const char *observer, bool compact) {
        size_t idx = e >= r->events->v && e < r->events->v + r->events->n ? (size_t)(e - r->events->v) : 0;
        int rc = ecs_event(b, r, e, idx, observer, compact);
        if (!rc && b->len && b->buf[b->len - 1] == '\n')
                b->buf[--b->len] = '\0';
        return rc;
}

/* ... and a message that is no drift event (the summary, a warning, events
 * held back): event.kind event, category host, its fields under vmdrift. */
int vd_ecs_notice(vd_buf *b, const vd_report *r, const vd_rmsg *m, const char *action, const char *observer) {
        vd_doc d;
        ecs_begin(&d, b, r);
        vd_doc_str(&d, "message", m->text, m->text_len);
        vd_doc_open(&d, "event");
        vd_doc_cstr(&d, "kind", "event");
        const char *cat = "host", *type = "info";
        vd_doc_strs(&d, "category", &cat, 1);
        vd_doc_strs(&d, "type", &type, 1);
        vd_doc_cstr(&d, "action", action);
        vd_doc_cstr(&d, "module", "vmdrift");
        vd_doc_cstr(&d, "dataset", "vmdrift.scan");
        vd_doc_close(&d);
        host_observer(&d, r, NULL, observer);
        vd_doc_open(&d, "vmdrift");
        for (size_t i = 0; i < m->nf; i++) {
                if (m->f[i].json)
                        vd_doc_raw(&d, m->f[i].name, m->f[i].v, m->f[i].n);
                else
                        vd_doc_str(&d, m->f[i].name, m->f[i].v, m->f[i].n);
        }
        vd_doc_close(&d);
        int rc = vd_doc_end(&d);
        if (!rc && b->len && b->buf[b->len - 1] == '\n')
                b->buf[--b->len] = '\0';
        return rc;
}
