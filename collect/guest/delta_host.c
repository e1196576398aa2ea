/* The delta scan's host half (README "A linked clone costs what it wrote"):
 * whether a guest may be scanned in delta mode (its template unchanged and in
 * every disk's backing chain, ext4 geometry recorded), the changed ranges
 * sent to the walker, the baseline's entries sent as its reference, and the
 * baseline's hashes taken for what the walker proved unchanged. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/vd_imageid.h"
#include "collect/vd_imageinfo.h"
#include "collect/vd_manifest.h"
#include "common/vd_io.h"
#include "common/vd_log.h"

#include "guest_int.h"

/* ---- delta scan (vd_delta.h): the host half ---- */

/* Printable ASCII, 1 to max bytes: what a geometry line may hold. */
static bool printable(const char *s, size_t max) {
        size_t n = 0;
        for (; s[n]; n++)
                if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
                        return false;
        return n > 0;
}

/* Can disk k be scanned in delta mode against its baseline? The template
 * it was captured from is unchanged since, its whole chain included
 * (vd_template_unchanged), and that image is in the disk's backing chain.
 * Sets delta_below[k], delta_tmpl[k], delta_tmpl_fmt[k]; false with
 * s->delta_off otherwise. */
static bool delta_check_disk(struct guest_src *s, const vd_guest_opts *o, size_t k) {
        char *tmpl = NULL, fmt[32];
        char **files = NULL;
        size_t nf = 0;
        vd_err e = VD_ERR_INIT;
        int r = vd_template_unchanged(o->layout_facts, o->n_layout_facts, k, o->allow_backing, o->n_allow_backing, &tmpl,
                                      fmt, s->delta_off, sizeof s->delta_off, &e);
        if (r < 0)
                snprintf(s->delta_off, sizeof s->delta_off, "%.190s", e.msg);
        else if (r == 0 &&
                 vd_image_chain(o->images[k], s->formats[k], o->allow_backing, o->n_allow_backing, &files, &nf, &e) < 0)
                snprintf(s->delta_off, sizeof s->delta_off, "%.190s", e.msg);
        else if (r == 0) {
                for (size_t i = 0; i < nf && !s->delta_below[k]; i++)
                        if (strcmp(files[i], tmpl) == 0)
                                s->delta_below[k] = (int64_t)i + 1; /* our overlay is depth 0 */
                if (!s->delta_below[k])
                        snprintf(s->delta_off, sizeof s->delta_off,
                                 "the backing chain of disk %zu does not reach the template %.120s", k, tmpl);
        }
        vd_image_files_free(files, nf);
        if (!s->delta_below[k]) {
                free(tmpl);
                return false;
        }
        snprintf(s->delta_tmpl_fmt[k], sizeof s->delta_tmpl_fmt[k], "%s", fmt);
        s->delta_tmpl[k] = tmpl;
        return true;
}

/* Can this guest be scanned in delta mode? Every disk (delta_check_disk),
 * and the baseline records ext4 geometry. Sets s->delta_on, or s->delta_off. */
void vdg_delta_check(struct guest_src *s, const vd_guest_opts *o) {
        s->delta_on = false;
        s->delta_below = calloc(o->n_images, sizeof *s->delta_below);
        s->delta_tmpl = calloc(o->n_images, sizeof *s->delta_tmpl);
        s->delta_tmpl_fmt = calloc(o->n_images, sizeof *s->delta_tmpl_fmt);
        if (!s->delta_below || !s->delta_tmpl || !s->delta_tmpl_fmt) {
                snprintf(s->delta_off, sizeof s->delta_off, "out of memory");
                return;
        }
        for (size_t k = 0; k < o->n_images; k++)
                if (!delta_check_disk(s, o, k))
                        return;
        vd_buf g;
        vd_buf_init(&g, 64 << 10);
        for (size_t i = 0; i < o->n_layout_facts; i++)
                if (strncmp(o->layout_facts[i].key, "fs.ext4.", 8) == 0 && printable(o->layout_facts[i].key, 55) &&
                    !strchr(o->layout_facts[i].key, ' ') && printable(o->layout_facts[i].value, 199))
                        vd_buf_addf(&g, "geometry %s %s\n", o->layout_facts[i].key + 8, o->layout_facts[i].value);
        const char *mounts = vdg_fact(o, "fs.mounts");
        if (mounts && printable(mounts, VD_DELTA_MOUNTS_MAX) && g.len)
                vd_buf_addf(&g, "mounts %s\n", mounts);
        s->delta_geometry = vd_buf_detach(&g, NULL);
        if (!s->delta_geometry || !*s->delta_geometry)
                snprintf(s->delta_off, sizeof s->delta_off,
                         "the baseline records no ext4 file system geometry (capture it again)");
        else
                s->delta_on = true;
}

/* Changed ranges: the clusters the layers above the template hold, then
 * (refined) the 128-byte units of those that really differ from it. */
