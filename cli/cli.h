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

/* Source options shared by capture and scan. */
#define CLI_MAX_IMAGES 32
#define CLI_ALLOW_BACKING_MAX 64 /* backing files a scan allows besides the baseline's templates */

typedef struct cli_source_opts {
        const char *dir;
        const char *images[CLI_MAX_IMAGES];
        size_t n_images;
        const char *image_format;
        const char *domain, *connect;
        int strategy;
        bool one_file_system;
        unsigned threads;
        unsigned max_depth;
        int accel;             /* enum vd_accel */
        /* --allow-backing (a fleet: the inventory's templates), then the baseline's template images */
        const char *allow_backing[CLI_ALLOW_BACKING_MAX + CLI_MAX_IMAGES];
        size_t n_allow_backing;
        const char *state_dir; /* --state-dir; NULL: $STATE_DIRECTORY or the default */
        const char *expect_formats[CLI_MAX_IMAGES]; /* the baseline's image.N.format where captured from the same image */
        bool have_expect;
        bool full_inspection;         /* --full-inspection: never mount from the baseline's layout */
        int hash_in;                  /* --hash-in: VD_HASH_IN_HOST (default) or VD_HASH_IN_APPLIANCE */
        const vd_baseline *layout;    /* the baseline whose layout, facts and packages may be reused */
} cli_source_opts;

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
int cli_source_opt(cli_source_opts *o, int c, const char *arg, const char *cmd);
/* Check that exactly one kind of source was given; 0 or 2 (usage). */
int cli_source_check(const cli_source_opts *o, const char *cmd);
/* Open the source; for guests this launches the appliance. */
/* One scan, typed: what vmdrift scan builds from its options and a fleet
 * worker from an inventory record. Strings are borrowed. */
#define CLI_MAX_REPORTS 16
typedef struct cli_scan_request {
        cli_source_opts so;
        vd_sink_opts sink;
        const char *baseline, *verify_key, *policy, *packages_from, *advisories, *ecosystem;
        const char *guest; /* the name events carry (--guest) */
        const char *reports[CLI_MAX_REPORTS];
        size_t n_reports; /* 0: the text report on stdout */
        bool quick, allow_rollback, full, paranoid;
        bool kept_only; /* a guest's kept report (or its twin's) or nothing: -1, nothing opened or printed */
        uint32_t ignore;
        int fail_on;
} cli_scan_request;
struct vd_scan_outcome;
/* Run it: the exit code (0, 1, 2, 3; -1 for kept_only with nothing kept),
 * and, with ret, what it came to (exit code, counts, mode, the error). */
int cli_scan_run(const cli_scan_request *rq, struct vd_scan_outcome *ret);

/* The environment, read on first use (cli/env.c); never NULL. */
typedef struct cli_env {
        const char *tmp_dir;          /* TMPDIR, or NULL */
        const char *walker;           /* VMDRIFT_WALKER, or NULL */
        const char *guestfs_backend;  /* "direct" unless LIBGUESTFS_BACKEND is set */
        const char *sudo_user;        /* SUDO_USER, or NULL */
        const char *test_worker_dies; /* VMDRIFT_TEST_WORKER_DIES (tests): a fleet worker dies as it starts this guest */
        const char *state_directory;  /* STATE_DIRECTORY (systemd), or NULL */
        const char *test_stop_at;     /* VMDRIFT_TEST_STOP_AT (tests): vd_testpoint.h */
        bool debug;                   /* VMDRIFT_DEBUG set and not 0 */
        bool no_color;                /* NO_COLOR set and not empty */
        uint64_t host_hash_min;       /* VMDRIFT_HOST_HASH_MIN (benchmarks); 0: default */
        vd_guest_knobs knobs;         /* VMDRIFT_LAUNCH_TIMEOUT, _KVM_LAUNCH_TIMEOUT, and the tests' knobs */
} cli_env;
const cli_env *cli_env_get(void);

/* A fleet worker's shared appliance for the guests it scans next, which
 * cli_open_source passes on (vd_guest_opts.share); NULL: none. Owned by
 * the fleet worker (cmd_fleet.c). */
extern vd_guest_share *cli_share;

int cli_open_source(const cli_source_opts *o, bool want_walker, vd_source **ret, vd_err *err);
bool cli_parse_uint(const char *s, unsigned *ret);

/* Allow the backing files the baseline b was captured from (its template
 * images) in so's image chains. */
void cli_allow_template_images(cli_source_opts *so, const vd_baseline *b);
/* Let a guest be mounted from b's recorded layout (unless --full-inspection). */
void cli_use_baseline_layout(cli_source_opts *so, const vd_baseline *b);

/* vd_baseline_open for a fleet worker's kept-report pass, which opens the
 * same baseline for guest after guest: the last one opened stays open while
 * its file and the verify key's are unchanged (device, inode, size, mtime,
 * ctime). *owned: the caller frees it; else it is the process's, read only. */
int cli_baseline_open_kept(const char *path, const char *verify_key, const vd_baseline **ret, bool *owned,
                           vd_err *err);

/* The walk options the source options set (the pipeline adds the hash key). */
void cli_scan_opts(const cli_source_opts *so, vd_scan_opts *o);

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
/* Close sinks left open on an error path (NULL entries are skipped). */
void cli_close_sinks(vd_sink **sinks, size_t n);
/* Set rep->exit_code from its events and fail_on, give every sink the report
 * (each gets it even if an earlier one failed) and close them. Returns the
 * exit code of the run: rep->exit_code, or 3 if a sink failed. */
int cli_deliver(vd_sink **sinks, size_t n, vd_report *rep);

/* An input of this run, for cli_refuse_overwrite: what it is and its path
 * (NULL paths are skipped). */
typedef struct cli_input {
        const char *what, *path;
} cli_input;
#define CLI_MAX_INPUTS (CLI_MAX_IMAGES + 8)

/* Refuse an output that is one of this run's inputs: the same file (device
 * and inode, symlinks followed) or the same path. 0, or 2 after saying which
 * output would have replaced which input. */
int cli_refuse_overwrite(const char *cmd, const char *what, const char *out, const cli_input *in, size_t n);
/* Add the source's files (images; the directory) to in[*n]. */
void cli_source_inputs(const cli_source_opts *so, cli_input *in, size_t *n);
/* The file a report spec writes ("text:F", "json:F"), or NULL. */
const char *cli_report_file(const char *spec);

/* The policy file, or the built-in default when path is NULL. */
int cli_load_policy(const char *path, vd_policy **ret, vd_err *err);
/* "vmdrift: policy violation (high): /etc/ssh/sshd_config: PermitRootLogin is "yes": expected "no" (...)" */
void cli_print_violations(const vd_events *ev, FILE *fp);

void cli_print_warnings(const vd_scan *s);

#endif
