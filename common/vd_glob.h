/* Path globs, one dialect everywhere (policy rules, configuration items,
 * detector excludes, `baseline accept --path`, secret keys):
 *   '*', '?', '[...]' (with '!' or '^' to negate) match within ONE path
 *   component, never across '/';
 *   '**' as a whole component matches any number of components, zero
 *   included ("/etc/" then "**" matches /etc and everything below);
 *   '\' quotes the next character.
 * A leading '/' on pattern or path is ignored. No policy is needed.
 */
#ifndef VD_GLOB_H
#define VD_GLOB_H

#include <stdbool.h>
#include <stddef.h>

bool vd_glob_match(const char *pattern, const char *path, size_t len);

/* A compiled pattern: the literal prefix and suffix every match has turn most
 * paths away with two memcmp calls before the glob runs. */
typedef struct vd_pat {
        char *text;
        size_t len;
        size_t prefix_len; /* literal bytes every match starts with */
        size_t suffix_len; /* literal bytes every match ends with */
        bool literal;
} vd_pat;

int vd_pat_init(vd_pat *pt, const char *s); /* VD_E_NOMEM */
bool vd_pat_match(const vd_pat *pt, const char *path, size_t len);
bool vd_pats_any(const vd_pat *v, size_t n, const char *path, size_t len);
void vd_pats_free(vd_pat *v, size_t n);
/* Does every path b can match also match a? Sound, not complete: a is b
 * itself, or "D/" + "**" with D literal and b rooted at or under D. */
bool vd_pat_covers(const vd_pat *a, const vd_pat *b);

#endif
