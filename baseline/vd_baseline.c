/* The baseline object: its metadata, history and content digest, opening
 * (load and verify its signature), a derived baseline's template resolved,
 * and what its capture trusted. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "vd_sign.h"
#include "vd_str.h"

#include "vd_baseline_int.h"

#ifndef VD_VERSION
#define VD_VERSION "0.0.0"
#endif

#define META_VALUE_MAX 4096

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
        free(b->tool_version);
        free(b->source_kind);
        free(b->source);
        free(b->hostname);
        free(b->policy_digest);
        free(b->policy_source);
        vd_entries_release(&b->entries);
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

int vdb_meta_to_kv(const vd_baseline *b, struct kv kv[N_META]) {
        char seed[2 * VD_HASH_SEED_LEN + 1];
        vd_hex_to(seed, b->seed, VD_HASH_SEED_LEN);
        char created[32], count[32], warns[32];
        snprintf(created, sizeof created, "%lld", (long long)b->created_ns);
        snprintf(count, sizeof count, "%zu", b->resolved ? b->deltas.n : b->entries.n);
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

int vdb_compute_digest(const vd_baseline *b, struct kv kv[N_META], char out[65]) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        vd_buf xb;
        vd_buf_init(&xb, ENTRY_BLOB_MAX);
        if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(c);
                return VD_E_NOMEM;
        }
        static const char magic[] = "vmdrift-baseline-content-v1";
        EVP_DigestUpdate(c, magic, sizeof magic);
        dg_u32(c, (uint32_t)b->schema);
        for (int i = 0; i < N_META; i++) {
                dg_bytes(c, kv[i].key, strlen(kv[i].key), true);
                dg_bytes(c, kv[i].val, strlen(kv[i].val), true);
        }
        const vd_entries *stored = b->resolved ? &b->deltas : &b->entries;
        dg_u64(c, stored->n);
        for (size_t i = 0; i < stored->n; i++)
                dg_entry(c, stored->v[i], &xb);
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
        if (b->schema >= 6) {
                /* the records a delta scan trusts in place of reading inodes */
                uint64_t nb = 0;
                for (size_t i = 0; i < stored->n; i++)
                        nb += stored->v[i]->blocks != NULL;
                dg_u64(c, nb);
                for (size_t i = 0; i < stored->n; i++)
                        if (stored->v[i]->blocks) {
                                dg_bytes(c, stored->v[i]->path, stored->v[i]->path_len, true);
                                dg_bytes(c, stored->v[i]->blocks, stored->v[i]->blocks_len, true);
                        }
        }
        unsigned char md[32];
        unsigned int len = 0;
        int ok = EVP_DigestFinal_ex(c, md, &len) == 1;
        EVP_MD_CTX_free(c);
        vd_buf_release(&xb);
        if (!ok)
                return VD_E_INTERNAL;
        vd_hex_to(out, md, 32);
        return 0;
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

int vd_baseline_open(const char *path, const char *verify_key, vd_baseline **ret, vd_err *err) {
        vd_baseline *b = NULL;
        int r = vd_baseline_load(path, &b, err);
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

static int bad(vd_err *err, const char *path, const char *fmt, ...) {
        char m[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        return vd_err_set(err, VD_E_BASELINE, "baseline '%s': %s", path, m);
}

static int pragma_int(sqlite3 *db, const char *sql, int *ret) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                *ret = sqlite3_column_int(st, 0);
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        return rc;
}

static char *col_str(sqlite3_stmt *st, int i, size_t max, bool *ok) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
                return NULL;
        const void *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        if (n < 0 || (size_t)n > max || (p == NULL && n > 0) || (n > 0 && memchr(p, '\0', (size_t)n))) {
                *ok = false;
                return NULL;
        }
        char *s = malloc((size_t)n + 1);
        if (!s) {
                *ok = false;
                return NULL;
        }
        if (n)
                memcpy(s, p, (size_t)n);
        s[n] = '\0';
        return s;
}

