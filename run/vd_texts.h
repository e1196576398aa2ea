/* The text of the files a policy's content: section names (docs/policy.md):
 * kept at capture, diffed at scan. Read through the source (a guest's
 * batch first), only when the bytes read hash to what the walk recorded
 * (a file that changed while read keeps no text), secrets masked with the
 * baseline's key (formats/vd_mask.h); the files that hold secrets are never
 * read for it. */
#ifndef VD_TEXTS_H
#define VD_TEXTS_H

#include "baseline/vd_content.h"
#include "collect/vd_source.h"
#include "model/vd_event.h"
#include "model/vd_scan.h"
#include "policy/vd_policy.h"

#define VD_DIFF_MAX ((size_t)64 << 10) /* a diff kept in an event */

typedef struct vd_texts_ctx {
        vd_source *src;
        const vd_policy *policy;
        int hash_algo;
        const unsigned char *seed; /* the baseline's: hash check and mask key */
        vd_scan *scan;             /* warnings */
} vd_texts_ctx;

/* Capture: the text of every regular file of now the policy names, into
 * out; past max_file a file, or max_total in all, a warning says what was
 * left out. */
int vd_texts_capture(const vd_texts_ctx *c, const vd_entry_view *now, vd_contents *out, vd_err *err);

/* Scan: each changed or added regular file the policy names gets its diff
 * (event->diff) against the text base_text keeps under the baseline
 * entry's hash (an added file: against nothing; no text kept: no diff);
 * the new text goes into out (what an accept keeps). */
int vd_texts_diff(const vd_texts_ctx *c, const vd_entry_view *now, const vd_entry_view *base,
                  const vd_contents *base_text, vd_events *ev, vd_contents *out, vd_err *err);

#endif
