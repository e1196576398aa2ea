/* The directory source's walk: every object opened with O_PATH|O_NOFOLLOW
 * relative to its parent's fd, its metadata from fstat and its xattrs
 * through /proc/self/fd/N; hard links hashed once; pseudo file systems not
 * walked; the delta scan's candidate-only walk taking unchanged entries
 * from the reference (take_ref, visit_path, drain). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "formats/vd_mountinfo.h"

#include "formats/vd_ntsd.h"
#include "source_dir_int.h"

static int visit_path(struct walk *w, const char *path, size_t len, vd_err *err);

/* Whether the mount with device number dev is a devtmpfs
 * (/proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE ..."). */
static bool is_devtmpfs(dev_t dev) {
        vd_mount *m = NULL;
        size_t n = 0;
        vd_err e = VD_ERR_INIT;
        bool yes = false;
        if (vd_mountinfo_read(&m, &n, &e) < 0)
                return false;
        for (size_t i = 0; i < n && !yes; i++)
                yes = m[i].major == major(dev) && m[i].minor == minor(dev) && strcmp(m[i].fstype, "devtmpfs") == 0;
        vd_mounts_free(m, n);
        return yes;
}

/* The pseudo file systems whose "files" are the running kernel's state:
 * never walked (reading /proc/kmsg consumes the kernel's messages). */
const char *vdd_pseudo_fs(int fd) {
        static const struct {
                unsigned long magic;
                const char *name;
        } fs[] = {{0x9fa0, "proc"},          {0x62656572, "sysfs"},     {0x1cd1, "devpts"},
                  {0x64626720, "debugfs"},    {0x74726163, "tracefs"},   {0x27e0eb, "cgroup"},
                  {0x63677270, "cgroup2"},    {0x73636673, "securityfs"}, {0x6165676c, "pstore"},
                  {0xcafe4a11, "bpf"},        {0x62656570, "configfs"},  {0x65735543, "fusectl"},
                  {0xde5e81e4, "efivarfs"},   {0x42494e4d, "binfmt_misc"}, {0x19800202, "mqueue"},
                  {0x6e736673, "nsfs"}};
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return NULL;
        for (size_t i = 0; i < sizeof fs / sizeof *fs; i++)
                if ((unsigned long)sf.f_type == fs[i].magic)
                        return fs[i].name;
        /* devtmpfs has tmpfs's magic: ask the mount table what this device is */
        struct stat st;
        if ((unsigned long)sf.f_type == 0x01021994 && fstat(fd, &st) == 0 && is_devtmpfs(st.st_dev))
                return "devtmpfs";
        return NULL;
}

int vdd_open_magic(int fd, int flags) {
        char p[48];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        return open(p, flags | O_CLOEXEC);
}

static size_t hl_hash(uint64_t dev, uint64_t ino) {
        uint64_t x = ino * 0x9e3779b97f4a7c15ull ^ dev;
        return (size_t)(x ^ (x >> 29));
}

static int hl_grow(struct hl_map *m) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        struct hl_slot *nv = calloc(nc, sizeof *nv);
        if (!nv)
                return VD_E_NOMEM;
        for (size_t i = 0; i < m->cap; i++) {
                if (!m->v[i].first)
                        continue;
                size_t j = hl_hash(m->v[i].dev, m->v[i].ino) & (nc - 1);
                while (nv[j].first)
                        j = (j + 1) & (nc - 1);
                nv[j] = m->v[i];
        }
        free(m->v);
        m->v = nv;
        m->cap = nc;
        return 0;
}

/* Returns the entry already seen for (dev, ino), or NULL after recording e. */
static int hl_lookup(struct hl_map *m, uint64_t dev, uint64_t ino, vd_entry *e, vd_entry **ret) {
        if ((m->n + 1) * 2 > m->cap && hl_grow(m) < 0)
                return VD_E_NOMEM;
        size_t j = hl_hash(dev, ino) & (m->cap - 1);
        while (m->v[j].first) {
                if (m->v[j].dev == dev && m->v[j].ino == ino) {
                        *ret = m->v[j].first;
                        return 0;
                }
                j = (j + 1) & (m->cap - 1);
        }
        m->v[j] = (struct hl_slot){.dev = dev, .ino = ino, .first = e};
        m->n++;
        *ret = NULL;
        return 0;
}

