/* Windows guests: Windows-like images built in the test as libguestfs's own
 * tests build them (tests/windows/mkwindows.sh: NTFS made in the appliance,
 * hives from hivex's minimal hive), captured and scanned by the real
 * vmdrift through a real appliance. One template, a benign clone and a
 * clone with a change of every Windows detector kind, and one that
 * inspection gives up on; seven launches in all (two to build, five to
 * capture and scan), each asserting much. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define A "\x1f"
#define POLICY VD_EXAMPLES "/policies/windows.yaml"

static char *work;

static void setup(void) {
        work = th_mkdtemp();
        setenv("LIBGUESTFS_BACKEND", "direct", 0);
}
static void teardown(void) {
        th_rmtree(work);
        free(work);
}
TestSuite(windows, .init = setup, .fini = teardown, .timeout = 1200);

/* every line of a JSON report that is a drift event of path with all of needles */
static void want(const char *out, const char *path, const char *const *needles) {
        char p[1024];
        snprintf(p, sizeof p, "\"path\":\"%s\"", path);
        const char *n[8] = {"\"event\":\"drift\"", p};
        size_t k = 2;
        for (size_t i = 0; needles[i] && k < 7; i++)
                n[k++] = needles[i];
        n[k] = NULL;
        cr_assert_geq(th_lines_with(out, n[0], n[1], n[2], n[3], n[4], n[5], n[6], NULL), 1,
                      "no event %s with %s %s %s in:\n%s", path, n[2] ? n[2] : "", n[3] ? n[3] : "",
                      n[4] ? n[4] : "", out);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(windows, registry_accounts_services_tasks_and_files_are_reported_and_a_benign_clone_is_quiet) {
        th_run r = th_exec((const char *const[]){"bash", MKWINDOWS, work, GUESTFISH, NULL});
        cr_assert_eq(r.status, 0, "mkwindows.sh: %s%s", r.out, r.err);
        th_run_free(&r);

        r = th_vmdrift("baseline" A "capture" A "--image" A "%s/tmpl.qcow2" A "--policy" A POLICY A "-o" A "%s/t.vdb",
                       work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "guest: Windows Server 2022 Datacenter, 4 packages"), "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s/t.vdb", work);
        cr_assert(strstr(r.out, "os.package_format windows"), "%s", r.out);
        cr_assert(strstr(r.out, "os.systemroot    /Windows"), "%s", r.out);
        cr_assert(strstr(r.out, "os.drive         C\n"), "%s", r.out);
        cr_assert(strstr(r.out, "os.build         10.0.20348.2700"), "%s", r.out);
        cr_assert(strstr(r.out, "layout.pkgdb     /Windows/System32/config/SOFTWARE "), "%s", r.out);
        th_run_free(&r);
        /* the applications as a bill of materials, valid against CycloneDX's and SPDX's own schemas */
        const char *fmts[] = {"cyclonedx", "spdx"};
        for (size_t i = 0; i < 2; i++) {
                r = th_vmdrift("inventory" A "--baseline" A "%s/t.vdb" A "--format" A "%s" A "-o" A "%s/%s.json", work,
                               fmts[i], work, fmts[i]);
                cr_assert_eq(r.status, 0, "%s", r.err);
                th_run_free(&r);
                char f[64];
                snprintf(f, sizeof f, "%s.json", fmts[i]);
                r = th_exec((const char *const[]){"python3", VD_SBOM "/validate.py", fmts[i], th_path(work, f), NULL});
                cr_assert_eq(r.status, 0, "%s is not valid:\n%s%s", fmts[i], r.out, r.err);
                th_run_free(&r);
                r = th_exec((const char *const[]){"cat", th_path(work, f), NULL});
                cr_assert(strstr(r.out, "pkg:generic/Notepad%2B%2B@8.5.8"), "%s", r.out);
                cr_assert(i == 1 || strstr(r.out, "{\"type\":\"application\",\"bom-ref\":\"pkg:generic/7-Zip@22.01\""),
                          "%s", r.out);
                th_run_free(&r);
        }

        /* The planted clone: every change with its key, account, path and
         * detector; ntfs-3g's 0777 is no world-writable file. */
        /* (with YARA: a program a persistence value names is matched
         * although it did not change: IFEO's debugger for sethc.exe) */
        th_write(work, "rules/named.yar", "rule named_program { meta: severity = \"medium\" condition: filename == "
                                          "\"cmd.exe\" and uint16(0) != 0 }\n");
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--policy" A POLICY A "--image" A "%s/planted.qcow2" A
                       "--report" A "json" A "--report" A "text:%s/planted.txt" A "--yara" A "%s/rules",
                       work, work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        char *planted = r.out;
        free(r.err);
        const char *sw = "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion";
        char k[512];
        snprintf(k, sizeof k, "%s\\\\Run", sw);
        want(planted, k, W("\"detector\":\"persistence\"", "\"Updater\":{\"old\":null,\"new\":\"C:\\\\Users\\\\Public\\\\u.exe\""));
        snprintf(k, sizeof k, "%s\\\\RunOnce", sw);
        want(planted, k, W("\"detector\":\"persistence\"", "\"Cleanup\""));
        want(planted, "HKU\\\\ops\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run",
             W("\"detector\":\"persistence\"", "\"Sync\""));
        want(planted, "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\Winlogon",
             W("\"detector\":\"persistence\"", "\"Shell\""));
        want(planted, "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\Image File Execution Options",
             W("\"detector\":\"persistence\"", "\"sethc.exe\\\\Debugger\""));
        want(planted, "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\Windows",
             W("\"detector\":\"persistence\"", "\"AppInit_DLLs\""));
        want(planted, "HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Services",
             W("\"detector\":\"persistence\"", "\"WinUpdateSvc\\\\ImagePath\"", "\"W32Time\\\\ObjectName\""));
        snprintf(k, sizeof k, "%s\\\\Policies\\\\System", sw);
        want(planted, k, W("\"change\":\"changed\"", "\"detector\":\"security-off\"", "\"EnableLUA\""));
        want(planted, k, W("\"change\":\"violation\"", "\"EnableLUA\""));
        want(planted, "HKLM\\\\SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows Defender",
             W("\"detector\":\"security-off\"", "\"DisableAntiSpyware\""));
        want(planted, "HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\SharedAccess\\\\Parameters\\\\FirewallPolicy",
             W("\"detector\":\"security-off\"", "\"PublicProfile\\\\EnableFirewall\""));
        want(planted, "HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Control\\\\Terminal Server",
             W("\"detector\":\"security-off\"", "\"fDenyTSConnections\""));
        want(planted, "HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Control\\\\SecurityProviders\\\\WDigest",
             W("\"detector\":\"security-off\"", "\"UseLogonCredential\""));
        want(planted, "HKLM\\\\SYSTEM\\\\CurrentControlSet\\\\Control\\\\Lsa",
             W("\"detector\":\"security-off\"", "\"RunAsPPL\":{\"old\":\"1\",\"new\":null"));
        want(planted, "HKLM\\\\SAM\\\\SAM\\\\Domains\\\\Account\\\\Users\\\\Names",
             W("\"detector\":\"account\"", "\"support\\\\(default)\""));
        /* ops (RID 1000) joined Administrators (alias 544) */
        want(planted, "HKLM\\\\SAM\\\\SAM\\\\Domains\\\\Builtin\\\\Aliases\\\\Members",
             W("\"detector\":\"account\"",
               "\"(this machine)\\\\000003E8\\\\(default)\":{\"old\":\"hex:21020000\","
               "\"new\":\"hex:2102000020020000\""));
        want(planted, "/Windows/System32/Tasks/Updater", W("\"change\":\"added\"", "\"detector\":\"persistence\""));
        want(planted, "/Windows/System32/cmd.exe",
             W("\"change\":\"malware\"", "\"new\":\"named_program\"", "Image File Execution Options"));
        want(planted, "/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/update.cmd",
             W("\"detector\":\"persistence\""));
        /* owners and DACLs from NTFS's security descriptors, named (ntfs-3g
         * gives a new file Administrators as owner and Everyone full
         * control, as its folders have: no broadened DACL) */
        want(planted, "/Windows/System32/evil.dll",
             W("\"severity\":\"high\"", "\"detector\":\"system-binary\"",
               "\"acl\":{\"old\":null,\"new\":\"owner BUILTIN\\\\Administrators, group BUILTIN\\\\Administrators; "
               "allow Everyone: full control\"}",
               "\"attributes\":{\"old\":null,\"new\":\"archive\"}"));
        /* given to a local account: named as the guest's SAM names it */
        want(planted, "/Windows/System32/drivers/etc/hosts",
             W("\"change\":\"changed\"", "\"severity\":\"high\"",
               "\"new\":\"owner web-07\\\\ops, group BUILTIN\\\\Administrators; allow web-07\\\\ops: full control; "
               "allow NT AUTHORITY\\\\SYSTEM: full control\"}"));
        cr_assert_eq(th_lines_with(planted, "\"event\":\"summary\"", "\"guest_drive\":\"C\"", NULL), 1, "%s", planted);
        /* the programs those values name: part of the persistence, high */
        want(planted, "/Windows/Temp/shell.exe", W("\"change\":\"added\"", "\"severity\":\"high\"", "\"detector\":\"persistence\""));
        want(planted, "/ProgramData/svc/updsvc.exe", W("\"severity\":\"high\"", "\"detector\":\"persistence\""));
        want(planted, "/Users/ops/AppData/Roaming/sync.exe", W("\"severity\":\"high\"", "\"detector\":\"persistence\""));
        /* an alternate data stream is content: on a DLL, high */
        want(planted, "/Windows/System32/kernel32.dll",
             W("\"change\":\"changed\"", "\"severity\":\"high\"",
               "\"stream:payload\":{\"old\":null,\"new\":\"17 bytes, sha256:"));
        want(planted, "/Users/Public/u.exe", W("\"change\":\"added\"", "\"detector\":\"persistence\"", "\"stream:Zone.Identifier\""));
        /* applications: added, and behind in Windows' dotted version order */
        cr_assert_eq(th_lines_with(planted, "\"package\":\"AnyDesk\"", "\"change\":\"added\"", NULL), 1, "%s", planted);
        cr_assert_eq(th_lines_with(planted, "\"package\":\"7-Zip\"", "\"change\":\"behind\"",
                                   "\"version\":{\"old\":\"22.01\",\"new\":\"19.00\"}", NULL),
                     1, "%s", planted);
        /* the OS build: a clone two cumulative updates behind its template */
        cr_assert_eq(th_lines_with(planted, "\"package\":\"Microsoft Windows\"", "\"change\":\"behind\"",
                                   "\"version\":{\"old\":\"10.0.20348.2700\",\"new\":\"10.0.20348.2183\"}", NULL),
                     1, "%s", planted);
        cr_assert_eq(th_lines_with(planted, "\"detector\":\"world-writable\"", NULL), 0, "%s", planted);
        cr_assert_eq(th_lines_with(planted, "\"path\":\"/Windows/System32/config/", NULL), 0,
                     "a hive's bytes are no drift: %s", planted);
        cr_assert_eq(th_lines_with(planted, "\"path\":\"/pagefile.sys\"", NULL), 0, "%s", planted);
        r = th_exec((const char *const[]){"cat", th_path(work, "planted.txt"), NULL});
        /* paths on the drive inspection names, as Windows shows them */
        cr_assert(strstr(r.out, "  high      C:\\Windows\\System32\\drivers\\etc\\hosts  [rule hosts-and-drivers]\n"),
                  "%s", r.out);
        cr_assert(strstr(r.out, "                acl        owner BUILTIN\\Administrators, group BUILTIN\\Administrators; "
                                "allow Everyone: full control\n                        -> owner web-07\\ops, group "
                                "BUILTIN\\Administrators; allow web-07\\ops: full control; allow NT AUTHORITY\\SYSTEM: "
                                "full control\n"),
                  "%s", r.out);
        cr_assert(strstr(r.out, "C:\\Windows\\System32\\evil.dll  [rule system, detector system-binary]\n"
                                "                file 34777 bytes (archive)\n"
                                "                owner BUILTIN\\Administrators, group BUILTIN\\Administrators; allow "
                                "Everyone: full control\n"),
                  "%s", r.out);
        cr_assert(strstr(r.out, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run: Updater: (not set) -> "
                                "\"C:\\Users\\Public\\u.exe\"  (set in /Windows/System32/config/SOFTWARE)  "
                                "[detector persistence]"),
                  "%s", r.out);
        th_run_free(&r);

        /* NTFS has no ext4 geometry to prove a delta scan with: the scan
         * says why it ran in full */
        cr_assert_eq(th_lines_with(planted, "\"event\":\"summary\"", "\"scan_mode\":\"full\"",
                                   "\"full_because\":\"the baseline records no ext4 file system geometry", NULL),
                     1, "%s", planted);
        char *a = th_drift_lines(planted), *b;

        /* Untouched since: the kept report, no launch. Another build of
         * vmdrift (here: the same binary with a byte appended, as a rebuild
         * that finds more would differ) never takes this build's report: it
         * scans again, and finds exactly the same. */
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--policy" A POLICY A "--image" A "%s/planted.qcow2" A
                       "--report" A "json" A "--yara" A "%s/rules",
                       work, work, work);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"unchanged_since\"", NULL), 1, "%s", r.out);
        th_run_free(&r);
        char rebuilt[4200], cmd[9000];
        snprintf(rebuilt, sizeof rebuilt, "%s/vmdrift-rebuilt", work);
        snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf x >>'%s'", VMDRIFT_BIN, rebuilt, rebuilt);
        cr_assert_eq(system(cmd), 0);
        r = th_exec((const char *const[]){rebuilt, "scan", "--baseline", th_path(work, "t.vdb"), "--policy", POLICY,
                                          "--image", th_path(work, "planted.qcow2"), "--report", "json", "--yara",
                                          th_path(work, "rules"), NULL});
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"unchanged_since\"", NULL), 0,
                     "another build took this one's kept report: %s", r.out);
        b = th_drift_lines(r.out);
        cr_assert_str_eq(a, b, "the other build's full scan differs from the first");
        free(a);
        free(b);
        th_run_free(&r);
        free(planted);

        /* The benign clone: a new computer name (low), a new machine SID
         * (sysprep: its accounts' memberships are the same), logs,
         * pagefile, a temporary file and a rewritten hive: nothing above
         * low. */
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--policy" A POLICY A "--image" A "%s/benign.qcow2" A
                       "--report" A "json" A "--fail-on" A "medium",
                       work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 2, "%s", r.out);
        /* its SOFTWARE hive (the applications) is the template's: mounted
         * from the recorded layout, the host name read from SYSTEM */
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"guest_hostname\":\"web-03\"",
                                   "\"inspection\":\"baseline layout\"", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", "\"severity\":\"low\"", "\"Hostname\"", NULL) +
                             th_lines_with(r.out, "\"event\":\"drift\"", "\"severity\":\"low\"", "\"ComputerName\"", NULL),
                     2, "%s", r.out);
        th_run_free(&r);

        /* A cmd.exe inspection cannot read an architecture from: inspection
         * fails, and the guest is still scanned, file system by file
         * system, with a warning that says so (not exit 3). */
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/noarch.qcow2" A "--full-inspection" A
                       "--report" A "json",
                       work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "the guest could not be inspected",
                                   "unknown architecture", "scanned under its device name", NULL),
                     1, "%s", r.out);
        cr_assert_geq(th_lines_with(r.out, "\"event\":\"drift\"", "\"path\":\"/dev/sda1/Windows/System32/cmd.exe\"",
                                    NULL),
                      1, "%s", r.out);
        th_run_free(&r);
}
