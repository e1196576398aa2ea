#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "baseline/vd_baseline.h"
#include "collect/vd_imageid.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include "policy/vd_policy.h"
#include "report/vd_report.h"
#include "run/vd_pipeline.h"

#ifndef VD_VERSION
#define VD_VERSION "0.0.0"
#endif

static const char capture_head[] =
        "usage: vmdrift baseline capture (--dir PATH | --image FILE... | --domain NAME) -o FILE [options]\n"
        "\n"
        "Record every entry of a template (type, mode, owner, size, times, inode,\n"
        "link target, xattrs, content hash) into a baseline file. The file is\n"
        "written beside FILE and renamed into place: a failed capture leaves an\n"
        "existing baseline untouched. It is created mode 0600 (it holds the hash key).\n"
        "\n"
        "For a guest, the OS facts and installed packages are recorded too.\n"
        "\n";

static const char show_head[] =
        "usage: vmdrift baseline show FILE [--entries] [--verify-key PUB]\n"
        "\n"
        "Print a baseline's metadata and counts; with --entries, every entry.\n"
        "\n"
        "options:\n";
static const char show_tail[] = "\nexit codes: 0 ok, 2 usage error, 3 missing, damaged or foreign baseline\n";

static const char baseline_usage[] =
        "usage: vmdrift baseline <capture|show|export|diff|accept> ...\n"
        "\n"
        "  capture   record a baseline of a template\n"
        "  show      print what a baseline holds\n"
        "  export    write a baseline as sorted ND-JSON (stable across runs)\n"
        "  diff      what changed between two baselines (e.g. template v1 and v2), as drift events\n"
        "  accept    write a new baseline that takes in legitimate changes, with the reason\n";

static const char export_head[] =
        "usage: vmdrift baseline export FILE [--verify-key PUB] [-o OUT]\n"
        "\n"
        "Write the baseline as ND-JSON: a \"baseline\" record, one \"entry\" record per\n"
        "entry in path order, then \"fact\" and \"package\" records. The same baseline\n"
        "always exports to the same bytes. The hash key is never exported.\n"
        "\n"
        "options:\n";
static const char export_tail[] = "\nexit codes: 0 ok, 2 usage error, 3 missing, damaged or unverified baseline\n";

static const char diff_head[] =
        "usage: vmdrift baseline diff A B [--verify-key PUB] [--report SPEC]... [--fail-on SEVERITY]\n"
        "\n"
        "Compare baseline B against baseline A (for example template v2 against v1)\n"
        "and report the differences as drift events, like a scan.\n"
        "\n"
        "options:\n";
static const char diff_tail[] = "\nexit codes: 0 no differences, 1 differences, 2 usage error, 3 bad baseline\n";

enum { OPT_HASH = 256, OPT_ENTRIES, OPT_SIGN_KEY, OPT_VERIFY_KEY, OPT_KEY_FROM, OPT_POLICY, OPT_FAILON };

static const cli_opt verify_key_option[] = {
        {"verify-key", OPT_VERIFY_KEY, "PUB", "refuse a baseline whose Ed25519 signature does not verify"},
        CLI_OPT_END,
};
static const cli_opt help_option[] = {
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};
static const cli_opt show_options[] = {
        {"entries", OPT_ENTRIES, NULL, "every entry too, one a line"},
        CLI_OPT_END,
};
static const cli_opt *const show_tables[] = {show_options, verify_key_option, help_option, NULL};
static const cli_opt export_options[] = {
        {"output", 'o', "OUT", "write there (atomically) instead of standard output"},
        CLI_OPT_END,
};
static const cli_opt *const export_tables[] = {export_options, verify_key_option, help_option, NULL};
static const cli_opt diff_options[] = {
        {"fail-on", OPT_FAILON, "SEVERITY", "exit 1 only for differences at or above: info (default), low,\nmedium, high, critical"},
        {"state-dir", CLI_OPT_STATE_DIR, "DIR", "where undelivered syslog messages wait (default $STATE_DIRECTORY\nor /var/lib/vmdrift)"},
        CLI_OPT_END,
};
static const cli_opt *const diff_tables[] = {verify_key_option, cli_report_spec_options, cli_report_options,
                                             diff_options, help_option, NULL};

/* What a capture says when it is done: what it holds, how it was hashed,
 * the configuration it took, whether it is signed. */
