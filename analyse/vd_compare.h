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
#include "policy/vd_policy.h"

/* Append to out one event per path that differs between base and scan under
 * policy. Both lists must be sorted (vd_entries_sort). Children of a scanned
 * directory whose content is unknown (unreadable, not descended) are not
 * reported as removed: the directory itself carries a "status" change. */
int vd_compare(const vd_entries *base, const vd_entries *scan, const vd_policy *policy, vd_events *out,
               vd_err *err);

#endif
