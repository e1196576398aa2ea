/* Loading a baseline as untrusted input: only the tables and columns a
 * baseline may hold (check_schema), every row bounded and checked, the
 * content digest recomputed and compared before anything is believed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline/vd_sign.h"
#include "common/vd_str.h"

#include "vd_baseline_int.h"

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

#define ENTRY_COLUMNS                                                                                                  \
        "path, type, status, status_errno, mode, uid, gid, uname, gname, size, mtime_ns, ctime_ns, ino, nlink, rdev," \
        " target, xattrs, hash_algo, hash"

/* One row of ENTRY_COLUMNS as an entry, every field bounded and checked;
 * NULL: malformed (or out of memory). */
static vd_entry *row_entry(sqlite3_stmt *st) {
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
        if (!ok) {
                vd_entry_free(e);
                return NULL;
        }
        return e;
}

static int load_entries(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                return bad(err, path, "cannot read entries: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                vd_entry *e = row_entry(st);
                if (!e || vd_entries_push(&b->entries, e) < 0) {
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

int vd_baseline_load(const char *path, vd_baseline **ret, vd_err *err) { return vdb_load(path, false, ret, err); }

/* Lazy: the rows counted, the block records checked to name rows (their
 * bytes are checked as the digest is, at the entries' end). */
static int lazy_setup(sqlite3 *db, vd_baseline *b, const char *path, const char *stored, uint64_t size,
                      vd_err *err) {
        sqlite3_stmt *st = NULL;
        int r = 0;
        sqlite3_int64 n = -1, orphans = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM entries", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW || (n = sqlite3_column_int64(st, 0)) < 0)
                r = bad(err, path, "cannot count entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0 && b->schema >= 6 &&
            (sqlite3_prepare_v2(db, "SELECT count(*) FROM blockmap WHERE path NOT IN (SELECT path FROM entries)", -1,
                                &st, NULL) != SQLITE_OK ||
             sqlite3_step(st) != SQLITE_ROW || (orphans = sqlite3_column_int64(st, 0)) != 0))
                r = bad(err, path, "a block record names no entry");
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        struct vdb_lazy *l = calloc(1, sizeof *l);
        if (!l || !(l->path = strdup(path))) {
                free(l);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        l->db = db;
        l->n_entries = (uint64_t)n;
        l->file_size = size;
        memcpy(l->stored, stored, sizeof l->stored);
        sqlite3_progress_handler(db, 1000, progress_budget, &l->budget);
        b->lazy = l;
        memcpy(b->content_digest, stored, sizeof b->content_digest);
        return 0;
}

void vdb_lazy_close(struct vdb_lazy *l) {
        if (!l)
                return;
        sqlite3_close(l->db);
        free(l->path);
        free(l);
}

int vdb_load(const char *path, bool lazy, vd_baseline **ret, vd_err *err) {
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
        /* a derived baseline's entries are its template's and its own: loaded */
        if (b->schema >= 3 && (r = load_lineage(db, b, path, err)) < 0)
                goto out;
        lazy = lazy && !b->template_path;
        if (!lazy && (r = load_entries(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 2 && (r = load_inventory(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 3 && (r = load_history(db, b, path, err)) < 0)
                goto out;
        if (b->schema >= 4 && (r = load_config(db, b, path, err)) < 0)
                goto out;
        if (lazy) {
                if ((r = lazy_setup(db, b, path, stored, (uint64_t)fst.st_size, err)) == 0)
                        db = NULL; /* the baseline's now */
                goto out;
        }
        if (b->schema >= 6 && (r = load_blockmap(db, b, path, err)) < 0)
                goto out;
        {
                struct kv kv[N_META];
                char got[65];
                if (vdb_meta_to_kv(b, b->resolved ? b->deltas.n : b->entries.n, kv) < 0) {
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

/* ---- the entries in path order, loaded or from the file ---- */

struct vd_baseline_iter {
        const vd_baseline *b;
        size_t i;         /* loaded: the next one */
        sqlite3_stmt *st; /* lazy: the rows, checked as they pass */
        EVP_MD_CTX *dg;
        vd_buf xb;
        vd_entry *cur;
        uint64_t n;
        bool ended;
};

/* The work a statement over the whole file may take. */
static void budget_whole(struct vdb_lazy *l) { l->budget = 100000 + l->file_size / 4; }

int vd_baseline_iter_new(const vd_baseline *b, vd_baseline_iter **ret, vd_err *err) {
        vd_baseline_iter *it = calloc(1, sizeof *it);
        if (!it)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        it->b = b;
        vd_buf_init(&it->xb, ENTRY_BLOB_MAX);
        struct vdb_lazy *l = b->lazy;
        if (l) {
                struct kv kv[N_META];
                if (vdb_meta_to_kv(b, l->n_entries, kv) < 0) {
                        free(it);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                it->dg = vdb_digest_begin(b, kv, l->n_entries);
                vdb_kv_free(kv);
                budget_whole(l);
                if (!it->dg || sqlite3_prepare_v2(l->db, "SELECT " ENTRY_COLUMNS " FROM entries ORDER BY path", -1,
                                                  &it->st, NULL) != SQLITE_OK) {
                        int r = it->dg ? bad(err, l->path, "cannot read entries: %s", sqlite3_errmsg(l->db))
                                       : vd_err_set(err, VD_E_NOMEM, "out of memory");
                        vd_baseline_iter_free(it);
                        return r;
                }
        }
        *ret = it;
        return 0;
}

/* The block records into the digest c: their count, then each, in path
 * order, each checked to be well formed. */
static int digest_blocks(sqlite3 *db, const char *file, EVP_MD_CTX *c, vd_err *err) {
        sqlite3_stmt *st = NULL;
        sqlite3_int64 nb = -1;
        int r = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM blockmap", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW || (nb = sqlite3_column_int64(st, 0)) < 0)
                r = bad(err, file, "cannot read the block records: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0) {
                vdb_digest_count(c, (uint64_t)nb);
                if (sqlite3_prepare_v2(db, "SELECT path, blocks FROM blockmap ORDER BY path", -1, &st, NULL) !=
                    SQLITE_OK)
                        r = bad(err, file, "cannot read the block records: %s", sqlite3_errmsg(db));
        }
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                int pl = sqlite3_column_bytes(st, 0), bl = sqlite3_column_bytes(st, 1);
                const void *pp = sqlite3_column_blob(st, 0), *bp = sqlite3_column_blob(st, 1);
                if (!pp || pl <= 0 || bl < 0 || (size_t)bl > VD_ENTRY_BLOCKS_MAX || (bl > 0 && !bp) ||
                    !vd_delta_rec_valid(bp ? bp : (const void *)"", (size_t)bl))
                        r = bad(err, file, "a block record is malformed");
                else
                        vdb_digest_block(c, pp, (size_t)pl, bp ? bp : (const void *)"", (size_t)bl);
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = bad(err, file, "cannot read the block records: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

/* After the last row: the block records, then the whole digest. */
static int lazy_finish(vd_baseline_iter *it, vd_err *err) {
        const vd_baseline *b = it->b;
        struct vdb_lazy *l = b->lazy;
        if (it->n != l->n_entries)
                return bad(err, l->path, "damaged or modified while read: %llu entries, not %llu",
                           (unsigned long long)it->n, (unsigned long long)l->n_entries);
        vdb_digest_after_entries(it->dg, b);
        int r = 0;
        if (b->schema >= 6) {
                budget_whole(l);
                r = digest_blocks(l->db, l->path, it->dg, err);
        }
        char got[65];
        EVP_MD_CTX *dg = it->dg;
        it->dg = NULL;
        if (r < 0) {
                EVP_MD_CTX_free(dg);
                return r;
        }
        if (vdb_digest_end(dg, got) < 0)
                return vd_err_set(err, VD_E_INTERNAL, "cannot compute the baseline digest");
        if (strcmp(got, l->stored) != 0)
                return bad(err, l->path, "damaged or modified: its content does not match its digest");
        return 0;
}

int vd_baseline_iter_next(vd_baseline_iter *it, const vd_entry **ret, vd_err *err) {
        *ret = NULL;
        if (it->ended)
                return 0;
        const vd_baseline *b = it->b;
        if (!b->lazy) {
                if (it->i < b->entries.n)
                        *ret = b->entries.v[it->i++];
                else
                        it->ended = true;
                return 0;
        }
        struct vdb_lazy *l = b->lazy;
        int rc = sqlite3_step(it->st);
        if (rc == SQLITE_DONE) {
                it->ended = true;
                vd_entry_free(it->cur);
                it->cur = NULL;
                return lazy_finish(it, err);
        }
        if (rc != SQLITE_ROW)
                return bad(err, l->path, "cannot read entries: %s", sqlite3_errmsg(l->db));
        vd_entry *e = row_entry(it->st);
        if (!e)
                return bad(err, l->path, "entry %llu is malformed", (unsigned long long)it->n + 1);
        if (it->cur && vd_path_cmp(it->cur->path, it->cur->path_len, e->path, e->path_len) >= 0) {
                vd_entry_free(e);
                return bad(err, l->path, "entries out of order: damaged");
        }
        vd_entry_free(it->cur);
        it->cur = e;
        it->n++;
        vdb_digest_entry(it->dg, e, &it->xb);
        *ret = e;
        return 0;
}

void vd_baseline_iter_free(vd_baseline_iter *it) {
        if (!it)
                return;
        sqlite3_finalize(it->st);
        EVP_MD_CTX_free(it->dg);
        vd_buf_release(&it->xb);
        vd_entry_free(it->cur);
        free(it);
}

int vdb_db_lookup(sqlite3 *db, const char *file, const char *path, size_t len, vd_entry **ret, vd_err *err) {
        sqlite3_stmt *st = NULL;
        *ret = NULL;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries WHERE path = ?1", -1, &st, NULL) !=
                    SQLITE_OK ||
            sqlite3_bind_blob(st, 1, path, (int)len, SQLITE_STATIC) != SQLITE_OK) {
                sqlite3_finalize(st);
                return bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        }
        int rc = sqlite3_step(st), r = 1;
        if (rc == SQLITE_ROW)
                r = (*ret = row_entry(st)) ? 0 : bad(err, file, "an entry is malformed");
        else if (rc != SQLITE_DONE)
                r = bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

int vd_baseline_lookup(const vd_baseline *b, const char *path, size_t len, vd_entry **ret, vd_err *err) {
        *ret = NULL;
        if (!b->lazy) {
                const vd_entry *e = vd_entries_find(&b->entries, path, len);
                if (!e)
                        return 1;
                return (*ret = vd_entry_dup(e)) ? 0 : vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        b->lazy->budget = 100000;
        return vdb_db_lookup(b->lazy->db, b->lazy->path, path, len, ret, err);
}

int vdb_db_each_prefix(sqlite3 *db, const char *file, const char *prefix, size_t len,
                       int (*fn)(void *ctx, const vd_entry *e), void *ctx, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries WHERE path >= ?1 ORDER BY path", -1, &st,
                               NULL) != SQLITE_OK ||
            sqlite3_bind_blob(st, 1, prefix, (int)len, SQLITE_STATIC) != SQLITE_OK) {
                sqlite3_finalize(st);
                return bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        }
        int rc, r = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                int pl = sqlite3_column_bytes(st, 0);
                const void *pp = sqlite3_column_blob(st, 0);
                if (!pp || (size_t)pl < len || memcmp(pp, prefix, len) != 0)
                        break;
                vd_entry *e = row_entry(st);
                if (!e) {
                        r = bad(err, file, "an entry is malformed");
                        break;
                }
                r = fn(ctx, e);
                vd_entry_free(e);
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

int vd_baseline_each_prefix(const vd_baseline *b, const char *prefix, size_t len,
                            int (*fn)(void *ctx, const vd_entry *e), void *ctx, vd_err *err) {
        if (!b->lazy) {
                vd_entry_view v = vd_entry_view_of(&b->entries);
                return v.each_prefix(v.ctx, prefix, len, fn, ctx);
        }
        budget_whole(b->lazy);
        return vdb_db_each_prefix(b->lazy->db, b->lazy->path, prefix, len, fn, ctx, err);
}

/* The digest of b whose entries (n) and block records are db's rows: what
 * a writer signs, computed from what it wrote. */
int vdb_digest_db(sqlite3 *db, const char *file, const vd_baseline *b, uint64_t n, char out[65], vd_err *err) {
        struct kv kv[N_META];
        if (vdb_meta_to_kv(b, n, kv) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        EVP_MD_CTX *c = vdb_digest_begin(b, kv, n);
        vdb_kv_free(kv);
        if (!c)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_buf xb;
        vd_buf_init(&xb, ENTRY_BLOB_MAX);
        sqlite3_stmt *st = NULL;
        int r = 0, rc = SQLITE_DONE;
        uint64_t got = 0;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                r = bad(err, file, "cannot read entries back: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                vd_entry *e = row_entry(st);
                if (!e) {
                        r = bad(err, file, "an entry written cannot be read back");
                        break;
                }
                vdb_digest_entry(c, e, &xb);
                vd_entry_free(e);
                got++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = bad(err, file, "cannot read entries back: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        vd_buf_release(&xb);
        if (r == 0 && got != n)
                r = bad(err, file, "%llu entries written, %llu read back", (unsigned long long)n,
                        (unsigned long long)got);
        if (r == 0) {
                vdb_digest_after_entries(c, b);
                if (b->schema >= 6)
                        r = digest_blocks(db, file, c, err);
        }
        if (r < 0) {
                EVP_MD_CTX_free(c);
                return r;
        }
        return vdb_digest_end(c, out) < 0 ? vd_err_set(err, VD_E_INTERNAL, "cannot compute the baseline digest") : 0;
}
