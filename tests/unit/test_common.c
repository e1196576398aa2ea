#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "common/vd_str.h"

static char *esc_display(const char *p, size_t n) {
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_escape_display(&b, p, n), 0);
        return vd_buf_detach(&b, NULL);
}

static char *esc_json(const char *p, size_t n) {
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_escape_json(&b, p, n), 0);
        return vd_buf_detach(&b, NULL);
}

Test(buf, grows_and_stays_nul_terminated) {
        vd_buf b;
        vd_buf_init(&b, 0);
        for (int i = 0; i < 1000; i++)
                cr_assert_eq(vd_buf_addf(&b, "%d,", i), 0);
        cr_assert_eq(strlen(b.buf), b.len);
        cr_assert(strncmp(b.buf, "0,1,2,", 6) == 0);
        vd_buf_release(&b);
}

Test(buf, refuses_to_grow_past_its_cap) {
        vd_buf b;
        vd_buf_init(&b, 10);
        cr_assert_eq(vd_buf_adds(&b, "0123456789"), 0);
        cr_assert_eq(vd_buf_addc(&b, 'x'), VD_E_LIMIT);
        cr_assert_eq(b.len, 10);
        cr_assert_eq(vd_buf_addf(&b, "%s", "y"), VD_E_LIMIT);
        vd_buf_release(&b);
}

Test(buf, detach_of_empty_buffer_is_an_empty_string) {
        vd_buf b;
        vd_buf_init(&b, 0);
        size_t n = 99;
        char *s = vd_buf_detach(&b, &n);
        cr_assert_str_eq(s, "");
        cr_assert_eq(n, 0);
        free(s);
}

Test(utf8, accepts_valid_and_rejects_invalid) {
        cr_assert(vd_utf8_valid("plain", 5));
        cr_assert(vd_utf8_valid("caf\xc3\xa9", 5));
        cr_assert(vd_utf8_valid("\xf0\x9f\x98\x80", 4));
        cr_assert_not(vd_utf8_valid("\xff", 1));
        cr_assert_not(vd_utf8_valid("\xc3", 1), "truncated sequence");
        cr_assert_not(vd_utf8_valid("\xc0\xaf", 2), "overlong '/'");
        cr_assert_not(vd_utf8_valid("\xed\xa0\x80", 3), "surrogate");
        cr_assert_not(vd_utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
}

Test(escape, display_is_unambiguous_for_hostile_names) {
        char *s = esc_display("a\nb\\c\x01\xff\x1b[31m", 12);
        cr_assert_str_eq(s, "a\\nb\\\\c\\x01\\xff\\x1b[31m");
        free(s);
        s = esc_display("caf\xc3\xa9", 5);
        cr_assert_str_eq(s, "caf\xc3\xa9", "valid UTF-8 stays readable");
        free(s);
        s = esc_display("\xc2\x9b", 2);
        cr_assert_str_eq(s, "\\xc2\\x9b", "C1 control (CSI) is escaped");
        free(s);
}

/* A Windows guest's path on its drive: '/' is Windows' separator, and what a
 * Windows name cannot hold is %XX, so a name cannot pose as two. */
Test(escape, windows_paths_show_the_drive_and_stay_unambiguous) {
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_escape_display_winpath(&b, 'C', "/Windows/System32/drivers/etc/hosts", 35), 0);
        cr_assert_str_eq(b.buf, "C:\\Windows\\System32\\drivers\\etc\\hosts");
        b.len = 0;
        /* "a\\nb" (a backslash in an ntfs-3g name), "a<LF>b" and "a/nb" differ */
        static const char names[] = "/a\\nb|/a\nb|/a%5C|/caf\xc3\xa9|/\xff\xe2\x80\xae";
        cr_assert_eq(vd_escape_display_winpath(&b, 'C', names, sizeof names - 1), 0);
        cr_assert_str_eq(b.buf, "C:\\a%5Cnb|\\a%0Ab|\\a%255C|\\caf\xc3\xa9|\\%FF%E2%80%AE");
        vd_buf_release(&b);
}

Test(escape, json_escapes_quotes_controls_and_replaces_invalid_bytes) {
        char *s = esc_json("\"q\"\\\n\t\x01\xff", 8);
        cr_assert_str_eq(s, "\\\"q\\\"\\\\\\n\\t\\u0001\\ufffd");
        free(s);
}

