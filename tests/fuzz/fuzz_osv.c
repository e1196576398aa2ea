/* OSV advisory records from an offline feed, then matched against a few
 * packages: any bytes load or warn, and matching never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/vd_osv.h"
#include "policy/vd_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static vd_policy *pol;
        vd_err e = VD_ERR_INIT;
        if (!pol && vd_policy_new_default(&pol, &e) < 0)
                abort();
        vd_advisories *a = NULL;
        const char *eco = size && data[0] & 1 ? "AlmaLinux:9" : "Debian:12";
        if (vd_advisories_new(eco, &a, &e) < 0)
                abort();
        vd_advisories_add_json(a, (const char *)data, size, "fuzz.json");
        vd_package p[] = {
                {(char *)"a", (char *)"1.0", (char *)"1", (char *)"amd64", 0, NULL, NULL},
                {(char *)"libssl3", (char *)"3.0.11", (char *)"1~deb12u1", (char *)"amd64", 1, (char *)"openssl",
                 (char *)"3.0.11-1~deb12u1"},
                {(char *)"x", (char *)"2~rc1", (char *)"", (char *)"", 0, NULL, NULL},
        };
        vd_events ev;
        vd_events_init(&ev);
        if (vd_advisories_match(a, p, 3, pol, &ev, &e) == 0)
                for (size_t i = 0; i < ev.n; i++)
                        if (!vd_event_find(&ev.v[i], "advisory"))
                                abort();
        vd_events_release(&ev);
        vd_advisories_free(a);
        return 0;
}
