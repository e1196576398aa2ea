/* Configuration files as values: parsers for the formats a guest's security
 * settings live in, and the desired-state checks a policy asks for.
 *
 * Every parser takes untrusted bytes (the guest wrote them) and yields a list
 * of settings: key, value, and where it came from (file:line). Keys and values
 * are bounded. Past VD_CONF_MAX_SETTINGS only the settings a detector needs
 * are kept (uid-0 accounts, every line of the line formats, sshd and sudoers),
 * up to VD_CONF_MAX_KEPT; the settings say they are partial, and callers
 * report that as a finding: padding a file to reach a limit never hides the
 * line that matters.
 * Parsers never store a password hash: colon files record only whether a
 * password is set, empty or locked.
 */
#ifndef VD_CONFIG_H
#define VD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"

#define VD_CONF_MAX_SETTINGS 20000 /* passwd of a big host, long crontabs; then only what detectors need */
#define VD_CONF_MAX_KEPT 200000    /* settings a detector needs, kept past VD_CONF_MAX_SETTINGS */
#define VD_CONF_MAX_REPLACED 4096  /* sysctl, shell, ini: later lines override earlier ones */
#define VD_CONF_KEY_MAX 1024
#define VD_CONF_VALUE_MAX 8192
#define VD_CONF_FILE_MAX ((size_t)4 << 20)
#define VD_CONF_INCLUDE_DEPTH 16 /* sshd's own limit (READCONF_MAX_DEPTH) */
#define VD_CONF_INCLUDE_FILES 256

enum vd_conf_format {
        VD_CF_SSHD = 1,    /* Keyword value; Match blocks; Include */
        VD_CF_SYSCTL,      /* key = value; later assignments win */
        VD_CF_SHELL,       /* KEY=VALUE or KEY VALUE (/etc/default files, login.defs) */
        VD_CF_INI,         /* [section] key = value -> section.key */
        VD_CF_PASSWD,      /* name.uid, name.gid, name.home, name.shell, name.password */
        VD_CF_GROUP,       /* name.gid, name.members */
        VD_CF_SHADOW,      /* name.password: set | empty | locked | none */
        VD_CF_SUDOERS,     /* one key per rule line; @include / @includedir followed */
        VD_CF_LINES,       /* one key per non-comment line (crontabs, authorized_keys, ld.so.preload) */
        VD_CF_REGISTRY,    /* a registry key's values (formats/vd_hive.h); never a file's text */
};

const char *vd_conf_format_name(int f);
/* A uid/gid field that reads as 0 (as strtoul reads it: "0", "00", "+0"). */
bool vd_conf_id_is_zero(const char *p, size_t n);
int vd_conf_format_from_name(const char *s); /* 0 if unknown */
const char *vd_conf_format_names(void);

typedef struct vd_setting {
        char *key;
        char *value; /* NUL-terminated; may be a keyed hash for secrets */
        size_t value_len;
        char *file;  /* the file the value came from (Include, sysctl.d) */
        uint32_t line;
        uint32_t seq; /* order of first appearance */
        bool secret;  /* value is "keyed:<hex>", never the clear value */
} vd_setting;

typedef struct vd_settings {
        vd_setting *v;
        size_t n, alloc;
        size_t dropped; /* settings past VD_CONF_MAX_SETTINGS not kept (no detector needs them) */
        bool partial;   /* not every setting of the file is here: absent keys mean nothing */
} vd_settings;

void vd_settings_init(vd_settings *s);
void vd_settings_release(vd_settings *s);
/* Add or (replace=true) overwrite a setting; keys compare as the format says. */
int vd_settings_put(vd_settings *s, const char *key, size_t klen, const char *val, size_t vlen, const char *file,
                    uint32_t line, bool replace, bool icase);
/* Sort by key (byte order); of settings with the same key (a huge file whose
 * repeats were not looked up one by one) the first to appear is kept. */
void vd_settings_sort(vd_settings *s);
const vd_setting *vd_settings_find(const vd_settings *s, const char *key);

/* The parsed settings of one configuration file (or one merged group of
 * files, such as sysctl.conf with its .d directories). */
typedef struct vd_confset {
        char *path; /* the event path */
        int format;
        vd_settings s; /* sorted by key */
} vd_confset;

typedef struct vd_confsets {
        vd_confset *v;
        size_t n, alloc;
} vd_confsets;

void vd_confsets_init(vd_confsets *c);
void vd_confsets_release(vd_confsets *c);
vd_confset *vd_confsets_add(vd_confsets *c, const char *path, int format); /* NULL: out of memory */
int vd_confsets_copy_set(vd_confsets *c, const vd_confset *from);        /* a deep copy appended */
void vd_confsets_sort(vd_confsets *c);                                     /* by path */
const vd_confset *vd_confsets_find(const vd_confsets *c, const char *path);

/* An include callback: expand pattern (absolute, may hold a glob, relative
 * patterns are already resolved) into the matching files' contents, calling
 * each(file, text, len, ctx2) in name order. Returns 0 or a negative code. */
typedef int (*vd_conf_each_fn)(const char *file, const char *text, size_t len, void *ctx2);
typedef int (*vd_conf_include_fn)(void *ctx, const char *pattern, vd_conf_each_fn each, void *ctx2, vd_err *err);

/* Parse text (the content of file) in format into out. include may be NULL
 * (Include lines are then recorded as settings but not followed). */
int vd_conf_parse(int format, const char *file, const char *text, size_t len, vd_conf_include_fn include,
                  void *include_ctx, vd_settings *out, vd_err *err);
/* As vd_conf_parse, text being file's lines from line first_line on (a
 * piece of a file too large to parse whole); settings add to out. */
int vd_conf_parse_at(int format, const char *file, const char *text, size_t len, uint32_t first_line,
                     vd_conf_include_fn include, void *include_ctx, vd_settings *out, vd_err *err);

#endif
