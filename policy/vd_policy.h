/* Policy: which paths count, which of their attributes, how severe drift
 * there is, which configuration files are read as values and what they must
 * say, and which detectors run.
 *
 * A policy is the built-in default or a YAML file (docs/policy.md). Rules are
 * tried in file order and the FIRST rule whose paths match and whose excludes
 * do not wins; a path no rule matches falls to the `default` section.
 */
#ifndef VD_POLICY_H
#define VD_POLICY_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "common/vd_glob.h"
#include "formats/vd_config.h"
#include "model/vd_event.h"

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

/* Parse "ctime,inode" into a mask; unknown name -> VD_E_USAGE naming it. */
int vd_attrs_parse(const char *list, uint32_t *ret, vd_err *err);
/* The attribute names, for help texts. */
const char *vd_attr_names(void);

enum vd_rule_kind {
        VD_K_WATCH = 0,     /* every attribute of the rule counts */
        VD_K_IGNORE = 1,    /* nothing is reported */
        VD_K_VOLATILE = 2,  /* content, size and times may change */
        VD_K_PER_CLONE = 3, /* differs per clone: must exist with owner and mode; content ignored */
        VD_K_GROWING = 4,   /* size may only grow; content and times may change */
};
const char *vd_rule_kind_name(int k);

typedef struct vd_rule {
        const char *name;   /* reported as the event's "rule" */
        int kind;           /* enum vd_rule_kind */
        uint32_t attrs;     /* attributes that count for files */
        uint32_t dir_attrs; /* attributes that count for directories */
        int severity;       /* fixed severity, or -1: derived from the change */
        /* per-clone: expected owner and mode (has_* false: the baseline's) */
        bool has_uid, has_gid, has_mode;
        uint32_t uid, gid, mode;
        const char *user, *group; /* expected by name when not numeric */
} vd_rule;

enum vd_detector {
        VD_D_SETUID = 0,
        VD_D_WORLD_WRITABLE,
        VD_D_FILE_CAP,
        VD_D_UID0,
        VD_D_AUTH_KEYS,
        VD_D_PERSISTENCE,
        VD_D_SUDO,
        VD_D_SECURITY_OFF, /* Windows: UAC, Defender, firewall, RDP, WDigest, LSA protection turned off */
        VD_D_ACCOUNT,      /* Windows: a new local account (SAM) */
        VD_D_SYSTEM_BINARY, /* Windows: a new or changed executable, DLL or driver under System32 or SysWOW64 */
        VD_D_COUNT
};
const char *vd_detector_name(int d); /* "setuid", "world-writable", ... */
int vd_detector_default_severity(int d);

/* Desired state of one configuration key. */
enum vd_check_op { VD_CHK_EXPECT = 1, VD_CHK_FORBID, VD_CHK_MATCH };

typedef struct vd_check {
        int op;
        char *key;
        char *value; /* expected / forbidden value ("" with FORBID: any value), or the regex */
        regex_t re;  /* VD_CHK_MATCH */
        uint32_t line, col;
} vd_check;

typedef struct vd_conf_item {
        char *name;    /* the event path: the first of paths */
        char **paths;  /* globs, in order; registry: the one key (HKLM\SOFTWARE\..., HKU\*\...) */
        size_t n_paths, paths_alloc;
        int format;    /* enum vd_conf_format */
        bool merge;    /* all matching files make one set (sysctl.d) */
        int severity;  /* of key-level drift */
        int detector;  /* -1, or the detector that asked for it (built-in items) */
        char **secret; /* key globs whose values are kept only as keyed hashes */
        size_t n_secret, secret_alloc;
        vd_check *checks;
        size_t n_checks, checks_alloc;
        uint32_t line;
        unsigned depth; /* registry: subkey levels read below the key */
} vd_conf_item;

typedef struct vd_policy vd_policy;

/* The built-in default: every attribute, derived severities, every detector. */
int vd_policy_new_default(vd_policy **ret, vd_err *err);
/* Load a YAML policy. Errors (VD_E_INPUT) name file:line:column and what was
 * expected; an unknown key is an error. */
int vd_policy_load(const char *path, vd_policy **ret, vd_err *err);
/* vd_policy_load, or the built-in default when path is NULL. */
int vd_policy_open(const char *path, vd_policy **ret, vd_err *err);
/* The same from memory (file names the text in messages). */
int vd_policy_parse(const char *file, const char *text, size_t len, vd_policy **ret, vd_err *err);
void vd_policy_free(vd_policy *p);

/* Stop counting attrs (mask) for every rule. */
void vd_policy_ignore(vd_policy *p, uint32_t attrs);
/* The rule for a path (never NULL). */
const vd_rule *vd_policy_match(const vd_policy *p, const char *path, size_t len, int ftype);
/* The same, ASCII letters compared case-insensitively in patterns and path:
 * for a path on NTFS, whose names Windows compares so ("/WINDOWS/system32/x"
 * falls under "/Windows/System32/" followed by "**"). */
