#define _GNU_SOURCE
#include "collect/vd_imageinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "common/vd_buf.h"
#include "common/vd_json.h"
#include "common/vd_str.h"
#include "formats/vd_qcow2.h"

#define INFO_MAX (64 * 1024)
#define VALUE_MAX 4096

void vd_image_info_release(vd_image_info *i) {
        free(i->backing);
        for (size_t k = 0; k < i->n_external; k++)
                free(i->external[k]);
        memset(i, 0, sizeof *i);
}

static int add_external(vd_image_info *out, const vd_json *v, const char *what, vd_err *err) {
        if (!v || v->type == VD_JSON_NULL)
                return 0;
        if (v->type != VD_JSON_STRING || v->n == 0 || memchr(v->s, '\0', (size_t)v->n))
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: \"%s\" is not a file name", what);
        if (out->n_external == VD_IMAGE_EXTERNAL_MAX)
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: more than %d external files",
                                  VD_IMAGE_EXTERNAL_MAX);
        if (!(out->external[out->n_external] = strdup(v->s)))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        out->n_external++;
        return 0;
}

/* The files besides the backing file that format-specific data names:
 * qcow2's "data-file", vmdk's "extents"[]."filename". */
static int external_files(const vd_json *root, vd_image_info *out, vd_err *err) {
        const vd_json *fs = vd_json_get(root, "format-specific"), *d = fs ? vd_json_get(fs, "data") : NULL;
        if (!d || d->type != VD_JSON_OBJECT)
                return 0;
        /* qemu opens a relative data file from its own working directory,
         * not the image's: whatever ours is then. Never guessed. */
        const vd_json *df = vd_json_get(d, "data-file");
        if (df && df->type == VD_JSON_STRING && df->s[0] != '/')
                return vd_err_set(err, VD_E_SOURCE,
                                  "the header names the external data file '%.200s' by a relative name (qemu opens it "
                                  "from its working directory): refused",
                                  df->s);
        int r = add_external(out, df, "data-file", err);
        const vd_json *ex = vd_json_get(d, "extents");
        if (r == 0 && ex && ex->type != VD_JSON_ARRAY)
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: \"extents\" is not an array");
        for (const vd_json *e = ex ? ex->child : NULL; r == 0 && e; e = e->next)
                r = add_external(out, e->type == VD_JSON_OBJECT ? vd_json_get(e, "filename") : e, "extents", err);
        return r;
}

/* Copy string member key of o into dst (cap bytes with the NUL); absent: "".
 * A value that does not fit is refused, never cut short (it names a file). */
static int copy_member(const vd_json *o, const char *key, char *dst, size_t cap, vd_err *err) {
        const vd_json *v = vd_json_get(o, key);
        dst[0] = '\0';
        if (!v || v->type == VD_JSON_NULL)
                return 0;
        if (v->type != VD_JSON_STRING)
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: \"%s\" is not a string", key);
        if (v->n >= cap)
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: \"%s\" is longer than %zu bytes", key, cap - 1);
        memcpy(dst, v->s, (size_t)v->n + 1);
        return 0;
}

