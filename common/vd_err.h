/* vd_err: the one error type of vmdrift.
 *
 * A failing library call fills a caller-owned vd_err with a code and a
 * message written where the failure is understood, then returns the (negative)
 * code. Library code never prints and never exits; cli/ reports once.
 */
#ifndef VD_ERR_H
#define VD_ERR_H

#include <stddef.h>

enum vd_code {
        VD_OK = 0,
        VD_E_NOMEM = -1,     /* allocation failed */
        VD_E_USAGE = -2,     /* bad arguments: exit 2 */
        VD_E_INPUT = -3,     /* bad input file a person wrote (policy): exit 2 */
        VD_E_IO = -4,        /* reading or writing failed: exit 3 */
        VD_E_BASELINE = -5,  /* baseline missing, corrupt, foreign or too new: exit 3 */
        VD_E_SOURCE = -6,    /* the scanned source cannot be opened or walked: exit 3 */
        VD_E_LIMIT = -7,     /* a size from outside exceeded its bound: exit 3 */
        VD_E_INTERNAL = -8,  /* a bug: exit 3 */
};

#define VD_ERR_MSG_MAX 1024

typedef struct vd_err {
        int code;
        char msg[VD_ERR_MSG_MAX];
        /* the errno behind it (vd_err_errno), 0 if none: for a caller that
         * must tell "absent" (ENOENT) from "unreadable", never the message */
        int errnum;
} vd_err;

#define VD_ERR_INIT {0, {0}, 0}

/* Set err (may be NULL) and return code. The message is printf-formatted. */
int vd_err_set(vd_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like vd_err_set, appending ": strerror(errnum)". */
int vd_err_errno(vd_err *err, int code, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Prefix an existing message: "prefix: old message". Returns err->code. */
int vd_err_prefix(vd_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void vd_err_clear(vd_err *err);

/* Short, stable name of a code ("io", "baseline", ...). */
const char *vd_code_name(int code);

/* The process exit code a command should use for this error code (2 or 3). */
int vd_code_exit(int code);

#endif
