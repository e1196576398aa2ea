#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/vd_log.h"
#include "common/vd_testpoint.h"

#ifndef VD_VERSION
#define VD_VERSION "0.0.0"
#endif

static const char usage[] =
        "usage: vmdrift <command> [options]\n"
        "\n"
        "Agentless integrity and drift monitor for virtual machines and directory trees.\n"
        "\n"
        "commands:\n"
        "  baseline capture   record a baseline of a template\n"
        "  baseline show      print what a baseline holds\n"
        "  baseline accept    take legitimate changes into a new baseline, with the reason\n"
        "  baseline diff      what changed between two baselines\n"
        "  baseline export    a baseline as sorted ND-JSON\n"
        "  scan               compare a source against a baseline and report drift\n"
        "  inspect            say what a guest image is (OS, version, file systems, packages)\n"
        "  inventory          a guest's OS and packages as an SBOM (CycloneDX, SPDX)\n"
        "  key generate       make an Ed25519 key pair for signing baselines\n"
        "  policy check       validate a YAML policy; say which rule decides for a path\n"
        "  fleet              scan every guest of an inventory; sprawl and staleness findings\n"
        "  fleet check        validate a fleet inventory\n"
        "  fleet status       each guest's last result\n"
        "\n"
        "Sources: --dir PATH, --image FILE (repeatable: every disk of one guest), --domain NAME.\n"
        "Guest disks are always opened read-only, through libguestfs.\n"
        "\n"
        "Run 'vmdrift <command> --help' for the options of a command.\n"
        "\n"
        "exit codes:\n"
        "  0  no drift (at or above --fail-on)\n"
        "  1  drift at or above --fail-on\n"
        "  2  usage or input error (bad option, bad policy)\n"
        "  3  runtime error (unreadable source, missing or damaged baseline, failed report)\n"
        "  4  vmdrift fleet: another fleet run holds the lock\n";

struct cmd {
        const char *name;
        int (*fn)(int argc, char **argv);
};

static const struct cmd cmds[] = {
        {"baseline", cmd_baseline},
        {"scan", cmd_scan},
        {"inspect", cmd_inspect},
        {"inventory", cmd_inventory},
        {"key", cmd_key},
        {"policy", cmd_policy},
        {"fleet", cmd_fleet},
};

int cli_fail(const vd_err *err) {
        fprintf(stderr, "vmdrift: %s\n", err->msg[0] ? err->msg : vd_code_name(err->code));
        return vd_code_exit(err->code);
}

int cli_usage(const char *cmd, const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "vmdrift %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'vmdrift %s --help'.\n", cmd);
        return EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv) {
        if (optopt > 0 && optopt < 128)
                return cli_usage(cmd, "option '-%c' is unknown or needs a value", optopt);
        return cli_usage(cmd, "option '%s' is unknown or needs a value", optind > 0 ? argv[optind - 1] : "?");
}

int main(int argc, char **argv) {
        opterr = 0; /* commands report bad options themselves, naming the command */
        const cli_env *env = cli_env_get();
        vd_log_set_debug(env->debug);
        vd_test_points_set(env->test_stop_at);
        if (argc < 2) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(usage, stdout);
                return 0;
        }
        if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
                printf("vmdrift %s\n", VD_VERSION);
                return 0;
        }
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
                if (strcmp(argv[1], cmds[i].name) == 0)
                        return cmds[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "vmdrift: unknown command '%s'\n\n%s", argv[1], usage);
        return EXIT_USAGE;
}
