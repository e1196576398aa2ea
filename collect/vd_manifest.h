/* The manifest: a vd_scan serialised by the in-appliance walker and read
 * back by the host. Everything read back is untrusted (a guest that took over
 * the appliance writes it): the decoder bounds every length and count and
 * rejects anything malformed instead of guessing.
 *
 * Ownership: the encoders append to the caller's out; the decoders append
 * entries and warnings that out owns (vd_scan_release), and take nothing
 * from ref (copied). */
#ifndef VD_MANIFEST_H
#define VD_MANIFEST_H

#include "collect/vd_source.h"
#include "common/vd_buf.h"
#include "common/vd_err.h"

#define VD_MANIFEST_MAGIC "VDMANIF4"
#define VD_MANIFEST_ENTRIES_MAX ((uint64_t)50000000)
#define VD_MANIFEST_WARNINGS_MAX ((uint64_t)1000000)

int vd_manifest_encode(const vd_scan *s, vd_buf *out);
/* A delta walk's manifest (the walker's --slim): an entry of s that is
 * exactly an entry of ref (sorted; the reference the host sent), taken from
 * it unread (delta_proved 2), goes as its index in ref, in runs; the rest
 * in full. What travels follows what changed, not the guest's size. */
int vd_manifest_encode_ref(const vd_scan *s, const vd_entries *ref, vd_buf *out);
/* Append the decoded entries and warnings to out (entries sorted, unique). */
int vd_manifest_decode(const void *p, size_t n, vd_scan *out, vd_err *err);
/* The same, runs of reference indices expanded into copies of ref's entries
 * (delta_proved 2, no block record); ref must be exactly the reference sent,
 * in its order. Without ref, a manifest holding runs is refused. */
int vd_manifest_decode_ref(const void *p, size_t n, const vd_entries *ref, vd_scan *out, vd_err *err);

#endif
