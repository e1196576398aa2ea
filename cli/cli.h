/* cli/: the only code that prints for a person or calls exit. */
#ifndef VD_CLI_H
#define VD_CLI_H

#include <stdbool.h>

#include "vd_err.h"
#include "vd_source.h"

#define EXIT_DRIFT 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

int cmd_baseline(int argc, char **argv);
int cmd_scan(int argc, char **argv);

/* Print "vmdrift: <msg>" to stderr and return the exit code for err. */
int cli_fail(const vd_err *err);
/* Print a usage error with a hint and return 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Source options shared by capture and scan. */
typedef struct cli_source_opts {
        const char *dir;
        bool one_file_system;
        unsigned threads;
        unsigned max_depth;
} cli_source_opts;

int cli_open_source(const cli_source_opts *o, const char *cmd, vd_source **ret, vd_err *err);
bool cli_parse_uint(const char *s, unsigned *ret);
void cli_print_warnings(const vd_scan *s);

#endif
