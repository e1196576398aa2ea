#define _GNU_SOURCE
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VMDRIFT_BIN
#define VMDRIFT_BIN "vmdrift"
#endif

char *th_mkdtemp(void) {
        const char *t = getenv("TMPDIR");
        char *p;
        if (asprintf(&p, "%s/vdtest.XXXXXX", t && *t ? t : "/tmp") < 0)
                abort();
        if (!mkdtemp(p))
                abort();
        return p;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
        (void)st;
        (void)f;
        if (flag == FTW_DP || flag == FTW_D)
                chmod(p, 0700), rmdir(p);
        else
                unlink(p);
        return 0;
}

void th_rmtree(const char *path) {
        /* Make everything removable first (tests chmod 000 things). */
        char *cmd;
        if (asprintf(&cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path) >= 0) {
                if (system(cmd) != 0)
                        nftw(path, rm_cb, 64, FTW_DEPTH | FTW_PHYS);
                free(cmd);
        }
}

char *th_join(const char *dir, const char *rel) {
        char *p;
        if (asprintf(&p, "%s/%s", dir, rel) < 0)
                abort();
        return p;
}

const char *th_path(const char *dir, const char *rel) {
        static char ring[16][8192];
        static int k;
        char *b = ring[k++ % 16];
        snprintf(b, sizeof ring[0], "%s/%s", dir, rel);
        return b;
}

static void mkparents(char *p) {
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        mkdir(p, 0755);
                        *s = '/';
                }
}

void th_writen(const char *dir, const char *rel, const void *data, size_t n) {
        char *p = th_join(dir, rel);
        mkparents(p);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, data, n) != (ssize_t)n)
                abort();
        close(fd);
        free(p);
}

void th_write(const char *dir, const char *rel, const char *content) { th_writen(dir, rel, content, strlen(content)); }

void th_state_dir(const char *path) {
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                abort();
        const char *build = getenv("STATE_DIRECTORY");
        if (!build || !*build)
                return;
        char src[4096], dst[4096], buf[4096];
        snprintf(src, sizeof src, "%s/accel", build);
        snprintf(dst, sizeof dst, "%s/accel", path);
        int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return; /* nothing learned yet */
        ssize_t n = read(in, buf, sizeof buf);
        close(in);
        int out = n > 0 ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        if (out >= 0) {
                if (write(out, buf, (size_t)n) != n)
                        abort();
                close(out);
        }
}

static char *slurp_two(int fa, int fb, char **ret_b) {
        size_t la = 0, lb = 0, ca = 4096, cb = 4096;
        char *a = malloc(ca), *b = malloc(cb);
        struct pollfd pf[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
        int open_n = 2;
        while (open_n > 0) {
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        break;
                for (int i = 0; i < 2; i++) {
                        if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP)))
                                continue;
                        char **buf = i ? &b : &a;
                        size_t *len = i ? &lb : &la, *cap = i ? &cb : &ca;
                        if (*cap - *len < 4096) {
                                *cap *= 2;
                                *buf = realloc(*buf, *cap);
                        }
                        ssize_t k = read(pf[i].fd, *buf + *len, *cap - *len - 1);
                        if (k <= 0) {
                                close(pf[i].fd);
                                pf[i].fd = -1;
                                open_n--;
                        } else
                                *len += (size_t)k;
                }
        }
        a[la] = '\0';
        b[lb] = '\0';
        *ret_b = b;
        return a;
}

th_run th_exec(const char *const argv[]) {
        int po[2], pe[2];
        th_run r = {0};
        /* close-on-exec: a daemon started by the command must not hold our pipes open */
        if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
                abort();
        pid_t pid = fork();
        if (pid == 0) {
                dup2(po[1], 1);
                dup2(pe[1], 2);
                close(po[0]);
                close(pe[0]);
                setenv("NO_COLOR", "1", 1);
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(po[1]);
        close(pe[1]);
        r.out = slurp_two(po[0], pe[0], &r.err);
        int st;
        waitpid(pid, &st, 0);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return r;
}

void th_run_free(th_run *r) {
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

th_run th_vmdrift(const char *fmt, ...) {
        char *line;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&line, fmt, ap) < 0)
                abort();
        va_end(ap);
        char *argv[64];
        int n = 0;
        argv[n++] = (char *)VMDRIFT_BIN;
        for (char *s = line, *tok; (tok = strsep(&s, "\x1f")) && n < 63;)
                if (*tok)
                        argv[n++] = tok;
        argv[n] = NULL;
        th_run r = th_exec((const char *const *)argv);
        free(line);
        return r;
}

int th_lines_with(const char *s, ...) {
        int count = 0;
        const char *p = s;
        while (p && *p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                char *line = strndup(p, len);
                va_list ap;
                va_start(ap, s);
                int all = 1;
                for (const char *needle; (needle = va_arg(ap, const char *));)
                        if (!strstr(line, needle))
                                all = 0;
                va_end(ap);
                count += all;
                free(line);
                p = nl ? nl + 1 : NULL;
        }
        return count;
}

static int strcmp_ptr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The lines of s for which keep (NULL: all) says yes, each passed through
 * fix (may be NULL), sorted. */
static char *sorted_lines(const char *s, bool (*keep)(char *line)) {
        char *copy = strdup(s), *save = NULL;
        size_t n = 0, cap = 0, len = 1;
        char **v = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (keep && !keep(l))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        v = realloc(v, cap * sizeof *v);
                }
                v[n++] = l;
                len += strlen(l) + 1;
        }
        if (n)
                qsort(v, n, sizeof *v, strcmp_ptr);
        char *res = calloc(1, len), *w = res;
        for (size_t i = 0; i < n; i++)
                w += sprintf(w, "%s\n", v[i]);
        free(v);
        free(copy);
        return res;
}

/* A drift event, its scan id blanked. */
static bool drift_line(char *l) {
        if (!strstr(l, "\"event\":\"drift\""))
                return false;
        char *id = strstr(l, "\"scan_id\":\"");
        if (id && strlen(id + 11) >= 36)
                memset(id + 11, 'x', 36);
        return true;
}

char *th_drift_lines(const char *out) { return sorted_lines(out, drift_line); }

char *th_sorted_lines(const char *s) { return sorted_lines(s, NULL); }
