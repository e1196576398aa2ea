/* The baseline object: its metadata, history and content digest, opening
 * (load and verify its signature), a derived baseline's template resolved,
 * and what its capture trusted. */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <string.h>

#include "baseline/vd_sign.h"
#include "common/vd_str.h"

#include "vd_baseline_int.h"

#ifndef VD_VERSION
#define VD_VERSION "0.0.0"
#endif

int vd_baseline_new(vd_baseline **ret, vd_err *err) {
        vd_baseline *b = calloc(1, sizeof *b);
        if (!b)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_entries_init(&b->entries);
        vd_entries_init(&b->removed);
        vd_entries_init(&b->deltas);
        b->schema = VD_BASELINE_SCHEMA;
        b->hash_algo = VD_HASH_XXH3;
        int r = vd_random_bytes(b->seed, sizeof b->seed, err);
        if (r < 0) {
                free(b);
                return r;
        }
        *ret = b;
        return 0;
}

void vd_baseline_take_inventory(vd_baseline *b, vd_scan *s) {
        b->facts = s->facts;
        b->n_facts = s->n_facts;
        b->packages = s->packages;
        b->n_packages = s->n_packages;
        s->facts = NULL;
        s->n_facts = s->facts_alloc = 0;
        s->packages = NULL;
        s->n_packages = s->packages_alloc = 0;
}

static void history_release(vd_history *h) {
        free(h->user);
        free(h->host);
        free(h->reason);
        free(h->signer);
        free(h->prev_digest);
        free(h->paths);
}

int vd_baseline_add_history(vd_baseline *b, const vd_history *h) {
        if (vd_array_grow(&b->history, &b->history_alloc, b->n_history, sizeof *b->history, 8) < 0)
                return VD_E_NOMEM;
        vd_history *d = &b->history[b->n_history];
        d->time_ns = h->time_ns;
        d->n_changes = h->n_changes;
        d->user = strdup(h->user ? h->user : "");
        d->host = strdup(h->host ? h->host : "");
        d->reason = strdup(h->reason ? h->reason : "");
        d->signer = strdup(h->signer ? h->signer : "");
        d->prev_digest = strdup(h->prev_digest ? h->prev_digest : "");
        d->paths = strdup(h->paths ? h->paths : "");
        if (!d->user || !d->host || !d->reason || !d->signer || !d->prev_digest || !d->paths) {
                history_release(d);
                return VD_E_NOMEM;
        }
        b->n_history++;
        return 0;
}

void vd_baseline_free(vd_baseline *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n_history; i++)
                history_release(&b->history[i]);
        free(b->history);
        free(b->template_path);
        vd_entries_release(&b->removed);
        vd_entries_release(&b->deltas);
        vd_facts_free(b->facts, b->n_facts);
        vd_packages_free(b->packages, b->n_packages);
        vd_confsets_release(&b->config);
        vd_contents_release(&b->contents);
        free(b->tool_version);
        free(b->source_kind);
        free(b->source);
        free(b->hostname);
        free(b->policy_digest);
        free(b->policy_source);
        vd_entries_release(&b->entries);
        vdb_lazy_close(b->lazy);
        free(b);
}

int vd_digest_hex(const void *p, size_t n, char out[65]) {
        unsigned char md[32];
        unsigned int len = 0;
        if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
                return VD_E_INTERNAL;
        vd_hex_to(out, md, 32);
        return 0;
}

