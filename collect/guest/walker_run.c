/* The walker strategy: vmdrift-walker (collect/walker) runs in the
 * appliance on the guest mounted beneath its scratch disk, and one manifest
 * comes back, decoded as untrusted input. The host decides its arguments
 * (host-side extents, delta scan, read-ahead), parses its answer lines, and
 * falls back to the api strategy when it cannot run at all. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/vd_manifest.h"
#include "common/vd_io.h"
#include "common/vd_log.h"
#include "common/vd_str.h"

#include "guest_int.h"
#include "collect/vd_walker_reply.h"


/* ---- strategy: walker ---- */

/* Download a file of the scratch disk into memory (at most max bytes). */
int vdg_download_bounded(struct guest_src *s, const char *remote, const char *what, size_t max, char **ret,
                         size_t *ret_len, vd_err *err) {
        char *local;
        *ret = NULL;
        *ret_len = 0;
        if (asprintf(&local, "%s/vmdrift-download.XXXXXX", s->tmp_dir) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int fd = mkstemp(local);
        if (fd < 0) {
                int e = errno;
                free(local);
                return vd_err_errno(err, VD_E_IO, e, "cannot create a temporary file");
        }
        int r = 0;
        char *data = NULL;
        struct stat st;
        if (guestfs_download(s->g, remote, local) < 0)
                r = vd_err_set(err, VD_E_SOURCE, "cannot download %s: %s", what, guestfs_last_error(s->g));
        else if (fstat(fd, &st) < 0 || (size_t)st.st_size > max)
                r = vd_err_set(err, VD_E_LIMIT, "%s is larger than %zu bytes", what, max);
        else if (!(data = malloc((size_t)st.st_size + 1)))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r == 0 && vd_pread_exact(fd, data, (size_t)st.st_size, 0) < 0)
                r = vd_err_errno(err, VD_E_IO, errno, "cannot read %s", what);
        close(fd);
        unlink(local);
        free(local);
        if (r < 0) {
                free(data);
                return r;
        }
        *ret = data;
        *ret_len = (size_t)st.st_size;
        return 0;
}

/* What the walker's answer says about the guest, into out. */
static int reply_facts(const vd_walker_reply *rep, vd_scan *out) {
        int r = rep->mounts ? vd_scan_add_fact(out, "fs.mounts", rep->mounts) : 0;
        for (size_t i = 0; i < rep->n_geometry && r == 0; i++)
                r = vd_scan_add_fact(out, rep->geometry[i].key, rep->geometry[i].value);
        out->st.delta_walk |= rep->walk_changed_only;
        if (rep->have_inodes) {
                out->st.delta_inodes_recorded = rep->inodes_recorded;
                out->st.delta_inodes_read = rep->inodes_read;
        }
        if (rep->walk_whole[0])
                snprintf(out->st.delta_walk_off, sizeof out->st.delta_walk_off, "%s", rep->walk_whole);
        return r;
}

/* The walker's "cat N" line: the read-ahead files it read, into the cache
 * (vd_scan_opts.read_ahead). Anything less is no error: the configuration
 * scan asks for what is missing (guest_prefetch). */
static int take_read_ahead(struct guest_src *s, const vd_scan_opts *o, size_t n, const vd_walker_reply *rep) {
        if (!rep->have_cat || rep->cat_files != n) {
                vd_debug("read-ahead: not taken (%s)", rep->cat_failed[0] ? rep->cat_failed : "no answer");
                return 0;
        }
        vd_err e = VD_ERR_INIT;
        int r = vdg_load_catout(s, o->read_ahead, n, o->read_ahead_max, o->read_ahead_globs, o->n_read_ahead_globs, &e);
        if (r < 0)
                vd_debug("read-ahead: not taken (%s)", e.msg);
        else
                vd_debug("read-ahead: %zu files read in the walk's pass", n);
        return r == VD_E_NOMEM ? r : 0;
}

/* The walker sorts the reference it decodes: its indices are the host's
 * when the host's entries are in that order already. */
static bool sorted_unique(const vd_entries *es) {
        for (size_t i = 1; i < es->n; i++)
                if (vd_path_cmp(es->v[i - 1]->path, es->v[i - 1]->path_len, es->v[i]->path, es->v[i]->path_len) >= 0)
                        return false;
        return true;
}

