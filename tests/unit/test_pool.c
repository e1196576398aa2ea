/* The worker pool (common/vd_pool.c) with real processes: every task runs
 * once, messages come back, a worker that dies ends its task and no other,
 * a task may appear only after another's message, one process a task. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_pool.h"

#define N_MAX 64

struct ctx {
        int queue[N_MAX];
        size_t nq, next_q;
        int done[N_MAX];      /* times each task ended */
        int died[N_MAX];      /* ... of those, with its worker */
        int status[N_MAX];    /* waitpid status of a died one */
        long answer[N_MAX];   /* what its message said */
        pid_t pid[N_MAX];     /* the process that ran it */
        int messages;
        int follow_up;        /* a message from task 0 adds this task, 0: none */
        int die;              /* the task whose worker dies after its message, 0: none */
};

static bool next(void *c, vd_buf *task) {
        struct ctx *x = c;
        if (x->next_q == x->nq)
                return false;
        return vd_buf_add(task, &x->queue[x->next_q++], sizeof(int)) == 0;
}

struct answer {
        int task;
        long value;
        pid_t pid;
};

static void run(void *c, vd_pool *pool, const void *task, size_t len) {
        const struct ctx *x = c;
        int t;
        cr_assert_eq(len, sizeof t);
        memcpy(&t, task, sizeof t);
        struct answer a = {t, (long)t * t, getpid()};
        vd_err err = VD_ERR_INIT;
        vd_pool_send(pool, &a, sizeof a, &err);
        if (x->die && t == x->die)
                raise(SIGKILL); /* dies after its message */
}

static void message(void *c, unsigned worker, const void *task, size_t tlen, const void *msg, size_t len) {
        struct ctx *x = c;
        struct answer a;
        cr_assert_eq(len, sizeof a);
        memcpy(&a, msg, sizeof a);
        int t;
        memcpy(&t, task, sizeof t);
        cr_assert_eq(a.task, t, "a message belongs to the task its worker runs");
        x->answer[t] = a.value;
        x->pid[t] = a.pid;
        x->messages++;
        if (t == 0 && x->follow_up)
                x->queue[x->nq++] = x->follow_up;
}

static void done(void *c, unsigned worker, const void *task, size_t len, bool died, int status) {
        struct ctx *x = c;
        int t;
        memcpy(&t, task, sizeof t);
        x->done[t]++;
        x->died[t] += died;
        x->status[t] = status;
}

static const vd_pool_ops ops = {next, run, message, done};

Test(pool, every_task_runs_once_and_answers) {
        struct ctx x = {0};
        for (int i = 0; i < 40; i++)
                x.queue[x.nq++] = i;
        vd_pool_opts o = {.workers = 3};
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_pool_run(&o, &ops, &x, &err), 0, "%s", err.msg);
        pid_t pids[3] = {0};
        int n_pids = 0;
        for (int i = 0; i < 40; i++) {
                cr_assert_eq(x.done[i], 1, "task %d ended %d times", i, x.done[i]);
                cr_assert_eq(x.died[i], 0);
                cr_assert_eq(x.answer[i], (long)i * i);
                cr_assert_neq(x.pid[i], getpid(), "tasks run in workers, not in the parent");
                bool seen = false;
                for (int k = 0; k < n_pids; k++)
                        seen |= pids[k] == x.pid[i];
                if (!seen) {
                        cr_assert_lt(n_pids, 3, "at most 3 workers");
                        pids[n_pids++] = x.pid[i];
                }
        }
        cr_assert_eq(x.messages, 40);
}

Test(pool, a_worker_that_dies_ends_its_task_and_no_other) {
        struct ctx x = {.die = 13};
        for (int i = 0; i < 30; i++)
                x.queue[x.nq++] = i;
        vd_pool_opts o = {.workers = 2};
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_pool_run(&o, &ops, &x, &err), 0, "%s", err.msg);
        for (int i = 0; i < 30; i++) {
                cr_assert_eq(x.done[i], 1, "task %d ended %d times", i, x.done[i]);
                cr_assert_eq(x.died[i], i == 13, "task %d", i);
                cr_assert_eq(x.answer[i], (long)i * i, "task %d answered before", i);
        }
        cr_assert(WIFSIGNALED(x.status[13]) && WTERMSIG(x.status[13]) == SIGKILL);
}

Test(pool, a_task_that_appears_after_a_message_runs) {
        struct ctx x = {0};
        x.queue[x.nq++] = 0;
        x.follow_up = 7;
        vd_pool_opts o = {.workers = 4};
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_pool_run(&o, &ops, &x, &err), 0, "%s", err.msg);
        cr_assert_eq(x.done[0], 1);
        cr_assert_eq(x.done[7], 1, "asked for again after task 0's message");
        cr_assert_eq(x.answer[7], 49);
}

Test(pool, one_process_a_task) {
        struct ctx x = {0};
        for (int i = 0; i < 6; i++)
                x.queue[x.nq++] = i;
        vd_pool_opts o = {.workers = 2, .tasks_per_worker = 1};
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_pool_run(&o, &ops, &x, &err), 0, "%s", err.msg);
        for (int i = 0; i < 6; i++) {
                cr_assert_eq(x.done[i], 1);
                for (int k = 0; k < i; k++)
                        cr_assert_neq(x.pid[i], x.pid[k], "tasks %d and %d shared a process", k, i);
        }
}
