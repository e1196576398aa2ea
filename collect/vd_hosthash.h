/* Host-side hashing, host half: read the byte ranges the walker named from
 * the guest's disks and hash them on the host's cores.
 *
 * Each disk is exported read-only by a qemu-nbd of our own (--read-only
 * --force-share on the qcow2 overlay the appliance runs on, so the host sees
 * exactly the blocks the appliance's kernel saw, journal replay included),
 * on a private Unix socket; every hashing thread holds one libnbd
 * connection per disk. Nothing here parses a file system: an extent is
 * (file offset, disk, disk offset, length), bounded by the disk's size, and
 * the total read is bounded too (a lying appliance can make wrong hashes,
 * which it always could, but not an endless read).
 */
#ifndef VD_HOSTHASH_H
#define VD_HOSTHASH_H

#include <stddef.h>
#include <stdint.h>

#include "collect/vd_source.h"
#include "common/vd_err.h"

typedef struct vd_hosthash vd_hosthash;

/* Export n disk images (path, format) and check that a client can connect;
 * the sockets go in a new directory under tmp_dir (NULL: /tmp). Errors say
 * why (qemu-nbd missing, the export refused...). *ret is the caller's
 * (vd_hosthash_close). */
int vd_hosthash_open(const char *const *paths, const char *const *formats, size_t n, unsigned threads,
                     const char *tmp_dir, vd_hosthash **ret, vd_err *err);

/* Hash every entry of s that carries extents (status OK, hash_len 0) with
 * o's algorithm and seed; drops the extents. An entry the host cannot read
 * keeps hash_len 0 and is listed in *failed (indices into s->entries, the
 * caller frees it) for the caller to hash another way. Counts go to
 * s->host_files, s->host_bytes, s->files_hashed and s->bytes_hashed. */
int vd_hosthash_run(vd_hosthash *hh, const vd_scan_opts *o, vd_scan *s, size_t **failed, size_t *n_failed,
                    vd_err *err);

/* Delta scan: for each of n byte ranges (start, length; sorted, disjoint)
 * compare export a with export b in units of unit bytes (a divisor of 4
 * MiB) and call fn for each maximal run of units that differ (a range past
 * the end of b differs whole). fn's negative return stops and is returned. */
int vd_hosthash_diff(vd_hosthash *hh, size_t a, size_t b, const uint64_t (*ranges)[2], size_t n, uint64_t unit,
                     int (*fn)(void *ud, uint64_t start, uint64_t len), void *ud, vd_err *err);

/* Stop the exports and remove the sockets. NULL is fine. */
void vd_hosthash_close(vd_hosthash *hh);

#endif