/* The walker on the scratch disk: once per appliance (a shared one keeps it
 * for the next guest). */
static int upload_walker(struct guest_src *s, vd_err *err) {
        if (access(s->walker, R_OK) < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot find vmdrift-walker at '%s' (set VMDRIFT_WALKER)",
                                    s->walker);
        if (!(s->shared && vdg_share_walker(s->share, false)) &&
            (guestfs_upload(s->g, s->walker, "/vmdrift-walker") < 0 ||
             guestfs_chmod(s->g, 0755, "/vmdrift-walker") < 0))
                return vdg_err(err, s->g, "cannot upload the walker");
        if (s->shared)
                vdg_share_walker(s->share, true);
        return 0;
}

/* Host-side reads through qemu-nbd exports of our overlays: *ret, or NULL
 * with a warning in out saying why (s->host_off). Only an allocation
 * failure is an error. */
static int open_host_hash(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_hosthash **ret, vd_err *err) {
        *ret = NULL;
        /* Everything the appliance wrote (a journal replayed at mount)
         * reaches the overlay before qemu-nbd opens it. */
        vd_err he = VD_ERR_INIT;
        const char **fmts = calloc(s->n_images, sizeof *fmts);
        if (!fmts)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        for (size_t i = 0; i < s->n_images; i++)
                fmts[i] = "qcow2";
        int sr = guestfs_sync(s->g);
        vd_debug("appliance synced");
        if (sr < 0)
                vd_err_set(&he, VD_E_SOURCE, "cannot sync the appliance: %s", guestfs_last_error(s->g));
        else
                vd_hosthash_open((const char *const *)s->overlays, fmts, s->n_images, o->threads, s->tmp_dir, ret,
                                 &he);
        free(fmts);
        if (!*ret) {
                snprintf(s->host_off, sizeof s->host_off, "%.150s", he.msg);
                if (vd_scan_warn(out, NULL, 0, "host-side hashing unavailable (%s): every file hashed in the appliance, "
                                 "slower", he.msg) < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

void vdg_walker_argv(const struct vdg_walker_plan *p, struct vdg_walker_argv *a) {
        int n = 0;
        const char **v = a->v;
        v[n++] = "/vmdrift-walker";
        v[n++] = "--root";
        v[n++] = "/guest";
        v[n++] = "--out";
        v[n++] = "/manifest";
        v[n++] = "--hash";
        v[n++] = p->algo == VD_HASH_NONE ? "none" : vd_hash_algo_name(p->algo);
        if (p->algo == VD_HASH_XXH3) {
                vd_hex_to(a->seed, p->seed, VD_HASH_SEED_LEN);
                v[n++] = "--seed";
                v[n++] = a->seed;
        }
        if (p->threads) {
                snprintf(a->threads, sizeof a->threads, "%u", p->threads);
                v[n++] = "--threads";
                v[n++] = a->threads;
        }
        if (p->max_depth) {
                snprintf(a->depth, sizeof a->depth, "%u", p->max_depth);
                v[n++] = "--max-depth";
                v[n++] = a->depth;
        }
        if (p->extents_min) {
                snprintf(a->xmin, sizeof a->xmin, "%llu", (unsigned long long)p->extents_min);
                v[n++] = "--extents";
                v[n++] = a->xmin;
        }
        v[n++] = "--geometry";
        if (p->records)
                v[n++] = "--record-blocks";
        if (p->n_disks) {
                /* the guest's disks among the appliance's drives */
                snprintf(a->disks, sizeof a->disks, "%u:%zu", p->disk_first, p->n_disks);
                v[n++] = "--disks";
                v[n++] = a->disks;
        }
        if (p->delta) {
                v[n++] = "--delta";
                v[n++] = "/delta";
                if (p->verify)
                        v[n++] = "--delta-verify";
                if (p->reference) {
                        v[n++] = "--reference";
                        v[n++] = "/reference";
                        if (p->slim)
                                v[n++] = "--slim";
                        if (p->read_inodes)
                                v[n++] = "--read-inodes";
                }
        }
        if (p->cat) {
                snprintf(a->cat_max, sizeof a->cat_max, "%zu", p->cat_max);
                v[n++] = "--cat";
                v[n++] = "/catlist";
                v[n++] = "--max";
                v[n++] = a->cat_max;
                v[n++] = "--cat-out";
                v[n++] = "/catout";
        }
        v[n] = NULL;
}

/* Decide what the walker does (and put its inputs on the scratch disk):
 * *plan, and *n_ahead read-ahead files asked for. */
static int plan_walk(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, const vd_hosthash *hh,
                     struct vdg_walker_plan *plan, size_t *n_ahead, vd_err *err) {
        bool quick = o->reference != NULL;
        *plan = (struct vdg_walker_plan){
                .algo = quick ? VD_HASH_NONE : o->hash_algo,
                .seed = o->seed,
                .threads = o->threads,
                .max_depth = o->max_depth,
                .extents_min = hh ? s->host_hash_min : 0,
                .records = o->want_records && !quick,
                .disk_first = s->disk_first,
                .n_disks = s->n_images,
                .verify = s->knobs.delta_verify,
                .read_inodes = s->knobs.no_block_records,
                .cat_max = o->read_ahead_max,
        };
        if (o->delta_reference && !quick && plan->algo != VD_HASH_NONE) {
                if (!hh)
                        snprintf(out->st.delta_off, sizeof out->st.delta_off, "host-side reads are off (%s)",
                                 s->host_off[0] ? s->host_off : "unavailable");
                else if (!s->delta_on)
                        snprintf(out->st.delta_off, sizeof out->st.delta_off, "%s", s->delta_off);
                else if (s->n_images >= VD_DISKS_MAX)
                        snprintf(out->st.delta_off, sizeof out->st.delta_off, "more than %u disks", VD_DISKS_MAX - 1);
                else if (vdg_delta_prepare(s, out, &plan->delta, err) < 0)
                        return err->code;
        }
        *n_ahead = 0;
        if ((o->n_read_ahead || o->n_read_ahead_globs) && o->read_ahead_max && strcmp(s->prefix, "/guest") == 0 &&
            !s->knobs.no_read_ahead) {
                /* the walker reads n_ahead files, and the globs' new files, after its walk */
                *n_ahead = o->n_read_ahead;
                int wr = vdg_write_catlist(s, o->read_ahead, n_ahead, o->read_ahead_globs, o->n_read_ahead_globs);
                plan->cat = wr >= 0 && (*n_ahead > 0 || wr > 0);
                if (!plan->cat)
                        *n_ahead = 0;
        }
        if (!plan->delta)
                return 0;
        if (s->knobs.no_candidate_walk)
                snprintf(out->st.delta_walk_off, sizeof out->st.delta_walk_off, "turned off (VMDRIFT_CANDIDATE_WALK=0)");
        else if (plan->verify)
                snprintf(out->st.delta_walk_off, sizeof out->st.delta_walk_off, "verifying (every file hashed)");
        else if (vdg_upload_reference(s, o->delta_reference, out) == 0) {
                plan->reference = true;
                /* what it took unread comes back as indices into it */
                plan->slim = sorted_unique(o->delta_reference);
        }
        return 0;
}

/* Run the walker and take its answer lines. */
static int walk(struct guest_src *s, const vd_scan_opts *o, const struct vdg_walker_plan *plan, size_t n_ahead,
                vd_scan *out, bool *bad_manifest, vd_err *err) {
        struct vdg_walker_argv a;
        vdg_walker_argv(plan, &a);
        vd_debug("walker uploaded; running it (hash %s)", a.v[6]);
        char *res = guestfs_command(s->g, (char *const *)a.v);
        if (!res)
                return vdg_err(err, s->g, "the walker failed in the appliance");
        vd_walker_reply rep;
        int r = vd_walker_reply_parse(res, strlen(res), &rep, err);
        free(res);
        if (r < 0) {
                *bad_manifest = r != VD_E_NOMEM; /* a hostile appliance's doing: never a reason to fall back */
                return r;
        }
        vd_debug("walker: %s", rep.summary);
        if (rep.times[0])
                vd_debug("walker %s", rep.times);
        if (rep.have_inodes)
                vd_debug("walker inodes: %llu answered from the baseline's records, %llu read",
                         (unsigned long long)rep.inodes_recorded, (unsigned long long)rep.inodes_read);
        r = reply_facts(&rep, out);
        if (r == 0 && plan->cat)
                r = take_read_ahead(s, o, n_ahead, &rep);
        vd_walker_reply_release(&rep);
        return r < 0 ? vd_err_set(err, VD_E_NOMEM, "out of memory") : 0;
}

/* The manifest, decoded; then the hashes the walker left to the host, the
 * delta scan's and --quick's. */
static int take_manifest(struct guest_src *s, const vd_scan_opts *o, const struct vdg_walker_plan *plan,
                         vd_hosthash *hh, vd_scan *out, bool *bad_manifest, vd_err *err) {
        char *data = NULL;
        size_t len = 0;
        int r = vdg_download_bounded(s, "/manifest", "the manifest", MANIFEST_MAX, &data, &len, err);
        if (r == 0) {
                vd_debug("manifest downloaded: %zu bytes", len);
                r = vd_manifest_decode_ref(data, len, plan->slim ? o->delta_reference : NULL, out, err);
                vd_debug("manifest decoded: %zu entries", out->entries.n);
                if (r < 0) {
                        *bad_manifest = true;
                        vd_err_prefix(err, "the appliance returned a bad manifest");
                }
        }
        free(data);
        if (r == 0 && hh)
                r = vdg_host_hashes(s, hh, o, out, err);
        else if (r == 0)
                r = vdg_no_extents_left(out, err);
        if (r == 0 && plan->delta) {
                out->st.delta = true;
                r = vdg_delta_apply(s, o, out, plan->verify, err);
                vd_debug("delta: %llu files proved unchanged, %llu hashes from the baseline",
                         (unsigned long long)out->st.delta_proved, (unsigned long long)out->st.delta_reused);
        }
        if (r == 0 && o->reference) {
                r = vdg_fill_hashes(s, o, out, err);
                vd_debug("quick: %llu hashes reused, %llu files read", (unsigned long long)out->st.quick_reused,
                         (unsigned long long)out->st.files_hashed);
        }
        return r;
}

static int run_walker(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, bool *bad_manifest, vd_err *err) {
        int r = upload_walker(s, err);
        if (r < 0)
                return r;
        vd_hosthash *hh = NULL;
        if (s->overlays && !o->reference && o->hash_algo != VD_HASH_NONE && (r = open_host_hash(s, o, out, &hh, err)) < 0)
                return r;
        out->st.host_hashing = hh != NULL;
        snprintf(out->st.host_hashing_off, sizeof out->st.host_hashing_off, "%s", s->host_off);
        struct vdg_walker_plan plan;
        size_t n_ahead = 0;
        r = plan_walk(s, o, out, hh, &plan, &n_ahead, err);
        if (r == 0)
                r = walk(s, o, &plan, n_ahead, out, bad_manifest, err);
        if (r == 0)
                r = take_manifest(s, o, &plan, hh, out, bad_manifest, err);
        vd_hosthash_close(hh);
        return r;
}

/* The walker's lines after its summary: geometry as facts fs.ext4.KEY, the
 * mounts as fact fs.mounts, and which walk ran. */
/* The walker is fastest; when it cannot run (not installed, or it fails in
 * the appliance) the api strategy reads the same tree, slower, and the report
 * says so. */
int vdg_run_walker_or_api(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        vd_err werr = VD_ERR_INIT;
        bool bad_manifest = false;
        int r = run_walker(s, o, out, &bad_manifest, &werr);
        if (r == 0)
                return 0;
        if (r == VD_E_NOMEM || r == VD_E_LIMIT || bad_manifest) {
                /* A hostile or broken manifest is not a reason to look away. */
                return vd_err_set(err, r, "%s", werr.msg);
        }
        vd_debug("walker failed (%s): falling back to the api strategy", werr.msg);
        s->failed = true; /* a shared appliance is not trusted with another guest */
        vd_entries_release(&out->entries);
        int wr = vd_scan_warn(out, NULL, 0, "the in-appliance walker could not run (%s); used the slower api strategy",
                              werr.msg);
        if (wr < 0)
                return vd_err_set(err, wr, "out of memory");
        return vdg_run_api(s, o, out, err);
}
