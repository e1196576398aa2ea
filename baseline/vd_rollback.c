#define _GNU_SOURCE
#include "baseline/vd_rollback.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"
#include "common/vd_state.h"
#include "common/vd_str.h"

#define SEEN_MAX ((size_t)4 << 20)
#define SEEN_LINES_MAX 20000

/* One line: <sha256 of the real path> <signer or "-"> <created_ns> <content digest> */
static void path_id(const char *path, char out[65]) {
        char *real = realpath(path, NULL);
        const char *p = real ? real : path;
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)p, strlen(p), md);
        vd_hex_to(out, md, sizeof md);
        free(real);
}

int vd_rollback_check(const vd_baseline *b, const char *path, const char *state_dir, bool allow,
                      char warning[VD_ERR_MSG_MAX], vd_err *err) {
        warning[0] = '\0';
        vd_err se = VD_ERR_INIT;
        if (vd_state_dir_check(state_dir, true, &se) < 0) {
                snprintf(warning, VD_ERR_MSG_MAX, "baseline rollback not checked: %.900s", se.msg);
                return 0;
        }
        char id[65];
        path_id(path, id);
        const char *signer = b->signer[0] ? b->signer : "-";
        vd_buf in, out;
        vd_buf_init(&in, SEEN_MAX);
        vd_buf_init(&out, SEEN_MAX + 512);
        bool absent = false;
        int r = vd_state_read(state_dir, VD_ROLLBACK_FILE, SEEN_MAX, &in, &absent, &se);
        if (r < 0 && !absent) {
                snprintf(warning, VD_ERR_MSG_MAX, "baseline rollback not checked: %.900s", se.msg);
                r = 0;
                goto done;
        }
        r = 0;
        int64_t seen = INT64_MIN;
        char seen_digest[65] = "";
        size_t lines = 0;
        const char *p = in.buf ? in.buf : "";
        const char *end = p + in.len;
        while (p < end && r == 0) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char line[512];
                if (ll < sizeof line) {
                        memcpy(line, p, ll);
                        line[ll] = '\0';
                        char lid[65], lsig[65], ldg[65];
                        long long t;
                        if (sscanf(line, "%64s %64s %lld %64s", lid, lsig, &t, ldg) == 4) {
                                if (strcmp(lid, id) == 0 && strcmp(lsig, signer) == 0) {
                                        seen = t;
                                        snprintf(seen_digest, sizeof seen_digest, "%s", ldg);
                                } else if (lines < SEEN_LINES_MAX) {
                                        r = vd_buf_add(&out, line, ll) == 0 && vd_buf_addc(&out, '\n') == 0
                                                    ? 0
                                                    : vd_err_set(err, VD_E_NOMEM, "out of memory");
                                        lines++;
                                }
                        }
                }
                p += ll + 1;
        }
        if (r < 0)
                goto done;
        if (seen > b->created_ns && !allow) {
                vd_buf t1, t2;
                vd_buf_init(&t1, 0);
                vd_buf_init(&t2, 0);
                vd_time_rfc3339(&t1, b->created_ns);
                vd_time_rfc3339(&t2, seen);
                r = vd_err_set(err, VD_E_BASELINE,
                               "baseline '%s' (signer %s, captured %s) is older than the one seen before at this path "
                               "(captured %s, digest %.12s): an older baseline copied over the current one? "
                               "(--allow-rollback if this is intended)",
                               path, b->signer[0] ? b->signer : "none", t1.buf ? t1.buf : "?", t2.buf ? t2.buf : "?",
                               seen_digest);
                vd_buf_release(&t1);
                vd_buf_release(&t2);
                goto done;
        }
        int64_t keep = seen > b->created_ns ? seen : b->created_ns;
        const char *kd = seen > b->created_ns ? seen_digest : b->content_digest;
        char mine[400];
        int ml = snprintf(mine, sizeof mine, "%s %s %" PRId64 " %s\n", id, signer, keep, kd);
        if (ml < 0 || (size_t)ml >= sizeof mine || vd_buf_add(&out, mine, (size_t)ml) < 0) {
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                goto done;
        }
        /* already the file's last line (the one used last): nothing to
         * write (a fleet opens the same baseline for guest after guest) */
        size_t n = (size_t)ml;
        if (in.len >= n && memcmp(in.buf + in.len - n, mine, n) == 0 && (in.len == n || in.buf[in.len - n - 1] == '\n'))
                goto done;
        if (vd_state_write(state_dir, VD_ROLLBACK_FILE, out.buf, out.len, &se) < 0) {
                snprintf(warning, VD_ERR_MSG_MAX, "baseline rollback not recorded: %.900s", se.msg);
        }
done:
        vd_buf_release(&in);
        vd_buf_release(&out);
        return r;
}
