#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "baseline/vd_accept.h"
#include "baseline/vd_baseline.h"
#include "baseline/vd_baseline_cache.h"

static char *dir;
static void setup(void) { dir = th_mkdtemp(); }
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(baseline, .init = setup, .fini = teardown);

static vd_entry *mk(const char *path, size_t len, int type) {
        vd_entry *e = vd_entry_new();
        vd_entry_set_path(e, path, len);
        e->type = (uint8_t)type;
        e->mode = 0644;
        e->uid = 1000;
        e->gid = 100;
        e->size = 1ull << 40;
        e->mtime_ns = -5;
        e->ctime_ns = 1795413839123456789LL;
        e->ino = UINT64_MAX;
        e->nlink = 3;
        return e;
}

static vd_baseline *sample(void) {
        vd_baseline *b;
        cr_assert_eq(vd_baseline_new(&b, NULL), 0);
        b->source_kind = strdup("dir");
        b->source = strdup("/srv/template");
        b->hostname = strdup("host");
        b->policy_digest = strdup("00");
        b->policy_source = strdup("built-in default");
        b->created_ns = 1795413839000000000LL;
        vd_entry *f = mk("/etc/pass\nwd\xff", 12, VD_T_REG);
        f->uname = strdup("alice");
        f->hash_algo = VD_HASH_XXH3;
        f->hash_len = 16;
        memset(f->hash, 0x5a, 16);
        vd_entry_add_xattr(f, "security.selinux", "system_u:object_r:etc_t:s0", 27);
        f->blocks = malloc(3);
        memcpy(f->blocks, "\x01\x05\x03", 3); /* blocks 5-7 */
        f->blocks_len = 3;
        vd_entry *l = mk("/link", 5, VD_T_LNK);
        l->target = strdup("../x");
        l->target_len = 4;
        vd_entry *u = mk("/unread", 7, VD_T_REG);
        u->status = VD_ST_UNREADABLE;
        u->status_errno = 13;
        vd_entries_push(&b->entries, mk("/", 1, VD_T_DIR));
        vd_entries_push(&b->entries, f);
        vd_entries_push(&b->entries, l);
        vd_entries_push(&b->entries, u);
        vd_entries_sort(&b->entries);
        return b;
}

static char *write_sample(const char *name) {
        char *p = th_join(dir, name);
        vd_baseline *b = sample();
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_write(b, p, &err), 0, "%s", err.msg);
        vd_baseline_free(b);
        return p;
}

static int sql(const char *path, const char *stmt) {
        sqlite3 *db;
        sqlite3_open(path, &db);
        int rc = sqlite3_exec(db, stmt, NULL, NULL, NULL);
        sqlite3_close(db);
        return rc;
}

Test(baseline, round_trips_every_field) {
        char *p = write_sample("a.vdb");
        vd_baseline *b = NULL, *want = sample();
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), 0, "%s", err.msg);
        cr_assert_eq(b->entries.n, 4);
        cr_assert_str_eq(b->source, "/srv/template");
        cr_assert_eq(b->created_ns, want->created_ns);
        cr_assert_eq(b->hash_algo, VD_HASH_XXH3);
        for (size_t i = 0; i < 4; i++) {
                const vd_entry *x = b->entries.v[i], *y = want->entries.v[i];
                cr_assert_eq(x->path_len, y->path_len);
                cr_assert(memcmp(x->path, y->path, x->path_len) == 0);
                cr_assert_eq(x->type, y->type);
                cr_assert_eq(x->size, y->size);
                cr_assert_eq(x->mtime_ns, y->mtime_ns, "negative times survive");
                cr_assert_eq(x->ino, y->ino, "u64 inode survives");
                cr_assert_eq(x->status, y->status);
                cr_assert_eq(x->n_xattrs, y->n_xattrs);
                cr_assert_eq(x->hash_len, y->hash_len);
        }
        const vd_entry *f = vd_entries_find(&b->entries, "/etc/pass\nwd\xff", 12);
        cr_assert_str_eq(f->uname, "alice");
        cr_assert_null(f->gname);
        cr_assert_str_eq(f->xattrs[0].name, "security.selinux");
        struct stat st;
        stat(p, &st);
        cr_assert_eq(st.st_mode & 0777, 0600, "the file holds the hash key");
        vd_baseline_free(b);
        vd_baseline_free(want);
        free(p);
}

