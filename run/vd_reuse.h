/* An untouched guest is not scanned again.
 *
 * After a full scan of guest images, vmdrift keeps in the state directory
 * (scans/<slot>.vdr, 0600) the scan's report (events, warnings, what it
 * counted) under a digest of everything the result depends on:
 *   - every image of each disk's backing chain, and every external data
 *     file or extent a header names (the chain as qemu-img reads it, checked as vmdrift scan checks it: backing files only in the
 *     image's own directory, the template's or --allow-backing): real path,
 *     device, inode, size, modification and change times; and the SHA-256 of
 *     the bytes of each top image up to 64 MiB (a thin overlay: read whole on
 *     the host, cheap) or of every image with --paranoid;
 *   - the baseline's effective digest (vd_baseline_effective_digest), the policy's digest, and the options
 *     that change what a scan finds (the caller's canonical text);
 *   - the vmdrift version and the running program's own bytes (SHA-256 of
 *     /proc/self/exe, once a process): a new build may find what the old
 *     one did not, so its reports are its own.
 * A later scan whose digest is the same re-emits that report (a new scan id;
 * the summary names the scan it repeats and when it ran) without launching
 * anything. Anything else scans in full. The slot is the guest's identity:
 * the real paths of its top images, in order.
 *
 * Not reused, by design: a guest that was in use (the result may be
 * inconsistent), a scan with --advisories (the feed changes without the
 * image), libvirt domains and directory trees (nothing proves them
 * unchanged). The state file is ours (an owned, private state directory),
 * still read bounded.
 */
#ifndef VD_REUSE_H
#define VD_REUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"
#include "model/vd_event.h"
#include "report/vd_report.h"

#define VD_REUSE_FILE_MAX ((size_t)256 << 20)
#define VD_REUSE_HASH_TOP_MAX ((uint64_t)64 << 20)

typedef struct vd_reuse_key {
        char digest[65]; /* of everything the result depends on */
        char slot[65];   /* of the guest's identity */
} vd_reuse_key;

/* The key of a scan of images (one guest's disks; format NULL: probed).
 * 0; 1 when nothing can be proven (why says it); <0 on error. */
int vd_reuse_key_make(const char *const *images, size_t n, const char *const *formats, const char *const *allow,
                      size_t n_allow, const char *baseline_digest, const char *policy_digest, const char *options,
                      bool paranoid, vd_reuse_key *out, char *why, size_t whylen, vd_err *err);

/* Keep rep (after a full scan) under k. */
int vd_reuse_save(const char *state_dir, const vd_reuse_key *k, const vd_report *rep, vd_err *err);

/* What was kept: owns its events, warnings and strings. */
typedef struct vd_reused vd_reused;

/* The report kept under k's slot if its digest is k's: 0 and *ret; 1 when
 * there is none or it is for another digest (*ret NULL); <0 on error (a
 * damaged file: VD_E_IO naming it). */
int vd_reuse_load(const char *state_dir, const vd_reuse_key *k, vd_reused **ret, vd_err *err);
/* Fill rep from r (rep borrows from r; set scan_id, started_ns, duration_ns
 * and fail_on after). */
void vd_reused_report(const vd_reused *r, vd_report *rep);
void vd_reused_free(vd_reused *r);

#endif