const vd_rule *vd_policy_match_icase(const vd_policy *p, const char *path, size_t len, int ftype);
/* Append the policy's canonical form (stable text; its digest is recorded in
 * baselines so a scan can tell it runs under another policy). */
int vd_policy_canonical(const vd_policy *p, vd_buf *out);
/* Hex SHA-256 of the canonical form ("" and VD_E_NOMEM if it cannot be made). */
int vd_policy_digest(const vd_policy *p, char out[65]);
const char *vd_policy_source(const vd_policy *p); /* "built-in default" or a file name */
int vd_policy_hash_algo(const vd_policy *p);      /* 0 = not set; 1 xxh3, 2 sha256 */
size_t vd_policy_n_rules(const vd_policy *p);

/* Rules that can never decide because an earlier rule (without excludes)
 * takes every path they name ("journal" for everything under /var/log/journal
 * after "logs" for everything under /var/log). Sound, not complete. */
typedef void (*vd_shadow_fn)(void *ctx, const char *rule, uint32_t line, const char *by, uint32_t by_line);
void vd_policy_shadowed(const vd_policy *p, vd_shadow_fn fn, void *ctx);

/* Package drift: the severity of a change of kind k (VD_CH_ADDED, _REMOVED,
 * _BEHIND, _AHEAD, _CHANGED) to package name, or -1 when the policy does not
 * report it (ignored package or kind). *rule: what decided ("packages", or
 * the matching glob of the packages section's behind list); borrowed. */
int vd_policy_package_severity(const vd_policy *p, const char *name, int kind, const char **rule);

/* dormant_after: a guest whose newest sign of life (files under /var/log) is
 * older than this many seconds gets a dormant event of *severity; 0 when
 * the policy sets no such limit. */
int64_t vd_policy_dormant_after(const vd_policy *p, int *severity);

/* content: the files whose text (secrets masked, formats/vd_mask.h) the
 * baseline keeps so that a scan can show a changed file's diff; bounded a
 * file and in all (defaults below, at most the maxima). */
#define VD_CONTENT_FILE_DEFAULT ((uint64_t)256 << 10)
#define VD_CONTENT_TOTAL_DEFAULT ((uint64_t)16 << 20)
#define VD_CONTENT_FILE_MAX ((uint64_t)1 << 20)
#define VD_CONTENT_TOTAL_MAX ((uint64_t)64 << 20)
bool vd_policy_content(const vd_policy *p, const char *path, size_t len);
bool vd_policy_has_content(const vd_policy *p);
void vd_policy_content_limits(const vd_policy *p, uint64_t *max_file, uint64_t *max_total);
size_t vd_policy_content_patterns(const vd_policy *p, const vd_pat **ret); /* the paths: patterns */
/* yara: YARA matching (analyse/vd_yara.h) of what a scan finds added or
 * changed. secrets: where vmdrift's shipped secret rules run (default
 * added files); severity: a malware match's when its rule's meta has none;
 * max_file: bytes of one file matched (its first ones; the file is still
 * hashed whole), max_total: bytes matched in one scan, timeout: seconds of
 * one file's match. Each bound reached is reported. */
enum vd_secrets_scope { VD_SECRETS_OFF = 0, VD_SECRETS_ADDED = 1, VD_SECRETS_CHANGED = 2 /* added and changed */ };
#define VD_YARA_FILE_DEFAULT ((uint64_t)64 << 20)
#define VD_YARA_FILE_MAX ((uint64_t)1 << 30)
#define VD_YARA_TOTAL_DEFAULT ((uint64_t)4 << 30)
#define VD_YARA_TOTAL_MAX ((uint64_t)1 << 40)
#define VD_YARA_TIMEOUT_DEFAULT 10
#define VD_YARA_TIMEOUT_MAX 3600
typedef struct vd_policy_yara {
        int secrets;  /* enum vd_secrets_scope */
        int severity; /* enum vd_severity */
        uint64_t max_file, max_total;
        int timeout_s;
} vd_policy_yara;
const vd_policy_yara *vd_policy_yara_conf(const vd_policy *p);

/* One line for people: "behind medium (9 name globs), ahead info, added low,
 * removed low, changed low; 1 ignored". */
int vd_policy_packages_summary(const vd_policy *p, vd_buf *out);

bool vd_policy_detector_on(const vd_policy *p, int d, const char *path, size_t len);
int vd_policy_detector_severity(const vd_policy *p, int d);

size_t vd_policy_conf_items(const vd_policy *p, const vd_conf_item **ret);
bool vd_conf_item_secret(const vd_conf_item *it, const char *key);

/* Check settings against the item's desired state: call fn once per failed
 * check with a message ("expected \"no\"", "forbidden", "does not match /re/"),
 * the setting (NULL when absent) and the check. */
typedef int (*vd_violation_fn)(void *ctx, const vd_conf_item *it, const vd_check *c, const vd_setting *s,
                               const char *msg);
int vd_conf_check(const vd_conf_item *it, const vd_settings *set, vd_violation_fn fn, void *ctx);

#endif
