/* YARA rules, compiled once and matched against bytes a scan already has
 * (libyara). The rules are the operator's (--yara) or vmdrift's own secret
 * rules (examples/yara/secrets.yar, compiled in); the bytes are the
 * guest's: each match is bounded in time (libyara's timeout) and what a
 * match reports is bounded in size. A match never carries the bytes that
 * matched, only where (offset, line).
 *
 * Rules see three external variables, set per file: filepath (the path in
 * the guest), filename (its last component) and extension (after the last
 * dot of filename, lower case, "" without one).
 */
#ifndef VD_YARA_H
#define VD_YARA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"

typedef struct vd_yara vd_yara;

/* path: a rules file, or a directory whose *.yar and *.yara files (not
 * below) are compiled, each in the namespace of its name without the
 * extension, in name order. An error names the file and line. */
int vd_yara_load(const char *path, vd_yara **ret, vd_err *err);
/* vmdrift's shipped secret rules. */
int vd_yara_load_secrets(vd_yara **ret, vd_err *err);
void vd_yara_free(vd_yara *y);
/* SHA-256 (hex) of the compiled rules as libyara saves them: what a kept
 * report's key takes. */
const char *vd_yara_digest(const vd_yara *y);
/* What the operator named (the path, or "builtin:secrets"). */
const char *vd_yara_source(const vd_yara *y);
size_t vd_yara_n_rules(const vd_yara *y);
/* Does a hold every rule of b (the same namespace and name)? Then
 * matching a covers b (the shipped secret rules given again with --yara). */
bool vd_yara_covers(const vd_yara *a, const vd_yara *b);

#define VD_YARA_HITS_MAX 32 /* rules reported per file; more are counted */
#define VD_YARA_TEXT_MAX 512 /* bytes of each meta string kept */

typedef struct vd_yara_hit {
        char *rule, *ns, *tags; /* tags: comma-separated, or "" */
        char *description, *author, *reference; /* from meta, or NULL */
        int severity;   /* meta severity (a name or 0-4), or -1 */
        bool secret;    /* tagged "secret" (or meta kind = "secret") */
        uint64_t offset; /* of the first matching string, or UINT64_MAX when the condition needs none */
        uint64_t line;   /* 1-based line of offset; 0 when none */
} vd_yara_hit;

typedef struct vd_yara_hits {
        vd_yara_hit *v;
        size_t n, alloc;
        size_t more;   /* matching rules past VD_YARA_HITS_MAX */
        bool timeout;  /* the match stopped at its timeout: rules past it unknown */
} vd_yara_hits;

void vd_yara_hits_init(vd_yara_hits *h);
void vd_yara_hits_release(vd_yara_hits *h);

/* Match data[0..n) of the file at path (the externals) within timeout_s
 * seconds (0: none) and add the matching rules to out. A timeout is no
 * error (out->timeout); VD_E_NOMEM or VD_E_INTERNAL (libyara's error) are. */
int vd_yara_match(const vd_yara *y, const char *path, size_t path_len, const void *data, size_t n, int timeout_s,
                  vd_yara_hits *out, vd_err *err);

#endif
