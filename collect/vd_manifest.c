#include "collect/vd_delta.h"
#include "collect/vd_manifest.h"
#include "common/vd_str.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(VD_DELTA_REC_MAX <= VD_ENTRY_BLOCKS_MAX, "a record fits an entry");

static int put_bytes(vd_buf *b, const void *p, size_t n, int present) {
        if (!present)
                return vd_buf_add_u32(b, 0xffffffffu);
        int r = vd_buf_add_u32(b, (uint32_t)n);
        return r ? r : vd_buf_add(b, p, n);
}

/* Entry i of s is ref's entry taken[i] (SIZE_MAX: sent in full). */
static int encode(const vd_scan *s, const size_t *taken, vd_buf *b) {
        size_t n_full = 0, n_runs = 0;
        for (size_t i = 0; i < s->entries.n; i++) {
                if (!taken || taken[i] == SIZE_MAX)
                        n_full++;
                else if (i == 0 || taken[i - 1] == SIZE_MAX || taken[i - 1] + 1 != taken[i])
                        n_runs++;
        }
        int r = vd_buf_add(b, VD_MANIFEST_MAGIC, 8);
        if (!r)
                r = vd_buf_add_u32(b, s->owners_resolved ? 1u : 0u);
        if (!r)
                r = vd_buf_add_u64(b, n_full);
        if (!r)
                r = vd_buf_add_u64(b, s->n_warnings);
        if (!r)
                r = vd_buf_add_u64(b, s->st.files_hashed);
        if (!r)
                r = vd_buf_add_u64(b, s->st.bytes_hashed);
        if (!r)
                r = vd_buf_add_u64(b, s->st.files_mapped);
        for (int i = 0; i < VD_FB_N && !r; i++)
                r = vd_buf_add_u64(b, s->st.hash_fallback[i]);
        if (!r)
                r = vd_buf_add_u64(b, s->st.delta_proved);
        for (int i = 0; i < VD_DW_N && !r; i++)
                r = vd_buf_add_u64(b, s->st.delta_why[i]);
        vd_buf xb;
        vd_buf_init(&xb, 0);
        for (size_t i = 0; i < s->entries.n && !r; i++) {
                const vd_entry *e = s->entries.v[i];
                if (taken && taken[i] != SIZE_MAX)
                        continue;
                unsigned char f[5] = {e->type, e->status, e->hash_algo, e->hash_len, e->delta_proved > 2 ? 1 : e->delta_proved};
                r = put_bytes(b, e->path, e->path_len, 1);
                if (!r)
                        r = vd_buf_add(b, f, 5);
                if (!r)
                        r = vd_buf_add_u32(b, (uint32_t)e->status_errno);
                if (!r)
                        r = vd_buf_add_u32(b, e->mode);
                if (!r)
                        r = vd_buf_add_u32(b, e->uid);
                if (!r)
                        r = vd_buf_add_u32(b, e->gid);
                if (!r)
                        r = put_bytes(b, e->uname, e->uname ? strlen(e->uname) : 0, e->uname != NULL);
                if (!r)
                        r = put_bytes(b, e->gname, e->gname ? strlen(e->gname) : 0, e->gname != NULL);
                if (!r)
                        r = vd_buf_add_u64(b, e->size);
                if (!r)
                        r = vd_buf_add_u64(b, (uint64_t)e->mtime_ns);
                if (!r)
                        r = vd_buf_add_u64(b, (uint64_t)e->ctime_ns);
                if (!r)
                        r = vd_buf_add_u64(b, e->ino);
                if (!r)
                        r = vd_buf_add_u64(b, e->nlink);
                if (!r)
                        r = vd_buf_add_u64(b, e->rdev);
                if (!r)
                        r = put_bytes(b, e->target, e->target_len, e->target != NULL);
                vd_buf_reset(&xb);
                if (!r && e->n_xattrs)
                        r = vd_xattrs_encode(e, &xb);
                if (!r)
                        r = put_bytes(b, xb.buf, xb.len, 1);
                if (!r)
                        r = vd_buf_add(b, e->hash, e->hash_len);
                if (!r)
                        r = put_bytes(b, e->blocks, e->blocks_len, e->blocks != NULL);
                if (!r)
                        r = vd_buf_add_u32(b, e->extents ? e->extents->n : 0xffffffffu);
                for (uint32_t k = 0; !r && e->extents && k < e->extents->n; k++) {
                        const vd_extent *x = &e->extents->v[k];
                        if (!(r = vd_buf_add_u64(b, x->logical)) && !(r = vd_buf_add_u64(b, x->physical)) &&
                            !(r = vd_buf_add_u64(b, x->length)) && !(r = vd_buf_add_u32(b, x->disk)))
                                r = vd_buf_add_u32(b, x->flags);
                }
        }
        vd_buf_release(&xb);
        for (size_t i = 0; i < s->n_warnings && !r; i++) {
                const vd_warning *w = &s->warnings[i];
                r = put_bytes(b, w->path, w->path_len, w->path != NULL);
                if (!r)
                        r = put_bytes(b, w->msg, strlen(w->msg), 1);
        }
        /* the reference's entries taken as they are: runs of its indices */
        if (!r)
                r = vd_buf_add_u64(b, n_runs);
        for (size_t i = 0; i < s->entries.n && taken && !r; i++) {
                if (taken[i] == SIZE_MAX || (i && taken[i - 1] != SIZE_MAX && taken[i - 1] + 1 == taken[i]))
                        continue;
                size_t k = i + 1;
                while (k < s->entries.n && taken[k] != SIZE_MAX && taken[k - 1] + 1 == taken[k])
                        k++;
                r = vd_buf_add_u64(b, taken[i]);
                if (!r)
                        r = vd_buf_add_u64(b, k - i);
        }
        return r;
}

