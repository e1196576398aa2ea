/* The shortcut keys (see vd_shortcut.h). */
#include "run/vd_shortcut.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/vd_imageid.h"
#include "collect/vd_imageinfo.h"
#include "common/vd_log.h"
#include "common/vd_state.h"

#define SHORTCUT_IMAGES_MAX 64

/* Everything that changes what a scan of the same bytes reports. */
static void opts_text(const vd_shortcut_in *in, char *opts, size_t n) {
        char pdg[65] = "-";
        if (in->packages_from)
                vd_baseline_effective_digest(in->packages_from, pdg);
        snprintf(opts, n, "strategy=%d hash_in=%d quick=%d ignore=%x full_inspection=%d onefs=%d depth=%u "
                          "format=%s packages_from=%s %s",
                 in->strategy, in->hash_in, in->quick, in->ignore, in->full_inspection, in->one_file_system,
                 in->max_depth, in->image_format ? in->image_format : "-", pdg, in->yara_key ? in->yara_key : "yara=-");
}

static int count_range(void *ud, uint64_t start, uint64_t len) {
        (void)start;
        (void)len;
        ++*(size_t *)ud;
        return 0;
}

/* Disk k is its template image, nothing written above it: *ret_tmpl (the
 * template's real path, malloc'ed) and its format. */
static bool disk_is_template(const vd_shortcut_in *in, size_t k, char **ret_tmpl, char fmt_tmpl[32]) {
        const vd_baseline *b = in->baseline;
        char why[400] = "", fmt[32], pinned[32];
        vd_err e = VD_ERR_INIT;
        char **files = NULL;
        size_t nf = 0, depth = 0, written = 0;
        bool ok = vd_template_unchanged(b->facts, b->n_facts, k, in->allow_backing, in->n_allow_backing, ret_tmpl,
                                        fmt_tmpl, why, sizeof why, &e) == 0;
        vd_image_format_pinned(in->state_dir, in->images[k], pinned);
        ok = ok &&
             vd_image_check_chain(in->images[k], NULL, in->allow_backing, in->n_allow_backing, fmt, &e) == 0 &&
             (!pinned[0] || strcmp(pinned, fmt) == 0) &&
             vd_image_chain(in->images[k], fmt, in->allow_backing, in->n_allow_backing, &files, &nf, &e) == 0;
        for (size_t i = 1; ok && i < nf && !depth; i++)
                if (!strcmp(files[i], *ret_tmpl))
                        depth = i;
        ok = ok && depth &&
             vd_image_map_changed(in->images[k], fmt, (int64_t)depth, UINT64_MAX, count_range, &written, &e) == 0 &&
             written == 0;
        vd_image_files_free(files, nf);
        if (!ok)
                vd_debug("no twin: %s", e.msg[0] ? e.msg : why[0] ? why : "written above the template");
        return ok;
}

/* A linked clone with nothing written above the template image its
 * baseline was captured from, that template's whole chain unchanged since
 * (vd_template_unchanged): byte for byte the template as captured. Its key
 * is the template's (the kept-report key of the template's images, marked
 * "twin"); the guest's own identity does not enter it. */
static bool twin_key(const vd_shortcut_in *in, const char *opts, vd_reuse_key *rk) {
        char *tmpl[SHORTCUT_IMAGES_MAX] = {NULL};
        char fmts[SHORTCUT_IMAGES_MAX][32];
        const char *fmtp[SHORTCUT_IMAGES_MAX];
        bool ok = in->n_images > 0 && in->n_images <= SHORTCUT_IMAGES_MAX && !in->image_format;
        for (size_t k = 0; ok && k < in->n_images; k++) {
                ok = disk_is_template(in, k, &tmpl[k], fmts[k]);
                fmtp[k] = fmts[k];
        }
        bool r = false;
        if (ok) {
                char topts[900], why[1024] = "", bdg[65];
                snprintf(topts, sizeof topts, "%s twin=1", opts);
                vd_err e = VD_ERR_INIT;
                vd_baseline_effective_digest(in->baseline, bdg);
                int kr = vd_reuse_key_make((const char *const *)tmpl, in->n_images, fmtp, in->allow_backing,
                                           in->n_allow_backing, bdg, in->policy_digest, topts, in->paranoid, rk, why,
                                           sizeof why, &e);
                if (kr != 0)
                        vd_debug("no twin key: %s", kr < 0 ? e.msg : why);
                else
                        vd_debug("identical to its template image: nothing written above it");
                r = kr == 0;
        }
        for (size_t k = 0; k < in->n_images && k < SHORTCUT_IMAGES_MAX; k++)
                free(tmpl[k]);
        return r;
}