int vd_image_info_parse(const char *json, size_t len, vd_image_info *out, vd_err *err) {
        memset(out, 0, sizeof *out);
        if (len > INFO_MAX)
                return vd_err_set(err, VD_E_LIMIT, "qemu-img info: more than %d bytes", INFO_MAX);
        vd_json_doc doc;
        vd_json_limits lim = {INFO_MAX, 32, 0, VALUE_MAX};
        vd_err jerr = VD_ERR_INIT;
        if (vd_json_parse(json, len, "qemu-img info", &lim, &doc, &jerr) < 0)
                return vd_err_set(err, VD_E_SOURCE, "%s (not as qemu writes it)", jerr.msg);
        char full[VALUE_MAX + 1], rel[VALUE_MAX + 1];
        int r = 0;
        if (doc.root->type != VD_JSON_OBJECT)
                r = vd_err_set(err, VD_E_SOURCE, "qemu-img info: not a JSON object");
        if (!r)
                r = copy_member(doc.root, "format", out->format, sizeof out->format, err);
        if (!r)
                r = copy_member(doc.root, "backing-filename-format", out->backing_format, sizeof out->backing_format,
                                err);
        if (!r)
                r = copy_member(doc.root, "full-backing-filename", full, sizeof full, err);
        if (!r)
                r = copy_member(doc.root, "backing-filename", rel, sizeof rel, err);
        if (!r)
                r = external_files(doc.root, out, err);
        vd_json_doc_release(&doc);
        if (r < 0) {
                vd_image_info_release(out);
                return r;
        }
        if (!out->format[0])
                return vd_err_set(err, VD_E_SOURCE, "qemu-img info: no format");
        const char *b = full[0] ? full : rel[0] ? rel : NULL;
        if (b && !(out->backing = strdup(b)))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        return 0;
}

/* Run qemu-img with argv (argv[0] "qemu-img"), its standard output in b (at
 * most b's limit). *over: it said more; *status: its wait status. */
static int run_qemu_img(const char *const *argv, vd_buf *b, bool *over, int *status, vd_err *err) {
        int p[2];
        *over = false;
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
                execvp("qemu-img", (char *const *)argv);
                _exit(127);
        }
        close(p[1]);
        for (;;) {
                char chunk[4096];
                ssize_t k = read(p[0], chunk, sizeof chunk);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (!*over && vd_buf_add(b, chunk, (size_t)k) < 0)
                        *over = true; /* keep draining so qemu-img can exit */
        }
        close(p[0]);
        *status = 0;
        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
        return 0;
}

/* What qemu-img info said, remembered for the process: one scan asks
 * about the same images several times (the chain checks, the kept-report
 * key, the delta checks), and a fleet worker about the same template for
 * every clone; each qemu-img is 15-25 ms. An answer stands while the file
 * is the same (device, inode, size, mtime, ctime) and is only remembered for
 * a file unchanged for PROBE_SETTLED_NS before qemu-img ran, so that a
 * change after it must move its ctime (timestamps are coarse). */
#define PROBE_MEMO 64
#define PROBE_SETTLED_NS 2000000000LL
static struct probe_memo {
        char *path;
        bool probed; /* asked without a format */
        struct stat st;
        vd_image_info info;
} memo[PROBE_MEMO];
static size_t memo_next;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static int copy_info(vd_image_info *dst, const vd_image_info *src) {
        *dst = *src;
        dst->backing = NULL;
        dst->n_external = 0;
        if (src->backing && !(dst->backing = strdup(src->backing)))
                return -1;
        for (size_t k = 0; k < src->n_external; k++) {
                if (!(dst->external[k] = strdup(src->external[k])))
                        return -1;
                dst->n_external++;
        }
        return 0;
}

/* 1 and *out from the memo, 0 if not in it, -1 out of memory. */
static int memo_find(const char *path, const char *format, const struct stat *st, vd_image_info *out) {
        int r = 0;
        pthread_mutex_lock(&memo_lock);
        for (size_t i = 0; i < PROBE_MEMO && r == 0; i++) {
                const struct probe_memo *m = &memo[i];
                /* asked with a format: any answer that found that format
                 * will do; asked without: only a probe's */
                if (m->path && strcmp(m->path, path) == 0 && vd_stat_same(&m->st, st) &&
                    (format ? strcmp(format, m->info.format) == 0 : m->probed))
                        r = copy_info(out, &m->info) < 0 ? -1 : 1;
        }
        pthread_mutex_unlock(&memo_lock);
        return r;
}

