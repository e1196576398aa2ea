/* Unified diffs through libgit2; see vd_diff.h. */
#include "formats/vd_diff.h"

#include <git2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/vd_err.h"
#include "common/vd_str.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init(void) { git_libgit2_init(); }

static bool binary(const char *p, size_t n) { return p && (memchr(p, '\0', n) || !vd_utf8_valid(p, n)); }

int vd_diff_unified(const char *path, const char *old, size_t old_len, const char *new_, size_t new_len, size_t max,
                    vd_buf *out) {
        if (old && old_len == new_len && memcmp(old, new_, new_len) == 0)
                return 0; /* the same: no diff */
        if (binary(old, old_len) || binary(new_, new_len))
                return vd_buf_adds(out, VD_DIFF_BINARY) < 0 ? VD_E_NOMEM : 0;
        pthread_once(&once, init);
        /* libgit2 writes a/ and b/ before them */
        const char *a = path[0] == '/' ? path + 1 : path, *b = a;
        git_diff_options opts;
        git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
        opts.context_lines = 3;
        opts.flags |= GIT_DIFF_FORCE_TEXT;
        git_patch *patch = NULL;
        if (git_patch_from_buffers(&patch, old, old ? old_len : 0, old ? a : NULL, new_, new_len, b, &opts) < 0)
                return VD_E_INTERNAL;
        git_buf buf = {0};
        int r = git_patch_to_buf(&buf, patch) < 0 ? VD_E_INTERNAL : 0;
        git_patch_free(patch);
        if (r == 0) {
                /* from the first "---": libgit2 starts with a "diff --git" header */
                const char *s = buf.ptr ? strstr(buf.ptr, "--- ") : NULL;
                size_t n = s ? buf.size - (size_t)(s - buf.ptr) : 0;
                if (n > max) {
                        size_t keep = max;
                        while (keep > 0 && s[keep - 1] != '\n')
                                keep--;
                        size_t lines = 0;
                        for (size_t i = keep; i < n; i++)
                                lines += s[i] == '\n';
                        r = vd_buf_add(out, s, keep) < 0 ||
                                            vd_buf_addf(out, "... (%zu more lines of diff not shown)\n", lines) < 0
                                    ? VD_E_NOMEM
                                    : 0;
                } else if (n)
                        r = vd_buf_add(out, s, n) < 0 ? VD_E_NOMEM : 0;
        }
        git_buf_dispose(&buf);
        return r;
}
