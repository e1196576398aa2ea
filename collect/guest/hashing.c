/* File content hashed on the host: through the appliance with pread (api
 * strategy, --quick, files the host could not read), and the walker's mapped
 * extents read through qemu-nbd (vd_hosthash). Nothing may be left looking
 * hashed when it was not. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"

#include "guest_int.h"

#define PREAD_CHUNK (2 * 1024 * 1024)

/* ---- reading content on the host (api strategy and --quick) ---- */

int vdg_hash_by_pread(struct guest_src *s, vd_hasher *h, vd_entry *e, const char *apath, vd_scan *out) {
        vd_hasher_reset(h);
        uint64_t off = 0;
        for (;;) {
                size_t got = 0;
                char *buf = guestfs_pread(s->g, apath, PREAD_CHUNK, (int64_t)off, &got);
                if (!buf) {
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = EIO;
                        return vd_scan_warn(out, e->path, e->path_len, "cannot read: %s", guestfs_last_error(s->g));
                }
                if (got > PREAD_CHUNK) { /* the appliance is not to be believed past what we asked */
                        free(buf);
                        e->status = VD_ST_UNREADABLE;
                        e->status_errno = EIO;
                        return vd_scan_warn(out, e->path, e->path_len, "pread returned more than asked");
                }
                vd_hasher_update(h, buf, got);
                free(buf);
                off += got;
                if (got == 0)
                        break;
        }
        out->st.bytes_hashed += off;
        if (off != e->size) {
                e->status = VD_ST_CHANGING;
                return vd_scan_warn(out, e->path, e->path_len, "size changed while it was read: not hashed");
        }
        int n = vd_hasher_final(h, e->hash);
        e->hash_len = (uint8_t)(n > 0 ? n : 0);
        out->st.files_hashed++;
        return 0;
}

/* After a metadata-only walk: take hashes from the reference where size,
 * mtime, ctime and inode match; read and hash the rest on the host. */
int vdg_fill_hashes(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        vd_hasher *h = vd_hasher_new(o->hash_algo, o->seed);
        if (!h)
                return vd_err_set(err, VD_E_NOMEM, "cannot create a hasher");
        int r = 0;
        for (size_t i = 0; i < out->entries.n && r == 0; i++) {
                vd_entry *e = out->entries.v[i];
                if (e->type != VD_T_REG || e->status != VD_ST_OK)
                        continue;
                e->hash_algo = (uint8_t)o->hash_algo;
                const vd_entry *ref = o->reference ? vd_entries_find(o->reference, e->path, e->path_len) : NULL;
                if (ref && ref->type == VD_T_REG && ref->status == VD_ST_OK && ref->hash_len &&
                    ref->hash_algo == o->hash_algo && ref->size == e->size && ref->mtime_ns == e->mtime_ns &&
                    ref->ctime_ns == e->ctime_ns && ref->ino == e->ino) {
                        memcpy(e->hash, ref->hash, ref->hash_len);
                        e->hash_len = ref->hash_len;
                        out->st.quick_reused++;
                        continue;
                }
                char *ap = vdg_join(s->prefix, e->path);
                if (!ap) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                if (vdg_hash_by_pread(s, h, e, ap, out) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                free(ap);
        }
        vd_hasher_free(h);
        return r;
}

/* The walker left the files it mapped for the host: hash them there; a
 * file the host cannot read is hashed through the appliance instead. */
int vdg_host_hashes(struct guest_src *s, vd_hosthash *hh, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        size_t *failed = NULL, nf = 0;
        int64_t t0 = vd_now_ns();
        int r = vd_hosthash_run(hh, o, out, &failed, &nf, err);
        vd_hasher *h = nf ? vd_hasher_new(o->hash_algo, o->seed) : NULL;
        if (r == 0 && nf && !h)
                r = vd_err_set(err, VD_E_NOMEM, "cannot create a hasher");
        for (size_t i = 0; r == 0 && i < nf; i++) {
                vd_entry *e = out->entries.v[failed[i]];
                free(e->extents);
                e->extents = NULL;
                e->hash_algo = (uint8_t)o->hash_algo;
                char *ap = vdg_join(s->prefix, e->path);
                if (!ap || vdg_hash_by_pread(s, h, e, ap, out) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                free(ap);
                out->st.hash_fallback[VD_FB_HOST]++;
        }
        vd_hasher_free(h);
        free(failed);
        out->st.hash_ns = vd_now_ns() - t0;
        return r;
}

/* A manifest with extents the host never asked for: nothing may be left
 * looking hashed when it was not. */
int vdg_no_extents_left(vd_scan *out, vd_err *err) {
        for (size_t i = 0; i < out->entries.n; i++) {
                vd_entry *e = out->entries.v[i];
                if (!e->extents)
                        continue;
                free(e->extents);
                e->extents = NULL;
                e->status = VD_ST_UNREADABLE;
                e->status_errno = EIO;
                if (vd_scan_warn(out, e->path, e->path_len, "the appliance mapped it for a host read nobody asked "
                                 "for: not hashed") < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}
