/* vmdrift baseline accept: turn legitimate drift into a new baseline. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vd_baseline.h"
#include "vd_compare.h"
#include "vd_confscan.h"
#include "vd_policy.h"
#include "vd_sign.h"
#include "vd_str.h"

#define MAX_PATHS 64

static const char accept_usage[] =
        "usage: vmdrift baseline accept --baseline OLD SOURCE -o NEW --reason TEXT\n"
        "                               [--path GLOB]... [--sign-key KEY] [--verify-key PUB]\n"
        "\n"
        "Write NEW: OLD with the current state of the source taken in, for every change\n"
        "or only for the paths given (a GLOB matches the whole path, '*' crosses '/';\n"
        "a directory also takes in everything below it). OLD is never modified; NEW\n"
        "keeps OLD's hash key and history, plus a record of who, when, why and what.\n"
        "\n" CLI_SOURCE_HELP
        "\n"
        "options:\n"
        "  --baseline OLD       the baseline to start from\n"
        "  -o, --output NEW     the baseline to write (never OLD itself)\n"
        "  --reason TEXT        why the change is legitimate (required; kept in the history)\n"
        "  --path GLOB          accept only changes at matching paths (repeatable)\n"
        "  --derive             write NEW as deltas over OLD's template (OLD itself when it is\n"
        "                       a template baseline): rebuilding the template in place (with\n"
        "                       --key-from) then keeps this guest's accepted changes\n"
        "  --policy FILE        the policy whose configuration files are recorded as values\n"
        "                       (as at capture; default: the built-in policy)\n"
        "  --sign-key KEY       sign NEW\n"
        "  --verify-key PUB     refuse an OLD whose signature does not verify\n"
        "  -q, --quiet          print nothing but errors\n"
        "\n"
        "exit codes: 0 written, 2 usage error, 3 runtime error (nothing written)\n";

enum { OPT_BASELINE = 256, OPT_REASON, OPT_PATH, OPT_SIGN_KEY, OPT_VERIFY_KEY, OPT_DERIVE, OPT_POLICY };

static bool matches(const char *const *globs, size_t n, const char *path, size_t len) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++) {
                size_t gl = strlen(globs[i]);
                if (fnmatch(globs[i], path, 0) == 0)
                        return true;
                /* A directory takes in its subtree. */
                if (len > gl && strncmp(path, globs[i], gl) == 0 && (path[gl] == '/' || globs[i][gl - 1] == '/'))
                        return true;
        }
        return false;
}

static const char *who(void) {
        const char *s = getenv("SUDO_USER");
        if (s && *s)
                return s;
        struct passwd *pw = getpwuid(getuid());
        return pw ? pw->pw_name : "?";
}

