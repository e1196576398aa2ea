/* The baseline file: one SQLite database, schema-versioned.
 *
 * Identified by PRAGMA application_id ('VDB1') and PRAGMA user_version (the
 * schema). Written to a temporary file beside the target, fsync'ed and renamed
 * into place: a failed or interrupted write never replaces a good baseline.
 * The loader treats the file as untrusted: every length is bounded and a
 * SHA-256 digest over the canonical content must match the stored one.
 */
#ifndef VD_BASELINE_H
#define VD_BASELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "baseline/vd_content.h"
#include "collect/vd_hash.h"
#include "collect/vd_source.h"
#include "common/vd_err.h"
#include "formats/vd_config.h"
#include "model/vd_entry.h"

#define VD_BASELINE_APP_ID 0x56444231 /* "VDB1" */
#define VD_BASELINE_SCHEMA 7 /* 2: OS facts and packages; 3: accept history; 4: config values;
                              * 5: packages' source packages; 6: the records of captured
                              * inodes' blocks (vd_entry.blocks, table blockmap); 7: files'
                              * text for diffs (table content, vd_content.h) */

typedef struct vd_baseline {
        int schema;
        char *tool_version;
        int64_t created_ns;
        char *source_kind; /* "dir", "image", ... */
        char *source;      /* what was captured, as given */
        char *hostname;    /* the capturing host */
        int hash_algo;
        unsigned char seed[VD_HASH_SEED_LEN]; /* XXH3 key: never leaves the host */
        char *policy_digest;                  /* hex SHA-256 of the policy's canonical form */
        char *policy_source;
        bool owners_resolved;
        uint64_t capture_warnings;
        char content_digest[65]; /* filled by write and checked by load */
        char signature[129];     /* hex Ed25519 signature over the digest, or "" */
        char signer[17];         /* key id of the signer, or "" */
        const char *sign_key;    /* write: sign with this private key (not stored) */
        vd_entries entries;      /* sorted by path */
        vd_fact *facts;          /* sorted by key: OS type, distro, version, hostname, mounts */
        size_t n_facts;
        vd_package *packages;    /* sorted by name, arch */
        size_t n_packages;
        vd_confsets config;      /* parsed configuration values, sorted by path (schema 4) */
        vd_contents contents;    /* files' masked text by content hash, sorted (schema 7) */
        struct vd_history *history; /* oldest first */
        size_t n_history, history_alloc;
        /* Lineage: a derived baseline stores only its deltas over a template
         * baseline. After vd_baseline_resolve, entries is the effective list
         * (template + deltas) and deltas holds the stored ones. */
        char *template_path;      /* absolute path of the template baseline, or NULL */
        char template_digest[65]; /* the template's content digest when derived */
        vd_entries removed;       /* template paths the guest no longer has (path only) */
        vd_entries deltas;
        bool resolved;
        char resolved_digest[65]; /* the content digest of the template it was resolved over */
        /* vd_baseline_open_lazy: entries is empty, the rows are read from the
         * file in path order (vd_baseline_iter) and their digest is checked
         * at their end; NULL: loaded (and checked) at open. */
        struct vdb_lazy *lazy;
} vd_baseline;

/* One accepted change set: who, when, why and what. */
typedef struct vd_history {
        int64_t time_ns;
        char *user, *host, *reason;
        char *signer;       /* key id that signed the result, or "" */
        char *prev_digest;  /* content digest of the baseline it was accepted onto */
        char *paths;        /* the accepted paths, one per line (escaped for display) */
        uint64_t n_changes;
} vd_history;

/* Append a history record (copies every string). */
int vd_baseline_add_history(vd_baseline *b, const vd_history *h);

/* Move the facts and packages of a scan into b (the scan loses them). */
void vd_baseline_take_inventory(vd_baseline *b, vd_scan *s);

/* A zeroed baseline with a fresh random seed. */
int vd_baseline_new(vd_baseline **ret, vd_err *err);
void vd_baseline_free(vd_baseline *b);

/* Write b to path atomically (mode 0600: the file holds the hash key).
 * Fills b->content_digest. */
int vd_baseline_write(vd_baseline *b, const char *path, vd_err *err);

/* The same in steps, for a capture that streams: begin (a temporary file
 * beside path, b's schema), put each entry in path order as the walk hands
 * it on (their block records too), end with the rest of b (which holds no
 * entries of its own): the digest is computed from the rows written, the
 * file signed and renamed over path. Until end, path is untouched; free
 * without end leaves no temporary file. The view finds what was put (the
 * configuration files of the capture), check says whether it could. */
