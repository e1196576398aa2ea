/* Delta scan, walker half (see vd_delta.h). Reads ext4 metadata (vd_ext4.c) from the
 * file system's own block device inside the appliance; everything it reads
 * is the guest's and is bounded and checked before use. */
#define _GNU_SOURCE
#include "collect/vd_delta.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "collect/vd_extents.h"
#include "common/vd_err.h"
#include "common/vd_io.h"
#include "formats/vd_ext4.h"
#include "formats/vd_mountinfo.h"

struct range {
        uint32_t disk;
        uint64_t start, end; /* [start, end) */
};

struct expect {
        char *key, *value;
};

#define DEVS_MAX 64
struct dev {
        dev_t dev;
        int state; /* -1 usable, else enum vd_delta_why */
        int fd;
        vd_delta_reader rd; /* reads the device: pread on fd, or a test's image */
        void *ud;
        uint32_t disk;
        uint64_t start, size;
        char key[48];
        vd_ext4_geo g;
};

struct vd_delta {
        struct range *r;
        size_t n;
        struct expect *x;
        size_t nx;
        char *mounts; /* expected: "mounts VALUE", or NULL */
        char **mps;   /* its mount points, unescaped */
        size_t n_mps;
        pthread_mutex_t mu;
        struct dev devs[DEVS_MAX];
        unsigned n_devs;
        /* candidate-only walk: inodes answered from the baseline's record
         * of their blocks, and inodes whose slot was read */
        atomic_ullong n_recorded, n_read;
};

/* ---- the host's instructions ---- */

static int cmp_range(const void *a, const void *b) {
        const struct range *x = a, *y = b;
        if (x->disk != y->disk)
                return x->disk < y->disk ? -1 : 1;
        return x->start < y->start ? -1 : x->start > y->start;
}

vd_delta *vd_delta_new(void) {
        vd_delta *d = calloc(1, sizeof *d);
        if (d)
                pthread_mutex_init(&d->mu, NULL);
        return d;
}

void vd_delta_free(vd_delta *d) {
        if (!d)
                return;
        free(d->r);
        for (size_t i = 0; i < d->nx; i++) {
                free(d->x[i].key);
                free(d->x[i].value);
        }
        free(d->x);
        free(d->mounts);
        for (size_t i = 0; i < d->n_mps; i++)
                free(d->mps[i]);
        free(d->mps);
        for (unsigned i = 0; i < d->n_devs; i++) {
                if (d->devs[i].fd >= 0)
                        close(d->devs[i].fd);
                vd_ext4_geo_release(&d->devs[i].g);
        }
        pthread_mutex_destroy(&d->mu);
        free(d);
}

static bool parse_u64(const char *s, const char **end, uint64_t *v) {
        if (*s < '0' || *s > '9')
                return false;
        uint64_t x = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (x > (UINT64_MAX - 9) / 10)
                        return false;
                x = x * 10 + (uint64_t)(*s - '0');
        }
        *end = s;
        *v = x;
        return true;
}

/* "KEY,FSTYPE,SB,MOUNTPOINT ..." -> the mount points */
static int split_mounts(vd_delta *d) {
        size_t n = 1;
        for (const char *p = d->mounts; *p; p++)
                n += *p == ' ';
        if (!(d->mps = calloc(n, sizeof *d->mps)))
                return -1;
        for (const char *p = d->mounts; *p;) {
                const char *end = strchr(p, ' ');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                const char *c = p, *e = p + len;
                for (int k = 0; k < 3 && c; k++) {
                        const char *m = memchr(c, ',', (size_t)(e - c));
                        c = m ? m + 1 : NULL;
                }
                if (c) {
                        if (!(d->mps[d->n_mps++] = vd_mount_unescape(c, len - (size_t)(c - p))))
                                return -1;
                }
                p += len;
                while (*p == ' ')
                        p++;
        }
        return 0;
}

bool vd_delta_is_mount(const vd_delta *d, const char *path, size_t len) {
        for (size_t i = 0; d && i < d->n_mps; i++)
                if (strlen(d->mps[i]) == len && memcmp(d->mps[i], path, len) == 0)
                        return true;
        return false;
}

