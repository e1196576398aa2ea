/* cli/: the only code that prints for a person or calls exit. */
#ifndef VD_CLI_H
#define VD_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "baseline/vd_baseline.h"
#include "collect/vd_source.h"
#include "common/vd_err.h"
#include "policy/vd_policy.h"
#include "report/vd_report.h"
#include "run/vd_outcome.h"
#include "run/vd_scan_request.h"
#include "run/vd_source_spec.h"

#define EXIT_DRIFT 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3
#define EXIT_LOCKED 4 /* vmdrift fleet: another fleet run holds the lock */

int cmd_baseline(int argc, char **argv);
int cmd_scan(int argc, char **argv);
/* vmdrift fleet: when this scan would give the guest's kept report again
 * (untouched, or a twin: nothing to launch), give it exactly as cmd_scan
 * would and return the exit code; otherwise -1, having opened, printed and
 * delivered nothing (usage errors are cmd_scan's codes, printed). */
int cmd_inspect(int argc, char **argv);
int cmd_inventory(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_accept(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

/* Print "vmdrift: <msg>" to stderr and return the exit code for err. */
int cli_fail(const vd_err *err);
/* After getopt_long returned '?' for argv: name the bad option in one line,
 * point at --help, return 2 (the full help would bury the error). */
int cli_bad_option(const char *cmd, char **argv);
/* Print a usage error with a hint and return 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One option, declared once: getopt_long's table, the short options and the
 * --help text are made from a command's tables (cli/opts.c).
 *   {"baseline", OPT_BASELINE, "FILE", "the baseline...\nsecond line"}
 *   {"help", 'h', NULL, "this help"}      also -h (a printable id is a short option)
 *   {NULL, 'o', "FILE", "..."}            -o only
 *   {NULL, 0, NULL, "options:\n"}         a line of help text, printed as it is
 *   {"accel", CLI_OPT_ACCEL, "MODE", NULL} parsed, described by a text line
 * A table ends with CLI_OPT_END. */
typedef struct cli_opt {
        const char *name; /* the long name, without "--"; NULL: none */
        int id;           /* what getopt_long returns for it; 0: a line of text */
        const char *arg;  /* its argument's name in --help ("FILE"); NULL: it takes none */
        const char *help; /* lines separated by '\n'; NULL: not listed */
} cli_opt;
#define CLI_OPT_END {NULL, 0, NULL, NULL}
#define CLI_OPTS_MAX 64 /* options of one command, all its tables */
typedef struct cli_getopt {
        struct option lo[CLI_OPTS_MAX + 1];
        char shorts[2 * CLI_OPTS_MAX + 1];
} cli_getopt;
/* tables: NULL-terminated. Then cli_getopt_next as getopt_long. */
void cli_getopt_init(cli_getopt *g, const cli_opt *const *tables);
int cli_getopt_next(cli_getopt *g, int argc, char **argv);
/* The options' part of --help, in the tables' order. */
void cli_opts_help(FILE *f, const cli_opt *const *tables);
/* The help: head, the options, tail (may be NULL); returns 0 for stdout
 * (--help), 2 otherwise (help after a usage error, on stderr). */
int cli_help(FILE *f, const char *head, const cli_opt *const *tables, const char *tail);

/* Source options shared by capture, scan and inspect (getopt_long values). */
enum {
        CLI_OPT_DIR = 1000,
        CLI_OPT_IMAGE,
        CLI_OPT_IMAGE_FORMAT,
        CLI_OPT_DOMAIN,
        CLI_OPT_CONNECT,
        CLI_OPT_STRATEGY,
        CLI_OPT_ONEFS,
        CLI_OPT_THREADS,
        CLI_OPT_DEPTH,
        CLI_OPT_ACCEL,
        CLI_OPT_ALLOW_BACKING,
        CLI_OPT_FULL_INSPECTION,
        CLI_OPT_HASH_IN,
};
/* The source options, under the heading "source (exactly one kind):". */
extern const cli_opt cli_source_options[];

/* Handle one source option; 1 if it was one, 0 if not, 2 (usage) on a bad value. */
int cli_source_opt(vd_source_spec *o, int c, const char *arg, const char *cmd);
/* Check that exactly one kind of source was given; 0 or 2 (usage). */
int cli_source_check(const vd_source_spec *o, const char *cmd);
/* Open the source with the host's settings (cli_env_get()->host): for
 * guests this launches the appliance. */
int cli_open_source(const vd_source_spec *o, bool want_walker, vd_source **ret, vd_err *err);

/* vd_scan_request_run with the host's settings; a failure that ends it is
 * said here (a usage error as one). The exit code, or -1 (kept_only). */
int cli_scan_run(const vd_scan_request *rq, vd_scan_outcome *ret);

/* The environment, read on first use (cli/env.c); never NULL. */
typedef struct cli_env {
        vd_host_env host;             /* what the library below takes (TMPDIR, the walker, knobs...) */
        const char *sudo_user;        /* SUDO_USER, or NULL */
        const char *test_worker_dies; /* VMDRIFT_TEST_WORKER_DIES (tests): a fleet worker dies as it starts this guest */
        const char *test_stop_at;     /* VMDRIFT_TEST_STOP_AT (tests): vd_testpoint.h */
        bool debug;                   /* VMDRIFT_DEBUG set and not 0 */
        bool no_color;                /* NO_COLOR set and not empty */
} cli_env;
const cli_env *cli_env_get(void);
/* How the CLI says a notice (vd_host_env.notice): progress on a terminal
 * only, warnings and errors always (cron mails them). */
void cli_notice(void *ud, int level, const char *msg);

bool cli_parse_uint(const char *s, unsigned *ret);

/* vd_sink_opts_init, and the sinks' notices said as the CLI says them. */
void cli_sink_opts_init(vd_sink_opts *o);
/* Open every --report sink before any long work; 0, or the exit code after
 * reporting the error (sinks opened so far are closed). */
int cli_open_sinks(const char *const *specs, size_t n, const vd_sink_opts *o, vd_sink **sinks);

/* Report options shared by scan and baseline diff. */
enum {
        CLI_OPT_SYSLOG_CA = 1100,
        CLI_OPT_SYSLOG_FACILITY,
        CLI_OPT_SYSLOG_ENTERPRISE,
        CLI_OPT_SYSLOG_FORMAT,
        CLI_OPT_SYSLOG_ATTEMPTS,
        CLI_OPT_MAX_EVENTS,
        CLI_OPT_STATE_DIR,
        CLI_OPT_REPORT,
};
/* --report SPEC (handled by each command: CLI_OPT_REPORT); the sinks'
 * settings (cli_report_opt). */
extern const cli_opt cli_report_spec_options[];
extern const cli_opt cli_report_options[];

/* Handle one report option; 1 if it was one, 0 if not, 2 (usage) on a bad value. */
int cli_report_opt(vd_sink_opts *o, int c, const char *arg, const char *cmd);
/* vd_sinks_deliver, each failed sink said. */
int cli_deliver(vd_sink **sinks, size_t n, vd_report *rep);

/* vd_refuse_overwrite: 0, or 2 after saying which output would have
 * replaced which input. */
int cli_refuse_overwrite(const char *cmd, const char *what, const char *out, const vd_input *in, size_t n);

/* "vmdrift: policy violation (high): /etc/ssh/sshd_config: PermitRootLogin is "yes": expected "no" (...)" */
void cli_print_violations(const vd_events *ev, FILE *fp);

void cli_print_warnings(const vd_scan *s);

#endif
