/* Inside report/: a JSON document written member by member into a vd_buf,
 * nested objects and arrays opened and closed in order (the schema sinks,
 * ECS and OCSF). The first error sticks in rc; every call after it does
 * nothing. */
#ifndef VD_DOC_H
#define VD_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include <stdio.h>

#include "common/vd_buf.h"
#include "report/vd_report.h"
#include "model/vd_event.h"

typedef struct vd_doc {
        vd_buf *b;
        int rc;
        bool first; /* nothing yet in the innermost open object or array */
} vd_doc;

void vd_doc_begin(vd_doc *d, vd_buf *b);    /* "{" */
int vd_doc_end(vd_doc *d);                   /* "}\n"; rc */
void vd_doc_key(vd_doc *d, const char *k);   /* NULL: an array's next element */
void vd_doc_open(vd_doc *d, const char *k);  /* "k":{ */
void vd_doc_close(vd_doc *d);                /* } */
void vd_doc_open_array(vd_doc *d, const char *k);
void vd_doc_close_array(vd_doc *d);
void vd_doc_str(vd_doc *d, const char *k, const char *v, size_t n); /* v NULL: nothing */
void vd_doc_cstr(vd_doc *d, const char *k, const char *v);          /* v NULL: nothing */
void vd_doc_raw(vd_doc *d, const char *k, const char *json, size_t n); /* a number, true... */
void vd_doc_int(vd_doc *d, const char *k, long long v);
void vd_doc_strs(vd_doc *d, const char *k, const char *const *v, size_t n);
/* An event's value as the JSON sink writes it: null, a number, text or
 * {"b64": ...}. */
void vd_doc_val(vd_doc *d, const char *k, const vd_val *v);
/* A person's line for an event: "high changed /etc/hosts [detector ...]"
 * (the path escaped for display), appended to m; 0 or VD_E_NOMEM. */
int vd_doc_message(vd_buf *m, const vd_event *e);
/* An event's changes as a list of {name, old, new, note}: a guest's key
 * names never become a schema's field names. */
void vd_doc_changes(vd_doc *d, const char *k, const vd_event *e);
/* A schema sink's write: one document a drift event, each from one(), to fp
 * (what names the report in errors). */
typedef int (*vd_doc_event_fn)(vd_buf *b, const vd_report *r, const vd_event *e, size_t idx, void *ctx);
int vd_doc_write_events(FILE *fp, const vd_report *r, vd_doc_event_fn one, void *ctx, const char *what, vd_err *err);
/* vmdrift's own names for an event, as both schemas carry them: scan_id,
 * change, severity, detector, config, source. */
void vd_doc_ident(vd_doc *d, const vd_report *r, const vd_event *e);
/* ns as RFC 3339 text */
void vd_doc_time(vd_doc *d, const char *k, int64_t ns);

#endif
