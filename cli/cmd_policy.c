/* vmdrift policy check: load a policy the way capture and scan do, and say
 * what it holds or exactly where it is wrong. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/vd_str.h"
#include "formats/vd_config.h"
#include "policy/vd_policy.h"

#define MAX_PATHS 64

static const char policy_head[] =
        "usage: vmdrift policy check FILE [--path PATH]...\n"
        "\n"
        "Load a YAML policy and report what it holds: rules, configuration files and\n"
        "detectors. Every error names FILE:LINE:COLUMN and what was expected; an unknown\n"
        "key is an error.\n"
        "\n"
        "options:\n";

enum { OPT_PATH = 256 };

static const cli_opt policy_options[] = {
        {"path", OPT_PATH, "PATH", "say which rule decides for PATH (the first rule, in file order,\n"
                                   "whose paths match and whose excludes do not); repeatable"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};
static const cli_opt *const policy_tables[] = {policy_options, NULL};

static const char policy_tail[] = "\nexit codes: 0 valid, 2 invalid policy or usage error\n";

static void shadow_warn(void *ctx, const char *rule, uint32_t line, const char *by, uint32_t by_line) {
        const char *file = ctx;
        fprintf(stderr,
                "%s:%u: warning: rule '%s' never decides: rule '%s' (line %u) comes first and takes every path it "
                "names (the first matching rule wins; move it up)\n",
                file, line, rule, by, by_line);
}

static void print_rule(const char *path, const vd_rule *r) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_escape_display(&b, path, strlen(path));
        printf("%s: rule %s (%s, severity %s)\n", b.buf, r->name, vd_rule_kind_name(r->kind),
               r->severity >= 0 ? vd_severity_name(r->severity) : "derived from the change");
        vd_buf_release(&b);
}

int cmd_policy(int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                return cli_help(argc < 2 ? stderr : stdout, policy_head, policy_tables, policy_tail);
        }
        if (strcmp(argv[1], "check") != 0)
                return cli_usage("policy", "unknown subcommand '%s' (expected check)", argv[1]);
        argc--, argv++;
        const char *paths[MAX_PATHS];
        size_t n_paths = 0;
        int c;
        cli_getopt g;
        cli_getopt_init(&g, policy_tables);
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                switch (c) {
                case OPT_PATH:
                        if (n_paths == MAX_PATHS)
                                return cli_usage("policy check", "at most %d --path options", MAX_PATHS);
                        if (optarg[0] != '/')
                                return cli_usage("policy check", "--path '%s': paths are absolute inside the guest",
                                                 optarg);
                        paths[n_paths++] = optarg;
                        break;
                case 'h': return cli_help(stdout, policy_head, policy_tables, policy_tail);
                default: return cli_bad_option("policy check", argv);
                }
        }
        if (optind + 1 != argc)
                return cli_usage("policy check", "expected one policy FILE");
        vd_err err = VD_ERR_INIT;
        vd_policy *p = NULL;
        if (vd_policy_load(argv[optind], &p, &err) < 0)
                return cli_fail(&err);
        char dg[65] = "";
        vd_policy_digest(p, dg);
        const vd_conf_item *items;
        size_t n_items = vd_policy_conf_items(p, &items), n_checks = 0, n_user = 0;
        for (size_t i = 0; i < n_items; i++) {
                n_checks += items[i].n_checks;
                n_user += items[i].detector < 0;
        }
        printf("%s: valid policy: %zu rules, %zu configuration files (%zu desired-state checks), sha256 %.16s\n",
               argv[optind], vd_policy_n_rules(p), n_user, n_checks, dg);
        printf("  detectors:");
        for (int d = 0; d < VD_D_COUNT; d++)
                printf(" %s%s", vd_detector_name(d),
                       vd_policy_detector_on(p, d, NULL, 0)
                               ? (d == VD_D_COUNT - 1 ? "" : ",")
                               : (d == VD_D_COUNT - 1 ? " (off)" : " (off),"));
        printf("\n");
        vd_buf pk;
        vd_buf_init(&pk, 0);
        if (vd_policy_packages_summary(p, &pk) == 0 && pk.buf)
                printf("  packages: %s\n", pk.buf);
        vd_buf_release(&pk);
        int dsev;
        int64_t dormant = vd_policy_dormant_after(p, &dsev);
        if (dormant)
                printf("  dormant after: %lld days (%s)\n", (long long)(dormant / 86400), vd_severity_name(dsev));
        if (vd_policy_has_content(p)) {
                const vd_pat *pats;
                size_t np = vd_policy_content_patterns(p, &pats);
                uint64_t mf, mt;
                vd_policy_content_limits(p, &mf, &mt);
                printf("  content: the text of %zu path pattern%s kept for diffs (at most %llu KiB a file, %llu MiB in "
                       "all; secrets masked, shadow and keys never)\n",
                       np, np == 1 ? "" : "s", (unsigned long long)(mf >> 10), (unsigned long long)(mt >> 20));
        }
        const vd_policy_yara *y = vd_policy_yara_conf(p);
        static const char *const scope[] = {"off", "on added files", "on added and changed files"};
        printf("  yara: secret rules %s; --yara rules' matches without a severity: %s; each file matched on its first "
               "%llu MiB within %d s, %llu MiB a scan\n",
               scope[y->secrets], vd_severity_name(y->severity), (unsigned long long)(y->max_file >> 20), y->timeout_s,
               (unsigned long long)(y->max_total >> 20));
        vd_policy_shadowed(p, shadow_warn, argv[optind]);
        for (size_t i = 0; i < n_paths; i++)
                print_rule(paths[i], vd_policy_match(p, paths[i], strlen(paths[i]), 0));
        vd_policy_free(p);
        return 0;
}