int vd_delta_parse(const char *text, size_t len, vd_delta **ret, vd_err *err) {
        *ret = NULL;
        if (len > VD_DELTA_FILE_MAX || memchr(text, '\0', len)) {
                return vd_err_set(err, VD_E_INPUT, "too large or holds a NUL byte");
        }
        vd_delta *d = vd_delta_new();
        char *buf = malloc(len + 1);
        size_t cap = 0;
        if (!d || !buf) {
                vd_delta_free(d);
                free(buf);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        memcpy(buf, text, len);
        buf[len] = '\0';
        int rc = 0;
        size_t lineno = 0;
        for (char *line = buf, *next; line && *line && rc == 0; line = next) {
                lineno++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                const char *p;
                uint64_t disk, off, n;
                if (lineno == 1) {
                        if (strcmp(line, "vmdrift-delta 1") != 0)
                                rc = vd_err_set(err, VD_E_INPUT, "line 1: expected 'vmdrift-delta 1'");
                } else if (strncmp(line, "range ", 6) == 0) {
                        if (!parse_u64(line + 6, &p, &disk) || *p != ' ' || !parse_u64(p + 1, &p, &off) || *p != ' ' ||
                            !parse_u64(p + 1, &p, &n) || *p || disk >= VD_DISKS_MAX || n == 0 || off > UINT64_MAX - n) {
                                rc = vd_err_set(err, VD_E_INPUT, "line %zu: expected 'range DISK OFFSET LENGTH'",
                                                lineno);
                        } else if (d->n >= VD_DELTA_RANGES_MAX) {
                                rc = vd_err_set(err, VD_E_INPUT, "line %zu: more than %u ranges", lineno,
                                                VD_DELTA_RANGES_MAX);
                        } else {
                                if (d->n == cap) {
                                        cap = cap ? cap * 2 : 256;
                                        struct range *g = realloc(d->r, cap * sizeof *g);
                                        if (!g) {
                                                rc = vd_err_set(err, VD_E_NOMEM, "out of memory");
                                                break;
                                        }
                                        d->r = g;
                                }
                                d->r[d->n++] = (struct range){(uint32_t)disk, off, off + n};
                        }
                } else if (strncmp(line, "geometry ", 9) == 0) {
                        char *k = line + 9, *sp = strchr(k, ' ');
                        if (!sp || sp == k || !sp[1] || d->nx >= VD_DELTA_GEOMETRY_MAX || strlen(sp + 1) >= 200 ||
                            sp - k >= 48) {
                                rc = vd_err_set(err, VD_E_INPUT, "line %zu: expected 'geometry KEY VALUE'", lineno);
                        } else {
                                struct expect *g = realloc(d->x, (d->nx + 1) * sizeof *g);
                                if (!g) {
                                        rc = vd_err_set(err, VD_E_NOMEM, "out of memory");
                                        break;
                                }
                                d->x = g;
                                *sp = '\0';
                                d->x[d->nx].key = strdup(k);
                                d->x[d->nx].value = strdup(sp + 1);
                                d->nx++;
                                if (!d->x[d->nx - 1].key || !d->x[d->nx - 1].value)
                                        rc = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                } else if (strncmp(line, "mounts ", 7) == 0) {
                        if (d->mounts || strlen(line + 7) > VD_DELTA_MOUNTS_MAX) {
                                rc = vd_err_set(err, VD_E_INPUT, "line %zu: expected one 'mounts VALUE' of at most %u "
                                                "bytes", lineno, VD_DELTA_MOUNTS_MAX);
                        } else if (!(d->mounts = strdup(line + 7)) || split_mounts(d) < 0)
                                rc = vd_err_set(err, VD_E_NOMEM, "out of memory");
                } else
                        rc = vd_err_set(err, VD_E_INPUT, "line %zu: expected 'range', 'geometry' or 'mounts'", lineno);
        }
        free(buf);
        if (rc == 0 && lineno == 0)
                rc = vd_err_set(err, VD_E_INPUT, "empty: expected 'vmdrift-delta 1'");
        if (rc < 0) {
                vd_delta_free(d);
                return rc;
        }
        /* sort and merge: changed() is a binary search over disjoint ranges */
        if (d->n)
                qsort(d->r, d->n, sizeof *d->r, cmp_range);
        size_t w = 0;
        for (size_t i = 0; i < d->n; i++) {
                if (w && d->r[w - 1].disk == d->r[i].disk && d->r[i].start <= d->r[w - 1].end) {
                        if (d->r[i].end > d->r[w - 1].end)
                                d->r[w - 1].end = d->r[i].end;
                } else
                        d->r[w++] = d->r[i];
        }
        d->n = w;
        *ret = d;
        return 0;
}

int vd_delta_load(const char *path, vd_delta **ret, vd_err *err) {
        *ret = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > VD_DELTA_FILE_MAX) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return fd < 0 ? vd_err_errno(err, VD_E_IO, e, "cannot open '%s'", path)
                              : vd_err_set(err, VD_E_INPUT, "'%s' is not a regular file of at most %zu bytes", path,
                                           VD_DELTA_FILE_MAX);
        }
        vd_buf b;
        vd_buf_init(&b, VD_DELTA_FILE_MAX + 1);
        int e = 0, rr = vd_read_fd(fd, VD_DELTA_FILE_MAX, &b, &e);
        close(fd);
        if (rr < 0) {
                vd_buf_release(&b);
                return rr == VD_E_IO ? vd_err_errno(err, VD_E_IO, e, "cannot read '%s'", path)
                                     : vd_err_set(err, rr, "cannot read '%s': larger than %zu bytes", path,
                                                  VD_DELTA_FILE_MAX);
        }
        int r = vd_delta_parse(b.buf ? b.buf : "", b.len, ret, err);
        vd_buf_release(&b);
        if (r < 0)
                vd_err_prefix(err, "%s", path);
        return r;
}

