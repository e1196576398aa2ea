/* What a qcow2 image's header names (its backing file and that file's
 * format), read from its first cluster without running qemu-img: a fleet's
 * untouched clones are asked this on every run, and a qemu-img process
 * costs 15-25 ms. The header is the guest's writing (a raw disk can carry
 * one), so the answer is given only where it is certainly qemu's own: a
 * plain header (version 2 or 3, no encryption, no external data file, no
 * unknown incompatible feature, a backing name without a protocol); for
 * anything else the caller asks qemu-img, which also says what is wrong.
 * Ownership: the result owns its backing name (vd_qcow2_hdr_release). */
#ifndef VD_QCOW2_H
#define VD_QCOW2_H

#include <stddef.h>
#include <stdint.h>

#define VD_QCOW2_READ_MAX ((size_t)2 << 20) /* the largest cluster: what the caller reads */

typedef struct vd_qcow2_hdr {
        char *backing;           /* as the header names it (1 to 1023 bytes), or NULL: none */
        char backing_format[16]; /* as its extension names it, or "" */
} vd_qcow2_hdr;

/* p: the file's first len bytes (at most VD_QCOW2_READ_MAX; all of a
 * shorter file). 0 and *ret: certain; 1: not certain, ask qemu-img (*ret
 * empty); VD_E_NOMEM. */
int vd_qcow2_header_parse(const unsigned char *p, size_t len, vd_qcow2_hdr *ret);
void vd_qcow2_hdr_release(vd_qcow2_hdr *h);

#endif
