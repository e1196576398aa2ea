/* The YAML reading that policies and fleet inventories share: one bounded
 * document, no aliases, every error "file:line:column: what was expected",
 * unknown and duplicate keys refused. The loaders (policy/, the fleet
 * inventory) keep their own state in ld.user.
 */
#ifndef VD_YAML_H
#define VD_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "model/vd_event.h"

typedef struct ld {
        const char *file;
        yaml_document_t doc;
        vd_err *err;
        void *user; /* the loader's */
        unsigned char *seen;
        size_t n_nodes;
} ld;

/* Set l's error at node n (NULL: 1:1) to VD_E_INPUT; returns VD_E_INPUT. */
int yl_fail(ld *l, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *yl_kind(const yaml_node_t *n); /* "a scalar", "a list", "a mapping" */
/* Node id, once: a second visit is an alias, refused. */
yaml_node_t *yl_get(ld *l, int id, const yaml_node_t *parent);
int yl_scalar(ld *l, const yaml_node_t *n, const char *what, const char **ret);
int yl_boolean(ld *l, const yaml_node_t *n, const char *what, bool *ret);
int yl_severity(ld *l, const yaml_node_t *n, int *ret);
/* "90d", "12w", "36h", "1800s": at most ten years, in seconds. */
int yl_duration(ld *l, const yaml_node_t *n, int64_t *ret);

/* A string or a list of strings: fn for each. */
typedef int (*str_fn)(ld *l, const yaml_node_t *n, const char *s, void *ctx);
int yl_strings(ld *l, const yaml_node_t *n, const char *what, str_fn fn, void *ctx);

/* A mapping: fn(key, key node, value node) for each pair, duplicates refused. */
typedef int (*map_fn)(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx);
int yl_mapping(ld *l, const yaml_node_t *n, const char *what, map_fn fn, void *ctx);
int yl_mapping_range(ld *l, const yaml_node_t *n, yaml_node_pair_t *from, yaml_node_pair_t *to, const char *what,
                     map_fn fn, void *ctx);
int yl_unknown(ld *l, const yaml_node_t *kn, const char *k, const char *where, const char *expected);

/* Parse text (at most max bytes) into l->doc: one document whose root is a
 * mapping (what: "policy", "inventory"), nested at most 64 deep, no
 * duplicate top-level keys. *ret_root: the root (already visited). l->file,
 * l->err must be set; release with yl_close, on failure too. */
int yl_open(ld *l, const char *text, size_t len, size_t max, const char *what, yaml_node_t **ret_root);
void yl_close(ld *l);

/* Read path (at most max bytes) into b (initialised here: release it, on
 * failure too); errors "cannot open WHAT 'path'". */
int yl_read_file(const char *path, size_t max, const char *what, vd_buf *b, vd_err *err);

#endif
