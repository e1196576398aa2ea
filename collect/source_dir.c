/* The directory source: a template rootfs, a mounted tree, or the host.
 *
 * Every object is opened with O_PATH|O_NOFOLLOW relative to its parent's fd,
 * so a symlink is never followed and a directory swapped for a symlink during
 * the walk cannot lead us out of the tree. Metadata comes from fstat on that
 * fd, xattrs through /proc/self/fd/N (which names exactly that inode), and a
 * regular file is re-opened for reading through the same magic link, so the
 * hash is of the inode we stat'ed. Hashing runs on a pool of threads fed by a
 * bounded queue, which also bounds the number of open fds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "source_dir_int.h"

static void raise_fd_limit(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int dir_scan(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        struct dir_src *d = src->priv;
        struct walk w;
        memset(&w, 0, sizeof w);
        w.o = o;
        w.out = out;
        w.sink = o->sink;
        vd_scan_init(&w.q.late);
        w.max_depth = o->max_depth ? o->max_depth : VD_DEPTH_MAX_DEFAULT;
        w.ntfs_is = -1;
        raise_fd_limit();

        int rootfd = fcntl(d->rootfd, F_DUPFD_CLOEXEC, 0);
        if (rootfd < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot open directory '%s'", d->root);
        const char *pfs = vdd_pseudo_fs(rootfd);
        if (pfs) {
                close(rootfd);
                return vd_err_set(err, VD_E_SOURCE, "'%s' is a %s file system: its files are the kernel's, not a tree "
                                                    "to baseline",
                                  d->root, pfs);
        }
        struct stat rst;
        if (fstat(rootfd, &rst) < 0) {
                close(rootfd);
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot stat '%s'", d->root);
        }
        w.root_dev = rst.st_dev;
        w.rootfd = d->rootfd;
        if (o->walk_reference && o->delta && vdd_ref_index(&w, o->walk_reference) < 0) {
                close(rootfd);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        int r = vdd_pool_start(&w.pool, o, err);
        if (r < 0) {
                close(rootfd);
                return r;
        }
        w.path_len = 0;
        r = vdd_visit(&w, rootfd, err); /* the root entry "/" */
        const vd_entry *root = w.sink ? (w.q.n ? w.q.v[w.q.head].e : NULL) : out->entries.n ? out->entries.v[0] : NULL;
        if (r == 0 && w.depth == 0 && root && root->status != VD_ST_OK)
                r = vd_err_set(err, VD_E_SOURCE, "cannot read directory '%s': %s", d->root,
                               strerror(root->status_errno));
        if (r == 0)
                r = vdd_drain(&w, 0, err);
        while (w.depth > 0)
                vdd_frame_release(&w.st[--w.depth]);
        if (r == 0 && w.sink)
                r = vdd_emit(&w, true, err);
        vdd_pool_finish(&w.pool);
        for (size_t i = 0; r == 0 && i < w.q.late.n_warnings; i++) {
                const vd_warning *lw = &w.q.late.warnings[i];
                if (vd_scan_warn(out, lw->path, lw->path_len, "%s", lw->msg) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        vdd_emitq_release(&w);
        if (r == 0 && atomic_load(&w.pool.failed))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory in a hashing thread");
        for (size_t i = 0; r == 0 && i < w.hl.n_dup; i++) {
                vd_entry *e = w.hl.dup_e[i], *f = w.hl.dup_first[i];
                struct hl_res res = vdd_hl_res(f);
                vdd_hl_take(e, &res);
                if (f->extents) {
                        size_t sz = sizeof *f->extents + (size_t)f->extents->n * sizeof(vd_extent);
                        if (!(e->extents = malloc(sz)))
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        else
                                memcpy(e->extents, f->extents, sz);
                }
        }
        out->st.files_hashed = atomic_load(&w.pool.files);
        out->st.bytes_hashed = atomic_load(&w.pool.bytes);
        out->st.files_mapped = atomic_load(&w.pool.mapped);
        for (int i = 0; i < VD_FB_N; i++)
                out->st.hash_fallback[i] += atomic_load(&w.pool.fallback[i]);
        out->st.delta_proved += atomic_load(&w.pool.proved);
        for (int i = 0; i < VD_DW_N; i++)
                out->st.delta_why[i] += atomic_load(&w.pool.why[i]);
        for (size_t i = 0; i < out->entries.n && r == 0; i++) {
                vd_entry *e = out->entries.v[i];
                if (e->status == VD_ST_CHANGING)
                        r = vd_scan_warn(out, e->path, e->path_len, "changed while it was read (%d tries): not hashed",
                                         HASH_TRIES);
                else if (e->status == VD_ST_UNREADABLE && e->type == VD_T_REG)
                        r = vd_scan_warn(out, e->path, e->path_len, "cannot read: %s", strerror(e->status_errno));
        }
        out->st.delta_unvisited += w.taken;
        vdd_hl_release(&w.hl);
        free(w.path);
        free(w.st);
        free(w.ref_child);
        free(w.ref_next);
        return r;
}

/* Open path beneath the root one component at a time, never following a
 * symlink: a guest's etc/passwd that is a link to the host's is refused. */
/* path (absolute in the tree) opened for reading, never through a symlink:
 * 0 and *ret_fd (a regular file), or an error naming path. */
static int dir_open_file(struct dir_src *d, const char *path, int *ret_fd, struct stat *ret_st, vd_err *err) {
        int fd = fcntl(d->rootfd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot open directory '%s'", d->root);
        const char *p = path;
        while (*p == '/')
                p++;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t cl = slash ? (size_t)(slash - p) : strlen(p);
                char comp[VD_NAME_MAX + 1];
                if (cl == 0 || cl > VD_NAME_MAX) {
                        close(fd);
                        return vd_err_set(err, VD_E_IO, "%s: bad path", path);
                }
                memcpy(comp, p, cl);
                comp[cl] = '\0';
                int last = !slash || !slash[1];
                int nfd = openat(fd, comp, (last ? O_RDONLY | O_NONBLOCK : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
                int e = errno;
                close(fd);
                if (nfd < 0)
                        return vd_err_errno(err, VD_E_IO, e, "%s", path);
                fd = nfd;
                p += cl;
                while (*p == '/')
                        p++;
        }
        if (fstat(fd, ret_st) < 0 || !S_ISREG(ret_st->st_mode)) {
                close(fd);
                return vd_err_set(err, VD_E_IO, "%s: not a regular file", path);
        }
        *ret_fd = fd;
        return 0;
}

static int dir_read_range(vd_source *src, const char *path, uint64_t off, size_t n, vd_buf *out, vd_err *err) {
        int fd;
        struct stat st;
        int r = dir_open_file(src->priv, path, &fd, &st, err);
        if (r < 0)
                return r;
        char buf[65536];
        while (r == 0 && n > 0) {
                ssize_t k = pread(fd, buf, n < sizeof buf ? n : sizeof buf, (off_t)off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = vd_err_errno(err, VD_E_IO, errno, "%s", path);
                else if (k == 0)
                        break;
                else if (vd_buf_add(out, buf, (size_t)k) < 0)
                        r = vd_err_set(err, VD_E_LIMIT, "%s: more than the buffer holds", path);
                else {
                        off += (uint64_t)k;
                        n -= (size_t)k;
                }
        }
        close(fd);
        return r;
}

static int dir_read_file(vd_source *src, const char *path, size_t max, vd_buf *out, vd_err *err) {
        int fd;
        struct stat st;
        int r = dir_open_file(src->priv, path, &fd, &st, err);
        if (r < 0)
                return r;
        if ((uint64_t)st.st_size > max) {
                close(fd);
                return vd_err_set(err, VD_E_LIMIT, "%s: larger than %zu bytes", path, max);
        }
        char buf[65536];
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = errno;
                        close(fd);
                        return vd_err_errno(err, VD_E_IO, e, "%s", path);
                }
                if (k == 0)
                        break;
                if (out->len + (size_t)k > max || vd_buf_add(out, buf, (size_t)k) < 0) {
                        close(fd);
                        return vd_err_set(err, VD_E_LIMIT, "%s: larger than %zu bytes", path, max);
                }
        }
        close(fd);
        return 0;
}

static void dir_close(vd_source *src) {
        struct dir_src *d = src->priv;
        if (d) {
                free(d->root);
                if (d->rootfd >= 0)
                        close(d->rootfd);
        }
        free(d);
        free(src->desc);
        free(src);
}

static const struct vd_source_ops dir_ops = {
        .kind = "dir",
        .scan = dir_scan,
        .read_file = dir_read_file,
        .close = dir_close,
        .read_range = dir_read_range,
        .streams = true,
};

int vd_source_open_dir(const char *path, vd_source **ret, vd_err *err) {
        struct stat st;
        if (stat(path, &st) < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot open directory '%s'", path);
        if (!S_ISDIR(st.st_mode))
                return vd_err_set(err, VD_E_SOURCE, "'%s' is not a directory", path);
        if (access("/proc/self/fd", X_OK) < 0)
                return vd_err_set(err, VD_E_SOURCE, "/proc is not mounted: the directory source needs /proc/self/fd");
        vd_source *s = calloc(1, sizeof *s);
        struct dir_src *d = calloc(1, sizeof *d);
        char *abs = realpath(path, NULL);
        if (!s || !d || !abs) {
                free(s);
                free(d);
                free(abs);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        d->root = abs;
        d->rootfd = -1;
        s->ops = &dir_ops;
        s->priv = d;
        /* The root as it is now, never re-resolved by path later. */
        d->rootfd = open(abs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d->rootfd < 0) {
                int e = errno;
                dir_close(s);
                return vd_err_errno(err, VD_E_SOURCE, e, "cannot open directory '%s'", path);
        }
        s->desc = strdup(abs);
        if (!s->desc) {
                dir_close(s);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        *ret = s;
        return 0;
}
