/* ext4's on-disk metadata, read as untrusted input: the superblock and
 * group descriptors (where every inode lies), an inode's classic fields, and
 * its extent tree. Everything comes from the guest's device through a reader
 * callback, and every number is bounded and checked before it is used: a
 * layout this code does not follow is refused (-1, or VD_EXT4_MALFORMED),
 * never guessed. Used by the delta scan (vd_delta.c) in the walker, and by
 * its tests on host images. */
#ifndef VD_EXT4_H
#define VD_EXT4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read len bytes at byte offset off of the device: 0, or -1 (short or failed). */
typedef int (*vd_ext4_reader)(void *ud, void *buf, size_t len, uint64_t off);

#define VD_EXT4_INCOMPAT_RECOVER  0x4u
#define VD_EXT4_INCOMPAT_EA_INODE 0x400u
#define VD_EXT4_FL_EXTENTS        0x80000u
#define VD_EXT4_FL_EA_INODE       0x200000u
#define VD_EXT4_FL_INLINE_DATA    0x10000000u

/* One ext4 file system: how it is laid out. */
typedef struct vd_ext4_geo {
        uint32_t bs, ipg, isz, desc, fdb, bpg, incompat;
        uint64_t blocks, ngroups;
        uint64_t *itable; /* per group: first block of its inode table. Owned */
        /* what else in the superblock changes how the kernel reads inodes and
         * directories: compat and ro_compat features, the directory hash
         * seed and version, the flags, the filename encoding */
        uint64_t sb_sig;
        /* the geometry as one printable line: what a baseline records and a
         * delta scan expects ("ext4 bs=4096 ipg=... tables=HASH") */
        char value[200];
} vd_ext4_geo;

/* Read the superblock and group descriptor table of the ext4 file system
 * on a device of dev_size bytes. 0 and *g filled (vd_ext4_geo_release), or
 * -1: not ext4, or a layout not followed (meta_bg, an external journal
 * device, bigalloc, sizes out of bounds); *g then holds nothing. */
int vd_ext4_geo_read(vd_ext4_reader rd, void *ud, uint64_t dev_size, vd_ext4_geo *g);
void vd_ext4_geo_release(vd_ext4_geo *g);

/* Byte offset on the device of inode ino's slot (g->isz bytes); false if
 * the file system has no such inode. */
bool vd_ext4_slot(const vd_ext4_geo *g, uint64_t ino, uint64_t *ret_off);

/* The classic fields of an inode's first 128 bytes. */
typedef struct vd_ext4_inode {
        uint16_t mode;          /* type in the top four bits */
        uint32_t flags;         /* VD_EXT4_FL_* */
        uint32_t size_lo, size_high;
        uint64_t file_acl;      /* the extended attribute block, 0: none */
        const unsigned char *i_block; /* 60 bytes: the extent tree's root, or a fast symlink's target. Borrowed */
} vd_ext4_inode;
void vd_ext4_inode_parse(const unsigned char in[128], vd_ext4_inode *ret);

enum {
        VD_EXT4_WALKED = -1,    /* every block was visited */
        VD_EXT4_STOPPED = -2,   /* visit asked to stop */
        VD_EXT4_MALFORMED = -3, /* a node out of bounds, a block past the file system, the budget spent */
};
/* Walk the extent tree whose root (or a tree block) is node (cap bytes):
 * visit(vud, first block, count) for every tree block it reads (before
 * reading it) and every data extent, in tree order. *budget: how many tree
 * blocks it may still read (decremented). depth_expect: the node's depth,
 * -1 for a root. */
int vd_ext4_extent_walk(const vd_ext4_geo *g, vd_ext4_reader rd, void *ud, const unsigned char *node, size_t cap,
                        int depth_expect, unsigned *budget, bool (*visit)(void *vud, uint64_t blk, uint64_t n),
                        void *vud);

#endif
