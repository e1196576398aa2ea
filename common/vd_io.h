/* Reading and writing files, once: every whole-file read, every exact
 * positioned read and every full write in vmdrift goes through here,
 * bounded by the caller's limit, with EINTR retried and short reads and
 * writes continued. */
#ifndef VD_IO_H
#define VD_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"

/* Append what fd holds from its current offset to its end to out, at most
 * max bytes in all (out's earlier content not counted). 0; VD_E_LIMIT (there
 * is more than max: out holds the first max); VD_E_NOMEM (out's own cap); or
 * VD_E_IO with *ret_errno (may be NULL) the read's errno. Sets no message:
 * the caller names the file. */
int vd_read_fd(int fd, size_t max, vd_buf *out, int *ret_errno);

/* The whole of the file at path (opened with O_RDONLY | O_CLOEXEC | flags;
 * O_NOFOLLOW or O_NONBLOCK, say) into out, at most max bytes. Errors name the
 * file as what ("the policy 'p.yaml'", code for a failure to open or read:
 * VD_E_IO or VD_E_INPUT): "cannot open WHAT: ...", "WHAT is larger than MAX
 * bytes". With ret_absent (may be NULL), a file that is not there sets it. */
int vd_read_path(const char *path, int flags, size_t max, int code, const char *what, vd_buf *out, bool *ret_absent,
                 vd_err *err);

/* Exactly len bytes at offset off: 0, or -1 (errno set; EIO for a short
 * file). */
int vd_pread_exact(int fd, void *buf, size_t len, uint64_t off);

/* All n bytes of p to fd: 0, or -1 (errno set; EIO when write wrote nothing). */
int vd_write_full(int fd, const void *p, size_t n);

#endif