int vd_manifest_encode(const vd_scan *s, vd_buf *b) {
        return encode(s, NULL, b);
}

int vd_manifest_encode_ref(const vd_scan *s, const vd_entries *ref, vd_buf *b) {
        size_t *taken = malloc((s->entries.n ? s->entries.n : 1) * sizeof *taken);
        if (!taken)
                return VD_E_NOMEM;
        size_t last = SIZE_MAX;
        for (size_t i = 0; i < s->entries.n; i++) {
                const vd_entry *e = s->entries.v[i];
                size_t ri = e->delta_proved == 2 && !e->extents ? vd_entries_index(ref, e->path, e->path_len) : SIZE_MAX;
                /* exactly the reference's entry (its owners included), in order */
                if (ri != SIZE_MAX && (!vd_entry_equal(e, ref->v[ri]) || (last != SIZE_MAX && ri <= last)))
                        ri = SIZE_MAX;
                taken[i] = ri;
                if (ri != SIZE_MAX)
                        last = ri;
        }
        int r = encode(s, taken, b);
        free(taken);
        return r;
}

/* A length-prefixed byte string, at most max bytes, no NUL inside. Returns a
 * malloc'ed NUL-terminated copy in *out (NULL if absent). */
static int get_str(vd_rd *r, size_t max, char **out, size_t *len, bool allow_absent) {
        uint32_t n;
        *out = NULL;
        if (len)
                *len = 0;
        if (!vd_rd_u32(r, &n))
                return VD_E_SOURCE;
        if (n == 0xffffffffu)
                return allow_absent ? 0 : VD_E_SOURCE;
        if (n > max || vd_rd_left(r) < n || memchr(r->p, '\0', n))
                return VD_E_SOURCE;
        char *s = malloc((size_t)n + 1);
        if (!s)
                return VD_E_NOMEM;
        memcpy(s, r->p, n);
        s[n] = '\0';
        r->p += n;
        *out = s;
        if (len)
                *len = n;
        return 0;
}

