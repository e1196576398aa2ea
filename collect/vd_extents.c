/* Walker half of host-side hashing: FIEMAP, then file system device -> disk.
 *
 * Each file system device is resolved once (cached by st_dev): a partition
 * is its disk plus the partition's start; a whole disk is itself; a
 * device-mapper volume is mapped only when every target of its table is
 * "linear" onto a partition or a whole disk (its segments, in order). The
 * file system must be ext2/3/4 or XFS (their extents are offsets on that
 * device) and not mounted with data=journal. Anything else: a fallback
 * reason, and the walker hashes the file itself.
 */
#define _GNU_SOURCE
#include "collect/vd_extents.h"
#include "formats/vd_mountinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dm-ioctl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/vd_err.h"

int vd_disk_index(const char *name) {
        const char *p = NULL;
        if (strncmp(name, "sd", 2) == 0 || strncmp(name, "vd", 2) == 0 || strncmp(name, "hd", 2) == 0)
                p = name + 2;
        else if (strncmp(name, "xvd", 3) == 0)
                p = name + 3;
        if (!p || !*p || strlen(p) > 3)
                return -1;
        int v = 0;
        for (; *p; p++) {
                if (*p < 'a' || *p > 'z')
                        return -1;
                v = v * 26 + (*p - 'a' + 1);
        }
        return v - 1;
}

/* ---- device -> disk segments ---- */

#define SEGS_MAX 64
#define DEVS_MAX 64

struct seg {
        uint64_t start, len; /* on the file system's device, bytes */
        uint64_t disk_off;   /* where start lies on the disk */
        uint32_t disk;
};

struct devmap {
        dev_t dev;
        int reason; /* -1: mapped */
        struct seg segs[SEGS_MAX];
        unsigned n;
};

static pthread_mutex_t devs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct devmap devs[DEVS_MAX];
static unsigned n_devs;

static bool read_u64_file(const char *path, uint64_t *v) {
        char b[64];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t k = read(fd, b, sizeof b - 1);
        close(fd);
        if (k <= 0)
                return false;
        b[k] = '\0';
        char *end;
        errno = 0;
        unsigned long long x = strtoull(b, &end, 10);
        if (errno || end == b)
                return false;
        *v = x;
        return true;
}

/* Which drive the host added: a SCSI disk's target number (qemu numbers the
 * scsi-hd devices in the order libguestfs adds the drives, while the
 * kernel's sdX names follow the order the disks were probed in, which is
 * not always the same); other disks (virtio-blk vdX) by name. */
static int drive_number(const char *name) {
        char p[96], real[PATH_MAX];
        if (strlen(name) > 32)
                return -1;
        snprintf(p, sizeof p, "/sys/block/%s/device", name);
        if (strncmp(name, "sd", 2) == 0) {
                unsigned h, c, t, l;
                const char *b = realpath(p, real) ? strrchr(real, '/') : NULL;
                if (!b || sscanf(b + 1, "%u:%u:%u:%u", &h, &c, &t, &l) != 4 || l != 0 || t >= VD_DRIVES_MAX)
                        return -1;
                return (int)t;
        }
        return vd_disk_index(name);
}

/* The guest's disks among the appliance's drives (vd_extents_set_disks). */
static unsigned disk_first = 0, disk_count = VD_DISKS_MAX;

void vd_extents_set_disks(unsigned first, unsigned count) {
        disk_first = first;
        disk_count = count;
}

/* The guest's disk number of a drive, or -1: a drive of another guest
 * sharing the appliance is no disk of this one. */
static int disk_number(const char *name) {
        int t = drive_number(name);
        if (t < 0 || (unsigned)t < disk_first || (unsigned)t - disk_first >= disk_count ||
            (unsigned)t - disk_first >= VD_DISKS_MAX)
                return -1;
        return (int)((unsigned)t - disk_first);
}

/* A partition or a whole disk: the disk and the byte offset of dev on it. */
static bool block_to_disk(unsigned maj, unsigned min, uint32_t *disk, uint64_t *off, uint64_t *size) {
        char p[96], real[PATH_MAX];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u", maj, min);
        if (!realpath(p, real))
                return false;
        char *base = strrchr(real, '/');
        if (!base)
                return false;
        uint64_t sectors;
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/size", maj, min);
        if (!read_u64_file(p, &sectors))
                return false;
        *size = sectors * 512;
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/partition", maj, min);
        if (access(p, F_OK) == 0) {
                uint64_t start;
                snprintf(p, sizeof p, "/sys/dev/block/%u:%u/start", maj, min);
                if (!read_u64_file(p, &start))
                        return false;
                *base = '\0'; /* .../block/sda/sda1 -> .../block/sda */
                base = strrchr(real, '/');
                if (!base)
                        return false;
                *off = start * 512;
        } else
                *off = 0;
        int idx = disk_number(base + 1);
        if (idx < 0 || (unsigned)idx >= VD_DISKS_MAX)
                return false;
        *disk = (uint32_t)idx;
        return true;
}

