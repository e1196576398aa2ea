#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vd_str.h"

bool cli_parse_uint(const char *s, unsigned *ret) {
        uint64_t v;
        if (!vd_parse_u64(s, &v) || v > 1000000)
                return false;
        *ret = (unsigned)v;
        return true;
}

int cli_open_source(const cli_source_opts *o, const char *cmd, vd_source **ret, vd_err *err) {
        (void)cmd;
        if (!o->dir)
                return vd_err_set(err, VD_E_USAGE, "vmdrift %s: no source given: use --dir PATH", cmd);
        return vd_source_open_dir(o->dir, ret, err);
}

void cli_print_warnings(const vd_scan *s) {
        vd_buf b;
        vd_buf_init(&b, 0);
        for (size_t i = 0; i < s->n_warnings; i++) {
                vd_buf_reset(&b);
                vd_buf_adds(&b, "vmdrift: warning: ");
                if (s->warnings[i].path) {
                        vd_escape_display(&b, s->warnings[i].path, s->warnings[i].path_len);
                        vd_buf_adds(&b, ": ");
                }
                vd_buf_addf(&b, "%s\n", s->warnings[i].msg);
                fputs(b.buf, stderr);
        }
        vd_buf_release(&b);
}
