/* The configuration parsers on a guest's files. The first byte picks the
 * format; includes feed the same bytes back, to exercise nesting limits. */
#include <stddef.h>
#include <stdint.h>

#include "formats/vd_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
        const char *p;
        size_t n;
} fz;

static int inc(void *ctx, const char *pattern, vd_conf_each_fn each, void *ctx2, vd_err *err) {
        fz *f = ctx;
        (void)pattern;
        (void)err;
        return each("/etc/included", f->p, f->n, ctx2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        int fmt = 1 + data[0] % 9;
        fz f = {(const char *)data + 1, size - 1};
        vd_settings s;
        vd_settings_init(&s);
        vd_err e = VD_ERR_INIT;
        (void)vd_conf_parse(fmt, "/etc/fuzz", f.p, f.n, inc, &f, &s, &e);
        vd_settings_sort(&s);
        for (size_t i = 0; i < s.n; i++)
                (void)vd_settings_find(&s, s.v[i].key);
        vd_settings_release(&s);
        return 0;
}
