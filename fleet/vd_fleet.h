/* vmdrift fleet: what it remembers about each guest, and its findings about
 * the host's guests themselves (sprawl, staleness, orphans, reachability).
 * The scans run in the fleet's processes (cli/fleet_*.c) and hand back a
 * vd_scan_outcome (vd_outcome.h); this is the part that needs no process.
 *
 * Ownership: states are plain values; events appended to out are out's;
 * *warn lines are malloc'ed, and the array with them, the caller's. */
#ifndef VD_FLEET_H
#define VD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"
#include "fleet/vd_inventory.h"
#include "model/vd_event.h"
#include "model/vd_scan.h"

/* One run of a guest, as its history keeps it. */
#define VD_FLEET_HISTORY_MAX 30
typedef struct vd_fleet_run {
        int64_t time_ns, duration_ms;
        char result[16]; /* as vd_guest_state's */
        char mode[8];
        size_t total, by_sev[5];
} vd_fleet_run;

/* One guest's last result, kept as STATE/fleet/<guest>.json. */
typedef struct vd_guest_state {
        bool present;            /* read from the state directory */
        int64_t time_ns;         /* the last scan's start */
        int64_t last_success_ns; /* the last scan that ran to the end (exit 0 or 1); 0: never */
        int64_t first_seen_ns;   /* the first fleet run that listed the guest */
        int exit_code;           /* of its scan; -1: not run (unreachable) */
        char result[16];         /* "clean", "drift", "error", "unreachable" */
        size_t total, by_sev[5];
        char baseline_digest[65];
        char scan_id[37];
        int64_t duration_ms;
        char error[256]; /* the scan's last stderr line when it failed */
        /* the scan, from its summary: its counts (not kept in the state
         * file) and how it ran (kept): "kept" (an untouched guest's kept
         * report), "delta", "full", or "" (a directory tree, or not known) */
        vd_scan_totals totals;
        char mode[8];
        bool launched; /* its scan started an appliance (not kept in the state file) */
        /* its last runs, oldest first (kept in the state file, at most
         * VD_FLEET_HISTORY_MAX: the oldest goes) */
        vd_fleet_run history[VD_FLEET_HISTORY_MAX];
        size_t n_history;
} vd_guest_state;

/* Add st's own result (this run's) to its history. */
void vd_fleet_history_push(vd_guest_state *st);

/* The state of guest (absent: st->present false, not an error). */
int vd_fleet_state_read(const char *state_dir, const char *guest, vd_guest_state *st, vd_err *err);
/* Write it (STATE/fleet/<guest>.json, atomically, 0644). */
int vd_fleet_state_write(const char *state_dir, const char *guest, const vd_guest_state *st, vd_err *err);

/* Severities of the findings (docs/fleet.md). */
#define VD_FLEET_SEV_UNMANAGED VD_SEV_MEDIUM
#define VD_FLEET_SEV_STALE VD_SEV_MEDIUM
#define VD_FLEET_SEV_ORPHAN VD_SEV_MEDIUM
#define VD_FLEET_SEV_UNREACHABLE VD_SEV_HIGH

/* Is guest g's source there? false and why ("...: No such file or
 * directory", "no libvirt domain 'x' at URI") if not. */
bool vd_fleet_reachable(const vd_inv_guest *g, char *why, size_t whylen);

/* Images under the inventory's storage directories (two levels deep, by
 * extension: qcow2 img raw vmdk vdi vhd vhdx qed) and libvirt domains of
 * its libvirt URIs that no guest covers: unmanaged events. Templates and
 * files the inventory names (baselines) are covered. A storage directory
 * or URI that cannot be read is a warning in *warn (malloc'ed lines). */
int vd_fleet_unmanaged(const vd_inventory *inv, vd_events *out, char ***warn, size_t *n_warn, vd_err *err);

/* Linked clones (among the guests' images and those under storage) whose
 * backing chain ends in none of the inventory's templates: orphan events
 * with the chain's base. Nothing when the inventory names no templates. */ 
int vd_fleet_orphans(const vd_inventory *inv, const char *state_dir, vd_events *out, char ***warn, size_t *n_warn,
                     vd_err *err);

/* A stale event for g when its last success (or, never successful, its
 * first sighting) is older than stale_after at now. */
int vd_fleet_stale(const vd_inventory *inv, const vd_inv_guest *g, const vd_guest_state *st, int64_t now_ns,
                   vd_events *out, vd_err *err);

/* An event about g (or a path) with the given kind and changes
 * ("attr", "value" pairs, NULL-terminated). */
int vd_fleet_event(vd_events *out, int kind, int severity, const char *guest, const char *path, vd_err *err, ...)
        __attribute__((sentinel));

#endif