static void memo_keep(const char *path, const char *format, const struct stat *st, int64_t started_ns,
                      const vd_image_info *info) {
        if (!vd_stat_settled(st, started_ns, PROBE_SETTLED_NS))
                return;
        pthread_mutex_lock(&memo_lock);
        struct probe_memo *m = &memo[memo_next++ % PROBE_MEMO];
        free(m->path);
        vd_image_info_release(&m->info);
        memset(m, 0, sizeof *m);
        if ((m->path = strdup(path)) && copy_info(&m->info, info) == 0) {
                m->probed = format == NULL;
                m->st = *st;
        } else {
                free(m->path);
                m->path = NULL;
        }
        pthread_mutex_unlock(&memo_lock);
}

static int probe_run(const char *path, const char *format, vd_image_info *out, vd_err *err);

/* What qemu's path_combine makes of a backing name relative to the image
 * as it was named: the image's directory part, then the name. */
static char *combine(const char *image, const char *name) {
        const char *slash = strrchr(image, '/');
        if (name[0] == '/' || !slash)
                return strdup(name);
        char *r = NULL;
        return asprintf(&r, "%.*s%s", (int)(slash - image + 1), image, name) < 0 ? NULL : r;
}

/* Without qemu-img where the answer is certain: a raw image names nothing;
 * a plain qcow2 header (vd_qcow2.h) is read here. 0 and *out; 1: ask
 * qemu-img; -1: out of memory. */
