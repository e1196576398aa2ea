#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "baseline/vd_sign.h"

static const char key_usage[] =
        "usage: vmdrift key generate --out NAME\n"
        "\n"
        "Write an Ed25519 private key to NAME (mode 0600) and its public key to\n"
        "NAME.pub. Sign baselines with 'baseline capture --sign-key NAME'; check\n"
        "them with '--verify-key NAME.pub'. Existing files are never overwritten.\n"
        "\n"
        "exit codes: 0 written, 2 usage error or the files exist, 3 cannot write\n";

int cmd_key(int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(key_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? EXIT_USAGE : 0;
        }
        if (strcmp(argv[1], "generate") != 0) {
                fprintf(stderr, "vmdrift key: unknown subcommand '%s'\n\n%s", argv[1], key_usage);
                return EXIT_USAGE;
        }
        static const struct option lo[] = {
                {"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
        const char *out = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc - 1, argv + 1, "o:h", lo, NULL)) != -1) {
                switch (c) {
                case 'o': out = optarg; break;
                case 'h': fputs(key_usage, stdout); return 0;
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