size_t vd_delta_n_ranges(const vd_delta *d) {
        return d ? d->n : 0;
}

bool vd_delta_changed(const vd_delta *d, uint32_t disk, uint64_t off, uint64_t len) {
        if (len == 0)
                return false;
        uint64_t end = off > UINT64_MAX - len ? UINT64_MAX : off + len;
        /* the first range (disk order, then start) whose end lies past off */
        size_t lo = 0, hi = d->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const struct range *r = &d->r[mid];
                if (r->disk < disk || (r->disk == disk && r->end <= off))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < d->n && d->r[lo].disk == disk && d->r[lo].start < end;
}

/* ---- ext4 ---- */

int vd_delta_geometry_of(vd_delta_reader rd, void *ud, uint64_t dev_size, char *value, size_t vlen) {
        vd_ext4_geo g;
        if (vd_ext4_geo_read(rd, ud, dev_size, &g) < 0)
                return -1;
        snprintf(value, vlen, "%s", g.value);
        vd_ext4_geo_release(&g);
        return 0;
}

static int pread_rd(void *ud, void *buf, size_t len, uint64_t off) {
        return vd_pread_exact(*(int *)ud, buf, len, off);
}

/* The blocks an inode names, as a capture records them (vd_delta_record). */
struct rec {
        uint64_t (*r)[2]; /* start, count */
        size_t n, cap;
        bool over; /* too many to note: not recorded */
};

struct prove_ctx {
        const vd_delta *d;
        const struct dev *v;
        unsigned budget; /* extent-tree blocks this file may still read */
        struct rec *rec; /* recording: every block named is noted, none is "changed" */
};

static void rec_add(struct rec *r, uint64_t blk, uint64_t n) {
        if (r->over)
                return;
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 8;
                /* before merging: a file's extents are often adjacent on disk */
                uint64_t(*g)[2] = cap > 65536 ? NULL : realloc(r->r, cap * sizeof *g);
                if (!g) {
                        r->over = true;
                        return;
                }
                r->r = g;
                r->cap = cap;
        }
        r->r[r->n][0] = blk;
        r->r[r->n++][1] = n;
}

static bool changed_blocks(const struct prove_ctx *c, uint64_t blk, uint64_t n) {
        const vd_ext4_geo *g = &c->v->g;
        if (c->rec) {
                rec_add(c->rec, blk, n);
                return false;
        }
        return vd_delta_changed(c->d, c->v->disk, c->v->start + blk * g->bs, n * g->bs);
}