int vdb_meta_to_kv(const vd_baseline *b, uint64_t n_entries, struct kv kv[N_META]) {
        char seed[2 * VD_HASH_SEED_LEN + 1];
        vd_hex_to(seed, b->seed, VD_HASH_SEED_LEN);
        char created[32], count[32], warns[32];
        snprintf(created, sizeof created, "%lld", (long long)b->created_ns);
        snprintf(count, sizeof count, "%llu", (unsigned long long)n_entries);
        snprintf(warns, sizeof warns, "%llu", (unsigned long long)b->capture_warnings);
        /* Sorted by key: the digest walks them in this order. */
        const char *vals[N_META] = {created,
                                    warns,
                                    count,
                                    vd_hash_algo_name(b->hash_algo),
                                    seed,
                                    b->hostname ? b->hostname : "",
                                    b->owners_resolved ? "1" : "0",
                                    b->policy_digest ? b->policy_digest : "",
                                    b->policy_source ? b->policy_source : "",
                                    b->source ? b->source : "",
                                    b->source_kind ? b->source_kind : "",
                                    b->tool_version ? b->tool_version : VD_VERSION};
        static const char *const keys[N_META] = {"created_ns",    "capture_warnings", "entry_count",
                                                 "hash_algo",     "hash_key",         "hostname",
                                                 "owners_resolved", "policy_digest",  "policy_source",
                                                 "source",        "source_kind",      "tool_version"};
        for (int i = 0; i < N_META; i++) {
                kv[i].key = keys[i];
                kv[i].val = strdup(vals[i]);
                if (!kv[i].val) {
                        for (int k = 0; k < i; k++)
                                free(kv[k].val);
                        return VD_E_NOMEM;
                }
        }
        return 0;
}

void vdb_kv_free(struct kv kv[N_META]) {
        for (int i = 0; i < N_META; i++)
                free(kv[i].val);
}

/* ---- canonical digest ---- */

static void dg_u32(EVP_MD_CTX *c, uint32_t v) {
        unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                              (unsigned char)(v >> 24)};
        EVP_DigestUpdate(c, x, 4);
}

static void dg_u64(EVP_MD_CTX *c, uint64_t v) {
        dg_u32(c, (uint32_t)v);
        dg_u32(c, (uint32_t)(v >> 32));
}

static void dg_bytes(EVP_MD_CTX *c, const void *p, size_t n, bool present) {
        if (!present) {
                dg_u32(c, 0xffffffffu);
                return;
        }
        dg_u32(c, (uint32_t)n);
        if (n)
                EVP_DigestUpdate(c, p, n);
}

static void dg_entry(EVP_MD_CTX *c, const vd_entry *e, vd_buf *xb) {
        dg_bytes(c, e->path, e->path_len, true);
        unsigned char f[4] = {e->type, e->status, e->hash_algo, e->hash_len};
        EVP_DigestUpdate(c, f, 4);
        dg_u32(c, (uint32_t)e->status_errno);
        dg_u32(c, e->mode);
        dg_u32(c, e->uid);
        dg_u32(c, e->gid);
        dg_bytes(c, e->uname, e->uname ? strlen(e->uname) : 0, e->uname != NULL);
        dg_bytes(c, e->gname, e->gname ? strlen(e->gname) : 0, e->gname != NULL);
        dg_u64(c, e->size);
        dg_u64(c, (uint64_t)e->mtime_ns);
        dg_u64(c, (uint64_t)e->ctime_ns);
        dg_u64(c, e->ino);
        dg_u64(c, e->nlink);
        dg_u64(c, e->rdev);
        dg_bytes(c, e->target, e->target_len, e->target != NULL);
        vd_buf_reset(xb);
        if (e->n_xattrs)
                vd_xattrs_encode(e, xb);
        dg_bytes(c, xb->buf, xb->len, true);
        dg_bytes(c, e->hash, e->hash_len, true);
}

EVP_MD_CTX *vdb_digest_begin(const vd_baseline *b, struct kv kv[N_META], uint64_t n_entries) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(c);
                return NULL;
        }
        static const char magic[] = "vmdrift-baseline-content-v1";
        EVP_DigestUpdate(c, magic, sizeof magic);
        dg_u32(c, (uint32_t)b->schema);
        for (int i = 0; i < N_META; i++) {
                dg_bytes(c, kv[i].key, strlen(kv[i].key), true);
                dg_bytes(c, kv[i].val, strlen(kv[i].val), true);
        }
        dg_u64(c, n_entries);
        return c;
}

void vdb_digest_entry(EVP_MD_CTX *c, const vd_entry *e, vd_buf *xb) { dg_entry(c, e, xb); }

