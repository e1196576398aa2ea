/* ext4's on-disk metadata (see vd_ext4.h). Offsets are the kernel's
 * (fs/ext4/ext4.h, ext4_extents.h). */
#include "formats/vd_ext4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define INCOMPAT_JOURNAL_DEV 0x8u
#define INCOMPAT_META_BG     0x10u
#define INCOMPAT_64BIT       0x80u
#define GROUPS_MAX           ((uint64_t)1 << 22)

static uint16_t le16(const unsigned char *p) {
        return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t le32(const unsigned char *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vd_ext4_geo_release(vd_ext4_geo *g) {
        free(g->itable);
        g->itable = NULL;
}

int vd_ext4_geo_read(vd_ext4_reader rd, void *ud, uint64_t dev_size, vd_ext4_geo *g) {
        unsigned char sb[1024];
        memset(g, 0, sizeof *g);
        if (rd(ud, sb, sizeof sb, 1024) < 0 || le16(sb + 0x38) != 0xEF53)
                return -1;
        uint32_t lbs = le32(sb + 0x18);
        if (lbs > 6)
                return -1;
        g->bs = 1024u << lbs;
        g->fdb = le32(sb + 0x14);
        g->bpg = le32(sb + 0x20);
        g->ipg = le32(sb + 0x28);
        g->incompat = le32(sb + 0x60);
        g->isz = le32(sb + 0x4C) == 0 ? 128 : le16(sb + 0x58);
        g->desc = g->incompat & INCOMPAT_64BIT ? le16(sb + 0xFE) : 32;
        g->blocks = le32(sb + 0x04) | (g->incompat & INCOMPAT_64BIT ? (uint64_t)le32(sb + 0x150) << 32 : 0);
        if (g->incompat & (INCOMPAT_META_BG | INCOMPAT_JOURNAL_DEV))
                return -1;
        if (g->isz < 128 || g->isz > g->bs || (g->isz & (g->isz - 1)) || g->desc < 32 || g->desc > 1024 ||
            (g->desc & (g->desc - 1)) || g->bpg == 0 || g->bpg > g->bs * 8u /* bigalloc too: not proved */ ||
            g->ipg == 0 || g->ipg > g->bs * 8u || g->fdb > 1 || g->blocks <= g->fdb || g->blocks > dev_size / g->bs)
                return -1;
        unsigned char sig[4 + 4 + 16 + 1 + 4 + 4];
        memcpy(sig, sb + 0x5C, 4);
        memcpy(sig + 4, sb + 0x64, 4);
        memcpy(sig + 8, sb + 0xEC, 16);
        sig[24] = sb[0xFC];
        memcpy(sig + 25, sb + 0x160, 4);
        memcpy(sig + 29, sb + 0x27C, 4);
        g->sb_sig = XXH3_64bits(sig, sizeof sig);
        g->ngroups = (g->blocks - g->fdb + g->bpg - 1) / g->bpg;
        uint64_t gdt = (uint64_t)(g->fdb + 1) * g->bs, gdt_len = g->ngroups * g->desc;
        uint64_t table_blocks = ((uint64_t)g->ipg * g->isz + g->bs - 1) / g->bs;
        if (g->ngroups == 0 || g->ngroups > GROUPS_MAX || gdt + gdt_len > dev_size)
                return -1;
        unsigned char *raw = malloc(gdt_len);
        g->itable = malloc(g->ngroups * sizeof *g->itable);
        if (!raw || !g->itable || rd(ud, raw, gdt_len, gdt) < 0) {
                free(raw);
                free(g->itable);
                g->itable = NULL;
                return -1;
        }
        for (uint64_t i = 0; i < g->ngroups; i++) {
                const unsigned char *e = raw + i * g->desc;
                uint64_t t = le32(e + 0x08) | (g->desc >= 64 ? (uint64_t)le32(e + 0x28) << 32 : 0);
                if (t < g->fdb + 1 || t > g->blocks || table_blocks > g->blocks - t) {
                        free(raw);
                        free(g->itable);
                        g->itable = NULL;
                        return -1;
                }
                g->itable[i] = t;
        }
        free(raw);
        uint64_t th = XXH3_64bits(g->itable, g->ngroups * sizeof *g->itable);
        snprintf(g->value, sizeof g->value,
                 "ext4 bs=%u ipg=%u isz=%u desc=%u fdb=%u bpg=%u blocks=%llu incompat=%#x tables=%016llx", g->bs,
                 g->ipg, g->isz, g->desc, g->fdb, g->bpg, (unsigned long long)g->blocks,
                 g->incompat & ~VD_EXT4_INCOMPAT_RECOVER, (unsigned long long)th);
        return 0;
}

bool vd_ext4_slot(const vd_ext4_geo *g, uint64_t ino, uint64_t *ret_off) {
        if (ino == 0 || ino > g->ngroups * g->ipg)
                return false;
        uint64_t grp = (ino - 1) / g->ipg, idx = (ino - 1) % g->ipg;
        *ret_off = g->itable[grp] * g->bs + idx * g->isz;
        return true;
}

void vd_ext4_inode_parse(const unsigned char in[128], vd_ext4_inode *ret) {
        ret->mode = le16(in);
        ret->size_lo = le32(in + 0x04);
        ret->flags = le32(in + 0x20);
        ret->i_block = in + 0x28;
        ret->file_acl = le32(in + 0x68) | (uint64_t)le16(in + 0x76) << 32;
        ret->size_high = le32(in + 0x6C);
}

int vd_ext4_extent_walk(const vd_ext4_geo *g, vd_ext4_reader rd, void *ud, const unsigned char *node, size_t cap,
                        int depth_expect, unsigned *budget, bool (*visit)(void *vud, uint64_t blk, uint64_t n),
                        void *vud) {
        if (cap < 12 || le16(node) != 0xF30A)
                return VD_EXT4_MALFORMED;
        unsigned entries = le16(node + 2), max = le16(node + 4), depth = le16(node + 6);
        if (depth > 5 || (depth_expect >= 0 && depth != (unsigned)depth_expect) || entries > max ||
            12 + (size_t)max * 12 > cap)
                return VD_EXT4_MALFORMED;
        for (unsigned i = 0; i < entries; i++) {
                const unsigned char *e = node + 12 + (size_t)i * 12;
                if (depth == 0) {
                        uint64_t len = le16(e + 4);
                        if (len > 32768)
                                len -= 32768; /* unwritten (preallocated) */
                        uint64_t p = (uint64_t)le16(e + 6) << 32 | le32(e + 8);
                        if (len == 0 || p >= g->blocks || len > g->blocks - p)
                                return VD_EXT4_MALFORMED;
                        if (visit(vud, p, len))
                                return VD_EXT4_STOPPED;
                        continue;
                }
                uint64_t leaf = le32(e + 4) | (uint64_t)le16(e + 8) << 32;
                if (leaf >= g->blocks || *budget == 0)
                        return VD_EXT4_MALFORMED;
                (*budget)--;
                if (visit(vud, leaf, 1))
                        return VD_EXT4_STOPPED;
                unsigned char *b = malloc(g->bs);
                if (!b || rd(ud, b, g->bs, leaf * g->bs) < 0) {
                        free(b);
                        return VD_EXT4_MALFORMED;
                }
                int r = vd_ext4_extent_walk(g, rd, ud, b, g->bs, (int)depth - 1, budget, visit, vud);
                free(b);
                if (r != VD_EXT4_WALKED)
                        return r;
        }
        return VD_EXT4_WALKED;
}
