#include "common/vd_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vd_err_set(vd_err *err, int code, const char *fmt, ...) {
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->errnum = 0;
        return code;
}

int vd_err_errno(vd_err *err, int code, int errnum, const char *fmt, ...) {
        if (!err)
                return code;
        char head[VD_ERR_MSG_MAX / 2];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(head, sizeof head, fmt, ap);
        va_end(ap);
        snprintf(err->msg, sizeof err->msg, "%s: %s", head, strerror(errnum));
        err->code = code;
        err->errnum = errnum;
        return code;
}

int vd_err_prefix(vd_err *err, const char *fmt, ...) {
        if (!err)
                return VD_E_INTERNAL;
        char head[VD_ERR_MSG_MAX / 2];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(head, sizeof head, fmt, ap);
        va_end(ap);
        size_t hl = strlen(head) + 2, ol = strnlen(err->msg, sizeof err->msg - 1);
        if (ol > sizeof err->msg - 1 - hl)
                ol = sizeof err->msg - 1 - hl; /* keep the head; cut the old tail */
        memmove(err->msg + hl, err->msg, ol);
        memcpy(err->msg, head, hl - 2);
        memcpy(err->msg + hl - 2, ": ", 2);
        err->msg[hl + ol] = '\0';
        return err->code;
}

void vd_err_clear(vd_err *err) {
        if (err) {
                err->code = 0;
                err->msg[0] = '\0';
                err->errnum = 0;
        }
}

const char *vd_code_name(int code) {
        switch (code) {
        case VD_OK: return "ok";
        case VD_E_NOMEM: return "nomem";
        case VD_E_USAGE: return "usage";
        case VD_E_INPUT: return "input";
        case VD_E_IO: return "io";
        case VD_E_BASELINE: return "baseline";
        case VD_E_SOURCE: return "source";
        case VD_E_LIMIT: return "limit";
        default: return "internal";
        }
}

int vd_code_exit(int code) {
        switch (code) {
        case VD_OK: return 0;
        case VD_E_USAGE:
        case VD_E_INPUT: return 2;
        default: return 3;
        }
}
