/* The syslog spool: what a run could not deliver, kept in the state
 * directory and sent first by the next run to the same collector. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/vd_state.h"
#include "common/vd_str.h"
#include "vd_syslog_int.h"

int vd_msglist_push(vd_msglist *l, char *p, size_t n) {
        if (l->count == l->alloc) {
                size_t na = l->alloc ? l->alloc * 2 : 64;
                char **nv = realloc(l->v, na * sizeof *nv);
                size_t *nn = realloc(l->n, na * sizeof *nn);
                if (nv)
                        l->v = nv;
                if (nn)
                        l->n = nn;
                if (!nv || !nn)
                        return VD_E_NOMEM;
                l->alloc = na;
        }
        l->v[l->count] = p;
        l->n[l->count++] = n;
        return 0;
}

void vd_msglist_free(vd_msglist *l) {
        for (size_t i = 0; i < l->count; i++)
                free(l->v[i]);
        free(l->v);
        free(l->n);
}

static int spool_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The spool files of this collector, oldest first. */
size_t vd_spool_list(const char *dir, char ***ret, size_t *total_bytes) {
        *ret = NULL;
        *total_bytes = 0;
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        size_t n = 0, alloc = 0;
        char **v = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 7 || strcmp(de->d_name + l - 6, ".spool") != 0)
                        continue;
                if (vd_array_grow(&v, &alloc, n, sizeof *v, 16) < 0)
                        break;
                if (asprintf(&v[n], "%s/%s", dir, de->d_name) < 0)
                        break;
                /* only what we spooled: our own regular files nobody else can write */
                struct stat st;
                if (lstat(v[n], &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
                        free(v[n]);
                        continue;
                }
                *total_bytes += (size_t)st.st_size;
                n++;
        }
        closedir(d);
        if (n > 1)
                qsort(v, n, sizeof *v, spool_cmp);
        *ret = v;
        return n;
}

/* Read a spool file ("LEN SP MSG" records) into l; a damaged tail is dropped. */
void vd_spool_read(const char *file, vd_msglist *l) {
        FILE *f = fopen(file, "re");
        if (!f)
                return;
        for (;;) {
                size_t len = 0;
                int c, digits = 0;
                while ((c = fgetc(f)) != EOF && c >= '0' && c <= '9' && digits < 8) {
                        len = len * 10 + (size_t)(c - '0');
                        digits++;
                }
                if (c != ' ' || digits == 0 || len == 0 || len > SPOOL_MSG_MAX)
                        break;
                char *p = malloc(len);
                if (!p || fread(p, 1, len, f) != len || vd_msglist_push(l, p, len) < 0) {
                        free(p);
                        break;
                }
        }
        fclose(f);
}

int vd_spool_write(const char *dir, const char *scan_id, const vd_msglist *l, size_t from, char *path_out,
                   size_t path_sz, vd_err *err) {
        if (vd_state_dir_check(dir, true, err) < 0)
                return vd_err_prefix(err, "the spool directory cannot be made");
        char tmp[4200];
        snprintf(path_out, path_sz, "%s/%019lld-%s.spool", dir, (long long)vd_now_ns(), scan_id);
        snprintf(tmp, sizeof tmp, "%s.tmp", path_out);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "we") : NULL;
        bool ok = f != NULL;
        for (size_t i = from; ok && i < l->count; i++)
                ok = fprintf(f, "%zu ", l->n[i]) > 0 && fwrite(l->v[i], 1, l->n[i], f) == l->n[i];
        ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
        if (f)
                ok = fclose(f) == 0 && ok;
        else if (fd >= 0)
                close(fd);
        if (!ok || rename(tmp, path_out) < 0) {
                int e = errno;
                unlink(tmp);
                return vd_err_errno(err, VD_E_IO, e, "the spool %s cannot be written", path_out);
        }
        return 0;
}