void vdb_digest_after_entries(EVP_MD_CTX *c, const vd_baseline *b) {
        if (b->schema >= 2) {
                dg_u64(c, b->n_facts);
                for (size_t i = 0; i < b->n_facts; i++) {
                        dg_bytes(c, b->facts[i].key, strlen(b->facts[i].key), true);
                        dg_bytes(c, b->facts[i].value, strlen(b->facts[i].value), true);
                }
                dg_u64(c, b->n_packages);
                for (size_t i = 0; i < b->n_packages; i++) {
                        const vd_package *p = &b->packages[i];
                        dg_bytes(c, p->name, strlen(p->name), true);
                        dg_u32(c, (uint32_t)p->epoch);
                        dg_bytes(c, p->version, strlen(p->version), true);
                        dg_bytes(c, p->release, strlen(p->release), true);
                        dg_bytes(c, p->arch, strlen(p->arch), true);
                        if (b->schema >= 5) {
                                const char *sn = p->source ? p->source : "", *sv = p->source_version ? p->source_version : "";
                                dg_bytes(c, sn, strlen(sn), true);
                                dg_bytes(c, sv, strlen(sv), true);
                        }
                }
        }
        if (b->schema >= 3) {
                const char *tp = b->template_path ? b->template_path : "";
                dg_bytes(c, tp, strlen(tp), true);
                dg_bytes(c, b->template_digest, strlen(b->template_digest), true);
                dg_u64(c, b->removed.n);
                for (size_t i = 0; i < b->removed.n; i++)
                        dg_bytes(c, b->removed.v[i]->path, b->removed.v[i]->path_len, true);
                dg_u64(c, b->n_history);
                for (size_t i = 0; i < b->n_history; i++) {
                        const vd_history *h = &b->history[i];
                        dg_u64(c, (uint64_t)h->time_ns);
                        dg_u64(c, h->n_changes);
                        const char *f[] = {h->user, h->host, h->reason, h->signer, h->prev_digest, h->paths};
                        for (size_t k = 0; k < 6; k++)
                                dg_bytes(c, f[k], strlen(f[k]), true);
                }
        }
        if (b->schema >= 4) {
                dg_u64(c, b->config.n);
                for (size_t i = 0; i < b->config.n; i++) {
                        const vd_confset *cs = &b->config.v[i];
                        const char *fmt = vd_conf_format_name(cs->format);
                        dg_bytes(c, cs->path, strlen(cs->path), true);
                        dg_bytes(c, fmt, strlen(fmt), true);
                        dg_u64(c, cs->s.n);
                        for (size_t k = 0; k < cs->s.n; k++) {
                                const vd_setting *st = &cs->s.v[k];
                                dg_bytes(c, st->key, strlen(st->key), true);
                                dg_bytes(c, st->value, st->value_len, true);
                                dg_bytes(c, st->file, strlen(st->file), true);
                                dg_u32(c, st->line);
                                dg_u32(c, st->secret);
                        }
                }
        }
        if (b->schema >= 7) {
                /* the texts a diff shows as the baseline's (vd_content.h) */
                dg_u64(c, b->contents.n);
                for (size_t i = 0; i < b->contents.n; i++) {
                        const vd_content *ct = &b->contents.v[i];
                        dg_bytes(c, ct->hash, ct->hash_len, true);
                        dg_u32(c, ct->size);
                        dg_bytes(c, ct->data, ct->data_len, true);
                }
        }
}

void vdb_digest_count(EVP_MD_CTX *c, uint64_t n) { dg_u64(c, n); }

void vdb_digest_block(EVP_MD_CTX *c, const char *path, size_t path_len, const void *blocks, size_t len) {
        dg_bytes(c, path, path_len, true);
        dg_bytes(c, blocks, len, true);
}

int vdb_digest_end(EVP_MD_CTX *c, char out[65]) {
        unsigned char md[32];
        unsigned int len = 0;
        int ok = EVP_DigestFinal_ex(c, md, &len) == 1;
        EVP_MD_CTX_free(c);
        if (!ok)
                return VD_E_INTERNAL;
        vd_hex_to(out, md, 32);
        return 0;
}

