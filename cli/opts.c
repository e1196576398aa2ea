/* Options declared once (cli_opt tables): getopt_long's table, its short
 * options string and the --help text are all made from them, so an option
 * cannot be parsed but undocumented, or documented under another name. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* the column where help text starts: "  --baseline FILE" padded to it */
#define HELP_COL 23

static bool is_short(int id) { return id > 0 && id < 128 && isalnum(id); }

void cli_getopt_init(cli_getopt *g, const cli_opt *const *tables) {
        size_t nl = 0, ns = 0;
        memset(g, 0, sizeof *g);
        for (const cli_opt *const *t = tables; *t; t++)
                for (const cli_opt *o = *t; o->name || o->id || o->help; o++) {
                        if (!o->id)
                                continue; /* a line of help text */
                        /* the tables are the program's own: a full table is a bug, found by any test */
                        if (nl >= CLI_OPTS_MAX || ns + 3 >= sizeof g->shorts)
                                abort();
                        if (o->name)
                                g->lo[nl++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                                              o->id};
                        if (is_short(o->id)) {
                                g->shorts[ns++] = (char)o->id;
                                if (o->arg)
                                        g->shorts[ns++] = ':';
                        }
                }
        g->shorts[ns] = '\0';
        g->lo[nl] = (struct option){NULL, 0, NULL, 0};
}

int cli_getopt_next(cli_getopt *g, int argc, char **argv) { return getopt_long(argc, argv, g->shorts, g->lo, NULL); }

/* One option's lines: "  -o, --name ARG" padded to HELP_COL, or alone on
 * its line when longer; every further line of its help indented to it. */
static void help_option(FILE *f, const cli_opt *o) {
        char left[128];
        int n = snprintf(left, sizeof left, "  %s%s%s%s%s%s%s", is_short(o->id) ? "-" : "",
                         is_short(o->id) ? (char[2]){(char)o->id, 0} : "", is_short(o->id) && o->name ? ", " : "",
                         o->name ? "--" : "", o->name ? o->name : "", o->arg ? " " : "", o->arg ? o->arg : "");
        fputs(left, f);
        if (n < HELP_COL)
                fprintf(f, "%*s", HELP_COL - n, "");
        else
                fprintf(f, "\n%*s", HELP_COL, "");
        for (const char *p = o->help; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                fwrite(p, 1, len, f);
                fputc('\n', f);
                if (!nl)
                        break;
                p = nl + 1;
                if (*p)
                        fprintf(f, "%*s", HELP_COL, "");
        }
}

void cli_opts_help(FILE *f, const cli_opt *const *tables) {
        for (const cli_opt *const *t = tables; *t; t++)
                for (const cli_opt *o = *t; o->name || o->id || o->help; o++) {
                        if (!o->name && !is_short(o->id)) {
                                if (o->help)
                                        fputs(o->help, f); /* a line of help text, as it is */
                        } else if (o->help)
                                help_option(f, o);
                }
}

int cli_help(FILE *f, const char *head, const cli_opt *const *tables, const char *tail) {
        fputs(head, f);
        cli_opts_help(f, tables);
        if (tail)
                fputs(tail, f);
        return f == stdout ? 0 : EXIT_USAGE;
}