Test(encode, base64_and_hex) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_base64(&b, "foobar", 6);
        cr_assert_str_eq(b.buf, "Zm9vYmFy");
        vd_buf_reset(&b);
        vd_base64(&b, "fo", 2);
        cr_assert_str_eq(b.buf, "Zm8=");
        vd_buf_reset(&b);
        vd_hex(&b, "\x00\xff", 2);
        cr_assert_str_eq(b.buf, "00ff");
        vd_buf_release(&b);
}

Test(time, rfc3339_utc_with_nanoseconds) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_time_rfc3339(&b, 1795413839123456789LL);
        cr_assert_str_eq(b.buf, "2026-11-23T06:03:59.123456789Z");
        vd_buf_reset(&b);
        vd_time_rfc3339(&b, -1);
        cr_assert_str_eq(b.buf, "1969-12-31T23:59:59.999999999Z", "pre-epoch times are exact too");
        vd_buf_release(&b);
}

Test(err, set_prefix_and_exit_codes) {
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_err_set(&e, VD_E_IO, "cannot read '%s'", "x"), VD_E_IO);
        vd_err_prefix(&e, "capture");
        cr_assert_str_eq(e.msg, "capture: cannot read 'x'");
        cr_assert_eq(vd_code_exit(VD_E_USAGE), 2);
        cr_assert_eq(vd_code_exit(VD_E_INPUT), 2);
        cr_assert_eq(vd_code_exit(VD_E_BASELINE), 3);
        cr_assert_eq(vd_code_exit(VD_E_SOURCE), 3);
        cr_assert_eq(vd_err_set(NULL, VD_E_IO, "ignored"), VD_E_IO, "a NULL err is allowed");
}

Test(parse, u64_rejects_junk_and_overflow) {
        uint64_t v;
        cr_assert(vd_parse_u64("18446744073709551615", &v));
        cr_assert_eq(v, UINT64_MAX);
        cr_assert_not(vd_parse_u64("18446744073709551616", &v));
        cr_assert_not(vd_parse_u64("12a", &v));
        cr_assert_not(vd_parse_u64("", &v));
        cr_assert_not(vd_parse_u64("-1", &v));
}

Test(encode, hex_round_trip_and_strict_parsing) {
        unsigned char in[3] = {0x00, 0xab, 0xff}, out[3];
        char hex[7];
        vd_hex_to(hex, in, 3);
        cr_assert_str_eq(hex, "00abff");
        cr_assert(vd_unhex("00ABff", out, 3));
        cr_assert(memcmp(in, out, 3) == 0);
        cr_assert_not(vd_unhex("00abf", out, 3), "too short");
        cr_assert_not(vd_unhex("00abff0", out, 3), "too long");
        cr_assert_not(vd_unhex(" fabff", out, 3), "sscanf would accept a space");
        cr_assert_not(vd_unhex("+fabff", out, 3), "sscanf would accept a sign");
}

Test(escape, invisible_characters_that_reorder_or_hide_text_are_shown_not_obeyed) {
        /* U+202E right-to-left override, U+2028 line separator, U+200B zero width space */
        char *s = esc_display("/tmp/\xe2\x80\xaegnp.exe", 15);
        cr_assert_str_eq(s, "/tmp/\\xe2\\x80\\xaegnp.exe");
        free(s);
        s = esc_display("a\xe2\x80\xa8" "b\xe2\x80\x8b" "c", 9);
        cr_assert_str_eq(s, "a\\xe2\\x80\\xa8b\\xe2\\x80\\x8bc");
        free(s);
        s = esc_json("\xe2\x80\xae" "x\xf3\xa0\x80\x81", 8);
        cr_assert_str_eq(s, "\\u202ex\\udb40\\udc01", "JSON keeps the code points, escaped");
        free(s);
        s = esc_display("\xe2\x82\xac \xe4\xb8\xad", 7);
        cr_assert_str_eq(s, "\xe2\x82\xac \xe4\xb8\xad", "ordinary non-ASCII text stays readable");
        free(s);
        cr_assert(vd_text_clean("caf\xc3\xa9 \xe4\xb8\xad", 9));
        cr_assert_not(vd_text_clean("\xc2\x9b", 2), "C1");
        cr_assert_not(vd_text_clean("\xe2\x80\xae", 3), "bidi override");
        cr_assert_not(vd_text_clean("\xe2\x81\xa6", 3), "bidi isolate");
        cr_assert_not(vd_text_clean("\xef\xbb\xbf", 3), "BOM / zero width no-break space");
        cr_assert_not(vd_text_clean("a\nb", 3), "C0");
        cr_assert_not(vd_text_clean("\xff", 1), "invalid UTF-8");
}

/* ---- vd_json: strict and bounded ---- */
#include "common/vd_json.h"

