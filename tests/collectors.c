#define _GNU_SOURCE
#include "collectors.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static void msleep(int ms) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static int free_port(int type) {
        int fd = socket(AF_INET, type, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof a;
        cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                  getsockname(fd, (struct sockaddr *)&a, &l) == 0);
        close(fd);
        return ntohs(a.sin_port);
}

static bool tcp_up(int port) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        return ok;
}

static void sh(const char *dir, const char *cmd) {
        const char *argv[] = {"sh", "-ec", cmd, dir, NULL};
        th_run r = th_exec(argv);
        cr_assert_eq(r.status, 0, "%s failed: %s%s", cmd, r.out, r.err);
        th_run_free(&r);
}

void coll_rsyslog_start(coll_rsyslog *rs, const char *dir) {
        if (access(rs->conf, R_OK) != 0 || strcmp(rs->dir, dir) != 0) {
                memset(rs, 0, sizeof *rs);
                snprintf(rs->dir, sizeof rs->dir, "%s", dir);
                snprintf(rs->conf, sizeof rs->conf, "%s/rsyslog.conf", dir);
                snprintf(rs->out, sizeof rs->out, "%s/received.log", dir);
                snprintf(rs->sock, sizeof rs->sock, "%s/log.sock", dir);
                snprintf(rs->ca, sizeof rs->ca, "%s/ca.pem", dir);
                snprintf(rs->pidfile, sizeof rs->pidfile, "%s/rsyslogd.pid", dir);
                rs->udp = free_port(SOCK_DGRAM);
                rs->tcp = free_port(SOCK_STREAM);
                do
                        rs->tls = free_port(SOCK_STREAM);
                while (rs->tls == rs->tcp);
                /* A CA, and a certificate for localhost signed by it. */
                sh(dir, "cd \"$0\" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
                        "-subj '/CN=vmdrift test CA' 2>/dev/null && "
                        "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost "
                        "2>/dev/null && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' >ext.cnf && "
                        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 "
                        "-extfile ext.cnf 2>/dev/null");
                FILE *f = fopen(rs->conf, "w");
                cr_assert_not_null(f);
                fprintf(f,
                        "global(workDirectory=\"%s\" maxMessageSize=\"64k\"\n"
                        "       DefaultNetstreamDriverCAFile=\"%s/ca.pem\" DefaultNetstreamDriverCertFile=\"%s/srv.pem\"\n"
                        "       DefaultNetstreamDriverKeyFile=\"%s/srv.key\")\n"
                        "module(load=\"imudp\")\n"
                        "module(load=\"imtcp\" MaxSessions=\"100\")\n"
                        "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
                        "input(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\" name=\"udp\")\n"
                        "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" name=\"tcp\")\n"
                        "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" name=\"tls\" StreamDriver.Name=\"gtls\"\n"
                        "      StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\n"
                        "input(type=\"imuxsock\" Socket=\"%s\" UseSpecialParser=\"off\")\n"
                        "template(name=\"t\" type=\"string\"\n"
                        "  string=\"%%inputname%%\\t%%msgid%%\\t%%app-name%%\\t%%pri%%\\t%%structured-data%%\\t%%rawmsg%%\\n\")\n"
                        "*.* action(type=\"omfile\" file=\"%s\" template=\"t\")\n",
                        dir, dir, dir, dir, rs->udp, rs->tcp, rs->tls, rs->sock, rs->out);
                fclose(f);
        }
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                /* rsyslogd's own complaints (the readiness probe's TLS
                 * connections, refused handshakes) go to a file, not the test log */
                char log[400];
                snprintf(log, sizeof log, "%s/rsyslogd.stderr", rs->dir);
                int devnull = open("/dev/null", O_RDONLY), lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
                dup2(devnull, 0);
                if (lf >= 0) {
                        dup2(lf, 1);
                        dup2(lf, 2);
                }
                execlp("rsyslogd", "rsyslogd", "-n", "-f", rs->conf, "-i", rs->pidfile, (char *)NULL);
                _exit(127);
        }
        rs->pid = pid;
        for (int i = 0; i < 200; i++) {
                if (tcp_up(rs->tcp) && tcp_up(rs->tls) && access(rs->sock, F_OK) == 0)
                        return;
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid)
                        cr_assert_fail("rsyslogd exited (%d) at start; config %s", st, rs->conf);
                msleep(50);
        }
        cr_assert_fail("rsyslogd did not listen on 127.0.0.1:%d/%d within 10 s", rs->tcp, rs->tls);
}

