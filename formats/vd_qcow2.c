/* The qcow2 header's backing file, as qemu's block/qcow2.c reads it
 * (docs/interop/qcow2.txt): big-endian fields; version 2 (a 72-byte
 * header) or 3 (header_length, at least 104); header extensions from the
 * header's end to the backing file name's offset (or the cluster's end),
 * each a type, a length and the data padded to 8 bytes; the backing file
 * name at backing_file_offset, at most 1023 bytes, inside the first
 * cluster; its format in extension 0xe2792aca, shorter than 16 bytes. */
#include "formats/vd_qcow2.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_err.h"

#define EXT_END 0x00000000u
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_FDE 0x0537be77u
#define EXT_DATA_FILE 0x44415441u

/* incompatible features qemu reads the same whatever they say of the data:
 * dirty (0), compression type (3), extended L2 entries (4) */
#define INCOMPAT_CERTAIN ((1ull << 0) | (1ull << 3) | (1ull << 4))

static uint32_t be32(const unsigned char *p) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* A name qemu takes as a plain file name: printable ASCII (qemu-img
 * info cannot say other bytes faithfully), no NUL, no protocol
 * ("nbd:...", "json:{...}") and no option syntax. */
static bool plain_name(const unsigned char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ':')
                        return false;
        return n > 0;
}

void vd_qcow2_hdr_release(vd_qcow2_hdr *h) {
        free(h->backing);
        memset(h, 0, sizeof *h);
}

int vd_qcow2_header_parse(const unsigned char *p, size_t len, vd_qcow2_hdr *ret) {
        memset(ret, 0, sizeof *ret);
        if (len < 72 || memcmp(p, "QFI\xfb", 4) != 0)
                return 1;
        uint32_t version = be32(p + 4), cluster_bits = be32(p + 20), crypt = be32(p + 32);
        uint64_t bf_off = be64(p + 8);
        uint32_t bf_size = be32(p + 16);
        if ((version != 2 && version != 3) || cluster_bits < 9 || cluster_bits > 21 || crypt != 0)
                return 1;
        uint64_t cluster = 1ull << cluster_bits, hlen = 72;
        if (version == 3) {
                if (len < 104)
                        return 1;
                uint64_t incompat = be64(p + 72);
                hlen = be32(p + 100);
                if (incompat & ~INCOMPAT_CERTAIN || hlen < 104 || hlen > cluster)
                        return 1;
        }
        /* the extensions end where the backing file's name starts */
        uint64_t ext_end = bf_off ? bf_off : cluster;
        if (ext_end > cluster || ext_end > len || (bf_off && (uint64_t)bf_size > 1023) ||
            (bf_off && bf_off + bf_size > cluster) || (bf_off && bf_off + bf_size > len))
                return 1;
        for (uint64_t off = hlen; off < ext_end;) {
                if (ext_end - off < 8)
                        return 1;
                uint32_t type = be32(p + off), elen = be32(p + off + 4);
                off += 8;
                if (elen > ext_end - off)
                        return 1;
                if (type == EXT_END)
                        break;
                if (type == EXT_DATA_FILE || type == EXT_FDE)
                        return 1;
                if (type == EXT_BACKING_FORMAT) {
                        if (elen >= sizeof ret->backing_format || !plain_name(p + off, elen))
                                return 1;
                        memcpy(ret->backing_format, p + off, elen);
                        ret->backing_format[elen] = '\0';
                }
                off += ((uint64_t)elen + 7) & ~(uint64_t)7;
        }
        if (!bf_off) {
                ret->backing_format[0] = '\0'; /* no backing file: a format names nothing */
                return 0;
        }
        if (!plain_name(p + bf_off, bf_size)) {
                ret->backing_format[0] = '\0';
                return 1;
        }
        if (!(ret->backing = malloc(bf_size + 1)))
                return VD_E_NOMEM;
        memcpy(ret->backing, p + bf_off, bf_size);
        ret->backing[bf_size] = '\0';
        return 0;
}