static bool changed_visit(void *ud, uint64_t blk, uint64_t n) {
        return changed_blocks(ud, blk, n);
}

/* The extent tree rooted at node: -1 proved, else why. */
static int ext_tree(struct prove_ctx *c, const unsigned char *root) {
        int r = vd_ext4_extent_walk(&c->v->g, c->v->rd, c->v->ud, root, 60, -1, &c->budget, changed_visit, c);
        return r == VD_EXT4_WALKED ? -1 : r == VD_EXT4_STOPPED ? VD_DW_CHANGED : VD_DW_MALFORMED;
}

/* The classic 128 bytes of inode ino's slot (mode, size, flags, i_block,
 * file_acl) when the whole slot is outside the changed ranges: -1, else why. */
static int read_slot(const vd_delta *d, const struct dev *v, uint64_t ino, unsigned char in[128]) {
        const vd_ext4_geo *g = &v->g;
        uint64_t off;
        if (!vd_ext4_slot(g, ino, &off))
                return VD_DW_MALFORMED;
        if (vd_delta_changed(d, v->disk, v->start + off, g->isz))
                return VD_DW_CHANGED;
        return v->rd(v->ud, in, 128, off) < 0 ? VD_DW_MALFORMED : -1;
}

/* Is inode ino of v, and all it names, outside the changed ranges? -1 yes, else why. */
static int prove_ino(const vd_delta *d, const struct dev *v, uint64_t ino) {
        unsigned char in[128];
        int r = read_slot(d, v, ino, in);
        if (r >= 0)
                return r;
        vd_ext4_inode i;
        vd_ext4_inode_parse(in, &i);
        if ((i.mode & 0xF000) != 0x8000 || (i.flags & VD_EXT4_FL_INLINE_DATA) || !(i.flags & VD_EXT4_FL_EXTENTS))
                return VD_DW_LAYOUT;
        struct prove_ctx c = {d, v, VD_DELTA_TREE_BLOCKS_MAX, NULL};
        return ext_tree(&c, i.i_block);
}

/* Is inode ino of v, of any type, and everything it names outside the
 * changed ranges? -1 yes, else why. rec: note every block it names instead
 * (a capture: no ranges). */
static int same_ino_rec(const vd_delta *d, const struct dev *v, uint64_t ino, struct rec *rec) {
        const vd_ext4_geo *g = &v->g;
        if (g->incompat & VD_EXT4_INCOMPAT_EA_INODE)
                return VD_DW_LAYOUT; /* xattr values in inodes of their own: not followed */
        unsigned char in[128];
        int r = read_slot(d, v, ino, in);
        if (r >= 0)
                return r;
        vd_ext4_inode i;
        vd_ext4_inode_parse(in, &i);
        uint32_t flags = i.flags;
        uint64_t acl = i.file_acl;
        if (acl) {
                struct prove_ctx c = {d, v, 0, rec};
                if (acl < g->fdb + 1 || acl >= g->blocks)
                        return VD_DW_MALFORMED;
                if (changed_blocks(&c, acl, 1))
                        return VD_DW_CHANGED;
        }
        if (flags & VD_EXT4_FL_EA_INODE)
                return VD_DW_LAYOUT;
        if (flags & VD_EXT4_FL_INLINE_DATA)
                return -1; /* all of it in the slot (and the xattr block) */
        switch (i.mode & 0xF000) {
        case 0x8000: /* regular */
        case 0x4000: /* directory */
                break;
        case 0xA000: /* symlink: fast (the target in i_block) unless it has extents */
                if (!(flags & VD_EXT4_FL_EXTENTS))
                        return i.size_lo < 60 && i.size_high == 0 ? -1 : VD_DW_LAYOUT;
                break;
        case 0x2000: case 0x6000: case 0x1000: case 0xC000: /* devices, fifo, socket: the slot */
                return -1;
        default:
                return VD_DW_LAYOUT;
        }
        if (!(flags & VD_EXT4_FL_EXTENTS))
                return VD_DW_LAYOUT; /* block-mapped: not followed */
        struct prove_ctx c = {d, v, VD_DELTA_TREE_BLOCKS_MAX, rec};
        return ext_tree(&c, i.i_block);
}

