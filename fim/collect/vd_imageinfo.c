#define _GNU_SOURCE
#include "vd_imageinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vd_buf.h"

#define INFO_MAX (64 * 1024)
#define VALUE_MAX 4096

void vd_image_info_release(vd_image_info *i) {
        free(i->backing);
        memset(i, 0, sizeof *i);
}

/* ---- a small JSON reader: enough for qemu-img's one object ---- */

typedef struct jr {
        const char *p, *end;
        int depth;
} jr;

static void ws(jr *j) {
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
                j->p++;
}

static int put_utf8(vd_buf *b, unsigned cp) {
        char u[4];
        size_t n;
        if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else {
                u[0] = (char)(0xe0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        }
        return vd_buf_add(b, u, n);
}

/* A string into out (bounded by out's cap); NUL (\u0000) refused. */
static int jstr(jr *j, vd_buf *out) {
        if (j->p >= j->end || *j->p != '"')
                return VD_E_SOURCE;
        j->p++;
        while (j->p < j->end && *j->p != '"') {
                char c = *j->p++;
                if ((unsigned char)c < 0x20)
                        return VD_E_SOURCE;
                if (c != '\\') {
                        if (vd_buf_addc(out, c) < 0)
                                return VD_E_SOURCE;
                        continue;
                }
                if (j->p >= j->end)
                        return VD_E_SOURCE;
                c = *j->p++;
                const char *simple = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
                const char *k = strchr(simple, c);
                if (k && c) {
                        if (vd_buf_addc(out, to[k - simple]) < 0)
                                return VD_E_SOURCE;
                } else if (c == 'u') {
                        if (j->end - j->p < 4)
                                return VD_E_SOURCE;
                        unsigned cp = 0;
                        for (int i = 0; i < 4; i++) {
                                char h = *j->p++;
                                cp <<= 4;
                                if (h >= '0' && h <= '9')
                                        cp |= (unsigned)(h - '0');
                                else if (h >= 'a' && h <= 'f')
                                        cp |= (unsigned)(h - 'a' + 10);
                                else if (h >= 'A' && h <= 'F')
                                        cp |= (unsigned)(h - 'A' + 10);
                                else
                                        return VD_E_SOURCE;
                        }
                        if (cp == 0 || put_utf8(out, cp) < 0)
                                return VD_E_SOURCE; /* a NUL would cut the path short */
                } else
                        return VD_E_SOURCE;
        }
        if (j->p >= j->end)
                return VD_E_SOURCE;
        j->p++;
        return 0;
}

static int skip_value(jr *j);

static int skip_container(jr *j, char open, char close) {
        if (++j->depth > 32)
                return VD_E_SOURCE;
        j->p++;
        ws(j);
        if (j->p < j->end && *j->p == close) {
                j->p++;
                j->depth--;
                return 0;
        }
        for (;;) {
                ws(j);
                if (open == '{') {
                        vd_buf k;
                        vd_buf_init(&k, VALUE_MAX);
                        int r = jstr(j, &k);
                        vd_buf_release(&k);
                        ws(j);
                        if (r < 0 || j->p >= j->end || *j->p != ':')
                                return VD_E_SOURCE;
                        j->p++;
                }
                if (skip_value(j) < 0)
                        return VD_E_SOURCE;
                ws(j);
                if (j->p >= j->end)
                        return VD_E_SOURCE;
                if (*j->p == ',') {
                        j->p++;
                        continue;
                }
                if (*j->p != close)
                        return VD_E_SOURCE;
                j->p++;
                j->depth--;
                return 0;
        }
}

static int skip_value(jr *j) {
        ws(j);
        if (j->p >= j->end)
                return VD_E_SOURCE;
        char c = *j->p;
        if (c == '{')
                return skip_container(j, '{', '}');
        if (c == '[')
                return skip_container(j, '[', ']');
        if (c == '"') {
                vd_buf s;
                vd_buf_init(&s, VALUE_MAX);
                int r = jstr(j, &s);
                vd_buf_release(&s);
                return r;
        }
        /* number, true, false, null */
        const char *s = j->p;
        while (j->p < j->end && strchr("0123456789+-.eEtruefalsn", *j->p))
                j->p++;
        return j->p > s ? 0 : VD_E_SOURCE;
}

int vd_image_info_parse(const char *json, size_t len, vd_image_info *out, vd_err *err) {
        memset(out, 0, sizeof *out);
        if (len > INFO_MAX)
                return vd_err_set(err, VD_E_LIMIT, "qemu-img info: more than %d bytes", INFO_MAX);
        jr j = {json, json + len, 0};
        char full[VALUE_MAX + 1] = "", rel[VALUE_MAX + 1] = "";
        ws(&j);
        if (j.p >= j.end || *j.p != '{')
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: not a JSON object");
        j.p++;
        int r = 0;
        for (bool first = true;; first = false) {
                ws(&j);
                if (j.p < j.end && *j.p == '}' && first) {
                        j.p++;
                        break;
                }
                vd_buf k;
                vd_buf_init(&k, VALUE_MAX);
                r = jstr(&j, &k);
                ws(&j);
                if (r < 0 || j.p >= j.end || *j.p != ':') {
                        vd_buf_release(&k);
                        r = VD_E_SOURCE;
                        break;
                }
                j.p++;
                ws(&j);
                const char *key = k.buf ? k.buf : "";
                char *dst = NULL;
                size_t cap = 0;
                if (strcmp(key, "format") == 0)
                        dst = out->format, cap = sizeof out->format;
                else if (strcmp(key, "backing-filename-format") == 0)
                        dst = out->backing_format, cap = sizeof out->backing_format;
                else if (strcmp(key, "full-backing-filename") == 0)
                        dst = full, cap = sizeof full;
                else if (strcmp(key, "backing-filename") == 0)
                        dst = rel, cap = sizeof rel;
                vd_buf_release(&k);
                if (dst) {
                        vd_buf v;
                        vd_buf_init(&v, cap - 1);
                        r = jstr(&j, &v);
                        if (r == 0 && v.len)
                                memcpy(dst, v.buf, v.len);
                        if (r == 0)
                                dst[v.len] = '\0';
                        vd_buf_release(&v);
                } else
                        r = skip_value(&j);
                if (r < 0)
                        break;
                ws(&j);
                if (j.p < j.end && *j.p == ',') {
                        j.p++;
                        continue;
                }
                if (j.p < j.end && *j.p == '}') {
                        j.p++;
                        break;
                }
                r = VD_E_SOURCE;
                break;
        }
        if (r < 0)
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: malformed JSON (a value too long or not as qemu "
                                                    "writes it)");
        if (!out->format[0])
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: no format");
        const char *b = full[0] ? full : rel[0] ? rel : NULL;
        if (b && !(out->backing = strdup(b)))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        return 0;
}

int vd_image_probe(const char *path, const char *format, vd_image_info *out, vd_err *err) {
        memset(out, 0, sizeof *out);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot run qemu-img");
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot run qemu-img");
        }
        if (pid == 0) {
                dup2(p[1], 1);
                int dn = open("/dev/null", O_RDWR);
                if (dn >= 0) {
                        dup2(dn, 0);
                        dup2(dn, 2);
                }
                /* -U: a running guest holds a write lock; we only read the header */
                if (format)
                        execlp("qemu-img", "qemu-img", "info", "-U", "--output=json", "-f", format, "--", path,
                               (char *)NULL);
                else
                        execlp("qemu-img", "qemu-img", "info", "-U", "--output=json", "--", path, (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        vd_buf b;
        vd_buf_init(&b, INFO_MAX);
        bool over = false;
        for (;;) {
                char chunk[4096];
                ssize_t k = read(p[0], chunk, sizeof chunk);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (!over && vd_buf_add(&b, chunk, (size_t)k) < 0)
                        over = true; /* keep draining so qemu-img can exit */
        }
        close(p[0]);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        int r = 0;
        if (over)
                r = vd_err_set(err, VD_E_LIMIT, "image '%s': qemu-img info said more than %d bytes", path, INFO_MAX);
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                r = vd_err_set(err, VD_E_SOURCE, "image '%s': qemu-img cannot read it as %s%s", path,
                               format ? format : "a disk image",
                               WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (qemu-img not found)" : "");
        else {
                r = vd_image_info_parse(b.buf ? b.buf : "", b.len, out, err);
                if (r < 0)
                        vd_err_prefix(err, "image '%s'", path);
        }
        vd_buf_release(&b);
        return r;
}

static bool under(const char *path, const char *dir) {
        size_t dl = strlen(dir);
        while (dl > 1 && dir[dl - 1] == '/')
                dl--;
        return strncmp(path, dir, dl) == 0 && (path[dl] == '/' || (dl == 1 && dir[0] == '/'));
}

int vd_image_check_chain(const char *path, const char *format, const char *const *allow, size_t n_allow,
                         char ret_format[32], vd_err *err) {
        char *top = realpath(path, NULL);
        if (!top)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot open image '%s'", path);
        char *topdir = strdup(top);
        if (!topdir) {
                free(top);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        char *own = dirname(topdir);
        char *cur = strdup(top);
        char curfmt[32] = "";
        if (format)
                snprintf(curfmt, sizeof curfmt, "%s", format);
        int r = 0;
        for (int depth = 0; r == 0; depth++) {
                if (depth >= VD_IMAGE_CHAIN_MAX) {
                        r = vd_err_set(err, VD_E_SOURCE, "image '%s': a backing chain longer than %d images", path,
                                       VD_IMAGE_CHAIN_MAX);
                        break;
                }
                vd_image_info info;
                r = vd_image_probe(cur, curfmt[0] ? curfmt : NULL, &info, err);
                if (r < 0)
                        break;
                if (depth == 0)
                        snprintf(ret_format, 32, "%s", info.format);
                if (!info.backing) {
                        vd_image_info_release(&info);
                        break;
                }
                char *real = realpath(info.backing, NULL);
                bool ok = real && under(real, own);
                for (size_t i = 0; !ok && real && i < n_allow; i++) {
                        char *a = realpath(allow[i], NULL);
                        ok = a && (strcmp(a, real) == 0 || under(real, a));
                        free(a);
                }
                if (!real)
                        r = vd_err_errno(err, VD_E_SOURCE, errno, "image '%s' (%s) names the backing file '%s'",
                                         path, info.format, info.backing);
                else if (!ok)
                        r = vd_err_set(err, VD_E_SOURCE,
                                       "image '%s' (%s, by its header) names the backing file '%s', outside the "
                                       "image's own directory and the template's: refused (a raw disk whose guest "
                                       "wrote a qcow2 header? --image-format raw; or --allow-backing DIR)",
                                       path, info.format, info.backing);
                free(cur);
                cur = real;
                snprintf(curfmt, sizeof curfmt, "%s", info.backing_format);
                vd_image_info_release(&info);
        }
        free(cur);
        free(top);
        free(topdir);
        return r;
}
