/* A unified diff of two versions of a file's content (libgit2's
 * git_patch_from_buffers: Myers, three lines of context), as `diff -u`
 * shows it under "--- a/PATH" and "+++ b/PATH". Content with a NUL byte or
 * that is not UTF-8 is binary: "binary files differ". At most max bytes of
 * diff (cut at a line, with a line saying how much was left out). */
#ifndef VD_DIFF_H
#define VD_DIFF_H

#include <stddef.h>

#include "common/vd_buf.h"

#define VD_DIFF_BINARY "binary files differ"

/* old may be NULL (an added file: all of new is added). 0, VD_E_NOMEM, or
 * VD_E_INTERNAL when libgit2 fails. */
int vd_diff_unified(const char *path, const char *old, size_t old_len, const char *new_, size_t new_len, size_t max,
                    vd_buf *out);

#endif