static int hl_add_dup(struct hl_map *m, vd_entry *e, vd_entry *first) {
        if (m->n_dup == m->alloc_dup) {
                size_t na = m->alloc_dup ? m->alloc_dup * 2 : 64;
                vd_entry **a = realloc(m->dup_e, na * sizeof *a);
                if (!a)
                        return VD_E_NOMEM;
                m->dup_e = a;
                vd_entry **b = realloc(m->dup_first, na * sizeof *b);
                if (!b)
                        return VD_E_NOMEM;
                m->dup_first = b;
                m->alloc_dup = na;
        }
        m->dup_e[m->n_dup] = e;
        m->dup_first[m->n_dup] = first;
        m->n_dup++;
        return 0;
}

void vdd_hl_release(struct hl_map *m) {
        free(m->v);
        free(m->dup_e);
        free(m->dup_first);
}

static int path_set(struct walk *w, size_t plen, const char *name) {
        size_t nl = strlen(name);
        size_t need = plen + 1 + nl + 1;
        if (need > w->path_alloc) {
                size_t na = w->path_alloc ? w->path_alloc : 256;
                while (na < need)
                        na *= 2;
                char *np = realloc(w->path, na);
                if (!np)
                        return VD_E_NOMEM;
                w->path = np;
                w->path_alloc = na;
        }
        w->path[plen] = '/';
        memcpy(w->path + plen + 1, name, nl + 1);
        w->path_len = plen + 1 + nl;
        return 0;
}

static uint8_t ftype_of(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFREG: return VD_T_REG;
        case S_IFDIR: return VD_T_DIR;
        case S_IFLNK: return VD_T_LNK;
        case S_IFCHR: return VD_T_CHR;
        case S_IFBLK: return VD_T_BLK;
        case S_IFIFO: return VD_T_FIFO;
        case S_IFSOCK: return VD_T_SOCK;
        default: return VD_T_UNKNOWN;
        }
}

static void fill_stat(vd_entry *e, const struct stat *st) {
        e->type = ftype_of(st->st_mode);
        e->mode = st->st_mode & 07777;
        e->uid = st->st_uid;
        e->gid = st->st_gid;
        e->size = (uint64_t)st->st_size;
        e->mtime_ns = vdd_ts_ns(&st->st_mtim);
        e->ctime_ns = vdd_ts_ns(&st->st_ctim);
        e->ino = st->st_ino;
        e->nlink = st->st_nlink;
        e->rdev = (e->type == VD_T_CHR || e->type == VD_T_BLK) ? st->st_rdev : 0;
        if (e->type == VD_T_DIR || e->type == VD_T_LNK || e->type == VD_T_FIFO || e->type == VD_T_SOCK ||
            e->type == VD_T_CHR || e->type == VD_T_BLK)
                e->size = e->type == VD_T_LNK ? (uint64_t)st->st_size : 0;
}

/* NTFS (ntfs-3g's FUSE mount, the kernel's ntfs3 or ntfs): asked once a device. */
static bool on_ntfs(struct walk *w, int fd, uint64_t dev) {
        if (w->ntfs_is < 0 || w->ntfs_dev != dev) {
                struct statfs sf;
                unsigned long t = fstatfs(fd, &sf) == 0 ? (unsigned long)sf.f_type : 0;
                w->ntfs_dev = dev;
                /* fuseblk is ntfs-3g in the appliance (and exfat's FUSE driver: its getxattr answers ENODATA) */
                w->ntfs_is = t == 0x65735546 || t == 0x7366746e || t == 0x5346544e;
        }
        return w->ntfs_is == 1;
}

/* The file's security descriptor and attributes, which NTFS drivers give
 * only to a getxattr by name: as VD_NTSD_XATTR and VD_NTSD_ATTRIB_XATTR. */
