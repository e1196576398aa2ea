/* Policy: which attributes count for a path, and how severe drift there is.
 *
 * Today a policy is the built-in default rule plus command-line attribute
 * switches; the YAML loader builds the same structure from a file.
 */
#ifndef VD_POLICY_H
#define VD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vd_buf.h"
#include "vd_err.h"

enum vd_attr {
        VD_A_TYPE = 1u << 0,
        VD_A_MODE = 1u << 1,
        VD_A_UID = 1u << 2,
        VD_A_GID = 1u << 3,
        VD_A_SIZE = 1u << 4,
        VD_A_MTIME = 1u << 5,
        VD_A_CTIME = 1u << 6,
        VD_A_INODE = 1u << 7,
        VD_A_NLINK = 1u << 8,
        VD_A_RDEV = 1u << 9,
        VD_A_TARGET = 1u << 10,
        VD_A_XATTRS = 1u << 11,
        VD_A_HASH = 1u << 12,
};

#define VD_A_ALL 0x1fffu
/* Directories: mtime, ctime, nlink and size change whenever an entry is added
 * or removed; the entry itself is reported, so these would only be noise. */
#define VD_A_DIR_OFF (VD_A_MTIME | VD_A_CTIME | VD_A_NLINK | VD_A_SIZE)

enum vd_severity {
        VD_SEV_INFO = 0,
        VD_SEV_LOW = 1,
        VD_SEV_MEDIUM = 2,
        VD_SEV_HIGH = 3,
        VD_SEV_CRITICAL = 4,
};

const char *vd_severity_name(int s);
int vd_severity_from_name(const char *s); /* -1 if unknown */

/* Parse "ctime,inode" into a mask; unknown name -> VD_E_USAGE naming it. */
int vd_attrs_parse(const char *list, uint32_t *ret, vd_err *err);
/* The attribute names, for help texts. */
const char *vd_attr_names(void);

typedef struct vd_rule {
        const char *name;  /* reported as the event's "rule" */
        uint32_t attrs;    /* attributes that count for files */
        uint32_t dir_attrs;/* attributes that count for directories */
        int severity;      /* fixed severity, or -1: derived from the change */
} vd_rule;

typedef struct vd_policy vd_policy;

int vd_policy_new_default(vd_policy **ret, vd_err *err);
void vd_policy_free(vd_policy *p);
/* Stop counting attrs (mask) for every rule. */
void vd_policy_ignore(vd_policy *p, uint32_t attrs);
/* The rule for a path (never NULL). */
const vd_rule *vd_policy_match(const vd_policy *p, const char *path, size_t len, int ftype);
/* Append the policy's canonical form (stable text; its digest is recorded in
 * baselines so a scan can tell it runs under another policy). */
int vd_policy_canonical(const vd_policy *p, vd_buf *out);
const char *vd_policy_source(const vd_policy *p); /* "built-in default" or a file name */

#endif