static int same_ino(const vd_delta *d, const struct dev *v, uint64_t ino) {
        return same_ino_rec(d, v, ino, NULL);
}

static const struct dev *dev_of(vd_delta *d, int fd, dev_t dev);

bool vd_delta_same(vd_delta *d, int fd, dev_t dev, uint64_t ino) {
        const struct dev *v = dev_of(d, fd, dev);
        if (v && v->state < 0 && ino)
                atomic_fetch_add(&d->n_read, 1);
        return v && v->state < 0 && same_ino(d, v, ino) < 0;
}

/* ---- the record of an inode's blocks ----
 * LEB128 numbers: the count of ranges, then per range (sorted, merged) its
 * distance from the previous range's end (from block 0 for the first) and
 * its length, in file-system blocks. */

static int cmp_blk(const void *a, const void *b) {
        const uint64_t *x = a, *y = b;
        return x[0] < y[0] ? -1 : x[0] > y[0];
}

static size_t put_leb(unsigned char *p, uint64_t v) {
        size_t n = 0;
        do {
                p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
        return n;
}

static bool get_leb(const unsigned char **p, const unsigned char *end, uint64_t *v) {
        uint64_t x = 0;
        for (unsigned sh = 0; *p < end && sh < 64; sh += 7) {
                unsigned char c = *(*p)++;
                if (sh == 63 && c > 1)
                        return false;
                x |= (uint64_t)(c & 0x7f) << sh;
                if (!(c & 0x80)) {
                        *v = x;
                        return true;
                }
        }
        return false;
}

/* Walk a record: fn for each range; false when malformed (or fn says stop). */
static bool rec_each(const unsigned char *p, size_t len, uint64_t limit,
                     bool (*fn)(void *ud, uint64_t blk, uint64_t n), void *ud) {
        const unsigned char *end = p + len;
        uint64_t n, at = 0;
        if (!p || len > VD_DELTA_REC_MAX || !get_leb(&p, end, &n) || n > VD_DELTA_REC_RANGES_MAX)
                return false;
        for (uint64_t i = 0; i < n; i++) {
                uint64_t gap, cnt;
                if (!get_leb(&p, end, &gap) || !get_leb(&p, end, &cnt) || cnt == 0 || gap > limit - at ||
                    cnt > limit - at - gap)
                        return false;
                at += gap;
                if (fn && !fn(ud, at, cnt))
                        return false;
                at += cnt;
        }
        return p == end;
}

bool vd_delta_rec_valid(const unsigned char *rec, size_t len) {
        return rec_each(rec, len, UINT64_MAX, NULL, NULL);
}

/* 0 encoded into *out, 1 more than VD_DELTA_REC_RANGES_MAX ranges, or VD_E_NOMEM */
static int rec_encode(struct rec *r, unsigned char **out, size_t *len) {
        if (r->n)
                qsort(r->r, r->n, sizeof *r->r, cmp_blk);
        size_t w = 0;
        for (size_t i = 0; i < r->n; i++) {
                if (w && r->r[i][0] <= r->r[w - 1][0] + r->r[w - 1][1]) {
                        uint64_t end = r->r[i][0] + r->r[i][1];
                        if (end > r->r[w - 1][0] + r->r[w - 1][1])
                                r->r[w - 1][1] = end - r->r[w - 1][0];
                } else {
                        r->r[w][0] = r->r[i][0];
                        r->r[w++][1] = r->r[i][1];
                }
        }
        if (w > VD_DELTA_REC_RANGES_MAX)
                return 1; /* too many pieces: no record, the scan reads the inode */
        unsigned char *b = malloc(10 + w * 20);
        if (!b)
                return VD_E_NOMEM;
        size_t n = put_leb(b, w);
        uint64_t at = 0;
        for (size_t i = 0; i < w; i++) {
                n += put_leb(b + n, r->r[i][0] - at);
                n += put_leb(b + n, r->r[i][1]);
                at = r->r[i][0] + r->r[i][1];
        }
        *out = b;
        *len = n;
        return 0;
}

/* -1 recorded into out, 0 nothing to record (why), VD_E_NOMEM */
static int record_on(const vd_delta *d, const struct dev *v, uint64_t ino, unsigned char **out, size_t *len) {
        struct rec r = {0};
        int why = same_ino_rec(d, v, ino, &r);
        int rc = 0;
        if (why < 0 && !r.over) {
                int e = rec_encode(&r, out, len);
                rc = e < 0 ? VD_E_NOMEM : e == 0 ? 1 : 0;
        }
        free(r.r);
        return rc;
}

int vd_delta_record(vd_delta *d, int fd, dev_t dev, uint64_t ino, unsigned char **out, size_t *len) {
        *out = NULL;
        *len = 0;
        const struct dev *v = dev_of(d, fd, dev);
        if (!v || !v->g.bs || (v->state >= 0 && v->state != VD_DW_GEOMETRY))
                return 0;
        int r = record_on(d, v, ino, out, len);
        return r < 0 ? r : 0;
}

struct rec_check {
        const vd_delta *d;
        const struct dev *v;
        bool changed;
};

static bool rec_range_unchanged(void *ud, uint64_t blk, uint64_t n) {
        struct rec_check *c = ud;
        const vd_ext4_geo *g = &c->v->g;
        if (vd_delta_changed(c->d, c->v->disk, c->v->start + blk * g->bs, n * g->bs))
                c->changed = true;
        return !c->changed;
}

/* 1 same, 0 not, -1 the record cannot say */
static int same_recorded_on(const vd_delta *d, const struct dev *v, uint64_t ino, const unsigned char *rec,
                            size_t len) {
        const vd_ext4_geo *g = &v->g;
        if (g->incompat & VD_EXT4_INCOMPAT_EA_INODE)
                return 0;
        uint64_t off;
        if (!vd_ext4_slot(g, ino, &off))
                return -1;
        if (vd_delta_changed(d, v->disk, v->start + off, g->isz))
                return 0;
        struct rec_check c = {d, v, false};
        if (!rec_each(rec, len, g->blocks, rec_range_unchanged, &c))
                return c.changed ? 0 : -1;
        return 1;
}

int vd_delta_same_recorded(vd_delta *d, dev_t dev, uint64_t ino, const unsigned char *rec, size_t len) {
        const struct dev *v = dev_of(d, -1, dev);
        if (!v || v->state >= 0)
                return 0;
        int r = same_recorded_on(d, v, ino, rec, len);
        if (r >= 0)
                atomic_fetch_add(&d->n_recorded, 1);
        return r;
}

void vd_delta_counts(const vd_delta *d, uint64_t *recorded, uint64_t *read) {
        *recorded = d ? atomic_load(&d->n_recorded) : 0;
        *read = d ? atomic_load(&d->n_read) : 0;
}

/* A delta scan reads metadata it needs, not the kernel's guesses around it:
 * no readahead on the device (directories), none of ext4's inode-table
 * readahead (32 blocks a read by default). */
static void quiet_readahead(int fd, const char *name) {
        ioctl(fd, BLKRASET, 0UL);
        char p[320];
        snprintf(p, sizeof p, "/sys/fs/ext4/%.250s/inode_readahead_blks", name);
        int s = open(p, O_WRONLY | O_CLOEXEC);
        if (s >= 0) {
                (void)!write(s, "0", 1);
                close(s);
        }
}

static int open_dev(dev_t dev, bool quiet) {
        char p[96], line[256], path[300];
        unsigned maj = major(dev), min = minor(dev);
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/uevent", maj, min);
        FILE *f = fopen(p, "re");
        int fd = -1;
        struct stat st;
        while (f && fgets(line, sizeof line, f)) {
                if (strncmp(line, "DEVNAME=", 8) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        if (!strchr(line + 8, '/') && !strstr(line + 8, "..")) {
                                snprintf(path, sizeof path, "/dev/%s", line + 8);
                                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                                if (fd >= 0 && quiet)
                                        quiet_readahead(fd, line + 8);
                        }
                        break;
                }
        }
        if (f)
                fclose(f);
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev)) {
                close(fd);
                fd = -1;
        }
        if (fd < 0) {
                /* no /dev in this root: a node of our own */
                snprintf(path, sizeof path, "/.vmdrift-blk-%u-%u", maj, min);
                unlink(path);
                if (mknod(path, S_IFBLK | 0400, dev) == 0) {
                        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        unlink(path);
                }
        }
        return fd;
}