static int read_ntfs_xattrs(struct walk *w, vd_entry *e, const char *p, unsigned char *val) {
        static const char *const acl_names[] = {"system.ntfs_acl", "system.ntfs_security"};
        int r = 0;
        for (size_t i = 0; i < 2; i++) {
                ssize_t vl = getxattr(p, acl_names[i], val, VD_XATTR_VALUE_MAX);
                if (vl >= 0) {
                        r = vd_entry_add_xattr(e, VD_NTSD_XATTR, val, (size_t)vl);
                        break;
                }
        }
        ssize_t al = r == 0 ? getxattr(p, VD_NTSD_ATTRIB_XATTR, val, VD_XATTR_VALUE_MAX) : -1;
        if (al >= 0)
                r = vd_entry_add_xattr(e, VD_NTSD_ATTRIB_XATTR, val, (size_t)al);
        if (r == VD_E_LIMIT)
                r = vd_scan_warn(w->out, e->path, e->path_len, "too many xattrs, some not recorded");
        return r;
}

static int read_xattrs(struct walk *w, vd_entry *e, int fd, uint64_t dev) {
        char p[48];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        if (on_ntfs(w, fd, dev)) {
                unsigned char *nv = malloc(VD_XATTR_VALUE_MAX);
                int r = nv ? read_ntfs_xattrs(w, e, p, nv) : VD_E_NOMEM;
                free(nv);
                if (r < 0)
                        return r;
        }
        char list[65536];
        ssize_t ln = listxattr(p, list, sizeof list);
        if (ln < 0) {
                if (errno == ENOTSUP || errno == ENODATA)
                        return 0;
                return vd_scan_warn(w->out, e->path, e->path_len, "cannot list xattrs: %s", strerror(errno));
        }
        unsigned char *val = NULL;
        int r = 0;
        for (ssize_t off = 0; off < ln && r == 0;) {
                const char *name = list + off;
                size_t nl = strnlen(name, (size_t)(ln - off));
                off += (ssize_t)nl + 1;
                if (nl == 0 || nl > VD_XATTR_NAME_MAX)
                        continue;
                if (!val && !(val = malloc(VD_XATTR_VALUE_MAX))) {
                        r = VD_E_NOMEM;
                        break;
                }
                ssize_t vl = getxattr(p, name, val, VD_XATTR_VALUE_MAX);
                if (vl < 0) {
                        if (errno == ENODATA) /* removed meanwhile */
                                continue;
                        r = vd_scan_warn(w->out, e->path, e->path_len, "cannot read xattr %s: %s", name,
                                         strerror(errno));
                        continue;
                }
                r = vd_entry_add_xattr(e, name, val, (size_t)vl);
                if (r == VD_E_LIMIT)
                        r = vd_scan_warn(w->out, e->path, e->path_len, "too many xattrs, some not recorded");
        }
        free(val);
        vd_entry_sort_xattrs(e);
        return r;
}

struct dent {
        char *name;
        uint64_t ino;
};

static int cmp_dent(const void *a, const void *b) {
        return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* List a directory's names, sorted. Returns 0; VD_E_NOMEM; or VD_E_IO when
 * the directory cannot be read, with the reason in *sys_errno (recorded in
 * the entry's status). */
static int list_dir(int fd, char ***ret_names, uint64_t **ret_inos, size_t *ret_n, int *sys_errno) {
        int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0) {
                *sys_errno = errno;
                return VD_E_IO;
        }
        DIR *d = fdopendir(rfd);
        if (!d) {
                *sys_errno = errno;
                close(rfd);
                return VD_E_IO;
        }
        struct dent *ds = NULL;
        size_t n = 0, alloc = 0;
        *sys_errno = 0;
        int result = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (vd_array_grow(&ds, &alloc, n, sizeof *ds, 32) < 0) {
                        result = ENOMEM;
                        break;
                }
                if (!(ds[n].name = strdup(de->d_name))) {
                        result = ENOMEM;
                        break;
                }
                ds[n++].ino = de->d_ino;
                errno = 0;
        }
        if (!result && errno)
                result = errno;
        closedir(d);
        char **names = NULL;
        uint64_t *inos = NULL;
        if (!result && n && (!(names = malloc(n * sizeof *names)) || !(inos = malloc(n * sizeof *inos))))
                result = ENOMEM;
        if (result) {
                for (size_t i = 0; i < n; i++)
                        free(ds[i].name);
                free(ds);
                free(names);
                *sys_errno = result;
                return result == ENOMEM ? VD_E_NOMEM : VD_E_IO;
        }
        /* Sorted order keeps the walk (and warnings) deterministic. */
        if (n > 1)
                qsort(ds, n, sizeof *ds, cmp_dent);
        for (size_t i = 0; i < n; i++) {
                names[i] = ds[i].name;
                inos[i] = ds[i].ino;
        }
        free(ds);
        *ret_names = names;
        *ret_inos = inos;
        *ret_n = n;
        return 0;
}

