/* Inside report/: what every sink is made of. */
#ifndef VD_SINK_INT_H
#define VD_SINK_INT_H

#include <stdio.h>

#include "report/vd_report.h"

struct vd_sink_ops {
        const char *name;
        int (*write)(vd_sink *s, const vd_report *r, vd_err *err);
        int (*close)(vd_sink *s, vd_err *err); /* NULL: the file sinks' close */
};

struct vd_sink {
        const struct vd_sink_ops *ops;
        FILE *fp;
        char *path; /* NULL: stdout */
        char *tmp;  /* the file being written beside path; renamed onto it at close */
        bool written; /* a whole report went in: only then does close replace path */
        bool color;
        void *priv; /* remote sinks */
};

/* The sinks the factory (vd_sink.c) knows. */
extern const struct vd_sink_ops vd_text_ops, vd_json_ops, vd_ecs_ops, vd_ocsf_ops, vd_prom_ops;
int vd_syslog_open(const char *url, const vd_sink_opts *o, vd_sink **ret, vd_err *err);
int vd_journal_open(const vd_sink_opts *o, vd_sink **ret, vd_err *err);

/* vd_sink_ecs.c, for --syslog-format ecs: one event's ECS document (compact:
 * without previous values and configuration keys), or a message that is
 * no drift event (its fields under vmdrift.*), on one line. */
struct vd_rmsg;
int vd_ecs_document(vd_buf *b, const vd_report *r, const vd_event *e, const char *observer, bool compact);
int vd_ecs_notice(vd_buf *b, const vd_report *r, const struct vd_rmsg *m, const char *action, const char *observer);

#endif
