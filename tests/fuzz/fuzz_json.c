/* The JSON reader that takes OSV records and qemu-img's answers: whatever
 * the bytes, it returns a tree whose strings are NUL-free UTF-8 of the
 * stated length, or an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_json.h"
#include "common/vd_str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const vd_json *v, unsigned depth) {
        if (depth > 64)
                abort();
        if (v->type == VD_JSON_STRING && (strlen(v->s) != v->n || !vd_utf8_valid(v->s, v->n)))
                abort();
        uint32_t n = 0;
        for (const vd_json *c = v->child; c; c = c->next) {
                if ((v->type == VD_JSON_OBJECT) != (c->key != NULL))
                        abort();
                check(c, depth + 1);
                n++;
        }
        if ((v->type == VD_JSON_ARRAY || v->type == VD_JSON_OBJECT) && n != v->n)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_json_doc d;
        vd_err e = VD_ERR_INIT;
        if (vd_json_parse((const char *)data, size, "fuzz", NULL, &d, &e) == 0) {
                check(d.root, 1);
                vd_json_doc_release(&d);
        }
        return 0;
}