static void print_captured(const vd_baseline *b, const char *out, const vd_run_out *res, int algo,
                           const vd_policy *pol) {
        vd_buf m;
        vd_buf_init(&m, 0);
        vd_buf_addf(&m, "captured %zu entries of ", res->n_entries);
        vd_escape_display(&m, b->source, strlen(b->source));
        vd_buf_adds(&m, " into ");
        vd_escape_display(&m, out, strlen(out));
        if (b->n_facts) {
                const vd_fact *f = NULL;
                for (size_t i = 0; i < b->n_facts; i++)
                        if (strcmp(b->facts[i].key, "os.product") == 0)
                                f = &b->facts[i];
                vd_buf_addf(&m, "\n  guest: %s, %zu packages", f ? f->value : "no OS found", b->n_packages);
        }
        vd_buf_addf(&m, "\n  %llu files hashed (%s, %.1f MiB) in %.2f s; owners %s; %zu warning%s\n",
                    (unsigned long long)res->scan.st.files_hashed, vd_hash_algo_name(algo),
                    (double)res->scan.st.bytes_hashed / 1048576.0, (double)res->scan.duration_ns / 1e9,
                    b->owners_resolved ? "resolved through the source's own etc/passwd and etc/group"
                                       : "numeric (no etc/passwd in the source)",
                    res->scan.n_warnings, res->scan.n_warnings == 1 ? "" : "s");
        if (b->config.n) {
                size_t nk = 0;
                for (size_t i = 0; i < b->config.n; i++)
                        nk += b->config.v[i].s.n;
                vd_buf_addf(&m, "  configuration: %zu values from %zu files (policy %s)\n", nk, b->config.n,
                            vd_policy_source(pol));
        }
        if (b->signature[0])
                vd_buf_addf(&m, "  signed with key %s\n", b->signer);
        else
                vd_buf_adds(&m, "  unsigned (use --sign-key to let scans detect a modified baseline)\n");
        fputs(m.buf, stdout);
        vd_buf_release(&m);
}

