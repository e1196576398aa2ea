#define _GNU_SOURCE
/* The fleet inventory loader (docs/fleet.md). */
#include "fleet/vd_inventory.h"

#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"
#include "formats/vd_yaml.h"

#define INVENTORY_FILE_MAX ((size_t)4 << 20)
#define LIST_MAX 1000

bool vd_guest_name_ok(const char *name) {
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > 128 || !vd_utf8_valid(name, n) || name[0] == '.' || name[0] == '_')
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/')
                        return false;
        return true;
}

/* One guest entry as written, before defaults and globs. */
typedef struct raw_guest {
        vd_inv_guest g;
        char *glob;
        const yaml_node_t *node, *name_node;
} raw_guest;

typedef struct inv_ctx {
        vd_inventory *inv;
        char *dir; /* the inventory's directory, for relative paths */
        raw_guest *raw;
        size_t n_raw, raw_alloc;
        vd_inv_guest defaults;
        bool have_defaults;
        size_t notes_alloc;
} inv_ctx;

static char *abs_path(inv_ctx *c, const char *p) {
        if (p[0] == '/' || !c->dir)
                return strdup(p);
        char *r = NULL;
        return asprintf(&r, "%s/%s", c->dir, p) < 0 ? NULL : r;
}

static int oom(ld *l) { return vd_err_set(l->err, VD_E_NOMEM, "out of memory"); }

/* A path value into *dst (absolute). */
static int path_value(ld *l, const yaml_node_t *n, const char *what, char **dst) {
        inv_ctx *c = l->user;
        const char *s;
        int r = yl_scalar(l, n, what, &s);
        if (r < 0)
                return r;
        if (!*s || strlen(s) > 4096)
                return yl_fail(l, n, "expected %s (a path of 1-4096 bytes)", what);
        free(*dst);
        return (*dst = abs_path(c, s)) ? 0 : oom(l);
}

typedef struct list_ctx {
        char ***v;
        size_t *n;
        bool paths;
        const char *what;
} list_ctx;

static int list_cb(ld *l, const yaml_node_t *n, const char *s, void *ctx) {
        list_ctx *lc = ctx;
        if (!*s || strlen(s) > 4096)
                return yl_fail(l, n, "expected %s (1-4096 bytes)", lc->what);
        if (*lc->n >= LIST_MAX)
                return yl_fail(l, n, "more than %d entries in one list", LIST_MAX);
        char **nv = realloc(*lc->v, (*lc->n + 1) * sizeof *nv);
        if (!nv)
                return oom(l);
        *lc->v = nv;
        char *d = lc->paths ? abs_path(l->user, s) : strdup(s);
        if (!d)
                return oom(l);
        nv[(*lc->n)++] = d;
        return 0;
}

static int list_value(ld *l, const yaml_node_t *n, const char *what, bool paths, char ***v, size_t *cnt) {
        list_ctx lc = {v, cnt, paths, what};
        return yl_strings(l, n, what, list_cb, &lc);
}

/* Keys a guest and the defaults share. 1: not one of them. */
static int common_key(ld *l, const char *k, const yaml_node_t *vn, vd_inv_guest *g) {
        if (!strcmp(k, "baseline"))
                return path_value(l, vn, "a baseline file", &g->baseline);
        if (!strcmp(k, "policy"))
                return path_value(l, vn, "a policy file", &g->policy);
        if (!strcmp(k, "verify_key"))
                return path_value(l, vn, "a public key file", &g->verify_key);
        if (!strcmp(k, "packages_from"))
                return path_value(l, vn, "a baseline file", &g->packages_from);
        if (!strcmp(k, "advisories"))
                return path_value(l, vn, "an advisories file or directory", &g->advisories);
        if (!strcmp(k, "format")) {
                const char *s;
                int r = yl_scalar(l, vn, "an image format (raw, qcow2, vmdk, ...)", &s);
                if (r < 0)
                        return r;
                size_t n = strlen(s);
                bool ok = n > 0 && n < 32;
                for (size_t i = 0; ok && i < n; i++)
                        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
                if (!ok)
                        return yl_fail(l, vn, "expected an image format (raw, qcow2, vmdk, ...), not '%s'", s);
                free(g->format);
                return (g->format = strdup(s)) ? 0 : oom(l);
        }
        if (!strcmp(k, "share")) {
                bool b;
                int r = yl_boolean(l, vn, "true or false (may this guest share an appliance?)", &b);
                if (r < 0)
                        return r;
                g->share = b ? VD_SHARE_YES : VD_SHARE_NO;
                return 0;
        }
        if (!strcmp(k, "connect")) {
                const char *s;
                int r = yl_scalar(l, vn, "a libvirt URI", &s);
                if (r < 0)
                        return r;
                free(g->connect);
                return (g->connect = strdup(s)) ? 0 : oom(l);
        }
        return 1;
}

