/* The event model: drift events, their severity, the file types they name
 * and the warnings of a run. The analysers (analyse/) produce events; the
 * sinks (report/) consume them and depend on this header alone.
 *
 * Ownership. A vd_events owns its array of events. Each event owns its path
 * and its changes (attr, both values, note). The three name fields are
 * BORROWED: `detector` and `config` point to static names, and `rule` points
 * to the name of a policy rule (or the static "config"), so the policy an
 * event came from must outlive the event. A vd_warning owns its strings.
 */
#ifndef VD_EVENT_H
#define VD_EVENT_H

#include <stdbool.h>
#include <stddef.h>

enum vd_severity {
        VD_SEV_INFO = 0,
        VD_SEV_LOW = 1,
        VD_SEV_MEDIUM = 2,
        VD_SEV_HIGH = 3,
        VD_SEV_CRITICAL = 4,
};
const char *vd_severity_name(int s);       /* "info" ... "critical"; "unknown" */
int vd_severity_from_name(const char *s); /* -1 if unknown */

/* File types, as entries record them and events report them. */
enum vd_ftype {
        VD_T_UNKNOWN = 0,
        VD_T_REG = 1,
        VD_T_DIR = 2,
        VD_T_LNK = 3,
        VD_T_CHR = 4,
        VD_T_BLK = 5,
        VD_T_FIFO = 6,
        VD_T_SOCK = 7,
};
const char *vd_ftype_name(int t);      /* "file", "directory", "symlink", ... */
int vd_ftype_from_name(const char *s); /* VD_T_UNKNOWN if none */

/* Something a run could not do or wants the reader to know (an unreadable
 * directory, a limit reached); reported beside the events. */
typedef struct vd_warning {
        char *path; /* raw bytes, may be NULL */
        size_t path_len;
        char *msg;
} vd_warning;

/* VIOLATION: a configuration value breaks the policy's desired state
 * (expect, forbid, match), whether or not it changed. */
/* BEHIND / AHEAD: an installed package older / newer than the baseline's. */
enum vd_change_kind {
        VD_CH_ADDED = 1,
        VD_CH_REMOVED = 2,
        VD_CH_CHANGED = 3,
        VD_CH_VIOLATION = 4,
        VD_CH_BEHIND = 5,
        VD_CH_AHEAD = 6,
        VD_CH_DORMANT = 7, /* the guest's newest sign of life is older than the policy's dormant_after */
        VD_CH_VULNERABLE = 8, /* an installed package's version is affected by a known advisory */
        /* vmdrift fleet's findings about the host's guests */
        VD_CH_UNMANAGED = 9,   /* an image in storage or a libvirt domain no inventory guest covers (sprawl) */
        VD_CH_STALE = 10,      /* a guest not scanned successfully for longer than stale_after */
        VD_CH_ORPHAN = 11,     /* a linked clone whose backing chain ends in none of the template images */
        VD_CH_UNREACHABLE = 12, /* a listed image or domain that is gone */
        /* YARA on what changed (analyse/vd_yara.h): path is the file, the
         * changes carry the rule (yara.rule, yara.namespace, yara.tags,
         * yara.description, yara.author, yara.reference) and, for a
         * secret, its line; never the bytes that matched */
        VD_CH_MALWARE = 13, /* an added or changed file (or one a persistence point names) matches a rule */
        VD_CH_SECRET = 14,  /* ... a secret rule (tagged secret): a credential left on the guest */
};

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
        char *path; /* a package event: the package's name */
        size_t path_len;
        bool package; /* a package event (path is its name, arch its architecture) */
        bool fleet;   /* a fleet finding (path: an image, a domain or the guest's name) */
        const char *guest; /* borrowed: the guest a fleet finding is about, or NULL (the report's) */
        char *arch;   /* owned; package events only, may be NULL */
        int ftype;     /* the type now (for removed: the type it had) */
        int severity;  /* enum vd_severity */
        const char *rule;     /* borrowed: the policy rule's name, or "config" */
        const char *detector; /* borrowed, static: the detector that raised it, or NULL */
        const char *config;   /* borrowed, static: config events' format ("sshd", ...); NULL for files */
        vd_attr_change *ch;
        size_t n_ch;
        /* a file the policy keeps the text of: its unified diff against the
         * baseline's (secrets masked), "binary files differ", or NULL */
        char *diff;
        size_t diff_len;
} vd_event;

typedef struct vd_events {
        vd_event *v;
        size_t n, alloc;
} vd_events;

void vd_events_init(vd_events *ev);
void vd_events_release(vd_events *ev);
const char *vd_change_kind_name(int k); /* "added", "removed", "changed", "violation", "behind", "ahead" */
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
/* attr's value as the entry is now (as it was, for a removed one), or NULL. */
const vd_val *vd_event_now(const vd_event *ev, const char *attr);

#endif