Test(json, values_members_and_escapes_are_read_exactly) {
        const char *t = "\xef\xbb\xbf {\"id\": \"DSA-1\", \"n\": -12, \"f\": 1.5e3, \"ok\": true, \"no\": false,"
                        " \"z\": null, \"a\": [1, \"x\\u00e9\\ud83d\\ude00\\n\", {}], \"id\": \"second\"}";
        vd_json_doc d;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_json_parse(t, strlen(t), "t.json", NULL, &d, &e), 0, "%s", e.msg);
        cr_assert_eq(d.root->type, VD_JSON_OBJECT);
        cr_assert_eq(d.root->n, 8);
        cr_assert_str_eq(vd_json_get_str(d.root, "id"), "DSA-1"); /* the first of a duplicate */
        int64_t n = 0;
        cr_assert(vd_json_int(vd_json_get(d.root, "n"), &n));
        cr_assert_eq(n, -12);
        cr_assert_not(vd_json_int(vd_json_get(d.root, "f"), &n));
        cr_assert_str_eq(vd_json_get(d.root, "f")->s, "1.5e3");
        cr_assert(vd_json_get(d.root, "ok")->b);
        cr_assert_not(vd_json_get(d.root, "no")->b);
        cr_assert_eq(vd_json_get(d.root, "z")->type, VD_JSON_NULL);
        const vd_json *a = vd_json_get_array(d.root, "a");
        cr_assert_not_null(a);
        cr_assert_eq(a->n, 3);
        cr_assert_str_eq(vd_json_str(a->child->next), "x\xc3\xa9\xf0\x9f\x98\x80\n");
        cr_assert_eq(a->child->next->n, 8);
        cr_assert_eq(a->child->next->next->type, VD_JSON_OBJECT);
        cr_assert_null(vd_json_get(d.root, "missing"));
        cr_assert_null(vd_json_get_str(d.root, "n"));
        vd_json_doc_release(&d);
}

Test(json, malformed_text_is_refused_with_line_and_column) {
        const struct {
                const char *text, *msg;
        } bad[] = {
                {"", "t.json:1:1: expected a value, found the end"},
                {"{\"a\": 1,\n  \"b\" 2}", "t.json:2:7: expected ':' after a member name"},
                {"{\"a\": 1 \"b\": 2}", "t.json:1:9: expected ',' or '}' in an object"},
                {"[1, 2", "t.json:1:6: expected ',' or ']' in an array"},
                {"[01]", "t.json:1:3: expected ',' or ']' in an array"},
                {"[1.]", "t.json:1:4: expected a digit after '.'"},
                {"[tru]", "t.json:1:2: expected a value"},
                {"\"a\\u0000b\"", "t.json:1:3: \\u0000 in a string (not accepted)"},
                {"\"\\ud800x\"", "high surrogate without its low half"},
                {"\"\\udc00\"", "lone low surrogate"},
                {"\"a\tb\"", "control character in a string"},
                {"\"\xff\"", "not UTF-8"},
                {"\"abc", "without its closing quote"},
                {"{} {}", "t.json:1:4: text after the end of the JSON value"},
                {"{1: 2}", "expected a member name (a string) in an object"},
                {"\"\\q\"", "unknown escape"},
        };
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
                vd_json_doc d;
                vd_err e = VD_ERR_INIT;
                cr_assert_eq(vd_json_parse(bad[k].text, strlen(bad[k].text), "t.json", NULL, &d, &e), VD_E_SOURCE,
                             "accepted: %s", bad[k].text);
                cr_assert(strstr(e.msg, bad[k].msg), "%s: got '%s', want '%s'", bad[k].text, e.msg, bad[k].msg);
                cr_assert_null(d.root);
        }
}