/* The guest's own kept-report key. */
static bool own_key(const vd_shortcut_in *in, const char *opts, vd_reuse_key *rk) {
        if (!in->n_images || in->n_images > SHORTCUT_IMAGES_MAX)
                return false;
        for (size_t i = 0; i < in->n_images; i++)
                if (vd_guest_image_in_use(in->share, in->images[i]))
                        return false;
        /* the format given, the baseline's for its own image, else the
         * pinned one: a header written since changes the key's files */
        const char *fmts[SHORTCUT_IMAGES_MAX];
        char pinned[SHORTCUT_IMAGES_MAX][32];
        for (size_t i = 0; i < in->n_images; i++) {
                vd_image_format_pinned(in->state_dir, in->images[i], pinned[i]);
                const char *expect = in->expect_formats ? in->expect_formats[i] : NULL;
                if (!in->image_format && !expect && !pinned[i][0]) {
                        /* first sight (a twin given its template's report is never
                         * opened): the format it has now is the one it keeps, as a
                         * scan would pin it; later keys read its header as that */
                        char fmt[32];
                        vd_err pe = VD_ERR_INIT;
                        if (vd_image_check_chain(in->images[i], NULL, in->allow_backing, in->n_allow_backing, fmt,
                                                 &pe) == 0 &&
                            vd_image_format_pin(in->state_dir, in->images[i], fmt, false, &pe) == 0)
                                vd_image_format_pinned(in->state_dir, in->images[i], pinned[i]);
                }
                fmts[i] = in->image_format ? in->image_format : expect ? expect : pinned[i][0] ? pinned[i] : NULL;
        }
        char why[1024] = "", bdg[65];
        vd_err e = VD_ERR_INIT;
        vd_baseline_effective_digest(in->baseline, bdg);
        int r = vd_reuse_key_make(in->images, in->n_images, fmts, in->allow_backing, in->n_allow_backing, bdg,
                                  in->policy_digest, opts, in->paranoid, rk, why, sizeof why, &e);
        if (r != 0)
                vd_debug("no reuse: %s", r < 0 ? e.msg : why);
        return r == 0;
}

void vd_shortcut_keys_make(const vd_shortcut_in *in, vd_shortcut_keys *ret) {
        memset(ret, 0, sizeof *ret);
        ret->in = *in;
        if (in->advisories || in->rollback_warning || in->delta_verify)
                return;
        opts_text(in, ret->opts, sizeof ret->opts);
        ret->have_key = own_key(in, ret->opts, &ret->key);
}

void vd_shortcut_twin_make(vd_shortcut_keys *k) {
        if (k->twin_tried)
                return;
        k->twin_tried = true;
        k->have_twin = k->have_key && twin_key(&k->in, k->opts, &k->twin);
}

int vd_shortcut_load(vd_shortcut_keys *k, const char *state_dir, vd_reused **ret, bool *ret_twin, vd_err *warn) {
        *ret = NULL;
        *ret_twin = false;
        if (!k->have_key)
                return 1;
        vd_err e = VD_ERR_INIT;
        int lr = vd_reuse_load(state_dir, &k->key, ret, &e);
        if (lr < 0) /* none (1) is not worth a word; a damaged file is */
                *warn = e;
        if (lr != 0)
                vd_shortcut_twin_make(k);
        if (lr != 0 && k->have_twin) {
                vd_err te = VD_ERR_INIT;
                lr = vd_reuse_load(state_dir, &k->twin, ret, &te);
                if (lr < 0 && !warn->code)
                        *warn = te;
                *ret_twin = lr == 0;
        }
        return lr == 0 ? 0 : 1;
}

int vd_shortcut_save_own(const vd_shortcut_keys *k, const char *state_dir, const vd_report *rep, vd_err *err) {
        if (!k->have_key || !rep->reused_scan_id)
                return 0;
        vd_report own = *rep;
        snprintf(own.scan_id, sizeof own.scan_id, "%s", rep->reused_scan_id);
        own.started_ns = rep->reused_started_ns;
        int r = vd_state_dir_check(state_dir, true, err);
        return r == 0 ? vd_reuse_save(state_dir, &k->key, &own, err) : r;
}

int vd_shortcut_save(const vd_shortcut_keys *k, const char *state_dir, const vd_report *rep, vd_err *err) {
        if (!k->have_key)
                return 0;
        int r = vd_state_dir_check(state_dir, true, err);
        if (r == 0)
                r = vd_reuse_save(state_dir, &k->key, rep, err);
        if (r == 0 && k->have_twin)
                r = vd_reuse_save(state_dir, &k->twin, rep, err);
        return r;
}
