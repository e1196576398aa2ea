#define _GNU_SOURCE
#include "collect/vd_imageid.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect/vd_hash.h"
#include "collect/vd_imageinfo.h"
#include "common/vd_buf.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"

int vd_image_id_of(const char *path, vd_image_id *out) {
        size_t n = strlen(path);
        if (n >= sizeof out->path) {
                errno = ENAMETOOLONG;
                return -1;
        }
        if (path[0] != '/' || strchr(path, '\n')) {
                errno = EINVAL;
                return -1;
        }
        struct stat st;
        if (stat(path, &st) < 0)
                return -1;
        out->ino = (uint64_t)st.st_ino;
        out->size = (uint64_t)st.st_size;
        out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        out->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
        memcpy(out->path, path, n + 1);
        return 0;
}

void vd_image_id_format(const vd_image_id *id, char *buf, size_t n) {
        snprintf(buf, n, "%" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s", id->ino, id->size, id->mtime_ns,
                 id->ctime_ns, id->path);
}

/* One decimal number (a leading '-' only when sign) and the space after it. */
static bool number(const char **p, bool sign, uint64_t *mag, bool *neg) {
        const char *s = *p;
        *neg = sign && *s == '-';
        if (*neg)
                s++;
        const char *sp = strchr(s, ' ');
        if (!sp || sp == s || sp - s > 20)
                return false;
        char tmp[24];
        memcpy(tmp, s, (size_t)(sp - s));
        tmp[sp - s] = '\0';
        if (!vd_parse_u64(tmp, mag) || (sign && *mag > INT64_MAX))
                return false;
        *p = sp + 1;
        return true;
}

bool vd_image_id_parse(const char *s, vd_image_id *out) {
        uint64_t v[4];
        bool neg[4];
        for (int i = 0; i < 4; i++)
                if (!number(&s, i >= 2, &v[i], &neg[i]))
                        return false;
        size_t n = strlen(s);
        if (s[0] != '/' || n >= sizeof out->path || strchr(s, '\n'))
                return false;
        out->ino = v[0];
        out->size = v[1];
        out->mtime_ns = neg[2] ? -(int64_t)v[2] : (int64_t)v[2];
        out->ctime_ns = neg[3] ? -(int64_t)v[3] : (int64_t)v[3];
        memcpy(out->path, s, n + 1);
        return true;
}

bool vd_image_id_same(const vd_image_id *a, const vd_image_id *b) {
        return a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
               strcmp(a->path, b->path) == 0;
}