Test(json, limits_bound_depth_nodes_strings_and_size) {
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        vd_json_doc d;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_json_parse(deep, 200, "d", NULL, &d, &e), VD_E_LIMIT);
        cr_assert(strstr(e.msg, "nested deeper"), "%s", e.msg);
        vd_json_limits lim = {0, 100, 0, 0};
        cr_assert_eq(vd_json_parse(deep, 200, "d", &lim, &d, &e), 0, "%s", e.msg);
        vd_json_doc_release(&d);
        const char *many = "[0,0,0,0,0,0,0,0,0,0]";
        vd_json_limits few = {0, 0, 10, 0};
        cr_assert_eq(vd_json_parse(many, strlen(many), "m", &few, &d, &e), VD_E_LIMIT);
        few.max_nodes = 11;
        cr_assert_eq(vd_json_parse(many, strlen(many), "m", &few, &d, &e), 0, "%s", e.msg);
        vd_json_doc_release(&d);
        vd_json_limits shortstr = {0, 0, 0, 3};
        cr_assert_eq(vd_json_parse("\"abcd\"", 6, "s", &shortstr, &d, &e), VD_E_LIMIT);
        cr_assert_eq(vd_json_parse("\"abc\"", 5, "s", &shortstr, &d, &e), 0);
        vd_json_doc_release(&d);
        vd_json_limits small = {4, 0, 0, 0};
        cr_assert_eq(vd_json_parse("12345", 5, "s", &small, &d, &e), VD_E_LIMIT);
        cr_assert(strstr(e.msg, "s: 5 bytes, more than the limit of 4"), "%s", e.msg);
}

Test(json, parse_again_reuses_memory_across_documents_and_failures) {
        vd_json_doc d = {0};
        vd_err e = VD_ERR_INIT;
        char big[20000];
        memset(big, 'a', sizeof big);
        big[0] = '"';
        big[sizeof big - 1] = '"';
        cr_assert_eq(vd_json_parse_again(big, sizeof big, "b", NULL, &d, &e), 0, "%s", e.msg);
        cr_assert_eq(d.root->n, sizeof big - 2);
        cr_assert_eq(vd_json_parse_again("[1,", 3, "bad", NULL, &d, &e), VD_E_SOURCE);
        cr_assert_null(d.root);
        cr_assert(strstr(e.msg, "bad:1:4:"), "%s", e.msg);
        cr_assert_eq(vd_json_parse_again("{\"k\":\"v\"}", 9, "ok", NULL, &d, &e), 0, "%s", e.msg);
        cr_assert_str_eq(vd_json_get_str(d.root, "k"), "v");
        vd_json_doc_release(&d);
        vd_json_doc_release(&d); /* twice is harmless */
}

/* ---- every invisible code point is escaped, walked from the Unicode data
 * files themselves (read here, not through the generated table) ---- */

#include <stdio.h>
#include <stdlib.h>