int vdb_compute_digest(const vd_baseline *b, struct kv kv[N_META], char out[65]) {
        const vd_entries *stored = b->resolved ? &b->deltas : &b->entries;
        EVP_MD_CTX *c = vdb_digest_begin(b, kv, stored->n);
        if (!c)
                return VD_E_NOMEM;
        vd_buf xb;
        vd_buf_init(&xb, ENTRY_BLOB_MAX);
        for (size_t i = 0; i < stored->n; i++)
                dg_entry(c, stored->v[i], &xb);
        vd_buf_release(&xb);
        vdb_digest_after_entries(c, b);
        if (b->schema >= 6) {
                /* the records a delta scan trusts in place of reading inodes */
                uint64_t nb = 0;
                for (size_t i = 0; i < stored->n; i++)
                        nb += stored->v[i]->blocks != NULL;
                dg_u64(c, nb);
                for (size_t i = 0; i < stored->n; i++)
                        if (stored->v[i]->blocks)
                                vdb_digest_block(c, stored->v[i]->path, stored->v[i]->path_len, stored->v[i]->blocks,
                                                 stored->v[i]->blocks_len);
        }
        return vdb_digest_end(c, out);
}

int vd_baseline_verify(const vd_baseline *b, const char *path, const char *pub, vd_err *err) {
        if (!b->signature[0])
                return vd_err_set(err, VD_E_BASELINE,
                                  "baseline '%s' is not signed, but a verify key was given: refusing it (a stripped "
                                  "signature is tampering)",
                                  path);
        char keyid[VD_KEYID_LEN + 1] = "";
        int r = vd_verify_digest(pub, b->content_digest, b->signature, keyid, err);
        if (r == VD_E_BASELINE)
                return vd_err_set(err, VD_E_BASELINE,
                                  "baseline '%s' was modified or signed by another key: its signature (signer %s) does "
                                  "not verify with '%s' (key %s)",
                                  path, b->signer[0] ? b->signer : "?", pub, keyid);
        return r;
}