int vd_template_record(const char *image, const char *format, const char *const *allow, size_t n_allow, size_t k,
                       vd_scan *out, vd_err *err) {
        char **files = NULL;
        size_t nf = 0;
        if (vd_image_chain_files(image, format, allow, n_allow, &files, &nf, err) < 0)
                return err->code;
        int r = 0;
        char key[64], val[VD_IMAGE_ID_PATH_MAX + 96];
        /* a baseline's fact holds at most 4,096 bytes: all or nothing */
        for (size_t i = 0; i < nf && r == 0; i++)
                if (strlen(files[i]) > VD_IMAGE_ID_FACT_PATH_MAX)
                        r = vd_err_set(err, VD_E_LIMIT, "image '%s': '%.100s...' is a path too long to record", image,
                                       files[i]);
        for (size_t i = 0; i < nf && r == 0; i++) {
                vd_image_id id;
                if (vd_image_id_of(files[i], &id) < 0) {
                        r = vd_err_errno(err, VD_E_SOURCE, errno, "image '%s': cannot record '%s'", image, files[i]);
                        break;
                }
                vd_image_id_format(&id, val, sizeof val);
                snprintf(key, sizeof key, "capture.chain.%zu.%zu", k, i);
                if (vd_scan_add_fact(out, key, val) < 0)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        snprintf(key, sizeof key, "capture.chain.%zu", k);
        snprintf(val, sizeof val, "%zu", nf);
        if (r == 0 && vd_scan_add_fact(out, key, val) < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_image_files_free(files, nf);
        return r;
}

static const char *fact(const vd_fact *facts, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(facts[i].key, key) == 0)
                        return facts[i].value;
        return NULL;
}

int vd_template_unchanged(const vd_fact *facts, size_t n_facts, size_t k, const char *const *allow, size_t n_allow,
                          char **ret_path, char ret_format[32], char *why, size_t whylen, vd_err *err) {
        *ret_path = NULL;
        char key[64];
        snprintf(key, sizeof key, "capture.chain.%zu", k);
        const char *count = fact(facts, n_facts, key);
        snprintf(key, sizeof key, "image.%zu.format", k);
        const char *fmt = fact(facts, n_facts, key);
        uint64_t n = 0;
        if (!count || !vd_parse_u64(count, &n) || n == 0 || n > 4 * VD_IMAGE_CHAIN_MAX * VD_IMAGE_EXTERNAL_MAX) {
                snprintf(why, whylen,
                         "the baseline does not record the chain of images disk %zu was captured from (capture it "
                         "again)",
                         k);
                return 1;
        }
        if (!fmt || !*fmt || strlen(fmt) >= 32) {
                snprintf(why, whylen, "the baseline does not record disk %zu's format", k);
                return 1;
        }
        vd_image_id *rec = calloc((size_t)n, sizeof *rec);
        if (!rec)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int r = 0;
        for (uint64_t i = 0; i < n && r == 0; i++) {
                snprintf(key, sizeof key, "capture.chain.%zu.%" PRIu64, k, i);
                const char *v = fact(facts, n_facts, key);
                if (!v || !vd_image_id_parse(v, &rec[i])) {
                        snprintf(why, whylen, "the baseline's record of disk %zu's template (%s) does not parse", k, key);
                        r = 1;
                }
        }
        /* The chain qemu reads now, from the recorded template down: the
         * same files, each unchanged. */
        char **files = NULL;
        size_t nf = 0;
        vd_err ce = VD_ERR_INIT;
        if (r == 0 && vd_image_chain_files(rec[0].path, fmt, allow, n_allow, &files, &nf, &ce) < 0) {
                if (ce.code == VD_E_NOMEM)
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else {
                        snprintf(why, whylen, "the template image %.120s: %.200s", rec[0].path, ce.msg);
                        r = 1;
                }
        }
        if (r == 0 && nf != n) {
                snprintf(why, whylen, "the template image %.120s reads %zu files now, %" PRIu64 " at capture", rec[0].path,
                         nf, n);
                r = 1;
        }
        for (size_t i = 0; r == 0 && i < nf; i++) {
                vd_image_id now;
                if (strcmp(files[i], rec[i].path) != 0) {
                        snprintf(why, whylen, "the template's chain names %.120s where the capture had %.120s", files[i],
                                 rec[i].path);
                        r = 1;
                } else if (vd_image_id_of(files[i], &now) < 0 || !vd_image_id_same(&now, &rec[i])) {
                        snprintf(why, whylen,
                                 i == 0 ? "the template image %.120s changed (or was copied) since the baseline was "
                                          "captured"
                                        : "%.120s, below the template image, changed (or was copied) since the "
                                          "baseline was captured",
                                 files[i]);
                        r = 1;
                }
        }
        vd_image_files_free(files, nf);
        if (r == 0) {
                snprintf(ret_format, 32, "%s", fmt);
                if (!(*ret_path = strdup(rec[0].path)))
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        free(rec);
        return r;
}

/* formats/<hex sha256 of the real path>; false if path has none */
static bool pin_name(const char *path, char name[80]) {
        char *real = realpath(path, NULL);
        unsigned char d[32];
        if (!real)
                return false;
        bool ok = vd_sha256(real, strlen(real), d) == 0;
        free(real);
        if (!ok)
                return false;
        memcpy(name, "formats/", 8);
        for (size_t i = 0; i < 32; i++)
                snprintf(name + 8 + 2 * i, 3, "%02x", d[i]);
        return true;
}

void vd_image_format_pinned(const char *state_dir, const char *path, char out[32]) {
        out[0] = '\0';
        char name[80];
        if (!state_dir || !pin_name(path, name))
                return;
        vd_buf b;
        vd_buf_init(&b, 64);
        vd_err e = VD_ERR_INIT;
        if (vd_state_read(state_dir, name, 64, &b, NULL, &e) == 0 && b.len > 1 && b.len < 32 &&
            b.buf[b.len - 1] == '\n') {
                memcpy(out, b.buf, b.len - 1);
                out[b.len - 1] = '\0';
                for (size_t i = 0; out[i]; i++)
                        if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '0' && out[i] <= '9') || out[i] == '-'))
                                out[0] = '\0'; /* not a format qemu names: as if none */
        }
        vd_buf_release(&b);
}

int vd_image_format_pin(const char *state_dir, const char *path, const char *format, bool forced, vd_err *err) {
        char name[80], was[32];
        vd_err e = VD_ERR_INIT;
        if (!state_dir || !pin_name(path, name) || vd_state_dir_check(state_dir, true, &e) < 0) {
                vd_debug("format of %s not pinned: %s", path, e.msg[0] ? e.msg : "no state directory");
                return 0;
        }
        vd_image_format_pinned(state_dir, path, was);
        if (was[0] && strcmp(was, format) == 0)
                return 0;
        if (was[0] && !forced)
                return vd_err_set(err, VD_E_SOURCE,
                                  "image '%s' reads as %s by its header, but was %s when vmdrift first opened it "
                                  "(%s/%s): a header its guest wrote? refused (--image-format %s reads it as before; "
                                  "--image-format %s if it was really converted)",
                                  path, format, was, state_dir, name, was, format);
        char dirname_[4096], line[40];
        snprintf(dirname_, sizeof dirname_, "%s/formats", state_dir);
        if (mkdir(dirname_, 0700) < 0 && errno != EEXIST) {
                vd_debug("format of %s not pinned: cannot create %s: %s", path, dirname_, strerror(errno));
                return 0;
        }
        int n = snprintf(line, sizeof line, "%s\n", format);
        if (vd_state_write(state_dir, name, line, (size_t)n, &e) < 0)
                vd_debug("format of %s not pinned: %s", path, e.msg);
        return 0;
}
