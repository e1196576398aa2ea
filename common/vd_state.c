#define _GNU_SOURCE
#include "common/vd_io.h"
#include "common/vd_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *vd_state_dir(const char *opt, const char *e) {
        static char env_first[4096];
        if (opt && *opt)
                return opt;
        if (e && *e) {
                size_t n = strcspn(e, ":");
                if (n < sizeof env_first) {
                        memcpy(env_first, e, n);
                        env_first[n] = '\0';
                        return env_first;
                }
        }
        return VD_STATE_DIR_DEFAULT;
}

static int trusted(const char *what, const char *path, const struct stat *st, vd_err *err) {
        if (st->st_uid != geteuid())
                return vd_err_set(err, VD_E_IO,
                                  "%s '%s' is owned by uid %u, not by the user running vmdrift (uid %u): refusing "
                                  "to trust it",
                                  what, path, (unsigned)st->st_uid, (unsigned)geteuid());
        if (st->st_mode & 022)
                return vd_err_set(err, VD_E_IO,
                                  "%s '%s' is writable by %s (mode %04o): refusing to trust it (chmod go-w)", what,
                                  path, (st->st_mode & 002) ? "everyone" : "its group",
                                  (unsigned)(st->st_mode & 07777));
        return 0;
}

static int mkdirs(const char *path) {
        char tmp[4096];
        if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
                errno = ENAMETOOLONG;
                return -1;
        }
        for (char *p = tmp + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                                return -1;
                        *p = '/';
                }
        return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int vd_state_dir_check(const char *dir, bool create, vd_err *err) {
        struct stat st;
        if (lstat(dir, &st) < 0) {
                if (errno != ENOENT || !create)
                        return vd_err_errno(err, VD_E_IO, errno, "state directory '%s'", dir);
                if (mkdirs(dir) < 0)
                        return vd_err_errno(err, VD_E_IO, errno, "cannot create the state directory '%s'", dir);
                if (lstat(dir, &st) < 0)
                        return vd_err_errno(err, VD_E_IO, errno, "state directory '%s'", dir);
        }
        if (!S_ISDIR(st.st_mode))
                return vd_err_set(err, VD_E_IO, "state directory '%s' is not a directory%s", dir,
                                  S_ISLNK(st.st_mode) ? " (a symlink)" : "");
        return trusted("state directory", dir, &st, err);
}

int vd_state_read(const char *dir, const char *name, size_t max, vd_buf *out, bool *ret_absent, vd_err *err) {
        char path[4096];
        if (ret_absent)
                *ret_absent = false;
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                return vd_err_set(err, VD_E_IO, "state file path too long");
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT && ret_absent)
                        *ret_absent = true;
                return vd_err_errno(err, VD_E_IO, errno, "cannot open '%s'", path);
        }
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0)
                r = vd_err_errno(err, VD_E_IO, errno, "cannot stat '%s'", path);
        else if (!S_ISREG(st.st_mode))
                r = vd_err_set(err, VD_E_IO, "'%s' is not a regular file", path);
        else if ((r = trusted("state file", path, &st, err)) == 0 && (uint64_t)st.st_size > max)
                r = vd_err_set(err, VD_E_LIMIT, "'%s' is larger than %zu bytes", path, max);
        int e = 0, rr = r == 0 ? vd_read_fd(fd, max, out, &e) : 0;
        if (rr == VD_E_IO)
                r = vd_err_errno(err, VD_E_IO, e, "cannot read '%s'", path);
        else if (rr == VD_E_LIMIT)
                r = vd_err_set(err, VD_E_LIMIT, "'%s' is larger than %zu bytes", path, max);
        else if (rr < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        close(fd);
        return r;
}

int vd_write_atomic(const char *path, const void *data, size_t n, unsigned mode, vd_err *err) {
        char tmp[4096 + 16];
        if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
                return vd_err_set(err, VD_E_IO, "path too long: '%.200s'", path);
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return vd_err_errno(err, VD_E_IO, errno, "cannot create a file beside '%s'", path);
        int r = 0;
        if (vd_write_full(fd, data, n) < 0)
                r = vd_err_errno(err, VD_E_IO, errno, "cannot write '%s'", tmp);
        if (r == 0 && (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0))
                r = vd_err_errno(err, VD_E_IO, errno, "cannot write '%s'", tmp);
        if (close(fd) < 0 && r == 0)
                r = vd_err_errno(err, VD_E_IO, errno, "cannot write '%s'", tmp);
        if (r == 0 && rename(tmp, path) < 0)
                r = vd_err_errno(err, VD_E_IO, errno, "cannot rename '%s' to '%s'", tmp, path);
        if (r < 0)
                unlink(tmp);
        return r;
}

int vd_state_write(const char *dir, const char *name, const void *data, size_t n, vd_err *err) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                return vd_err_set(err, VD_E_IO, "state file path too long");
        return vd_write_atomic(path, data, n, 0600, err);
}

int vd_state_remove(const char *dir, const char *name, vd_err *err) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                return vd_err_set(err, VD_E_IO, "state file path too long");
        if (unlink(path) < 0 && errno != ENOENT)
                return vd_err_errno(err, VD_E_IO, errno, "cannot remove '%s'", path);
        return 0;
}