/* A device-mapper device whose targets are all linear onto disks. */
static int map_dm(unsigned maj, unsigned min, struct devmap *d) {
        char p[96], name[DM_NAME_LEN];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/dm/name", maj, min);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return VD_FB_DEVICE;
        ssize_t k = read(fd, name, sizeof name - 1);
        close(fd);
        if (k <= 1)
                return VD_FB_DEVICE;
        name[k - 1] = '\0'; /* the newline */
        size_t sz = 65536;
        struct dm_ioctl *io = calloc(1, sz);
        if (!io)
                return VD_FB_DEVICE;
        io->version[0] = DM_VERSION_MAJOR;
        io->data_size = (uint32_t)sz;
        io->data_start = sizeof *io;
        io->flags = DM_STATUS_TABLE_FLAG;
        memcpy(io->name, name, strnlen(name, sizeof io->name - 1)); /* calloc'ed: NUL-terminated */
        int cfd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
        int reason = VD_FB_DEVICE;
        if (cfd < 0 || ioctl(cfd, DM_TABLE_STATUS, io) < 0 || (io->flags & DM_BUFFER_FULL_FLAG) ||
            io->target_count == 0 || io->target_count > SEGS_MAX || io->data_start >= sz)
                goto out;
        const char *data = (const char *)io + io->data_start, *end = (const char *)io + sz;
        const struct dm_target_spec *t = (const void *)data;
        uint64_t expect = 0;
        for (uint32_t i = 0; i < io->target_count; i++) {
                if ((const char *)(t + 1) >= end || strncmp(t->target_type, "linear", DM_MAX_TYPE_NAME) != 0)
                        goto out;
                const char *params = (const char *)(t + 1);
                if (!memchr(params, '\0', (size_t)(end - params)))
                        goto out;
                unsigned pm, pn;
                unsigned long long poff;
                uint32_t disk;
                uint64_t base, size;
                if (sscanf(params, "%u:%u %llu", &pm, &pn, &poff) != 3 || t->sector_start * 512 != expect ||
                    !block_to_disk(pm, pn, &disk, &base, &size) || poff > size / 512 ||
                    t->length > size / 512 - poff)
                        goto out;
                d->segs[d->n++] = (struct seg){t->sector_start * 512, t->length * 512, base + poff * 512, disk};
                expect += t->length * 512;
                if (t->next == 0 || t->next >= (uint32_t)(end - data))
                        break;
                t = (const void *)(data + t->next);
        }
        reason = d->n == io->target_count ? -1 : VD_FB_DEVICE;
out:
        if (cfd >= 0)
                close(cfd);
        free(io);
        return reason;
}

/* Mounted with data=journal? (the super options in mountinfo) */
static bool data_journal(dev_t dev) {
        vd_mount *m = NULL;
        size_t n = 0;
        vd_err e = VD_ERR_INIT;
        if (vd_mountinfo_read(&m, &n, &e) < 0)
                return true; /* cannot tell: assume the worst */
        bool dj = false;
        for (size_t i = 0; i < n; i++)
                if (makedev(m[i].major, m[i].minor) == dev &&
                    (strstr(m[i].super_options, "data=journal") || strstr(m[i].source, "data=journal")))
                        dj = true;
        vd_mounts_free(m, n);
        return dj;
}

static void resolve(int fd, struct devmap *d) {
        struct statfs sf;
        d->n = 0;
        if (fstatfs(fd, &sf) < 0 || (sf.f_type != 0xEF53 /* ext2/3/4 */ && sf.f_type != 0x58465342 /* XFS */)) {
                d->reason = VD_FB_FSTYPE;
                return;
        }
        if (data_journal(d->dev)) {
                d->reason = VD_FB_JOURNAL;
                return;
        }
        unsigned maj = major(d->dev), min = minor(d->dev);
        char p[96];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/dm", maj, min);
        if (access(p, F_OK) == 0) {
                d->reason = map_dm(maj, min, d);
                return;
        }
        uint32_t disk;
        uint64_t off, size;
        /* md, loop, nbd... are not disks: block_to_disk refuses their names */
        if (!block_to_disk(maj, min, &disk, &off, &size)) {
                d->reason = VD_FB_DEVICE;
                return;
        }
        d->segs[0] = (struct seg){0, size, off, disk};
        d->n = 1;
        d->reason = -1;
}

static const struct devmap *devmap_of(int fd, dev_t dev) {
        pthread_mutex_lock(&devs_mu);
        const struct devmap *r = NULL;
        for (unsigned i = 0; i < n_devs && !r; i++)
                if (devs[i].dev == dev)
                        r = &devs[i];
        if (!r && n_devs < DEVS_MAX) {
                struct devmap *d = &devs[n_devs];
                d->dev = dev;
                resolve(fd, d);
                n_devs++;
                r = d;
        }
        pthread_mutex_unlock(&devs_mu);
        return r;
}

/* ---- FIEMAP ---- */

#define FIEMAP_BATCH 512u
#define BAD_FLAGS                                                                                                    \
        (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED |    \
         FIEMAP_EXTENT_NOT_ALIGNED)

