/* vmdrift-walker: the directory source, run inside the libguestfs appliance.
 *
 * Linked statically from collect/'s own sources (and common/'s) so that it runs in the appliance
 * (which has no libraries of ours), it walks the read-only guest mounted at
 * --root exactly as `vmdrift --dir` walks a tree, hashes on the appliance's
 * CPUs and writes one manifest, which the host downloads and decodes as
 * untrusted input. This avoids a protocol round trip per file (about 1 ms
 * each, 55 ms per guestfs_checksum under TCG).
 *
 * usage: vmdrift-walker --root DIR --out FILE [--hash xxh3-128|sha256|none]
 *                       [--seed HEX64] [--threads N] [--max-depth N]
 *                       [--one-file-system] [--extents MIN]
 *        --extents MIN: regular files of MIN bytes or more whose extents map
 *                       to whole disks (vd_extents.h) get those extents in
 *                       the manifest instead of a hash: the host hashes them
 *        --delta FILE:  prove regular files unchanged since the template
 *                       (vd_delta.h: FILE holds the changed ranges and the
 *                       expected geometry) instead of hashing them;
 *                       --delta-verify: prove and hash both
 *        --geometry:    after the summary line, one line per ext4 file
 *                       system under DIR: "geometry KEY VALUE", and one
 *                       "mounts VALUE" (vd_delta_mounts)
 *        --record-blocks: with --geometry and no --delta (a capture), each
 *                       entry of an ext4 file system gets the record of
 *                       the blocks its inode names (vd_delta_record)
 *        --read-inodes: with --reference, ignore its records: read every
 *                       inode the walk proves (tests: the differential)
 *        --slim:        with --reference, the manifest gives the entries
 *                       taken from the reference unchanged as runs of their
 *                       indices in it (vd_manifest_encode_ref)
 *        --reference FILE: with --delta, a manifest of the baseline's
 *                       entries: walk only what changed (vd_scan_opts.
 *                       walk_reference) when the mounts are the ones the
 *                       delta file expects; a last line says which ran:
 *                       "walk changed-only" or "walk whole: WHY"; then
 *                       "inodes: N answered from the baseline's records,
 *                       M read"
 *        --disks F:N:   the guest's disks are the appliance's drives F to
 *                       F+N-1 (several guests share it): disk numbers in
 *                       extents, ranges and geometry count from drive F, and
 *                       other drives are no disks of this guest
 *        --cat LIST --max BYTES --cat-out FILE: after the walk, read the
 *                       files as below into FILE; a last line says "cat N"
 *                       or "cat failed: WHY" (the walk stands either way).
 *                       An item "*PATTERN" of LIST reads, as extra files,
 *                       every regular file of the walk that matches it and
 *                       is not named (a configuration file new since the
 *                       baseline)
 *        vmdrift-walker --root DIR --cat LIST --max BYTES --out FILE
 *                       read the regular files named in LIST (NUL-separated
 *                       paths inside DIR, never through a symlink) into one
 *                       file (vd_catfile.h): the host's configuration reads
 *                       in one round trip instead of two per file
 * Exit 0 with a one-line summary on stdout, or 1 with a message on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/vd_delta.h"
#include "collect/vd_extents.h"
#include "collect/vd_manifest.h"
#include "collect/vd_source.h"
#include "common/vd_glob.h"
#include "common/vd_io.h"
#include "common/vd_str.h"
#include "formats/vd_catfile.h"

static int die(const char *msg) {
        fprintf(stderr, "vmdrift-walker: %s\n", msg);
        return 1;
}

static int write_all(const char *out, const vd_buf *b) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        if (vd_write_full(fd, b->buf, b->len) < 0) {
                close(fd);
                return -1;
        }
        return close(fd);
}

/* Read the regular files named in list (NUL-separated) into out
 * (vd_catfile.h). out is removed first, so a failure never leaves an
 * earlier run's answer (a shared appliance's previous guest) in its place.
 * The number of files, or -1 with why. */
