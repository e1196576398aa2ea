/* Package drift: the guest's installed packages against a baseline's.
 *
 * Packages match by name and architecture. One installed on one side only is
 * added or removed; one on both sides at different versions is behind (the
 * guest's is older: a missing update) or ahead, in the order of the guest's
 * own package manager (dpkg or rpm, vd_version.h); for other formats the
 * versions are only compared for equality (changed). Where several versions
 * of one name and architecture are installed (rpm kernels), the newest of
 * each side is compared. Severity and what is reported come from the
 * policy's packages section. Events carry the name as path, the
 * architecture, and one change "version" with the full epoch:version-release
 * strings (old: the baseline's, new: the guest's).
 */
#ifndef VD_PACKAGES_H
#define VD_PACKAGES_H

#include "collect/vd_source.h"
#include "common/vd_err.h"
#include "model/vd_event.h"
#include "policy/vd_policy.h"

enum vd_pkg_format { VD_PKG_OTHER = 0, VD_PKG_DEB = 1, VD_PKG_RPM = 2, VD_PKG_WINDOWS = 3 };

/* From inspection's os.package_format ("deb", "rpm", ...). */
int vd_pkg_format_of(const char *package_format);

/* "epoch:version-release" as the package manager writes it (no epoch when
 * 0, no "-" when the release is empty). Returns a malloc'ed string or NULL. */
char *vd_package_label(const vd_package *p);

/* Start a package event about p in ev (zeroed first): kind, severity, rule,
 * the name as path and the architecture. VD_E_NOMEM (ev released). */
int vd_package_event_begin(vd_event *ev, const vd_package *p, int kind, int severity, const char *rule);

/* Compare cur (the guest) with base (both sorted by name, arch) and append
 * events to out. */
int vd_packages_compare(const vd_package *base, size_t nb, const vd_package *cur, size_t nc, int format,
                        const vd_policy *pol, vd_events *out, vd_err *err);

#endif