void vdd_frame_release(struct frame *f) {
        if (f->fd >= 0)
                close(f->fd);
        for (size_t i = 0; i < f->n; i++)
                free(f->names[i]);
        free(f->names);
        free(f->inos);
        for (size_t i = 0; i < f->n_pend; i++) {
                free(f->pend[i].name);
                vdd_frame_release(&f->pend[i].f);
        }
        free(f->pend);
        *f = (struct frame){.fd = -1};
}

/* Does the subdirectory name's key (name + "/": where its children sort)
 * come after next, a later sibling? Then next is walked first. */
static bool children_after(const char *name, const char *next) {
        size_t nl = strlen(name);
        return strncmp(next, name, nl) == 0 && (unsigned char)next[nl] < '/' && next[nl] != '\0';
}

/* Walk the directory whose entry was just recorded (its listing in nf)
 * now, or, when a later sibling sorts before its children, once that
 * sibling is walked. */
static int push_frame(struct walk *w, struct frame nf) {
        struct frame *pf = w->visiting_in;
        if (pf && pf->i < pf->n) {
                const char *name = w->path + pf->plen + 1;
                if (children_after(name, pf->names[pf->i])) {
                        if (vd_array_grow(&pf->pend, &pf->pend_alloc, pf->n_pend, sizeof *pf->pend, 4) < 0)
                                return VD_E_NOMEM;
                        char *nm = strdup(name);
                        if (!nm)
                                return VD_E_NOMEM;
                        pf->pend[pf->n_pend++] = (struct pending){nm, nf};
                        return 0;
                }
        }
        if (vd_array_grow(&w->st, &w->st_alloc, w->depth, sizeof *w->st, 64) < 0)
                return VD_E_NOMEM;
        w->st[w->depth++] = nf;
        return 0;
}

/* Directory levels above path ("/": 0, "/a": 1, "/a/b": 2): the walk's
 * depth, whether it got there by listing or from the reference. */
static unsigned path_depth(const char *p, size_t n) {
        unsigned k = 0;
        for (size_t i = 0; i < n; i++)
                k += p[i] == '/';
        return k;
}

/* ---------- streaming (w->sink) ---------- */

/* e is the scan's from here: in out->entries, or (streaming) at the tail of
 * the queue, *slot, complete unless vdd_visit queues it for hashing. A full
 * queue first hands on its head. On failure e is still the caller's. */
static int record(struct walk *w, vd_entry *e, struct qslot **slot, vd_err *err) {
        if (!w->sink) {
                *slot = NULL;
                return vd_entries_push(&w->out->entries, e) < 0 ? vd_err_set(err, VD_E_NOMEM, "out of memory") : 0;
        }
        if (!w->q.v) {
                if (!(w->q.v = calloc(EMITQ_MAX, sizeof *w->q.v)))
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                w->q.cap = EMITQ_MAX;
        }
        int r = w->q.n == w->q.cap ? vdd_emit(w, false, err) : 0;
        if (r < 0)
                return r;
        *slot = &w->q.v[(w->q.head + w->q.n++) % w->q.cap];
        **slot = (struct qslot){.e = e, .done = true};
        return 0;
}

