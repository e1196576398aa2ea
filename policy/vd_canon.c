/* The policy's canonical form: stable text whose digest baselines record. */

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/vd_buf.h"
#include "common/vd_json.h"
#include "vd_policy_int.h"
#include "common/vd_str.h"


int vd_policy_canonical(const vd_policy *p, vd_buf *out) {
        int r = vd_buf_addf(out, "vmdrift-policy-v2\nhash %d\ndefault %x %x %d\n", p->hash_algo, p->def.attrs,
                            p->def.dir_attrs, p->def.severity);
        for (size_t i = 0; !r && i < p->n_rules; i++) {
                const prule *pr = &p->rules[i];
                const vd_rule *ru = &pr->r;
                r = vd_buf_adds(out, "rule ");
                if (!r)
                        r = vd_json_put_text(out, pr->name);
                if (!r)
                        r = vd_buf_addf(out, " %d %x %x %d %d:%u %d:%u %d:%o ", ru->kind, ru->attrs, ru->dir_attrs,
                                        ru->severity, ru->has_uid, ru->uid, ru->has_gid, ru->gid, ru->has_mode,
                                        ru->mode);
                if (!r)
                        r = vd_json_put_text(out, pr->user);
                if (!r)
                        r = vd_json_put_text(out, pr->group);
                for (size_t j = 0; !r && j < pr->n_inc; j++) {
                        r = vd_buf_adds(out, " +");
                        if (!r)
                                r = vd_json_put_text(out, pr->inc[j].text);
                }
                for (size_t j = 0; !r && j < pr->n_exc; j++) {
                        r = vd_buf_adds(out, " -");
                        if (!r)
                                r = vd_json_put_text(out, pr->exc[j].text);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        for (size_t i = 0; !r && i < p->n_items; i++) {
                const vd_conf_item *it = &p->items[i];
                r = vd_buf_addf(out, "config %d %d %d %d name=", it->format, it->merge, it->severity, it->detector);
                if (!r)
                        r = vd_json_put_text(out, it->name);
                for (size_t j = 0; !r && j < it->n_paths; j++) {
                        r = vd_buf_adds(out, " path=");
                        if (!r)
                                r = vd_json_put_text(out, it->paths[j]);
                }
                if (!r && it->format == VD_CF_REGISTRY)
                        r = vd_buf_addf(out, " depth=%u", it->depth);
                for (size_t j = 0; !r && j < it->n_secret; j++) {
                        r = vd_buf_adds(out, " secret=");
                        if (!r)
                                r = vd_json_put_text(out, it->secret[j]);
                }
                for (size_t j = 0; !r && j < it->n_checks; j++) {
                        r = vd_buf_addf(out, " check%d=", it->checks[j].op);
                        if (!r)
                                r = vd_json_put_text(out, it->checks[j].key);
                        if (!r)
                                r = vd_json_put_text(out, it->checks[j].value);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        for (int d = 0; !r && d < VD_D_COUNT; d++) {
                r = vd_buf_addf(out, "detector %s %d %d", vd_detector_name(d), p->det[d].on, p->det[d].sev);
                for (size_t j = 0; !r && j < p->det[d].n_exc; j++) {
                        r = vd_buf_adds(out, " -");
                        if (!r)
                                r = vd_json_put_text(out, p->det[d].exc[j].text);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        if (!r && p->pkg.set)
                r = vd_pkg_conf_canonical(&p->pkg, out);
        if (!r && p->dormant_after_s)
                r = vd_buf_addf(out, "dormant %lld %d\n", (long long)p->dormant_after_s, p->dormant_sev);
        const vd_policy_yara *y = &p->yara;
        if (!r && (y->secrets != VD_SECRETS_ADDED || y->severity != VD_SEV_HIGH || y->max_file != VD_YARA_FILE_DEFAULT ||
                   y->max_total != VD_YARA_TOTAL_DEFAULT || y->timeout_s != VD_YARA_TIMEOUT_DEFAULT))
                /* only when not the defaults: the digest of a policy without it stays as it was */
                r = vd_buf_addf(out, "yara %d %d %llu %llu %d\n", y->secrets, y->severity, (unsigned long long)y->max_file,
                                (unsigned long long)y->max_total, y->timeout_s);
        if (!r && p->n_content_inc) {
                /* what the baseline keeps of each file: part of what a kept report rests on */
                uint64_t mf, mt;
                vd_policy_content_limits(p, &mf, &mt);
                r = vd_buf_addf(out, "content %llu %llu", (unsigned long long)mf, (unsigned long long)mt);
                for (size_t i = 0; i < p->n_content_inc && !r; i++) {
                        r = vd_buf_adds(out, " +");
                        if (!r)
                                r = vd_json_put_text(out, p->content_inc[i].text);
                }
                for (size_t i = 0; i < p->n_content_exc && !r; i++) {
                        r = vd_buf_adds(out, " -");
                        if (!r)
                                r = vd_json_put_text(out, p->content_exc[i].text);
                }
                if (!r)
                        r = vd_buf_addc(out, '\n');
        }
        return r;
}

int vd_policy_digest(const vd_policy *p, char out[65]) {
        vd_buf pc;
        vd_buf_init(&pc, 0);
        int r = vd_policy_canonical(p, &pc);
        out[0] = '\0';
        if (r == 0) {
                unsigned char md[SHA256_DIGEST_LENGTH];
                SHA256((const unsigned char *)(pc.buf ? pc.buf : ""), pc.len, md);
                for (size_t i = 0; i < sizeof md; i++)
                        snprintf(out + 2 * i, 3, "%02x", md[i]);
        }
        vd_buf_release(&pc);
        return r;
}
