/* The directory source's hashing: a pool of threads fed by a bounded queue
 * (which also bounds the open fds); each regular file re-opened through the
 * magic link of the inode the walk stat'ed, read and hashed again when it
 * changed while read, then marked changing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_dir_int.h"

#define READ_CHUNK ((size_t)1 << 20)

int64_t vdd_ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static bool same_version(const struct stat *a, const struct stat *b) {
        return a->st_size == b->st_size && vdd_ts_ns(&a->st_mtim) == vdd_ts_ns(&b->st_mtim) &&
               vdd_ts_ns(&a->st_ctim) == vdd_ts_ns(&b->st_ctim) && a->st_ino == b->st_ino;
}

void (*vd_dir_read_hook)(const char *path, int attempt, uint64_t offset);

/* A hashing thread's copy of the bytes a tap wants (vd_content_tap). */
struct keep {
        unsigned char *p;
        size_t n, max, alloc;
};

static void keep_start(struct keep *k, const struct pool *pl, const vd_entry *e) {
        k->n = k->max = 0;
        size_t want = pl->tap ? pl->tap->want(pl->tap->ctx, e) : 0;
        if (want > k->alloc) {
                unsigned char *np = realloc(k->p, want);
                if (!np)
                        return; /* the tap reads it another way */
                k->p = np;
                k->alloc = want;
        }
        k->max = want;
}

static void keep_add(struct keep *k, const void *p, size_t n) {
        if (k->n >= k->max)
                return;
        size_t c = n < k->max - k->n ? n : k->max - k->n;
        memcpy(k->p + k->n, p, c);
        k->n += c;
}

/* Hash one file; retries when it changes under us, then marks it CHANGING. */
static void hash_file(struct pool *pl, vd_hasher *h, unsigned char *buf, struct keep *kp, vd_entry *e, int fd) {
        for (int attempt = 0; attempt < HASH_TRIES; attempt++) {
                /* O_NONBLOCK: a file such as /proc/kmsg must not hang us */
                int rfd = vdd_open_magic(fd, O_RDONLY | O_NOATIME | O_NONBLOCK);
                if (rfd < 0 && errno == EPERM)
                        rfd = vdd_open_magic(fd, O_RDONLY | O_NONBLOCK);
                if (rfd < 0) {
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = errno;
                        return;
                }
                struct stat a, b;
                if (fstat(rfd, &a) < 0) {
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = errno;
                        close(rfd);
                        return;
                }
                if (attempt == 0 && pl->delta && S_ISREG(a.st_mode)) {
                        int why = VD_DW_FS;
                        if (vd_delta_prove(pl->delta, rfd, &a, &why) == 1) {
                                atomic_fetch_add(&pl->proved, 1);
                                e->delta_proved = 1;
                                if (!pl->delta_verify) {
                                        /* the host takes the baseline's hash for this version */
                                        e->size = (uint64_t)a.st_size;
                                        e->mtime_ns = vdd_ts_ns(&a.st_mtim);
                                        e->ctime_ns = vdd_ts_ns(&a.st_ctim);
                                        e->ino = (uint64_t)a.st_ino;
                                        e->status = VD_ST_OK;
                                        e->hash_len = 0;
                                        close(rfd);
                                        return;
                                }
                        } else
                                atomic_fetch_add(&pl->why[why], 1);
                }
                if (attempt == 0 && pl->extents_min && S_ISREG(a.st_mode)) {
                        vd_extent_map *m = NULL;
                        int reason = VD_FB_SMALL;
                        int mr = (uint64_t)a.st_size < pl->extents_min ? 1 : vd_extents_map(rfd, &a, &m, &reason);
                        if (mr == 0) {
                                /* the host reads and hashes it; the version mapped is the one recorded */
                                e->extents = m;
                                e->size = (uint64_t)a.st_size;
                                e->mtime_ns = vdd_ts_ns(&a.st_mtim);
                                e->ctime_ns = vdd_ts_ns(&a.st_ctim);
                                e->status = VD_ST_OK;
                                e->hash_len = 0;
                                atomic_fetch_add(&pl->mapped, 1);
                                close(rfd);
                                return;
                        }
                        if (mr < 0)
                                atomic_store(&pl->failed, 1);
                        else
                                atomic_fetch_add(&pl->fallback[reason], 1);
                }
                vd_hasher_reset(h);
                keep_start(kp, pl, e);
                uint64_t total = 0;
                int rerr = 0;
                for (;;) {
                        ssize_t k = read(rfd, buf, READ_CHUNK);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                rerr = errno;
                                break;
                        }
                        if (k == 0)
                                break;
                        vd_hasher_update(h, buf, (size_t)k);
                        keep_add(kp, buf, (size_t)k);
                        total += (uint64_t)k;
                        if (vd_dir_read_hook)
                                vd_dir_read_hook(e->path, attempt, total);
                }
                int serr = fstat(rfd, &b) < 0 ? errno : 0;
                close(rfd);
                if (rerr || serr) {
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = rerr ? rerr : serr;
                        return;
                }
                atomic_fetch_add(&pl->bytes, total);
                if (total == (uint64_t)a.st_size && same_version(&a, &b)) {
                        /* Record the version we hashed, which may be newer than the walk's stat. */
                        e->size = (uint64_t)a.st_size;
                        e->mtime_ns = vdd_ts_ns(&a.st_mtim);
                        e->ctime_ns = vdd_ts_ns(&a.st_ctim);
                        int n = vd_hasher_final(h, e->hash);
                        if (n > 0) {
                                e->hash_len = (uint8_t)n;
                                e->hash_algo = (uint8_t)pl->algo;
                                e->status = VD_ST_OK;
                                if (kp->max)
                                        pl->tap->seen(pl->tap->ctx, e, kp->p, kp->n);
                        }
                        atomic_fetch_add(&pl->files, 1);
                        return;
                }
        }
        e->status = VD_ST_CHANGING;
        e->hash_len = 0;
}

