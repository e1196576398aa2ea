/* The compare engine: one merge walk of two path-sorted entry lists.
 *
 * Ownership: the events appended to out are out's (vd_events_release);
 * their rule and detector strings are borrowed from policy, which must
 * outlive them. */
#ifndef VD_COMPARE_H
#define VD_COMPARE_H

#include "common/vd_err.h"
#include "model/vd_entry.h"
#include "model/vd_event.h"
#include "model/vd_scan.h"
#include "policy/vd_policy.h"

/* Append to out one event per path that differs between base and scan under
 * policy. Both lists must be sorted (vd_entries_sort). Children of a scanned
 * directory whose content is unknown (unreadable, not descended) are not
 * reported as removed: the directory itself carries a "status" change. */
int vd_compare(const vd_entries *base, const vd_entries *scan, const vd_policy *policy, vd_events *out,
               vd_err *err);

/* vd_compare of a scan's entries, knowing its facts: on a mount whose file
 * system has no POSIX modes (mount.MP facts: NTFS, FAT) the detectors that
 * read modes (setuid, world-writable) stay quiet. */
int vd_compare_scan(const vd_entries *base, const vd_scan *scan, const vd_policy *policy, vd_events *out,
                    vd_err *err);

/* The same merge, streamed: the baseline's entries pulled from next (in
 * path order; each valid until the next call; NULL at the end), the scan's
 * pushed with vd_cmp_put (in path order, borrowed for the call), then
 * vd_cmp_end for the baseline's rest. What it holds is the current path's
 * ancestors, not either list. */
typedef struct vd_cmp vd_cmp;
typedef int (*vd_cmp_next_fn)(void *ctx, const vd_entry **ret, vd_err *err);
int vd_cmp_new(const vd_policy *policy, vd_cmp_next_fn next, void *next_ctx, vd_events *out, vd_cmp **ret,
               vd_err *err);
/* Told of every path as it is compared: o the baseline's entry, n the
 * scan's (either NULL); both valid for the call only. */
typedef void (*vd_cmp_seen_fn)(void *ctx, const vd_entry *o, const vd_entry *n);
void vd_cmp_observe(vd_cmp *c, vd_cmp_seen_fn seen, void *ctx);
/* The scan whose facts say which mounts have POSIX modes (borrowed; read at
 * the first vd_cmp_put, when a source has set them). */
void vd_cmp_facts(vd_cmp *c, const vd_scan *scan);
/* An entry out of order: VD_E_INTERNAL. */
int vd_cmp_put(vd_cmp *c, const vd_entry *n, vd_err *err);
int vd_cmp_end(vd_cmp *c, vd_err *err);
void vd_cmp_free(vd_cmp *c);

/* Owners and ACLs in out's "acl" changes shown by the names the guest gives
 * its local accounts (scan's sid_names, read from its SAM after the walk):
 * 0 or VD_E_NOMEM. */
int vd_compare_name_accounts(const vd_scan *scan, vd_events *out);

#endif
