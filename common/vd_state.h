/* The state directory: what vmdrift remembers between runs on one host (the
 * syslog spool, whether KVM works here, ...). It is trusted only if the
 * running user owns it and nobody else can write it: another user who could
 * plant a file there could make us send or believe it.
 */
#ifndef VD_STATE_H
#define VD_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"

#define VD_STATE_DIR_DEFAULT "/var/lib/vmdrift"

/* The state directory to use: opt if given, else state_directory (the
 * value of $STATE_DIRECTORY, systemd's StateDirectory=, which the caller
 * read: the first of a colon-separated list), else the default. The string
 * returned is opt, a static copy of the first of state_directory's, or a
 * constant: not owned. */
const char *vd_state_dir(const char *opt, const char *state_directory);

/* Check that dir is a directory (not a symlink) owned by the effective user
 * and not writable by group or others; with create, make it (mode 0700, and
 * its missing parents) first. VD_E_IO with a message naming dir otherwise. */
int vd_state_dir_check(const char *dir, bool create, vd_err *err);

/* Read dir/name (a regular file owned by us, not writable by others, at most
 * max bytes) into out. VD_E_IO with errno ENOENT in the message if absent:
 * ret_absent (may be NULL) says so without parsing. */
int vd_state_read(const char *dir, const char *name, size_t max, vd_buf *out, bool *ret_absent, vd_err *err);

/* Write data to path atomically: a temp file beside it with this mode,
 * fsync, rename (a failure leaves path as it was). */
int vd_write_atomic(const char *path, const void *data, size_t n, unsigned mode, vd_err *err);

/* Write data to dir/name atomically (a 0600 temp file, fsync, rename). */
int vd_state_write(const char *dir, const char *name, const void *data, size_t n, vd_err *err);

/* Remove dir/name if it is there; absent is not an error. */
int vd_state_remove(const char *dir, const char *name, vd_err *err);

#endif
