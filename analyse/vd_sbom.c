#define _GNU_SOURCE
#include "analyse/vd_sbom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyse/vd_packages.h"
#include "collect/vd_hash.h"
#include "common/vd_json.h"
#include "common/vd_str.h"

int vd_sbom_format_from_name(const char *s) {
        if (!strcmp(s, "cyclonedx"))
                return VD_SBOM_CYCLONEDX;
        if (!strcmp(s, "spdx"))
                return VD_SBOM_SPDX;
        if (!strcmp(s, "json"))
                return VD_SBOM_JSON;
        return -1;
}

static const char *fact(const vd_fact *f, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (!strcmp(f[i].key, key))
                        return f[i].value;
        return NULL;
}

/* purl percent-encoding: everything but unreserved characters (and ':' in
 * versions, as the purl examples keep epochs readable). */
static int pct(vd_buf *b, const char *s, bool keep_colon) {
        int r = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p && !r; p++) {
                bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                          *p == '.' || *p == '-' || *p == '_' || *p == '~' || (keep_colon && *p == ':');
                r = ok ? vd_buf_addc(b, (char)*p) : vd_buf_addf(b, "%%%02X", *p);
        }
        return r;
}

/* "debian" and "12" from os.distro and os.version ("12.8" -> "12"). */
static void distro(const vd_fact *f, size_t n, char ns[64], char q[80]) {
        const char *d = fact(f, n, "os.distro"), *v = fact(f, n, "os.version");
        snprintf(ns, 64, "%s", d && *d && strcmp(d, "unknown") ? d : "");
        for (char *c = ns; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
                        *c = '-';
        size_t vl = v ? strcspn(v, ".") : 0;
        if (ns[0] && vl && vl < 10)
                snprintf(q, 80, "%s-%.*s", ns, (int)vl, v);
        else
                snprintf(q, 80, "%s", ns);
}

char *vd_purl(const vd_package *p, const vd_fact *f, size_t n) {
        int fmt = vd_pkg_format_of(fact(f, n, "os.package_format"));
        char ns[64], q[80];
        distro(f, n, ns, q);
        vd_buf b;
        vd_buf_init(&b, 0);
        int r = vd_buf_adds(&b, fmt == VD_PKG_DEB ? "pkg:deb/" : fmt == VD_PKG_RPM ? "pkg:rpm/" : "pkg:generic/");
        if (!r && fmt != VD_PKG_OTHER && fmt != VD_PKG_WINDOWS && ns[0]) { /* Windows: no package authority to name */
                r = pct(&b, ns, false);
                if (!r)
                        r = vd_buf_addc(&b, '/');
        }
        if (!r)
                r = pct(&b, p->name, false);
        if (!r)
                r = vd_buf_addc(&b, '@');
        if (fmt == VD_PKG_RPM) { /* the epoch is a qualifier for rpm */
                vd_package np = *p;
                np.epoch = 0;
                char *l = vd_package_label(&np);
                r = r ? r : l ? pct(&b, l, true) : VD_E_NOMEM;
                free(l);
        } else {
                char *l = vd_package_label(p);
                r = r ? r : l ? pct(&b, l, true) : VD_E_NOMEM;
                free(l);
        }
        char sep = '?';
        if (!r && p->arch && *p->arch) {
                r = vd_buf_addf(&b, "%carch=", sep);
                sep = '&';
                if (!r)
                        r = pct(&b, p->arch, false);
        }
        if (!r && fmt == VD_PKG_RPM && p->epoch > 0) {
                r = vd_buf_addf(&b, "%cepoch=%d", sep, (int)p->epoch);
                sep = '&';
        }
        if (!r && fmt != VD_PKG_OTHER && fmt != VD_PKG_WINDOWS && q[0]) {
                r = vd_buf_addf(&b, "%cdistro=", sep);
                if (!r)
                        r = pct(&b, q, false);
        }
        if (r) {
                vd_buf_release(&b);
                return NULL;
        }
        return vd_buf_detach(&b, NULL);
}



/* 2026-11-26T21:37:00Z: what both formats accept */
static void stamp(int64_t ns, char out[32]) {
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Each package with its purl and label, made once for the whole document;
 * dup: identical to the one before (name, arch, version), listed once. */
typedef struct pkgref {
        const vd_package *p;
        char *purl, *label;
        bool dup;
} pkgref;

/* ,"key":"value" (prefix holds the punctuation and the key) */
static int jkv(vd_buf *b, const char *prefix, const char *v) {
        int r = vd_buf_adds(b, prefix);
        return r ? r : vd_json_put_text(b, v);
}

static const char *os_name(const vd_sbom_in *in) {
        const char *d = fact(in->facts, in->n_facts, "os.distro");
        if (d && *d && strcmp(d, "unknown"))
                return d;
        d = fact(in->facts, in->n_facts, "os.type");
        return d && *d ? d : "unknown";
}

static int cyclonedx(const vd_sbom_in *in, const pkgref *refs, vd_buf *b) {
        char id[37], ts[32];
        vd_uuid4(id);
        stamp(in->now_ns, ts);
        const char *ver = fact(in->facts, in->n_facts, "os.version"),
                   *prod = fact(in->facts, in->n_facts, "os.product");
        int r = vd_buf_addf(b,
                            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"serialNumber\":\"urn:uuid:%s\","
                            "\"version\":1,\"metadata\":{\"timestamp\":\"%s\",\"tools\":{\"components\":[{\"type\":"
                            "\"application\",\"name\":\"vmdrift\",\"version\":\"%s\"}]},\"component\":{\"type\":"
                            "\"operating-system\",\"bom-ref\":\"os\"",
                            id, ts, VD_VERSION);
        if (!r)
                r = jkv(b, ",\"name\":", os_name(in));
        if (!r && ver)
                r = jkv(b, ",\"version\":", ver);
        if (!r && prod)
                r = jkv(b, ",\"description\":", prod);
        if (!r)
                r = jkv(b, ",\"properties\":[{\"name\":\"vmdrift:source\",\"value\":", in->source);
        if (!r)
                r = vd_buf_adds(b, "}]}},\"components\":[");
        const char *sep = "";
        /* a Windows guest's packages are the applications of its Uninstall keys */
        const char *ctype = vd_pkg_format_of(fact(in->facts, in->n_facts, "os.package_format")) == VD_PKG_WINDOWS
                                    ? "application"
                                    : "library";
        for (size_t i = 0; i < in->n_packages && !r; i++) {
                const pkgref *f = &refs[i];
                if (f->dup)
                        continue;
                r = vd_buf_addf(b, "%s{\"type\":\"%s\"", sep, ctype);
                sep = ",";
                if (!r)
                        r = jkv(b, ",\"bom-ref\":", f->purl);
                if (!r)
                        r = jkv(b, ",\"name\":", f->p->name);
                if (!r)
                        r = jkv(b, ",\"version\":", f->label);
                if (!r)
                        r = jkv(b, ",\"purl\":", f->purl);
                if (!r)
                        r = vd_buf_addc(b, '}');
        }
        if (!r)
                r = vd_buf_adds(b, "],\"dependencies\":[{\"ref\":\"os\",\"dependsOn\":[");
        sep = "";
        for (size_t i = 0; i < in->n_packages && !r; i++)
                if (!refs[i].dup) {
                        r = jkv(b, sep, refs[i].purl);
                        sep = ",";
                }
        if (!r)
                r = vd_buf_adds(b, "]}]}\n");
        return r;
}

static int spdx(const vd_sbom_in *in, const pkgref *refs, vd_buf *b) {
        char id[37], ts[32];
        vd_uuid4(id);
        stamp(in->now_ns, ts);
        const char *ver = fact(in->facts, in->n_facts, "os.version");
        int r = jkv(b, "{\"spdxVersion\":\"SPDX-2.3\",\"dataLicense\":\"CC0-1.0\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":",
                    in->source);
        if (!r)
                r = vd_buf_addf(b,
                                ",\"documentNamespace\":\"https://vmdrift.invalid/spdx/%s\",\"creationInfo\":{"
                                "\"created\":\"%s\",\"creators\":[\"Tool: vmdrift-%s\"]},\"packages\":[",
                                id, ts, VD_VERSION);
        if (!r)
                r = jkv(b, "{\"name\":", os_name(in));
        if (!r && ver)
                r = jkv(b, ",\"versionInfo\":", ver);
        if (!r)
                r = vd_buf_adds(b, ",\"SPDXID\":\"SPDXRef-OperatingSystem\",\"downloadLocation\":\"NOASSERTION\","
                                   "\"filesAnalyzed\":false,\"primaryPackagePurpose\":\"OPERATING_SYSTEM\"}");
        size_t k = 0;
        for (size_t i = 0; i < in->n_packages && !r; i++) {
                const pkgref *f = &refs[i];
                if (f->dup)
                        continue;
                r = jkv(b, ",{\"name\":", f->p->name);
                if (!r)
                        r = vd_buf_addf(b, ",\"SPDXID\":\"SPDXRef-Package-%zu\"", ++k);
                if (!r)
                        r = jkv(b, ",\"versionInfo\":", f->label);
                if (!r)
                        r = jkv(b, ",\"downloadLocation\":\"NOASSERTION\",\"filesAnalyzed\":false,"
                                   "\"primaryPackagePurpose\":\"LIBRARY\",\"externalRefs\":[{"
                                   "\"referenceCategory\":\"PACKAGE-MANAGER\",\"referenceType\":\"purl\","
                                   "\"referenceLocator\":",
                                f->purl);
                if (!r)
                        r = vd_buf_adds(b, "}]}");
        }
        if (!r)
                r = vd_buf_adds(b, "],\"relationships\":[{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\"relationshipType\":"
                                   "\"DESCRIBES\",\"relatedSpdxElement\":\"SPDXRef-OperatingSystem\"}");
        for (size_t i = 1; i <= k && !r; i++)
                r = vd_buf_addf(b, ",{\"spdxElementId\":\"SPDXRef-OperatingSystem\",\"relationshipType\":\"CONTAINS\","
                                   "\"relatedSpdxElement\":\"SPDXRef-Package-%zu\"}",
                                i);
        if (!r)
                r = vd_buf_adds(b, "]}\n");
        return r;
}

static int plain(const vd_sbom_in *in, const pkgref *refs, vd_buf *b) {
        int r = jkv(b, "{\"source\":", in->source);
        if (!r)
                r = vd_buf_adds(b, ",\"facts\":{");
        for (size_t i = 0; i < in->n_facts && !r; i++) {
                r = jkv(b, i ? "," : "", in->facts[i].key);
                if (!r)
                        r = jkv(b, ":", in->facts[i].value);
        }
        if (!r)
                r = vd_buf_adds(b, "},\"packages\":[");
        for (size_t i = 0; i < in->n_packages && !r; i++) {
                const pkgref *f = &refs[i];
                r = jkv(b, i ? ",{\"name\":" : "{\"name\":", f->p->name);
                if (!r)
                        r = jkv(b, ",\"arch\":", f->p->arch);
                if (!r)
                        r = vd_buf_addf(b, ",\"epoch\":%d", (int)f->p->epoch);
                if (!r)
                        r = jkv(b, ",\"version\":", f->p->version);
                if (!r)
                        r = jkv(b, ",\"release\":", f->p->release);
                if (!r)
                        r = jkv(b, ",\"label\":", f->label);
                if (!r)
                        r = jkv(b, ",\"purl\":", f->purl);
                if (!r)
                        r = vd_buf_addc(b, '}');
        }
        if (!r)
                r = vd_buf_adds(b, "]}\n");
        return r;
}

int vd_sbom_render(int format, const vd_sbom_in *in, vd_buf *out, vd_err *err) {
        pkgref *refs = calloc(in->n_packages ? in->n_packages : 1, sizeof *refs);
        int r = refs ? 0 : VD_E_NOMEM;
        for (size_t i = 0; i < in->n_packages && r == 0; i++) {
                const vd_package *p = &in->packages[i], *q = i ? &in->packages[i - 1] : NULL;
                refs[i].p = p;
                refs[i].dup = q && !strcmp(q->name, p->name) && !strcmp(q->arch, p->arch) &&
                              !strcmp(q->version, p->version) && !strcmp(q->release, p->release) && q->epoch == p->epoch;
                refs[i].purl = vd_purl(p, in->facts, in->n_facts);
                refs[i].label = vd_package_label(p);
                if (!refs[i].purl || !refs[i].label)
                        r = VD_E_NOMEM;
        }
        if (r == 0)
                r = format == VD_SBOM_CYCLONEDX ? cyclonedx(in, refs, out)
                    : format == VD_SBOM_SPDX    ? spdx(in, refs, out)
                                                : plain(in, refs, out);
        for (size_t i = 0; refs && i < in->n_packages; i++) {
                free(refs[i].purl);
                free(refs[i].label);
        }
        free(refs);
        if (r < 0)
                return vd_err_set(err, r, "cannot render the inventory");
        return 0;
}
