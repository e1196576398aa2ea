/* vmdrift fleet: options and the subcommands run, check and status. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyse/vd_yara.h"
#include "common/vd_state.h"

#include "fleet.h"

static const char fleet_head[] =
        "usage: vmdrift fleet [run] --inventory FILE [options]\n"
        "       vmdrift fleet check FILE\n"
        "       vmdrift fleet status --inventory FILE [--json]\n"
        "\n"
        "Scan every guest of a fleet inventory (docs/fleet.md), each as vmdrift scan\n"
        "would against its baseline, in --jobs workers at idle I/O priority; then\n"
        "report the fleet's own findings: images and libvirt domains no guest covers\n"
        "(unmanaged), guests not scanned successfully for longer than stale_after (stale),\n"
        "linked clones of none of the templates (orphan), listed guests that are gone\n"
        "(unreachable). Every event carries its guest's name.\n"
        "\n";

enum {
        OPT_INVENTORY = 256,
        OPT_JOBS,
        OPT_PER_APPLIANCE,
        OPT_JITTER,
        OPT_PRIORITY,
        OPT_WAIT,
        OPT_PROGRESS,
        OPT_FAILON,
        OPT_JSON,
        OPT_FULL,
        OPT_YARA,
        OPT_YARA_ALL,
        OPT_PARANOID,
};

/* "300", "300s", "5m", "2h" */
static bool parse_duration(const char *s, int64_t *ret) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        int64_t unit = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 0;
        if (errno || end == s || v < 0 || !unit || v > 86400 / unit)
                return false;
        *ret = v * unit;
        return true;
}

/* The CPUs, and the memory one appliance needs (about 1.5 GiB with qemu). */
static unsigned default_jobs(void) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned j = cpus > 0 ? (unsigned)cpus : 1;
        FILE *f = fopen("/proc/meminfo", "re");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
                unsigned long long kb;
                if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                        unsigned long long m = kb / (1536ULL * 1024);
                        if (m < j)
                                j = m ? (unsigned)m : 1;
                }
        }
        if (f)
                fclose(f);
        return j;
}

static const cli_opt fleet_options[] = {
        {NULL, 0, NULL,
         "options:\n"},
        {"inventory", OPT_INVENTORY, "FILE", "the fleet inventory (YAML)"},
        {"report", CLI_OPT_REPORT, "SPEC",
         "as vmdrift scan's (repeatable); in a file name {guest} is\n"
         "replaced by each guest's name (json:/var/log/vmdrift/{guest}.json;\n"
         "the fleet's own findings go to {guest} = _fleet); files without it\n"
         "and stdout get every guest's report, then the findings"},
        {"jobs", OPT_JOBS, "N",
         "worker processes, taking guests as they go, each with one\n"
         "appliance at a time (default: what the CPUs and memory allow,\n"
         "one appliance needs about 1.5 GiB)"},
        {"guests-per-appliance", OPT_PER_APPLIANCE, "K",
         "image guests scanned one after another in one appliance (default\n"
         "8; 1: each its own vmdrift scan process and appliance; fewer when\n"
         "that keeps a --jobs worker idle); a guest that cannot share (no\n"
         "recorded layout, LVM, btrfs, XFS, in use, a domain) gets its own,\n"
         "a failed scan retires the shared one"},
        {"jitter", OPT_JITTER, "DURATION",
         "wait a random time up to this long first (300s, 5m... ), so\n"
         "that hosts sharing storage do not all start at once"},
        {"priority", OPT_PRIORITY, "P",
         "idle (default: nice 10 and the idle I/O class for every scan)\n"
         "or normal"},
        {"wait", OPT_WAIT, NULL,
         "if another fleet run holds the lock, wait for it (default:\n"
         "exit 4 at once)"},
        {"progress", OPT_PROGRESS, "WHEN", "auto (default: on a terminal), always, never"},
        {"fail-on", OPT_FAILON, "SEVERITY", "as vmdrift scan's: exit 1 only for drift at or above it"},
        {"state-dir", CLI_OPT_STATE_DIR, "DIR",
         "the lock, each guest's last result (fleet/<guest>.json), and\n"
         "what scans remember; default $STATE_DIRECTORY or /var/lib/vmdrift"},
        {NULL, 0, NULL,
         "  --accel MODE, --hash-in WHERE, --full-inspection, --threads N, --full, --paranoid,\n"
         "  --yara PATH, --yara-all\n"
         "                       passed to every scan (the YARA rules compiled once for the run)\n"
         "  --syslog-* , --max-events   as vmdrift scan's, for every scan and the findings\n"},
        {"json", OPT_JSON, NULL, "fleet status: JSON instead of a table"},
        {"help", 'h', NULL, "this help"},
        /* described by the text lines above */
        {"accel", CLI_OPT_ACCEL, "MODE", NULL},
        {"hash-in", CLI_OPT_HASH_IN, "WHERE", NULL},
        {"full-inspection", CLI_OPT_FULL_INSPECTION, NULL, NULL},
        {"threads", CLI_OPT_THREADS, "N", NULL},
        {"full", OPT_FULL, NULL, NULL},
        {"paranoid", OPT_PARANOID, NULL, NULL},
        {"yara", OPT_YARA, "PATH", NULL},
        {"yara-all", OPT_YARA_ALL, NULL, NULL},
        CLI_OPT_END,
};