struct hl_res vdd_hl_res(const vd_entry *e) {
        struct hl_res r = {.hash_len = e->hash_len, .hash_algo = e->hash_algo, .status = e->status,
                           .delta_proved = e->delta_proved, .status_errno = e->status_errno, .size = e->size,
                           .mtime_ns = e->mtime_ns, .ctime_ns = e->ctime_ns};
        memcpy(r.hash, e->hash, sizeof r.hash);
        return r;
}

void vdd_hl_take(vd_entry *e, const struct hl_res *r) {
        memcpy(e->hash, r->hash, sizeof e->hash);
        e->hash_len = r->hash_len;
        e->hash_algo = r->hash_algo;
        e->status = r->status;
        e->status_errno = r->status_errno;
        e->size = r->size;
        e->mtime_ns = r->mtime_ns;
        e->ctime_ns = r->ctime_ns;
        e->delta_proved = r->delta_proved;
}

static struct hl_slot *hl_find(struct hl_map *m, uint64_t dev, uint64_t ino) {
        if (!m->cap)
                return NULL;
        for (size_t j = hl_hash(dev, ino) & (m->cap - 1); m->v[j].first; j = (j + 1) & (m->cap - 1))
                if (m->v[j].dev == dev && m->v[j].ino == ino)
                        return &m->v[j];
        return NULL;
}

/* A hashed entry's last touches before it is handed on: a hard link takes
 * the results of the first name of its inode (handed on before it: path
 * order), which keeps them for the others; what could not be hashed is
 * said after the walk, as the collecting walk says it. */
static int finish_entry(struct walk *w, const struct qslot *s) {
        vd_entry *e = s->e;
        struct hl_slot *h = s->hl ? hl_find(&w->hl, s->dev, e->ino) : NULL;
        struct hl_res *res = h ? &h->res : NULL;
        if (res && s->dup)
                vdd_hl_take(e, res);
        else if (res)
                *res = vdd_hl_res(e);
        if (e->status == VD_ST_CHANGING)
                return vd_scan_warn(&w->q.late, e->path, e->path_len, "changed while it was read (%d tries): not hashed",
                                    HASH_TRIES);
        if (e->status == VD_ST_UNREADABLE && e->type == VD_T_REG)
                return vd_scan_warn(&w->q.late, e->path, e->path_len, "cannot read: %s", strerror(e->status_errno));
        return 0;
}

