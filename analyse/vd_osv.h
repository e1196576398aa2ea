/* Known vulnerabilities, offline: OSV advisory records (https://ossf.github.io/osv-schema/)
 * as Debian, Ubuntu, AlmaLinux, Rocky... publish them, matched against a
 * guest's installed packages.
 *
 * vd_advisories_load reads one record file or a directory of them (an
 * unpacked ecosystem all.zip; subdirectories followed four levels deep, no
 * symbolic links) and keeps, of each record, only the affected entries of
 * the given ecosystem ("Debian:12" also takes "Debian:12:..." entries).
 * Records are untrusted input: each file is bounded (16 MiB, vd_json), a
 * malformed one is skipped with a warning naming file, line and column, and
 * never stops the rest. Entries name source packages on Debian and Ubuntu;
 * a package matches by its source name (vd_package.source) or its own.
 *
 * A package is affected when its version (the source's version where dpkg
 * names one) is listed in the entry's "versions", or lies inside one of its
 * ECOSYSTEM ranges: at or after an "introduced", before the next "fixed",
 * at or before a "last_affected", below any "limit" -- compared in the
 * package manager's own order (vd_version.h). Each hit is a "vulnerable"
 * package event: the installed version, the advisory id, its aliases (CVE
 * ids), the first fixed version above the installed one, and the severity
 * the record gives (a CVSS v3 vector's base score, or a word such as
 * Debian's urgency or Ubuntu's priority), else the policy's.
 */
#ifndef VD_OSV_H
#define VD_OSV_H

#include <stddef.h>

#include "collect/vd_source.h"
#include "common/vd_err.h"
#include "model/vd_event.h"
#include "policy/vd_policy.h"

#define VD_OSV_FILE_MAX ((size_t)16 << 20)
#define VD_OSV_FILES_MAX 2000000

typedef struct vd_advisories vd_advisories;

/* Load path for ecosystem. Malformed records become warnings (read them with
 * vd_advisories_warnings). Errors: path missing or unreadable as a whole. */
int vd_advisories_load(const char *path, const char *ecosystem, vd_advisories **ret, vd_err *err);
void vd_advisories_free(vd_advisories *a);
/* An empty set for ecosystem, and records added from JSON text (one record
 * or an array of them; name labels warnings): for tests and fuzzing. */
int vd_advisories_new(const char *ecosystem, vd_advisories **ret, vd_err *err);
void vd_advisories_add_json(vd_advisories *a, const char *text, size_t len, const char *name);

/* Files read, records in the ecosystem, affected entries kept. */
void vd_advisories_counts(const vd_advisories *a, size_t *files, size_t *records, size_t *entries);
/* The warnings of the load, in order: n of them, each a message. */
const char *const *vd_advisories_warnings(const vd_advisories *a, size_t *n);

/* The OSV ecosystem of a guest from its facts (os.distro, os.version):
 * "Debian:12", "Ubuntu:22.04", "AlmaLinux:9", "Rocky Linux:9",
 * "Alpine:v3.19"; NULL when unknown. Into buf (64 bytes). */
const char *vd_osv_ecosystem(const char *distro, const char *version, char buf[64]);

/* One event per affected (package, advisory) of pkgs, appended to out,
 * sorted as out already is not. format: vd_packages.h VD_PKG_*; the
 * ecosystem's own order is used where it says (Debian, Ubuntu: dpkg; the
 * rest: rpm). */
int vd_advisories_match(const vd_advisories *a, const vd_package *pkgs, size_t n, const vd_policy *pol,
                        vd_events *out, vd_err *err);

/* The severity a CVSS v3.x vector's base score falls in (low 0.1-3.9,
 * medium -6.9, high -8.9, critical 9.0-), or -1 if it is not one. */
int vd_cvss3_severity(const char *vector, double *ret_score);

#endif