static const cli_opt capture_options[] = {
        {NULL, 0, NULL,
         "\n"
         "options:\n"},
        {"output", 'o', "FILE", "the baseline to write"},
        {"policy", OPT_POLICY, "FILE",
         "the YAML policy (docs/policy.md): which configuration files\n"
         "are recorded as values and what they must say; its digest\n"
         "is recorded (default: the built-in policy)"},
        {"hash", OPT_HASH, "ALGO", "xxh3-128 (default, keyed with a per-baseline secret) or sha256"},
        {"sign-key", OPT_SIGN_KEY, "KEY",
         "sign the baseline with this Ed25519 private key (vmdrift key generate)"},
        {"key-from", OPT_KEY_FROM, "OLD",
         "reuse OLD baseline's hash algorithm and key, so that the two\n"
         "compare content (baseline diff OLD NEW; template v1 -> v2)"},
        {"quiet", 'q', NULL, "print nothing but errors"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};

static const cli_opt *const capture_tables[] = {cli_source_options, capture_options, NULL};

static const char capture_tail[] =
        "\n"
        "exit codes: 0 written, 1 written, but the template breaks its policy's desired state\n"
        "            (each violation is printed), 2 usage or policy error, 3 runtime error\n"
        "            (nothing written)\n";

static int capture(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, capture_tables);
        vd_source_spec so = {0};
        const char *out = NULL, *sign_key = NULL, *key_from = NULL, *policy = NULL;
        int algo = VD_HASH_XXH3, c;
        bool algo_given = false;
        bool quiet = false;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                int sr = cli_source_opt(&so, c, optarg, "baseline capture");
                if (sr == 1)
                        continue;
                if (sr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case 'o': out = optarg; break;
                case OPT_HASH:
                        algo = vd_hash_algo_from_name(optarg);
                        if (algo == VD_HASH_NONE)
                                return cli_usage("baseline capture", "unknown hash '%s' (expected xxh3-128 or sha256)",
                                                 optarg);
                        algo_given = true;
                        break;
                case OPT_POLICY: policy = optarg; break;
                case 'q': quiet = true; break;
                case OPT_SIGN_KEY: sign_key = optarg; break;
                case OPT_KEY_FROM: key_from = optarg; break;
                case 'h': return cli_help(stdout, capture_head, capture_tables, capture_tail);
                default: return cli_bad_option("baseline capture", argv);
                }
        }
        if (optind < argc)
                return cli_usage("baseline capture", "unexpected argument '%s'", argv[optind]);
        if (cli_source_check(&so, "baseline capture"))
                return EXIT_USAGE;
        if (!out)
                return cli_usage("baseline capture", "no output given: use -o FILE");
        {
                /* -o may be the --key-from baseline: a rebuild in place, written
                 * to a temporary file and renamed once complete. */
                vd_input in[VD_INPUTS_MAX] = {{"policy", policy}, {"signing key", sign_key}};
                size_t nin = 2;
                vd_source_spec_inputs(&so, in, &nin);
                if (cli_refuse_overwrite("baseline capture", "output", out, in, nin))
                        return EXIT_USAGE;
        }

        vd_err err = VD_ERR_INIT;
        vd_source *src = NULL;
        vd_baseline *b = NULL;
        vd_baseline_writer *writer = NULL;
        vd_policy *pol = NULL;
        vd_run_out res;
        vd_run_out_init(&res);
        int rc = 0;
        /* The policy first: a typo in it fails in a second, not after the scan. */
        if (vd_policy_open(policy, &pol, &err) < 0 || vd_baseline_new(&b, &err) < 0 ||
            cli_open_source(&so, true, &src, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        if (!algo_given && vd_policy_hash_algo(pol) == 2)
                algo = VD_HASH_SHA256;
        b->hash_algo = algo;
        b->sign_key = sign_key;
        if (key_from) {
                vd_baseline *old = NULL;
                if (vd_baseline_load(key_from, &old, &err) < 0) {
                        rc = cli_fail(&err);
                        goto out;
                }
                b->hash_algo = algo = old->hash_algo;
                memcpy(b->seed, old->seed, sizeof b->seed);
                vd_baseline_free(old);
        }
        if (sign_key && access(sign_key, R_OK) < 0) {
                /* Before minutes of scanning, not after. */
                vd_err_errno(&err, VD_E_INPUT, errno, "cannot read signing key '%s'", sign_key);
                rc = cli_fail(&err);
                goto out;
        }
        /* What each image's chain was when the capture began: a delta scan
         * of a linked clone trusts the template only while it still is
         * (vd_imageid.h). Not recorded: no delta scans against it. */
        vd_scan ids;
        vd_scan_init(&ids);
        for (size_t k = 0; k < so.n_images; k++) {
                vd_err ie = VD_ERR_INIT;
                if (vd_template_record(so.images[k], so.image_format, so.allow_backing, so.n_allow_backing, k, &ids,
                                       &ie) < 0)
                        vd_debug("capture: disk %zu's chain not recorded: %s", k, ie.msg);
        }
        vd_run run;
        vd_run_init(&run, VD_RUN_CAPTURE);
        run.src = src;
        run.base = b;
        run.policy = pol;
        vd_source_spec_walk_opts(&so, &run.opts);
        /* the entries go to the file as the walk hands them on */
        if (vd_baseline_writer_begin(b, out, &writer, &err) < 0) {
                vd_scan_release(&ids);
                rc = cli_fail(&err);
                goto out;
        }
        run.writer = writer;
        int ir = vd_run_exec(&run, &res, &err);
        for (size_t i = 0; ir == 0 && i < ids.n_facts; i++)
                if (vd_scan_add_fact(&res.scan, ids.facts[i].key, ids.facts[i].value) < 0)
                        ir = vd_err_set(&err, VD_E_NOMEM, "out of memory");
        vd_scan_release(&ids);
        vd_scan_sort_inventory(&res.scan);
        if (ir < 0 || vd_run_capture(&run, &res, b, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        if (!quiet)
                cli_print_warnings(&res.scan);
        if (vd_baseline_writer_end(writer, b, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        if (!quiet)
                print_captured(b, out, &res, algo, pol);
        if (res.violations.n) {
                /* Written, but the template itself breaks its policy: say
                 * each violation and exit 1, so a build pipeline stops here. */
                cli_print_violations(&res.violations, stderr);
                fprintf(stderr, "vmdrift: the template breaks its policy (%zu file%s); the baseline was written\n",
                        res.violations.n, res.violations.n == 1 ? "" : "s");
                rc = EXIT_DRIFT;
        }
out:
        vd_baseline_writer_free(writer); /* not ended: no file replaced, no temporary left */
        vd_run_out_release(&res);
        vd_baseline_free(b);
        vd_policy_free(pol);
        vd_source_close(src);
        return rc;
}

static int show(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, show_tables);
        bool entries = false;
        const char *verify_key = NULL;
        int c;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                switch (c) {
                case OPT_ENTRIES: entries = true; break;
                case OPT_VERIFY_KEY: verify_key = optarg; break;
                case 'h': return cli_help(stdout, show_head, show_tables, show_tail);
                default: return cli_bad_option("baseline show", argv);
                }
        }
        if (optind != argc - 1)
                return cli_usage("baseline show", "expected exactly one baseline FILE");
        const char *path = argv[optind];
        vd_err err = VD_ERR_INIT;
        vd_baseline *b = NULL;
        if (vd_baseline_open(path, verify_key, &b, &err) < 0)
                return cli_fail(&err);
        size_t by_type[8] = {0}, problems = 0;
        uint64_t bytes = 0;
        for (size_t i = 0; i < b->entries.n; i++) {
                const vd_entry *e = b->entries.v[i];
                by_type[e->type <= VD_T_SOCK ? e->type : 0]++;
                if (e->type == VD_T_REG)
                        bytes += e->size;
                if (e->status != VD_ST_OK)
                        problems++;
        }
        vd_buf m;
        vd_buf_init(&m, 0);
        vd_buf_adds(&m, "baseline:        ");
        vd_escape_display(&m, path, strlen(path));
        vd_buf_addf(&m, "\nschema:          %d\ntool version:    %s\ncaptured:        ", b->schema, b->tool_version);
        vd_time_rfc3339(&m, b->created_ns);
        vd_buf_addf(&m, " on %s\nsource:          %s ", b->hostname, b->source_kind);
        vd_escape_display(&m, b->source, strlen(b->source));
        vd_buf_addf(&m,
                    "\nhash:            %s\npolicy:          %s (sha256 %.16s…)\nowners:          %s\n"
                    "content digest:  %s\nsignature:       %s%s%s\n"
                    "entries:         %zu (%zu files, %zu directories, %zu symlinks, %zu other); %.1f MiB of file data\n"
                    "capture warnings: %llu; entries not fully read: %zu\n",
                    vd_hash_algo_name(b->hash_algo), b->policy_source, b->policy_digest,
                    b->owners_resolved ? "resolved through the source's own passwd/group" : "numeric only",
                    b->content_digest,
                    !b->signature[0] ? "none (unsigned baseline)" : verify_key ? "verified, signer " : "present, not checked (no --verify-key), signer ",
                    b->signer, "", b->entries.n, by_type[VD_T_REG], by_type[VD_T_DIR], by_type[VD_T_LNK],
                    b->entries.n - by_type[VD_T_REG] - by_type[VD_T_DIR] - by_type[VD_T_LNK], (double)bytes / 1048576.0,
                    (unsigned long long)b->capture_warnings, problems);
        for (size_t i = 0; i < b->n_facts; i++) {
                vd_buf_addf(&m, "%-16s ", b->facts[i].key);
                vd_escape_display(&m, b->facts[i].value, strlen(b->facts[i].value));
                vd_buf_addc(&m, '\n');
        }
        if (b->n_facts)
                vd_buf_addf(&m, "packages:        %zu recorded\n", b->n_packages);
        {
                size_t nk = 0;
                for (size_t i = 0; i < b->config.n; i++)
                        nk += b->config.v[i].s.n;
                vd_buf_addf(&m, "configuration:   %zu values from %zu files\n", nk, b->config.n);
        }
        {
                size_t nb = 0;
                for (size_t i = 0; i < b->entries.n; i++)
                        nb += b->entries.v[i]->blocks != NULL;
                if (nb)
                        vd_buf_addf(&m, "block records:   %zu of %zu entries (a delta scan proves them without "
                                        "reading their inodes)\n",
                                    nb, b->entries.n);
        }
        if (b->template_path) {
                vd_buf_adds(&m, "derived from:    ");
                vd_escape_display(&m, b->template_path, strlen(b->template_path));
                vd_buf_addf(&m, " (%zu deltas, %zu removed; template digest then %.16s…)\n", b->deltas.n,
                            b->removed.n, b->template_digest);
        }
        for (size_t i = 0; i < b->n_history; i++) {
                const vd_history *h = &b->history[i];
                vd_buf_addf(&m, "accepted:        ");
                vd_time_rfc3339(&m, h->time_ns);
                vd_buf_addf(&m, " by %s on %s: %llu change%s%s%s; reason: ", h->user, h->host,
                            (unsigned long long)h->n_changes, h->n_changes == 1 ? "" : "s",
                            h->signer[0] ? ", signed by " : "", h->signer);
                vd_escape_display(&m, h->reason, strlen(h->reason));
                vd_buf_addc(&m, '\n');
        }
        fputs(m.buf, stdout);
        if (entries) {
                for (size_t i = 0; i < b->entries.n; i++) {
                        const vd_entry *e = b->entries.v[i];
                        vd_buf_reset(&m);
                        vd_buf_addf(&m, "%-9.9s %04o %u:%u %12llu ", vd_ftype_name(e->type), e->mode, e->uid, e->gid,
                                    (unsigned long long)e->size);
                        if (e->hash_len)
                                vd_hex(&m, e->hash, 8);
                        else
                                vd_buf_adds(&m, "-               ");
                        vd_buf_addc(&m, ' ');
                        vd_escape_display(&m, e->path, e->path_len);
                        if (e->target) {
                                vd_buf_adds(&m, " -> ");
                                vd_escape_display(&m, e->target, e->target_len);
                        }
                        vd_buf_addc(&m, '\n');
                        fputs(m.buf, stdout);
                }
        }
        vd_buf_release(&m);
        vd_baseline_free(b);
        if (fflush(stdout) != 0) {
                vd_err_set(&err, VD_E_IO, "cannot write to stdout");
                return cli_fail(&err);
        }
        return 0;
}

static int export_cmd(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, export_tables);
        const char *verify_key = NULL, *out = NULL;
        int c;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                switch (c) {
                case OPT_VERIFY_KEY: verify_key = optarg; break;
                case 'o': out = optarg; break;
                case 'h': return cli_help(stdout, export_head, export_tables, export_tail);
                default: return cli_bad_option("baseline export", argv);
                }
        }
        if (optind != argc - 1)
                return cli_usage("baseline export", "expected exactly one baseline FILE");
        if (out) {
                vd_input in[] = {{"baseline", argv[optind]}, {"verify key", verify_key}};
                if (cli_refuse_overwrite("baseline export", "output", out, in, 2))
                        return EXIT_USAGE;
        }
        vd_err err = VD_ERR_INIT;
        vd_baseline *b = NULL;
        if (vd_baseline_open(argv[optind], verify_key, &b, &err) < 0)
                return cli_fail(&err);
        if (out && b->template_path) {
                /* a derived baseline's template is an input too */
                vd_input tin[] = {{"template baseline", b->template_path}};
                if (cli_refuse_overwrite("baseline export", "output", out, tin, 1)) {
                        vd_baseline_free(b);
                        return EXIT_USAGE;
                }
        }
        /* Written beside its place and renamed when complete. */
        char *tmp = NULL;
        int fd = -1;
        struct stat ost;
        if (out && stat(out, &ost) == 0 && !S_ISREG(ost.st_mode))
                fd = open(out, O_WRONLY | O_CLOEXEC | O_NOCTTY); /* a pipe, a terminal: as it is */
        else if (out && asprintf(&tmp, "%s.tmp.XXXXXX", out) >= 0)
                fd = mkostemp(tmp, O_CLOEXEC);
        FILE *f = out ? (fd >= 0 ? fdopen(fd, "w") : NULL) : stdout;
        int rc = 0;
        if (!f) {
                vd_err_errno(&err, VD_E_IO, errno, "cannot create '%s'", out ? out : "stdout");
                rc = cli_fail(&err);
                if (fd >= 0) {
                        close(fd);
                        if (tmp)
                                unlink(tmp);
                }
        } else {
                if (vd_baseline_export(b, f, &err) < 0)
                        rc = cli_fail(&err);
                if (out) {
                        if ((fflush(f) != 0 || (tmp && fsync(fileno(f)) != 0) || fclose(f) != 0) && rc == 0) {
                                vd_err_errno(&err, VD_E_IO, errno, "cannot write '%s'", out);
                                rc = cli_fail(&err);
                        }
                        if (rc == 0 && tmp && rename(tmp, out) != 0) {
                                vd_err_errno(&err, VD_E_IO, errno, "cannot write '%s': rename", out);
                                rc = cli_fail(&err);
                        }
                        if (rc != 0 && tmp)
                                unlink(tmp);
                }
        }
        free(tmp);
        vd_baseline_free(b);
        return rc;
}

static int diff_cmd(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, diff_tables);
        const char *verify_key = NULL, *reports[16];
        size_t n_reports = 0;
        int fail_on = VD_SEV_INFO, c;
        vd_sink_opts sinko;
        cli_sink_opts_init(&sinko);
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                int rr = cli_report_opt(&sinko, c, optarg, "baseline diff");
                if (rr == 1)
                        continue;
                if (rr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case OPT_VERIFY_KEY: verify_key = optarg; break;
                case CLI_OPT_REPORT:
                        if (n_reports == 16)
                                return cli_usage("baseline diff", "at most 16 --report options");
                        reports[n_reports++] = optarg;
                        break;
                case OPT_FAILON:
                        if ((fail_on = vd_severity_from_name(optarg)) < 0)
                                return cli_usage("baseline diff", "--fail-on expects info, low, medium, high or critical");
                        break;
                case 'h': return cli_help(stdout, diff_head, diff_tables, diff_tail);
                default: return cli_bad_option("baseline diff", argv);
                }
        }
        if (optind != argc - 2)
                return cli_usage("baseline diff", "expected two baselines: A B");
        if (n_reports == 0)
                reports[n_reports++] = "text";
        const char *pa = argv[optind], *pb = argv[optind + 1];
        {
                vd_input in[] = {{"baseline", pa}, {"baseline", pb}, {"verify key", verify_key},
                                  {"syslog CA", sinko.syslog_ca}};
                for (size_t i = 0; i < n_reports; i++) {
                        const char *f = vd_sink_spec_file(reports[i]);
                        if (f && cli_refuse_overwrite("baseline diff", "report file", f, in, 4))
                                return EXIT_USAGE;
                }
        }
        sinko.state_dir = vd_state_dir(sinko.state_dir, cli_env_get()->host.state_directory);
        vd_err err = VD_ERR_INIT;
        vd_baseline *a = NULL, *b = NULL;
        vd_policy *pol = NULL;
        vd_sink *sinks[16] = {0};
        vd_diff_out d;
        vd_diff_out_init(&d);
        int rc = 0;
        if ((rc = cli_open_sinks(reports, n_reports, &sinko, sinks)) != 0)
                goto out;
        if (vd_baseline_open(pa, verify_key, &a, &err) < 0 || vd_baseline_open(pb, verify_key, &b, &err) < 0 ||
            vd_policy_new_default(&pol, &err) < 0 || vd_diff_exec(a, b, pol, &d, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        vd_report rep;
        char trust[96];
        vd_diff_report(a, b, pa, pb, &d, verify_key != NULL, fail_on, trust, &rep);
        rc = cli_deliver(sinks, n_reports, &rep);
out:
        vd_sinks_close(sinks, n_reports);
        vd_diff_out_release(&d);
        vd_baseline_free(a);
        vd_baseline_free(b);
        vd_policy_free(pol);
        return rc;
}

int cmd_baseline(int argc, char **argv) {
        if (argc < 2) {
                fputs(baseline_usage, stderr);
                return EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(baseline_usage, stdout);
                return 0;
        }
        if (strcmp(argv[1], "capture") == 0)
                return capture(argc - 1, argv + 1);
        if (strcmp(argv[1], "show") == 0)
                return show(argc - 1, argv + 1);
        if (strcmp(argv[1], "export") == 0)
                return export_cmd(argc - 1, argv + 1);
        if (strcmp(argv[1], "diff") == 0)
                return diff_cmd(argc - 1, argv + 1);
        if (strcmp(argv[1], "accept") == 0)
                return cmd_accept(argc - 1, argv + 1);
        fprintf(stderr, "vmdrift baseline: unknown subcommand '%s'\n\n%s", argv[1], baseline_usage);
        return EXIT_USAGE;
}