int vdd_emit(struct walk *w, bool all, vd_err *err) {
        struct emitq *q = &w->q;
        while (q->n) {
                struct qslot s = q->v[q->head];
                pthread_mutex_lock(&w->pool.mu);
                while (!q->v[q->head].done && (all || q->n == q->cap))
                        pthread_cond_wait(&w->pool.emitted_cv, &w->pool.mu);
                s.done = q->v[q->head].done;
                pthread_mutex_unlock(&w->pool.mu);
                if (!s.done)
                        return 0; /* hashing: handed on later */
                q->head = (q->head + 1) % q->cap;
                q->n--;
                if (finish_entry(w, &s) < 0) {
                        vd_entry_free(s.e);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                int r = w->sink->put(w->sink->ctx, s.e, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void vdd_emitq_release(struct walk *w) {
        for (; w->q.n; w->q.n--, w->q.head = (w->q.head + 1) % w->q.cap)
                vd_entry_free(w->q.v[w->q.head].e);
        free(w->q.v);
        w->q.v = NULL;
        vd_scan_release(&w->q.late);
}

/* Record the object at w->path, opened as fd (O_PATH); consumes fd. */
int vdd_visit(struct walk *w, int fd, vd_err *err) {
        struct stat st;
        vd_entry *e = vd_entry_new();
        int r = 0;
        if (!e) {
                close(fd);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        if ((r = vd_entry_set_path(e, w->path_len ? w->path : "/", w->path_len ? w->path_len : 1)) < 0)
                goto fail;
        struct qslot *slot = NULL;
        if ((r = record(w, e, &slot, err)) < 0) {
                vd_entry_free(e);
                close(fd);
                return r;
        }
        /* From here e belongs to the scan. */
        if (fstat(fd, &st) < 0) {
                e->status = VD_ST_UNREADABLE;
                e->status_errno = errno;
                close(fd);
                return vd_scan_warn(w->out, e->path, e->path_len, "cannot stat: %s", strerror(errno));
        }
        fill_stat(e, &st);
        if (w->o->record_blocks &&
            (r = vd_delta_record(w->o->record_blocks, fd, st.st_dev, st.st_ino, &e->blocks, &e->blocks_len)) < 0) {
                close(fd);
                return vd_err_set(err, r, "out of memory");
        }
        if ((r = read_xattrs(w, e, fd, st.st_dev)) < 0) {
                close(fd);
                return vd_err_set(err, r, "out of memory reading xattrs");
        }
        switch (e->type) {
        case VD_T_LNK: {
                char tgt[VD_TARGET_MAX + 1];
                ssize_t tl = readlinkat(fd, "", tgt, sizeof tgt);
                if (tl < 0 || (size_t)tl > VD_TARGET_MAX) {
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = tl < 0 ? errno : ENAMETOOLONG;
                } else if (!(e->target = malloc((size_t)tl + 1))) {
                        close(fd);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                } else {
                        memcpy(e->target, tgt, (size_t)tl);
                        e->target[tl] = '\0';
                        e->target_len = (size_t)tl;
                }
                close(fd);
                return 0;
        }
        case VD_T_REG:
                if (st.st_nlink > 1) {
                        vd_entry *first = NULL;
                        if (slot) {
                                slot->hl = true;
                                slot->dev = st.st_dev;
                        }
                        if (hl_lookup(&w->hl, st.st_dev, st.st_ino, e, &first) < 0 ||
                            (first && !slot && hl_add_dup(&w->hl, e, first) < 0)) {
                                close(fd);
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                        if (first) {
                                if (slot)
                                        slot->dup = true;
                                close(fd);
                                return 0;
                        }
                }
                if (w->o->reference) {
                        const vd_entry *ref = vd_entries_find(w->o->reference, e->path, e->path_len);
                        if (ref && ref->type == VD_T_REG && ref->status == VD_ST_OK && ref->hash_len &&
                            ref->hash_algo == w->o->hash_algo && ref->size == e->size &&
                            ref->mtime_ns == e->mtime_ns && ref->ctime_ns == e->ctime_ns && ref->ino == e->ino) {
                                memcpy(e->hash, ref->hash, ref->hash_len);
                                e->hash_len = ref->hash_len;
                                e->hash_algo = ref->hash_algo;
                                w->out->st.quick_reused++;
                                close(fd);
                                return 0;
                        }
                }
                if (w->o->hash_algo == VD_HASH_NONE) { /* metadata only (--quick's first pass) */
                        close(fd);
                        return 0;
                }
                vdd_pool_push(&w->pool, e, fd, slot ? &slot->done : NULL); /* fd transferred */
                return 0;
        case VD_T_DIR: {
                if (w->o->one_file_system && st.st_dev != w->root_dev) {
                        close(fd);
                        return 0;
                }
                const char *pfs = st.st_dev != w->root_dev ? vdd_pseudo_fs(fd) : NULL;
                if (pfs) {
                        e->status = VD_ST_NOT_DESCENDED;
                        close(fd);
                        return vd_scan_warn(w->out, e->path, e->path_len,
                                            "a %s file system (the kernel's, not files): not descended", pfs);
                }
                unsigned depth = path_depth(w->path, w->path_len);
                if (depth >= w->max_depth || w->path_len + 1 + VD_NAME_MAX > VD_PATH_MAX) {
                        e->status = VD_ST_NOT_DESCENDED;
                        close(fd);
                        return vd_scan_warn(w->out, e->path, e->path_len,
                                            depth >= w->max_depth ? "directory deeper than %u levels: not descended"
                                                                  : "path longer than %u bytes: not descended",
                                            depth >= w->max_depth ? w->max_depth : (unsigned)VD_PATH_MAX);
                }
                char **names = NULL;
                uint64_t *inos = NULL;
                size_t n = 0;
                int le = 0, lr = list_dir(fd, &names, &inos, &n, &le);
                if (lr == VD_E_NOMEM) {
                        close(fd);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory listing a directory");
                }
                if (lr < 0) {
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = le;
                        close(fd);
                        return vd_scan_warn(w->out, e->path, e->path_len, "cannot list directory: %s",
                                            strerror(le));
                }
                if (w->ref)
                        (void)vd_delta_same(w->o->delta, fd, st.st_dev, 0); /* sets the device up */
                if (push_frame(w, (struct frame){fd, names, inos, n, 0, w->path_len, st.st_dev, NULL, 0, 0}) < 0) {
                        for (size_t i = 0; i < n; i++)
                                free(names[i]);
                        free(names);
                        free(inos);
                        close(fd);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                return 0;
        }
        default:
                close(fd);
                return 0;
        }
fail:
        vd_entry_free(e);
        close(fd);
        return vd_err_set(err, r, "out of memory");
}

/* ---------- the candidate-only walk (vd_scan_opts.walk_reference) ---------- */

/* Each reference entry's children, in path order. */
int vdd_ref_index(struct walk *w, const vd_entries *ref) {
        size_t n = ref->n;
        size_t *last = malloc((n ? n : 1) * sizeof *last);
        w->ref_child = malloc((n ? n : 1) * sizeof *w->ref_child);
        w->ref_next = malloc((n ? n : 1) * sizeof *w->ref_next);
        if (!last || !w->ref_child || !w->ref_next) {
                free(last);
                return VD_E_NOMEM;
        }
        for (size_t i = 0; i < n; i++)
                w->ref_child[i] = w->ref_next[i] = last[i] = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                const vd_entry *e = ref->v[i];
                if (e->path_len < 2 || e->path[0] != '/')
                        continue; /* "/" has no parent */
                size_t pl = e->path_len;
                while (pl > 0 && e->path[pl - 1] != '/')
                        pl--;
                size_t p = vd_entries_index(ref, pl > 1 ? e->path : "/", pl > 1 ? pl - 1 : 1);
                if (p == SIZE_MAX || p == i || ref->v[p]->type != VD_T_DIR)
                        continue; /* an orphan: never reached from the reference */
                if (last[p] == SIZE_MAX)
                        w->ref_child[p] = i;
                else
                        w->ref_next[last[p]] = i;
                last[p] = i;
        }
        free(last);
        w->ref = ref;
        return 0;
}

/* May this reference entry stand for the object, its inode unchanged? Only
 * what a walk would record exactly, without a warning: a complete entry, a
 * regular file hashed with this scan's algorithm, a directory that was
 * listed, not at the mount point of another file system (whose inode
 * numbers are another file system's). */
static bool ref_usable(const struct walk *w, const vd_entry *r) {
        if (r->status != VD_ST_OK || r->type == VD_T_UNKNOWN || r->n_xattrs >= VD_XATTR_COUNT_MAX)
                return false;
        if (r->type == VD_T_REG && (!r->hash_len || r->hash_algo != w->o->hash_algo))
                return false;
        if (r->type == VD_T_DIR && (r->ino == 2 || vd_delta_is_mount(w->o->delta, r->path, r->path_len)))
                return false; /* a mount point: visited for real */
        return true;
}

/* Is the reference entry's inode (on dev) unchanged since the template?
 * From the baseline's record of its blocks when it has one that can say,
 * else by reading the inode. */
static bool ref_same(const struct walk *w, const vd_entry *r, dev_t dev) {
        int s = r->blocks ? vd_delta_same_recorded(w->o->delta, dev, r->ino, r->blocks, r->blocks_len) : -1;
        return s >= 0 ? s == 1 : vd_delta_same(w->o->delta, -1, dev, r->ino);
}

/* The reference entry ri stands for its object (inode unchanged), and so,
 * if it is a directory, does its listing: each child is taken the same way
 * or visited for real. */
static int take_ref(struct walk *w, size_t ri, dev_t dev, vd_err *err) {
        const vd_entry *ref = w->ref->v[ri];
        vd_entry *e = vd_entry_dup(ref);
        if (!e)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        free(e->uname); /* owners are resolved afresh from this scan's passwd and group */
        free(e->gname);
        free(e->blocks); /* the baseline's, not this scan's to report */
        e->uname = e->gname = NULL;
        e->blocks = NULL;
        e->blocks_len = 0;
        e->delta_proved = 2;
        if (vd_entries_push(&w->out->entries, e) < 0) {
                vd_entry_free(e);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        w->taken++;
        if (ref->type != VD_T_DIR)
                return 0;
        int r = 0;
        for (size_t c = w->ref_child[ri]; c != SIZE_MAX && r == 0; c = w->ref_next[c]) {
                const vd_entry *ch = w->ref->v[c];
                if (ref_usable(w, ch) && ref_same(w, ch, dev))
                        r = take_ref(w, c, dev, err);
                else
                        r = visit_path(w, ch->path, ch->path_len, err);
        }
        return r;
}

/* Visit the object at path (below the root, every directory on the way
 * unchanged) for real, and walk it if it is a directory. */
static int visit_path(struct walk *w, const char *path, size_t len, vd_err *err) {
        if (len < 2 || path[0] != '/')
                return 0;
        if (path_set(w, 0, path + 1) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        w->path_len = len;
        struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                               .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH};
        int fd = (int)syscall(SYS_openat2, w->rootfd, path + 1, &how, sizeof how);
        if (fd < 0) {
                int r = errno == ENOENT ? vd_scan_warn(w->out, w->path, w->path_len, "vanished during the scan")
                                        : vd_scan_warn(w->out, w->path, w->path_len, "cannot open: %s", strerror(errno));
                return r < 0 ? vd_err_set(err, r, "out of memory") : 0;
        }
        size_t base = w->depth;
        int r = vdd_visit(w, fd, err);
        return r < 0 ? r : vdd_drain(w, base, err);
}

/* Walk the directories on the stack down to base. */
int vdd_drain(struct walk *w, size_t base, vd_err *err) {
        int r = 0;
        while (r == 0 && w->depth > base) {
                struct frame *f = &w->st[w->depth - 1];
                /* a subdirectory put off until its children's turn: before
                 * the next name that sorts after them, or at the end */
                if (f->n_pend && (f->i == f->n || !children_after(f->pend[f->n_pend - 1].name, f->names[f->i]))) {
                        struct pending p = f->pend[--f->n_pend];
                        size_t plen = f->plen;
                        if ((r = path_set(w, plen, p.name)) < 0 ||
                            (r = vd_array_grow(&w->st, &w->st_alloc, w->depth, sizeof *w->st, 64)) < 0) {
                                free(p.name);
                                vdd_frame_release(&p.f);
                                vd_err_set(err, VD_E_NOMEM, "out of memory");
                                break;
                        }
                        free(p.name);
                        w->st[w->depth++] = p.f;
                        continue;
                }
                if (f->i == f->n) {
                        vdd_frame_release(f);
                        w->depth--;
                        continue;
                }
                size_t i = f->i++;
                const char *name = f->names[i];
                if ((r = path_set(w, f->plen, name)) < 0) {
                        vd_err_set(err, r, "out of memory");
                        break;
                }
                if (w->ref) {
                        /* the same name for the same inode as in the template, unchanged */
                        size_t ri = vd_entries_index(w->ref, w->path, w->path_len);
                        if (ri != SIZE_MAX && w->ref->v[ri]->ino == f->inos[i] && ref_usable(w, w->ref->v[ri]) &&
                            ref_same(w, w->ref->v[ri], f->dev)) {
                                r = take_ref(w, ri, f->dev, err);
                                continue;
                        }
                }
                int fd = openat(f->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                r = vd_scan_warn(w->out, w->path, w->path_len, "vanished during the scan");
                        else
                                r = vd_scan_warn(w->out, w->path, w->path_len, "cannot open: %s", strerror(errno));
                        if (r < 0)
                                vd_err_set(err, r, "out of memory");
                        continue;
                }
                w->visiting_in = f;
                r = vdd_visit(w, fd, err);
                w->visiting_in = NULL;
                if (r == 0 && w->sink)
                        r = vdd_emit(w, false, err);
        }
        return r;
}