/* The device of a file open at fd, set up once. */
static const struct dev *dev_of(vd_delta *d, int fd, dev_t dev) {
        pthread_mutex_lock(&d->mu);
        struct dev *r = NULL;
        for (unsigned i = 0; i < d->n_devs && !r; i++)
                if (d->devs[i].dev == dev)
                        r = &d->devs[i];
        if (!r && fd >= 0 && d->n_devs < DEVS_MAX) {
                r = &d->devs[d->n_devs++];
                memset(r, 0, sizeof *r);
                r->dev = dev;
                r->fd = -1;
                r->rd = pread_rd;
                r->ud = &r->fd;
                r->state = VD_DW_FS;
                struct statfs sf;
                if (fstatfs(fd, &sf) == 0 && sf.f_type == 0xEF53 &&
                    vd_extents_device(fd, dev, &r->disk, &r->start, &r->size) == 0 &&
                    (r->fd = open_dev(dev, d->n || d->nx)) >= 0 && vd_ext4_geo_read(pread_rd, &r->fd, r->size, &r->g) == 0) {
                        snprintf(r->key, sizeof r->key, "%u:%llu", r->disk, (unsigned long long)r->start);
                        r->state = VD_DW_GEOMETRY;
                        for (size_t i = 0; i < d->nx; i++)
                                if (strcmp(d->x[i].key, r->key) == 0 && strcmp(d->x[i].value, r->g.value) == 0)
                                        r->state = -1;
                }
        }
        pthread_mutex_unlock(&d->mu);
        return r;
}

