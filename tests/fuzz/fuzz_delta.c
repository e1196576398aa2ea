/* The delta scan's parsers on hostile input. The first byte chooses:
 *   0: an ext4 image (the walker reads the guest's superblock, group
 *      descriptors, inodes and extent trees inside the appliance): its
 *      geometry, then proofs of the first inodes (content, and any inode
 *      type for the candidate walk), with and without a changed range; whatever the bytes, no crash, no endless walk;
 *   1: the host's instructions to the walker;
 *   2: qemu-img map's answer (ranges in order, within the image). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/vd_delta.h"
#include "collect/vd_imageinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct img {
        const uint8_t *p;
        size_t n;
};

static int rd(void *ud, void *buf, size_t len, uint64_t off) {
        const struct img *m = ud;
        if (off > m->n || len > m->n - off)
                return -1;
        memcpy(buf, m->p + off, len);
        return 0;
}

static int count(void *ud, uint64_t start, uint64_t len) {
        uint64_t *last = ud;
        if (start < *last || len == 0)
                abort(); /* out of order or empty: the parser let it through */
        *last = start + len;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        uint8_t mode = data[0] % 3;
        data++;
        size--;
        if (mode == 0) {
                if (size > (4u << 20))
                        return 0;
                struct img m = {data, size};
                char v[256];
                vd_delta_geometry_of(rd, &m, size, v, sizeof v);
                vd_delta *none = vd_delta_new();
                vd_delta *some = NULL;
                vd_err err = VD_ERR_INIT;
                const char *t = "vmdrift-delta 1\nrange 0 8192 4096\nrange 0 1048576 65536\n";
                vd_delta_parse(t, strlen(t), &some, &err);
                for (uint64_t ino = 1; ino <= 16; ino++) {
                        int w = -1;
                        int r = vd_delta_prove_image(none, rd, &m, size, ino, &w);
                        if (r != 1 && (w < 0 || w >= VD_DW_N))
                                abort();
                        w = -1; /* the candidate walk's check, any inode type */
                        r = vd_delta_same_image(some ? some : none, rd, &m, size, ino, &w);
                        if (r != 1 && (w < 0 || w >= VD_DW_N))
                                abort();
                        if (some) {
                                w = -1;
                                r = vd_delta_prove_image(some, rd, &m, size, ino, &w);
                                if (r != 1 && (w < 0 || w >= VD_DW_N))
                                        abort();
                        }
                }
                vd_delta_free(none);
                vd_delta_free(some);
        } else if (mode == 1) {
                vd_delta *d = NULL;
                vd_err err = VD_ERR_INIT;
                if (vd_delta_parse((const char *)data, size, &d, &err) == 0) {
                        vd_delta_is_mount(d, "/boot", 5);
                        vd_delta_changed(d, 0, 0, UINT64_MAX);
                        vd_delta_changed(d, 1, 4096, 1);
                        vd_delta_free(d);
                } else if (!err.msg[0] || d)
                        abort();
        } else {
                uint64_t last = 0;
                vd_err err = VD_ERR_INIT;
                if (vd_image_map_parse((const char *)data, size, 2, (uint64_t)1 << 40, count, &last, &err) < 0 &&
                    !err.msg[0])
                        abort();
        }
        return 0;
}