#define COMMON_KEYS "baseline, policy, verify_key, packages_from, advisories, connect, format, share"

static int defaults_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        (void)ctx;
        inv_ctx *c = l->user;
        int r = common_key(l, k, vn, &c->defaults);
        return r == 1 ? yl_unknown(l, kn, k, "defaults", COMMON_KEYS) : r;
}

static int guest_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        raw_guest *rg = ctx;
        vd_inv_guest *g = &rg->g;
        int r = common_key(l, k, vn, g);
        if (r != 1)
                return r;
        const char *s;
        if (!strcmp(k, "name")) {
                if ((r = yl_scalar(l, vn, "a guest name", &s)) < 0)
                        return r;
                rg->name_node = vn;
                return (g->name = strdup(s)) ? 0 : oom(l);
        }
        if (!strcmp(k, "images")) {
                if (vn->type == YAML_SEQUENCE_NODE && vn->data.sequence.items.start == vn->data.sequence.items.top)
                        return yl_fail(l, vn, "expected at least one image");
                return list_value(l, vn, "an image file", true, &g->images, &g->n_images);
        }
        if (!strcmp(k, "images_glob")) {
                if ((r = path_value(l, vn, "an image glob", &rg->glob)) < 0)
                        return r;
                if (!strpbrk(rg->glob, "*?["))
                        return yl_fail(l, vn, "expected a glob with '*', '?' or '[' (for one image, use images)");
                return 0;
        }
        if (!strcmp(k, "domain")) {
                if ((r = yl_scalar(l, vn, "a libvirt domain name", &s)) < 0)
                        return r;
                if (!*s || strlen(s) > 256)
                        return yl_fail(l, vn, "expected a libvirt domain name (1-256 bytes)");
                return (g->domain = strdup(s)) ? 0 : oom(l);
        }
        if (!strcmp(k, "dir"))
                return path_value(l, vn, "a directory", &g->dir);
        return yl_unknown(l, kn, k, "a guest",
                          "name, images, images_glob, domain, dir, " COMMON_KEYS);
}

static void guest_release(vd_inv_guest *g) {
        free(g->name);
        vd_strv_free(g->images, g->n_images);
        free(g->domain);
        free(g->connect);
        free(g->dir);
        free(g->baseline);
        free(g->policy);
        free(g->verify_key);
        free(g->packages_from);
        free(g->advisories);
        free(g->format);
        memset(g, 0, sizeof *g);
}

static int guests_node(ld *l, const yaml_node_t *n) {
        inv_ctx *c = l->user;
        if (n->type != YAML_SEQUENCE_NODE)
                return yl_fail(l, n, "expected the guests (a list of mappings), got %s", yl_kind(n));
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
                yaml_node_t *gn = yl_get(l, *it, n);
                if (!gn)
                        return VD_E_INPUT;
                if (c->n_raw >= VD_FLEET_GUESTS_MAX)
                        return yl_fail(l, gn, "more than %d guests", VD_FLEET_GUESTS_MAX);
                if (vd_array_grow(&c->raw, &c->raw_alloc, c->n_raw, sizeof *c->raw, 16) < 0)
                        return oom(l);
                raw_guest *rg = &c->raw[c->n_raw++];
                memset(rg, 0, sizeof *rg);
                rg->node = gn;
                rg->g.line = gn->start_mark.line + 1;
                int r = yl_mapping(l, gn, "a guest", guest_cb, rg);
                if (r < 0)
                        return r;
                if (!rg->g.name)
                        return yl_fail(l, gn, "a guest without a name");
                int kinds = (rg->g.n_images > 0) + (rg->glob != NULL) + (rg->g.domain != NULL) + (rg->g.dir != NULL);
                if (kinds != 1)
                        return yl_fail(l, gn, "guest '%s': expected exactly one of images, images_glob, domain, dir",
                                       rg->g.name);
                if (rg->g.connect && !rg->g.domain)
                        return yl_fail(l, gn, "guest '%s': connect is for a domain", rg->g.name);
                if (rg->glob) {
                        const char *star = strchr(rg->g.name, '*');
                        if (!star || strchr(star + 1, '*'))
                                return yl_fail(l, rg->name_node, "guest '%s': a guest with images_glob needs one '*' in "
                                                                 "its name (it becomes each image's name)",
                                               rg->g.name);
                } else if (!vd_guest_name_ok(rg->g.name))
                        return yl_fail(l, rg->name_node, "'%s' is not a guest name (1-128 bytes of UTF-8, no '/', no "
                                                         "control characters)",
                                       rg->g.name);
        }
        return 0;
}