Test(baseline, a_failed_write_leaves_the_old_file_and_no_temporary) {
        char *p = write_sample("keep.vdb");
        struct stat before;
        stat(p, &before);
        vd_baseline *b = sample();
        /* A directory in place of the target makes the rename fail. */
        char *d = th_join(dir, "isdir");
        mkdir(d, 0755);
        th_write(d, "x", "");
        vd_err err = VD_ERR_INIT;
        cr_assert_lt(vd_baseline_write(b, d, &err), 0);
        cr_assert(strstr(err.msg, "rename"), "%s", err.msg);
        th_run r = th_exec((const char *const[]){"sh", "-c", "ls -a \"$0\" | grep -c tmp", dir, NULL});
        cr_assert_str_eq(r.out, "0\n", "no temporary file is left behind");
        th_run_free(&r);
        struct stat after;
        stat(p, &after);
        cr_assert_eq(before.st_ino, after.st_ino);
        vd_baseline_free(b);
        free(d);
        free(p);
}

Test(baseline, a_missing_file_is_a_baseline_error) {
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        char *p = th_join(dir, "none.vdb");
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "none.vdb") && strstr(err.msg, "No such file"), "%s", err.msg);
        free(p);
}

Test(baseline, a_file_that_is_not_sqlite_is_refused) {
        th_write(dir, "text.vdb", "hello, this is not a database at all\n");
        char *p = th_join(dir, "text.vdb");
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "not a vmdrift baseline"), "%s", err.msg);
        free(p);
}

Test(baseline, an_sqlite_file_of_another_application_is_refused) {
        char *p = th_join(dir, "other.db");
        cr_assert_eq(sql(p, "CREATE TABLE t(x); INSERT INTO t VALUES(1);"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "not a vmdrift baseline"), "%s", err.msg);
        free(p);
}

Test(baseline, a_newer_schema_is_refused_with_advice) {
        char *p = write_sample("new.vdb");
        cr_assert_eq(sql(p, "PRAGMA user_version=8"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "newer baseline schema 8") && strstr(err.msg, "upgrade"), "%s", err.msg);
        free(p);
}

Test(baseline, a_truncated_file_is_refused) {
        char *p = write_sample("trunc.vdb");
        struct stat st;
        stat(p, &st);
        cr_assert_gt(st.st_size, 8192);
        cr_assert_eq(truncate(p, st.st_size / 2), 0);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "trunc.vdb"), "%s", err.msg);
        free(p);
}

Test(baseline, an_edited_row_is_detected) {
        char *p = write_sample("edit.vdb");
        cr_assert_eq(sql(p, "UPDATE entries SET mode=511 WHERE path=CAST('/link' AS BLOB)"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "modified"), "%s", err.msg);
        free(p);
}

Test(baseline, a_deleted_row_and_edited_metadata_are_detected) {
        char *p = write_sample("del.vdb");
        cr_assert_eq(sql(p, "DELETE FROM entries WHERE path=CAST('/unread' AS BLOB)"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        free(p);
        p = write_sample("meta.vdb");
        cr_assert_eq(sql(p, "UPDATE meta SET value='/elsewhere' WHERE key='source'"), SQLITE_OK);
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "modified"), "%s", err.msg);
        free(p);
}

Test(baseline, hostile_rows_are_refused_not_trusted) {
        char *p = write_sample("hostile.vdb");
        /* A hash of the wrong length would overflow a naive loader. */
        cr_assert_eq(sql(p, "UPDATE entries SET hash=zeroblob(4096) WHERE type=1 AND status=0"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "malformed"), "%s", err.msg);
        free(p);
        p = write_sample("hostile2.vdb");
        cr_assert_eq(sql(p, "UPDATE entries SET path=CAST('relative' AS BLOB) WHERE path=CAST('/link' AS BLOB)"),
                     SQLITE_OK);
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        free(p);
}

/* The loader is bounded before trust: what the file holds is checked
 * against what vmdrift writes before any row is read. */
