/* vmdrift baseline accept: turn legitimate drift into a new baseline. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "baseline/vd_accept.h"
#include "baseline/vd_baseline.h"
#include "baseline/vd_sign.h"
#include "common/vd_str.h"
#include "policy/vd_policy.h"
#include "run/vd_pipeline.h"

#define MAX_PATHS 64

static const char accept_head[] =
        "usage: vmdrift baseline accept --baseline OLD SOURCE -o NEW --reason TEXT\n"
        "                               [--path GLOB]... [--sign-key KEY] [--verify-key PUB]\n"
        "\n"
        "Write NEW: OLD with the current state of the source taken in, for every change\n"
        "or only for the paths given (a GLOB as in policies: '*' stays within one path\n"
        "component, '**' spans any number; a directory also takes in everything below\n"
        "it). OLD is never modified; NEW\n"
        "keeps OLD's hash key and history, plus a record of who, when, why and what.\n"
        "\n";

enum { OPT_BASELINE = 256, OPT_REASON, OPT_PATH, OPT_SIGN_KEY, OPT_VERIFY_KEY, OPT_DERIVE, OPT_POLICY };

static const char *who(void) {
        const char *s = cli_env_get()->sudo_user;
        if (s)
                return s;
        struct passwd *pw = getpwuid(getuid());
        return pw ? pw->pw_name : "?";
}

static const cli_opt accept_options[] = {
        {NULL, 0, NULL,
         "\n"
         "options:\n"},
        {"baseline", OPT_BASELINE, "OLD", "the baseline to start from"},
        {"output", 'o', "NEW", "the baseline to write (never OLD itself)"},
        {"reason", OPT_REASON, "TEXT", "why the change is legitimate (required; kept in the history)"},
        {"path", OPT_PATH, "GLOB", "accept only changes at matching paths (repeatable)"},
        {"derive", OPT_DERIVE, NULL,
         "write NEW as deltas over OLD's template (OLD itself when it is\n"
         "a template baseline): rebuilding the template in place (with\n"
         "--key-from) then keeps this guest's accepted changes"},
        {"policy", OPT_POLICY, "FILE",
         "the policy whose configuration files are recorded as values\n"
         "(as at capture; default: the built-in policy)"},
        {"sign-key", OPT_SIGN_KEY, "KEY", "sign NEW"},
        {"verify-key", OPT_VERIFY_KEY, "PUB", "refuse an OLD whose signature does not verify"},
        {"quiet", 'q', NULL, "print nothing but errors"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};

static const cli_opt *const accept_tables[] = {cli_source_options, accept_options, NULL};

static const char accept_tail[] =
        "\n"
        "exit codes: 0 written, 2 usage error, 3 runtime error (nothing written)\n";

int cmd_accept(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, accept_tables);
        vd_source_spec so = {0};
        const char *old_path = NULL, *out = NULL, *reason = NULL, *sign_key = NULL, *verify_key = NULL,
                   *policy = NULL;
        const char *globs[MAX_PATHS];
        size_t n_globs = 0;
        bool quiet = false, derive = false;
        int c;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                int sr = cli_source_opt(&so, c, optarg, "baseline accept");
                if (sr == 1)
                        continue;
                if (sr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case OPT_BASELINE: old_path = optarg; break;
                case 'o': out = optarg; break;
                case OPT_REASON: reason = optarg; break;
                case OPT_PATH:
                        if (n_globs == MAX_PATHS)
                                return cli_usage("baseline accept", "at most %d --path options", MAX_PATHS);
                        if (optarg[0] != '/')
                                return cli_usage("baseline accept", "--path '%s': paths are absolute inside the guest", optarg);
                        globs[n_globs++] = optarg;
                        break;
                case OPT_SIGN_KEY: sign_key = optarg; break;
                case OPT_VERIFY_KEY: verify_key = optarg; break;
                case 'q': quiet = true; break;
                case OPT_DERIVE: derive = true; break;
                case OPT_POLICY: policy = optarg; break;
                case 'h': return cli_help(stdout, accept_head, accept_tables, accept_tail);
                default: return cli_bad_option("baseline accept", argv);
                }
        }
        if (optind < argc)
                return cli_usage("baseline accept", "unexpected argument '%s'", argv[optind]);
        if (!old_path || !out)
                return cli_usage("baseline accept", "--baseline OLD and -o NEW are required");
        if (!reason || !*reason)
                return cli_usage("baseline accept", "--reason TEXT is required: say why this change is legitimate");
        if (cli_source_check(&so, "baseline accept"))
                return EXIT_USAGE;
        struct stat so_st, sn_st;
        if (strcmp(old_path, out) == 0 ||
            (stat(old_path, &so_st) == 0 && stat(out, &sn_st) == 0 && so_st.st_dev == sn_st.st_dev &&
             so_st.st_ino == sn_st.st_ino))
                return cli_usage("baseline accept", "NEW must not be OLD: accept never rewrites a baseline in place");

        vd_err err = VD_ERR_INIT;
        vd_baseline *old = NULL, *nb = NULL;
        vd_source *src = NULL;
        vd_policy *pol = NULL;
        vd_run_out res;
        vd_run_out_init(&res);
        char *old_real = NULL;
        int rc = 0;
        char signer[VD_KEYID_LEN + 1] = "";
        char templates[8192]; /* the template images' names so.allow_backing points at */
        if (vd_baseline_open(old_path, verify_key, &old, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        {
                /* NEW replaces none of this run's inputs, the template of a
                 * derived OLD included (its deltas would lose their base). */
                vd_input in[VD_INPUTS_MAX] = {{"baseline", old_path},
                                                {"template baseline", old->template_path},
                                                {"policy", policy},
                                                {"signing key", sign_key},
                                                {"verify key", verify_key}};
                size_t nin = 5;
                vd_source_spec_inputs(&so, in, &nin);
                if ((rc = cli_refuse_overwrite("baseline accept", "NEW", out, in, nin)) != 0)
                        goto out;
        }
        if (derive && !old->template_path && !(old_real = realpath(old_path, NULL))) {
                vd_err_errno(&err, VD_E_IO, errno, "cannot resolve '%s'", old_path);
                rc = cli_fail(&err);
                goto out;
        }
        vd_source_spec_allow_templates(&so, old, templates, sizeof templates);
        so.layout = old;
        if ((sign_key && vd_key_id(sign_key, true, signer, &err) < 0) || vd_policy_open(policy, &pol, &err) < 0 ||
            cli_open_source(&so, true, &src, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        vd_run run;
        vd_run_init(&run, VD_RUN_ACCEPT);
        run.src = src;
        run.base = old;
        run.policy = pol;
        vd_source_spec_walk_opts(&so, &run.opts);
        char host[256] = "", dg[65] = "";
        gethostname(host, sizeof host - 1);
        if (policy)
                vd_policy_digest(pol, dg);
        vd_accept_req q = {.globs = globs,
                           .n_globs = n_globs,
                           .reason = reason,
                           .user = who(),
                           .host = host,
                           .signer = signer,
                           .sign_key = sign_key,
                           .derive = derive,
                           .old_realpath = old_real,
                           .policy_digest = policy ? dg : NULL,
                           .policy_source = policy ? vd_policy_source(pol) : NULL,
                           .now_ns = vd_now_ns()};
        vd_accept_counts n;
        if (vd_run_exec(&run, &res, &err) < 0 ||
            vd_baseline_accept(old, &res.scan, &res.conf, &res.texts, &res.events, &q, &nb, &n, &err) < 0 ||
            vd_baseline_write(nb, out, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        if (!quiet) {
                size_t total = res.events.n;
                printf("accepted %zu change%s (%zu changed, %zu added, %zu removed) of %zu into %s\n", n.accepted,
                       n.accepted == 1 ? "" : "s", n.changed, n.added, n.removed, total, out);
                printf("  reason: %s\n  by %s on %s%s%s\n", reason, q.user, host, signer[0] ? ", signed with key " : "",
                       signer);
                if (n.accepted < total)
                        printf("  %zu change%s not matching --path stay drift\n", total - n.accepted,
                               total - n.accepted == 1 ? "" : "s");
        }
out:
        free(old_real);
        vd_run_out_release(&res);
        vd_baseline_free(old);
        vd_baseline_free(nb);
        vd_policy_free(pol);
        vd_source_close(src);
        return rc;
}