static int probe_native(const char *path, const char *format, vd_image_info *out) {
        if (!format || (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0))
                return 1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 1; /* qemu-img says why */
        if (!strcmp(format, "raw")) {
                close(fd);
                snprintf(out->format, sizeof out->format, "raw");
                return 0;
        }
        unsigned char *buf = malloc(VD_QCOW2_READ_MAX);
        size_t len = 0;
        while (buf && len < VD_QCOW2_READ_MAX) {
                ssize_t n = pread(fd, buf + len, VD_QCOW2_READ_MAX - len, (off_t)len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (!buf)
                return -1;
        vd_qcow2_hdr h;
        int r = vd_qcow2_header_parse(buf, len, &h);
        free(buf);
        if (r != 0)
                return r < 0 ? -1 : 1;
        snprintf(out->format, sizeof out->format, "qcow2");
        snprintf(out->backing_format, sizeof out->backing_format, "%s", h.backing_format);
        if (h.backing && !(out->backing = combine(path, h.backing)))
                r = -1;
        vd_qcow2_hdr_release(&h);
        return r;
}

int vd_image_probe(const char *path, const char *format, vd_image_info *out, vd_err *err) {
        memset(out, 0, sizeof *out);
        int nr = probe_native(path, format, out);
        if (nr < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (nr == 0)
                return 0;
        vd_image_info_release(out);
        memset(out, 0, sizeof *out);
        struct stat before, after;
        struct timespec now;
        bool known = stat(path, &before) == 0;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t started = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
        int m = known ? memo_find(path, format, &before, out) : 0;
        if (m < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (m == 1)
                return 0;
        int r = probe_run(path, format, out, err);
        /* remembered only if the file was the same before and after */
        if (r == 0 && known && stat(path, &after) == 0 && vd_stat_same(&before, &after))
                memo_keep(path, format, &after, started, out);
        return r;
}

static int probe_run(const char *path, const char *format, vd_image_info *out, vd_err *err) {
        memset(out, 0, sizeof *out);
        /* -U: a running guest holds a write lock; we only read the header */
        const char *argv[] = {"qemu-img", "info", "-U", "--output=json", "-f", format, "--", path, NULL};
        if (!format) {
                argv[4] = "--";
                argv[5] = path;
                argv[6] = NULL;
        }
        vd_buf b;
        vd_buf_init(&b, INFO_MAX);
        bool over = false;
        int st = 0;
        if (run_qemu_img(argv, &b, &over, &st, err) < 0) {
                vd_buf_release(&b);
                return err->code;
        }
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

/* Whether real (a real path) may be read for an image in directory own:
 * there, or one of allow[] (a file, or a directory it is under). */
static bool allowed(const char *real, const char *own, const char *const *allow, size_t n_allow) {
        bool ok = under(real, own);
        for (size_t i = 0; !ok && i < n_allow; i++) {
                char *a = realpath(allow[i], NULL);
                ok = a && (strcmp(a, real) == 0 || under(real, a));
                free(a);
        }
        return ok;
}

static int push_file(char ***files, size_t *n_files, const char *path, vd_err *err) {
        char **nv = realloc(*files, (*n_files + 1) * sizeof *nv);
        if (!nv)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        *files = nv;
        if (!(nv[*n_files] = strdup(path)))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        (*n_files)++;
        return 0;
}

/* The external files of cur (an image of path's chain): each under the
 * rules of a backing file, into files. */
static int check_external(const char *path, const char *cur, const vd_image_info *info, const char *own,
                          const char *const *allow, size_t n_allow, char ***files, size_t *n_files, vd_err *err) {
        /* files NULL: checked, not listed */
        char *curdir = strdup(cur);
        if (!curdir)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        const char *base = dirname(curdir);
        int r = 0;
        for (size_t x = 0; x < info->n_external && r == 0; x++) {
                const char *name = info->external[x];
                char *joined = NULL;
                if (name[0] != '/' && asprintf(&joined, "%s/%s", base, name) < 0) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                char *real = realpath(joined ? joined : name, NULL);
                free(joined);
                if (!real)
                        r = vd_err_errno(err, VD_E_SOURCE, errno, "image '%s' (%s) names the external file '%s'",
                                         path, info->format, name);
                else if (strcmp(real, cur) == 0)
                        ; /* a monolithic vmdk's one extent: itself */
                else if (!allowed(real, own, allow, n_allow))
                        r = vd_err_set(err, VD_E_SOURCE,
                                       "image '%s' (%s, by its header) names the external data file '%s', outside the "
                                       "image's own directory and the template's: refused (a raw disk whose guest "
                                       "wrote a qcow2 header? --image-format raw; or --allow-backing DIR)",
                                       path, info->format, name);
                else if (files)
                        r = push_file(files, n_files, real, err);
                free(real);
        }
        free(curdir);
        return r;
}

/* files: when not NULL, every file of the chain (real paths, top first;
 * each image followed by its external files). */
static int walk_chain(const char *path, const char *format, const char *const *allow, size_t n_allow,
                      char ret_format[32], char ***files, size_t *n_files, bool external, vd_err *err) {
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
                if (files)
                        r = push_file(files, n_files, cur, err);
                if (r == 0)
                        r = check_external(path, cur, &info, own, allow, n_allow, external ? files : NULL,
                                           n_files, err);
                if (r < 0) {
                        vd_image_info_release(&info);
                        break;
                }
                if (depth == 0)
                        snprintf(ret_format, 32, "%s", info.format);
                if (!info.backing) {
                        vd_image_info_release(&info);
                        break;
                }
                char *real = realpath(info.backing, NULL);
                bool ok = real && allowed(real, own, allow, n_allow);
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

int vd_image_check_chain(const char *path, const char *format, const char *const *allow, size_t n_allow,
                         char ret_format[32], vd_err *err) {
        return walk_chain(path, format, allow, n_allow, ret_format, NULL, NULL, false, err);
}

static int chain(const char *path, const char *format, const char *const *allow, size_t n_allow, bool external,
                 char ***ret_files, size_t *ret_n, vd_err *err) {
        char fmt[32];
        *ret_files = NULL;
        *ret_n = 0;
        int r = walk_chain(path, format, allow, n_allow, fmt, ret_files, ret_n, external, err);
        if (r < 0) {
                for (size_t i = 0; i < *ret_n; i++)
                        free((*ret_files)[i]);
                free(*ret_files);
                *ret_files = NULL;
                *ret_n = 0;
        }
        return r;
}

int vd_image_chain(const char *path, const char *format, const char *const *allow, size_t n_allow,
                   char ***ret_files, size_t *ret_n, vd_err *err) {
        return chain(path, format, allow, n_allow, false, ret_files, ret_n, err);
}

int vd_image_chain_files(const char *path, const char *format, const char *const *allow, size_t n_allow,
                         char ***ret_files, size_t *ret_n, vd_err *err) {
        return chain(path, format, allow, n_allow, true, ret_files, ret_n, err);
}

void vd_image_files_free(char **files, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(files[i]);
        free(files);
}

bool vd_image_in_use(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        bool locked = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
        close(fd);
        return locked;
}

int vd_image_map_parse(const char *json, size_t len, int64_t below, uint64_t size_max,
                       int (*fn)(void *ud, uint64_t start, uint64_t len), void *ud, vd_err *err) {
        vd_json_doc doc = {0};
        vd_json_limits lim = {.max_bytes = VD_IMAGE_MAP_MAX, .max_depth = 4, .max_nodes = 64u << 20};
        if (vd_json_parse(json, len, "qemu-img map", &lim, &doc, err) < 0)
                return err->code;
        int r = 0;
        uint64_t next = 0;
        if (!doc.root || doc.root->type != VD_JSON_ARRAY)
                r = vd_err_set(err, VD_E_SOURCE, "qemu-img map: expected an array");
        for (const vd_json *e = doc.root ? doc.root->child : NULL; e && r == 0; e = e->next) {
                int64_t start, n, depth;
                const vd_json *pr = vd_json_get(e, "present");
                if (!vd_json_int(vd_json_get(e, "start"), &start) || !vd_json_int(vd_json_get(e, "length"), &n) ||
                    !vd_json_int(vd_json_get(e, "depth"), &depth) || !pr || pr->type != VD_JSON_BOOL || start < 0 ||
                    n <= 0 || depth < 0 || (uint64_t)start != next || (uint64_t)n > size_max - (uint64_t)start) {
                        r = vd_err_set(err, VD_E_SOURCE, "qemu-img map: an entry without start, length, depth and "
                                                         "present in order within the image");
                        break;
                }
                next = (uint64_t)start + (uint64_t)n;
                /* held by a layer above the template: it may differ from it */
                if (pr->b && depth < below)
                        r = fn(ud, (uint64_t)start, (uint64_t)n);
        }
        vd_json_doc_release(&doc);
        return r;
}

int vd_image_map_changed(const char *path, const char *format, int64_t below, uint64_t size_max,
                         int (*fn)(void *ud, uint64_t start, uint64_t len), void *ud, vd_err *err) {
        const char *argv[] = {"qemu-img", "map", "-U", "--output=json", "-f", format, "--", path, NULL};
        vd_buf b;
        vd_buf_init(&b, VD_IMAGE_MAP_MAX);
        bool over = false;
        int st = 0, r = run_qemu_img(argv, &b, &over, &st, err);
        if (r == 0 && over)
                r = vd_err_set(err, VD_E_LIMIT, "image '%s': qemu-img map said more than %zu bytes", path,
                               (size_t)VD_IMAGE_MAP_MAX);
        else if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
                r = vd_err_set(err, VD_E_SOURCE, "image '%s': qemu-img map failed", path);
        else if (r == 0)
                r = vd_image_map_parse(b.buf ? b.buf : "", b.len, below, size_max, fn, ud, err);
        vd_buf_release(&b);
        return r;
}

void vd_fs_uuid(const unsigned char *b, size_t n, char out[40]) {
        out[0] = '\0';
        if (n >= 2048 && b[1024 + 0x38] == 0x53 && b[1024 + 0x39] == 0xEF) {
                const unsigned char *u = b + 1024 + 0x68;
                snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                         u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
                return;
        }
        if (n < 512 || b[510] != 0x55 || b[511] != 0xAA)
                return;
        const unsigned char *id = memcmp(b + 0x52, "FAT32   ", 8) == 0 ? b + 0x43
                                  : memcmp(b + 0x36, "FAT", 3) == 0   ? b + 0x27
                                                                      : NULL;
        if (id)
                snprintf(out, 40, "%02X%02X-%02X%02X", id[3], id[2], id[1], id[0]);
}