Test(baseline, a_view_in_place_of_a_table_is_refused_before_it_runs) {
        char *p = write_sample("v.vdb");
        cr_assert_eq(sql(p, "DROP TABLE entries; CREATE VIEW entries AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL "
                            "SELECT x + 1 FROM r) SELECT x AS path, 0 AS type FROM r;"),
                     SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "holds a view 'entries' that no vmdrift baseline has"), "%s", err.msg);
        free(p);
}

Test(baseline, a_trigger_is_refused) {
        char *p = write_sample("t.vdb");
        cr_assert_eq(sql(p, "CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END;"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "holds a trigger 't'"), "%s", err.msg);
        free(p);
}

Test(baseline, a_value_of_another_storage_class_is_a_modification) {
        char *p = write_sample("c.vdb");
        cr_assert_eq(sql(p, "UPDATE entries SET mode = '420x' WHERE path = CAST('/link' AS BLOB)"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "column entries.mode holds values of another kind than vmdrift writes"), "%s",
                  err.msg);
        free(p);
}

Test(baseline, a_fifo_is_refused_without_waiting_for_a_writer, .timeout = 10) {
        char *p = th_join(dir, "fifo.vdb");
        cr_assert_eq(mkfifo(p, 0600), 0);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
        free(p);
}

Test(baseline, an_extra_column_is_a_modification) {
        char *p = write_sample("x.vdb");
        cr_assert_eq(sql(p, "ALTER TABLE entries ADD COLUMN extra TEXT"), SQLITE_OK);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "table 'entries' has 20 columns, not the 19 vmdrift writes"), "%s", err.msg);
        free(p);
}

/* accept --path speaks the policies' glob dialect: '*' stays in one component. */
Test(baseline, accept_globs_are_the_policy_dialect) {
        const char *star[] = {"/etc/*"};
        const char *dstar[] = {"/etc/**"}, *sub[] = {"/etc/ssh"};
        const char *cls[] = {"/home/*/.ssh/*"};
#define M(g, p) vd_accept_matches(g, 1, p, strlen(p))
        cr_assert(M(star, "/etc/passwd"));
        cr_assert(!M(star, "/etc/ssh/sshd_config"), "'*' must not cross '/' (fnmatch without FNM_PATHNAME did)");
        cr_assert(M(dstar, "/etc/ssh/sshd_config"));
        cr_assert(M(dstar, "/etc"));
        cr_assert(M(sub, "/etc/ssh/sshd_config"), "a directory takes in its subtree");
        cr_assert(!M(sub, "/etc/sshd"));
        cr_assert(M(cls, "/home/ann/.ssh/authorized_keys"));
        cr_assert(!M(cls, "/home/ann/x/.ssh/authorized_keys"));
        cr_assert(vd_accept_matches(NULL, 0, "/anything", 9), "no --path: every change");
#undef M
}

/* Schema 5 keeps each package's source package (advisories name those),
 * inside the signed digest; a schema 4 file still loads, without them. */
