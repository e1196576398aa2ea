#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/vd_str.h"

static const char inspect_head[] =
        "usage: vmdrift inspect (--image FILE... | --domain NAME) [--packages]\n"
        "\n"
        "Say what a guest is: OS, distribution, version, hostname, architecture,\n"
        "file systems and mountpoints, and how many packages are installed.\n"
        "The disks are opened read-only.\n"
        "\n";

enum { OPT_PACKAGES = 256 };

static const cli_opt inspect_options[] = {
        {NULL, 0, NULL,
         "\n"
         "options:\n"},
        {"packages", OPT_PACKAGES, NULL, "list every installed package too"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};

static const cli_opt *const inspect_tables[] = {cli_source_options, inspect_options, NULL};

static const char inspect_tail[] =
        "\n"
        "exit codes: 0 ok, 2 usage error, 3 the guest cannot be opened\n";

static void print_kv(const char *k, const char *v) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_buf_addf(&b, "%-20s ", k);
        vd_escape_display(&b, v, strlen(v));
        vd_buf_addc(&b, '\n');
        fputs(b.buf, stdout);
        vd_buf_release(&b);
}

int cmd_inspect(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, inspect_tables);
        vd_source_spec so = {0};
        bool packages = false;
        int c;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                int sr = cli_source_opt(&so, c, optarg, "inspect");
                if (sr == 1)
                        continue;
                if (sr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case OPT_PACKAGES: packages = true; break;
                case 'h': return cli_help(stdout, inspect_head, inspect_tables, inspect_tail);
                default: return cli_bad_option("inspect", argv);
                }
        }
        if (optind < argc)
                return cli_usage("inspect", "unexpected argument '%s'", argv[optind]);
        if (cli_source_check(&so, "inspect"))
                return EXIT_USAGE;
        if (so.dir)
                return cli_usage("inspect", "inspect works on guests: use --image or --domain");
        vd_err err = VD_ERR_INIT;
        vd_source *src = NULL;
        vd_scan inv;
        vd_scan_init(&inv);
        int rc = 0;
        if (cli_open_source(&so, false, &src, &err) < 0 || vd_source_inventory(src, &inv, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        print_kv("guest", src->desc);
        for (size_t i = 0; i < inv.n_facts; i++)
                print_kv(inv.facts[i].key, inv.facts[i].value);
        for (size_t i = 0; i < inv.n_warnings; i++)
                fprintf(stderr, "vmdrift: warning: %s\n", inv.warnings[i].msg);
        if (packages)
                for (size_t i = 0; i < inv.n_packages; i++) {
                        const vd_package *p = &inv.packages[i];
                        vd_buf b;
                        vd_buf_init(&b, 0);
                        vd_escape_display(&b, p->name, strlen(p->name));
                        vd_buf_addc(&b, ' ');
                        if (p->epoch)
                                vd_buf_addf(&b, "%d:", p->epoch);
                        vd_escape_display(&b, p->version, strlen(p->version));
                        if (p->release[0]) {
                                vd_buf_addc(&b, '-');
                                vd_escape_display(&b, p->release, strlen(p->release));
                        }
                        vd_buf_addc(&b, ' ');
                        vd_escape_display(&b, p->arch, strlen(p->arch));
                        if (p->source) {
                                vd_buf_adds(&b, " (source ");
                                vd_escape_display(&b, p->source, strlen(p->source));
                                if (p->source_version) {
                                        vd_buf_addc(&b, ' ');
                                        vd_escape_display(&b, p->source_version, strlen(p->source_version));
                                }
                                vd_buf_addc(&b, ')');
                        }
                        vd_buf_addc(&b, '\n');
                        fputs(b.buf, stdout);
                        vd_buf_release(&b);
                }
out:
        vd_scan_release(&inv);
        vd_source_close(src);
        return rc;
}