static int top_cb(ld *l, const char *k, const yaml_node_t *kn, const yaml_node_t *vn, void *ctx) {
        (void)ctx;
        inv_ctx *c = l->user;
        vd_inventory *inv = c->inv;
        if (!strcmp(k, "version")) {
                const char *s;
                int r = yl_scalar(l, vn, "the inventory version", &s);
                if (r == 0 && strcmp(s, "1") != 0)
                        return yl_fail(l, vn, "expected version 1, got '%s'", s);
                return r;
        }
        if (!strcmp(k, "defaults")) {
                c->have_defaults = true;
                return yl_mapping(l, vn, "the defaults", defaults_cb, NULL);
        }
        if (!strcmp(k, "guests"))
                return guests_node(l, vn);
        if (!strcmp(k, "storage"))
                return list_value(l, vn, "a storage directory", true, &inv->storage, &inv->n_storage);
        if (!strcmp(k, "libvirt"))
                return list_value(l, vn, "a libvirt URI", false, &inv->libvirt, &inv->n_libvirt);
        if (!strcmp(k, "templates"))
                return list_value(l, vn, "a template image", true, &inv->templates, &inv->n_templates);
        if (!strcmp(k, "stale_after"))
                return yl_duration(l, vn, &inv->stale_after_s);
        return yl_unknown(l, kn, k, "the inventory", "version, defaults, guests, storage, libvirt, templates, stale_after");
}

static int inherit(char **dst, const char *def) {
        if (*dst || !def)
                return 0;
        return (*dst = strdup(def)) ? 0 : VD_E_NOMEM;
}

/* The final guest list: defaults applied, globs expanded, names unique. */
static int finish(ld *l, inv_ctx *c) {
        vd_inventory *inv = c->inv;
        size_t alloc = 0;
        for (size_t i = 0; i < c->n_raw; i++) {
                raw_guest *rg = &c->raw[i];
                vd_inv_guest *d = &c->defaults;
                if (inherit(&rg->g.baseline, d->baseline) || inherit(&rg->g.policy, d->policy) ||
                    inherit(&rg->g.verify_key, d->verify_key) || inherit(&rg->g.packages_from, d->packages_from) ||
                    inherit(&rg->g.advisories, d->advisories) || inherit(&rg->g.format, d->format) ||
                    (rg->g.domain && inherit(&rg->g.connect, d->connect)))
                        return oom(l);
                if (rg->g.share == VD_SHARE_DEFAULT)
                        rg->g.share = d->share;
                if (!rg->g.baseline)
                        return yl_fail(l, rg->node, "guest '%s' has no baseline (give one, or one in defaults)",
                                       rg->g.name);
                size_t n_img = 1;
                glob_t gl = {0};
                if (rg->glob) {
                        int gr = glob(rg->glob, 0, NULL, &gl); /* sorted */
                        if (gr != 0 && gr != GLOB_NOMATCH) {
                                globfree(&gl);
                                return yl_fail(l, rg->node, "guest '%s': cannot expand '%s'", rg->g.name, rg->glob);
                        }
                        n_img = gr == GLOB_NOMATCH ? 0 : gl.gl_pathc;
                        char *note = NULL;
                        if (n_img == 0 &&
                            (asprintf(&note, "%s:%zu: guest '%s': images_glob '%s' matches no image now", l->file,
                                      rg->g.line, rg->g.name, rg->glob) < 0 ||
                             vd_array_grow(&inv->notes, &c->notes_alloc, inv->n_notes, sizeof *inv->notes, 4) < 0)) {
                                free(note);
                                globfree(&gl);
                                return oom(l);
                        }
                        if (note)
                                inv->notes[inv->n_notes++] = note;
                }
                for (size_t k = 0; k < n_img; k++) {
                        if (inv->n_guests >= VD_FLEET_GUESTS_MAX) {
                                globfree(&gl);
                                return yl_fail(l, rg->node, "more than %d guests", VD_FLEET_GUESTS_MAX);
                        }
                        if (vd_array_grow(&inv->guests, &alloc, inv->n_guests, sizeof *inv->guests, 16) < 0) {
                                globfree(&gl);
                                return oom(l);
                        }
                        vd_inv_guest *g = &inv->guests[inv->n_guests];
                        if (!rg->glob) {
                                *g = rg->g; /* transferred */
                                memset(&rg->g, 0, sizeof rg->g);
                                inv->n_guests++;
                                break;
                        }
                        memset(g, 0, sizeof *g);
                        const char *img = gl.gl_pathv[k], *base = strrchr(img, '/');
                        base = base ? base + 1 : img;
                        const char *dot = strrchr(base, '.');
                        int stem = (int)(dot && dot != base ? (size_t)(dot - base) : strlen(base));
                        const char *star = strchr(rg->g.name, '*');
                        int ok = asprintf(&g->name, "%.*s%.*s%s", (int)(star - rg->g.name), rg->g.name, stem, base,
                                          star + 1) >= 0;
                        g->images = ok ? calloc(1, sizeof *g->images) : NULL;
                        if (!ok || !g->images || !(g->images[0] = strdup(img))) {
                                guest_release(g);
                                globfree(&gl);
                                return oom(l);
                        }
                        g->n_images = 1;
                        g->line = rg->g.line;
                        g->from_glob = true;
                        g->share = rg->g.share;
                        inv->n_guests++;
                        if (inherit(&g->baseline, rg->g.baseline) || inherit(&g->policy, rg->g.policy) ||
                            inherit(&g->verify_key, rg->g.verify_key) ||
                            inherit(&g->packages_from, rg->g.packages_from) ||
                            inherit(&g->advisories, rg->g.advisories) || inherit(&g->format, rg->g.format)) {
                                globfree(&gl);
                                return oom(l);
                        }
                        if (!vd_guest_name_ok(g->name)) {
                                globfree(&gl);
                                return yl_fail(l, rg->node, "image '%s' gives the guest name '%s', which is not one",
                                               img, g->name);
                        }
                }
                globfree(&gl);
        }
        for (size_t i = 0; i < inv->n_guests; i++)
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(inv->guests[i].name, inv->guests[j].name))
                                return vd_err_set(l->err, VD_E_INPUT,
                                                  "%s:%zu:1: guest name '%s' is already used at line %zu", l->file,
                                                  inv->guests[i].line, inv->guests[i].name, inv->guests[j].line);
        return 0;
}

