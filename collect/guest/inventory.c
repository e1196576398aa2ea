/* The guest's inventory, read while it is mounted at /: OS facts from
 * inspection, mounts with their file systems' UUIDs and types (the layout a
 * later scan may mount from), the digests that layout is checked against,
 * and installed packages (dpkg's status file through our own parser, else
 * inspection's list). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_dpkg.h"

#include "guest_int.h"

/* The files a layout is checked against, and where each package format
 * keeps its database: a change to any means inspecting again. */
static const char *const pkgdb_paths[] = {"/var/lib/dpkg/status", "/var/lib/rpm/rpmdb.sqlite",
                                          "/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
                                          "/lib/apk/db/installed", NULL};

/* ---- inventory: OS facts and packages ---- */

static int add_fact_str(vd_scan *out, const char *key, char *v) {
        int r = v ? vd_scan_add_fact(out, key, v) : 0;
        free(v);
        return r;
}

/* The package database a later scan checks before it takes the
 * baseline's packages: the first of pkgdb_paths, a Windows guest's
 * SOFTWARE hive (its Uninstall keys), or "none" (a scan then checks that
 * none of pkgdb_paths appeared). Never absent: a layout without it would
 * let a scan take the baseline's packages unchecked. */
static int layout_digests(struct guest_src *s, vd_scan *out) {
        char *f = vdg_file_sha256(s->g, "/etc/fstab");
        int r = vd_scan_add_fact(out, "layout.fstab", f ? f : "none");
        free(f);
        char *hive = NULL;
        const char *type = vd_scan_fact(out, "os.type"); /* inspection's, added before */
        if (s->root && type && strcmp(type, "windows") == 0)
                hive = guestfs_inspect_get_windows_software_hive(s->g, s->root);
        bool found = false;
        for (size_t i = 0; !found && !r && (pkgdb_paths[i] || hive); i++) {
                const char *p = pkgdb_paths[i] ? pkgdb_paths[i] : hive;
                char *h = vdg_file_sha256(s->g, p);
                if (h) {
                        char v[600];
                        snprintf(v, sizeof v, "%s %s", p, h);
                        r = vd_scan_add_fact(out, "layout.pkgdb", v);
                        free(h);
                        found = true;
                }
                if (!pkgdb_paths[i])
                        break;
        }
        free(hive);
        if (!r && !found)
                r = vd_scan_add_fact(out, "layout.pkgdb", "none");
        return r;
}

/* 1 if none of the package databases a layout knows is in the guest
 * (mounted beneath prefix). */
int vdg_no_pkgdb(struct guest_src *s) {
        for (size_t i = 0; pkgdb_paths[i]; i++) {
                char at[600];
                snprintf(at, sizeof at, "%s%s", s->prefix, pkgdb_paths[i]);
                char *h = vdg_file_sha256(s->g, at);
                free(h);
                if (h)
                        return 0;
        }
        return 1;
}

/* A Debian guest's packages from its dpkg status file, read by our own
 * parser: inspection's list has no source packages (advisories name
 * those) and drops a last stanza without its blank line. 1: read; 0: not
 * (no regular file there, or it cannot be read: inspection's list then). */
static int dpkg_packages(struct guest_src *s, vd_scan *out) {
        struct guestfs_statns *st = guestfs_lstatns(s->g, "/var/lib/dpkg/status");
        /* lstat: the last component must be the file itself; a symlink or
         * a device node there could stream without end */
        bool reg = st && (st->st_mode & 0170000) == 0100000 && st->st_size >= 0 &&
                   (uint64_t)st->st_size <= VD_READ_FILE_MAX;
        if (st)
                guestfs_free_statns(st);
        if (!reg)
                return 0;
        char *text = NULL;
        size_t len = 0, skipped = 0;
        vd_err e = VD_ERR_INIT;
        if (vdg_download_bounded(s, "/var/lib/dpkg/status", "/var/lib/dpkg/status", VD_READ_FILE_MAX, &text, &len, &e) <
            0) {
                vd_scan_warn(out, NULL, 0, "%s (inspection's package list used instead)", e.msg);
                return 0;
        }
        int r = vd_dpkg_parse(text, len, out, &skipped);
        free(text);
        if (r == 0 && skipped)
                r = vd_scan_warn(out, "/var/lib/dpkg/status", 20, "%zu package stanzas are malformed or over the "
                                 "limit (%d packages): not recorded", skipped, VD_DPKG_PACKAGES_MAX);
        return r < 0 ? r : 1;
}

