/* vmdrift fleet check (the inventory, validated) and status (each guest's
 * last result, from the state directory). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_json.h"
#include "common/vd_str.h"

#include "fleet.h"

/* ---- fleet check and status ---- */

int fleet_check(const vd_inventory *inv) {
        int missing = 0;
        printf("%s: %zu guests\n", inv->file, inv->n_guests);
        for (size_t i = 0; i < inv->n_guests; i++) {
                const vd_inv_guest *g = &inv->guests[i];
                printf("  %-24s ", g->name);
                if (g->domain)
                        printf("domain %s%s%s", g->domain, g->connect ? " at " : "", g->connect ? g->connect : "");
                else if (g->dir)
                        printf("dir %s", g->dir);
                else
                        printf("%zu image%s: %s%s", g->n_images, g->n_images == 1 ? "" : "s", g->images[0],
                               g->n_images > 1 ? " ..." : "");
                printf("\n  %-24s baseline %s%s%s\n", "", g->baseline, g->policy ? ", policy " : "",
                       g->policy ? g->policy : "");
                const char *files[] = {g->baseline, g->policy, g->verify_key, g->packages_from, g->advisories};
                const char *what[] = {"baseline", "policy", "verify key", "packages baseline", "advisories"};
                for (size_t k = 0; k < 5; k++)
                        if (files[k] && access(files[k], R_OK) < 0) {
                                fprintf(stderr, "vmdrift fleet check: guest %s: %s '%s': %s\n", g->name, what[k],
                                        files[k], strerror(errno));
                                missing++;
                        }
        }
        for (size_t i = 0; i < inv->n_storage; i++)
                printf("storage %s\n", inv->storage[i]);
        for (size_t i = 0; i < inv->n_libvirt; i++)
                printf("libvirt %s\n", inv->libvirt[i]);
        for (size_t i = 0; i < inv->n_templates; i++)
                printf("template %s\n", inv->templates[i]);
        printf("stale after %lld days\n", (long long)(inv->stale_after_s / 86400));
        for (size_t i = 0; i < inv->n_notes; i++)
                printf("note: %s\n", inv->notes[i]);
        if (missing) {
                fprintf(stderr, "vmdrift fleet check: %d input file%s missing or unreadable\n", missing,
                        missing == 1 ? "" : "s");
                return EXIT_USAGE;
        }
        return 0;
}

static void age(char *out, size_t n, int64_t ns, int64_t now) {
        if (!ns) {
                snprintf(out, n, "-");
                return;
        }
        long long s = (long long)((now - ns) / 1000000000);
        if (s < 120)
                snprintf(out, n, "%llds", s);
        else if (s < 7200)
                snprintf(out, n, "%lldm", s / 60);
        else if (s < 172800)
                snprintf(out, n, "%lldh", s / 3600);
        else
                snprintf(out, n, "%lldd", s / 86400);
}

int fleet_status(const fleet_opts *o, const vd_inventory *inv) {
        int64_t now = vd_now_ns();
        vd_err err = VD_ERR_INIT;
        int rc = 0;
        if (o->json)
                printf("[");
        else
                printf("%-24s %-21s %6s %-12s %-5s %s\n", "GUEST", "LAST SCAN", "AGE", "RESULT", "SCAN",
                       "EVENTS (critical/high/medium/low/info)");
        for (size_t i = 0; i < inv->n_guests; i++) {
                const vd_inv_guest *g = &inv->guests[i];
                vd_guest_state st;
                if (vd_fleet_state_read(o->state_dir, g->name, &st, &err) < 0) {
                        fprintf(stderr, "vmdrift fleet status: %s\n", err.msg);
                        rc = EXIT_RUNTIME;
                        continue;
                }
                bool stale = st.present && now - (st.last_success_ns ? st.last_success_ns : st.first_seen_ns) >
                                                   inv->stale_after_s * 1000000000LL;
                vd_buf t;
                vd_buf_init(&t, 128);
                if (st.present)
                        vd_time_rfc3339(&t, st.time_ns);
                if (o->json) {
                        vd_buf j;
                        vd_buf_init(&j, 8192);
                        vd_buf_adds(&j, i ? ",\n{\"guest\":" : "\n{\"guest\":");
                        vd_json_put_cstr(&j, g->name);
                        vd_buf_addf(&j, ",\"scanned\":%s", st.present ? "true" : "false");
                        if (st.present) {
                                vd_buf_addf(&j, ",\"last_scan\":\"%s\",\"age_s\":%lld,\"result\":\"%s\",\"exit_code\":%d,"
                                               "\"total\":%zu,\"severity\":{\"critical\":%zu,\"high\":%zu,\"medium\":%zu,"
                                               "\"low\":%zu,\"info\":%zu},\"stale\":%s,\"scan_id\":\"%s\"",
                                            t.buf, (long long)((now - st.time_ns) / 1000000000), st.result, st.exit_code,
                                            st.total, st.by_sev[4], st.by_sev[3], st.by_sev[2], st.by_sev[1],
                                            st.by_sev[0], stale ? "true" : "false", st.scan_id);
                                if (st.mode[0])
                                        vd_buf_addf(&j, ",\"mode\":\"%s\"", st.mode);
                                if (st.error[0]) {
                                        vd_buf_adds(&j, ",\"error\":");
                                        vd_json_put_cstr(&j, st.error);
                                }
                        }
                        vd_buf_adds(&j, "}");
                        fputs(j.buf, stdout);
                        vd_buf_release(&j);
                } else {
                        char a[32];
                        age(a, sizeof a, st.present ? st.time_ns : 0, now);
                        char res[32];
                        snprintf(res, sizeof res, "%s%s", st.present ? st.result : "never", stale ? ",stale" : "");
                        vd_buf name;
                        vd_buf_init(&name, 1024);
                        vd_escape_display(&name, g->name, strlen(g->name));
                        printf("%-24s %-21.19s %6s %-12s %-5s", name.buf, st.present ? t.buf : "-", a, res,
                               st.present && st.mode[0] ? st.mode : "-");
                        if (st.present && st.exit_code >= 0 && st.exit_code <= 1)
                                printf(" %zu (%zu/%zu/%zu/%zu/%zu)", st.total, st.by_sev[4], st.by_sev[3],
                                       st.by_sev[2], st.by_sev[1], st.by_sev[0]);
                        else if (st.present && st.error[0])
                                printf(" %s", st.error);
                        putchar('\n');
                        vd_buf_release(&name);
                }
                vd_buf_release(&t);
        }
        if (o->json)
                printf("\n]\n");
        return rc;
}
