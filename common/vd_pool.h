/* A pool of worker processes, in the shape of git's run_processes_parallel:
 * the parent hands out tasks as workers become free, a worker (a fork of
 * the parent, no exec) runs them one at a time and answers with messages
 * as it goes, and the parent waits on the workers' sockets (poll), never
 * on a timer or on files. A worker that dies is noticed at once (its
 * socket closes) and its task is said to have died with it.
 *
 * Ownership: the pool owns its processes and sockets and reaps every
 * worker before vd_pool_run returns; tasks and messages are bytes, copied
 * (a callback's pointers are valid during the call only). */
#ifndef VD_POOL_H
#define VD_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"

#define VD_POOL_MSG_MAX (1u << 20) /* a task or a message, bytes */
#define VD_POOL_WORKERS_MAX 64u

typedef struct vd_pool vd_pool; /* in a worker: the way back to the parent */

typedef struct vd_pool_ops {
        /* Parent: the next task for a free worker, appended to task; false:
         * none now. Asked whenever a worker is free, again after every
         * message and every task's end (a task may become ready later); the
         * pool ends when it says none and no task runs. */
        bool (*next)(void *ctx, vd_buf *task);
        /* Worker: run one task, telling the parent as it goes (vd_pool_send). */
        void (*run)(void *ctx, vd_pool *pool, const void *task, size_t len);
        /* Parent: a message of worker's current task. */
        void (*message)(void *ctx, unsigned worker, const void *task, size_t task_len, const void *msg,
                        size_t len);
        /* Parent: a task ended: its worker finished it (died false), or
         * died during it (status as waitpid gives it). */
        void (*done)(void *ctx, unsigned worker, const void *task, size_t len, bool died, int status);
} vd_pool_ops;

typedef struct vd_pool_opts {
        unsigned workers;          /* at most this many at once, 1..VD_POOL_WORKERS_MAX */
        unsigned tasks_per_worker; /* 0: any number; 1: a fresh process for each task */
} vd_pool_opts;

/* Run tasks until next() has none and none runs. An error (no worker
 * could be started at all, or the pool's own allocation) leaves the
 * tasks next() did not give out to the caller. */
int vd_pool_run(const vd_pool_opts *o, const vd_pool_ops *ops, void *ctx, vd_err *err);

/* Worker: send one message (at most VD_POOL_MSG_MAX bytes) to the parent. */
int vd_pool_send(vd_pool *pool, const void *msg, size_t len, vd_err *err);

#endif