/* One file into the batch: asked (path NULL in the batch) or extra. */
static int cat_one(vd_source *src, vd_buf *res, const char *p, const char *extra_path, uint64_t max) {
        vd_buf data;
        vd_buf_init(&data, (size_t)max + 1);
        vd_err e = VD_ERR_INIT;
        int rr = src->ops->read_file(src, p, (size_t)max, &data, &e);
        int ar = extra_path ? vd_catfile_add_extra(res, extra_path, rr < 0 ? rr : 0, rr < 0 ? e.msg : "", data.buf,
                                                   rr < 0 ? 0 : data.len)
                            : vd_catfile_add(res, rr < 0 ? rr : 0, rr < 0 ? e.msg : "", data.buf, rr < 0 ? 0 : data.len);
        vd_buf_release(&data);
        return ar;
}

static bool listed(const vd_buf *names, const char *path) {
        for (size_t off = 0; off < names->len;) {
                const char *p = names->buf + off;
                size_t pl = strnlen(p, names->len - off);
                if (p[0] != '*' && strcmp(p, path) == 0)
                        return true;
                off += pl + 1;
        }
        return false;
}

/* Read the files named in list (NUL-separated paths) into out. An item
 * "*PATTERN" (s given: after a walk) asks for every regular file of the walk
 * that matches it and is not named, as an extra file (vd_catfile.h): the
 * configuration files that are new since the baseline. The count of named
 * files, or -1 with why. */
static long cat_files(const char *root, const char *list, uint64_t max, const char *out, const vd_scan *s, char *why,
                      size_t whylen) {
        unlink(out);
        vd_err err = VD_ERR_INIT;
        vd_source *src = NULL;
        vd_buf names, res;
        vd_buf_init(&names, VD_CAT_LIST_MAX);
        vd_buf_init(&res, (size_t)1 << 31);
        long r = -1;
        size_t n = 0, nx = 0;
        size_t *xi = NULL;
        FILE *f = NULL;
        if (vd_source_open_dir(root, &src, &err) < 0) {
                snprintf(why, whylen, "%.250s", err.msg);
                goto out;
        }
        if (!(f = fopen(list, "re"))) {
                snprintf(why, whylen, "--cat: cannot read the list");
                goto out;
        }
        char chunk[65536];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
                if (vd_buf_add(&names, chunk, k) < 0) {
                        snprintf(why, whylen, "--cat: list too long");
                        goto out;
                }
        for (size_t off = 0; off < names.len;) {
                size_t pl = strnlen(names.buf + off, names.len - off);
                n += names.buf[off] != '*';
                off += pl + 1;
        }
        /* the extra files: the walk's regular files a pattern matches */
        for (size_t off = 0; s && off < names.len;) {
                const char *pat = names.buf + off;
                size_t pl = strnlen(pat, names.len - off);
                off += pl + 1;
                if (pat[0] != '*')
                        continue;
                /* the entries under its literal directory: contiguous (sorted) */
                const char *pp = pat + 1;
                size_t lit;
                for (size_t i = vd_entries_glob_start(&s->entries, pp, &lit); i < s->entries.n && n + nx < VD_CAT_FILES_MAX; i++) {
                        const vd_entry *e = s->entries.v[i];
                        if (e->path_len < lit || memcmp(e->path, pp, lit) != 0)
                                break;
                        bool dup = false;
                        for (size_t j = 0; j < nx && !dup; j++)
                                dup = xi[j] == i;
                        if (dup || e->type != VD_T_REG || e->status != VD_ST_OK ||
                            memchr(e->path, '\n', e->path_len) || !vd_glob_match(pp, e->path, e->path_len) ||
                            listed(&names, e->path))
                                continue;
                        size_t *g = realloc(xi, (nx + 1) * sizeof *g);
                        if (!g) {
                                snprintf(why, whylen, "out of memory");
                                goto out;
                        }
                        xi = g;
                        xi[nx++] = i;
                }
        }
        if (vd_catfile_begin(&res, n) < 0) {
                snprintf(why, whylen, "out of memory");
                goto out;
        }
        for (size_t off = 0; off < names.len;) {
                const char *p = names.buf + off;
                off += strnlen(p, names.len - off) + 1;
                if (p[0] != '*' && cat_one(src, &res, p, NULL, max) < 0) {
                        snprintf(why, whylen, "out of memory");
                        goto out;
                }
        }
        if (vd_catfile_extra(&res, nx) < 0) {
                snprintf(why, whylen, "out of memory");
                goto out;
        }
        for (size_t j = 0; j < nx; j++)
                if (cat_one(src, &res, s->entries.v[xi[j]]->path, s->entries.v[xi[j]]->path, max) < 0) {
                        snprintf(why, whylen, "out of memory");
                        goto out;
                }
        if (write_all(out, &res) < 0) {
                unlink(out);
                snprintf(why, whylen, "cannot write the output file");
                goto out;
        }
        r = (long)n;
out:
        if (f)
                fclose(f);
        free(xi);
        vd_source_close(src);
        vd_buf_release(&names);
        vd_buf_release(&res);
        return r;
}