/* A value of the SOFTWARE hive's Windows NT\CurrentVersion key as text
 * (a string, or a DWORD in decimal); NULL if absent or of another type. */
static char *cv_value(guestfs_h *g, int64_t node, const char *name) {
        int64_t v = guestfs_hivex_node_get_value(g, node, name);
        if (v <= 0)
                return NULL;
        size_t n = 0;
        char *raw = guestfs_hivex_value_value(g, v, &n);
        int64_t type = guestfs_hivex_value_type(g, v);
        char *out = NULL;
        if (raw && type == 4 && n == 4) { /* REG_DWORD */
                unsigned d = (unsigned char)raw[0] | (unsigned char)raw[1] << 8 | (unsigned char)raw[2] << 16 |
                             (unsigned)(unsigned char)raw[3] << 24;
                if (asprintf(&out, "%u", d) < 0)
                        out = NULL;
        } else if (raw && (type == 1 || type == 2)) {
                out = guestfs_hivex_value_string(g, v);
        }
        free(raw);
        /* a build is digits: anything else is no version to order */
        if (out && (!*out || strlen(out) > 16 || out[strspn(out, "0123456789")])) {
                free(out);
                out = NULL;
        }
        return out;
}

/* The host name a Windows guest gives itself (SYSTEM: the current control
 * set's Services\Tcpip\Parameters\Hostname), the hive at path (as the
 * appliance sees it); NULL if it cannot be read. */
char *vdg_windows_hostname(struct guest_src *s, const char *path) {
        guestfs_h *g = s->g;
        if (guestfs_hivex_open(g, path, -1) < 0)
                return NULL;
        int64_t root = guestfs_hivex_root(g), sel = root > 0 ? guestfs_hivex_node_get_child(g, root, "Select") : 0;
        char *cur = sel > 0 ? cv_value(g, sel, "Current") : NULL;
        char set[32];
        snprintf(set, sizeof set, "ControlSet%03d", cur ? atoi(cur) % 1000 : 1);
        free(cur);
        const char *p[] = {set, "Services", "Tcpip", "Parameters"};
        int64_t node = root;
        for (size_t i = 0; i < 4 && node > 0; i++)
                node = guestfs_hivex_node_get_child(g, node, p[i]);
        int64_t v = node > 0 ? guestfs_hivex_node_get_value(g, node, "Hostname") : 0;
        char *name = v > 0 ? guestfs_hivex_value_string(g, v) : NULL;
        guestfs_hivex_close(g);
        if (name && (strlen(name) > 255 || !*name)) {
                free(name);
                name = NULL;
        }
        return name;
}

/* A Windows guest's OS build (MAJOR.MINOR.BUILD.UBR, "10.0.20348.2700") as
 * a package, "Microsoft Windows", so that a dormant clone shows the
 * cumulative updates it missed as behind; and as the fact os.build. Read
 * through the appliance's hivex, which inspection uses too. */

/* The letter Windows gives the system root's file system (inspection reads
 * it from MountedDevices): os.drive, when it gives one. */