typedef struct vd_baseline_writer vd_baseline_writer;
int vd_baseline_writer_begin(const vd_baseline *b, const char *path, vd_baseline_writer **ret, vd_err *err);
int vd_baseline_writer_put(vd_baseline_writer *w, const vd_entry *e, vd_err *err);
uint64_t vd_baseline_writer_count(const vd_baseline_writer *w);
vd_entry_view vd_baseline_writer_view(vd_baseline_writer *w);
int vd_baseline_writer_check(const vd_baseline_writer *w, vd_err *err);
int vd_baseline_writer_end(vd_baseline_writer *w, vd_baseline *b, vd_err *err);
void vd_baseline_writer_free(vd_baseline_writer *w);

/* Load and check a baseline. Errors are VD_E_BASELINE with a message that
 * says what is wrong: not SQLite, not a baseline, newer schema, damaged. */
int vd_baseline_load(const char *path, vd_baseline **ret, vd_err *err);

/* Check b's signature with the public key in pub (path names the baseline
 * for messages). A baseline without a signature is refused: with a key to
 * check against, a stripped signature is tampering. VD_E_BASELINE (exit 3)
 * if it does not verify; VD_E_INPUT if the key is unusable. */
int vd_baseline_verify(const vd_baseline *b, const char *path, const char *pub, vd_err *err);

/* Load, verify (when verify_key is not NULL) and, for a derived baseline,
 * overlay its deltas on its template (verified with the same key). */
int vd_baseline_open(const char *path, const char *verify_key, vd_baseline **ret, vd_err *err);
int vd_baseline_resolve(vd_baseline *b, const char *path, const char *verify_key, vd_err *err);

/* vd_baseline_open for a streaming scan: everything but the entries (and
 * their block records) loaded and checked, the signature verified; the
 * entries stay in the file, read in path order by vd_baseline_iter, whose
 * end checks that they are what the digest (and so the signature) says:
 * until then the content digest is the one the file claims. A derived
 * baseline is loaded whole (its entries are its template's and its own). */
int vd_baseline_open_lazy(const char *path, const char *verify_key, vd_baseline **ret, vd_err *err);

/* b's entries in path order, loaded or from the file. next: the next entry
 * (the iterator's, valid until the next call) or NULL at the end, where a
 * lazy baseline's rows are checked against its digest: VD_E_BASELINE
 * "damaged or modified" if they differ. */
typedef struct vd_baseline_iter vd_baseline_iter;
int vd_baseline_iter_new(const vd_baseline *b, vd_baseline_iter **ret, vd_err *err);
int vd_baseline_iter_next(vd_baseline_iter *it, const vd_entry **ret, vd_err *err);
void vd_baseline_iter_free(vd_baseline_iter *it);

/* The entry at path: 0 and *ret (a copy, the caller's), 1 absent. */
int vd_baseline_lookup(const vd_baseline *b, const char *path, size_t len, vd_entry **ret, vd_err *err);
/* fn for each entry whose path starts with prefix (len bytes), in path order
 * (e valid for the call); a nonzero return stops and is returned. */
int vd_baseline_each_prefix(const vd_baseline *b, const char *prefix, size_t len,
                            int (*fn)(void *ctx, const vd_entry *e), void *ctx, vd_err *err);

/* The digest of what a scan compares with: b's content digest, and for a
 * derived baseline also the content digest of the template it was resolved
 * over (a template rebuilt in place changes what every derived guest is
 * compared with, not the derived file). Keys of kept reports use this. */
void vd_baseline_effective_digest(const vd_baseline *b, char out[65]);

/* Write b as sorted ND-JSON (see vd_export.c); the hash key is never exported. */
int vd_baseline_export(const vd_baseline *b, FILE *out, vd_err *err);

/* The images b was captured from (a source of kind "image": its
 * comma-separated list), split in buf, appended to allow (at most max); and
 * for each of images[] that is the same file as b's k-th image, the format b
 * recorded for it (fact image.k.format) in expect[k] (others untouched).
 * Returns how many paths went to allow. A template's images may back a
 * linked clone; a template scanned against itself must keep its format. */
size_t vd_baseline_template_images(const vd_baseline *b, char *buf, size_t bufsz, const char **allow, size_t max,
                                   const char *const *images, size_t n_images, const char **expect);

/* "verified (signer K)", "unverified (signed by K; no --verify-key)" or
 * "unverified (unsigned)", in buf. */
const char *vd_baseline_trust(const vd_baseline *b, bool verified, char buf[96]);

/* Hex SHA-256 of policy text (for policy_digest). */
int vd_digest_hex(const void *p, size_t n, char out[65]);

#endif