Test(baseline, packages_keep_their_source_package_under_the_digest) {
        for (int schema = 4; schema <= 5; schema++) {
                char name[32];
                snprintf(name, sizeof name, "src%d.vdb", schema);
                char *p = th_join(dir, name);
                vd_baseline *b = sample(), *l = NULL;
                b->schema = schema;
                vd_scan sc;
                vd_scan_init(&sc);
                cr_assert_eq(vd_scan_add_package(&sc, "libc6", 0, "2.36", "9+deb12u4", "amd64"), 0);
                cr_assert_eq(vd_scan_set_package_source(&sc, "glibc", NULL), 0);
                cr_assert_eq(vd_scan_add_package(&sc, "libssl3", 0, "3.0.11", "1~deb12u2+b1", "amd64"), 0);
                cr_assert_eq(vd_scan_set_package_source(&sc, "openssl", "3.0.11-1~deb12u2"), 0);
                cr_assert_eq(vd_scan_add_package(&sc, "sudo", 0, "1.9.13p3", "1+deb12u1", "amd64"), 0);
                vd_scan_sort_inventory(&sc);
                vd_baseline_take_inventory(b, &sc);
                vd_scan_release(&sc);
                vd_err err = VD_ERR_INIT;
                cr_assert_eq(vd_baseline_write(b, p, &err), 0, "%s", err.msg);
                vd_baseline_free(b);
                cr_assert_eq(vd_baseline_load(p, &l, &err), 0, "schema %d: %s", schema, err.msg);
                cr_assert_eq(l->n_packages, 3);
                const vd_package *c = &l->packages[0], *s = &l->packages[1], *u = &l->packages[2];
                cr_assert_str_eq(s->name, "libssl3");
                if (schema == 5) {
                        cr_assert_str_eq(c->source, "glibc");
                        cr_assert_null(c->source_version);
                        cr_assert_str_eq(s->source, "openssl");
                        cr_assert_str_eq(s->source_version, "3.0.11-1~deb12u2");
                } else
                        cr_assert_null(s->source, "schema 4 has no sources");
                cr_assert_null(u->source);
                vd_baseline_free(l);
                if (schema == 5) {
                        cr_assert_eq(sql(p, "UPDATE packages SET source = 'openssl-fixed' WHERE name = 'libssl3'"),
                                     SQLITE_OK);
                        cr_assert_eq(vd_baseline_load(p, &l, &err), VD_E_BASELINE);
                        cr_assert(strstr(err.msg, "digest"), "%s", err.msg);
                }
                free(p);
        }
}

/* Schema 6: a capture's records of its inodes' blocks, which a delta scan
 * trusts in place of reading the inodes: stored, under the digest, and
 * refused when they do not parse or name no entry. */
Test(baseline, block_records_round_trip_under_the_digest) {
        char *p = write_sample("rec.vdb");
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), 0, "%s", err.msg);
        cr_assert_eq(b->schema, VD_BASELINE_SCHEMA);
        const vd_entry *f = vd_entries_find(&b->entries, "/etc/pass\nwd\xff", 12);
        cr_assert_eq(f->blocks_len, 3);
        cr_assert(memcmp(f->blocks, "\x01\x05\x03", 3) == 0);
        cr_assert_null(vd_entries_find(&b->entries, "/link", 5)->blocks);
        vd_baseline_free(b);
        b = NULL;
        /* edits the digest catches, and rows the loader refuses on sight */
        const struct {
                const char *sql, *msg;
        } edits[] = {
                {"UPDATE blockmap SET blocks=X'010603'", "modified"},
                {"DELETE FROM blockmap", "modified"},
                {"INSERT INTO blockmap VALUES(CAST('/link' AS BLOB), X'010001')", "modified"},
                {"INSERT INTO blockmap VALUES(CAST('/nowhere' AS BLOB), X'010001')", "block record"},
                {"UPDATE blockmap SET blocks=X'0105'", "block record"},
                {"UPDATE blockmap SET blocks=zeroblob(20000)", "block record"},
        };
        for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
                char *q = write_sample("rec-edit.vdb");
                cr_assert_eq(sql(q, edits[i].sql), SQLITE_OK);
                err = (vd_err)VD_ERR_INIT;
                cr_assert_eq(vd_baseline_load(q, &b, &err), VD_E_BASELINE, "%s", edits[i].sql);
                cr_assert(strstr(err.msg, edits[i].msg), "%s: %s", edits[i].sql, err.msg);
                free(q);
        }
        /* a baseline of an older schema has no such table */
        cr_assert_eq(sql(p, "PRAGMA user_version=5"), SQLITE_OK);
        err = (vd_err)VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "blockmap"), "%s", err.msg);
        free(p);
}

/* A derived baseline's kept reports follow its template: the documented
 * rebuild of the template in place (same path, same hash key) changes the
 * effective digest, though not one byte of the derived file. */