static int decode_entry(vd_rd *r, vd_entry *e) {
        unsigned char f[5];
        uint32_t u;
        uint64_t v;
        size_t pl;
        int rc = get_str(r, VD_PATH_MAX, &e->path, &pl, false);
        if (rc < 0)
                return rc;
        if (pl == 0 || e->path[0] != '/')
                return VD_E_SOURCE;
        e->path_len = pl;
        if (!vd_rd_bytes(r, f, 5) || f[0] > VD_T_SOCK || f[1] > VD_ST_NOT_DESCENDED || f[2] > VD_HASH_SHA256 || f[4] > 2 ||
            (f[4] == 1 && f[0] != VD_T_REG) || (f[4] && f[1] != VD_ST_OK))
                return VD_E_SOURCE;
        e->delta_proved = f[4];
        e->type = f[0];
        e->status = f[1];
        e->hash_algo = f[2];
        e->hash_len = f[3];
        if (e->hash_len != 0 && e->hash_len != vd_hash_algo_len(e->hash_algo))
                return VD_E_SOURCE;
        if (!vd_rd_u32(r, &u))
                return VD_E_SOURCE;
        e->status_errno = (int32_t)u;
        if (!vd_rd_u32(r, &e->mode) || e->mode > 07777 || !vd_rd_u32(r, &e->uid) || !vd_rd_u32(r, &e->gid))
                return VD_E_SOURCE;
        if ((rc = get_str(r, VD_OWNER_NAME_MAX, &e->uname, NULL, true)) < 0 ||
            (rc = get_str(r, VD_OWNER_NAME_MAX, &e->gname, NULL, true)) < 0)
                return rc;
        if (!vd_rd_u64(r, &e->size) || !vd_rd_u64(r, &v))
                return VD_E_SOURCE;
        e->mtime_ns = (int64_t)v;
        if (!vd_rd_u64(r, &v))
                return VD_E_SOURCE;
        e->ctime_ns = (int64_t)v;
        if (!vd_rd_u64(r, &e->ino) || !vd_rd_u64(r, &e->nlink) || !vd_rd_u64(r, &e->rdev))
                return VD_E_SOURCE;
        /* A link target may not hold NUL either; get_str checks. */
        if ((rc = get_str(r, VD_TARGET_MAX, &e->target, &e->target_len, true)) < 0)
                return rc;
        uint32_t xl;
        if (!vd_rd_u32(r, &xl) || xl > (uint32_t)(4u << 20) || vd_rd_left(r) < xl)
                return VD_E_SOURCE;
        if (xl) {
                vd_err xe = VD_ERR_INIT;
                if ((rc = vd_xattrs_decode(e, r->p, xl, &xe)) < 0)
                        return rc == VD_E_NOMEM ? rc : VD_E_SOURCE;
                r->p += xl;
        }
        if (!vd_rd_bytes(r, e->hash, e->hash_len))
                return VD_E_SOURCE;
        /* the record of its inode's blocks (a capture's, or the reference's) */
        uint32_t bl;
        if (!vd_rd_u32(r, &bl))
                return VD_E_SOURCE;
        if (bl != 0xffffffffu) {
                if (bl > VD_ENTRY_BLOCKS_MAX || vd_rd_left(r) < bl || !vd_delta_rec_valid(r->p, bl))
                        return VD_E_SOURCE;
                if (!(e->blocks = malloc(bl ? bl : 1)))
                        return VD_E_NOMEM;
                memcpy(e->blocks, r->p, bl);
                e->blocks_len = bl;
                r->p += bl;
        }
        /* Extents: only for a regular file left for the host to hash; in
         * order, not overlapping, within the file's size; each piece on a
         * disk the host will bound by that disk's size. */
        uint32_t nx;
        if (!vd_rd_u32(r, &nx))
                return VD_E_SOURCE;
        if (nx == 0xffffffffu)
                return 0;
        if (nx > VD_EXTENTS_MAX || e->type != VD_T_REG || e->status != VD_ST_OK || e->hash_len != 0 ||
            vd_rd_left(r) / 32 < nx)
                return VD_E_SOURCE;
        e->extents = malloc(sizeof *e->extents + (size_t)nx * sizeof(vd_extent));
        if (!e->extents)
                return VD_E_NOMEM;
        e->extents->n = nx;
        uint64_t next = 0;
        for (uint32_t k = 0; k < nx; k++) {
                vd_extent *x = &e->extents->v[k];
                if (!vd_rd_u64(r, &x->logical) || !vd_rd_u64(r, &x->physical) || !vd_rd_u64(r, &x->length) ||
                    !vd_rd_u32(r, &x->disk) || !vd_rd_u32(r, &x->flags))
                        return VD_E_SOURCE;
                if (x->logical < next || x->length == 0 || x->length > e->size || x->logical > e->size - x->length ||
                    x->physical > UINT64_MAX - x->length || x->disk >= VD_DISKS_MAX || (x->flags & ~VD_EXTENT_ZERO))
                        return VD_E_SOURCE;
                next = x->logical + x->length;
        }
        return 0;
}

int vd_manifest_decode(const void *p, size_t n, vd_scan *out, vd_err *err) {
        return vd_manifest_decode_ref(p, n, NULL, out, err);
}

