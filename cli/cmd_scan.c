#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "analyse/vd_yara.h"
#include "baseline/vd_baseline.h"
#include "baseline/vd_rollback.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include "fleet/vd_inventory.h"
#include "policy/vd_policy.h"
#include "report/vd_report.h"
#include "run/vd_pipeline.h"
#include "run/vd_reuse.h"
#include "run/vd_shortcut.h"

static const char scan_head[] =
        "usage: vmdrift scan --baseline FILE (--dir PATH | --image FILE... | --domain NAME) [options]\n"
        "\n"
        "Compare a source with its template's baseline and report drift: entries\n"
        "added, removed or changed, each changed attribute old -> new; configuration\n"
        "values; and, for guests, installed packages added, removed, behind (older than\n"
        "the baseline's: a missing update) or ahead (policy section packages:).\n"
        "\n";

enum {
        OPT_BASELINE = 256,
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
        OPT_YARA,
        OPT_YARA_ALL,
};

static const cli_opt scan_options[] = {
        {NULL, 0, NULL,
         "\n"
         "options:\n"},
        {"baseline", OPT_BASELINE, "FILE", "the baseline captured from the template"},
        {"policy", OPT_POLICY, "FILE",
         "the YAML policy (docs/policy.md): rules, severities, per-clone\n"
         "expectations, configuration values, detectors (default:\n"
         "the built-in policy); a scan under another policy than the\n"
         "capture's says so"},
        {"verify-key", OPT_VERIFY_KEY, "PUB",
         "refuse a baseline whose Ed25519 signature does not verify\n"
         "(or that is unsigned); without it the report says unverified"},
        {"allow-rollback", OPT_ROLLBACK, NULL,
         "accept a baseline older than one seen before at the same path\n"
         "(by default refused: an old signed baseline copied over the\n"
         "current one; remembered in the state directory)"},
        {"quick", OPT_QUICK, NULL,
         "trust size, mtime, ctime and inode: hash only files whose\n"
         "metadata differ from the baseline"},
        {"packages-from", OPT_PACKAGES_FROM, "FILE",
         "compare the guest's installed packages with this baseline's\n"
         "(the rebuilt, patched template's) instead of --baseline's:\n"
         "a guest cloned from template v1 is reported behind v2"},
        {"advisories", OPT_ADVISORIES, "PATH",
         "match the guest's packages against offline OSV advisory\n"
         "records: one JSON file or a directory of them (e.g. an\n"
         "unpacked Debian all.zip); each hit is a \"vulnerable\" event"},
        {"ecosystem", OPT_ECOSYSTEM, "NAME",
         "the OSV ecosystem to match (default: the guest's own, e.g.\n"
         "Debian:12, Ubuntu:22.04, AlmaLinux:9, Rocky Linux:9)"},
        {"yara", OPT_YARA, "PATH",
         "match every file found added or with changed content (and\n"
         "with --yara-all every file) against these YARA rules: a rules\n"
         "file or a directory of *.yar/*.yara; each match is a \"malware\"\n"
         "event (a rule tagged secret: a \"secret\" event). Bounded by\n"
         "the policy's yara: section; the secret rules vmdrift ships\n"
         "run on added files without it (yara: {secrets: ...})"},
        {"yara-all", OPT_YARA_ALL, NULL,
         "match every regular file of the guest, not only what changed\n"
         "(a first audit, or new rules)"},
        {"full", OPT_FULL, NULL,
         "images: scan everything. By default an untouched guest's last\n"
         "report is given again, no appliance started (the images'\n"
         "identity, the baseline and the policy are as they were), and a\n"
         "linked clone of the unchanged template image the baseline was\n"
         "captured from is scanned in delta mode: only what the clone\n"
         "wrote is walked, everything outside it is the baseline's,\n"
         "unread (ext4; the report says which mode and walk ran, and why)"},
        {"paranoid", OPT_PARANOID, NULL,
         "images: prove \"untouched\" by hashing every image of the chain,\n"
         "not only thin top overlays (reads the backing images)"},
        {"guest", OPT_GUEST, "NAME",
         "label every event with this name (\"guest\" in JSON, syslog\n"
         "and the journal); vmdrift fleet passes the inventory's\n"
         "name"},
        CLI_OPT_END,
};

