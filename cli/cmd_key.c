#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "baseline/vd_sign.h"

static const char key_head[] =
        "usage: vmdrift key generate --out NAME\n"
        "\n"
        "Write an Ed25519 private key to NAME (mode 0600) and its public key to\n"
        "NAME.pub. Sign baselines with 'baseline capture --sign-key NAME'; check\n"
        "them with '--verify-key NAME.pub'. Existing files are never overwritten.\n"
        "\n"
        "options:\n";

static const cli_opt key_options[] = {
        {"out", 'o', "NAME", "the private key's file; the public key is NAME.pub"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};
static const cli_opt *const key_tables[] = {key_options, NULL};

static const char key_tail[] = "\nexit codes: 0 written, 2 usage error or the files exist, 3 cannot write\n";

int cmd_key(int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                return cli_help(argc < 2 ? stderr : stdout, key_head, key_tables, key_tail);
        }
        if (strcmp(argv[1], "generate") != 0) {
                fprintf(stderr, "vmdrift key: unknown subcommand '%s'\n\n", argv[1]);
                return cli_help(stderr, key_head, key_tables, key_tail);
        }
        cli_getopt g;
        cli_getopt_init(&g, key_tables);
        const char *out = NULL;
        int c;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc - 1, argv + 1)) != -1) {
                switch (c) {
                case 'o': out = optarg; break;
                case 'h': return cli_help(stdout, key_head, key_tables, key_tail);
                default: return cli_bad_option("key generate", argv + 1);
                }
        }
        if (!out)
                return cli_usage("key generate", "no key name given: use --out NAME");
        vd_err err = VD_ERR_INIT;
        if (vd_key_generate(out, &err) < 0)
                return cli_fail(&err);
        printf("wrote private key %s (mode 0600) and public key %s.pub\n", out, out);
        return 0;
}
