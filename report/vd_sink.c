/* Sinks: the factory (a --report spec to a sink), the file sinks' opening
 * and closing (temp file, fsync, rename), and the options of remote sinks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vd_sink_int.h"
#include "common/vd_str.h"

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
                ops = &vd_text_ops;
        else if (kl == 4 && strncmp(spec, "json", 4) == 0)
                ops = &vd_json_ops;
        else if (kl == 3 && strncmp(spec, "ecs", 3) == 0)
                ops = &vd_ecs_ops;
        else if (kl == 4 && strncmp(spec, "ocsf", 4) == 0)
                ops = &vd_ocsf_ops;
        else if (kl == 10 && strncmp(spec, "prometheus", 10) == 0)
                ops = &vd_prom_ops;
        else if (kl == 4 && strncmp(spec, "html", 4) == 0)
                return vd_err_set(err, VD_E_USAGE, "report 'html' is the fleet's page of every guest: vmdrift fleet "
                                  "--report html:FILE");
        else if (kl == 6 && strncmp(spec, "syslog", 6) == 0)
                return vd_syslog_open(colon ? colon + 1 : "unix:/dev/log", o, ret, err);
        else if (kl == 7 && strncmp(spec, "journal", 7) == 0) {
                if (colon)
                        return vd_err_set(err, VD_E_USAGE, "report 'journal' takes no argument");
                return vd_journal_open(o, ret, err);
        } else
                return vd_err_set(err, VD_E_USAGE,
                                  "unknown report '%.*s' (expected text[:FILE], json[:FILE], ecs[:FILE], ocsf[:FILE], "
                                  "prometheus[:FILE], syslog[:URL] or journal)",
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
                s->color = ops == &vd_text_ops && isatty(STDOUT_FILENO) && !(o && o->no_color);
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

const char *vd_sink_spec_file(const char *spec) {
        const char *k = vd_sink_spec_kind(spec);
        size_t kl = k ? strlen(k) : 0;
        if (k && spec[kl] == ':' && spec[kl + 1] && strcmp(spec + kl + 1, "-") != 0)
                return spec + kl + 1;
        return NULL;
}

const char *vd_sink_spec_kind(const char *spec) {
        static const char *const kinds[] = {"text", "json", "ecs", "ocsf", "prometheus", "html"};
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
                size_t kl = strlen(kinds[i]);
                if (strncmp(spec, kinds[i], kl) == 0 && (spec[kl] == ':' || !spec[kl]))
                        return kinds[i];
        }
        return NULL;
}

void vd_sinks_close(vd_sink **sinks, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (sinks[i]) {
                        vd_err e2 = VD_ERR_INIT;
                        vd_sink_close(sinks[i], &e2);
                        sinks[i] = NULL;
                }
}

int vd_sinks_open(const char *const *specs, size_t n, const vd_sink_opts *o, vd_sink **sinks, vd_err *err) {
        for (size_t i = 0; i < n; i++)
                if (vd_sink_open(specs[i], o, &sinks[i], err) < 0) {
                        sinks[i] = NULL;
                        vd_sinks_close(sinks, i);
                        return err->code;
                }
        return 0;
}

int vd_sinks_deliver(vd_sink **sinks, size_t n, vd_report *rep, void (*failed)(void *ctx, const vd_err *err),
                     void *ctx) {
        rep->exit_code = 0;
        for (size_t i = 0; i < rep->events->n; i++)
                if (rep->events->v[i].severity >= rep->fail_on)
                        rep->exit_code = 1;
        int rc = rep->exit_code;
        for (size_t i = 0; i < n; i++) {
                vd_err e2 = VD_ERR_INIT;
                if (vd_sink_write(sinks[i], rep, &e2) < 0) {
                        rc = vd_code_exit(e2.code);
                        if (failed)
                                failed(ctx, &e2);
                }
                vd_err_clear(&e2);
                if (vd_sink_close(sinks[i], &e2) < 0) {
                        rc = vd_code_exit(e2.code);
                        if (failed)
                                failed(ctx, &e2);
                }
                sinks[i] = NULL;
        }
        return rc;
}
