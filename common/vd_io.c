/* Reading files (see vd_io.h). */
#include "common/vd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int vd_read_fd(int fd, size_t max, vd_buf *out, int *ret_errno) {
        size_t got = 0;
        char chunk[65536];
        for (;;) {
                size_t want = max - got < sizeof chunk ? max - got + 1 : sizeof chunk; /* +1: is there more? */
                ssize_t k = read(fd, chunk, want);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        if (ret_errno)
                                *ret_errno = errno;
                        return VD_E_IO;
                }
                if (k == 0)
                        return 0;
                size_t take = (size_t)k > max - got ? max - got : (size_t)k;
                if (take && vd_buf_add(out, chunk, take) < 0)
                        return VD_E_NOMEM;
                got += take;
                if (take < (size_t)k)
                        return VD_E_LIMIT;
        }
}

int vd_read_path(const char *path, int flags, size_t max, int code, const char *what, vd_buf *out, bool *ret_absent,
                 vd_err *err) {
        if (ret_absent)
                *ret_absent = false;
        int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
        if (fd < 0) {
                if (errno == ENOENT && ret_absent)
                        *ret_absent = true;
                return vd_err_errno(err, code, errno, "cannot open %s", what);
        }
        int e = 0, r = vd_read_fd(fd, max, out, &e);
        close(fd);
        if (r == VD_E_IO)
                return vd_err_errno(err, code, e, "cannot read %s", what);
        if (r == VD_E_LIMIT)
                return vd_err_set(err, VD_E_LIMIT, "%s is larger than %zu bytes", what, max);
        if (r == VD_E_NOMEM)
                return vd_err_set(err, VD_E_LIMIT, "%s is larger than the buffer holds", what);
        return 0;
}

int vd_pread_exact(int fd, void *buf, size_t len, uint64_t off) {
        for (size_t got = 0; got < len;) {
                ssize_t k = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        if (k == 0)
                                errno = EIO;
                        return -1;
                }
                got += (size_t)k;
        }
        return 0;
}

int vd_write_full(int fd, const void *p, size_t n) {
        const char *c = p;
        while (n) {
                ssize_t k = write(fd, c, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        if (k == 0)
                                errno = EIO;
                        return -1;
                }
                c += k;
                n -= (size_t)k;
        }
        return 0;
}