#define DELTA_UNIT 128

#define DELTA_REFINE_MAX ((uint64_t)512 << 20)

struct delta_ranges {
        uint64_t (*v)[2];
        size_t n, cap;
        uint64_t bytes;
};

static int add_range(void *ud, uint64_t start, uint64_t len) {
        struct delta_ranges *d = ud;
        if (d->n >= VD_DELTA_RANGES_MAX)
                return VD_E_LIMIT;
        if (d->n == d->cap) {
                size_t nc = d->cap ? d->cap * 2 : 256;
                void *g = realloc(d->v, nc * sizeof *d->v);
                if (!g)
                        return VD_E_NOMEM;
                d->v = g;
                d->cap = nc;
        }
        d->v[d->n][0] = start;
        d->v[d->n][1] = len;
        d->n++;
        d->bytes += len;
        return 0;
}

/* Compare the clusters with the template's bytes on the host (both read
 * through qemu-nbd): a cluster that a write touched in one inode holds 255
 * others that did not change. 0 and *fine (*refined), or 0 and not *refined when
 * it cannot be done (the clusters are still a correct answer). */
static int delta_refine(struct guest_src *s, size_t k, const struct delta_ranges *coarse, struct delta_ranges *fine,
                        bool *refined) {
        *refined = false;
        if (coarse->bytes > DELTA_REFINE_MAX) {
                vd_debug("delta: %llu bytes written: not refined", (unsigned long long)coarse->bytes);
                return 0;
        }
        const char *paths[2] = {s->overlays[k], s->delta_tmpl[k]}, *fmts[2] = {"qcow2", s->delta_tmpl_fmt[k]};
        vd_hosthash *hh = NULL;
        vd_err e = VD_ERR_INIT;
        struct delta_ranges d = {0};
        int r = vd_hosthash_open(paths, fmts, 2, 1, s->tmp_dir, &hh, &e);
        if (r == 0)
                r = vd_hosthash_diff(hh, 0, 1, (const uint64_t(*)[2])coarse->v, coarse->n, DELTA_UNIT, add_range, &d,
                                     &e);
        vd_hosthash_close(hh);
        if (r < 0) {
                free(d.v);
                vd_debug("delta: not refined: %s", e.msg);
                return r == VD_E_NOMEM ? r : 0;
        }
        *fine = d;
        *refined = true;
        return 0;
}

/* After the mounts and run_walker's sync (a journal replay is in our
 * overlay by now, and qemu-nbd sees it): the ranges
 * that differ from the template, with the expected geometry, as the
 * walker's --delta file on the scratch disk. 0 and true in *on; 0 and
 * false with out->delta_off when it cannot be done. */
int vdg_delta_prepare(struct guest_src *s, vd_scan *out, bool *on, vd_err *err) {
        *on = false;
        /* No guestfs_sync here: run_walker synced the appliance, after the
         * mounts, before it opened host-side reads, which a delta scan needs
         * (a sync costs about a second, every drive of a shared appliance) */
        vd_buf b;
        vd_buf_init(&b, VD_DELTA_FILE_MAX);
        vd_err e = VD_ERR_INIT;
        int r = vd_buf_adds(&b, "vmdrift-delta 1\n") < 0 ? VD_E_NOMEM : 0;
        out->st.delta_changed_bytes = 0;
        for (size_t k = 0; r == 0 && k < s->n_images; k++) {
                struct delta_ranges dr = {0}, fine = {0};
                bool refined = false;
                vd_debug("delta: disk %zu: mapping", k);
                r = vd_image_map_changed(s->overlays[k], "qcow2", s->delta_below[k], UINT64_MAX, add_range, &dr, &e);
                if (r == VD_E_LIMIT)
                        vd_err_set(&e, VD_E_LIMIT, "more than %u changed ranges", VD_DELTA_RANGES_MAX);
                if (r == 0)
                        r = delta_refine(s, k, &dr, &fine, &refined);
                const struct delta_ranges *use = refined ? &fine : &dr;
                for (size_t i = 0; r == 0 && i < use->n; i++)
                        if (vd_buf_addf(&b, "range %zu %llu %llu\n", k, (unsigned long long)use->v[i][0],
                                        (unsigned long long)use->v[i][1]) < 0)
                                r = vd_err_set(&e, VD_E_LIMIT, "the delta file is too large");
                if (r == 0) {
                        out->st.delta_changed_bytes += use->bytes;
                        vd_debug("delta: disk %zu: %zu ranges, %llu bytes written; %zu ranges, %llu bytes differ", k,
                                 dr.n, (unsigned long long)dr.bytes, use->n, (unsigned long long)use->bytes);
                }
                free(dr.v);
                free(fine.v);
        }
        if (r == 0 && vd_buf_adds(&b, s->delta_geometry) < 0)
                r = vd_err_set(&e, VD_E_LIMIT, "the delta file is too large");
        if (r == 0 && guestfs_write(s->g, "/delta", b.buf, b.len) < 0)
                r = vd_err_set(&e, VD_E_SOURCE, "cannot write the delta file: %s", guestfs_last_error(s->g));
        vd_buf_release(&b);
        if (r == VD_E_NOMEM)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r < 0) {
                snprintf(out->st.delta_off, sizeof out->st.delta_off, "%.190s", e.msg);
                return 0;
        }
        *on = true;
        return 0;
}

