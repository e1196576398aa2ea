/* Rules: which rule a path falls under (an index by literal prefix, then
 * file order), and which rules can never decide (shadowed). */

#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"
#include "vd_policy_int.h"

static uint64_t fnv_step(uint64_t h, unsigned char c) { return (h ^ c) * 0x100000001b3ull; }
#define FNV_INIT 0xcbf29ce484222325ull

static pidx *idx_slot(pidx *t, size_t cap, uint64_t h, const char *k, size_t kl) {
        for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
                if (!t[i].key || (t[i].h == h && t[i].klen == kl && memcmp(t[i].key, k, kl) == 0))
                        return &t[i];
}

void vd_policy_index_free(vd_policy *p) {
        for (size_t i = 0; i < p->idx_cap; i++)
                free(p->idx[i].rules);
        free(p->idx);
        p->idx = NULL;
        p->idx_cap = 0;
}

int vd_policy_index(vd_policy *p) {
        size_t n_pat = 0;
        for (size_t i = 0; i < p->n_rules; i++)
                n_pat += p->rules[i].n_inc;
        size_t cap = 16;
        while (cap < n_pat * 2)
                cap *= 2;
        p->idx = calloc(cap, sizeof *p->idx);
        if (!p->idx)
                return VD_E_NOMEM;
        p->idx_cap = cap;
        for (size_t i = 0; i < p->n_rules; i++)
                for (size_t j = 0; j < p->rules[i].n_inc; j++) {
                        const vd_pat *pt = &p->rules[i].inc[j];
                        size_t kl = pt->literal ? pt->len : pt->prefix_len;
                        uint64_t h = FNV_INIT;
                        for (size_t k = 0; k < kl; k++)
                                h = fnv_step(h, (unsigned char)pt->text[k]);
                        pidx *e = idx_slot(p->idx, cap, h, pt->text, kl);
                        if (!e->key) {
                                e->h = h;
                                e->key = pt->text;
                                e->klen = kl;
                        }
                        if (e->n && e->rules[e->n - 1] == (uint32_t)i)
                                continue;
                        if (vd_array_grow(&e->rules, &e->alloc, e->n, sizeof *e->rules, 4) < 0)
                                return VD_E_NOMEM;
                        e->rules[e->n++] = (uint32_t)i;
                }
        return 0;
}

static bool rule_matches(const prule *r, const char *path, size_t len) {
        return vd_pats_any(r->inc, r->n_inc, path, len) && !vd_pats_any(r->exc, r->n_exc, path, len);
}

#define MAX_CANDIDATES 512

const vd_rule *vd_policy_match(const vd_policy *p, const char *path, size_t len, int ftype) {
        (void)ftype;
        if (!p->idx_cap || len == 0 || path[0] != '/') {
                for (size_t i = 0; i < p->n_rules; i++)
                        if (rule_matches(&p->rules[i], path, len))
                                return &p->rules[i].r;
                return &p->def;
        }
        /* Candidates: the rules with a pattern rooted at "/", at an ancestor
         * directory of path, or at path itself. Then the first in file order
         * that matches wins, exactly as a linear walk would decide. */
        uint32_t cand[MAX_CANDIDATES];
        size_t nc = 0;
        bool overflow = false;
        uint64_t h = fnv_step(FNV_INIT, '/');
        for (size_t i = 1; i <= len && !overflow; i++) {
                if (i == 1 || i == len || path[i] == '/') {
                        size_t kl = i == 1 ? 1 : i;
                        uint64_t hk = i == 1 ? fnv_step(FNV_INIT, '/') : h;
                        const pidx *e = idx_slot(p->idx, p->idx_cap, hk, path, kl);
                        if (e->key) {
                                if (nc + e->n > MAX_CANDIDATES)
                                        overflow = true;
                                else {
                                        memcpy(cand + nc, e->rules, e->n * sizeof *cand);
                                        nc += e->n;
                                }
                        }
                }
                if (i < len)
                        h = fnv_step(h, (unsigned char)path[i]);
        }
        if (overflow) {
                for (size_t i = 0; i < p->n_rules; i++)
                        if (rule_matches(&p->rules[i], path, len))
                                return &p->rules[i].r;
                return &p->def;
        }
        for (size_t i = 1; i < nc; i++) { /* insertion sort: a handful of entries */
                uint32_t v = cand[i];
                size_t j = i;
                while (j > 0 && cand[j - 1] > v) {
                        cand[j] = cand[j - 1];
                        j--;
                }
                cand[j] = v;
        }
        for (size_t i = 0; i < nc; i++)
                if ((i == 0 || cand[i] != cand[i - 1]) && rule_matches(&p->rules[cand[i]], path, len))
                        return &p->rules[cand[i]].r;
        return &p->def;
}

void vd_policy_shadowed(const vd_policy *p, vd_shadow_fn fn, void *ctx) {
        for (size_t j = 1; j < p->n_rules; j++) {
                const prule *b = &p->rules[j];
                for (size_t i = 0; i < j; i++) {
                        const prule *a = &p->rules[i];
                        if (a->n_exc)
                                continue;
                        bool all = true;
                        for (size_t k = 0; all && k < b->n_inc; k++) {
                                bool one = false;
                                for (size_t m = 0; !one && m < a->n_inc; m++)
                                        one = vd_pat_covers(&a->inc[m], &b->inc[k]);
                                all = one;
                        }
                        if (all) {
                                fn(ctx, b->name, b->line, a->name, a->line);
                                break;
                        }
                }
        }
}
