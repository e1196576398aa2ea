#define _GNU_SOURCE
#include "collect/vd_hosthash.h"

#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/vd_hash.h"
#include "common/vd_buf.h"
#include "common/vd_log.h"

#define CHUNK ((size_t)4 << 20)
#define ZEROS ((size_t)1 << 20)
#define CONNECT_WAIT_MS 30000
#define THREADS_MAX 16u
/* A lying manifest could name the same extents over and over: read at most
 * this many times the disks' total size. */
#define READ_BUDGET_FACTOR 4

struct vd_hosthash {
        size_t n;
        char *dir;
        char **socks;
        pid_t *pids;
        uint64_t *sizes;
        unsigned threads;
};

static const unsigned char zeros[ZEROS];

static char *tail_of(const char *path) {
        static const size_t max = 600;
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *b = calloc(1, max + 1);
        size_t k = b ? fread(b, 1, max, f) : 0;
        fclose(f);
        if (b) {
                b[k] = '\0';
                for (char *p = b; *p; p++)
                        if (*p == '\n')
                                *p = *(p + 1) ? ' ' : '\0';
        }
        return b;
}

static void sleep_ms(long ms) {
        struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
}

static int export_disk(vd_hosthash *hh, size_t i, const char *path, const char *format, vd_err *err) {
        char *errf, *opts = NULL;
        if (asprintf(&hh->socks[i], "%s/disk%zu.sock", hh->dir, i) < 0 ||
            asprintf(&errf, "%s/disk%zu.err", hh->dir, i) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        char shared[16];
        snprintf(shared, sizeof shared, "%u", hh->threads + 1);
        /* --image-opts: force-share (the appliance's qemu holds the image
         * open for writing) is not a command-line flag of qemu-nbd; a comma
         * in a path is written twice */
        vd_buf io;
        vd_buf_init(&io, 0);
        int br = vd_buf_addf(&io, "driver=%s,read-only=on,force-share=on,file.driver=file,file.filename=", format);
        for (const char *c = path; !br && *c; c++)
                br = *c == ',' ? vd_buf_adds(&io, ",,") : vd_buf_addc(&io, *c);
        if (br || !(opts = vd_buf_detach(&io, NULL))) {
                vd_buf_release(&io);
                free(errf);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        const char *argv[] = {"qemu-nbd", "--read-only", "--persistent", "--shared", shared, "--socket",
                              hh->socks[i], "--image-opts", opts, NULL};
        pid_t pid = fork();
        if (pid < 0) {
                free(errf);
                free(opts);
                return vd_err_errno(err, VD_E_IO, errno, "cannot start qemu-nbd");
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive us */
                int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd >= 0)
                        dup2(fd, 2);
                if (nul >= 0) {
                        dup2(nul, 0);
                        dup2(nul, 1);
                }
                execvp(argv[0], (char *const *)argv);
                dprintf(2, "cannot run qemu-nbd: %s\n", strerror(errno));
                _exit(127);
        }
        hh->pids[i] = pid;
        int r = 0;
        for (long waited = 0;; waited += 20) {
                struct nbd_handle *h = nbd_create();
                if (!h) {
                        r = vd_err_set(err, VD_E_NOMEM, "cannot create an NBD handle: %s", nbd_get_error());
                        break;
                }
                if (nbd_connect_unix(h, hh->socks[i]) == 0) {
                        int64_t sz = nbd_get_size(h);
                        nbd_close(h);
                        if (sz < 0)
                                r = vd_err_set(err, VD_E_SOURCE, "qemu-nbd export of '%s' has no size", path);
                        hh->sizes[i] = sz < 0 ? 0 : (uint64_t)sz;
                        break;
                }
                nbd_close(h);
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        hh->pids[i] = 0;
                        char *why = tail_of(errf);
                        r = vd_err_set(err, VD_E_SOURCE, "qemu-nbd could not export '%s'%s%s", path,
                                       why && *why ? ": " : "", why ? why : "");
                        free(why);
                        break;
                }
                if (waited >= CONNECT_WAIT_MS) {
                        r = vd_err_set(err, VD_E_SOURCE, "qemu-nbd did not start serving '%s' within %d s", path,
                                       CONNECT_WAIT_MS / 1000);
                        break;
                }
                sleep_ms(20);
        }
        unlink(errf);
        free(errf);
        free(opts);
        return r;
}