static int push(vd_extent_map **m, uint32_t *cap, vd_extent x) {
        if ((*m)->n == *cap) {
                uint32_t nc = *cap * 2;
                vd_extent_map *g = realloc(*m, sizeof **m + (size_t)nc * sizeof(vd_extent));
                if (!g)
                        return VD_E_NOMEM;
                *m = g;
                *cap = nc;
        }
        (*m)->v[(*m)->n++] = x;
        return 0;
}

/* One extent of the file system device -> pieces on disks. */
static int add_mapped(const struct devmap *d, vd_extent_map **m, uint32_t *cap, uint64_t logical, uint64_t phys,
                      uint64_t len, uint32_t flags, int *reason) {
        while (len > 0) {
                const struct seg *s = NULL;
                for (unsigned i = 0; i < d->n && !s; i++)
                        if (phys >= d->segs[i].start && phys - d->segs[i].start < d->segs[i].len)
                                s = &d->segs[i];
                if (!s) {
                        *reason = VD_FB_DEVICE; /* outside the device: the kernel or the table lies */
                        return 1;
                }
                uint64_t in = phys - s->start, take = s->len - in < len ? s->len - in : len;
                if ((*m)->n >= VD_EXTENTS_MAX) {
                        *reason = VD_FB_EXTENTS;
                        return 1;
                }
                int r = push(m, cap, (vd_extent){logical, s->disk_off + in, take, s->disk, flags});
                if (r < 0)
                        return r;
                logical += take;
                phys += take;
                len -= take;
        }
        return 0;
}

int vd_extents_map(int fd, const struct stat *st, vd_extent_map **ret, int *reason) {
        *ret = NULL;
        const struct devmap *d = devmap_of(fd, st->st_dev);
        if (!d) {
                *reason = VD_FB_DEVICE;
                return 1;
        }
        if (d->reason >= 0) {
                *reason = d->reason;
                return 1;
        }
        int fl = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0) {
                if (fl & FS_INLINE_DATA_FL) {
                        *reason = VD_FB_INLINE;
                        return 1;
                }
                if (fl & (FS_COMPR_FL | FS_ENCRYPT_FL)) {
                        *reason = VD_FB_ENCODED;
                        return 1;
                }
                if (fl & FS_JOURNAL_DATA_FL) {
                        *reason = VD_FB_JOURNAL;
                        return 1;
                }
        }
        struct fiemap *fm = malloc(sizeof *fm + FIEMAP_BATCH * sizeof(struct fiemap_extent));
        uint32_t cap = 16;
        vd_extent_map *m = malloc(sizeof *m + cap * sizeof(vd_extent));
        if (!fm || !m) {
                free(fm);
                free(m);
                return VD_E_NOMEM;
        }
        m->n = 0;
        uint64_t size = (uint64_t)st->st_size, next = 0;
        int rc = 0;
        bool last = false;
        while (!last && next < size) {
                memset(fm, 0, sizeof *fm);
                fm->fm_start = next;
                fm->fm_length = FIEMAP_MAX_OFFSET - next;
                fm->fm_flags = FIEMAP_FLAG_SYNC;
                fm->fm_extent_count = FIEMAP_BATCH;
                if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
                        *reason = VD_FB_FIEMAP;
                        rc = 1;
                        break;
                }
                if (fm->fm_mapped_extents == 0)
                        break; /* the rest is a hole */
                for (uint32_t i = 0; i < fm->fm_mapped_extents && rc == 0 && !last; i++) {
                        const struct fiemap_extent *x = &fm->fm_extents[i];
                        last = x->fe_flags & FIEMAP_EXTENT_LAST;
                        if (x->fe_flags & (FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL)) {
                                *reason = VD_FB_INLINE;
                                rc = 1;
                        } else if (x->fe_flags & BAD_FLAGS) {
                                *reason = VD_FB_ENCODED;
                                rc = 1;
                        } else if (x->fe_logical < next || x->fe_length == 0 ||
                                   x->fe_logical > UINT64_MAX - x->fe_length) {
                                *reason = VD_FB_FIEMAP; /* out of order or overlapping */
                                rc = 1;
                        } else if (x->fe_logical < size) {
                                uint64_t len = x->fe_length;
                                if (len > size - x->fe_logical)
                                        len = size - x->fe_logical; /* the last block past the end */
                                uint32_t f = x->fe_flags & FIEMAP_EXTENT_UNWRITTEN ? VD_EXTENT_ZERO : 0;
                                rc = add_mapped(d, &m, &cap, x->fe_logical, x->fe_physical, len, f, reason);
                        }
                        next = x->fe_logical + x->fe_length;
                }
        }
        free(fm);
        if (rc != 0) {
                free(m);
                return rc;
        }
        *ret = m;
        return 0;
}

int vd_extents_device(int fd, dev_t dev, uint32_t *disk, uint64_t *start, uint64_t *size) {
        const struct devmap *d = devmap_of(fd, dev);
        if (!d || d->reason >= 0 || d->n != 1 || d->segs[0].start != 0)
                return 1;
        *disk = d->segs[0].disk;
        *start = d->segs[0].disk_off;
        *size = d->segs[0].len;
        return 0;
}