int vd_manifest_decode_ref(const void *p, size_t n, const vd_entries *ref, vd_scan *out, vd_err *err) {
        vd_rd r;
        vd_rd_init(&r, p, n);
        char magic[8];
        uint32_t flags;
        uint64_t ne, nw, fh, bh, fm, fb[VD_FB_N], dp, dw[VD_DW_N];
        if (!vd_rd_bytes(&r, magic, 8) || memcmp(magic, VD_MANIFEST_MAGIC, 8) != 0)
                return vd_err_set(err, VD_E_SOURCE, "manifest: bad magic");
        if (!vd_rd_u32(&r, &flags) || flags > 1 || !vd_rd_u64(&r, &ne) || !vd_rd_u64(&r, &nw) ||
            !vd_rd_u64(&r, &fh) || !vd_rd_u64(&r, &bh) || !vd_rd_u64(&r, &fm))
                return vd_err_set(err, VD_E_SOURCE, "manifest: truncated header");
        for (int i = 0; i < VD_FB_N; i++)
                if (!vd_rd_u64(&r, &fb[i]) || fb[i] > ne)
                        return vd_err_set(err, VD_E_SOURCE, "manifest: bad hashing counts");
        if (!vd_rd_u64(&r, &dp) || dp > ne)
                return vd_err_set(err, VD_E_SOURCE, "manifest: bad delta counts");
        for (int i = 0; i < VD_DW_N; i++)
                if (!vd_rd_u64(&r, &dw[i]) || dw[i] > ne)
                        return vd_err_set(err, VD_E_SOURCE, "manifest: bad delta counts");
        if (fm > ne || fh > ne)
                return vd_err_set(err, VD_E_SOURCE, "manifest: bad hashing counts");
        if (ne > VD_MANIFEST_ENTRIES_MAX || nw > VD_MANIFEST_WARNINGS_MAX)
                return vd_err_set(err, VD_E_LIMIT, "manifest: %llu entries / %llu warnings is over the limit",
                                  (unsigned long long)ne, (unsigned long long)nw);
        /* Each entry takes at least 90 bytes: a count the data cannot hold is a lie. */
        if (ne > n / 64)
                return vd_err_set(err, VD_E_SOURCE, "manifest: entry count %llu does not fit its size",
                                  (unsigned long long)ne);
        for (uint64_t i = 0; i < ne; i++) {
                vd_entry *e = vd_entry_new();
                if (!e)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                int rc = decode_entry(&r, e);
                if (rc == 0)
                        rc = vd_entries_push(&out->entries, e);
                if (rc < 0) {
                        vd_entry_free(e);
                        if (rc == VD_E_NOMEM)
                                return vd_err_set(err, VD_E_NOMEM, "out of memory decoding manifest entry %llu",
                                                  (unsigned long long)i);
                        return vd_err_set(err, VD_E_SOURCE, "manifest: entry %llu is malformed", (unsigned long long)i);
                }
        }
        for (uint64_t i = 0; i < nw; i++) {
                char *path = NULL, *msg = NULL;
                size_t pl = 0;
                int gr = get_str(&r, VD_PATH_MAX, &path, &pl, true);
                if (gr == 0)
                        gr = get_str(&r, 4096, &msg, NULL, false);
                if (gr < 0) {
                        free(path);
                        if (gr == VD_E_NOMEM)
                                return vd_err_set(err, VD_E_NOMEM, "out of memory decoding manifest warning %llu",
                                                  (unsigned long long)i);
                        return vd_err_set(err, VD_E_SOURCE, "manifest: warning %llu is malformed",
                                          (unsigned long long)i);
                }
                int rc = vd_scan_warn(out, path, pl, "%s", msg);
                free(path);
                free(msg);
                if (rc < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        /* runs of the reference's indices: ascending, apart, inside it */
        uint64_t nr, next = 0, total = ne;
        if (!vd_rd_u64(&r, &nr) || nr > (uint64_t)(r.end - r.p) / 16)
                return vd_err_set(err, VD_E_SOURCE, "manifest: bad count of reference runs");
        if (nr && !ref)
                return vd_err_set(err, VD_E_SOURCE, "manifest: reference runs, but no reference was sent");
        for (uint64_t i = 0; i < nr; i++) {
                uint64_t start, cnt;
                if (!vd_rd_u64(&r, &start) || !vd_rd_u64(&r, &cnt) || cnt == 0 || start < next ||
                    start > ref->n || cnt > ref->n - start || cnt > VD_MANIFEST_ENTRIES_MAX - total)
                        return vd_err_set(err, VD_E_SOURCE, "manifest: reference run %llu is malformed",
                                          (unsigned long long)i);
                total += cnt;
                next = start + cnt;
                for (uint64_t k = start; k < start + cnt; k++) {
                        vd_entry *e = vd_entry_dup(ref->v[k]);
                        if (e) {
                                free(e->blocks); /* the baseline's, not the scan's */
                                e->blocks = NULL;
                                e->blocks_len = 0;
                                e->delta_proved = 2;
                        }
                        if (!e || vd_entries_push(&out->entries, e) < 0) {
                                vd_entry_free(e);
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                }
        }
        if (r.p != r.end)
                return vd_err_set(err, VD_E_SOURCE, "manifest: %zu trailing bytes", (size_t)(r.end - r.p));
        vd_entries_sort(&out->entries);
        for (size_t i = 1; i < out->entries.n; i++) {
                const vd_entry *a = out->entries.v[i - 1], *b = out->entries.v[i];
                if (vd_path_cmp(a->path, a->path_len, b->path, b->path_len) == 0)
                        return vd_err_set(err, VD_E_SOURCE, "manifest: duplicate path");
        }
        out->owners_resolved = flags & 1;
        out->st.files_hashed += fh;
        out->st.bytes_hashed += bh;
        out->st.files_mapped += fm;
        for (int i = 0; i < VD_FB_N; i++)
                out->st.hash_fallback[i] += fb[i];
        out->st.delta_proved += dp;
        for (int i = 0; i < VD_DW_N; i++)
                out->st.delta_why[i] += dw[i];
        return 0;
}