int vd_inventory_parse(const char *file, const char *text, size_t len, vd_inventory **ret, vd_err *err) {
        *ret = NULL;
        inv_ctx c;
        memset(&c, 0, sizeof c);
        ld l = {.file = file, .err = err, .user = &c};
        c.inv = calloc(1, sizeof *c.inv);
        char *fdup = strdup(file);
        int r = 0;
        if (!c.inv || !fdup || !(c.inv->file = strdup(file)))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        else {
                c.inv->stale_after_s = 7 * 86400;
                /* relative paths are the inventory's directory's, whatever
                 * the current one is when a timer runs us */
                const char *d = dirname(fdup);
                c.dir = realpath(d, NULL);
                if (!c.dir)
                        c.dir = strdup(d);
        }
        yaml_node_t *root = NULL;
        if (r == 0)
                r = yl_open(&l, text, len, INVENTORY_FILE_MAX, "inventory", &root);
        /* defaults first: guests inherit from them whatever the order */
        if (r == 0)
                r = yl_mapping(&l, root, "the inventory", top_cb, NULL);
        if (r == 0 && c.n_raw == 0)
                r = yl_fail(&l, root, "expected guests (a list of at least one guest)");
        if (r == 0)
                r = finish(&l, &c);
        yl_close(&l);
        for (size_t i = 0; i < c.n_raw; i++) {
                guest_release(&c.raw[i].g);
                free(c.raw[i].glob);
        }
        free(c.raw);
        guest_release(&c.defaults);
        free(c.dir);
        free(fdup);
        if (r < 0) {
                vd_inventory_free(c.inv);
                return r;
        }
        *ret = c.inv;
        return 0;
}

int vd_inventory_load(const char *path, vd_inventory **ret, vd_err *err) {
        vd_buf b;
        int r = yl_read_file(path, INVENTORY_FILE_MAX, "inventory", &b, err);
        if (r == 0)
                r = vd_inventory_parse(path, b.buf ? b.buf : "", b.len, ret, err);
        vd_buf_release(&b);
        return r;
}

void vd_inventory_free(vd_inventory *inv) {
        if (!inv)
                return;
        for (size_t i = 0; i < inv->n_guests; i++)
                guest_release(&inv->guests[i]);
        free(inv->guests);
        vd_strv_free(inv->storage, inv->n_storage);
        vd_strv_free(inv->libvirt, inv->n_libvirt);
        vd_strv_free(inv->templates, inv->n_templates);
        vd_strv_free(inv->notes, inv->n_notes);
        free(inv->file);
        free(inv);
}
