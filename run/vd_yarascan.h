/* YARA on what a scan found changed (analyse/vd_yara.h), at the cost of the
 * change: every regular file the scan finds added or with changed content
 * is matched (--yara-all: every regular file), each against the operator's
 * rules (--yara) and, where the policy's yara.secrets says, vmdrift's
 * secret rules. A match is a malware or secret event (model/vd_event.h).
 *
 * The bytes come from where the scan already has them: what the host reads
 * to hash a guest's file is matched from those buffers as it passes (the
 * tap, vd_content_tap), and the rest (small files the appliance hashed, a
 * directory tree's files) is read after the compare, a guest's in one
 * batch. Bounded as the policy says (yara: max_file, max_total, timeout),
 * each bound reached a warning: a file over max_file is matched on its
 * first max_file bytes, still hashed and reported whole; past max_total,
 * files go unmatched and are counted; a match that times out names its
 * file.
 */
#ifndef VD_YARASCAN_H
#define VD_YARASCAN_H

#include <stdbool.h>

#include "analyse/vd_yara.h"
#include "collect/vd_source.h"
#include "model/vd_entry.h"
#include "model/vd_event.h"
#include "model/vd_scan.h"
#include "policy/vd_policy.h"

/* What a scan request asks for (rules borrowed, compiled once per run). */
typedef struct vd_yara_req {
        const vd_yara *rules; /* --yara, or NULL */
        bool all;             /* --yara-all */
} vd_yara_req;

typedef struct vd_yarascan vd_yarascan;

/* NULL in *ret (not an error) when nothing is to be matched. base: the
 * baseline's entries when in memory (sorted; the tap decides by them), or
 * NULL (no tap: everything is read after the compare). */
int vd_yarascan_new(const vd_yara_req *rq, const vd_policy *pol, const vd_entries *base, vd_yarascan **ret,
                    vd_err *err);
/* For vd_scan_opts.tap, or NULL when there is no tap. */
const vd_content_tap *vd_yarascan_tap(vd_yarascan *ys);
/* After the compare: match what the tap did not, add the events to ev,
 * the counts and warnings to scan. */
int vd_yarascan_finish(vd_yarascan *ys, vd_source *src, const vd_entry_view *now, const vd_entry_view *base,
                       vd_events *ev, vd_scan *scan, vd_err *err);
void vd_yarascan_free(vd_yarascan *ys);

/* What a kept report's key takes: the operator's rules' digest and the
 * mode (the shipped rules are part of the program, the policy's switch of
 * the policy's digest). */
void vd_yara_req_key(const vd_yara_req *rq, char *out, size_t n);

#endif