Test(baseline, a_derived_baselines_effective_digest_follows_its_template) {
        vd_err err = VD_ERR_INIT;
        char *tpath = th_join(dir, "t.vdb"), *dpath = th_join(dir, "d.vdb");
        vd_baseline *t = sample(), *d = sample();
        cr_assert_eq(vd_baseline_write(t, tpath, &err), 0, "%s", err.msg);
        memcpy(d->seed, t->seed, sizeof d->seed);
        d->created_ns = t->created_ns + 1;
        vd_entries_push(&d->entries, mk("/etc/added", 10, VD_T_REG));
        vd_entries_sort(&d->entries);
        cr_assert_eq(vd_baseline_derive(d, strdup(tpath), &err), 0, "%s", err.msg);
        cr_assert_eq(vd_baseline_write(d, dpath, &err), 0, "%s", err.msg);
        vd_baseline_free(d);

        char plain[65], before[65], after[65];
        vd_baseline_effective_digest(t, plain);
        cr_assert_str_eq(plain, t->content_digest, "a plain baseline's is its own");
        cr_assert_eq(vd_baseline_open(dpath, NULL, &d, &err), 0, "%s", err.msg);
        vd_baseline_effective_digest(d, before);
        cr_assert_str_neq(before, d->content_digest);
        vd_baseline_free(d);

        /* rebuilt in place: newer, same key, one more file */
        t->created_ns += 10;
        vd_entries_push(&t->entries, mk("/usr/bin/new", 12, VD_T_REG));
        vd_entries_sort(&t->entries);
        cr_assert_eq(vd_baseline_write(t, tpath, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_baseline_open(dpath, NULL, &d, &err), 0, "%s", err.msg);
        vd_baseline_effective_digest(d, after);
        cr_assert_str_neq(before, after, "the template changed: a kept report keyed on this must not be reused");
        cr_assert(vd_entries_find(&d->entries, "/usr/bin/new", 12), "the derived baseline sees the rebuilt template");
        vd_baseline_free(d);
        vd_baseline_free(t);
        free(tpath);
        free(dpath);
}

/* A fleet worker's kept-report pass loads a baseline once while its file is
 * unchanged; a file written since, or one too fresh to trust its
 * timestamps, is read again. */
Test(baseline, cache_keeps_a_settled_file_only) {
        char *p = write_sample("kept.vdb"), *q = write_sample("other.vdb");
        vd_baseline_cache *c = vd_baseline_cache_new();
        cr_assert_not_null(c);
        vd_err err = VD_ERR_INIT;
        const vd_baseline *b1, *b2;
        bool owned;
        cr_assert_eq(vd_baseline_cache_open(c, p, NULL, &b1, &owned, &err), 0, "%s", err.msg);
        cr_assert(owned, "written just now: its mtime cannot yet tell a later write apart");
        vd_baseline_free((vd_baseline *)b1);

        sleep(3); /* older than the 2 s the cache waits for */
        cr_assert_eq(vd_baseline_cache_open(c, p, NULL, &b1, &owned, &err), 0, "%s", err.msg);
        cr_assert(!owned, "settled: kept");
        cr_assert_eq(vd_baseline_cache_open(c, p, NULL, &b2, &owned, &err), 0, "%s", err.msg);
        cr_assert(!owned);
        cr_assert_eq(b1, b2, "the same file again: not loaded again");

        /* a verify key is part of what was kept: without one it is not the same open */
        cr_assert_lt(vd_baseline_cache_open(c, p, p, &b2, &owned, &err), 0, "a baseline is no key");
        vd_err_clear(&err);
        cr_assert_eq(vd_baseline_cache_open(c, q, NULL, &b2, &owned, &err), 0, "%s", err.msg);
        cr_assert(!owned, "another settled file replaces the kept one");
        cr_assert_neq(b1, b2);

        /* rewritten with one more file: read again, and what it says now */
        vd_baseline *nb = NULL;
        cr_assert_eq(vd_baseline_open(q, NULL, &nb, &err), 0, "%s", err.msg);
        vd_entries_push(&nb->entries, mk("/etc/new", 8, VD_T_REG));
        vd_entries_sort(&nb->entries);
        cr_assert_eq(vd_baseline_write(nb, q, &err), 0, "%s", err.msg);
        vd_baseline_free(nb);
        cr_assert_eq(vd_baseline_cache_open(c, q, NULL, &b1, &owned, &err), 0, "%s", err.msg);
        cr_assert(owned, "written since: loaded again, not kept while fresh");
        cr_assert_not_null(vd_entries_find(&b1->entries, "/etc/new", 8));
        vd_baseline_free((vd_baseline *)b1);
        vd_baseline_cache_free(c);
        free(p);
        free(q);
}

/* Open lazily and read every entry: 0 when they are what the digest says. */
static int lazy_read(const char *p, vd_entries *copy, vd_err *err) {
        vd_baseline *b = NULL;
        int r = vd_baseline_open_lazy(p, NULL, &b, err);
        if (r < 0)
                return r;
        cr_assert_not_null(b->lazy, "a plain baseline stays in its file");
        cr_assert_eq(b->entries.n, 0);
        vd_baseline_iter *it = NULL;
        cr_assert_eq(vd_baseline_iter_new(b, &it, err), 0, "%s", err->msg);
        const vd_entry *e;
        while ((r = vd_baseline_iter_next(it, &e, err)) == 0 && e)
                if (copy)
                        vd_entries_push(copy, vd_entry_dup(e));
        vd_baseline_iter_free(it);
        vd_baseline_free(b);
        return r;
}

static int count_one(void *ctx, const vd_entry *e) {
        (void)e;
        ++*(int *)ctx;
        return 0;
}

/* A streaming scan reads the baseline's rows as it goes: the same entries
 * as a load, looked up and listed by prefix from the file, and every edit
 * a load refuses refused at the rows' end (nothing is believed before). */
Test(baseline, lazy_entries_are_the_loaded_ones_and_checked_at_their_end) {
        char *p = write_sample("lazy.vdb");
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_load(p, &b, &err), 0, "%s", err.msg);
        vd_entries got;
        vd_entries_init(&got);
        cr_assert_eq(lazy_read(p, &got, &err), 0, "%s", err.msg);
        cr_assert_eq(got.n, b->entries.n);
        for (size_t i = 0; i < got.n; i++)
                cr_assert(vd_entry_equal(got.v[i], b->entries.v[i]), "%s", got.v[i]->path);
        vd_entries_release(&got);

        vd_baseline *lb = NULL;
        cr_assert_eq(vd_baseline_open_lazy(p, NULL, &lb, &err), 0, "%s", err.msg);
        cr_assert_str_eq(lb->content_digest, b->content_digest);
        vd_entry *e = NULL;
        cr_assert_eq(vd_baseline_lookup(lb, "/link", 5, &e, &err), 0, "%s", err.msg);
        cr_assert(vd_entry_equal(e, vd_entries_find(&b->entries, "/link", 5)));
        vd_entry_free(e);
        cr_assert_eq(vd_baseline_lookup(lb, "/nope", 5, &e, &err), 1);
        int n = 0, m = 0;
        cr_assert_eq(vd_baseline_each_prefix(lb, "/", 1, count_one, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_baseline_each_prefix(b, "/", 1, count_one, &m, &err), 0);
        cr_assert_eq(n, (int)b->entries.n);
        cr_assert_eq(m, n);
        vd_baseline_free(lb);
        vd_baseline_free(b);

        const struct {
                const char *sql, *msg;
        } edits[] = {
                {"UPDATE entries SET mode=511 WHERE path=CAST('/link' AS BLOB)", "modified"},
                {"DELETE FROM entries WHERE path=CAST('/unread' AS BLOB)", "modified"},
                {"UPDATE blockmap SET blocks=X'010603'", "modified"},
                {"DELETE FROM blockmap", "modified"},
                {"UPDATE blockmap SET blocks=X'0105'", "block record"},
                {"INSERT INTO blockmap VALUES(CAST('/nowhere' AS BLOB), X'010001')", "block record"},
                {"UPDATE entries SET type=99 WHERE path=CAST('/link' AS BLOB)", "malformed"},
        };
        for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
                char *q = write_sample("lazy-edit.vdb");
                cr_assert_eq(sql(q, edits[i].sql), SQLITE_OK);
                err = (vd_err)VD_ERR_INIT;
                cr_assert_eq(lazy_read(q, NULL, &err), VD_E_BASELINE, "%s", edits[i].sql);
                cr_assert(strstr(err.msg, edits[i].msg), "%s: %s", edits[i].sql, err.msg);
                free(q);
        }
        free(p);
}

