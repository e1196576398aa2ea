/* Inside report/: one event as named fields, for the remote sinks (syslog
 * structured data, journal fields, @cee JSON, CEF extensions). Names are the
 * stable ones of docs/events.md; values are valid UTF-8 without control
 * characters (a path that is not gets a display-escaped value and path_b64). */
#ifndef VD_REMOTE_H
#define VD_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "report/vd_report.h"

#define VD_RF_MAX 40
#define VD_REMOTE_DIFF_MAX 2000 /* of a diff in a syslog message or journal entry */

enum vd_rkind {
        VD_RK_ADDED,
        VD_RK_REMOVED,
        VD_RK_CHANGED,
        VD_RK_VIOLATION,
        VD_RK_SUMMARY,
        VD_RK_WARNING,
        VD_RK_HELD,
        VD_RK_PACKAGE, /* any package event: added, removed, behind, ahead, changed */
        VD_RK_DORMANT, /* the guest showed no sign of life for longer than dormant_after */
        VD_RK_VULNERABLE, /* an installed package is affected by a known advisory */
        VD_RK_FLEET,      /* a fleet finding: unmanaged, stale, orphan, unreachable */
        VD_RK_MALWARE,    /* an added or changed file matches a YARA rule */
        VD_RK_SECRET,     /* ... a secret rule: a credential left on the guest */
};

typedef struct vd_rfield {
        const char *name; /* static */
        char *v;
        size_t n;
        bool json; /* v is a JSON value (changes), not a string */
} vd_rfield;

typedef struct vd_rmsg {
        int kind;       /* enum vd_rkind */
        int severity;   /* vd severity, for PRIORITY and PRI */
        vd_rfield f[VD_RF_MAX];
        size_t nf;
        char *text; /* the human sentence (MESSAGE / MSG) */
        size_t text_len;
} vd_rmsg;

const char *vd_rkind_msgid(int k);     /* syslog MSGID: "added", ..., "held-back" */
const char *vd_rkind_message_id(int k); /* journal MESSAGE_ID (32 hex) */
int vd_syslog_severity(const vd_rmsg *m); /* RFC 5424 severity 0..7 */

int vd_rmsg_event(vd_rmsg *m, const vd_report *r, const vd_event *ev);
int vd_rmsg_warning(vd_rmsg *m, const vd_report *r, const vd_warning *w);
int vd_rmsg_held(vd_rmsg *m, const vd_report *r, size_t held, size_t max);
int vd_rmsg_summary(vd_rmsg *m, const vd_report *r, size_t held);
void vd_rmsg_release(vd_rmsg *m);
/* Drop the largest fields (diff, changes) when a message must be shorter. */
void vd_rmsg_drop_changes(vd_rmsg *m);

/* What a remote sink sends, in order: the drift events, most severe first
 * and at most max_events (0: all); a held-back notice if some were; the
 * warnings (at most VD_REMOTE_WARNINGS_MAX); the summary. fn gets each
 * message (and its event, or NULL); its error stops the walk. */
#define VD_REMOTE_WARNINGS_MAX 100
typedef int (*vd_rmsg_fn)(void *ctx, vd_rmsg *m, const vd_event *ev);
int vd_remote_each(const vd_report *r, size_t max_events, vd_rmsg_fn fn, void *ctx);

#endif
