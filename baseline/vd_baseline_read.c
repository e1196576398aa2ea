/* Loading a baseline as untrusted input: only the tables and columns a
 * baseline may hold (check_schema), every row bounded and checked, the
 * content digest recomputed and compared before anything is believed (for
 * a lazy open, when its entries have been read: vd_baseline_rows.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline/vd_sign.h"
#include "policy/vd_policy.h"
#include "common/vd_str.h"

#include "vd_baseline_int.h"


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


static int load_meta(sqlite3 *db, vd_baseline *b, const char *path, char *stored_digest, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "cannot read metadata: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        unsigned seen = 0;
        stored_digest[0] = '\0';
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0) {
                const char *k = (const char *)sqlite3_column_text(st, 0);
                const char *v = (const char *)sqlite3_column_text(st, 1);
                if (!k || !v || (size_t)sqlite3_column_bytes(st, 1) > META_VALUE_MAX) {
                        r = vdb_bad(err, path, "metadata value missing or too long");
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
                                r = vdb_bad(err, path, "unknown hash algorithm '%s'", v);
                        seen++;
                } else if (strcmp(k, "hash_key") == 0) {
                        if (!vd_unhex(v, b->seed, VD_HASH_SEED_LEN))
                                r = vdb_bad(err, path, "hash key is not %d hex digits", 2 * VD_HASH_SEED_LEN);
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
                                r = vdb_bad(err, path, "malformed signature");
                        else
                                snprintf(b->signature, sizeof b->signature, "%s", v);
                } else if (strcmp(k, "signer") == 0) {
                        if (strlen(v) != VD_KEYID_LEN || strspn(v, "0123456789abcdef") != VD_KEYID_LEN)
                                r = vdb_bad(err, path, "malformed signer");
                        else
                                snprintf(b->signer, sizeof b->signer, "%s", v);
                } else if (strcmp(k, "entry_count") == 0) {
                        seen++;
                } else {
                        r = vdb_bad(err, path, "unknown metadata key '%s'", k);
                }
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = vdb_bad(err, path, "cannot read metadata: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        if (r == 0 && (seen != N_META || !stored_digest[0]))
                r = vdb_bad(err, path, "metadata is incomplete");
        return r;
}

static int load_entries(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "cannot read entries: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                vd_entry *e = vdb_row_entry(st);
                if (!e || vd_entries_push(&b->entries, e) < 0) {
                        char where[64];
                        snprintf(where, sizeof where, "%zu", b->entries.n + 1);
                        vd_entry_free(e);
                        r = vdb_bad(err, path, "entry %s is malformed", where);
                }
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = vdb_bad(err, path, "cannot read entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

/* Each captured entry's record of its inode's blocks (schema 6). Every row
 * names an entry of this file, once; every record is well formed. */