static int add_drive_fact(guestfs_h *g, const char *root, vd_scan *out) {
        char **m = guestfs_inspect_get_drive_mappings(g, root);
        int r = 0;
        for (size_t i = 0; m && m[i] && m[i + 1]; i += 2)
                if (strcmp(m[i + 1], root) == 0 && strlen(m[i]) == 1 &&
                    ((m[i][0] >= 'A' && m[i][0] <= 'Z') || (m[i][0] >= 'a' && m[i][0] <= 'z'))) {
                        char d[2] = {(char)(m[i][0] & ~0x20), '\0'};
                        r = vd_scan_add_fact(out, "os.drive", d);
                        break;
                }
        for (size_t i = 0; m && m[i]; i++)
                free(m[i]);
        free(m);
        return r;
}
static int windows_build(struct guest_src *s, vd_scan *out) {
        guestfs_h *g = s->g;
        char *hive = guestfs_inspect_get_windows_software_hive(g, s->root);
        if (!hive || guestfs_hivex_open(g, hive, -1) < 0) {
                free(hive);
                return vd_scan_warn(out, NULL, 0, "the Windows build could not be read from the SOFTWARE hive: %s",
                                    guestfs_last_error(g));
        }
        free(hive);
        int64_t node = guestfs_hivex_root(g);
        const char *path[] = {"Microsoft", "Windows NT", "CurrentVersion"};
        for (size_t i = 0; i < 3 && node > 0; i++)
                node = guestfs_hivex_node_get_child(g, node, path[i]);
        char *maj = node > 0 ? cv_value(g, node, "CurrentMajorVersionNumber") : NULL,
             *min = node > 0 ? cv_value(g, node, "CurrentMinorVersionNumber") : NULL,
             *build = node > 0 ? cv_value(g, node, "CurrentBuildNumber") : NULL,
             *ubr = node > 0 ? cv_value(g, node, "UBR") : NULL;
        guestfs_hivex_close(g);
        int r = 0;
        if (build) {
                char v[80];
                snprintf(v, sizeof v, "%s.%s.%s.%s", maj ? maj : "0", min ? min : "0", build, ubr ? ubr : "0");
                r = vd_scan_add_fact(out, "os.build", v);
                if (!r)
                        r = vd_scan_add_package(out, "Microsoft Windows", 0, v, NULL, NULL);
        }
        free(maj);
        free(min);
        free(build);
        free(ubr);
        return r;
}