int vd_baseline_resolve(vd_baseline *b, const char *path, const char *verify_key, vd_err *err) {
        if (!b->template_path || b->resolved)
                return 0;
        vd_baseline *t = NULL;
        int r = vd_baseline_load(b->template_path, &t, err);
        if (r == 0 && verify_key)
                r = vd_baseline_verify(t, b->template_path, verify_key, err);
        if (r < 0) {
                vd_err_prefix(err, "template of '%s'", path);
                vd_baseline_free(t);
                return r;
        }
        if (t->template_path) {
                vd_baseline_free(t);
                return vd_err_set(err, VD_E_BASELINE, "template '%s' of '%s' is itself derived: not supported",
                                  b->template_path, path);
        }
        /* The template it was derived from, or one rebuilt since (newer than
         * the derived baseline): an older template copied into its place
         * would silently change what the guest is compared with. */
        if (strcmp(t->content_digest, b->template_digest) != 0 && t->created_ns <= b->created_ns) {
                r = vd_err_set(err, VD_E_BASELINE,
                               "template '%s' of '%s' is not the one it was derived from (digest %.12s, not "
                               "%.12s) and not rebuilt since: an older template put in its place? refused",
                               b->template_path, path, t->content_digest, b->template_digest);
                vd_baseline_free(t);
                return r;
        }
        if (t->hash_algo != b->hash_algo || memcmp(t->seed, b->seed, sizeof b->seed) != 0) {
                vd_baseline_free(t);
                return vd_err_set(err, VD_E_BASELINE,
                                  "template '%s' of '%s' was rebuilt with another hash key: capture it with --key-from "
                                  "its previous baseline so that derived baselines stay comparable",
                                  b->template_path, path);
        }
        memcpy(b->resolved_digest, t->content_digest, sizeof b->resolved_digest);
        /* effective = template - removed, with deltas replacing or adding. */
        vd_entries eff;
        vd_entries_init(&eff);
        const vd_entries *d = &b->entries;
        size_t i = 0, j = 0;
        while (r == 0 && (i < t->entries.n || j < d->n)) {
                vd_entry *te = i < t->entries.n ? t->entries.v[i] : NULL;
                const vd_entry *de = j < d->n ? d->v[j] : NULL;
                int c = !te ? 1 : !de ? -1 : vd_path_cmp(te->path, te->path_len, de->path, de->path_len);
                vd_entry *take = NULL;
                if (c < 0) {
                        i++;
                        if (vd_entries_find(&b->removed, te->path, te->path_len))
                                continue;
                        take = te;
                        t->entries.v[i - 1] = NULL; /* moved */
                } else {
                        if (c == 0)
                                i++;
                        j++;
                        take = vd_entry_dup(de);
                }
                if (!take || vd_entries_push(&eff, take) < 0) {
                        vd_entry_free(take);
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
        }
        /* the template's texts, for the entries that are its (found by hash) */
        vd_contents_sort(&b->contents);
        size_t own = b->contents.n;
        for (size_t x = 0; r == 0 && x < t->contents.n; x++)
                if (!vd_contents_find(&b->contents, t->contents.v[x].hash, t->contents.v[x].hash_len) &&
                    vd_contents_copy(&b->contents, &t->contents.v[x]) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (b->contents.n != own)
                vd_contents_sort(&b->contents);
        size_t k = 0; /* drop the moved-out slots before freeing the template */
        for (size_t x = 0; x < t->entries.n; x++)
                if (t->entries.v[x])
                        t->entries.v[k++] = t->entries.v[x];
        t->entries.n = k;
        vd_baseline_free(t);
        if (r < 0) {
                vd_entries_release(&eff);
                return r;
        }
        b->deltas = b->entries;
        b->entries = eff;
        b->resolved = true;
        return 0;
}

void vd_baseline_effective_digest(const vd_baseline *b, char out[65]) {
        if (!b->template_path) {
                memcpy(out, b->content_digest, 65);
                return;
        }
        char both[3 * 65];
        int n = snprintf(both, sizeof both, "derived %s %s", b->content_digest,
                         b->resolved ? b->resolved_digest : "unresolved");
        if (vd_digest_hex(both, (size_t)n, out) < 0)
                snprintf(out, 65, "%s", "unresolved"); /* matches no kept report */
}

static int open_as(const char *path, const char *verify_key, bool lazy, vd_baseline **ret, vd_err *err) {
        vd_baseline *b = NULL;
        int r = vdb_load(path, lazy, &b, err);
        if (r == 0 && verify_key)
                r = vd_baseline_verify(b, path, verify_key, err);
        if (r == 0)
                r = vd_baseline_resolve(b, path, verify_key, err);
        if (r < 0) {
                vd_baseline_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

int vd_baseline_open(const char *path, const char *verify_key, vd_baseline **ret, vd_err *err) {
        return open_as(path, verify_key, false, ret, err);
}

int vd_baseline_open_lazy(const char *path, const char *verify_key, vd_baseline **ret, vd_err *err) {
        return open_as(path, verify_key, true, ret, err);
}

const char *vd_baseline_trust(const vd_baseline *b, bool verified, char buf[96]) {
        if (verified)
                snprintf(buf, 96, "verified (signer %s)", b->signer);
        else if (b->signature[0])
                snprintf(buf, 96, "unverified (signed by %s; no --verify-key)", b->signer);
        else
                snprintf(buf, 96, "unverified (unsigned)");
        return buf;
}

size_t vd_baseline_template_images(const vd_baseline *b, char *buf, size_t bufsz, const char **allow, size_t max,
                                   const char *const *images, size_t n_images, const char **expect) {
        if (!b->source_kind || strcmp(b->source_kind, "image") != 0 || !b->source || bufsz == 0)
                return 0;
        snprintf(buf, bufsz, "%s", b->source);
        char *save = NULL;
        size_t n = 0, k = 0;
        for (char *t = strtok_r(buf, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save), k++) {
                allow[n++] = t;
                char key[64];
                snprintf(key, sizeof key, "image.%zu.format", k);
                const char *fmt = NULL;
                for (size_t f = 0; f < b->n_facts && !fmt; f++)
                        if (strcmp(b->facts[f].key, key) == 0)
                                fmt = b->facts[f].value;
                if (!fmt || k >= n_images)
                        continue;
                char *x = realpath(t, NULL), *y = realpath(images[k], NULL);
                if (x && y && strcmp(x, y) == 0)
                        expect[k] = fmt;
                free(x);
                free(y);
        }
        return n;
}