/* The whole of a regular file of at most 1 GiB. */
static int read_all(const char *path, char **ret, size_t *len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 30)) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        char *b = malloc((size_t)st.st_size + 1);
        size_t got = 0;
        while (b && got < (size_t)st.st_size) {
                ssize_t k = read(fd, b + got, (size_t)st.st_size - got);
                if (k <= 0)
                        break;
                got += (size_t)k;
        }
        close(fd);
        if (!b || got != (size_t)st.st_size) {
                free(b);
                return -1;
        }
        *ret = b;
        *len = got;
        return 0;
}

/* What the host asks for (its arguments; see run_walker in
 * collect/guest/walker_run.c). */
struct walker_args {
        const char *root, *out, *cat, *cat_out, *delta, *reference;
        uint64_t cat_max;
        vd_scan_opts o;
        bool have_seed, geometry, record, read_inodes, slim;
};

/* 0, or die()'s code after saying why. */
static int parse_args(int argc, char **argv, struct walker_args *w) {
        memset(w, 0, sizeof *w);
        vd_scan_opts_init(&w->o);
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                uint64_t n;
                if (strcmp(a, "--one-file-system") == 0) {
                        w->o.one_file_system = true;
                        continue;
                }
                if (strcmp(a, "--geometry") == 0) {
                        w->geometry = true;
                        continue;
                }
                if (strcmp(a, "--delta-verify") == 0) {
                        w->o.delta_verify = true;
                        continue;
                }
                if (strcmp(a, "--record-blocks") == 0) {
                        w->record = true;
                        continue;
                }
                if (strcmp(a, "--read-inodes") == 0) {
                        w->read_inodes = true;
                        continue;
                }
                if (strcmp(a, "--slim") == 0) {
                        w->slim = true;
                        continue;
                }
                if (!v)
                        return die("option needs a value");
                i++;
                if (strcmp(a, "--root") == 0)
                        w->root = v;
                else if (strcmp(a, "--out") == 0)
                        w->out = v;
                else if (strcmp(a, "--delta") == 0)
                        w->delta = v;
                else if (strcmp(a, "--reference") == 0)
                        w->reference = v;
                else if (strcmp(a, "--cat") == 0)
                        w->cat = v;
                else if (strcmp(a, "--cat-out") == 0)
                        w->cat_out = v;
                else if (strcmp(a, "--max") == 0 && vd_parse_u64(v, &n) && n <= ((uint64_t)256 << 20))
                        w->cat_max = n;
                else if (strcmp(a, "--hash") == 0) {
                        w->o.hash_algo = strcmp(v, "none") == 0 ? VD_HASH_NONE : vd_hash_algo_from_name(v);
                        if (w->o.hash_algo == VD_HASH_NONE && strcmp(v, "none") != 0)
                                return die("unknown --hash");
                } else if (strcmp(a, "--seed") == 0) {
                        if (!vd_unhex(v, w->o.seed, VD_HASH_SEED_LEN))
                                return die("--seed expects 64 hex digits");
                        w->have_seed = true;
                } else if (strcmp(a, "--threads") == 0 && vd_parse_u64(v, &n) && n <= 64)
                        w->o.threads = (unsigned)n;
                else if (strcmp(a, "--max-depth") == 0 && vd_parse_u64(v, &n) && n <= 1000000)
                        w->o.max_depth = (unsigned)n;
                else if (strcmp(a, "--extents") == 0 && vd_parse_u64(v, &n) && n >= 1)
                        w->o.extents_min = n;
                else if (strcmp(a, "--disks") == 0) {
                        /* FIRST:COUNT: the drives that are the guest's disks */
                        unsigned long long f, c;
                        int end = 0;
                        if (sscanf(v, "%llu:%llu%n", &f, &c, &end) != 2 || v[end] || f >= VD_DRIVES_MAX || c == 0 ||
                            c > VD_DISKS_MAX)
                                return die("--disks expects FIRST:COUNT");
                        vd_extents_set_disks((unsigned)f, (unsigned)c);
                }
                else
                        return die("unknown option or bad value");
        }
        return 0;
}

