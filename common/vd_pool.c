/* The worker pool (vd_pool.h). Each worker has one socket pair with the
 * parent (a stream, so a worker that dies is an end of file, and a write
 * to a dead one an error rather than SIGPIPE); on it go frames: a type
 * byte, a 32-bit little-endian length, the bytes. Parent to worker: 'T' a
 * task. Worker to parent: 'M' a message, 'D' the task is done. */
#define _GNU_SOURCE
#include "common/vd_pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct vd_pool {
        int fd;
};

struct worker {
        pid_t pid; /* 0: none (not started, or reaped) */
        int fd;
        bool busy;
        unsigned ran;
        vd_buf task; /* the task it runs, while busy */
};

static int send_frame(int fd, char type, const void *p, size_t len) {
        unsigned char h[5] = {(unsigned char)type, (unsigned char)len, (unsigned char)(len >> 8),
                              (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
        struct iovec iov[2] = {{h, sizeof h}, {(void *)p, len}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
        size_t left = sizeof h + len;
        while (left) {
                ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                left -= (size_t)n;
                /* a short send: step over what went */
                while (n > 0 && mh.msg_iovlen) {
                        size_t take = (size_t)n < mh.msg_iov->iov_len ? (size_t)n : mh.msg_iov->iov_len;
                        mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + take;
                        mh.msg_iov->iov_len -= take;
                        n -= (ssize_t)take;
                        if (!mh.msg_iov->iov_len) {
                                mh.msg_iov++;
                                mh.msg_iovlen--;
                        }
                }
        }
        return 0;
}

static int read_exact(int fd, void *p, size_t len) {
        char *c = p;
        while (len) {
                ssize_t n = read(fd, c, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                c += n;
                len -= (size_t)n;
        }
        return 0;
}

/* One frame into b (its type in *type); -1 at the end or on a bad frame. */
static int read_frame(int fd, char *type, vd_buf *b) {
        unsigned char h[5];
        if (read_exact(fd, h, sizeof h) < 0)
                return -1;
        size_t len = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
        if (len > VD_POOL_MSG_MAX)
                return -1;
        vd_buf_reset(b);
        char chunk[16384];
        while (len) {
                size_t take = len < sizeof chunk ? len : sizeof chunk;
                if (read_exact(fd, chunk, take) < 0 || vd_buf_add(b, chunk, take) < 0)
                        return -1;
                len -= take;
        }
        *type = (char)h[0];
        return 0;
}

int vd_pool_send(vd_pool *pool, const void *msg, size_t len, vd_err *err) {
        if (len > VD_POOL_MSG_MAX)
                return vd_err_set(err, VD_E_LIMIT, "a message to the pool's parent of %zu bytes", len);
        if (send_frame(pool->fd, 'M', msg, len) < 0)
                return vd_err_errno(err, VD_E_IO, errno, "cannot send to the pool's parent");
        return 0;
}

/* The worker process: tasks until the parent closes its end, or until
 * tasks_per_worker of them. Never returns. */
static void worker_main(const vd_pool_opts *o, const vd_pool_ops *ops, void *ctx, int fd) {
        vd_pool pool = {fd};
        vd_buf task;
        vd_buf_init(&task, VD_POOL_MSG_MAX + 1);
        unsigned ran = 0;
        char type;
        while (read_frame(fd, &type, &task) == 0 && type == 'T') {
                ops->run(ctx, &pool, task.buf, task.len);
                fflush(NULL);
                if (send_frame(fd, 'D', NULL, 0) < 0)
                        break;
                if (o->tasks_per_worker && ++ran >= o->tasks_per_worker)
                        break;
        }
        vd_buf_release(&task);
        fflush(NULL);
        _exit(0);
}

static int spawn(struct worker *w, struct worker *all, unsigned n, const vd_pool_opts *o, const vd_pool_ops *ops,
                 void *ctx) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -1;
        fflush(NULL); /* or the child writes the parent's buffered output again */
        pid_t pid = fork();
        if (pid < 0) {
                close(sv[0]);
                close(sv[1]);
                return -1;
        }
        if (pid == 0) {
                /* the other workers' ends: held here, their deaths would go unseen */
                for (unsigned i = 0; i < n; i++)
                        if (all[i].pid > 0)
                                close(all[i].fd);
                close(sv[0]);
                worker_main(o, ops, ctx, sv[1]);
        }
        close(sv[1]);
        w->pid = pid;
        w->fd = sv[0];
        w->busy = false;
        w->ran = 0;
        return 0;
}

/* Close w's end and wait for it: its status. */
static int reap(struct worker *w) {
        int status = 0;
        close(w->fd);
        while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
                ;
        w->pid = 0;
        w->fd = -1;
        return status;
}

/* w died (or broke the protocol): its task ends with it. */
static void died(struct worker *w, unsigned i, const vd_pool_ops *ops, void *ctx) {
        kill(w->pid, SIGKILL); /* if it only broke the protocol */
        int status = reap(w);
        if (w->busy) {
                w->busy = false;
                ops->done(ctx, i + 1, w->task.buf, w->task.len, true, status);
        }
}

/* Give out tasks while next() has some and a worker is free or can be
 * started; -1 if one could not be started and none runs. */
static int hand_out(struct worker *w, unsigned n, const vd_pool_opts *o, const vd_pool_ops *ops, void *ctx,
                    vd_buf *task, vd_err *err) {
        for (unsigned i = 0; i < n; i++) {
                if (w[i].busy)
                        continue;
                vd_buf_reset(task);
                if (!ops->next(ctx, task))
                        return 0;
                if (w[i].pid <= 0 && spawn(&w[i], w, n, o, ops, ctx) < 0) {
                        int e = errno;
                        vd_buf_reset(&w[i].task);
                        /* the task goes back as if its worker had died at once */
                        w[i].busy = false;
                        ops->done(ctx, i + 1, task->buf, task->len, true, 0);
                        bool any = false;
                        for (unsigned k = 0; k < n; k++)
                                any |= w[k].busy;
                        if (!any)
                                return vd_err_errno(err, VD_E_IO, e, "cannot start a worker process");
                        return 0;
                }
                vd_buf_reset(&w[i].task);
                if (vd_buf_add(&w[i].task, task->buf, task->len) < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                w[i].busy = true;
                if (send_frame(w[i].fd, 'T', task->buf, task->len) < 0)
                        died(&w[i], i, ops, ctx);
        }
        return 0;
}

/* Read what w said: its messages, then its task's end; or its death. */
static void answer(struct worker *w, unsigned i, const vd_pool_opts *o, const vd_pool_ops *ops, void *ctx,
                   vd_buf *msg) {
        char type;
        if (read_frame(w->fd, &type, msg) < 0 || (type != 'M' && type != 'D')) {
                died(w, i, ops, ctx);
                return;
        }
        if (type == 'M') {
                ops->message(ctx, i + 1, w->task.buf, w->task.len, msg->buf, msg->len);
                return;
        }
        w->busy = false;
        w->ran++;
        ops->done(ctx, i + 1, w->task.buf, w->task.len, false, 0);
        if (o->tasks_per_worker && w->ran >= o->tasks_per_worker)
                reap(w);
}

int vd_pool_run(const vd_pool_opts *o, const vd_pool_ops *ops, void *ctx, vd_err *err) {
        unsigned n = o->workers < 1 ? 1 : o->workers > VD_POOL_WORKERS_MAX ? VD_POOL_WORKERS_MAX : o->workers;
        struct worker w[VD_POOL_WORKERS_MAX];
        memset(w, 0, sizeof w);
        vd_buf task, msg;
        vd_buf_init(&task, VD_POOL_MSG_MAX + 1);
        vd_buf_init(&msg, VD_POOL_MSG_MAX + 1);
        for (unsigned i = 0; i < n; i++) {
                w[i].fd = -1;
                vd_buf_init(&w[i].task, VD_POOL_MSG_MAX + 1);
        }
        int rc = 0;
        for (;;) {
                if ((rc = hand_out(w, n, o, ops, ctx, &task, err)) < 0)
                        break;
                struct pollfd pf[VD_POOL_WORKERS_MAX];
                unsigned who[VD_POOL_WORKERS_MAX], np = 0;
                for (unsigned i = 0; i < n; i++)
                        if (w[i].busy) {
                                pf[np] = (struct pollfd){w[i].fd, POLLIN, 0};
                                who[np++] = i;
                        }
                if (!np)
                        break; /* nothing runs and next() had nothing */
                if (poll(pf, np, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        rc = vd_err_errno(err, VD_E_IO, errno, "poll on the worker processes");
                        break;
                }
                for (unsigned k = 0; k < np; k++)
                        if (pf[k].revents && w[who[k]].pid > 0)
                                answer(&w[who[k]], who[k], o, ops, ctx, &msg);
        }
        /* idle workers read the end of their socket and leave; busy ones
         * (after an error) are stopped */
        for (unsigned i = 0; i < n; i++) {
                if (w[i].pid > 0) {
                        if (w[i].busy)
                                kill(w[i].pid, SIGKILL);
                        reap(&w[i]);
                }
                vd_buf_release(&w[i].task);
        }
        vd_buf_release(&task);
        vd_buf_release(&msg);
        return rc;
}