static int load_meta(sqlite3 *db, vd_baseline *b, const char *path, char *stored_digest, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read metadata: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        unsigned seen = 0;
        stored_digest[0] = '\0';
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0) {
                const char *k = (const char *)sqlite3_column_text(st, 0);
                const char *v = (const char *)sqlite3_column_text(st, 1);
                if (!k || !v || (size_t)sqlite3_column_bytes(st, 1) > META_VALUE_MAX) {
                        r = bad(err, path, "metadata value missing or too long");
                        break;
                }
                char **dst = NULL;
                if (strcmp(k, "tool_version") == 0)
                        dst = &b->tool_version;
                else if (strcmp(k, "source_kind") == 0)
                        dst = &b->source_kind;
                else if (strcmp(k, "source") == 0)
                        dst = &b->source;
                else if (strcmp(k, "hostname") == 0)
                        dst = &b->hostname;
                else if (strcmp(k, "policy_digest") == 0)
                        dst = &b->policy_digest;
                else if (strcmp(k, "policy_source") == 0)
                        dst = &b->policy_source;
                if (dst) {
                        free(*dst);
                        if (!(*dst = strdup(v)))
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        seen++;
                } else if (strcmp(k, "created_ns") == 0) {
                        b->created_ns = strtoll(v, NULL, 10);
                        seen++;
                } else if (strcmp(k, "hash_algo") == 0) {
                        b->hash_algo = vd_hash_algo_from_name(v);
                        if (b->hash_algo == VD_HASH_NONE)
                                r = bad(err, path, "unknown hash algorithm '%s'", v);
                        seen++;
                } else if (strcmp(k, "hash_key") == 0) {
                        if (!vd_unhex(v, b->seed, VD_HASH_SEED_LEN))
                                r = bad(err, path, "hash key is not %d hex digits", 2 * VD_HASH_SEED_LEN);
                        seen++;
                } else if (strcmp(k, "owners_resolved") == 0) {
                        b->owners_resolved = strcmp(v, "1") == 0;
                        seen++;
                } else if (strcmp(k, "capture_warnings") == 0) {
                        b->capture_warnings = strtoull(v, NULL, 10);
                        seen++;
                } else if (strcmp(k, "content_digest") == 0) {
                        snprintf(stored_digest, 65, "%s", v);
                } else if (strcmp(k, "signature") == 0) {
                        if (strlen(v) != 2 * VD_SIG_LEN || strspn(v, "0123456789abcdef") != 2 * VD_SIG_LEN)
                                r = bad(err, path, "malformed signature");
                        else
                                snprintf(b->signature, sizeof b->signature, "%s", v);
                } else if (strcmp(k, "signer") == 0) {
                        if (strlen(v) != VD_KEYID_LEN || strspn(v, "0123456789abcdef") != VD_KEYID_LEN)
                                r = bad(err, path, "malformed signer");
                        else
                                snprintf(b->signer, sizeof b->signer, "%s", v);
                } else if (strcmp(k, "entry_count") == 0) {
                        seen++;
                } else {
                        r = bad(err, path, "unknown metadata key '%s'", k);
                }
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = bad(err, path, "cannot read metadata: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        if (r == 0 && (seen != N_META || !stored_digest[0]))
                r = bad(err, path, "metadata is incomplete");
        return r;
}

static int load_entries(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db,
                               "SELECT path, type, status, status_errno, mode, uid, gid, uname, gname, size, mtime_ns,"
                               " ctime_ns, ino, nlink, rdev, target, xattrs, hash_algo, hash FROM entries ORDER BY path",
                               -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read entries: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                vd_entry *e = vd_entry_new();
                bool ok = e != NULL;
                if (ok) {
                        int pl = sqlite3_column_bytes(st, 0);
                        const void *pp = sqlite3_column_blob(st, 0);
                        if (!pp || pl <= 0 || (size_t)pl > VD_PATH_MAX || memchr(pp, '\0', (size_t)pl) ||
                            ((const char *)pp)[0] != '/' || vd_entry_set_path(e, pp, (size_t)pl) < 0)
                                ok = false;
                }
                if (ok) {
                        int t = sqlite3_column_int(st, 1), s = sqlite3_column_int(st, 2), ha = sqlite3_column_int(st, 17);
                        sqlite3_int64 mode = sqlite3_column_int64(st, 4), uid = sqlite3_column_int64(st, 5),
                                      gid = sqlite3_column_int64(st, 6);
                        if (t < VD_T_UNKNOWN || t > VD_T_SOCK || s < 0 || s > VD_ST_NOT_DESCENDED || mode < 0 ||
                            mode > 07777 || uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX || ha < 0 ||
                            ha > VD_HASH_SHA256)
                                ok = false;
                        e->type = (uint8_t)t;
                        e->status = (uint8_t)s;
                        e->status_errno = sqlite3_column_int(st, 3);
                        e->mode = (uint32_t)mode;
                        e->uid = (uint32_t)uid;
                        e->gid = (uint32_t)gid;
                        e->hash_algo = (uint8_t)ha;
                }
                if (ok) {
                        e->uname = col_str(st, 7, VD_OWNER_NAME_MAX, &ok);
                        e->gname = col_str(st, 8, VD_OWNER_NAME_MAX, &ok);
                        e->size = (uint64_t)sqlite3_column_int64(st, 9);
                        e->mtime_ns = sqlite3_column_int64(st, 10);
                        e->ctime_ns = sqlite3_column_int64(st, 11);
                        e->ino = (uint64_t)sqlite3_column_int64(st, 12);
                        e->nlink = (uint64_t)sqlite3_column_int64(st, 13);
                        e->rdev = (uint64_t)sqlite3_column_int64(st, 14);
                }
                if (ok && sqlite3_column_type(st, 15) != SQLITE_NULL) {
                        int tl = sqlite3_column_bytes(st, 15);
                        const void *tp = sqlite3_column_blob(st, 15);
                        if (tl < 0 || (size_t)tl > VD_TARGET_MAX || (tl > 0 && !tp) || !(e->target = malloc((size_t)tl + 1)))
                                ok = false;
                        else {
                                if (tl)
                                        memcpy(e->target, tp, (size_t)tl);
                                e->target[tl] = '\0';
                                e->target_len = (size_t)tl;
                        }
                }
                if (ok && sqlite3_column_type(st, 16) != SQLITE_NULL) {
                        int xl = sqlite3_column_bytes(st, 16);
                        vd_err xe = VD_ERR_INIT;
                        if (xl < 0 || (size_t)xl > ENTRY_BLOB_MAX ||
                            vd_xattrs_decode(e, sqlite3_column_blob(st, 16), (size_t)xl, &xe) < 0)
                                ok = false;
                }
                if (ok && sqlite3_column_type(st, 18) != SQLITE_NULL) {
                        int hl = sqlite3_column_bytes(st, 18);
                        if (hl <= 0 || hl != vd_hash_algo_len(e->hash_algo))
                                ok = false;
                        else {
                                memcpy(e->hash, sqlite3_column_blob(st, 18), (size_t)hl);
                                e->hash_len = (uint8_t)hl;
                        }
                }
                if (!ok || vd_entries_push(&b->entries, e) < 0) {
                        char where[64];
                        snprintf(where, sizeof where, "%zu", b->entries.n + 1);
                        vd_entry_free(e);
                        r = bad(err, path, "entry %s is malformed", where);
                }
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = bad(err, path, "cannot read entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

/* Each captured entry's record of its inode's blocks (schema 6). Every row
 * names an entry of this file, once; every record is well formed. */
static int load_blockmap(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT path, blocks FROM blockmap ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read the block records: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        size_t row = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                row++;
                int pl = sqlite3_column_bytes(st, 0), bl = sqlite3_column_bytes(st, 1);
                const void *pp = sqlite3_column_blob(st, 0), *bp = sqlite3_column_blob(st, 1);
                size_t i = pp && pl > 0 ? vd_entries_index(&b->entries, pp, (size_t)pl) : SIZE_MAX;
                vd_entry *e = i == SIZE_MAX ? NULL : b->entries.v[i];
                if (!e || e->blocks || bl < 0 || (size_t)bl > VD_ENTRY_BLOCKS_MAX || (bl > 0 && !bp) ||
                    !vd_delta_rec_valid(bp ? bp : (const void *)"", (size_t)bl)) {
                        char where[32];
                        snprintf(where, sizeof where, "%zu", row);
                        r = bad(err, path, "block record %s is malformed or names no entry", where);
                } else if (!(e->blocks = malloc(bl ? (size_t)bl : 1)))
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else {
                        if (bl)
                                memcpy(e->blocks, bp, (size_t)bl);
                        e->blocks_len = (size_t)bl;
                }
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = bad(err, path, "cannot read the block records: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

/* Text column of at most max bytes without NUL, or NULL. */
static const char *col_text(sqlite3_stmt *st, int i, size_t max) {
        const char *t = (const char *)sqlite3_column_text(st, i);
        int n = sqlite3_column_bytes(st, i);
        if (!t || n < 0 || (size_t)n > max || strlen(t) != (size_t)n)
                return NULL;
        return t;
}

static int load_inventory(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        vd_scan tmp;
        vd_scan_init(&tmp);
        sqlite3_stmt *st = NULL;
        int rc, r = 0;
        if (sqlite3_prepare_v2(db, "SELECT key, value FROM facts ORDER BY key", -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read facts: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *k = col_text(st, 0, 512), *v = col_text(st, 1, META_VALUE_MAX);
                if (!k || !v)
                        r = bad(err, path, "fact %zu is malformed", tmp.n_facts + 1);
                else if (vd_scan_add_fact(&tmp, k, v) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0 && sqlite3_prepare_v2(db,
                                         b->schema >= 5
                                                 ? "SELECT name, arch, version, release, epoch, source, source_version "
                                                   "FROM packages"
                                                 : "SELECT name, arch, version, release, epoch FROM packages",
                                         -1, &st, NULL) != SQLITE_OK)
                r = bad(err, path, "cannot read packages: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *n = col_text(st, 0, 1024), *a = col_text(st, 1, 64), *v = col_text(st, 2, 1024),
                           *rl = col_text(st, 3, 1024);
                if (!n || !a || !v || !rl)
                        r = bad(err, path, "package %zu is malformed", tmp.n_packages + 1);
                else if (vd_scan_add_package(&tmp, n, sqlite3_column_int(st, 4), v, rl, a) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else if (b->schema >= 5) {
                        const char *sn = col_text(st, 5, 1024), *sv = col_text(st, 6, 1024);
                        if (!sn || !sv)
                                r = bad(err, path, "package %zu is malformed", tmp.n_packages);
                        else if (vd_scan_set_package_source(&tmp, sn, sv) < 0)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
        }
        sqlite3_finalize(st);
        vd_scan_sort_inventory(&tmp);
        vd_baseline_take_inventory(b, &tmp);
        vd_scan_release(&tmp);
        return r;
}

/* A column as a bounded string without NUL bytes (config keys, paths). */
static char *col_blob_str(sqlite3_stmt *st, int i, size_t max, size_t *len) {
        const void *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        if (n < 0 || (size_t)n > max || (n > 0 && (!p || memchr(p, '\0', (size_t)n))))
                return NULL;
        char *s = malloc((size_t)n + 1);
        if (!s)
                return NULL;
        if (n)
                memcpy(s, p, (size_t)n);
        s[n] = '\0';
        if (len)
                *len = (size_t)n;
        return s;
}

static int load_config(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;
        size_t rows = 0;
        if (sqlite3_prepare_v2(db, "SELECT path, format, key, value, file, line, secret FROM config ORDER BY path, key",
                               -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read configuration values: %s", sqlite3_errmsg(db));
        vd_confset *cur = NULL;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                size_t vl = 0;
                char *p = col_blob_str(st, 0, 32768, NULL), *k = col_blob_str(st, 2, VD_CONF_KEY_MAX, NULL);
                char *v = col_blob_str(st, 3, VD_CONF_VALUE_MAX, &vl), *f = col_blob_str(st, 4, 32768, NULL);
                const char *fmt = col_text(st, 1, 32);
                int format = fmt ? vd_conf_format_from_name(fmt) : 0;
                sqlite3_int64 line = sqlite3_column_int64(st, 5);
                if (!p || !k || !v || !f || !format || line < 0 || line > UINT32_MAX || ++rows > 10000000)
                        r = bad(err, path, "configuration value %zu is malformed", rows);
                else {
                        if (!cur || strcmp(cur->path, p) != 0) {
                                cur = vd_confsets_add(&b->config, p, format);
                                if (!cur)
                                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                        if (r == 0 && k[0] &&
                            vd_settings_put(&cur->s, k, strlen(k), v, vl, f, (uint32_t)line, false, false) < 0)
                                r = bad(err, path, "configuration value %zu is malformed", rows);
                        if (r == 0 && k[0])
                                cur->s.v[cur->s.n - 1].secret = sqlite3_column_int(st, 6) != 0;
                }
                free(p);
                free(k);
                free(v);
                free(f);
        }
        sqlite3_finalize(st);
        for (size_t i = 0; i < b->config.n; i++)
                vd_settings_sort(&b->config.v[i].s);
        vd_confsets_sort(&b->config);
        return r;
}

static int load_lineage(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;
        if (sqlite3_prepare_v2(db, "SELECT key, value FROM lineage", -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read lineage: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *k = col_text(st, 0, 64), *v = col_text(st, 1, META_VALUE_MAX);
                if (!k || !v)
                        r = bad(err, path, "malformed lineage");
                else if (strcmp(k, "template") == 0 && v[0] == '/') {
                        free(b->template_path);
                        if (!(b->template_path = strdup(v)))
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                } else if (strcmp(k, "template_digest") == 0 && strlen(v) == 64)
                        memcpy(b->template_digest, v, 65);
                else
                        r = bad(err, path, "unknown or malformed lineage key '%s'", k);
        }
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0 && sqlite3_prepare_v2(db, "SELECT path FROM removed ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                r = bad(err, path, "cannot read removed paths: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const void *p = sqlite3_column_blob(st, 0);
                int n = sqlite3_column_bytes(st, 0);
                vd_entry *e = vd_entry_new();
                if (!p || n <= 0 || (size_t)n > VD_PATH_MAX || ((const char *)p)[0] != '/' || memchr(p, '\0', (size_t)n) ||
                    !e || vd_entry_set_path(e, p, (size_t)n) < 0 || vd_entries_push(&b->removed, e) < 0) {
                        vd_entry_free(e);
                        r = bad(err, path, "malformed removed path");
                }
        }
        sqlite3_finalize(st);
        if (r == 0 && b->removed.n && !b->template_path)
                r = bad(err, path, "removed paths without a template");
        return r;
}

static int load_history(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;
        if (sqlite3_prepare_v2(db,
                               "SELECT time_ns, user, host, reason, signer, prev_digest, paths, n_changes FROM history"
                               " ORDER BY seq",
                               -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read history: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                vd_history h = {.time_ns = sqlite3_column_int64(st, 0),
                                .user = (char *)col_text(st, 1, 256),
                                .host = (char *)col_text(st, 2, 256),
                                .reason = (char *)col_text(st, 3, 4096),
                                .signer = (char *)col_text(st, 4, 64),
                                .prev_digest = (char *)col_text(st, 5, 64),
                                .paths = (char *)col_text(st, 6, 1 << 24),
                                .n_changes = (uint64_t)sqlite3_column_int64(st, 7)};
                if (!h.user || !h.host || !h.reason || !h.signer || !h.prev_digest || !h.paths)
                        r = bad(err, path, "history record %zu is malformed", b->n_history + 1);
                else if (vd_baseline_add_history(b, &h) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        sqlite3_finalize(st);
        return r;
}

/* What a baseline may hold: these tables (and SQLite's own indexes for
 * their keys), nothing else. A view or a trigger in a file we only read
 * would run code of the file's author before the signature is checked (a
 * recursive view in place of "entries" ran forever). */
static const struct {
        const char *table;
        const char *columns; /* "name:class" ... ; class: integer, text, blob; '?' allows NULL */
} allowed[] = {
        {"meta", "key:text value:text"},
        {"entries", "path:blob type:integer status:integer status_errno:integer mode:integer uid:integer "
                    "gid:integer uname:blob? gname:blob? size:integer mtime_ns:integer ctime_ns:integer "
                    "ino:integer nlink:integer rdev:integer target:blob? xattrs:blob? hash_algo:integer hash:blob?"},
        {"facts", "key:text value:text"},
        {"packages", "name:text arch:text version:text release:text epoch:integer"}, /* schema 5: below */
        {"history", "seq:integer time_ns:integer user:text host:text reason:text signer:text prev_digest:text "
                    "paths:text n_changes:integer"},
        {"lineage", "key:text value:text"},
        {"removed", "path:blob"},
        {"config", "path:blob format:text key:blob value:blob file:blob line:integer secret:integer"},
        {"blockmap", "path:blob blocks:blob"}, /* schema 6 */
};

static const char packages_cols_5[] =
        "name:text arch:text version:text release:text epoch:integer source:text source_version:text";

static int check_schema(sqlite3 *db, int ver, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT type, name, tbl_name FROM sqlite_master", -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "damaged: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        unsigned present = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *type = (const char *)sqlite3_column_text(st, 0);
                const char *name = (const char *)sqlite3_column_text(st, 1);
                if (!type || !name) {
                        r = bad(err, path, "damaged schema");
                        break;
                }
                if (strcmp(type, "index") == 0 && strncmp(name, "sqlite_autoindex_", 17) == 0)
                        continue;
                size_t i = 0;
                while (i < sizeof allowed / sizeof *allowed && strcmp(allowed[i].table, name) != 0)
                        i++;
                if (strcmp(type, "table") != 0 || i == sizeof allowed / sizeof *allowed ||
                    (ver < 6 && strcmp(name, "blockmap") == 0))
                        r = bad(err, path, "holds a %s '%.64s' that no vmdrift baseline has: modified, refused before "
                                           "reading it",
                                type, name);
                else
                        present |= 1u << i;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = bad(err, path, "damaged: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        /* Every value of the kind the writer stores: an INTEGER column
         * edited to the text "3x" would otherwise read as 3 and verify. */
        for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof *allowed; i++) {
                if (!(present & (1u << i)))
                        continue;
                /* exactly the columns vmdrift writes, no more */
                char q[128];
                snprintf(q, sizeof q, "SELECT count(*) FROM pragma_table_info('%s')", allowed[i].table);
                int ncol = -1, want = 1;
                const char *columns =
                        ver >= 5 && strcmp(allowed[i].table, "packages") == 0 ? packages_cols_5 : allowed[i].columns;
                for (const char *c = columns; *c; c++)
                        want += *c == ' ';
                if (pragma_int(db, q, &ncol) != SQLITE_OK || ncol != want) {
                        r = bad(err, path, "table '%s' has %d columns, not the %d vmdrift writes: modified",
                                allowed[i].table, ncol, want);
                        break;
                }
                char cols[512], sql[2048];
                snprintf(cols, sizeof cols, "%s", columns);
                size_t ol = (size_t)snprintf(sql, sizeof sql, "SELECT 0");
                char *save = NULL;
                const char *names[24];
                size_t n = 0;
                for (char *tok = strtok_r(cols, " ", &save); tok && n < 24; tok = strtok_r(NULL, " ", &save)) {
                        char *colon = strchr(tok, ':');
                        *colon = '\0';
                        const char *cls = colon + 1;
                        size_t cl = strlen(cls);
                        bool null_ok = cls[cl - 1] == '?';
                        ol += (size_t)snprintf(sql + ol, sizeof sql - ol, ", sum(typeof(%s) NOT IN ('%.*s'%s))", tok,
                                               (int)(null_ok ? cl - 1 : cl), cls, null_ok ? ",'null'" : "");
                        names[n++] = tok;
                }
                snprintf(sql + ol, sizeof sql - ol, " FROM %s", allowed[i].table);
                if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
                        r = bad(err, path, "table '%s' is not as vmdrift writes it: %s", allowed[i].table,
                                sqlite3_errmsg(db));
                        break;
                }
                if (sqlite3_step(st) != SQLITE_ROW)
                        r = bad(err, path, "damaged: %s", sqlite3_errmsg(db));
                for (size_t k = 0; r == 0 && k < n; k++)
                        if (sqlite3_column_int64(st, (int)k + 1) != 0)
                                r = bad(err, path,
                                        "column %s.%s holds values of another kind than vmdrift writes: modified",
                                        allowed[i].table, names[k]);
                sqlite3_finalize(st);
        }
        return r;
}

/* A bound on the work SQLite may do for us, whatever the file says. */
static int progress_budget(void *ctx) {
        uint64_t *left = ctx;
        if (*left == 0)
                return 1;
        (*left)--;
        return 0;
}

int vd_baseline_load(const char *path, vd_baseline **ret, vd_err *err) {
        vd_baseline *b = NULL;
        sqlite3 *db = NULL;
        int r = 0;
        char stored[65];

        /* O_NONBLOCK: a FIFO given as the baseline must not hang us */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return vd_err_errno(err, VD_E_BASELINE, errno, "cannot open baseline '%s'", path);
        struct stat fst;
        if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
                close(fd);
                return bad(err, path, "not a regular file");
        }
        char head[16] = {0};
        ssize_t hn = read(fd, head, sizeof head);
        close(fd);
        if (hn != (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0)
                return bad(err, path, "not a vmdrift baseline (not an SQLite database)");

        b = calloc(1, sizeof *b);
        if (!b)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_entries_init(&b->entries);
        vd_entries_init(&b->removed);
        vd_entries_init(&b->deltas);
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
                r = bad(err, path, "cannot open: %s", db ? sqlite3_errmsg(db) : "out of memory");
                goto out;
        }
        int app = 0, ver = 0;
        if (pragma_int(db, "PRAGMA application_id", &app) != SQLITE_OK ||
            pragma_int(db, "PRAGMA user_version", &ver) != SQLITE_OK) {
                r = bad(err, path, "damaged: %s", sqlite3_errmsg(db));
                goto out;
        }
        if (app != VD_BASELINE_APP_ID) {
                r = bad(err, path, "an SQLite database, but not a vmdrift baseline");
                goto out;
        }
        if (ver > VD_BASELINE_SCHEMA) {
                char m[128];
                snprintf(m, sizeof m, "%d (this vmdrift reads up to %d); upgrade vmdrift", ver, VD_BASELINE_SCHEMA);
                r = bad(err, path, "written with a newer baseline schema %s", m);
                goto out;
        }
        if (ver < 1) {
                r = bad(err, path, "has no schema version: damaged or not a baseline");
                goto out;
        }
        /* every 1000 VM instructions; generous for any real file of this size */
        uint64_t budget = 100000 + (uint64_t)fst.st_size / 4;
        sqlite3_progress_handler(db, 1000, progress_budget, &budget);
        if ((r = check_schema(db, ver, path, err)) < 0)
                goto out;
        b->schema = ver;
        if ((r = load_meta(db, b, path, stored, err)) < 0)
                goto out;
        if ((r = load_entries(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 2 && (r = load_inventory(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 3 && (r = load_history(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 3 && (r = load_lineage(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 4 && (r = load_config(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 6 && (r = load_blockmap(db, b, path, err)) < 0)
                goto out;
        {
                struct kv kv[N_META];
                char got[65];
                if (vdb_meta_to_kv(b, kv) < 0) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        goto out;
                }
                int dr = vdb_compute_digest(b, kv, got);
                vdb_kv_free(kv);
                if (dr < 0) {
                        r = vd_err_set(err, VD_E_INTERNAL, "cannot compute the baseline digest");
                        goto out;
                }
                if (strcmp(got, stored) != 0) {
                        r = bad(err, path,
                                "damaged or modified: its content does not match its digest");
                        goto out;
                }
                memcpy(b->content_digest, got, sizeof got);
        }
out:
        if (db)
                sqlite3_close(db);
        if (r < 0) {
                vd_baseline_free(b);
                return r;
        }
        *ret = b;
        return 0;
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
