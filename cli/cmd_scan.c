#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vd_baseline.h"
#include "vd_inventory.h"
#include "vd_log.h"
#include "vd_pipeline.h"
#include "vd_reuse.h"
#include "vd_shortcut.h"
#include "vd_policy.h"
#include "vd_report.h"
#include "vd_rollback.h"
#include "vd_state.h"
#include "vd_str.h"

#define MAX_SINKS 16

static const char scan_usage[] =
        "usage: vmdrift scan --baseline FILE (--dir PATH | --image FILE... | --domain NAME) [options]\n"
        "\n"
        "Compare a source with its template's baseline and report drift: entries\n"
        "added, removed or changed, each changed attribute old -> new; configuration\n"
        "values; and, for guests, installed packages added, removed, behind (older than\n"
        "the baseline's: a missing update) or ahead (policy section packages:).\n"
        "\n"
        CLI_SOURCE_HELP
        "\n"
        "options:\n"
        "  --baseline FILE      the baseline captured from the template\n"
        "  --policy FILE        the YAML policy (docs/policy.md): rules, severities, per-clone\n"
        "                       expectations, configuration values, detectors (default:\n"
        "                       the built-in policy); a scan under another policy than the\n"
        "                       capture's says so\n"
        "  --verify-key PUB     refuse a baseline whose Ed25519 signature does not verify\n"
        "                       (or that is unsigned); without it the report says unverified\n"
        "  --allow-rollback     accept a baseline older than one seen before at the same path\n"
        "                       (by default refused: an old signed baseline copied over the\n"
        "                       current one; remembered in the state directory)\n"
        "  --quick              trust size, mtime, ctime and inode: hash only files whose\n"
        "                       metadata differ from the baseline\n"
        "  --packages-from FILE compare the guest's installed packages with this baseline's\n"
        "                       (the rebuilt, patched template's) instead of --baseline's:\n"
        "                       a guest cloned from template v1 is reported behind v2\n"
        "  --advisories PATH    match the guest's packages against offline OSV advisory\n"
        "                       records: one JSON file or a directory of them (e.g. an\n"
        "                       unpacked Debian all.zip); each hit is a \"vulnerable\" event\n"
        "  --ecosystem NAME     the OSV ecosystem to match (default: the guest's own, e.g.\n"
        "                       Debian:12, Ubuntu:22.04, AlmaLinux:9, Rocky Linux:9)\n"
        "  --full               images: scan everything. By default an untouched guest's last\n"
        "                       report is given again, no appliance started (the images'\n"
        "                       identity, the baseline and the policy are as they were), and a\n"
        "                       linked clone of the unchanged template image the baseline was\n"
        "                       captured from is scanned in delta mode: only what the clone\n"
        "                       wrote is walked, everything outside it is the baseline's,\n"
        "                       unread (ext4; the report says which mode and walk ran, and why)\n"
        "  --paranoid           images: prove \"untouched\" by hashing every image of the chain,\n"
        "                       not only thin top overlays (reads the backing images)\n"
        "  --guest NAME         label every event with this name (\"guest\" in JSON, syslog\n"
        "                       and the journal); vmdrift fleet passes the inventory's\n"
        "                       name\n"
        CLI_REPORT_HELP
        "  --ignore ATTRS       attributes that do not count, comma-separated, from:\n"
        "                         type mode uid gid owner size mtime ctime times inode nlink\n"
        "                         rdev target xattrs hash content\n"
        "                       (e.g. --ignore ctime,inode for a copy of the template tree)\n"
        "  --fail-on SEVERITY   exit 1 only for drift at or above: info (default), low,\n"
        "                       medium, high, critical\n"
        "  -h, --help           this help\n"
        "\n"
        "Never counted: atime. Off by default for directories: mtime, ctime, nlink, size.\n"
        "\n"
        "exit codes:\n"
        "  0  no drift at or above --fail-on\n"
        "  1  drift at or above --fail-on\n"
        "  2  usage error\n"
        "  3  runtime error: unreadable source, missing/damaged/foreign baseline, failed report\n";

