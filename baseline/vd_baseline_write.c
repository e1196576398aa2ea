/* Writing a baseline: the SQLite schema, every table inserted in one
 * transaction into a temporary file beside the target, fsync'ed and renamed
 * into place (a failure leaves the old baseline as it was). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline/vd_sign.h"
#include "common/vd_str.h"
#include "common/vd_testpoint.h"

#include "vd_baseline_int.h"

/* ---- write ---- */

static const char schema_sql[] =
        "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE entries(path BLOB PRIMARY KEY NOT NULL, type INTEGER NOT NULL, status INTEGER NOT NULL,"
        " status_errno INTEGER NOT NULL, mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
        " uname BLOB, gname BLOB, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
        " ino INTEGER NOT NULL, nlink INTEGER NOT NULL, rdev INTEGER NOT NULL, target BLOB, xattrs BLOB,"
        " hash_algo INTEGER NOT NULL, hash BLOB) WITHOUT ROWID;"
        "CREATE TABLE facts(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE history(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, user TEXT NOT NULL,"
        " host TEXT NOT NULL, reason TEXT NOT NULL, signer TEXT NOT NULL, prev_digest TEXT NOT NULL,"
        " paths TEXT NOT NULL, n_changes INTEGER NOT NULL);"
        "CREATE TABLE lineage(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE removed(path BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE config(path BLOB NOT NULL, format TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
        " file BLOB NOT NULL, line INTEGER NOT NULL, secret INTEGER NOT NULL, PRIMARY KEY(path, key));";

/* Schema 5 added the source package to each package row; a baseline of an
 * older schema is rewritten (accept) in its own. */
static const char packages_sql_4[] = "CREATE TABLE packages(name TEXT NOT NULL, arch TEXT NOT NULL, version TEXT "
                                     "NOT NULL, release TEXT NOT NULL, epoch INTEGER NOT NULL);";

static const char packages_sql_5[] = "CREATE TABLE packages(name TEXT NOT NULL, arch TEXT NOT NULL, version TEXT "
                                     "NOT NULL, release TEXT NOT NULL, epoch INTEGER NOT NULL, source TEXT NOT NULL,"
                                     " source_version TEXT NOT NULL);";

static const char blockmap_sql[] = "CREATE TABLE blockmap(path BLOB PRIMARY KEY NOT NULL, blocks BLOB NOT NULL) "
                                   "WITHOUT ROWID;";

static const char content_sql[] = "CREATE TABLE content(hash BLOB PRIMARY KEY NOT NULL, size INTEGER NOT NULL, "
                                  "data BLOB NOT NULL) WITHOUT ROWID;";

