#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "baseline/vd_baseline.h"
#include "baseline/vd_sign.h"

static char *dir;
static void setup(void) { dir = th_mkdtemp(); }
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(sign, .init = setup, .fini = teardown);

static void keygen(const char *name) {
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_key_generate(th_path(dir, name), &err), 0, "%s", err.msg);
}

/* A signed baseline with one entry, written to dir/name. */
static void write_signed(const char *name, const char *key) {
        vd_baseline *b;
        cr_assert_eq(vd_baseline_new(&b, NULL), 0);
        b->source_kind = strdup("dir");
        b->source = strdup("/t");
        vd_entry *e = vd_entry_new();
        vd_entry_set_path(e, "/", 1);
        e->type = VD_T_DIR;
        vd_entries_push(&b->entries, e);
        char *kp = key ? th_join(dir, key) : NULL;
        b->sign_key = kp;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_write(b, th_path(dir, name), &err), 0, "%s", err.msg);
        vd_baseline_free(b);
        free(kp);
}

static int load_verify(const char *name, const char *pub, vd_err *err) {
        vd_baseline *b = NULL;
        int r = vd_baseline_load(th_path(dir, name), &b, err);
        if (r == 0)
                r = vd_baseline_verify(b, name, th_path(dir, pub), err);
        vd_baseline_free(b);
        return r;
}

Test(sign, generated_keys_are_private_and_never_overwritten) {
        keygen("k");
        struct stat st;
        cr_assert_eq(stat(th_path(dir, "k"), &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600);
        cr_assert_eq(stat(th_path(dir, "k.pub"), &st), 0);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_key_generate(th_path(dir, "k"), &err), VD_E_USAGE);
        cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
}

Test(sign, a_signed_baseline_verifies_with_its_key_only) {
        keygen("k");
        keygen("other");
        write_signed("b.vdb", "k");
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(load_verify("b.vdb", "k.pub", &err), 0, "%s", err.msg);
        cr_assert_eq(load_verify("b.vdb", "other.pub", &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "does not verify"), "%s", err.msg);
}

Test(sign, a_stripped_signature_is_refused_when_a_key_is_given) {
        keygen("k");
        write_signed("b.vdb", "k");
        sqlite3 *db;
        sqlite3_open(th_path(dir, "b.vdb"), &db);
        cr_assert_eq(sqlite3_exec(db, "DELETE FROM meta WHERE key IN ('signature','signer')", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(load_verify("b.vdb", "k.pub", &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "not signed") && strstr(err.msg, "tampering"), "%s", err.msg);
}

Test(sign, a_forged_signature_is_refused) {
        keygen("k");
        write_signed("b.vdb", "k");
        sqlite3 *db;
        sqlite3_open(th_path(dir, "b.vdb"), &db);
        char sql[300];
        snprintf(sql, sizeof sql, "UPDATE meta SET value='%0128d' WHERE key='signature'", 7);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(load_verify("b.vdb", "k.pub", &err), VD_E_BASELINE);
}

Test(sign, a_loose_private_key_or_a_foreign_key_type_is_an_input_error) {
        keygen("k");
        chmod(th_path(dir, "k"), 0644);
        vd_baseline *b;
        vd_baseline_new(&b, NULL);
        char *kp = th_join(dir, "k");
        b->sign_key = kp;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_baseline_write(b, th_path(dir, "x.vdb"), &err), VD_E_INPUT);
        cr_assert(strstr(err.msg, "readable by others"), "%s", err.msg);
        cr_assert_neq(access(th_path(dir, "x.vdb"), F_OK), 0, "nothing is written");
        th_run r = th_exec((const char *const[]){"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                                 "rsa_keygen_bits:1024", "-out", th_path(dir, "rsa"), NULL});
        th_run_free(&r);
        chmod(th_path(dir, "rsa"), 0600);
        free(kp);
        kp = th_join(dir, "rsa");
        b->sign_key = kp;
        cr_assert_eq(vd_baseline_write(b, th_path(dir, "x.vdb"), &err), VD_E_INPUT);
        cr_assert(strstr(err.msg, "not an Ed25519 key"), "%s", err.msg);
        vd_baseline_free(b);
        free(kp);
}

Test(sign, an_edited_row_of_a_signed_baseline_is_refused_at_load) {
        keygen("k");
        write_signed("b.vdb", "k");
        sqlite3 *db;
        sqlite3_open(th_path(dir, "b.vdb"), &db);
        cr_assert_eq(sqlite3_exec(db, "UPDATE entries SET mode=511", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(load_verify("b.vdb", "k.pub", &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "modified"), "%s", err.msg);
}
