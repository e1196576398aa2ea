#include <criterion/criterion.h>
#include <string.h>

#include "collect/vd_hash.h"
#include "collect/vd_source.h"
#include "model/vd_entry.h"

static vd_entry *mk(const char *path) {
        vd_entry *e = vd_entry_new();
        vd_entry_set_path(e, path, strlen(path));
        return e;
}

Test(entries, sort_is_bytewise_like_sqlite_blobs) {
        vd_entries es;
        vd_entries_init(&es);
        const char *in[] = {"/a/b", "/a.b", "/a", "/", "/\xff", "/a/"};
        for (int i = 0; i < 6; i++)
                vd_entries_push(&es, mk(in[i]));
        vd_entries_sort(&es);
        const char *want[] = {"/", "/a", "/a.b", "/a/", "/a/b", "/\xff"};
        for (int i = 0; i < 6; i++)
                cr_assert_str_eq(es.v[i]->path, want[i]);
        cr_assert_not_null(vd_entries_find(&es, "/a.b", 4));
        cr_assert_null(vd_entries_find(&es, "/zz", 3));
        vd_entries_release(&es);
}

Test(xattrs, encode_decode_round_trip) {
        vd_entry *e = mk("/x"), *d = mk("/x");
        unsigned char big[4000];
        memset(big, 0xab, sizeof big);
        vd_entry_add_xattr(e, "security.selinux", "system_u:object_r:bin_t:s0", 27);
        vd_entry_add_xattr(e, "user.big", big, sizeof big);
        vd_entry_add_xattr(e, "user.empty", "", 0);
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_xattrs_encode(e, &b), 0);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_xattrs_decode(d, b.buf, b.len, &err), 0, "%s", err.msg);
        cr_assert_eq(d->n_xattrs, 3);
        cr_assert_eq(d->xattrs[1].len, 4000);
        cr_assert(memcmp(d->xattrs[1].value, big, 4000) == 0);
        cr_assert_eq(d->xattrs[2].len, 0);
        vd_buf_release(&b);
        vd_entry_free(e);
        vd_entry_free(d);
}

Test(xattrs, decoder_rejects_hostile_blobs) {
        vd_err err = VD_ERR_INIT;
        /* count says 5, nothing follows */
        const unsigned char a[] = {5, 0, 0, 0};
        vd_entry *e = mk("/x");
        cr_assert_eq(vd_xattrs_decode(e, a, sizeof a, &err), VD_E_BASELINE);
        /* name length far beyond the blob */
        const unsigned char b[] = {1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 'a'};
        cr_assert_eq(vd_xattrs_decode(e, b, sizeof b, &err), VD_E_BASELINE);
        /* value length beyond the 64 KiB limit */
        const unsigned char c[] = {1, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 2, 0};
        cr_assert_eq(vd_xattrs_decode(e, c, sizeof c, &err), VD_E_BASELINE);
        /* a NUL inside the name */
        const unsigned char d[] = {1, 0, 0, 0, 2, 0, 0, 0, 'a', 0, 0, 0, 0, 0};
        cr_assert_eq(vd_xattrs_decode(e, d, sizeof d, &err), VD_E_BASELINE);
        /* trailing garbage */
        const unsigned char f[] = {0, 0, 0, 0, 1};
        cr_assert_eq(vd_xattrs_decode(e, f, sizeof f, &err), VD_E_BASELINE);
        cr_assert(strstr(err.msg, "trailing"), "%s", err.msg);
        vd_entry_free(e);
}

Test(xattrs, per_entry_limits) {
        vd_entry *e = mk("/x");
        static unsigned char v[VD_XATTR_VALUE_MAX + 1];
        cr_assert_eq(vd_entry_add_xattr(e, "user.a", v, VD_XATTR_VALUE_MAX + 1), VD_E_LIMIT);
        cr_assert_eq(vd_entry_add_xattr(e, "user.a", v, VD_XATTR_VALUE_MAX), 0);
        vd_entry_free(e);
}

Test(idmap, first_name_for_an_id_wins_and_junk_is_skipped) {
        const char txt[] = "root:x:0:0:root:/root:/bin/sh\n"
                           "toor:x:0:0::/:/bin/sh\n"
                           "+nis\n"
                           "broken line\n"
                           "big:x:99999999999:0::/:\n"
                           "neg:x:-1:0::/:\n"
                           "alice:x:1000:1000::/home/alice:/bin/sh\n"
                           "evil\nname:x:1001:1001::/:\n"
                           "last:x:4294967295:0::/:";
        vd_idmap *m;
        cr_assert_eq(vd_idmap_parse(txt, sizeof txt - 1, &m), 0);
        cr_assert_str_eq(vd_idmap_get(m, 0), "root");
        cr_assert_str_eq(vd_idmap_get(m, 1000), "alice");
        cr_assert_str_eq(vd_idmap_get(m, 4294967295u), "last");
        cr_assert_str_eq(vd_idmap_get(m, 1001), "name", "after a newline starts a new record, as for getpwuid");
        cr_assert_null(vd_idmap_get(m, 5));
        vd_idmap_free(m);
}

Test(hash, xxh3_is_keyed_and_sha256_is_standard) {
        unsigned char k1[VD_HASH_SEED_LEN] = {1}, k2[VD_HASH_SEED_LEN] = {2}, o1[32], o2[32], o3[32];
        vd_hasher *a = vd_hasher_new(VD_HASH_XXH3, k1), *b = vd_hasher_new(VD_HASH_XXH3, k2);
        vd_hasher_update(a, "abc", 3);
        vd_hasher_update(b, "abc", 3);
        cr_assert_eq(vd_hasher_final(a, o1), 16);
        cr_assert_eq(vd_hasher_final(b, o2), 16);
        cr_assert(memcmp(o1, o2, 16) != 0, "different keys give different hashes");
        vd_hasher_reset(a);
        vd_hasher_update(a, "ab", 2);
        vd_hasher_update(a, "c", 1);
        vd_hasher_final(a, o3);
        cr_assert(memcmp(o1, o3, 16) == 0, "streaming equals one shot");
        vd_hasher *s = vd_hasher_new(VD_HASH_SHA256, NULL);
        vd_hasher_update(s, "abc", 3);
        cr_assert_eq(vd_hasher_final(s, o1), 32);
        const unsigned char want[4] = {0xba, 0x78, 0x16, 0xbf};
        cr_assert(memcmp(o1, want, 4) == 0);
        cr_assert_null(vd_hasher_new(VD_HASH_XXH3, NULL), "XXH3 needs a key");
        vd_hasher_free(a);
        vd_hasher_free(b);
        vd_hasher_free(s);
}
