/* Rollback: copying an older, validly signed baseline over the current one
 * would make a scan compare with a past the guest may match. The state
 * directory remembers, per baseline path and signer, the newest capture seen;
 * an older one at the same path is refused unless the operator allows it.
 */
#ifndef VD_ROLLBACK_H
#define VD_ROLLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "baseline/vd_baseline.h"
#include "common/vd_err.h"

#define VD_ROLLBACK_FILE "baselines-seen"

/* Check b (loaded from path) against what state_dir has seen, then record
 * it when newer. VD_E_BASELINE if it is older than one already seen at this
 * path for its signer and !allow. When the state directory cannot be used,
 * 0 with warning set (what the caller shows; "" if nothing to say). */
int vd_rollback_check(const vd_baseline *b, const char *path, const char *state_dir, bool allow,
                      char warning[VD_ERR_MSG_MAX], vd_err *err);

#endif