int main(int argc, char **argv) {
        int64_t t_start = vd_mono_ns();
        struct walker_args w;
        int pr = parse_args(argc, argv, &w);
        if (pr)
                return pr;
        const char *root = w.root, *out = w.out, *cat = w.cat, *cat_out = w.cat_out, *delta = w.delta,
                   *reference = w.reference;
        uint64_t cat_max = w.cat_max;
        vd_scan_opts o = w.o;
        bool have_seed = w.have_seed, geometry = w.geometry, record = w.record, read_inodes = w.read_inodes,
             slim = w.slim;
        if (!root || !out)
                return die("--root and --out are required");
        char why[300];
        if (cat && !cat_out) {
                long nr = cat_files(root, cat, cat_max, out, NULL, why, sizeof why);
                if (nr < 0)
                        return die(why);
                printf("%ld files read\n", nr);
                return 0;
        }
        if (o.hash_algo == VD_HASH_XXH3 && !have_seed)
                return die("xxh3-128 needs --seed");
        /* never an earlier run's answer in place of ours (a shared
         * appliance's previous guest), should this one fail */
        unlink(out);
        if (cat_out)
                unlink(cat_out);

        vd_err derr = VD_ERR_INIT;
        if (delta && vd_delta_load(delta, &o.delta, &derr) < 0)
                return die(derr.msg);
        if (!o.delta && geometry && !(o.delta = vd_delta_new()))
                return die("out of memory");
        if (!delta)
                o.delta_verify = false;
        vd_delta *dl = o.delta;
        if (!delta)
                o.delta = NULL; /* geometry only: prove nothing */
        if (o.delta)
                vd_delta_print_geometry(o.delta, root, NULL);
        else if (record && dl)
                o.record_blocks = dl; /* a capture: nothing changed, every inode's blocks noted */
        vd_scan ref;
        vd_scan_init(&ref);
        char walk_line[300] = "";
        if (reference && o.delta) {
                char cur[VD_DELTA_MOUNTS_MAX + 1];
                const char *want = vd_delta_expected_mounts(o.delta);
                vd_err re = VD_ERR_INIT;
                char *data = NULL;
                size_t len = 0;
                if (!want)
                        snprintf(walk_line, sizeof walk_line, "walk whole: the baseline records no mounts (captured "
                                 "by an older vmdrift)");
                else if (vd_delta_mounts(o.delta, root, cur, sizeof cur) < 0 || strcmp(cur, want) != 0)
                        snprintf(walk_line, sizeof walk_line, "walk whole: the guest's mounts or file-system features are "
                                 "not the template's");
                else if (read_all(reference, &data, &len) < 0 || vd_manifest_decode(data, len, &ref, &re) < 0)
                        snprintf(walk_line, sizeof walk_line, "walk whole: cannot read the reference: %.200s",
                                 re.msg[0] ? re.msg : strerror(errno));
                else {
                        vd_entries_sort(&ref.entries);
                        for (size_t i = 0; read_inodes && i < ref.entries.n; i++) {
                                free(ref.entries.v[i]->blocks); /* tests: every inode read, as without records */
                                ref.entries.v[i]->blocks = NULL;
                        }
                        o.walk_reference = &ref.entries;
                        snprintf(walk_line, sizeof walk_line, "walk changed-only");
                }
                free(data);
        }
        int64_t t_ref = vd_mono_ns();
        vd_err err = VD_ERR_INIT;
        vd_source *src = NULL;
        vd_scan s;
        if (vd_source_open_dir(root, &src, &err) < 0 || vd_source_scan(src, &o, &s, &err) < 0)
                return die(err.msg);
        vd_source_close(src);
        int64_t t_walk = vd_mono_ns();
        vd_buf b;
        vd_buf_init(&b, (size_t)4 << 30);
        if ((slim && o.walk_reference ? vd_manifest_encode_ref(&s, o.walk_reference, &b) : vd_manifest_encode(&s, &b)) <
            0)
                return die("cannot encode the manifest");
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return die("cannot create the manifest file");
        for (size_t off = 0; off < b.len;) {
                ssize_t k = write(fd, b.buf + off, b.len - off);
                if (k <= 0) {
                        close(fd);
                        return die("cannot write the manifest file");
                }
                off += (size_t)k;
        }
        if (close(fd) < 0)
                return die("cannot write the manifest file");
        int64_t t_out = vd_mono_ns();
        printf("%zu entries, %llu files hashed, %llu bytes, %llu files mapped for the host, %zu warnings, %.2f s\n",
               s.entries.n, (unsigned long long)s.st.files_hashed, (unsigned long long)s.st.bytes_hashed,
               (unsigned long long)s.st.files_mapped, s.n_warnings, (double)s.duration_ns / 1e9);
        if (geometry) {
                char mounts[VD_DELTA_MOUNTS_MAX + 1];
                vd_delta_print_geometry(dl, root, stdout);
                if (vd_delta_mounts(dl, root, mounts, sizeof mounts) == 0)
                        printf("mounts %s\n", mounts);
        }
        if (walk_line[0])
                printf("%s\n", walk_line);
        if (o.walk_reference) {
                uint64_t nrec, nread;
                vd_delta_counts(dl, &nrec, &nread);
                printf("inodes: %llu answered from the baseline's records, %llu read\n", (unsigned long long)nrec,
                       (unsigned long long)nread);
        }
        /* the files the host will read next, in this same run; a failure
         * here is no failure of the walk (the host reads them itself) */
        int64_t t_cat = vd_mono_ns();
        if (cat && cat_out) {
                long nr = cat_files(root, cat, cat_max, cat_out, &s, why, sizeof why);
                if (nr < 0)
                        printf("cat failed: %s\n", why);
                else
                        printf("cat %ld\n", nr);
        }
        /* where the run's time went (the host's debug log shows it) */
        printf("times: setup %.2f s, walk %.2f s, manifest %.2f s, cat %.2f s\n", (double)(t_ref - t_start) / 1e9,
               (double)(t_walk - t_ref) / 1e9, (double)(t_out - t_walk) / 1e9, (double)(vd_mono_ns() - t_cat) / 1e9);
        vd_scan_release(&ref);
        vd_delta_free(dl);
        vd_buf_release(&b);
        vd_scan_release(&s);
        return 0;
}
