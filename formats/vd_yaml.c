#define _GNU_SOURCE
/* The YAML reading that policies and fleet inventories share. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_io.h"
#include "formats/vd_yaml.h"

int yl_fail(ld *l, const yaml_node_t *n, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return vd_err_set(l->err, VD_E_INPUT, "%s:%zu:%zu: %s", l->file, n ? n->start_mark.line + 1 : 1,
                          n ? n->start_mark.column + 1 : 1, msg);
}

const char *yl_kind(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_SCALAR_NODE: return "a scalar";
        case YAML_SEQUENCE_NODE: return "a list";
        case YAML_MAPPING_NODE: return "a mapping";
        default: return "nothing";
        }
}

/* Every node is visited once: a second visit is an alias, which we refuse
 * (no billion laughs, and no surprises about what a rule shares). */
yaml_node_t *yl_get(ld *l, int id, const yaml_node_t *parent) {
        yaml_node_t *n = yaml_document_get_node(&l->doc, id);
        if (!n) {
                yl_fail(l, parent, "damaged document");
                return NULL;
        }
        size_t i = (size_t)(id - 1);
        if (i < l->n_nodes) {
                if (l->seen[i]) {
                        yl_fail(l, n, "aliases (*name) are not supported in a policy");
                        return NULL;
                }
                l->seen[i] = 1;
        }
        return n;
}

int yl_scalar(ld *l, const yaml_node_t *n, const char *what, const char **ret) {
        if (n->type != YAML_SCALAR_NODE)
                return yl_fail(l, n, "expected %s (a scalar), got %s", what, yl_kind(n));
        const char *s = (const char *)n->data.scalar.value;
        if (strlen(s) != n->data.scalar.length)
                return yl_fail(l, n, "expected %s, got a value with a NUL byte", what);
        *ret = s;
        return 0;
}

int yl_boolean(ld *l, const yaml_node_t *n, const char *what, bool *ret) {
        const char *s = NULL;
        int r = yl_scalar(l, n, what, &s);
        if (r < 0)
                return r;
        if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
                *ret = true;
        else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
                *ret = false;
        else
                return yl_fail(l, n, "expected %s: true or false, got '%s'", what, s);
        return 0;
}

int yl_severity(ld *l, const yaml_node_t *n, int *ret) {
        const char *s = NULL;
        int r = yl_scalar(l, n, "a severity", &s);
        if (r < 0)
                return r;
        *ret = vd_severity_from_name(s);
        if (*ret < 0)
                return yl_fail(l, n, "expected a severity (info, low, medium, high, critical), got '%s'", s);
        return 0;
}

/* A string or a list of strings. */