int vd_hosthash_open(const char *const *paths, const char *const *formats, size_t n, unsigned threads,
                     const char *tmp_dir, vd_hosthash **ret, vd_err *err) {
        *ret = NULL;
        if (n == 0 || n > VD_DISKS_MAX)
                return vd_err_set(err, VD_E_USAGE, "host hashing: %zu disks", n);
        vd_hosthash *hh = calloc(1, sizeof *hh);
        if (!hh)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (threads == 0) {
                long c = sysconf(_SC_NPROCESSORS_ONLN);
                threads = c > 0 ? (unsigned)c : 1;
        }
        hh->threads = threads > THREADS_MAX ? THREADS_MAX : threads;
        hh->n = n;
        int r = 0;
        if (!(hh->socks = calloc(n, sizeof *hh->socks)) || !(hh->pids = calloc(n, sizeof *hh->pids)) ||
            !(hh->sizes = calloc(n, sizeof *hh->sizes)) ||
            asprintf(&hh->dir, "%s/vmdrift-nbd.XXXXXX", tmp_dir && *tmp_dir ? tmp_dir : "/tmp") < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        else if (!mkdtemp(hh->dir)) {
                r = vd_err_errno(err, VD_E_IO, errno, "cannot create a directory for the disk exports");
                free(hh->dir);
                hh->dir = NULL;
        }
        for (size_t i = 0; i < n && r == 0; i++)
                r = export_disk(hh, i, paths[i], formats[i], err);
        if (r < 0) {
                vd_hosthash_close(hh);
                return r;
        }
        *ret = hh;
        return 0;
}

void vd_hosthash_close(vd_hosthash *hh) {
        if (!hh)
                return;
        for (size_t i = 0; i < hh->n; i++) {
                if (hh->pids && hh->pids[i] > 0) {
                        kill(hh->pids[i], SIGTERM);
                        waitpid(hh->pids[i], NULL, 0);
                }
                if (hh->socks && hh->socks[i]) {
                        unlink(hh->socks[i]);
                        free(hh->socks[i]);
                }
        }
        if (hh->dir)
                rmdir(hh->dir);
        free(hh->dir);
        free(hh->socks);
        free(hh->pids);
        free(hh->sizes);
        free(hh);
}

/* ---- hashing ---- */

struct job {
        vd_hosthash *hh;
        size_t *same; /* per idx: the idx position of an identical map hashed instead (hard links), or SIZE_MAX */
        const vd_scan_opts *o;
        vd_scan *s;
        const size_t *idx; /* entries with extents */
        size_t n;
        atomic_size_t next;
        atomic_uint_fast64_t files, read, budget_left;
        unsigned char *bad;   /* per idx: 1 = the host could not hash it */
        char **why;           /* per idx: why (first error), or NULL */
        atomic_int nomem;
};

static void set_why(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(char **why, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(why, fmt, ap) < 0)
                *why = NULL;
        va_end(ap);
}

/* The hasher, and the bytes a tap keeps of the file (vd_content_tap). */
struct feed {
        vd_hasher *h;
        unsigned char *keep;
        size_t kept, keep_max;
};

static int feed(struct feed *f, const void *p, size_t n) {
        if (f->kept < f->keep_max) {
                size_t k = n < f->keep_max - f->kept ? n : f->keep_max - f->kept;
                memcpy(f->keep + f->kept, p, k);
                f->kept += k;
        }
        return vd_hasher_update(f->h, p, n);
}

static int feed_zeros(struct feed *f, uint64_t n) {
        while (n > 0) {
                size_t k = n < ZEROS ? (size_t)n : ZEROS;
                if (feed(f, zeros, k) < 0)
                        return -1;
                n -= k;
        }
        return 0;
}

/* 0, or -1 with *why set (malloc'ed). */
static int hash_one(struct job *j, struct nbd_handle **hs, struct feed *fd, unsigned char *buf, vd_entry *e,
                    char **why) {
        vd_hosthash *hh = j->hh;
        const vd_extent_map *m = e->extents;
        uint64_t pos = 0;
        vd_hasher *h = fd->h;
        vd_hasher_reset(h);
        for (uint32_t k = 0; k < m->n; k++) {
                const vd_extent *x = &m->v[k];
                if (x->disk >= hh->n || x->physical > hh->sizes[x->disk] ||
                    x->length > hh->sizes[x->disk] - x->physical) {
                        set_why(why, "an extent lies outside the disks (disk %u, offset %llu)", x->disk,
                                 (unsigned long long)x->physical);
                        return -1;
                }
                if (feed_zeros(fd, x->logical - pos) < 0) /* a hole */
                        return -1;
                pos = x->logical;
                if (x->flags & VD_EXTENT_ZERO) {
                        if (feed_zeros(fd, x->length) < 0)
                                return -1;
                        pos += x->length;
                        continue;
                }
                uint_fast64_t left = atomic_load(&j->budget_left);
                do {
                        if (left < x->length) {
                                set_why(why, "the host's read budget for this scan is spent (%d times the disks' "
                                              "size): the manifest names the same blocks over and over",
                                         READ_BUDGET_FACTOR);
                                return -1;
                        }
                } while (!atomic_compare_exchange_weak(&j->budget_left, &left, left - x->length));
                if (!hs[x->disk]) {
                        struct nbd_handle *c = nbd_create();
                        if (!c || nbd_connect_unix(c, hh->socks[x->disk]) < 0) {
                                set_why(why, "cannot connect to the export of disk %u: %s", x->disk, nbd_get_error());
                                if (c)
                                        nbd_close(c);
                                return -1;
                        }
                        hs[x->disk] = c;
                }
                for (uint64_t off = 0; off < x->length;) {
                        size_t k2 = x->length - off < CHUNK ? (size_t)(x->length - off) : CHUNK;
                        if (nbd_pread(hs[x->disk], buf, k2, x->physical + off, 0) < 0) {
                                set_why(why, "cannot read disk %u at %llu: %s", x->disk,
                                         (unsigned long long)(x->physical + off), nbd_get_error());
                                return -1;
                        }
                        if (feed(fd, buf, k2) < 0)
                                return -1;
                        off += k2;
                }
                atomic_fetch_add(&j->read, x->length);
                pos += x->length;
        }
        if (feed_zeros(fd, e->size - pos) < 0) /* a hole at the end */
                return -1;
        int n = vd_hasher_final(h, e->hash);
        if (n <= 0)
                return -1;
        e->hash_len = (uint8_t)n;
        e->hash_algo = (uint8_t)j->o->hash_algo;
        return 0;
}

static void *worker(void *arg) {
        struct job *j = arg;
        struct nbd_handle **hs = calloc(j->hh->n, sizeof *hs);
        vd_hasher *h = vd_hasher_new(j->o->hash_algo, j->o->seed);
        unsigned char *buf = malloc(CHUNK);
        if (!hs || !h || !buf)
                atomic_store(&j->nomem, 1);
        const vd_content_tap *tap = j->o->tap;
        struct feed fd = {.h = h};
        size_t keep_alloc = 0;
        for (;;) {
                size_t i = atomic_fetch_add(&j->next, 1);
                if (i >= j->n || atomic_load(&j->nomem))
                        break;
                if (j->same[i] != SIZE_MAX)
                        continue; /* the same bytes as another file: its hash is copied afterwards */
                vd_entry *e = j->s->entries.v[j->idx[i]];
                char *why = NULL;
                /* the bytes a tap wants are kept as they pass (no second read) */
                fd.kept = fd.keep_max = 0;
                size_t want = tap ? tap->want(tap->ctx, e) : 0;
                if (want > e->size)
                        want = (size_t)e->size;
                if (want > keep_alloc) {
                        unsigned char *nk = realloc(fd.keep, want);
                        if (nk) {
                                fd.keep = nk;
                                keep_alloc = want;
                        }
                }
                fd.keep_max = want <= keep_alloc ? want : 0; /* out of memory: the tap reads it another way */
                if (hash_one(j, hs, &fd, buf, e, &why) < 0) {
                        j->bad[i] = 1;
                        j->why[i] = why;
                } else {
                        atomic_fetch_add(&j->files, 1);
                        if (fd.keep_max)
                                tap->seen(tap->ctx, e, fd.keep, fd.kept);
                }
        }
        free(fd.keep);
        for (size_t d = 0; hs && d < j->hh->n; d++)
                if (hs[d])
                        nbd_close(hs[d]);
        free(hs);
        vd_hasher_free(h);
        free(buf);
        return NULL;
}

/* Hard links carry the same extents: read them once. Identical maps and
 * sizes name identical bytes, so copying the hash is exact. */
static const vd_scan *cmp_scan;
static const size_t *cmp_idx;
static int cmp_maps(const void *pa, const void *pb) {
        const vd_entry *a = cmp_scan->entries.v[cmp_idx[*(const size_t *)pa]],
                       *b = cmp_scan->entries.v[cmp_idx[*(const size_t *)pb]];
        if (a->size != b->size)
                return a->size < b->size ? -1 : 1;
        if (a->extents->n != b->extents->n)
                return a->extents->n < b->extents->n ? -1 : 1;
        int c = memcmp(a->extents->v, b->extents->v, a->extents->n * sizeof(vd_extent));
        if (c)
                return c;
        return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

static int find_same(struct job *j) {
        size_t *order = malloc(j->n * sizeof *order);
        if (!order)
                return VD_E_NOMEM;
        for (size_t i = 0; i < j->n; i++) {
                order[i] = i;
                j->same[i] = SIZE_MAX;
        }
        cmp_scan = j->s; /* qsort has no context argument; the run is single-threaded here */
        cmp_idx = j->idx;
        qsort(order, j->n, sizeof *order, cmp_maps);
        for (size_t k = 1; k < j->n; k++) {
                const vd_entry *a = j->s->entries.v[j->idx[order[k - 1]]], *b = j->s->entries.v[j->idx[order[k]]];
                if (a->size == b->size && a->extents->n == b->extents->n && a->extents->n > 0 &&
                    memcmp(a->extents->v, b->extents->v, a->extents->n * sizeof(vd_extent)) == 0)
                        j->same[order[k]] = j->same[order[k - 1]] == SIZE_MAX ? order[k - 1] : j->same[order[k - 1]];
        }
        free(order);
        return 0;
}

int vd_hosthash_run(vd_hosthash *hh, const vd_scan_opts *o, vd_scan *s, size_t **failed, size_t *n_failed,
                    vd_err *err) {
        *failed = NULL;
        *n_failed = 0;
        size_t n = 0;
        for (size_t i = 0; i < s->entries.n; i++)
                n += s->entries.v[i]->extents != NULL;
        if (n == 0)
                return 0;
        struct job j;
        memset(&j, 0, sizeof j);
        j.hh = hh;
        j.o = o;
        j.s = s;
        j.n = n;
        uint64_t total = 0;
        for (size_t d = 0; d < hh->n; d++)
                total += hh->sizes[d];
        atomic_store(&j.budget_left, total > UINT64_MAX / READ_BUDGET_FACTOR ? UINT64_MAX : total * READ_BUDGET_FACTOR);
        size_t *idx = malloc(n * sizeof *idx);
        j.bad = calloc(n, 1);
        j.why = calloc(n, sizeof *j.why);
        j.same = malloc(n * sizeof *j.same);
        if (!idx || !j.bad || !j.why || !j.same) {
                free(idx);
                free(j.bad);
                free(j.why);
                free(j.same);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        for (size_t i = 0, k = 0; i < s->entries.n; i++)
                if (s->entries.v[i]->extents)
                        idx[k++] = i;
        j.idx = idx;
        if (find_same(&j) < 0) {
                free(idx);
                free(j.bad);
                free(j.why);
                free(j.same);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        unsigned nt = hh->threads < n ? hh->threads : (unsigned)n;
        pthread_t th[THREADS_MAX];
        unsigned started = 0;
        for (; started < nt; started++)
                if (pthread_create(&th[started], NULL, worker, &j) != 0)
                        break;
        if (started == 0)
                worker(&j);
        for (unsigned t = 0; t < started; t++)
                pthread_join(th[t], NULL);
        int r = 0;
        if (atomic_load(&j.nomem))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory in a host hashing thread");
        size_t shared = 0;
        for (size_t i = 0; i < n; i++) {
                if (j.same[i] == SIZE_MAX)
                        continue;
                vd_entry *e = s->entries.v[idx[i]], *f = s->entries.v[idx[j.same[i]]];
                j.bad[i] = j.bad[j.same[i]];
                if (!j.bad[i] && f->hash_len) {
                        memcpy(e->hash, f->hash, f->hash_len);
                        e->hash_len = f->hash_len;
                        e->hash_algo = f->hash_algo;
                        atomic_fetch_add(&j.files, 1);
                        shared++;
                } else if (j.why[j.same[i]])
                        j.why[i] = strdup(j.why[j.same[i]]); /* NULL: the warning says out of memory */
        }
        size_t nf = 0;
        for (size_t i = 0; i < n; i++)
                nf += j.bad[i] || (r < 0 && s->entries.v[idx[i]]->hash_len == 0);
        size_t *fl = nf ? malloc(nf * sizeof *fl) : NULL;
        if (nf && !fl && r == 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                vd_entry *e = s->entries.v[idx[i]];
                if (j.bad[i] && r == 0) {
                        r = vd_scan_warn(s, e->path, e->path_len, "not hashed on the host (%s): hashed through "
                                         "the appliance instead", j.why[i] ? j.why[i] : "out of memory");
                        if (r < 0)
                                vd_err_set(err, r, "out of memory");
                }
                if ((j.bad[i] || e->hash_len == 0) && fl)
                        fl[k++] = idx[i];
                else if (!j.bad[i] && e->hash_len) {
                        s->st.files_hashed++;
                        s->st.bytes_hashed += e->size;
                        free(e->extents);
                        e->extents = NULL;
                }
                free(j.why[i]);
        }
        s->st.host_files += atomic_load(&j.files);
        s->st.host_bytes += atomic_load(&j.read);
        vd_debug("host hashing: %llu files (%zu sharing another's blocks), %llu bytes read, %zu left to the "
                 "appliance, %u threads",
                 (unsigned long long)atomic_load(&j.files), shared, (unsigned long long)atomic_load(&j.read), k, nt);
        free(idx);
        free(j.same);
        free(j.bad);
        free(j.why);
        if (r < 0) {
                free(fl);
                return r;
        }
        *failed = fl;
        *n_failed = k;
        return 0;
}

int vd_hosthash_diff(vd_hosthash *hh, size_t a, size_t b, const uint64_t (*ranges)[2], size_t n, uint64_t unit,
                     int (*fn)(void *ud, uint64_t start, uint64_t len), void *ud, vd_err *err) {
        if (a >= hh->n || b >= hh->n || unit == 0 || CHUNK % unit != 0)
                return vd_err_set(err, VD_E_USAGE, "vd_hosthash_diff: bad arguments");
        struct nbd_handle *ha = nbd_create(), *hb = nbd_create();
        unsigned char *ba = malloc(CHUNK), *bb = malloc(CHUNK);
        int r = 0;
        if (!ha || !hb || !ba || !bb)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        else if (nbd_connect_unix(ha, hh->socks[a]) < 0 || nbd_connect_unix(hb, hh->socks[b]) < 0)
                r = vd_err_set(err, VD_E_SOURCE, "cannot connect to the image exports: %s", nbd_get_error());
        /* a differing run [run_start, run_end) is reported once it ends */
        uint64_t run_start = 0, run_end = 0;
        bool in_run = false;
        for (size_t i = 0; r == 0 && i < n; i++) {
                uint64_t start = ranges[i][0] / unit * unit, end = ranges[i][0] + ranges[i][1];
                if (end > hh->sizes[a])
                        end = hh->sizes[a];
                for (uint64_t off = start; r == 0 && off < end;) {
                        size_t k = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
                        /* past the end of the other image: all of it differs */
                        size_t kb = off >= hh->sizes[b] ? 0 : (hh->sizes[b] - off < k ? (size_t)(hh->sizes[b] - off) : k);
                        if (nbd_pread(ha, ba, k, off, 0) < 0 || (kb && nbd_pread(hb, bb, kb, off, 0) < 0)) {
                                r = vd_err_set(err, VD_E_SOURCE, "cannot read the images: %s", nbd_get_error());
                                break;
                        }
                        for (size_t u = 0; u < k; u += unit) {
                                size_t len = k - u < unit ? k - u : unit;
                                bool differs = u + len > kb || memcmp(ba + u, bb + u, len) != 0;
                                uint64_t at = off + u;
                                if (differs && in_run && run_end == at)
                                        run_end = at + len;
                                else if (differs) {
                                        if (in_run && (r = fn(ud, run_start, run_end - run_start)) < 0)
                                                break;
                                        in_run = true;
                                        run_start = at;
                                        run_end = at + len;
                                }
                        }
                        off += k;
                }
        }
        if (r == 0 && in_run)
                r = fn(ud, run_start, run_end - run_start);
        if (ha)
                nbd_close(ha);
        if (hb)
                nbd_close(hb);
        free(ba);
        free(bb);
        return r;
}