static size_t utf8_enc(uint32_t cp, char *o) {
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* cp, between two visible letters, comes out escaped in text and JSON, and
 * vd_text_clean refuses it */
static void assert_escaped(uint32_t cp, const char *why) {
        char in[8] = "a", enc[4];
        size_t n = utf8_enc(cp, enc);
        memcpy(in + 1, enc, n);
        in[1 + n] = 'b';
        char *d = esc_display(in, n + 2), *j = esc_json(in, n + 2);
        cr_assert_null(memmem(d, strlen(d), enc, n), "U+%04X (%s) printed raw in text: %s", cp, why, d);
        cr_assert_null(memmem(j, strlen(j), enc, n), "U+%04X (%s) printed raw in JSON: %s", cp, why, j);
        cr_assert_not(vd_text_clean(in, n + 2), "U+%04X (%s) passed as clean text", cp, why);
        free(d);
        free(j);
}

/* every code point of lines "A..B ; PROP" or "A ; PROP" of a UCD file */
static size_t walk_property(const char *file, const char *prop) {
        FILE *f = fopen(file, "r");
        cr_assert(f, "%s: install Debian's unicode-data", file);
        char line[512];
        size_t n = 0;
        while (fgets(line, sizeof line, f)) {
                unsigned a, b;
                char p[128];
                int k = sscanf(line, "%x..%x ; %127[A-Za-z_]", &a, &b, p);
                if (k != 3 && sscanf(line, "%x ; %127[A-Za-z_]", &a, p) == 2)
                        b = a, k = 3;
                if (k != 3 || strcmp(p, prop) != 0)
                        continue;
                for (uint32_t cp = a; cp <= b; cp++, n++)
                        if (cp >= 0x80)
                                assert_escaped(cp, prop);
        }
        fclose(f);
        return n;
}

Test(escape, every_default_ignorable_and_invisible_code_point_is_escaped) {
        size_t n = walk_property(VD_UCD_DIR "/DerivedCoreProperties.txt", "Default_Ignorable_Code_Point");
        cr_assert_gt(n, 4000, "the whole Default_Ignorable_Code_Point set: %zu", n);
        cr_assert_gt(walk_property(VD_UCD_DIR "/PropList.txt", "White_Space"), 20);
        /* format, separator and control characters by general category */
        FILE *f = fopen(VD_UCD_DIR "/UnicodeData.txt", "r");
        cr_assert(f);
        char line[512];
        size_t cats = 0;
        while (fgets(line, sizeof line, f)) {
                unsigned cp;
                char cat[8];
                if (sscanf(line, "%x;%*[^;];%7[^;]", &cp, cat) != 2 || cp < 0x80)
                        continue;
                if (!strcmp(cat, "Cf") || !strcmp(cat, "Zl") || !strcmp(cat, "Zp") || !strcmp(cat, "Zs") ||
                    !strcmp(cat, "Cc")) {
                        assert_escaped(cp, cat);
                        cats++;
                }
        }
        fclose(f);
        cr_assert_gt(cats, 150);
        /* the ones a text report used to print raw */
        const uint32_t seen[] = {0x34f, 0x115f, 0x3164, 0x17b4, 0xfe0f, 0xffa0, 0xe0100};
        for (size_t i = 0; i < sizeof seen / sizeof *seen; i++)
                assert_escaped(seen[i], "reported");
        /* and visible text stays as it is */
        const char *vis = "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d";
        char *d = esc_display(vis, strlen(vis));
        cr_assert_str_eq(d, vis);
        free(d);
}

/* ---- vd_io: the one way files are read ---- */
#include <fcntl.h>
#include <unistd.h>

#include "common/vd_io.h"

static int pipe_with(const char *text, size_t n) {
        int p[2];
        cr_assert_eq(pipe(p), 0);
        cr_assert_eq(write(p[1], text, n), (ssize_t)n);
        close(p[1]);
        return p[0];
}

Test(io, a_whole_file_within_its_bound_and_the_first_max_bytes_past_it) {
        vd_buf b;
        vd_buf_init(&b, 0);
        int fd = pipe_with("hello world", 11);
        cr_assert_eq(vd_read_fd(fd, 11, &b, NULL), 0);
        cr_assert_eq(b.len, 11);
        close(fd);
        b.len = 0;
        fd = pipe_with("hello world", 11);
        cr_assert_eq(vd_read_fd(fd, 5, &b, NULL), VD_E_LIMIT);
        cr_assert_eq(b.len, 5);
        cr_assert_eq(memcmp(b.buf, "hello", 5), 0);
        close(fd);
        vd_buf_release(&b);
}

Test(io, a_path_names_itself_in_each_error) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_err err = VD_ERR_INIT;
        bool absent = false;
        cr_assert_eq(vd_read_path("/nonexistent/x", 0, 10, VD_E_INPUT, "the policy '/nonexistent/x'", &b, &absent,
                                  &err),
                     VD_E_INPUT);
        cr_assert(absent);
        cr_assert(strstr(err.msg, "cannot open the policy '/nonexistent/x'"), "%s", err.msg);
        cr_assert_eq(vd_read_path("/etc/passwd", 0, 4, VD_E_IO, "'/etc/passwd'", &b, NULL, &err), VD_E_LIMIT);
        cr_assert(strstr(err.msg, "'/etc/passwd' is larger than 4 bytes"), "%s", err.msg);
        vd_buf_release(&b);
}

Test(io, an_exact_read_past_the_end_fails) {
        char path[] = "/tmp/vd-io-XXXXXX", buf[8];
        int fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, "abcdef", 6), 6);
        cr_assert_eq(vd_pread_exact(fd, buf, 4, 2), 0);
        cr_assert_eq(memcmp(buf, "cdef", 4), 0);
        cr_assert_eq(vd_pread_exact(fd, buf, 4, 3), -1);
        close(fd);
        unlink(path);
}

/* ---- vd_rd: the one bounded binary reader ---- */
Test(rd, reads_what_the_writer_wrote_and_stays_failed_past_the_end) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_buf_add_u32(&b, 0xdeadbeef);
        vd_buf_add_u64(&b, 0x0102030405060708ULL);
        vd_buf_add(&b, "xy", 2);
        vd_rd r;
        vd_rd_init(&r, b.buf, b.len);
        uint32_t a;
        uint64_t c;
        cr_assert(vd_rd_u32(&r, &a));
        cr_assert_eq(a, 0xdeadbeef);
        cr_assert(vd_rd_u64(&r, &c));
        cr_assert_eq(c, 0x0102030405060708ULL);
        cr_assert_eq(vd_rd_left(&r), 2);
        cr_assert_not(vd_rd_u32(&r, &a), "two bytes left: no u32");
        cr_assert_eq(a, 0);
        cr_assert(r.bad);
        cr_assert_null(vd_rd_take(&r, 1), "once failed, every read fails");
        cr_assert_eq(vd_rd_left(&r), 0);
        vd_buf_release(&b);
}