/* A capture that streams: entries put in path order only, and a writer
 * given up before its end leaves the old file and no temporary. */
Test(baseline, a_writer_takes_path_order_and_leaves_nothing_when_given_up) {
        char *p = write_sample("old.vdb");
        struct stat before;
        cr_assert_eq(stat(p, &before), 0);
        vd_baseline *b = sample();
        vd_baseline_writer *w = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_writer_begin(b, p, &w, &err), 0, "%s", err.msg);
        vd_entry *x = mk("/b", 2, VD_T_REG), *y = mk("/a", 2, VD_T_REG);
        cr_assert_eq(vd_baseline_writer_put(w, x, &err), 0, "%s", err.msg);
        cr_assert_eq(vd_baseline_writer_put(w, y, &err), VD_E_INTERNAL);
        cr_assert(strstr(err.msg, "out of path order"), "%s", err.msg);
        vd_entry_view v = vd_baseline_writer_view(w);
        cr_assert_not_null(v.find(v.ctx, "/b", 2), "what was put is found while writing");
        cr_assert_null(v.find(v.ctx, "/a", 2));
        vd_baseline_writer_free(w);
        struct stat after;
        cr_assert_eq(stat(p, &after), 0);
        cr_assert_eq(after.st_ino, before.st_ino, "the old baseline stays");
        th_run r = th_exec((const char *const[]){"sh", "-c", "ls \"$0\" | grep -c tmp || true", dir, NULL});
        cr_assert_str_eq(r.out, "0\n", "no temporary left: %s", r.out);
        th_run_free(&r);
        vd_entry_free(x);
        vd_entry_free(y);
        vd_baseline_free(b);
        free(p);
}