void coll_rsyslog_stop(coll_rsyslog *rs) {
        if (rs->pid <= 0)
                return;
        kill(rs->pid, SIGTERM);
        int st;
        for (int i = 0; i < 100 && waitpid(rs->pid, &st, WNOHANG) == 0; i++)
                msleep(50);
        kill(rs->pid, SIGKILL);
        waitpid(rs->pid, &st, 0);
        rs->pid = 0;
        unlink(rs->pidfile);
        unlink(rs->sock);
}

static char *slurp(const char *path) {
        FILE *f = fopen(path, "r");
        if (!f)
                return strdup("");
        size_t n = 0, cap = 65536;
        char *b = malloc(cap + 1);
        size_t k;
        while ((k = fread(b + n, 1, cap - n, f)) > 0) {
                n += k;
                if (n == cap)
                        b = realloc(b, (cap *= 2) + 1);
        }
        fclose(f);
        b[n] = '\0';
        return b;
}

/* Wait for n lines, then for quiet: the file must stay the same for half a
 * second, so that a duplicate or an extra message arriving after the n-th
 * is seen by the caller's exact count, not missed. */
char *coll_rsyslog_wait(const coll_rsyslog *rs, size_t n) {
        char *s = NULL;
        size_t last = (size_t)-1;
        int quiet = 0;
        for (int i = 0; i < 400; i++) {
                free(s);
                s = slurp(rs->out);
                size_t lines = 0;
                for (const char *p = s; (p = strchr(p, '\n')); p++)
                        lines++;
                if (lines >= n) {
                        quiet = lines == last ? quiet + 1 : 0;
                        if (quiet >= 10)
                                return s;
                }
                last = lines;
                msleep(50);
        }
        return s;
}

size_t coll_lines(const char *out, coll_line **ret) {
        size_t n = 0, cap = 16;
        coll_line *v = calloc(cap, sizeof *v);
        const char *p = out;
        while (*p) {
                const char *e = strchr(p, '\n');
                if (!e)
                        break;
                char *line = strndup(p, (size_t)(e - p));
                p = e + 1;
                char *f[6] = {0};
                char *save = NULL, *q = line;
                for (int i = 0; i < 6; i++) {
                        char *tab = i < 5 ? strchr(q, '\t') : NULL;
                        f[i] = q;
                        if (tab) {
                                *tab = '\0';
                                q = tab + 1;
                        } else
                                break;
                }
                (void)save;
                if (!f[5]) {
                        free(line);
                        continue;
                }
                if (n == cap)
                        v = realloc(v, (cap *= 2) * sizeof *v);
                coll_line *l = &v[n++];
                memset(l, 0, sizeof *l);
                snprintf(l->input, sizeof l->input, "%s", f[0]);
                snprintf(l->msgid, sizeof l->msgid, "%s", f[1]);
                snprintf(l->app, sizeof l->app, "%s", f[2]);
                snprintf(l->pri, sizeof l->pri, "%s", f[3]);
                l->sd = strdup(f[4]);
                l->raw = strdup(f[5]);
                free(line);
        }
        *ret = v;
        return n;
}

void coll_lines_free(coll_line *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].sd);
                free(v[i].raw);
        }
        free(v);
}

/* ---- RFC 5424, strictly ---- */

static bool printusascii(char c) { return c >= 33 && c <= 126; }

static const char *token(const char **p, char *out, size_t max, size_t minlen, const char *what) {
        size_t n = 0;
        while (**p && **p != ' ') {
                if (!printusascii(**p))
                        return what;
                if (n + 1 >= max)
                        return what;
                out[n++] = *(*p)++;
        }
        out[n] = '\0';
        if (n < minlen || **p != ' ')
                return what;
        (*p)++;
        return NULL;
}

