/* Detectors: drift that is suspicious whatever the rules say (a new setuid
 * binary, a world-writable file, a file capability, a new uid-0 account, a
 * new sudo rule or authorized key, a change where persistence lives). The
 * compare engine asks them about every file change, the configuration diff
 * about every changed key; the policy switches each on or off per path and
 * sets its severity. A detector raises an event's severity, never lowers it.
 *
 * Ownership: nothing here allocates; a hit names strings borrowed from the
 * policy (its detector catalogue), which must outlive it. */
#ifndef VD_DETECT_H
#define VD_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "formats/vd_config.h"
#include "model/vd_entry.h"
#include "model/vd_event.h"
#include "policy/vd_policy.h"

/* The detector that fired and its severity; det -1: none. */
typedef struct vd_det_hit {
        int det, sev;
} vd_det_hit;

/* What the file detectors say about old -> new (old may be NULL: added;
 * new NULL: removed, never a hit). parent: the scan's entry of new's parent
 * directory, or NULL (its sticky bit excuses a world-writable entry; on
 * NTFS, a DACL that lets anyone write already).
 * posix_modes false: new's file system has no modes of its own (NTFS, FAT),
 * so setuid and world-writable have nothing to read. The most severe hit
 * wins. */
vd_det_hit vd_detect_file(const vd_policy *p, const vd_entry *parent, const vd_entry *o, const vd_entry *n,
                          bool posix_modes);

/* The detector a key-level change of a configuration file trips (uid0 in
 * passwd, sudo in sudoers, authorized-keys and persistence in line files),
 * or -1. o or n is NULL for an added or removed key. */
int vd_detect_config(const vd_policy *p, const vd_confset *set, const char *key, const vd_setting *o,
                     const vd_setting *n);

/* Windows: a new or changed file that a persistence value of this scan
 * names (a Run value, a service's ImagePath, Winlogon's Shell, AppInit_DLLs:
 * "C:\\Users\\Public\\u.exe", "%SystemRoot%\\...") is that persistence's
 * program: raised to the persistence detector's severity, the detector
 * named when it had none. After the file and configuration events are in
 * ev. 0 or VD_E_NOMEM. */
int vd_detect_named_programs(const vd_policy *p, vd_events *ev);

/* Is path where persistence lives (cron, systemd units, init scripts,
 * ld.so.preload, rc.local, profile.d)? */
bool vd_persistence_path(const char *path, size_t len);

/* The programs persistence names, each to fn (a nonzero return stops and
 * is returned): in the Windows persistence values of ev (a Run value, a
 * service's ImagePath...) as guest paths ("/Users/Public/u.exe"), and in the
 * text of a Linux persistence file at path (cron lines, systemd Exec*=,
 * init scripts): each absolute path of a line that is no comment. At most
 * VD_PERSISTENCE_NAMED_MAX from one file or from ev. */
#define VD_PERSISTENCE_NAMED_MAX 64
int vd_persistence_named_in_events(const vd_events *ev, int (*fn)(void *ctx, const char *path, size_t len, const char *by),
                                   void *ctx);
int vd_persistence_named_in_text(const char *path, size_t path_len, const char *text, size_t n,
                                 int (*fn)(void *ctx, const char *path, size_t len, const char *by), void *ctx);

#endif
