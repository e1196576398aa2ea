/* The walker strategy: vmdrift-walker (fim/collect/walker) runs in the
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

#include "vd_log.h"
#include "vd_manifest.h"
#include "vd_str.h"

#include "guest_int.h"
#include "vd_walker_reply.h"


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
        for (size_t off = 0; r == 0 && off < (size_t)st.st_size;) {
                ssize_t k = pread(fd, data + off, (size_t)st.st_size - off, (off_t)off);
                if (k <= 0)
                        r = vd_err_errno(err, VD_E_IO, k < 0 ? errno : EIO, "cannot read %s", what);
                else
                        off += (size_t)k;
        }
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
        out->delta_walk |= rep->walk_changed_only;
        if (rep->have_inodes) {
                out->delta_inodes_recorded = rep->inodes_recorded;
                out->delta_inodes_read = rep->inodes_read;
        }
        if (rep->walk_whole[0])
                snprintf(out->delta_walk_off, sizeof out->delta_walk_off, "%s", rep->walk_whole);
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

static int run_walker(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, bool *bad_manifest, vd_err *err) {
        guestfs_h *g = s->g;
        if (access(s->walker, R_OK) < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot find vmdrift-walker at '%s' (set VMDRIFT_WALKER)",
                                    s->walker);
        /* once per appliance: a shared one keeps it for the next guest */
        if (!(s->shared && vdg_share_walker(s->share, false)) &&
            (guestfs_upload(g, s->walker, "/vmdrift-walker") < 0 || guestfs_chmod(g, 0755, "/vmdrift-walker") < 0))
                return vdg_err(err, g, "cannot upload the walker");
        if (s->shared)
                vdg_share_walker(s->share, true);
        bool quick = o->reference != NULL;
        int algo = quick ? VD_HASH_NONE : o->hash_algo;
        vd_hosthash *hh = NULL;
        if (s->overlays && !quick && algo != VD_HASH_NONE) {
                /* Everything the appliance wrote (a journal replayed at
                 * mount) reaches the overlay before qemu-nbd opens it. */
                vd_err he = VD_ERR_INIT;
                const char **fmts = calloc(s->n_images, sizeof *fmts);
                if (!fmts)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                for (size_t i = 0; i < s->n_images; i++)
                        fmts[i] = "qcow2";
                int sr = guestfs_sync(g);
                vd_debug("appliance synced");
                if (sr < 0)
                        vd_err_set(&he, VD_E_SOURCE, "cannot sync the appliance: %s", guestfs_last_error(g));
                else
                        vd_hosthash_open((const char *const *)s->overlays, fmts, s->n_images, o->threads,
                                         s->tmp_dir, &hh, &he);
                free(fmts);
                if (!hh) {
                        snprintf(s->host_off, sizeof s->host_off, "%.150s", he.msg);
                        if (vd_scan_warn(out, NULL, 0, "host-side hashing unavailable (%s): every file hashed in "
                                         "the appliance, slower", he.msg) < 0)
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
        }
        out->host_hashing = hh != NULL;
        snprintf(out->host_hashing_off, sizeof out->host_hashing_off, "%s", s->host_off);
        bool delta = false, slim = false;
        bool verify = s->knobs.delta_verify;
        if (o->delta_reference && !quick && algo != VD_HASH_NONE) {
                if (!hh)
                        snprintf(out->delta_off, sizeof out->delta_off, "host-side reads are off (%s)",
                                 s->host_off[0] ? s->host_off : "unavailable");
                else if (!s->delta_on)
                        snprintf(out->delta_off, sizeof out->delta_off, "%s", s->delta_off);
                else if (s->n_images >= VD_DISKS_MAX)
                        snprintf(out->delta_off, sizeof out->delta_off, "more than %u disks", VD_DISKS_MAX - 1);
                else if (vdg_delta_prepare(s, out, &delta, err) < 0) {
                        vd_hosthash_close(hh);
                        return err->code;
                }
        }
        char seed[2 * VD_HASH_SEED_LEN + 1], threads[16], depth[16], xmin[24], ahead_max[24];
        vd_hex_to(seed, o->seed, VD_HASH_SEED_LEN);
        snprintf(threads, sizeof threads, "%u", o->threads);
        snprintf(depth, sizeof depth, "%u", o->max_depth);
        snprintf(ahead_max, sizeof ahead_max, "%zu", o->read_ahead_max);
        size_t n_ahead = 0;
        bool cat = false; /* the walker reads n_ahead files, and the globs' new files, after its walk */
        if ((o->n_read_ahead || o->n_read_ahead_globs) && o->read_ahead_max && strcmp(s->prefix, "/guest") == 0 &&
            !s->knobs.no_read_ahead) {
                n_ahead = o->n_read_ahead;
                int wr = vdg_write_catlist(s, o->read_ahead, &n_ahead, o->read_ahead_globs, o->n_read_ahead_globs);
                cat = wr >= 0 && (n_ahead > 0 || wr > 0);
                if (!cat)
                        n_ahead = 0;
        }
        const char *argv[32];
        int n = 0;
        argv[n++] = "/vmdrift-walker";
        argv[n++] = "--root";
        argv[n++] = "/guest";
        argv[n++] = "--out";
        argv[n++] = "/manifest";
        argv[n++] = "--hash";
        argv[n++] = algo == VD_HASH_NONE ? "none" : vd_hash_algo_name(algo);
        if (algo == VD_HASH_XXH3) {
                argv[n++] = "--seed";
                argv[n++] = seed;
        }
        if (o->threads) {
                argv[n++] = "--threads";
                argv[n++] = threads;
        }
        if (o->max_depth) {
                argv[n++] = "--max-depth";
                argv[n++] = depth;
        }
        if (hh) {
                snprintf(xmin, sizeof xmin, "%llu", (unsigned long long)s->host_hash_min);
                argv[n++] = "--extents";
                argv[n++] = xmin;
        }
        argv[n++] = "--geometry";
        if (o->want_records && !quick)
                argv[n++] = "--record-blocks";
        char disks[48];
        if (s->n_images) {
                /* the guest's disks among the appliance's drives */
                snprintf(disks, sizeof disks, "%u:%zu", s->disk_first, s->n_images);
                argv[n++] = "--disks";
                argv[n++] = disks;
        }
        if (delta) {
                argv[n++] = "--delta";
                argv[n++] = "/delta";
                if (verify)
                        argv[n++] = "--delta-verify";
                if (s->knobs.no_candidate_walk)
                        snprintf(out->delta_walk_off, sizeof out->delta_walk_off,
                                 "turned off (VMDRIFT_CANDIDATE_WALK=0)");
                else if (verify)
                        snprintf(out->delta_walk_off, sizeof out->delta_walk_off, "verifying (every file hashed)");
                else if (vdg_upload_reference(s, o->delta_reference, out) == 0) {
                        argv[n++] = "--reference";
                        argv[n++] = "/reference";
                        /* what it took unread comes back as indices into it */
                        if ((slim = sorted_unique(o->delta_reference)))
                                argv[n++] = "--slim";
                        if (s->knobs.no_block_records)
                                argv[n++] = "--read-inodes";
                }
        }
        if (cat) {
                argv[n++] = "--cat";
                argv[n++] = "/catlist";
                argv[n++] = "--max";
                argv[n++] = ahead_max;
                argv[n++] = "--cat-out";
                argv[n++] = "/catout";
        }
        argv[n] = NULL;
        vd_debug("walker uploaded; running it (hash %s)", argv[6]);
        char *res = guestfs_command(g, (char *const *)argv);
        if (!res) {
                vd_hosthash_close(hh);
                return vdg_err(err, g, "the walker failed in the appliance");
        }
        vd_walker_reply rep;
        int gr = vd_walker_reply_parse(res, strlen(res), &rep, err);
        free(res);
        if (gr < 0) {
                vd_hosthash_close(hh);
                *bad_manifest = gr != VD_E_NOMEM; /* a hostile appliance's doing: never a reason to fall back */
                return gr;
        }
        vd_debug("walker: %s", rep.summary);
        if (rep.times[0])
                vd_debug("walker %s", rep.times);
        if (rep.have_inodes)
                vd_debug("walker inodes: %llu answered from the baseline's records, %llu read",
                         (unsigned long long)rep.inodes_recorded, (unsigned long long)rep.inodes_read);
        gr = reply_facts(&rep, out);
        if (gr == 0 && cat)
                gr = take_read_ahead(s, o, n_ahead, &rep);
        vd_walker_reply_release(&rep);
        if (gr < 0) {
                vd_hosthash_close(hh);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }

        char *data = NULL;
        size_t len = 0;
        int r = vdg_download_bounded(s, "/manifest", "the manifest", MANIFEST_MAX, &data, &len, err);
        if (r == 0) {
                vd_debug("manifest downloaded: %zu bytes", len);
                r = vd_manifest_decode_ref(data, len, slim ? o->delta_reference : NULL, out, err);
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
        vd_hosthash_close(hh);
        if (r == 0 && delta) {
                out->delta = true;
                r = vdg_delta_apply(s, o, out, verify, err);
                vd_debug("delta: %llu files proved unchanged, %llu hashes from the baseline",
                         (unsigned long long)out->delta_proved, (unsigned long long)out->delta_reused);
        }
        if (r == 0 && quick) {
                r = vdg_fill_hashes(s, o, out, err);
                vd_debug("quick: %llu hashes reused, %llu files read", (unsigned long long)out->quick_reused,
                         (unsigned long long)out->files_hashed);
        }
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
