/* vmdrift inventory: a guest's OS and installed packages as an SBOM. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "analyse/vd_sbom.h"
#include "baseline/vd_baseline.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include "run/vd_pipeline.h"

static const char inventory_head[] =
        "usage: vmdrift inventory (--image FILE... | --domain NAME | --dir PATH | --baseline FILE)\n"
        "                         [--format cyclonedx|spdx|json] [-o FILE]\n"
        "\n"
        "A guest's operating system and installed packages as a software bill of\n"
        "materials: CycloneDX 1.5 JSON (default) or SPDX 2.3 JSON, with package URLs\n"
        "(pkg:deb/..., pkg:rpm/...), for Grype, Trivy or Dependency-Track; or plain\n"
        "JSON. From a guest (disks opened read-only), a directory tree (its dpkg\n"
        "status) or a baseline (what the template had when it was captured).\n"
        "\n";

enum { OPT_BASELINE = 256, OPT_FORMAT, OPT_VERIFY_KEY };

static const cli_opt inventory_options[] = {
        {NULL, 0, NULL,
         "\n"
         "options:\n"},
        {"baseline", OPT_BASELINE, "FILE", "inventory of a baseline instead of a source"},
        {"verify-key", OPT_VERIFY_KEY, "PUB", "with --baseline: refuse one whose signature does not verify"},
        {"format", OPT_FORMAT, "F", "cyclonedx (default), spdx or json"},
        {"output", 'o', "FILE", "write there (atomically) instead of standard output"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};

static const cli_opt *const inventory_tables[] = {cli_source_options, inventory_options, NULL};

static const char inventory_tail[] =
        "\n"
        "exit codes: 0 ok, 2 usage error, 3 the source or baseline cannot be read or the\n"
        "output written\n";

int cmd_inventory(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, inventory_tables);
        vd_source_spec so = {0};
        const char *baseline = NULL, *output = NULL, *verify_key = NULL;
        int format = VD_SBOM_CYCLONEDX, c;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                int sr = cli_source_opt(&so, c, optarg, "inventory");
                if (sr == 1)
                        continue;
                if (sr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case OPT_BASELINE: baseline = optarg; break;
                case OPT_VERIFY_KEY: verify_key = optarg; break;
                case OPT_FORMAT:
                        if ((format = vd_sbom_format_from_name(optarg)) < 0)
                                return cli_usage("inventory", "--format expects cyclonedx, spdx or json, not '%s'",
                                                 optarg);
                        break;
                case 'o': output = optarg; break;
                case 'h': return cli_help(stdout, inventory_head, inventory_tables, inventory_tail);
                default: return cli_bad_option("inventory", argv);
                }
        }
        if (optind < argc)
                return cli_usage("inventory", "unexpected argument '%s'", argv[optind]);
        bool source = so.dir || so.n_images || so.domain;
        if (baseline && source)
                return cli_usage("inventory", "give a source or --baseline, not both");
        if (!baseline && !source)
                return cli_usage("inventory", "nothing to inventory: use --image FILE, --domain NAME, --dir PATH or "
                                              "--baseline FILE");
        if (!baseline && cli_source_check(&so, "inventory"))
                return EXIT_USAGE;
        if (verify_key && !baseline)
                return cli_usage("inventory", "--verify-key goes with --baseline");
        if (output) {
                vd_input in[VD_INPUTS_MAX] = {{"baseline", baseline}, {"verify key", verify_key}};
                size_t nin = 2;
                vd_source_spec_inputs(&so, in, &nin);
                if (cli_refuse_overwrite("inventory", "output", output, in, nin))
                        return EXIT_USAGE;
        }
        vd_err err = VD_ERR_INIT;
        vd_baseline *b = NULL;
        vd_source *src = NULL;
        vd_scan inv;
        vd_scan_init(&inv);
        vd_buf out;
        vd_buf_init(&out, 0);
        int rc = 0;
        vd_sbom_in in = {.now_ns = vd_now_ns()};
        if (baseline) {
                if (vd_baseline_open(baseline, verify_key, &b, &err) < 0) {
                        rc = cli_fail(&err);
                        goto done;
                }
                in.source = b->source ? b->source : baseline;
                in.facts = b->facts;
                in.n_facts = b->n_facts;
                in.packages = b->packages;
                in.n_packages = b->n_packages;
        } else {
                if (cli_open_source(&so, false, &src, &err) < 0 ||
                    (so.dir ? vd_dir_packages(src, &inv, &err) : vd_source_inventory(src, &inv, &err)) < 0) {
                        rc = cli_fail(&err);
                        goto done;
                }
                for (size_t i = 0; i < inv.n_warnings; i++)
                        fprintf(stderr, "vmdrift: warning: %s\n", inv.warnings[i].msg);
                if (!inv.packages_known)
                        fprintf(stderr, "vmdrift: warning: no package database was read: the inventory lists the "
                                        "operating system only\n");
                in.source = src->desc;
                in.facts = inv.facts;
                in.n_facts = inv.n_facts;
                in.packages = inv.packages;
                in.n_packages = inv.n_packages;
        }
        if (vd_sbom_render(format, &in, &out, &err) < 0) {
                rc = cli_fail(&err);
                goto done;
        }
        if (output) {
                if (vd_write_atomic(output, out.buf, out.len, 0644, &err) < 0)
                        rc = cli_fail(&err);
        } else if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
                vd_err_errno(&err, VD_E_IO, errno, "cannot write the inventory to standard output");
                rc = cli_fail(&err);
        }
done:
        vd_buf_release(&out);
        vd_scan_release(&inv);
        vd_source_close(src);
        vd_baseline_free(b);
        return rc;
}