static void *worker(void *arg) {
        struct pool *pl = arg;
        vd_hasher *h = vd_hasher_new(pl->algo, pl->seed);
        unsigned char *buf = malloc(READ_CHUNK);
        struct keep kp = {0};
        if (!h || !buf)
                atomic_store(&pl->failed, 1);
        for (;;) {
                pthread_mutex_lock(&pl->mu);
                while (pl->count == 0 && !pl->done)
                        pthread_cond_wait(&pl->not_empty, &pl->mu);
                if (pl->count == 0 && pl->done) {
                        pthread_mutex_unlock(&pl->mu);
                        break;
                }
                struct job j = pl->q[pl->head];
                pl->head = (pl->head + 1) % QUEUE_MAX;
                pl->count--;
                pthread_cond_signal(&pl->not_full);
                pthread_mutex_unlock(&pl->mu);
                if (h && buf)
                        hash_file(pl, h, buf, &kp, j.e, j.fd);
                close(j.fd);
                if (j.done) {
                        pthread_mutex_lock(&pl->mu);
                        *j.done = true;
                        pthread_cond_broadcast(&pl->emitted_cv);
                        pthread_mutex_unlock(&pl->mu);
                }
        }
        vd_hasher_free(h);
        free(buf);
        free(kp.p);
        return NULL;
}

void vdd_pool_push(struct pool *pl, vd_entry *e, int fd, bool *done) {
        pthread_mutex_lock(&pl->mu);
        while (pl->count == QUEUE_MAX)
                pthread_cond_wait(&pl->not_full, &pl->mu);
        if (done)
                *done = false;
        pl->q[(pl->head + pl->count) % QUEUE_MAX] = (struct job){e, fd, done};
        pl->count++;
        pthread_cond_signal(&pl->not_empty);
        pthread_mutex_unlock(&pl->mu);
}

int vdd_pool_start(struct pool *pl, const vd_scan_opts *o, vd_err *err) {
        memset(pl, 0, sizeof *pl);
        pthread_mutex_init(&pl->mu, NULL);
        pthread_cond_init(&pl->not_empty, NULL);
        pthread_cond_init(&pl->not_full, NULL);
        pthread_cond_init(&pl->emitted_cv, NULL);
        if (o->hash_algo == VD_HASH_NONE)
                return 0; /* no threads: nothing will be queued */
        pl->algo = o->hash_algo;
        pl->seed = o->seed;
        pl->extents_min = o->extents_min;
        pl->delta = o->delta;
        pl->delta_verify = o->delta_verify;
        pl->tap = o->tap;
        unsigned n = o->threads;
        if (n == 0) {
                long c = sysconf(_SC_NPROCESSORS_ONLN);
                n = c > 0 ? (unsigned)c : 1;
        }
        if (n > 64)
                n = 64;
        pl->th = calloc(n, sizeof *pl->th);
        if (!pl->th)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        for (unsigned i = 0; i < n; i++) {
                int r = pthread_create(&pl->th[i], NULL, worker, pl);
                if (r != 0) {
                        if (i == 0) {
                                free(pl->th);
                                return vd_err_errno(err, VD_E_IO, r, "cannot start hashing threads");
                        }
                        break;
                }
                pl->n_th++;
        }
        return 0;
}

void vdd_pool_finish(struct pool *pl) {
        pthread_mutex_lock(&pl->mu);
        pl->done = true;
        pthread_cond_broadcast(&pl->not_empty);
        pthread_mutex_unlock(&pl->mu);
        for (unsigned i = 0; i < pl->n_th; i++)
                pthread_join(pl->th[i], NULL);
        free(pl->th);
        pthread_mutex_destroy(&pl->mu);
        pthread_cond_destroy(&pl->not_empty);
        pthread_cond_destroy(&pl->not_full);
        pthread_cond_destroy(&pl->emitted_cv);
}