const char *rfc5424_parse(const char *s, rfc5424 *m) {
        memset(m, 0, sizeof *m);
        const char *p = s;
        if (*p++ != '<')
                return "no '<' PRI";
        int pri = 0, d = 0;
        while (*p >= '0' && *p <= '9' && d < 3)
                pri = pri * 10 + (*p++ - '0'), d++;
        if (d == 0 || *p++ != '>' || pri > 191)
                return "bad PRI";
        m->pri = pri;
        if (*p++ != '1' || *p++ != ' ')
                return "VERSION is not 1";
        m->version = 1;
        const char *e;
        if ((e = token(&p, m->timestamp, sizeof m->timestamp, 1, "bad TIMESTAMP")))
                return e;
        /* 2026-11-22T11:52:53.599492Z: date, 'T', time, at most 6 fraction digits, Z or offset */
        const char *t = m->timestamp;
        int y, mo, dd, h, mi, sec;
        char frac[16] = "", zone[16] = "";
        if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%15[0-9]%15s", &y, &mo, &dd, &h, &mi, &sec, frac, zone) < 8 ||
            strlen(frac) > 6 || strlen(frac) < 1 || (strcmp(zone, "Z") != 0 && zone[0] != '+' && zone[0] != '-'))
                return "TIMESTAMP is not RFC 3339 with at most 6 fraction digits";
        if ((e = token(&p, m->hostname, sizeof m->hostname, 1, "bad HOSTNAME")) ||
            (e = token(&p, m->app, 49, 1, "bad APP-NAME")) || (e = token(&p, m->procid, 129, 1, "bad PROCID")) ||
            (e = token(&p, m->msgid, 33, 1, "bad MSGID")))
                return e;
        const char *sd_start = p;
        if (*p == '-') {
                p++;
        } else {
                if (*p != '[')
                        return "STRUCTURED-DATA neither '-' nor '['";
                while (*p == '[') {
                        p++;
                        size_t n = 0;
                        char id[64];
                        while (*p && *p != ' ' && *p != ']') {
                                if (!printusascii(*p) || *p == '=' || *p == '"' || n + 1 >= 33)
                                        return "bad SD-ID";
                                id[n++] = *p++;
                        }
                        id[n] = '\0';
                        if (n == 0)
                                return "empty SD-ID";
                        if (!m->sd_id[0])
                                snprintf(m->sd_id, sizeof m->sd_id, "%s", id);
                        while (*p == ' ') {
                                p++;
                                char name[64];
                                n = 0;
                                while (*p && *p != '=') {
                                        if (!printusascii(*p) || *p == ' ' || *p == ']' || *p == '"' || n + 1 >= 33)
                                                return "bad PARAM-NAME";
                                        name[n++] = *p++;
                                }
                                name[n] = '\0';
                                if (n == 0 || *p++ != '=' || *p++ != '"')
                                        return "bad SD-PARAM";
                                size_t cap = strlen(p) + 1, vl = 0;
                                char *v = malloc(cap);
                                while (*p && *p != '"') {
                                        if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == ']'))
                                                p++;
                                        else if (*p == ']') {
                                                free(v);
                                                return "an unescaped ']' in a PARAM-VALUE";
                                        }
                                        v[vl++] = *p++;
                                }
                                v[vl] = '\0';
                                if (*p++ != '"') {
                                        free(v);
                                        return "unterminated PARAM-VALUE";
                                }
                                if (m->n_params < 64) {
                                        m->names[m->n_params] = strdup(name);
                                        m->values[m->n_params++] = v;
                                } else
                                        free(v);
                        }
                        if (*p++ != ']')
                                return "SD-ELEMENT not closed by ']'";
                }
        }
        m->sd_raw = strndup(sd_start, (size_t)(p - sd_start));
        if (*p == ' ')
                p++;
        else if (*p)
                return "no SP after STRUCTURED-DATA";
        m->msg = strdup(p);
        return NULL;
}

void rfc5424_free(rfc5424 *m) {
        for (size_t i = 0; i < m->n_params; i++) {
                free(m->names[i]);
                free(m->values[i]);
        }
        free(m->sd_raw);
        free(m->msg);
        memset(m, 0, sizeof *m);
}

const char *rfc5424_param(const rfc5424 *m, const char *name) {
        for (size_t i = 0; i < m->n_params; i++)
                if (strcmp(m->names[i], name) == 0)
                        return m->values[i];
        return NULL;
}

/* ---- journald ---- */

static bool journald_up(void) {
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket"};
        bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        return ok;
}

pid_t coll_journald_ensure(void) {
        if (journald_up())
                return 0;
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int devnull = open("/dev/null", 2);
                dup2(devnull, 0);
                dup2(devnull, 1);
                dup2(devnull, 2);
                setsid();
                execl("/lib/systemd/systemd-journald", "systemd-journald", (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                if (journald_up())
                        return pid;
                msleep(50);
        }
        cr_assert_fail("systemd-journald did not start");
        return pid;
}

void coll_journald_stop(pid_t pid) {
        if (pid <= 0)
                return;
        kill(pid, SIGTERM);
        int st;
        waitpid(pid, &st, 0);
}
