/* Inside report/: the syslog sink's parts. vd_syslog.c is the sink (open,
 * deliver with retries, close); vd_syslog_format.c renders messages (RFC 5424
 * structured data, @cee, CEF); vd_syslog_net.c carries them (unix, UDP, TCP
 * with octet counting, TLS); vd_spool.c keeps what could not be sent. */
#ifndef VD_SYSLOG_INT_H
#define VD_SYSLOG_INT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "report/vd_remote.h"
#include "vd_sink_int.h"

#define MSG_MAX 8000            /* rsyslog's default maxMessageSize is 8k */
#define IO_TIMEOUT_MS 10000
#define SPOOL_MAX ((size_t)64 << 20)
#define SPOOL_MSG_MAX ((size_t)64 << 10)

enum { T_UNIX, T_UDP, T_TCP, T_TLS };

typedef struct syslog_sink {
        int transport;
        char *url;
        char *host, *port, *path; /* path: unix socket */
        vd_sink_opts o;
        char *ca;
        char *spool_dir; /* <state>/spool/<slug> */
        char hostname[256];
        /* connection */
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
        vd_err last; /* the last delivery error */
} syslog_sink;

/* vd_syslog_format.c: one message, whole (RFC 5424 header, then SD, @cee
 * or CEF), at most MSG_MAX bytes (the changes are dropped first). */
int vd_syslog_render(const syslog_sink *s, const vd_report *r, vd_rmsg *m, const vd_event *ev, vd_buf *out);

/* vd_syslog_net.c: connect, send, notice a closed peer. Failures set
 * s->last and return its (negative) code. */
int vd_syslog_connect(syslog_sink *s);
void vd_syslog_disconnect(syslog_sink *s);
int vd_syslog_send(syslog_sink *s, const char *p, size_t n);
bool vd_syslog_peer_gone(syslog_sink *s);

/* vd_spool.c: messages in order, and the spool files that keep them. */
typedef struct vd_msglist {
        char **v;
        size_t *n;
        size_t count, alloc;
} vd_msglist;
int vd_msglist_push(vd_msglist *l, char *p, size_t n); /* takes p */
void vd_msglist_free(vd_msglist *l);
/* The spool files in dir (ours, regular, not writable by others), oldest
 * first; *total_bytes their size. */
size_t vd_spool_list(const char *dir, char ***ret, size_t *total_bytes);
/* Append the records of one spool file ("LEN SP MSG"); a damaged tail is dropped. */
void vd_spool_read(const char *file, vd_msglist *l);
/* Write l's messages from `from` on to a new spool file in dir (created 0700,
 * trusted like the state directory), named by time and scan id, atomically.
 * path_out gets its name. */
int vd_spool_write(const char *dir, const char *scan_id, const vd_msglist *l, size_t from, char *path_out,
                   size_t path_sz, vd_err *err);

#endif