/* the sinks' settings are parsed as scan's and described by one line */
static const cli_opt *const fleet_tables[] = {fleet_options, cli_report_options, NULL};
static const cli_opt *const fleet_help_tables[] = {fleet_options, NULL};

static const char fleet_tail[] =
        "\n"
        "exit codes (the worst of the run):\n"
        "  0  every guest scanned, no drift and no finding at or above --fail-on\n"
        "  1  drift or a fleet finding at or above --fail-on\n"
        "  2  usage or inventory error\n"
        "  3  a guest's scan failed or a guest is unreachable (the others were still scanned)\n"
        "  4  another fleet run holds the lock (without --wait)\n";

int cmd_fleet(int argc, char **argv) {
        const char *sub = "run";
        if (argc > 1 && argv[1][0] != '-') {
                sub = argv[1];
                argc--;
                argv++;
                if (strcmp(sub, "run") != 0 && strcmp(sub, "check") != 0 && strcmp(sub, "status") != 0)
                        return cli_usage("fleet", "unknown subcommand '%s' (run, check, status)", sub);
        }
        cli_getopt go;
        cli_getopt_init(&go, fleet_tables);
        fleet_opts o;
        memset(&o, 0, sizeof o);
        const char *yara_path = NULL;
        o.idle = true;
        o.per_app = PER_APPLIANCE_DEFAULT;
        cli_sink_opts_init(&o.sinko);
        int c;
        optind = 1;
        while ((c = cli_getopt_next(&go, argc, argv)) != -1) {
                /* report options go to every scan, and to the findings' sinks */
                if (c >= CLI_OPT_SYSLOG_CA && c <= CLI_OPT_MAX_EVENTS && c != CLI_OPT_STATE_DIR) {
                        if (cli_report_opt(&o.sinko, c, optarg, "fleet") == EXIT_USAGE)
                                return EXIT_USAGE;
                        continue;
                }
                /* what every guest's scan is asked the same */
                if (c == CLI_OPT_ACCEL || c == CLI_OPT_HASH_IN || c == CLI_OPT_THREADS || c == CLI_OPT_FULL_INSPECTION) {
                        if (cli_source_opt(&o.base.so, c, optarg, "fleet") == EXIT_USAGE)
                                return EXIT_USAGE;
                        continue;
                }
                switch (c) {
                case OPT_INVENTORY: o.inventory = optarg; break;
                case CLI_OPT_STATE_DIR: o.state_dir = optarg; break;
                case CLI_OPT_REPORT:
                        if (o.n_reports == MAX_SINKS)
                                return cli_usage("fleet", "at most %d --report options", MAX_SINKS);
                        if (strstr(optarg, "{guest}") && fleet_spec_kind(optarg) != SPEC_GUEST_FILE)
                                return cli_usage("fleet", "--report %s: {guest} belongs in a text: or json: file name",
                                                 optarg);
                        o.reports[o.n_reports++] = optarg;
                        break;
                case OPT_JOBS:
                        if (!cli_parse_uint(optarg, &o.jobs) || o.jobs == 0 || o.jobs > 64)
                                return cli_usage("fleet", "--jobs expects 1-64, not '%s'", optarg);
                        break;
                case OPT_PER_APPLIANCE:
                        if (!cli_parse_uint(optarg, &o.per_app) || o.per_app == 0 || o.per_app > PER_APPLIANCE_MAX)
                                return cli_usage("fleet", "--guests-per-appliance expects 1-64, not '%s'", optarg);
                        break;
                case OPT_JITTER:
                        if (!parse_duration(optarg, &o.jitter_s))
                                return cli_usage("fleet", "--jitter expects a duration such as 300s, 5m or 1h (at most "
                                                 "a day), not '%s'",
                                                 optarg);
                        break;
                case OPT_PRIORITY:
                        if (strcmp(optarg, "idle") && strcmp(optarg, "normal"))
                                return cli_usage("fleet", "--priority expects idle or normal, not '%s'", optarg);
                        o.idle = strcmp(optarg, "idle") == 0;
                        break;
                case OPT_WAIT: o.wait = true; break;
                case OPT_JSON: o.json = true; break;
                case OPT_PROGRESS:
                        o.progress = !strcmp(optarg, "always") ? 1 : !strcmp(optarg, "never") ? -1 : 0;
                        if (strcmp(optarg, "always") && strcmp(optarg, "never") && strcmp(optarg, "auto"))
                                return cli_usage("fleet", "--progress expects auto, always or never, not '%s'", optarg);
                        break;
                case OPT_FAILON:
                        if (vd_severity_from_name(optarg) < 0)
                                return cli_usage("fleet", "--fail-on expects info, low, medium, high or critical, not "
                                                 "'%s'",
                                                 optarg);
                        o.fail_on = optarg;
                        break;
                case OPT_FULL: o.base.full = true; break;
                case OPT_PARANOID: o.base.paranoid = true; break;
                case OPT_YARA: yara_path = optarg; break;
                case OPT_YARA_ALL: o.base.yara.all = true; break;
                case 'h': return cli_help(stdout, fleet_head, fleet_help_tables, fleet_tail);
                default: return cli_bad_option("fleet", argv);
                }
        }
        if (!strcmp(sub, "check") && !o.inventory && optind < argc)
                o.inventory = argv[optind++];
        if (optind < argc)
                return cli_usage("fleet", "unexpected argument '%s'", argv[optind]);
        if (!o.inventory)
                return cli_usage("fleet", !strcmp(sub, "check") ? "no inventory given: vmdrift fleet check FILE"
                                                                : "no inventory given: use --inventory FILE");
        o.state_dir = vd_state_dir(o.state_dir, cli_env_get()->host.state_directory);
        o.sinko.state_dir = o.state_dir;
        if (!o.jobs)
                o.jobs = default_jobs();
        if (o.n_reports == 0)
                o.reports[o.n_reports++] = "text";
        vd_inventory *inv = NULL;
        vd_err err = VD_ERR_INIT;
        if (vd_inventory_load(o.inventory, &inv, &err) < 0)
                return cli_fail(&err);
        o.inv = inv;
        int rc;
        if (!strcmp(sub, "check"))
                rc = fleet_check(inv);
        else if (!strcmp(sub, "status"))
                rc = fleet_status(&o, inv);
        else {
                /* no report may replace an input: the inventory, a baseline, an image */
                rc = 0;
                for (size_t r = 0; r < o.n_reports && !rc; r++) {
                        const char *f = vd_sink_spec_file(o.reports[r]);
                        if (!f || strstr(f, "{guest}"))
                                continue;
                        vd_input in[VD_INPUTS_MAX] = {{"inventory", inv->file}};
                        size_t nin = 1;
                        for (size_t g = 0; g < inv->n_guests && !rc; g++) {
                                const vd_inv_guest *x = &inv->guests[g];
                                nin = 1;
                                in[nin++] = (vd_input){"baseline", x->baseline};
                                in[nin++] = (vd_input){"policy", x->policy};
                                for (size_t k = 0; k < x->n_images && nin < VD_INPUTS_MAX; k++)
                                        in[nin++] = (vd_input){"image", x->images[k]};
                                rc = cli_refuse_overwrite("fleet", "report file", f, in, nin);
                        }
                }
                /* compiled once, before the workers fork: every scan matches the same rules */
                vd_yara *rules = NULL;
                if (!rc && yara_path && vd_yara_load(yara_path, &rules, &err) < 0)
                        rc = cli_fail(&err);
                o.base.yara.rules = rules;
                if (!rc)
                        rc = fleet_run(&o, inv);
                vd_yara_free(rules);
        }
        vd_inventory_free(inv);
        return rc;
}
