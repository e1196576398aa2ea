/* Real collectors for the tests: an rsyslogd (Debian package) listening on
 * loopback over UDP, TCP, TLS (a CA and certificate made here) and a unix
 * socket, writing what it parsed to a file; and systemd-journald, started
 * when it is not running. Plus a strict RFC 5424 parser to check messages. */
#ifndef VD_TEST_COLLECTORS_H
#define VD_TEST_COLLECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct coll_rsyslog {
        char dir[256];
        char conf[300], out[300], sock[300], ca[300], pidfile[300];
        int udp, tcp, tls; /* ports */
        pid_t pid;
} coll_rsyslog;

/* Start rsyslogd with its files under dir; fails the test if it cannot. */
void coll_rsyslog_start(coll_rsyslog *rs, const char *dir);
void coll_rsyslog_stop(coll_rsyslog *rs);
/* Wait (up to 20 s) until the output holds at least n lines; returns the
 * content (caller frees). */
char *coll_rsyslog_wait(const coll_rsyslog *rs, size_t n);

/* One line of the output: rsyslog's view (input, msgid, app-name, pri,
 * structured-data) and the raw message as received. */
typedef struct coll_line {
        char input[32], msgid[64], app[64], pri[8];
        char *sd, *raw;
} coll_line;
size_t coll_lines(const char *out, coll_line **ret); /* caller frees with coll_lines_free */
void coll_lines_free(coll_line *v, size_t n);

/* A strictly parsed RFC 5424 message. */
typedef struct rfc5424 {
        int pri, version;
        char timestamp[64], hostname[256], app[64], procid[160], msgid[64];
        char sd_id[64];
        char *sd_raw; /* the STRUCTURED-DATA as it appears */
        size_t n_params;
        char *names[64], *values[64]; /* unescaped */
        char *msg;
} rfc5424;
/* 0, or a message saying what is wrong. */
const char *rfc5424_parse(const char *s, rfc5424 *m);
void rfc5424_free(rfc5424 *m);
const char *rfc5424_param(const rfc5424 *m, const char *name);

/* systemd-journald: start it when /run/systemd/journal/socket does not
 * answer; returns its pid (0 if one was already running). */
pid_t coll_journald_ensure(void);
void coll_journald_stop(pid_t pid);

#endif
