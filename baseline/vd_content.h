/* Files' text as a baseline keeps it (schema 7, policy `content:`): secrets
 * already masked (formats/vd_mask.h), zlib-compressed, under the content
 * hash of the entry it was read for. Keyed by hash, not path: an accepted
 * or derived baseline finds the text of exactly the content its entries
 * say, and a file whose content changed without new text stored has no
 * diff rather than a wrong one. Sorted by hash; covered by the baseline's
 * digest and signature. */
#ifndef VD_CONTENT_H
#define VD_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "model/vd_entry.h"

typedef struct vd_content {
        unsigned char hash[VD_HASH_MAX];
        uint8_t hash_len;
        uint32_t size;       /* the text's length */
        unsigned char *data; /* zlib */
        size_t data_len;
} vd_content;

typedef struct vd_contents {
        vd_content *v;
        size_t n, alloc;
        uint64_t text_bytes; /* the texts' lengths, summed (the policy's max_total) */
        bool sorted;
} vd_contents;

void vd_contents_release(vd_contents *c);
/* Compress text and keep it under hash (a hash kept twice is kept once, the
 * first, at vd_contents_sort). 0 or VD_E_NOMEM. */
int vd_contents_put(vd_contents *c, const unsigned char *hash, size_t hash_len, const char *text, size_t len);
/* Take a stored row (data is taken; freed on failure too). */
int vd_contents_take(vd_contents *c, const unsigned char *hash, size_t hash_len, uint32_t size, unsigned char *data,
                     size_t data_len);
void vd_contents_sort(vd_contents *c); /* and duplicates dropped */
/* Copy src's row ct into c. 0 or VD_E_NOMEM. */
int vd_contents_copy(vd_contents *c, const vd_content *ct);
const vd_content *vd_contents_find(const vd_contents *c, const unsigned char *hash, size_t hash_len);
/* The text of ct into out: 0, VD_E_NOMEM, or VD_E_BASELINE (data that does
 * not inflate to exactly size bytes). */
int vd_content_text(const vd_content *ct, vd_buf *out);

#endif
