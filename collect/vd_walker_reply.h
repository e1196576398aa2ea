/* What vmdrift-walker prints on stdout after a walk, parsed in one place as
 * untrusted input: it runs in the appliance, which a guest that subverted
 * its kernel may control. Lines the host does not know are ignored; a line
 * it knows but that is malformed is ignored too (the facts it would give are
 * then missing, which every caller treats as "not known"), never half-taken.
 *
 *   N entries, ...                     (first line: a summary, for the log)
 *   geometry KEY VALUE                 an ext4 file system's geometry (vd_delta)
 *   mounts VALUE                       the guest's mounts, one printable line
 *   walk changed-only | walk whole: WHY
 *   inodes: R answered from the baseline's records, N read
 *   cat N | cat failed: WHY            the read-ahead batch
 *   times: ...                         where the time went, for the log
 */
#ifndef VD_WALKER_REPLY_H
#define VD_WALKER_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/vd_delta.h"
#include "collect/vd_source.h"
#include "common/vd_err.h"

#define VD_WALKER_REPLY_MAX ((size_t)1 << 20)
#define VD_WALKER_GEOMETRY_MAX 256 /* geometry lines kept */

typedef struct vd_walker_reply {
        /* "geometry KEY VALUE": key "fs.ext4.KEY" (KEY under 48 bytes, no
         * space), value printable; the line at most 300 bytes. Owned. */
        vd_fact *geometry;
        size_t n_geometry;
        char *mounts;            /* printable, 1 to VD_DELTA_MOUNTS_MAX bytes; NULL: none. Owned */
        bool walk_changed_only;  /* the candidate-only walk ran */
        char walk_whole[191];    /* why the whole tree was walked, non-printable bytes as '?'; "" if not said */
        bool have_inodes;
        uint64_t inodes_recorded, inodes_read;
        bool have_cat;           /* "cat N" */
        uint64_t cat_files;
        char cat_failed[121];    /* "cat failed: WHY", printable; "" if not said */
        char summary[201], times[201]; /* for the debug log, printable */
} vd_walker_reply;

/* Parse text (len bytes, at most VD_WALKER_REPLY_MAX). 0, or VD_E_LIMIT
 * (too long) or VD_E_NOMEM with err set; *ret is then empty. */
int vd_walker_reply_parse(const char *text, size_t len, vd_walker_reply *ret, vd_err *err);
void vd_walker_reply_release(vd_walker_reply *r);

#endif