enum {
        OPT_BASELINE = 256,
        OPT_REPORT,
        OPT_IGNORE,
        OPT_FAILON,
        OPT_QUICK,
        OPT_VERIFY_KEY,
        OPT_POLICY,
        OPT_ROLLBACK,
        OPT_PACKAGES_FROM,
        OPT_ADVISORIES,
        OPT_ECOSYSTEM,
        OPT_GUEST,
        OPT_FULL,
        OPT_PARANOID,
};

static int scan_main(int argc, char **argv, bool kept_only);

int cmd_scan(int argc, char **argv) {
        return scan_main(argc, argv, false);
}

int cmd_scan_kept(int argc, char **argv) {
        return scan_main(argc, argv, true);
}

/* kept_only: give the guest's kept report (or its twin's) as cmd_scan
 * would, or return -1 having opened, printed and delivered nothing. */
static int scan_main(int argc, char **argv, bool kept_only) {
        bool probe = kept_only;
        int64_t t_start = vd_now_ns();
        static const struct option lo[] = {CLI_SOURCE_LONGOPTS,
                                           CLI_REPORT_LONGOPTS,
                                           {"baseline", required_argument, NULL, OPT_BASELINE},
                                           {"report", required_argument, NULL, OPT_REPORT},
                                           {"ignore", required_argument, NULL, OPT_IGNORE},
                                           {"fail-on", required_argument, NULL, OPT_FAILON},
                                           {"quick", no_argument, NULL, OPT_QUICK},
                                           {"verify-key", required_argument, NULL, OPT_VERIFY_KEY},
                                           {"policy", required_argument, NULL, OPT_POLICY},
                                           {"allow-rollback", no_argument, NULL, OPT_ROLLBACK},
                                           {"packages-from", required_argument, NULL, OPT_PACKAGES_FROM},
                                           {"advisories", required_argument, NULL, OPT_ADVISORIES},
                                           {"ecosystem", required_argument, NULL, OPT_ECOSYSTEM},
                                           {"guest", required_argument, NULL, OPT_GUEST},
                                           {"full", no_argument, NULL, OPT_FULL},
                                           {"paranoid", no_argument, NULL, OPT_PARANOID},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
        bool quick = false, allow_rollback = false, full = false, paranoid = false;
        const char *verify_key = NULL, *policy = NULL, *packages_from = NULL, *advisories = NULL, *ecosystem = NULL,
                   *guest = NULL;
        cli_source_opts so = {0};
        vd_sink_opts sinko;
        vd_sink_opts_init(&sinko);
        const char *baseline_path = NULL;
        const char *reports[MAX_SINKS];
        size_t n_reports = 0;
        uint32_t ignore = 0;
        int fail_on = VD_SEV_INFO, c;
        vd_err err = VD_ERR_INIT;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
                int sr = cli_source_opt(&so, c, optarg, "scan");
                if (sr == 0)
                        sr = cli_report_opt(&sinko, c, optarg, "scan");
                if (sr == 1)
                        continue;
                if (sr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case OPT_BASELINE: baseline_path = optarg; break;
                case OPT_QUICK: quick = true; break;
                case OPT_ROLLBACK: allow_rollback = true; break;
                case OPT_VERIFY_KEY: verify_key = optarg; break;
                case OPT_POLICY: policy = optarg; break;
                case OPT_PACKAGES_FROM: packages_from = optarg; break;
                case OPT_ADVISORIES: advisories = optarg; break;
                case OPT_FULL: full = true; break;
                case OPT_PARANOID: paranoid = true; break;
                case OPT_GUEST:
                        if (!vd_guest_name_ok(optarg))
                                return cli_usage("scan", "--guest expects a name (at most 128 UTF-8 characters, no "
                                                 "'/' or control characters), not '%s'",
                                                 optarg);
                        guest = optarg;
                        break;
                case OPT_ECOSYSTEM:
                        if (!*optarg || strlen(optarg) >= 64)
                                return cli_usage("scan", "--ecosystem expects an OSV ecosystem such as Debian:12");
                        ecosystem = optarg;
                        break;
                case OPT_REPORT:
                        if (n_reports == MAX_SINKS)
                                return cli_usage("scan", "at most %d --report options", MAX_SINKS);
                        reports[n_reports++] = optarg;
                        break;
                case OPT_IGNORE: {
                        uint32_t m;
                        if (vd_attrs_parse(optarg, &m, &err) < 0)
                                return cli_usage("scan", "--ignore: %s", err.msg);
                        ignore |= m;
                        break;
                }
                case OPT_FAILON:
                        fail_on = vd_severity_from_name(optarg);
                        if (fail_on < 0)
                                return cli_usage("scan", "--fail-on expects info, low, medium, high or critical, not '%s'",
                                                 optarg);
                        break;
                case 'h': fputs(scan_usage, stdout); return 0;
                default: return cli_bad_option("scan", argv);
                }
        }
        if (optind < argc)
                return cli_usage("scan", "unexpected argument '%s'", argv[optind]);
        if (!baseline_path)
                return cli_usage("scan", "no baseline given: use --baseline FILE");
        if (cli_source_check(&so, "scan"))
                return EXIT_USAGE;
        if (ecosystem && !advisories)
                return cli_usage("scan", "--ecosystem needs --advisories");
        if (advisories && access(advisories, R_OK) < 0)
                return cli_usage("scan", "--advisories '%s': %s", advisories, strerror(errno));
        if (n_reports == 0)
                reports[n_reports++] = "text";
        sinko.state_dir = so.state_dir = vd_state_dir(so.state_dir, cli_env_get()->state_directory);
        {
                cli_input in[CLI_MAX_INPUTS] = {{"baseline", baseline_path},
                                                {"policy", policy},
                                                {"verify key", verify_key},
                                                {"syslog CA", sinko.syslog_ca},
                                                {"packages baseline", packages_from},
                                                {"advisories", advisories}};
                size_t nin = 6;
                cli_source_inputs(&so, in, &nin);
                for (size_t i = 0; i < n_reports; i++) {
                        const char *f = cli_report_file(reports[i]);
                        if (f && cli_refuse_overwrite("scan", "report file", f, in, nin))
                                return EXIT_USAGE;
                }
        }

        vd_sink *sinks[MAX_SINKS] = {0};
        vd_baseline *b = NULL, *pkgb = NULL;
        bool b_owned = true; /* see cli_baseline_open_kept */
        vd_source *src = NULL;
        vd_policy *pol = NULL;
        vd_run_out out;
        vd_run_out_init(&out);
        int rc = 0;

        char rollback_warning[VD_ERR_MSG_MAX] = "";
        /* a fleet worker's kept-report pass opens the same baseline for
         * every guest: once, while its file is unchanged */
        const vd_baseline *kb = NULL;
        int bo = probe ? cli_baseline_open_kept(baseline_path, verify_key, &kb, &b_owned, &err)
                       : vd_baseline_open(baseline_path, verify_key, &b, &err);
        if (probe && bo == 0)
                b = (vd_baseline *)kb; /* read only when not owned */
        if (cli_load_policy(policy, &pol, &err) < 0 || bo < 0 ||
            (packages_from && vd_baseline_open(packages_from, verify_key, &pkgb, &err) < 0) ||
            vd_rollback_check(b, baseline_path, so.state_dir, allow_rollback, rollback_warning, &err) < 0) {
                rc = probe ? -1 : cli_fail(&err);
                goto out;
        }
        /* A derived baseline's template is an input too: no report replaces it. */
        for (size_t i = 0; i < n_reports && b->template_path; i++) {
                const char *f = cli_report_file(reports[i]);
                cli_input tin[] = {{"template baseline", b->template_path}};
                if (f && (rc = cli_refuse_overwrite("scan", "report file", f, tin, 1)) != 0)
                        goto out;
        }
        /* Open every sink before the source: a bad --report fails before
         * minutes of scanning. */
        if (!probe && (rc = cli_open_sinks(reports, n_reports, &sinko, sinks)) != 0)
                goto out;
        cli_allow_template_images(&so, b);
        cli_use_baseline_layout(&so, b);
        /* The digest of the policy as written: --ignore is this run's choice,
         * not another policy. */
        char dg[65] = "";
        vd_policy_digest(pol, dg);
        char trust[96];
        /* An untouched guest: its last report again (or its twin's),
         * nothing launched. VMDRIFT_DELTA_VERIFY=1 (tests): the delta scan
         * proves and hashes both, so it must really scan. */
        vd_shortcut_in sin = {
                .images = so.images,
                .n_images = so.n_images,
                .image_format = so.image_format,
                .expect_formats = so.expect_formats,
                .allow_backing = so.allow_backing,
                .n_allow_backing = so.n_allow_backing,
                .state_dir = so.state_dir,
                .share = cli_share,
                .baseline = b,
                .packages_from = pkgb,
                .policy_digest = dg,
                .strategy = so.strategy,
                .hash_in = so.hash_in,
                .quick = quick,
                .full_inspection = so.full_inspection,
                .one_file_system = so.one_file_system,
                .paranoid = paranoid,
                .max_depth = so.max_depth,
                .ignore = ignore,
                .advisories = advisories != NULL,
                .rollback_warning = rollback_warning[0] != '\0',
                .delta_verify = cli_env_get()->knobs.delta_verify,
        };
        vd_shortcut_keys keys;
        vd_shortcut_keys_make(&sin, &keys);
        if (keys.have_key && !full) {
                vd_reused *u = NULL;
                bool twin = false;
                vd_err warn = VD_ERR_INIT;
                int lr = vd_shortcut_load(&keys, so.state_dir, &u, &twin, &warn);
                if (warn.code && !probe)
                        fprintf(stderr, "vmdrift: warning: %s\n", warn.msg);
                if (lr == 0 && probe && (rc = cli_open_sinks(reports, n_reports, &sinko, sinks)) != 0) {
                        vd_reused_free(u);
                        goto out;
                }
                if (lr == 0) {
                        vd_report rep;
                        memset(&rep, 0, sizeof rep);
                        vd_scan_id(rep.scan_id);
                        vd_reused_report(u, &rep);
                        char *desc = NULL;
                        if (twin) {
                                /* the findings are the twin's; the source is this guest */
                                vd_buf d;
                                vd_buf_init(&d, 0);
                                for (size_t i = 0; i < so.n_images; i++) {
                                        if (i)
                                                vd_buf_addc(&d, ',');
                                        vd_buf_adds(&d, so.images[i]);
                                }
                                desc = vd_buf_detach(&d, NULL);
                                if (desc)
                                        rep.source = desc;
                                rep.reused_twin = true;
                        }
                        vd_report_baseline(b, baseline_path, verify_key != NULL, trust, &rep);
                        rep.guest = guest;
                        rep.fail_on = fail_on;
                        rep.started_ns = t_start;
                        rep.duration_ns = vd_now_ns() - t_start;
                        rc = cli_deliver(sinks, n_reports, &rep);
                        free(desc);
                        vd_reused_free(u);
                        goto out;
                }
        }
        if (probe) {
                rc = -1; /* it must be scanned */
                goto out;
        }
        if (cli_open_source(&so, true, &src, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        vd_policy_ignore(pol, ignore);
        vd_run run;
        vd_run_init(&run, VD_RUN_SCAN);
        run.src = src;
        run.base = b;
        run.policy = pol;
        run.policy_digest = dg;
        run.quick = quick;
        run.delta = !full;
        run.warning = rollback_warning[0] ? rollback_warning : NULL;
        run.started_ns = t_start;
        run.packages_from = pkgb;
        run.advisories = advisories;
        run.ecosystem = ecosystem;
        cli_scan_opts(&so, &run.opts);
        if (vd_run_exec(&run, &out, &err) < 0) {
                rc = cli_fail(&err);
                goto out;
        }
        vd_report rep;
        vd_run_report(&run, &out, baseline_path, verify_key != NULL, fail_on, trust, &rep);
        rep.guest = guest;
        rc = cli_deliver(sinks, n_reports, &rep);
        if (keys.have_key && !out.scan.may_be_inconsistent) {
                /* the images' identity was taken before the scan: a change
                 * during it makes the next key differ */
                vd_err se = VD_ERR_INIT;
                if (vd_shortcut_save(&keys, so.state_dir, &rep, &se) < 0)
                        fprintf(stderr, "vmdrift: warning: the report is not kept for the next scan: %s\n", se.msg);
        }
out:
        cli_close_sinks(sinks, n_reports);
        vd_run_out_release(&out);
        if (b_owned)
                vd_baseline_free(b);
        vd_baseline_free(pkgb);
        vd_policy_free(pol);
        vd_source_close(src);
        return rc;
}