static int insert_content(sqlite3 *db, vd_baseline *b) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "INSERT INTO content VALUES(?,?,?)", -1, &st, NULL) != SQLITE_OK)
                return -1;
        int rc = 0;
        for (size_t i = 0; i < b->contents.n && rc == 0; i++) {
                const vd_content *ct = &b->contents.v[i];
                sqlite3_bind_blob(st, 1, ct->hash, ct->hash_len, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, ct->size);
                sqlite3_bind_blob(st, 3, ct->data, (int)ct->data_len, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        return rc;
}

static int insert_config(sqlite3 *db, const vd_baseline *b) {
        sqlite3_stmt *st = NULL;
        int rc = 0;
        if (sqlite3_prepare_v2(db, "INSERT INTO config VALUES(?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
                return -1;
        for (size_t i = 0; i < b->config.n && rc == 0; i++) {
                const vd_confset *cs = &b->config.v[i];
                if (cs->s.n == 0) {
                        /* an empty file still counts: a key row of "" marks it */
                        sqlite3_bind_blob(st, 1, cs->path, (int)strlen(cs->path), SQLITE_STATIC);
                        sqlite3_bind_text(st, 2, vd_conf_format_name(cs->format), -1, SQLITE_STATIC);
                        sqlite3_bind_blob(st, 3, "", 0, SQLITE_STATIC);
                        sqlite3_bind_blob(st, 4, "", 0, SQLITE_STATIC);
                        sqlite3_bind_blob(st, 5, "", 0, SQLITE_STATIC);
                        sqlite3_bind_int(st, 6, 0);
                        sqlite3_bind_int(st, 7, 0);
                        if (sqlite3_step(st) != SQLITE_DONE)
                                rc = -1;
                        sqlite3_reset(st);
                }
                for (size_t k = 0; k < cs->s.n && rc == 0; k++) {
                        const vd_setting *x = &cs->s.v[k];
                        sqlite3_bind_blob(st, 1, cs->path, (int)strlen(cs->path), SQLITE_STATIC);
                        sqlite3_bind_text(st, 2, vd_conf_format_name(cs->format), -1, SQLITE_STATIC);
                        sqlite3_bind_blob(st, 3, x->key, (int)strlen(x->key), SQLITE_STATIC);
                        sqlite3_bind_blob(st, 4, x->value, (int)x->value_len, SQLITE_STATIC);
                        sqlite3_bind_blob(st, 5, x->file, (int)strlen(x->file), SQLITE_STATIC);
                        sqlite3_bind_int64(st, 6, x->line);
                        sqlite3_bind_int(st, 7, x->secret);
                        if (sqlite3_step(st) != SQLITE_DONE)
                                rc = -1;
                        sqlite3_reset(st);
                }
        }
        sqlite3_finalize(st);
        return rc;
}

static int insert_inventory(sqlite3 *db, const vd_baseline *b) {
        sqlite3_stmt *st = NULL;
        int rc = 0;
        if (sqlite3_prepare_v2(db, "INSERT INTO facts VALUES(?,?)", -1, &st, NULL) != SQLITE_OK)
                return -1;
        for (size_t i = 0; i < b->n_facts && rc == 0; i++) {
                sqlite3_bind_text(st, 1, b->facts[i].key, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, b->facts[i].value, -1, SQLITE_STATIC);
                if (sqlite3_step(st) != SQLITE_DONE)
                        rc = -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (rc < 0 || sqlite3_prepare_v2(db, b->schema >= 5 ? "INSERT INTO packages VALUES(?,?,?,?,?,?,?)"
                                                            : "INSERT INTO packages VALUES(?,?,?,?,?)",
                                         -1, &st, NULL) != SQLITE_OK)
                return -1;
        for (size_t i = 0; i < b->n_packages && rc == 0; i++) {
                const vd_package *p = &b->packages[i];
                sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, p->arch, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, p->version, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, p->release, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 5, p->epoch);
                if (b->schema >= 5) {
                        sqlite3_bind_text(st, 6, p->source ? p->source : "", -1, SQLITE_STATIC);
                        sqlite3_bind_text(st, 7, p->source_version ? p->source_version : "", -1, SQLITE_STATIC);
                }
                if (sqlite3_step(st) != SQLITE_DONE)
                        rc = -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (rc == 0 && b->template_path) {
                if (sqlite3_prepare_v2(db, "INSERT INTO lineage VALUES(?,?)", -1, &st, NULL) != SQLITE_OK)
                        return -1;
                const char *kv2[2][2] = {{"template", b->template_path}, {"template_digest", b->template_digest}};
                for (int i = 0; i < 2 && rc == 0; i++) {
                        sqlite3_bind_text(st, 1, kv2[i][0], -1, SQLITE_STATIC);
                        sqlite3_bind_text(st, 2, kv2[i][1], -1, SQLITE_STATIC);
                        if (sqlite3_step(st) != SQLITE_DONE)
                                rc = -1;
                        sqlite3_reset(st);
                }
                sqlite3_finalize(st);
                if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO removed VALUES(?)", -1, &st, NULL) != SQLITE_OK)
                        return -1;
                for (size_t i = 0; i < b->removed.n && rc == 0; i++) {
                        sqlite3_bind_blob(st, 1, b->removed.v[i]->path, (int)b->removed.v[i]->path_len, SQLITE_STATIC);
                        if (sqlite3_step(st) != SQLITE_DONE)
                                rc = -1;
                        sqlite3_reset(st);
                }
                sqlite3_finalize(st);
        }
        if (rc < 0 || sqlite3_prepare_v2(db, "INSERT INTO history VALUES(?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
                return -1;
        for (size_t i = 0; i < b->n_history && rc == 0; i++) {
                const vd_history *h = &b->history[i];
                sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
                sqlite3_bind_int64(st, 2, h->time_ns);
                sqlite3_bind_text(st, 3, h->user, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, h->host, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 5, h->reason, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 6, h->signer, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 7, h->prev_digest, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 8, h->paths, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 9, (sqlite3_int64)h->n_changes);
                if (sqlite3_step(st) != SQLITE_DONE)
                        rc = -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        return rc;
}

static int sqlerr(vd_err *err, sqlite3 *db, const char *what, const char *path) {
        return vd_err_set(err, VD_E_IO, "cannot write baseline '%s': %s: %s", path, what,
                          db ? sqlite3_errmsg(db) : "out of memory");
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s) {
        if (s)
                sqlite3_bind_blob(st, i, s, (int)strlen(s), SQLITE_STATIC);
        else
                sqlite3_bind_null(st, i);
}

static int fsync_path(const char *path, int flags) {
        int fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return -1;
        int r = fsync(fd);
        int e = errno;
        close(fd);
        errno = e;
        return r;
}

/* ---- the writer: entries as they come, the rest at the end ---- */

struct vd_baseline_writer {
        char *path, *tmp;
        sqlite3 *db;
        sqlite3_stmt *ins, *ins_blocks;
        vd_buf xb;
        uint64_t n;
        char *last; /* the path put last: the next must sort after it */
        size_t last_len, last_alloc;
        int schema;
        vd_entry *found; /* the view's last lookup */
        vd_err view_err;
};

void vd_baseline_writer_free(vd_baseline_writer *w) {
        if (!w)
                return;
        sqlite3_finalize(w->ins);
        sqlite3_finalize(w->ins_blocks);
        if (w->db)
                sqlite3_close(w->db);
        if (w->tmp)
                unlink(w->tmp); /* not ended: the old baseline stays as it was */
        free(w->tmp);
        free(w->path);
        free(w->last);
        vd_buf_release(&w->xb);
        vd_entry_free(w->found);
        free(w);
}

int vd_baseline_writer_begin(const vd_baseline *b, const char *path, vd_baseline_writer **ret, vd_err *err) {
        vd_baseline_writer *w = calloc(1, sizeof *w);
        if (!w || !(w->path = strdup(path)) || asprintf(&w->tmp, "%s.tmp.XXXXXX", path) < 0) {
                if (w)
                        w->tmp = NULL;
                vd_baseline_writer_free(w);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        vd_buf_init(&w->xb, ENTRY_BLOB_MAX);
        w->schema = b->schema;
        int fd = mkstemp(w->tmp);
        if (fd < 0) {
                int r = vd_err_errno(err, VD_E_IO, errno, "cannot create a temporary file beside '%s'", path);
                free(w->tmp);
                w->tmp = NULL;
                vd_baseline_writer_free(w);
                return r;
        }
        close(fd);
        vd_test_point("baseline-write:temp");
        char pragmas[160];
        snprintf(pragmas, sizeof pragmas,
                 "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA application_id=%d; PRAGMA user_version=%d;",
                 VD_BASELINE_APP_ID, b->schema);
        int r = 0;
        if (sqlite3_open_v2(w->tmp, &w->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
                r = sqlerr(err, w->db, "open", path);
        else if (sqlite3_exec(w->db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
                 sqlite3_exec(w->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
                 sqlite3_exec(w->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
                 sqlite3_exec(w->db, b->schema >= 5 ? packages_sql_5 : packages_sql_4, NULL, NULL, NULL) != SQLITE_OK ||
                 (b->schema >= 6 && sqlite3_exec(w->db, blockmap_sql, NULL, NULL, NULL) != SQLITE_OK) ||
                 (b->schema >= 7 && sqlite3_exec(w->db, content_sql, NULL, NULL, NULL) != SQLITE_OK))
                r = sqlerr(err, w->db, "create tables", path);
        else if (sqlite3_prepare_v2(w->db, "INSERT INTO entries VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
                                    &w->ins, NULL) != SQLITE_OK ||
                 (b->schema >= 6 &&
                  sqlite3_prepare_v2(w->db, "INSERT INTO blockmap VALUES(?,?)", -1, &w->ins_blocks, NULL) != SQLITE_OK))
                r = sqlerr(err, w->db, "prepare", path);
        if (r < 0) {
                vd_baseline_writer_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int vd_baseline_writer_put(vd_baseline_writer *w, const vd_entry *e, vd_err *err) {
        if (w->n && vd_path_cmp(w->last, w->last_len, e->path, e->path_len) >= 0)
                return vd_err_set(err, VD_E_INTERNAL, "baseline '%s': entries out of path order", w->path);
        if (vd_array_grow(&w->last, &w->last_alloc, e->path_len, 1, 256) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        memcpy(w->last, e->path, e->path_len);
        w->last_len = e->path_len;
        sqlite3_stmt *st = w->ins;
        sqlite3_bind_blob(st, 1, e->path, (int)e->path_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, e->type);
        sqlite3_bind_int(st, 3, e->status);
        sqlite3_bind_int(st, 4, e->status_errno);
        sqlite3_bind_int64(st, 5, e->mode);
        sqlite3_bind_int64(st, 6, e->uid);
        sqlite3_bind_int64(st, 7, e->gid);
        bind_opt_text(st, 8, e->uname);
        bind_opt_text(st, 9, e->gname);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)e->size);
        sqlite3_bind_int64(st, 11, e->mtime_ns);
        sqlite3_bind_int64(st, 12, e->ctime_ns);
        sqlite3_bind_int64(st, 13, (sqlite3_int64)e->ino);
        sqlite3_bind_int64(st, 14, (sqlite3_int64)e->nlink);
        sqlite3_bind_int64(st, 15, (sqlite3_int64)e->rdev);
        if (e->target)
                sqlite3_bind_blob(st, 16, e->target, (int)e->target_len, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 16);
        vd_buf_reset(&w->xb);
        if (e->n_xattrs) {
                if (vd_xattrs_encode(e, &w->xb) < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                sqlite3_bind_blob(st, 17, w->xb.buf, (int)w->xb.len, SQLITE_STATIC);
        } else
                sqlite3_bind_null(st, 17);
        sqlite3_bind_int(st, 18, e->hash_algo);
        if (e->hash_len)
                sqlite3_bind_blob(st, 19, e->hash, e->hash_len, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 19);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return sqlerr(err, w->db, "insert an entry", w->path);
        if (e->blocks && w->ins_blocks) {
                sqlite3_bind_blob(w->ins_blocks, 1, e->path, (int)e->path_len, SQLITE_STATIC);
                sqlite3_bind_blob(w->ins_blocks, 2, e->blocks_len ? (const void *)e->blocks : "", (int)e->blocks_len,
                                  SQLITE_STATIC);
                rc = sqlite3_step(w->ins_blocks);
                sqlite3_reset(w->ins_blocks);
                if (rc != SQLITE_DONE)
                        return sqlerr(err, w->db, "insert a block record", w->path);
        }
        w->n++;
        return 0;
}

uint64_t vd_baseline_writer_count(const vd_baseline_writer *w) { return w->n; }

/* ---- what was put, as a view ---- */

static const vd_entry *w_find(void *ctx, const char *path, size_t len) {
        vd_baseline_writer *w = ctx;
        vd_entry_free(w->found);
        w->found = NULL;
        vd_err e = VD_ERR_INIT;
        int r = vdb_db_lookup(w->db, w->path, path, len, &w->found, &e);
        if (r < 0 && !w->view_err.code)
                w->view_err = e;
        return r == 0 ? w->found : NULL;
}

static int w_each_prefix(void *ctx, const char *prefix, size_t len, int (*fn)(void *fctx, const vd_entry *e),
                         void *fctx) {
        vd_baseline_writer *w = ctx;
        vd_err e = VD_ERR_INIT;
        int r = vdb_db_each_prefix(w->db, w->path, prefix, len, fn, fctx, &e);
        if (r < 0 && e.code && !w->view_err.code)
                w->view_err = e;
        return r;
}

vd_entry_view vd_baseline_writer_view(vd_baseline_writer *w) { return (vd_entry_view){w_find, w_each_prefix, w}; }

int vd_baseline_writer_check(const vd_baseline_writer *w, vd_err *err) {
        return w->view_err.code ? vd_err_set(err, w->view_err.code, "%s", w->view_err.msg) : 0;
}

/* ---- the end: the rest of b, the digest of what was written, the rename ---- */

int vd_baseline_writer_end(vd_baseline_writer *w, vd_baseline *b, vd_err *err) {
        struct kv kv[N_META];
        sqlite3_stmt *st = NULL;
        const char *path = w->path;
        int r = 0;
        if (b->schema != w->schema)
                return vd_err_set(err, VD_E_INTERNAL, "baseline '%s': schema changed while written", path);
        if ((b->resolved ? b->deltas.n : b->entries.n) != 0)
                return vd_err_set(err, VD_E_INTERNAL, "baseline '%s': entries both held and put", path);
        vd_contents_sort(&b->contents); /* the order digest and table have */
        /* the entries are those put: b holds none */
        if (vdb_meta_to_kv(b, w->n, kv) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if ((r = vdb_digest_db(w->db, path, b, w->n, b->content_digest, err)) < 0) {
                vdb_kv_free(kv);
                return r;
        }
        b->signature[0] = b->signer[0] = '\0';
        if (b->sign_key && (r = vd_sign_digest(b->sign_key, b->content_digest, b->signature, b->signer, err)) < 0) {
                vdb_kv_free(kv);
                return r;
        }
        sqlite3 *db = w->db;
        if (sqlite3_prepare_v2(db, "INSERT INTO meta VALUES(?,?)", -1, &st, NULL) != SQLITE_OK) {
                r = sqlerr(err, db, "prepare", path);
                goto out;
        }
        /* The digest, signature and signer are about the content, not in it. */
        const struct kv about[3] = {{"content_digest", b->content_digest},
                                    {"signature", b->signature},
                                    {"signer", b->signer}};
        size_t n_about = b->signature[0] ? 3 : 1;
        for (size_t i = 0; i < N_META + n_about; i++) {
                const struct kv *m = i < N_META ? &kv[i] : &about[i - N_META];
                sqlite3_bind_text(st, 1, m->key, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, m->val, -1, SQLITE_STATIC);
                if (sqlite3_step(st) != SQLITE_DONE) {
                        r = sqlerr(err, db, "insert metadata", path);
                        goto out;
                }
                sqlite3_reset(st);
        }
        if (insert_inventory(db, b) < 0 || (b->schema >= 4 && insert_config(db, b) < 0) ||
            (b->schema >= 7 && insert_content(db, b) < 0)) {
                r = sqlerr(err, db, "insert entries", path);
                goto out;
        }
        vd_test_point("baseline-write:rows");
        sqlite3_finalize(w->ins);
        sqlite3_finalize(w->ins_blocks);
        w->ins = w->ins_blocks = NULL;
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
                r = sqlerr(err, db, "commit", path);
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        w->db = NULL;
        if (sqlite3_close(db) != SQLITE_OK) {
                r = sqlerr(err, db, "close", path);
                goto out;
        }
        vd_test_point("baseline-write:closed");
        if (fsync_path(w->tmp, O_RDONLY) < 0) {
                r = vd_err_errno(err, VD_E_IO, errno, "cannot write baseline '%s': fsync", path);
                goto out;
        }
        if (rename(w->tmp, path) < 0) {
                r = vd_err_errno(err, VD_E_IO, errno, "cannot write baseline '%s': rename", path);
                goto out;
        }
        free(w->tmp);
        w->tmp = NULL;
        vd_test_point("baseline-write:renamed");
        {
                char *dcopy = strdup(path);
                if (dcopy) {
                        fsync_path(dirname(dcopy), O_RDONLY | O_DIRECTORY);
                        free(dcopy);
                }
        }
out:
        sqlite3_finalize(st);
        vdb_kv_free(kv);
        return r;
}

int vd_baseline_write(vd_baseline *b, const char *path, vd_err *err) {
        vd_baseline_writer *w = NULL;
        int r = vd_baseline_writer_begin(b, path, &w, err);
        if (r < 0)
                return r;
        /* the entries the file holds: a derived baseline's own */
        vd_entries held = b->resolved ? b->deltas : b->entries;
        for (size_t i = 0; r == 0 && i < held.n; i++)
                r = vd_baseline_writer_put(w, held.v[i], err);
        if (r == 0) {
                /* put: the writer counts them; b gets them back after */
                vd_entries none;
                vd_entries_init(&none);
                if (b->resolved)
                        b->deltas = none;
                else
                        b->entries = none;
                r = vd_baseline_writer_end(w, b, err);
                if (b->resolved)
                        b->deltas = held;
                else
                        b->entries = held;
        }
        vd_baseline_writer_free(w);
        return r;
}