int yl_strings(ld *l, const yaml_node_t *n, const char *what, str_fn fn, void *ctx) {
        const char *s;
        if (n->type == YAML_SCALAR_NODE) {
                int r = yl_scalar(l, n, what, &s);
                return r < 0 ? r : fn(l, n, s, ctx);
        }
        if (n->type != YAML_SEQUENCE_NODE)
                return yl_fail(l, n, "expected %s or a list of them, got %s", what, yl_kind(n));
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
                yaml_node_t *c = yl_get(l, *it, n);
                if (!c)
                        return VD_E_INPUT;
                int r = yl_scalar(l, c, what, &s);
                if (r == 0)
                        r = fn(l, c, s, ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Iterate a mapping: fn(key string, key node, value node). */

int yl_mapping_range(ld *l, const yaml_node_t *n, yaml_node_pair_t *from, yaml_node_pair_t *to,
                         const char *what, map_fn fn, void *ctx) {
        for (yaml_node_pair_t *pr = from; pr < to; pr++) {
                yaml_node_t *kn = yl_get(l, pr->key, n), *vn = kn ? yl_get(l, pr->value, n) : NULL;
                if (!kn || !vn)
                        return VD_E_INPUT;
                const char *k;
                int r = yl_scalar(l, kn, "a key", &k);
                if (r == 0)
                        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pr; q++) {
                                yaml_node_t *pk = yaml_document_get_node(&l->doc, q->key);
                                if (pk && pk->type == YAML_SCALAR_NODE && !strcmp((char *)pk->data.scalar.value, k)) {
                                        r = yl_fail(l, kn, "duplicate key '%s' in %s", k, what);
                                        break;
                                }
                        }
                if (r == 0)
                        r = fn(l, k, kn, vn, ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

int yl_mapping(ld *l, const yaml_node_t *n, const char *what, map_fn fn, void *ctx) {
        if (n->type != YAML_MAPPING_NODE)
                return yl_fail(l, n, "expected %s (a mapping), got %s", what, yl_kind(n));
        return yl_mapping_range(l, n, n->data.mapping.pairs.start, n->data.mapping.pairs.top, what, fn, ctx);
}

int yl_unknown(ld *l, const yaml_node_t *kn, const char *k, const char *where, const char *expected) {
        return yl_fail(l, kn, "unknown key '%s' in %s (expected one of: %s)", k, where, expected);
}

/* "90d", "12w", "36h", "1800s": at most ten years */
int yl_duration(ld *l, const yaml_node_t *n, int64_t *ret) {
        const char *s;
        int r = yl_scalar(l, n, "a duration", &s);
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        int64_t unit = !strcmp(end, "s") ? 1 : !strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400
                     : !strcmp(end, "w") ? 7 * 86400 : 0;
        if (errno || end == s || v <= 0 || !unit || v > 3650LL * 86400 / unit)
                return yl_fail(l, n, "expected a duration such as 90d, 12w, 36h (at most ten years), got '%s'", s);
        *ret = (int64_t)v * unit;
        return 0;
}


/* A policy is a few levels deep. libyaml's document loader is not linear
 * in the nesting of flow collections (a 200 KB "[[[[..." took 44 s), so
 * the events are read once first and anything deeper is refused before a
 * document is built. */
#define YAML_DEPTH_MAX 64

static int yl_check_depth(const char *file, const char *text, size_t len, vd_err *err) {
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        int depth = 0, r = 0;
        for (;;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev))
                        break; /* the loader says what is wrong, with its position */
                yaml_event_type_t t = ev.type;
                if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
                        if (++depth > YAML_DEPTH_MAX)
                                r = vd_err_set(err, VD_E_INPUT,
                                               "%s:%zu:%zu: nested deeper than %d levels (a vmdrift file needs a few)",
                                               file, ev.start_mark.line + 1, ev.start_mark.column + 1,
                                               YAML_DEPTH_MAX);
                } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
                        depth--;
                yaml_event_delete(&ev);
                if (r < 0 || t == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&parser);
        return r;
}

int yl_open(ld *l, const char *text, size_t len, size_t max, const char *what, yaml_node_t **ret_root) {
        *ret_root = NULL;
        l->seen = NULL;
        l->n_nodes = 0;
        memset(&l->doc, 0, sizeof l->doc);
        if (len > max)
                return vd_err_set(l->err, VD_E_INPUT, "%s: larger than %zu bytes", l->file, max);
        int dr = yl_check_depth(l->file, text, len, l->err);
        if (dr < 0)
                return dr;
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &l->doc)) {
                int r = vd_err_set(l->err, VD_E_INPUT, "%s:%zu:%zu: %s%s%s", l->file, parser.problem_mark.line + 1,
                                   parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML",
                                   parser.context ? " " : "", parser.context ? parser.context : "");
                yaml_parser_delete(&parser);
                memset(&l->doc, 0, sizeof l->doc);
                return r;
        }
        /* A second document is a mistake (a stray '---'). */
        yaml_document_t extra;
        bool more = false;
        if (yaml_parser_load(&parser, &extra)) {
                more = yaml_document_get_root_node(&extra) != NULL;
                yaml_document_delete(&extra);
        }
        yaml_parser_delete(&parser);
        yaml_node_t *root = yaml_document_get_root_node(&l->doc);
        l->n_nodes = (size_t)(l->doc.nodes.top - l->doc.nodes.start);
        l->seen = calloc(l->n_nodes + 1, 1);
        if (!l->seen)
                return vd_err_set(l->err, VD_E_NOMEM, "out of memory");
        if (more)
                return vd_err_set(l->err, VD_E_INPUT, "%s: expected one YAML document, found more than one", l->file);
        if (!root)
                return vd_err_set(l->err, VD_E_INPUT, "%s:1:1: expected the %s (a mapping), got an empty file", l->file,
                                  what);
        if (root->type != YAML_MAPPING_NODE)
                return yl_fail(l, root, "expected the %s (a mapping), got %s", what, yl_kind(root));
        l->seen[0] = 1;
        for (yaml_node_pair_t *a = root->data.mapping.pairs.start; a < root->data.mapping.pairs.top; a++)
                for (yaml_node_pair_t *b = root->data.mapping.pairs.start; b < a; b++) {
                        yaml_node_t *ka = yaml_document_get_node(&l->doc, a->key);
                        yaml_node_t *kb = yaml_document_get_node(&l->doc, b->key);
                        if (ka && kb && ka->type == YAML_SCALAR_NODE && kb->type == YAML_SCALAR_NODE &&
                            !strcmp((char *)ka->data.scalar.value, (char *)kb->data.scalar.value))
                                return yl_fail(l, ka, "duplicate key '%s' in the %s", (char *)ka->data.scalar.value, what);
                }
        *ret_root = root;
        return 0;
}

void yl_close(ld *l) {
        free(l->seen);
        l->seen = NULL;
        yaml_document_delete(&l->doc);
}

int yl_read_file(const char *path, size_t max, const char *what, vd_buf *b, vd_err *err) {
        vd_buf_init(b, max + 1); /* the caller releases it, on failure too */
        char shown[4200];
        snprintf(shown, sizeof shown, "%s '%s'", what, path);
        int r = vd_read_path(path, O_NONBLOCK, max, VD_E_INPUT, shown, b, NULL, err);
        if (r < 0)
                err->code = r = VD_E_INPUT; /* the operator's file: exit 2 whatever failed */
        return r;
}