static int load_blockmap(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT path, blocks FROM blockmap ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "cannot read the block records: %s", sqlite3_errmsg(db));
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
                        r = vdb_bad(err, path, "block record %s is malformed or names no entry", where);
                } else if (!(e->blocks = malloc(bl ? (size_t)bl : 1)))
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else {
                        if (bl)
                                memcpy(e->blocks, bp, (size_t)bl);
                        e->blocks_len = (size_t)bl;
                }
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = vdb_bad(err, path, "cannot read the block records: %s", sqlite3_errmsg(db));
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
                return vdb_bad(err, path, "cannot read facts: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *k = col_text(st, 0, 512), *v = col_text(st, 1, META_VALUE_MAX);
                if (!k || !v)
                        r = vdb_bad(err, path, "fact %zu is malformed", tmp.n_facts + 1);
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
                r = vdb_bad(err, path, "cannot read packages: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *n = col_text(st, 0, 1024), *a = col_text(st, 1, 64), *v = col_text(st, 2, 1024),
                           *rl = col_text(st, 3, 1024);
                if (!n || !a || !v || !rl)
                        r = vdb_bad(err, path, "package %zu is malformed", tmp.n_packages + 1);
                else if (vd_scan_add_package(&tmp, n, sqlite3_column_int(st, 4), v, rl, a) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else if (b->schema >= 5) {
                        const char *sn = col_text(st, 5, 1024), *sv = col_text(st, 6, 1024);
                        if (!sn || !sv)
                                r = vdb_bad(err, path, "package %zu is malformed", tmp.n_packages);
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

/* Files' text (schema 7): bounded one by one and in all, one row a hash;
 * whether each inflates to its size is seen when a diff reads it. */
static int load_content(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT hash, size, data FROM content ORDER BY hash", -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "cannot read the files' text: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        size_t row = 0;
        uint64_t data_total = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                row++;
                int hl = sqlite3_column_bytes(st, 0), dl = sqlite3_column_bytes(st, 2);
                const void *hp = sqlite3_column_blob(st, 0), *dp = sqlite3_column_blob(st, 2);
                sqlite3_int64 size = sqlite3_column_int64(st, 1);
                data_total += dl > 0 ? (uint64_t)dl : 0;
                if (!hp || hl <= 0 || hl > VD_HASH_MAX || !dp || dl <= 0 || (uint64_t)dl > 2 * VD_CONTENT_FILE_MAX ||
                    size < 0 || (uint64_t)size > VD_CONTENT_FILE_MAX || data_total > 2 * VD_CONTENT_TOTAL_MAX) {
                        char where[32];
                        snprintf(where, sizeof where, "%zu", row);
                        r = vdb_bad(err, path, "file text %s is malformed or over its bounds", where);
                        break;
                }
                unsigned char *data = malloc((size_t)dl);
                if (!data) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                memcpy(data, dp, (size_t)dl);
                if (vd_contents_take(&b->contents, hp, (size_t)hl, (uint32_t)size, data, (size_t)dl) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = vdb_bad(err, path, "cannot read the files' text: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        size_t n = b->contents.n;
        vd_contents_sort(&b->contents);
        if (r == 0 && b->contents.n != n)
                r = vdb_bad(err, path, "the files' text holds a hash twice: modified");
        return r;
}

static int load_config(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;
        size_t rows = 0;
        if (sqlite3_prepare_v2(db, "SELECT path, format, key, value, file, line, secret FROM config ORDER BY path, key",
                               -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "cannot read configuration values: %s", sqlite3_errmsg(db));
        vd_confset *cur = NULL;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                size_t vl = 0;
                char *p = col_blob_str(st, 0, 32768, NULL), *k = col_blob_str(st, 2, VD_CONF_KEY_MAX, NULL);
                char *v = col_blob_str(st, 3, VD_CONF_VALUE_MAX, &vl), *f = col_blob_str(st, 4, 32768, NULL);
                const char *fmt = col_text(st, 1, 32);
                int format = fmt ? vd_conf_format_from_name(fmt) : 0;
                sqlite3_int64 line = sqlite3_column_int64(st, 5);
                if (!p || !k || !v || !f || !format || line < 0 || line > UINT32_MAX || ++rows > 10000000)
                        r = vdb_bad(err, path, "configuration value %zu is malformed", rows);
                else {
                        if (!cur || strcmp(cur->path, p) != 0) {
                                cur = vd_confsets_add(&b->config, p, format);
                                if (!cur)
                                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                        if (r == 0 && k[0] &&
                            vd_settings_put(&cur->s, k, strlen(k), v, vl, f, (uint32_t)line, false, false) < 0)
                                r = vdb_bad(err, path, "configuration value %zu is malformed", rows);
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
                return vdb_bad(err, path, "cannot read lineage: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *k = col_text(st, 0, 64), *v = col_text(st, 1, META_VALUE_MAX);
                if (!k || !v)
                        r = vdb_bad(err, path, "malformed lineage");
                else if (strcmp(k, "template") == 0 && v[0] == '/') {
                        free(b->template_path);
                        if (!(b->template_path = strdup(v)))
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                } else if (strcmp(k, "template_digest") == 0 && strlen(v) == 64)
                        memcpy(b->template_digest, v, 65);
                else
                        r = vdb_bad(err, path, "unknown or malformed lineage key '%s'", k);
        }
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0 && sqlite3_prepare_v2(db, "SELECT path FROM removed ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                r = vdb_bad(err, path, "cannot read removed paths: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const void *p = sqlite3_column_blob(st, 0);
                int n = sqlite3_column_bytes(st, 0);
                vd_entry *e = vd_entry_new();
                if (!p || n <= 0 || (size_t)n > VD_PATH_MAX || ((const char *)p)[0] != '/' || memchr(p, '\0', (size_t)n) ||
                    !e || vd_entry_set_path(e, p, (size_t)n) < 0 || vd_entries_push(&b->removed, e) < 0) {
                        vd_entry_free(e);
                        r = vdb_bad(err, path, "malformed removed path");
                }
        }
        sqlite3_finalize(st);
        if (r == 0 && b->removed.n && !b->template_path)
                r = vdb_bad(err, path, "removed paths without a template");
        return r;
}

static int load_history(sqlite3 *db, vd_baseline *b, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;
        if (sqlite3_prepare_v2(db,
                               "SELECT time_ns, user, host, reason, signer, prev_digest, paths, n_changes FROM history"
                               " ORDER BY seq",
                               -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "cannot read history: %s", sqlite3_errmsg(db));
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
                        r = vdb_bad(err, path, "history record %zu is malformed", b->n_history + 1);
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
        {"content", "hash:blob size:integer data:blob"}, /* schema 7 */
};

static const char packages_cols_5[] =
        "name:text arch:text version:text release:text epoch:integer source:text source_version:text";

static int check_schema(sqlite3 *db, int ver, const char *path, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT type, name, tbl_name FROM sqlite_master", -1, &st, NULL) != SQLITE_OK)
                return vdb_bad(err, path, "damaged: %s", sqlite3_errmsg(db));
        int rc, r = 0;
        unsigned present = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *type = (const char *)sqlite3_column_text(st, 0);
                const char *name = (const char *)sqlite3_column_text(st, 1);
                if (!type || !name) {
                        r = vdb_bad(err, path, "damaged schema");
                        break;
                }
                if (strcmp(type, "index") == 0 && strncmp(name, "sqlite_autoindex_", 17) == 0)
                        continue;
                size_t i = 0;
                while (i < sizeof allowed / sizeof *allowed && strcmp(allowed[i].table, name) != 0)
                        i++;
                if (strcmp(type, "table") != 0 || i == sizeof allowed / sizeof *allowed ||
                    (ver < 6 && strcmp(name, "blockmap") == 0) || (ver < 7 && strcmp(name, "content") == 0))
                        r = vdb_bad(err, path, "holds a %s '%.64s' that no vmdrift baseline has: modified, refused before "
                                           "reading it",
                                type, name);
                else
                        present |= 1u << i;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = vdb_bad(err, path, "damaged: %s", sqlite3_errmsg(db));
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
                        r = vdb_bad(err, path, "table '%s' has %d columns, not the %d vmdrift writes: modified",
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
                        r = vdb_bad(err, path, "table '%s' is not as vmdrift writes it: %s", allowed[i].table,
                                sqlite3_errmsg(db));
                        break;
                }
                if (sqlite3_step(st) != SQLITE_ROW)
                        r = vdb_bad(err, path, "damaged: %s", sqlite3_errmsg(db));
                for (size_t k = 0; r == 0 && k < n; k++)
                        if (sqlite3_column_int64(st, (int)k + 1) != 0)
                                r = vdb_bad(err, path,
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
                r = vdb_bad(err, path, "cannot count entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0 && b->schema >= 6 &&
            (sqlite3_prepare_v2(db, "SELECT count(*) FROM blockmap WHERE path NOT IN (SELECT path FROM entries)", -1,
                                &st, NULL) != SQLITE_OK ||
             sqlite3_step(st) != SQLITE_ROW || (orphans = sqlite3_column_int64(st, 0)) != 0))
                r = vdb_bad(err, path, "a block record names no entry");
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
                return vdb_bad(err, path, "not a regular file");
        }
        char head[16] = {0};
        ssize_t hn = read(fd, head, sizeof head);
        close(fd);
        if (hn != (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0)
                return vdb_bad(err, path, "not a vmdrift baseline (not an SQLite database)");

        b = calloc(1, sizeof *b);
        if (!b)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_entries_init(&b->entries);
        vd_entries_init(&b->removed);
        vd_entries_init(&b->deltas);
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
                r = vdb_bad(err, path, "cannot open: %s", db ? sqlite3_errmsg(db) : "out of memory");
                goto out;
        }
        int app = 0, ver = 0;
        if (pragma_int(db, "PRAGMA application_id", &app) != SQLITE_OK ||
            pragma_int(db, "PRAGMA user_version", &ver) != SQLITE_OK) {
                r = vdb_bad(err, path, "damaged: %s", sqlite3_errmsg(db));
                goto out;
        }
        if (app != VD_BASELINE_APP_ID) {
                r = vdb_bad(err, path, "an SQLite database, but not a vmdrift baseline");
                goto out;
        }
        if (ver > VD_BASELINE_SCHEMA) {
                char m[128];
                snprintf(m, sizeof m, "%d (this vmdrift reads up to %d); upgrade vmdrift", ver, VD_BASELINE_SCHEMA);
                r = vdb_bad(err, path, "written with a newer baseline schema %s", m);
                goto out;
        }
        if (ver < 1) {
                r = vdb_bad(err, path, "has no schema version: damaged or not a baseline");
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
        if (b->schema >= 7 && (r = load_content(db, b, path, err)) < 0)
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
                        r = vdb_bad(err, path,
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
