/* What to scan and how to open it (vd_source_spec.h). */
#include <string.h>
#include <sys/stat.h>

#include "run/vd_source_spec.h"
#include "common/vd_state.h"

int vd_source_spec_check(const vd_source_spec *o, vd_err *err) {
        int kinds = (o->dir != NULL) + (o->n_images > 0) + (o->domain != NULL);
        if (kinds == 0)
                return vd_err_set(err, VD_E_USAGE, "no source given: use --dir PATH, --image FILE or --domain NAME");
        if (kinds > 1)
                return vd_err_set(err, VD_E_USAGE, "give one kind of source: --dir, --image or --domain");
        if (o->connect && !o->domain)
                return vd_err_set(err, VD_E_USAGE, "--connect goes with --domain");
        if (o->accel && o->dir)
                return vd_err_set(err, VD_E_USAGE, "--accel goes with --image or --domain");
        if (o->image_format && o->n_images == 0)
                return vd_err_set(err, VD_E_USAGE, "--image-format goes with --image");
        return 0;
}

int vd_source_spec_open(const vd_source_spec *o, const vd_host_env *env, bool want_walker, vd_source **ret,
                        vd_err *err) {
        if (o->dir)
                return vd_source_open_dir(o->dir, ret, err);
        vd_guest_opts g = {
                .images = o->images,
                .n_images = o->n_images,
                .format = o->image_format,
                .domain = o->domain,
                .connect = o->connect,
                .strategy = o->strategy,
                .want_walker = want_walker,
                .accel = o->accel,
                .allow_backing = o->allow_backing,
                .expect_formats = o->have_expect ? o->expect_formats : NULL,
                .n_allow_backing = o->n_allow_backing,
                .state_dir = vd_state_dir(o->state_dir, env->state_directory),
                .notice = env->notice,
                .notice_ud = env->notice_ud,
                .inspect_always = o->full_inspection,
                .hash_in = o->hash_in,
                .host_hash_min = o->host_hash_min ? o->host_hash_min : env->host_hash_min,
                .walker = env->walker,
                .backend = env->guestfs_backend,
                .tmp_dir = env->tmp_dir,
                .knobs = env->knobs,
                .share = o->share,
        };
        if (o->layout) {
                g.layout_facts = o->layout->facts;
                g.n_layout_facts = o->layout->n_facts;
                g.layout_packages = o->layout->packages;
                g.n_layout_packages = o->layout->n_packages;
        }
        return vd_source_open_guest(&g, ret, err);
}

void vd_source_spec_allow_templates(vd_source_spec *o, const vd_baseline *b, char *buf, size_t n) {
        size_t room = sizeof o->allow_backing / sizeof o->allow_backing[0] - o->n_allow_backing;
        o->n_allow_backing += vd_baseline_template_images(b, buf, n, o->allow_backing + o->n_allow_backing, room,
                                                          o->images, o->n_images, o->expect_formats);
        for (size_t k = 0; k < o->n_images; k++)
                o->have_expect |= o->expect_formats[k] != NULL;
}

void vd_source_spec_walk_opts(const vd_source_spec *o, vd_scan_opts *ret) {
        vd_scan_opts_init(ret);
        ret->one_file_system = o->one_file_system;
        ret->threads = o->threads;
        ret->max_depth = o->max_depth;
}

void vd_source_spec_inputs(const vd_source_spec *o, vd_input *in, size_t *n) {
        for (size_t i = 0; i < o->n_images && *n < VD_INPUTS_MAX; i++)
                in[(*n)++] = (vd_input){"image", o->images[i]};
}

int vd_refuse_overwrite(const char *what, const char *out, const vd_input *in, size_t n, vd_err *err) {
        struct stat so;
        bool have = stat(out, &so) == 0;
        for (size_t i = 0; i < n; i++) {
                if (!in[i].path)
                        continue;
                struct stat si;
                bool same = strcmp(in[i].path, out) == 0 ||
                            (have && stat(in[i].path, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino);
                if (same)
                        return vd_err_set(err, VD_E_USAGE,
                                          "%s '%s' is the %s '%s', an input of this run: refusing to overwrite it", what,
                                          out, in[i].what, in[i].path);
        }
        return 0;
}
