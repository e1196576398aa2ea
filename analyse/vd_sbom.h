/* A guest's software inventory (its OS and installed packages) as an SBOM:
 * CycloneDX 1.5 JSON or SPDX 2.3 JSON, validated against the official
 * schemas in tests/sbom/, so that Grype, Trivy or Dependency-Track can take
 * it; or vmdrift's own plain JSON. Package URLs follow the purl spec:
 * pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u3?arch=amd64&distro=debian-12,
 * pkg:rpm/rocky/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rocky-9.
 *
 * Ownership: vd_sbom_render appends to the caller's out; vd_purl returns a
 * malloc'ed string the caller frees (NULL: out of memory). */
#ifndef VD_SBOM_H
#define VD_SBOM_H

#include "collect/vd_source.h"
#include "common/vd_buf.h"
#include "common/vd_err.h"

enum vd_sbom_format { VD_SBOM_CYCLONEDX = 0, VD_SBOM_SPDX = 1, VD_SBOM_JSON = 2 };
int vd_sbom_format_from_name(const char *s); /* "cyclonedx", "spdx", "json"; -1 */

typedef struct vd_sbom_in {
        const char *source; /* what was inventoried: the image list, the directory, the baseline */
        const vd_fact *facts;
        size_t n_facts;
        const vd_package *packages; /* sorted by name, arch */
        size_t n_packages;
        int64_t now_ns; /* the document's creation time */
} vd_sbom_in;

int vd_sbom_render(int format, const vd_sbom_in *in, vd_buf *out, vd_err *err);

/* The package URL of p on this OS (facts: os.distro, os.version,
 * os.package_format); malloc'ed, or NULL when out of memory. */
char *vd_purl(const vd_package *p, const vd_fact *facts, size_t n_facts);

#endif