int vd_delta_prove(vd_delta *d, int fd, const struct stat *st, int *why) {
        const struct dev *v = dev_of(d, fd, st->st_dev);
        if (!v) {
                *why = VD_DW_FS;
                return 0;
        }
        if (v->state >= 0) {
                *why = v->state;
                return 0;
        }
        int r = prove_ino(d, v, (uint64_t)st->st_ino);
        if (r >= 0) {
                *why = r;
                return 0;
        }
        return 1;
}

int vd_delta_print_geometry(vd_delta *d, const char *root, void *out) {
        FILE *o = out;
        vd_mount *mt = NULL;
        size_t nm = 0, rl = strlen(root);
        vd_err e = VD_ERR_INIT;
        if (vd_mountinfo_read(&mt, &nm, &e) < 0)
                return 0;
        int n = 0;
        char seen[DEVS_MAX][48];
        for (size_t m = 0; m < nm; m++) {
                const char *mp = mt[m].mount_point, *fstype = mt[m].fstype;
                if (strcmp(fstype, "ext4") && strcmp(fstype, "ext3") && strcmp(fstype, "ext2"))
                        continue;
                if (strncmp(mp, root, rl) != 0 || (mp[rl] != '\0' && mp[rl] != '/'))
                        continue;
                int fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct stat st;
                if (fd < 0)
                        continue;
                const struct dev *v = fstat(fd, &st) == 0 ? dev_of(d, fd, st.st_dev) : NULL;
                close(fd);
                if (!v || !v->key[0])
                        continue;
                bool dup = false;
                for (int i = 0; i < n && !dup; i++)
                        dup = strcmp(seen[i], v->key) == 0;
                if (dup || n >= DEVS_MAX)
                        continue;
                snprintf(seen[n++], sizeof seen[0], "%s", v->key);
                if (o)
                        fprintf(o, "geometry %s %s\n", v->key, v->g.value);
        }
        vd_mounts_free(mt, nm);
        return n;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *vd_delta_expected_mounts(const vd_delta *d) {
        return d ? d->mounts : NULL;
}

int vd_delta_mounts(vd_delta *d, const char *root, char *out, size_t cap) {
        vd_mount *mt = NULL;
        size_t nm = 0;
        vd_err e = VD_ERR_INIT;
        if (cap == 0 || vd_mountinfo_read(&mt, &nm, &e) < 0)
                return -1;
        char *items[DEVS_MAX];
        size_t rl = strlen(root), n = 0;
        int rc = 0;
        for (size_t m = 0; m < nm && rc == 0; m++) {
                const char *mp = mt[m].mount_point, *esc = mt[m].mount_point_raw, *fstype = mt[m].fstype;
                if (strncmp(mp, root, rl) != 0 || (mp[rl] != '\0' && mp[rl] != '/'))
                        continue;
                /* the same prefix, escaped: root holds no byte mountinfo escapes */
                const char *rel = esc + rl;
                char key[48] = "-", sb[32] = "-";
                int fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct stat st;
                uint32_t disk;
                uint64_t start, size;
                if (fd >= 0 && fstat(fd, &st) == 0 && vd_extents_device(fd, st.st_dev, &disk, &start, &size) == 0) {
                        snprintf(key, sizeof key, "%u:%llu", disk, (unsigned long long)start);
                        const struct dev *v = dev_of(d, fd, st.st_dev);
                        if (v && v->g.bs)
                                snprintf(sb, sizeof sb, "sb=%016llx", (unsigned long long)v->g.sb_sig);
                }
                if (fd >= 0)
                        close(fd);
                char item[4300];
                int k = snprintf(item, sizeof item, "%s,%s,%s,%s", key, fstype, sb, *rel ? rel : "/");
                for (int i = 0; i < k && rc == 0; i++)
                        if ((unsigned char)item[i] <= 0x20 || (unsigned char)item[i] > 0x7e)
                                rc = -1;
                if (rc == 0 && n >= DEVS_MAX)
                        rc = -1;
                if (rc == 0 && !(items[n++] = strdup(item)))
                        rc = -1;
        }
        vd_mounts_free(mt, nm);
        if (n > 1)
                qsort(items, n, sizeof *items, cmp_str);
        size_t used = 0;
        out[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                size_t il = strlen(items[i]);
                if (rc == 0 && (used + il + 1 >= cap || used + il + 1 > VD_DELTA_MOUNTS_MAX))
                        rc = -1;
                if (rc == 0) {
                        if (used)
                                out[used++] = ' ';
                        memcpy(out + used, items[i], il + 1);
                        used += il;
                }
                free(items[i]);
        }
        return n ? rc : -1;
}

/* Tests: check inode ino of an image read through rd as disk 0 at offset 0. */
static int on_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino, int *why,
                    int (*check)(const vd_delta *, const struct dev *, uint64_t)) {
        struct dev v = {.fd = -1, .rd = rd, .ud = ud, .disk = 0, .start = 0, .size = dev_size};
        if (vd_ext4_geo_read(rd, ud, dev_size, &v.g) < 0) {
                *why = VD_DW_FS;
                return 0;
        }
        int r = check(d, &v, ino);
        vd_ext4_geo_release(&v.g);
        if (r >= 0) {
                *why = r;
                return 0;
        }
        return 1;
}

int vd_delta_prove_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino, int *why) {
        return on_image(d, rd, ud, dev_size, ino, why, prove_ino);
}

int vd_delta_same_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino, int *why) {
        return on_image(d, rd, ud, dev_size, ino, why, same_ino);
}

int vd_delta_record_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino,
                          unsigned char **out, size_t *len) {
        struct dev v = {.fd = -1, .rd = rd, .ud = ud, .disk = 0, .start = 0, .size = dev_size};
        *out = NULL;
        *len = 0;
        if (vd_ext4_geo_read(rd, ud, dev_size, &v.g) < 0)
                return 0;
        int r = record_on(d, &v, ino, out, len);
        vd_ext4_geo_release(&v.g);
        return r < 0 ? r : *out != NULL;
}

int vd_delta_same_recorded_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino,
                                 const unsigned char *rec, size_t len) {
        struct dev v = {.fd = -1, .rd = rd, .ud = ud, .disk = 0, .start = 0, .size = dev_size};
        if (vd_ext4_geo_read(rd, ud, dev_size, &v.g) < 0)
                return -1;
        int r = same_recorded_on(d, &v, ino, rec, len);
        vd_ext4_geo_release(&v.g);
        return r;
}