static const cli_opt scan_options_last[] = {
        {"ignore", OPT_IGNORE, "ATTRS",
         "attributes that do not count, comma-separated, from:\n"
         "  type mode uid gid owner size mtime ctime times inode nlink\n"
         "  rdev target xattrs hash content\n"
         "(e.g. --ignore ctime,inode for a copy of the template tree)"},
        {"fail-on", OPT_FAILON, "SEVERITY",
         "exit 1 only for drift at or above: info (default), low,\n"
         "medium, high, critical"},
        {"help", 'h', NULL, "this help"},
        CLI_OPT_END,
};

static const cli_opt *const scan_tables[] = {cli_source_options, scan_options, cli_report_spec_options,
                                             cli_report_options, scan_options_last, NULL};

static const char scan_tail[] =
        "\n"
        "Never counted: atime. Off by default for directories: mtime, ctime, nlink, size.\n"
        "\n"
        "exit codes:\n"
        "  0  no drift at or above --fail-on\n"
        "  1  drift at or above --fail-on\n"
        "  2  usage error\n"
        "  3  runtime error: unreadable source, missing/damaged/foreign baseline, failed report\n";

int cmd_scan(int argc, char **argv) {
        cli_getopt g;
        cli_getopt_init(&g, scan_tables);
        /* the options fill the request they make, field by field */
        vd_scan_request rq = {.fail_on = VD_SEV_INFO};
        cli_sink_opts_init(&rq.sink);
        int c;
        vd_err err = VD_ERR_INIT;
        const char *yara_path = NULL;
        optind = 1;
        while ((c = cli_getopt_next(&g, argc, argv)) != -1) {
                int sr = cli_source_opt(&rq.so, c, optarg, "scan");
                if (sr == 0)
                        sr = cli_report_opt(&rq.sink, c, optarg, "scan");
                if (sr == 1)
                        continue;
                if (sr == EXIT_USAGE)
                        return EXIT_USAGE;
                switch (c) {
                case OPT_BASELINE: rq.baseline = optarg; break;
                case OPT_QUICK: rq.quick = true; break;
                case OPT_ROLLBACK: rq.allow_rollback = true; break;
                case OPT_VERIFY_KEY: rq.verify_key = optarg; break;
                case OPT_POLICY: rq.policy = optarg; break;
                case OPT_PACKAGES_FROM: rq.packages_from = optarg; break;
                case OPT_ADVISORIES: rq.advisories = optarg; break;
                case OPT_FULL: rq.full = true; break;
                case OPT_PARANOID: rq.paranoid = true; break;
                case OPT_YARA: yara_path = optarg; break;
                case OPT_YARA_ALL: rq.yara.all = true; break;
                case OPT_GUEST:
                        if (!vd_guest_name_ok(optarg))
                                return cli_usage("scan", "--guest expects a name (at most 128 UTF-8 characters, no "
                                                 "'/' or control characters), not '%s'",
                                                 optarg);
                        rq.guest = optarg;
                        break;
                case OPT_ECOSYSTEM:
                        if (!*optarg || strlen(optarg) >= 64)
                                return cli_usage("scan", "--ecosystem expects an OSV ecosystem such as Debian:12");
                        rq.ecosystem = optarg;
                        break;
                case CLI_OPT_REPORT:
                        if (rq.n_reports == VD_SCAN_REPORTS_MAX)
                                return cli_usage("scan", "at most %d --report options", VD_SCAN_REPORTS_MAX);
                        rq.reports[rq.n_reports++] = optarg;
                        break;
                case OPT_IGNORE: {
                        uint32_t m;
                        if (vd_attrs_parse(optarg, &m, &err) < 0)
                                return cli_usage("scan", "--ignore: %s", err.msg);
                        rq.ignore |= m;
                        break;
                }
                case OPT_FAILON:
                        rq.fail_on = vd_severity_from_name(optarg);
                        if (rq.fail_on < 0)
                                return cli_usage("scan", "--fail-on expects info, low, medium, high or critical, not '%s'",
                                                 optarg);
                        break;
                case 'h': return cli_help(stdout, scan_head, scan_tables, scan_tail);
                default: return cli_bad_option("scan", argv);
                }
        }
        if (optind < argc)
                return cli_usage("scan", "unexpected argument '%s'", argv[optind]);
        /* the rules are compiled once, before anything is opened */
        vd_yara *rules = NULL;
        if (yara_path && vd_yara_load(yara_path, &rules, &err) < 0)
                return cli_fail(&err);
        rq.yara.rules = rules;
        int rc = cli_scan_run(&rq, NULL);
        vd_yara_free(rules);
        return rc;
}
