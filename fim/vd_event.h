/* Drift events: what the compare engine produces and reporters consume.
 * A vd_events owns its events and everything in them.
 */
#ifndef VD_EVENT_H
#define VD_EVENT_H

#include <stdbool.h>
#include <stddef.h>

/* VIOLATION: a configuration value breaks the policy's desired state
 * (expect, forbid, match), whether or not it changed. */
enum vd_change_kind { VD_CH_ADDED = 1, VD_CH_REMOVED = 2, VD_CH_CHANGED = 3, VD_CH_VIOLATION = 4 };

/* A value as reported: s == NULL is null; num says it prints as a number.
 * s holds raw bytes (a link target may be anything) and is NUL-terminated. */
typedef struct vd_val {
        char *s;
        size_t len;
        bool num;
} vd_val;

typedef struct vd_attr_change {
        char *attr; /* "mode", "hash", "xattr.security.selinux", a config key ... */
        vd_val old_v, new_v;
        char *note; /* config: where the value is set, or why it violates; or NULL */
} vd_attr_change;

typedef struct vd_event {
        int kind; /* enum vd_change_kind */
        char *path;
        size_t path_len;
        int ftype;     /* the type now (for removed: the type it had) */
        int severity;  /* enum vd_severity */
        const char *rule;     /* the policy rule (or "config") */
        const char *detector; /* the detector that raised it, or NULL */
        const char *config;   /* config events: the format ("sshd", ...); NULL for file events */
        vd_attr_change *ch;
        size_t n_ch;
} vd_event;

typedef struct vd_events {
        vd_event *v;
        size_t n, alloc;
} vd_events;

void vd_events_init(vd_events *ev);
void vd_events_release(vd_events *ev);
const char *vd_change_kind_name(int k); /* "added", "removed", "changed", "violation" */
/* Append a change to ev (room for *alloc changes), taking ownership of the
 * values and note (freed on failure too). */
int vd_event_add_change(vd_event *ev, size_t *alloc, const char *attr, size_t attr_len, vd_val o, vd_val n,
                        char *note);
/* Free what one event owns (not the event itself). */
void vd_event_release(vd_event *e);
/* Append a copy of ev (taking ownership of its strings and changes). */
int vd_events_push(vd_events *out, vd_event *ev);

/* The change of attr in ev, or NULL. */
const vd_attr_change *vd_event_find(const vd_event *ev, const char *attr);

#endif