int vdg_collect_inventory(struct guest_src *s, vd_err *err) {
        vd_scan *out = &s->inv;
        guestfs_h *g = s->g;
        int r = 0;
        s->have_inv = true;
        if (!s->root) {
                r = vd_scan_add_fact(out, "os.type", "none");
        } else {
                const char *root = s->root;
                char *type = guestfs_inspect_get_type(g, root);
                bool windows = type && strcmp(type, "windows") == 0;
                r = add_fact_str(out, "os.type", type);
                if (!r)
                        r = add_fact_str(out, "os.distro", guestfs_inspect_get_distro(g, root));
                if (!r)
                        r = add_fact_str(out, "os.product", guestfs_inspect_get_product_name(g, root));
                if (!r)
                        r = add_fact_str(out, "os.hostname", guestfs_inspect_get_hostname(g, root));
                if (!r)
                        r = add_fact_str(out, "os.arch", guestfs_inspect_get_arch(g, root));
                if (!r) {
                        /* Windows: the Uninstall keys inspection lists, in their own version order */
                        char *pf = guestfs_inspect_get_package_format(g, root);
                        if (windows && pf && strcmp(pf, "unknown") == 0) {
                                free(pf);
                                pf = strdup("windows");
                        }
                        r = add_fact_str(out, "os.package_format", pf);
                }
                if (!r) {
                        char v[32];
                        snprintf(v, sizeof v, "%d.%d", guestfs_inspect_get_major_version(g, root),
                                 guestfs_inspect_get_minor_version(g, root));
                        r = vd_scan_add_fact(out, "os.version", v);
                }
                if (!r)
                        r = vd_scan_add_fact(out, "os.root", root);
                if (!r && windows)
                        r = add_fact_str(out, "os.systemroot", guestfs_inspect_get_windows_systemroot(g, root));
                if (!r && windows)
                        r = add_drive_fact(g, root, out);
        }
        for (size_t i = 0; s->formats && i < s->n_images && !r; i++) {
                char key[64];
                snprintf(key, sizeof key, "image.%zu.format", i);
                r = vd_scan_add_fact(out, key, s->formats[i]);
        }
        for (size_t i = 0; i < s->n_mnts && !r; i++) {
                char key[512];
                snprintf(key, sizeof key, "mount.%s", s->mnts[i].mp);
                char *fstype = guestfs_vfs_type(g, s->mnts[i].dev);
                char val[512];
                snprintf(val, sizeof val, "%s %s", s->mnts[i].dev, fstype ? fstype : "?");
                r = vd_scan_add_fact(out, key, val);
                /* The layout a scan can mount from without inspecting: the
                 * file system by UUID, and its type. */
                char *uuid = s->root ? guestfs_vfs_uuid(g, s->mnts[i].dev) : NULL;
                if (!r && uuid && *uuid && fstype) {
                        snprintf(key, sizeof key, "layout.mount.%s", s->mnts[i].mp);
                        snprintf(val, sizeof val, "%s %s", uuid, fstype);
                        r = vd_scan_add_fact(out, key, val);
                }
                free(uuid);
                free(fstype);
        }
        if (!r && s->root)
                r = layout_digests(s, out);
        if (!r && s->root) {
                char *fmt = guestfs_inspect_get_package_format(g, s->root);
                if (fmt && strcmp(fmt, "deb") == 0 && (r = dpkg_packages(s, out)) > 0) {
                        out->packages_known = true;
                        r = 0;
                        free(fmt);
                        goto counted;
                }
                free(fmt);
        }
        if (!r && s->root) {
                struct guestfs_application2_list *apps = guestfs_inspect_list_applications2(g, s->root);
                if (!apps) {
                        vd_scan_warn(out, NULL, 0, "cannot list installed packages: %s", guestfs_last_error(g));
                } else {
                        for (uint32_t i = 0; i < apps->len && !r; i++) {
                                const struct guestfs_application2 *a = &apps->val[i];
                                r = vd_scan_add_package(out, a->app2_name, a->app2_epoch, a->app2_version,
                                                        a->app2_release, a->app2_arch);
                        }
                        guestfs_free_application2_list(apps);
                        out->packages_known = true;
                }
                const char *type = vd_scan_fact(out, "os.type");
                if (!r && type && strcmp(type, "windows") == 0)
                        r = windows_build(s, out);
        }
counted:
        if (!r) {
                char v[32];
                snprintf(v, sizeof v, "%zu", out->n_packages);
                r = vd_scan_add_fact(out, "packages.count", v);
        }
        vd_scan_sort_inventory(out);
        if (r < 0)
                return vd_err_set(err, r, "out of memory");
        return 0;
}

int vd_source_inventory(vd_source *src, vd_scan *out, vd_err *err) {
        if (strcmp(src->ops->kind, "image") != 0 && strcmp(src->ops->kind, "domain") != 0)
                return 0;
        struct guest_src *s = src->priv;
        int r = 0;
        for (size_t i = 0; i < s->inv.n_facts && r == 0; i++)
                r = vd_scan_add_fact(out, s->inv.facts[i].key, s->inv.facts[i].value);
        for (size_t i = 0; i < s->inv.n_packages && r == 0; i++) {
                r = vd_scan_copy_package(out, &s->inv.packages[i]);
        }
        for (size_t i = 0; i < s->inv.n_warnings && r == 0; i++)
                r = vd_scan_warn(out, s->inv.warnings[i].path, s->inv.warnings[i].path_len, "%s",
                                 s->inv.warnings[i].msg);
        out->packages_known = s->inv.packages_known;
        vd_scan_sort_inventory(out);
        if (r < 0)
                return vd_err_set(err, r, "out of memory");
        return 0;
}
