/* Configuration values of a source: read the files a policy names (through
 * the source, after its walk), parse them, check the desired state, and
 * compare key by key with a baseline's values.
 */
#ifndef VD_CONFSCAN_H
#define VD_CONFSCAN_H

#include "collect/vd_source.h"
#include "formats/vd_config.h"
#include "model/vd_event.h"
#include "policy/vd_policy.h"

/* Read and parse every configuration file p names that exists in entries
 * (a view: the scan's list, or a baseline's file with the scan's differences)
 * (regular files; symlinks are resolved inside the source's own tree, never
 * the host's). Values of secret keys are replaced by "keyed:<hex>", an
 * HMAC-SHA256 under key (the baseline's hash key). Desired-state violations
 * go to violations (events of kind VD_CH_VIOLATION); files that cannot be
 * read become warnings of scan. */
int vd_config_collect(vd_source *src, const vd_entry_view *entries, const vd_policy *p, const unsigned char *key,
                      size_t key_len, vd_confsets *out, vd_events *violations, vd_scan *scan, vd_err *err);

/* The files vd_config_collect would ask the source for first (its batch),
 * were entries the source's: given the baseline's entries before a scan, the
 * guess a source reads in the same pass as its walk (vd_scan_opts.
 * read_ahead). *paths (n of them, each and the array malloc'd) for the
 * caller to free; 0 or an error. */
int vd_config_files(const vd_entries *entries, const vd_policy *p, char ***paths, size_t *n, vd_err *err);
/* The policy's configuration patterns that are globs (borrowed from the
 * policy: *patterns is malloc'ed, its strings are not): a file new since the
 * baseline that matches one is read too, when the source can (the walker's
 * --cat "*PATTERN"). 0 or VD_E_NOMEM. */
int vd_config_globs(const vd_policy *p, const char ***patterns, size_t *n, vd_err *err);

/* Key-level drift between baseline and scan values, with the detectors that
 * read configuration (uid0, sudo, authorized-keys, persistence). base_entries
 * tells a file the baseline never parsed (another policy) from a new one:
 * the former becomes a warning in scan, not a flood of "added" keys. */
int vd_config_compare(const vd_confsets *base, const vd_entry_view *base_entries, const vd_confsets *now,
                      const vd_policy *p, vd_events *out, vd_scan *scan, vd_err *err);

#endif
