/* Accepting drift and deriving over a template: how a new baseline is made
 * from an old one, the current state of a guest and the drift between them.
 * The command that asks (cli/cmd_accept.c) only parses options and prints.
 */
#ifndef VD_ACCEPT_H
#define VD_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>

#include "baseline/vd_baseline.h"
#include "model/vd_event.h"

/* Does path fall under one of globs (vd_glob dialect; a glob that names a
 * directory also takes in everything below it)? No globs: everything. */
bool vd_accept_matches(const char *const *globs, size_t n, const char *path, size_t len);

typedef struct vd_accept_req {
        const char *const *globs; /* the paths to take in; n_globs 0: every change */
        size_t n_globs;
        const char *reason, *user, *host; /* recorded in the history */
        const char *signer;               /* key id of sign_key, or "" */
        const char *sign_key;             /* sign NEW with it (borrowed; NULL: unsigned) */
        bool derive;                      /* store NEW as deltas over OLD (OLD derived: always) */
        const char *old_realpath;         /* OLD's absolute path: the template when deriving from a root */
        const char *policy_digest, *policy_source; /* the policy NEW records; NULL: OLD's */
        int64_t now_ns;
} vd_accept_req;

typedef struct vd_accept_counts {
        size_t accepted, added, removed, changed; /* of the drift events that matched */
} vd_accept_counts;

/* NEW = OLD with every drift event in ev that q's globs match taken in from
 * the current state (scan: entries, facts, packages; conf: configuration
 * values; texts: the text the scan read of changed files, by hash: NEW
 * keeps the texts its entries' hashes name, OLD's and these). OLD's hash key, hash algorithm, owners setting and history carry
 * over, plus one history record of this acceptance. When OLD is derived (or
 * q->derive), NEW keeps only what differs from the template baseline, which
 * is loaded from OLD's template_path (or old_realpath). Nothing is written:
 * the caller writes *ret with vd_baseline_write. */
int vd_baseline_accept(const vd_baseline *old, vd_scan *scan, const vd_confsets *conf, const vd_contents *texts,
                       const vd_events *ev, const vd_accept_req *q, vd_baseline **ret, vd_accept_counts *counts,
                       vd_err *err);

/* Keep in nb only what differs from the template baseline at tpath (taking
 * ownership of tpath): entries equal to the template's go, template paths nb
 * lacks are recorded as removed, and nb records the template's digest. */
int vd_baseline_derive(vd_baseline *nb, char *tpath, vd_err *err);

#endif