int cmd_accept(int argc, char **argv) {
        static const struct option lo[] = {CLI_SOURCE_LONGOPTS,
                                           {"baseline", required_argument, NULL, OPT_BASELINE},
                                           {"output", required_argument, NULL, 'o'},
                                           {"reason", required_argument, NULL, OPT_REASON},
                                           {"path", required_argument, NULL, OPT_PATH},
                                           {"sign-key", required_argument, NULL, OPT_SIGN_KEY},
                                           {"verify-key", required_argument, NULL, OPT_VERIFY_KEY},
                                           {"derive", no_argument, NULL, OPT_DERIVE},
                                           {"policy", required_argument, NULL, OPT_POLICY},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
        cli_source_opts so = {0};
        const char *old_path = NULL, *out = NULL, *reason = NULL, *sign_key = NULL, *verify_key = NULL,
                   *policy = NULL;
        const char *globs[MAX_PATHS];
        size_t n_globs = 0;
        bool quiet = false, derive = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
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
                case 'h': fputs(accept_usage, stdout); return 0;
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
        vd_scan scan;
        vd_events ev, viol;
        vd_confsets conf;
        vd_scan_init(&scan);
        vd_events_init(&ev);
        vd_events_init(&viol);
        vd_confsets_init(&conf);
        vd_buf paths;
        vd_buf_init(&paths, 0);
        int rc = 0;
        char signer[VD_KEYID_LEN + 1] = "";
        if (vd_baseline_open(old_path, verify_key, &old, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        {
                /* NEW replaces none of this run's inputs, the template of a
                 * derived OLD included (its deltas would lose their base). */
                cli_input in[CLI_MAX_INPUTS] = {{"baseline", old_path},
                                                {"template baseline", old->template_path},
                                                {"policy", policy},
                                                {"signing key", sign_key},
                                                {"verify key", verify_key}};
                size_t nin = 5;
                cli_source_inputs(&so, in, &nin);
                if ((rc = cli_refuse_overwrite("baseline accept", "NEW", out, in, nin)) != 0)
                        goto out;
        }
        cli_allow_template_images(&so, old);
        if ((sign_key && vd_key_id(sign_key, true, signer, &err) < 0) || cli_load_policy(policy, &pol, &err) < 0 ||
            cli_open_source(&so, true, &src, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        vd_scan_opts o;
        cli_scan_opts(&so, old, &o);
        if (vd_source_scan(src, &o, &scan, &err) < 0 || vd_compare(&old->entries, &scan.entries, pol, &ev, &err) < 0 ||
            vd_config_collect(src, &scan.entries, pol, old->seed, sizeof old->seed, &conf, &viol, &scan, &err) < 0 ||
            vd_baseline_new(&nb, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        /* NEW: OLD's entries, with every matching change replaced by what is there now. */
        size_t accepted = 0, n_added = 0, n_removed = 0, n_changed = 0;
        const vd_entries *cur = &scan.entries;
        bool ok = true;
        for (size_t i = 0; i < old->entries.n && ok; i++) {
                const vd_entry *e = old->entries.v[i];
                const vd_entry *now = vd_entries_find(cur, e->path, e->path_len);
                bool take = matches(globs, n_globs, e->path, e->path_len);
                const vd_entry *keep = take ? now : e; /* NULL: removed and accepted */
                if (keep) {
                        vd_entry *d = vd_entry_dup(keep);
                        ok = d && vd_entries_push(&nb->entries, d) == 0;
                }
        }
        for (size_t i = 0; i < cur->n && ok; i++) {
                const vd_entry *e = cur->v[i];
                if (!vd_entries_find(&old->entries, e->path, e->path_len) && matches(globs, n_globs, e->path, e->path_len)) {
                        vd_entry *d = vd_entry_dup(e);
                        ok = d && vd_entries_push(&nb->entries, d) == 0;
                }
        }
        for (size_t i = 0; i < ev.n && ok; i++) {
                const vd_event *x = &ev.v[i];
                if (!matches(globs, n_globs, x->path, x->path_len))
                        continue;
                accepted++;
                n_added += x->kind == VD_CH_ADDED;
                n_removed += x->kind == VD_CH_REMOVED;
                n_changed += x->kind == VD_CH_CHANGED;
                ok = vd_buf_addf(&paths, "%s ", vd_change_kind_name(x->kind)) == 0 &&
                     vd_escape_display(&paths, x->path, x->path_len) == 0 && vd_buf_addc(&paths, '\n') == 0;
        }
        /* Configuration values: the current ones where accepted, OLD's elsewhere. */
        for (size_t i = 0; i < old->config.n && ok; i++) {
                const vd_confset *oc = &old->config.v[i];
                bool take = matches(globs, n_globs, oc->path, strlen(oc->path));
                const vd_confset *nc = vd_confsets_find(&conf, oc->path);
                if (!take)
                        ok = vd_confsets_copy_set(&nb->config, oc) == 0;
                else if (nc)
                        ok = vd_confsets_copy_set(&nb->config, nc) == 0;
        }
        for (size_t i = 0; i < conf.n && ok; i++)
                if (!vd_confsets_find(&old->config, conf.v[i].path) &&
                    matches(globs, n_globs, conf.v[i].path, strlen(conf.v[i].path)))
                        ok = vd_confsets_copy_set(&nb->config, &conf.v[i]) == 0;
        vd_confsets_sort(&nb->config);
        if (!ok) {
                vd_err_set(&err, VD_E_NOMEM, "out of memory");
                rc = cli_fail(&err);
                goto out;
        }
        vd_entries_sort(&nb->entries);
        if (derive || old->template_path) {
                /* Keep only what differs from the template. */
                vd_baseline *t = NULL;
                char *tpath = old->template_path ? strdup(old->template_path) : realpath(old_path, NULL);
                if (!tpath || vd_baseline_load(tpath, &t, &err) < 0) {
                        if (!tpath)
                                vd_err_errno(&err, VD_E_IO, errno, "cannot resolve '%s'", old_path);
                        free(tpath);
                        rc = cli_fail(&err);
                        goto out;
                }
                /* Removed: template paths absent from the new effective state. */
                for (size_t i = 0; i < t->entries.n && ok; i++) {
                        const vd_entry *te = t->entries.v[i];
                        if (vd_entries_find(&nb->entries, te->path, te->path_len))
                                continue;
                        vd_entry *r = vd_entry_new();
                        ok = r && vd_entry_set_path(r, te->path, te->path_len) == 0 && vd_entries_push(&nb->removed, r) == 0;
                        if (!ok)
                                vd_entry_free(r);
                }
                /* Deltas: entries of the new state that the template lacks or has otherwise. */
                vd_entries deltas;
                vd_entries_init(&deltas);
                for (size_t i = 0; i < nb->entries.n; i++) {
                        vd_entry *e = nb->entries.v[i];
                        const vd_entry *te = vd_entries_find(&t->entries, e->path, e->path_len);
                        if (!ok || (te && vd_entry_equal(te, e))) {
                                vd_entry_free(e);
                                continue;
                        }
                        if (vd_entries_push(&deltas, e) < 0) {
                                vd_entry_free(e);
                                ok = false;
                        }
                }
                nb->entries.n = 0;
                vd_entries_release(&nb->entries);
                nb->entries = deltas;
                nb->template_path = tpath;
                memcpy(nb->template_digest, t->content_digest, sizeof nb->template_digest);
                vd_baseline_free(t);
        }
        memcpy(nb->seed, old->seed, sizeof nb->seed);
        nb->hash_algo = old->hash_algo;
        nb->sign_key = sign_key;
        nb->created_ns = vd_now_ns();
        nb->owners_resolved = old->owners_resolved;
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        nb->source_kind = strdup(old->source_kind);
        nb->source = strdup(old->source);
        nb->hostname = strdup(host);
        if (policy) {
                char dg[65] = "";
                cli_policy_digest(pol, dg);
                nb->policy_digest = strdup(dg);
                nb->policy_source = strdup(vd_policy_source(pol));
        } else {
                nb->policy_digest = strdup(old->policy_digest);
                nb->policy_source = strdup(old->policy_source);
        }
        if (n_globs == 0)
                vd_baseline_take_inventory(nb, &scan); /* the whole current state */
        else { /* only some paths: the OS facts and packages stay OLD's */
                vd_scan keep;
                vd_scan_init(&keep);
                for (size_t i = 0; i < old->n_facts && ok; i++)
                        ok = vd_scan_add_fact(&keep, old->facts[i].key, old->facts[i].value) == 0;
                for (size_t i = 0; i < old->n_packages && ok; i++) {
                        const vd_package *p = &old->packages[i];
                        ok = vd_scan_add_package(&keep, p->name, p->epoch, p->version, p->release, p->arch) == 0;
                }
                vd_baseline_take_inventory(nb, &keep);
                vd_scan_release(&keep);
        }
        for (size_t i = 0; i < old->n_history && ok; i++)
                ok = vd_baseline_add_history(nb, &old->history[i]) == 0;
        vd_history h = {.time_ns = nb->created_ns,
                        .user = (char *)who(),
                        .host = host,
                        .reason = (char *)reason,
                        .signer = signer,
                        .prev_digest = old->content_digest,
                        .paths = paths.buf ? paths.buf : (char *)"",
                        .n_changes = accepted};
        if (ok)
                ok = vd_baseline_add_history(nb, &h) == 0;
        if (!ok || !nb->source_kind || !nb->source || !nb->hostname || !nb->policy_digest || !nb->policy_source) {
                vd_err_set(&err, VD_E_NOMEM, "out of memory");
                rc = cli_fail(&err);
                goto out;
        }
        if (vd_baseline_write(nb, out, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        if (!quiet) {
                printf("accepted %zu change%s (%zu changed, %zu added, %zu removed) of %zu into %s\n", accepted,
                       accepted == 1 ? "" : "s", n_changed, n_added, n_removed, ev.n, out);
                printf("  reason: %s\n  by %s on %s%s%s\n", reason, h.user, host, signer[0] ? ", signed with key " : "",
                       signer);
                if (accepted < ev.n)
                        printf("  %zu change%s not matching --path stay drift\n", ev.n - accepted,
                               ev.n - accepted == 1 ? "" : "s");
        }
out:
        vd_buf_release(&paths);
        vd_events_release(&ev);
        vd_events_release(&viol);
        vd_confsets_release(&conf);
        vd_scan_release(&scan);
        vd_baseline_free(old);
        vd_baseline_free(nb);
        vd_policy_free(pol);
        vd_source_close(src);
        return rc;
}