/* The candidate-only walk's reference: the baseline's entries as a manifest
 * on the scratch disk. 0, or -1 with out->delta_walk_off. */
int vdg_upload_reference(struct guest_src *s, const vd_entries *ref, vd_scan *out) {
        vd_scan m;
        vd_scan_init(&m);
        m.entries = *ref; /* borrowed: encoded, never released */
        vd_buf b;
        vd_buf_init(&b, MANIFEST_MAX);
        int r = vd_manifest_encode(&m, &b);
        if (r < 0) {
                snprintf(out->st.delta_walk_off, sizeof out->st.delta_walk_off, "the baseline is too large to send");
                vd_buf_release(&b);
                return -1;
        }
        /* in a shared appliance, the previous guest's is the same when
         * the clones share a baseline */
        bool kept = s->shared && vdg_share_reference_is(s->share, &b);
        if (!kept) {
                if (s->shared)
                        vdg_share_reference_set(s->share, NULL); /* unknown until the upload is done */
                char *local = NULL;
                int fd = -1;
                if (asprintf(&local, "%s/vmdrift-reference.XXXXXX", s->tmp_dir) < 0 ||
                    (fd = mkstemp(local)) < 0 || vd_write_full(fd, b.buf, b.len) < 0) {
                        snprintf(out->st.delta_walk_off, sizeof out->st.delta_walk_off, "cannot write the reference: %s",
                                 strerror(errno));
                        r = -1;
                } else if (guestfs_upload(s->g, local, "/reference") < 0) {
                        snprintf(out->st.delta_walk_off, sizeof out->st.delta_walk_off, "cannot send the reference: %.150s",
                                 guestfs_last_error(s->g));
                        r = -1;
                }
                if (fd >= 0) {
                        close(fd);
                        unlink(local);
                }
                free(local);
                if (r == 0 && s->shared)
                        vdg_share_reference_set(s->share, &b);
        }
        vd_debug("delta: reference of %zu entries, %zu bytes%s", ref->n, b.len,
                 kept ? ", in the shared appliance already" : "");
        vd_buf_release(&b);
        return r < 0 ? -1 : 0;
}

/* Proved files take the baseline's hash where it recorded the same inode
 * of the same size at that path; the rest are hashed here. With verify,
 * every proved file was hashed too: its hash must be the baseline's. */
int vdg_delta_apply(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, bool verify, vd_err *err) {
        vd_hasher *h = NULL;
        int r = 0;
        out->st.delta_proved = 0; /* the walker counted files; count paths (hard links) as the rest of the report does */
        for (size_t i = 0; i < out->entries.n && r == 0; i++) {
                vd_entry *e = out->entries.v[i];
                if (e->delta_proved == 2) {
                        out->st.delta_unvisited++;
                        continue;
                }
                if (!e->delta_proved)
                        continue;
                out->st.delta_proved++;
                const vd_entry *ref = vd_entries_find(o->delta_reference, e->path, e->path_len);
                bool same = ref && ref->type == VD_T_REG && ref->status == VD_ST_OK && ref->hash_len &&
                            ref->hash_algo == o->hash_algo && ref->ino == e->ino && ref->size == e->size;
                if (verify) {
                        if (same && e->status == VD_ST_OK && e->hash_len &&
                            (e->hash_len != ref->hash_len || memcmp(e->hash, ref->hash, ref->hash_len) != 0))
                                r = vd_err_set(err, VD_E_SOURCE, "delta verification: %.*s was proved unchanged but "
                                               "its content differs from the baseline's",
                                               (int)(e->path_len > 300 ? 300 : e->path_len), e->path);
                        continue;
                }
                if (same) {
                        memcpy(e->hash, ref->hash, ref->hash_len);
                        e->hash_len = ref->hash_len;
                        e->hash_algo = ref->hash_algo;
                        out->st.delta_reused++;
                        continue;
                }
                if (!h && !(h = vd_hasher_new(o->hash_algo, o->seed))) {
                        r = vd_err_set(err, VD_E_NOMEM, "cannot create a hasher");
                        break;
                }
                e->hash_algo = (uint8_t)o->hash_algo;
                char *ap = vdg_join(s->prefix, e->path);
                if (!ap || vdg_hash_by_pread(s, h, e, ap, out) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                free(ap);
        }
        vd_hasher_free(h);
        return r;
}