/* Files' text (schema 7): compressed under the content hash, round trips,
 * is under the digest (a changed byte of it is refused, as an added row
 * is), and streams (lazy open) as it loads. */
Test(baseline, files_text_round_trips_under_the_digest) {
        char *p = th_join(dir, "text.vdb");
        vd_baseline *b = sample();
        const unsigned char h1[16] = {1, 2, 3}, h2[16] = {9, 9};
        const char *t1 = "PermitRootLogin no\nPasswordAuthentication no\n";
        cr_assert_eq(vd_contents_put(&b->contents, h2, 16, "x\n", 2), 0);
        cr_assert_eq(vd_contents_put(&b->contents, h1, 16, t1, strlen(t1)), 0);
        cr_assert_eq(vd_contents_put(&b->contents, h1, 16, "other", 5), 0, "a hash kept once: the first");
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_write(b, p, &err), 0, "%s", err.msg);
        vd_baseline_free(b);
        b = NULL;
        cr_assert_eq(vd_baseline_load(p, &b, &err), 0, "%s", err.msg);
        cr_assert_eq(b->contents.n, 2);
        const vd_content *ct = vd_contents_find(&b->contents, h1, 16);
        cr_assert(ct);
        vd_buf t;
        vd_buf_init(&t, 0);
        cr_assert_eq(vd_content_text(ct, &t), 0);
        cr_assert_str_eq(t.buf, t1);
        vd_buf_release(&t);
        cr_assert_null(vd_contents_find(&b->contents, h1, 15));
        vd_baseline_free(b);
        b = NULL;
        cr_assert_eq(vd_baseline_open_lazy(p, NULL, &b, &err), 0, "%s", err.msg);
        cr_assert_eq(b->contents.n, 2);
        vd_baseline_free(b);
        b = NULL;

        /* a byte of the text changed, a row added: the digest says so */
        char *p2 = th_join(dir, "text2.vdb");
        char cmd[8300];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", p, p2);
        cr_assert_eq(system(cmd), 0);
        cr_assert_eq(sql(p, "UPDATE content SET data = zeroblob(length(data)) WHERE size = 2"), SQLITE_OK);
        cr_assert_eq(vd_baseline_load(p, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "damaged or modified"), "%s", err.msg);
        cr_assert_eq(sql(p2, "INSERT INTO content VALUES(x'07', 1, x'00')"), SQLITE_OK);
        cr_assert_eq(vd_baseline_load(p2, &b, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "damaged or modified"), "%s", err.msg);
        free(p2);
        free(p);
}
