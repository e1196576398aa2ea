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

static void free_idx(pidx *idx, size_t cap) {
        for (size_t i = 0; i < cap; i++)
                free(idx[i].rules);
        free(idx);
}

void vd_policy_index_free(vd_policy *p) {
        free_idx(p->idx, p->idx_cap);
        p->idx = NULL;
        p->idx_cap = 0;
        free_idx(p->fold_idx, p->fold_cap);
        for (size_t i = 0; p->fold && i < p->n_rules; i++) {
                vd_pats_free(p->fold[i].inc, p->fold[i].n_inc);
                vd_pats_free(p->fold[i].exc, p->fold[i].n_exc);
        }
        free(p->fold);
        p->fold = NULL;
        p->fold_idx = NULL;
        p->fold_cap = 0;
}

/* The index of rules[0..n): literal prefix -> rules with a pattern there. */
static int build_index(const prule *rules, size_t n, pidx **ret, size_t *ret_cap) {
        size_t n_pat = 0;
        for (size_t i = 0; i < n; i++)
                n_pat += rules[i].n_inc;
        size_t cap = 16;
        while (cap < n_pat * 2)
                cap *= 2;
        pidx *idx = calloc(cap, sizeof *idx);
        if (!idx)
                return VD_E_NOMEM;
        *ret = idx;
        *ret_cap = cap;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < rules[i].n_inc; j++) {
                        const vd_pat *pt = &rules[i].inc[j];
                        size_t kl = pt->literal ? pt->len : pt->prefix_len;
                        uint64_t h = FNV_INIT;
                        for (size_t k = 0; k < kl; k++)
                                h = fnv_step(h, (unsigned char)pt->text[k]);
                        pidx *e = idx_slot(idx, cap, h, pt->text, kl);
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

static char fold_c(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static int fold_pats(const vd_pat *v, size_t n, vd_pat **ret) {
        *ret = calloc(n ? n : 1, sizeof **ret);
        if (!*ret)
                return VD_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
                char *t = strdup(v[i].text);
                if (!t)
                        return VD_E_NOMEM;
                for (char *c = t; *c; c++)
                        *c = fold_c(*c);
                int r = vd_pat_init(&(*ret)[i], t);
                free(t);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vd_policy_index(vd_policy *p) {
        int r = build_index(p->rules, p->n_rules, &p->idx, &p->idx_cap);
        if (r == 0 && !(p->fold = calloc(p->n_rules ? p->n_rules : 1, sizeof *p->fold)))
                r = VD_E_NOMEM;
        for (size_t i = 0; r == 0 && i < p->n_rules; i++) {
                p->fold[i].n_inc = p->rules[i].n_inc;
                p->fold[i].n_exc = p->rules[i].n_exc;
                r = fold_pats(p->rules[i].inc, p->rules[i].n_inc, &p->fold[i].inc);
                if (r == 0)
                        r = fold_pats(p->rules[i].exc, p->rules[i].n_exc, &p->fold[i].exc);
        }
        if (r == 0)
                r = build_index(p->fold, p->n_rules, &p->fold_idx, &p->fold_cap);
        return r;
}

static bool rule_matches(const prule *r, const char *path, size_t len) {
        return vd_pats_any(r->inc, r->n_inc, path, len) && !vd_pats_any(r->exc, r->n_exc, path, len);
}

#define MAX_CANDIDATES 512

/* The first of rules[0..n) that path falls under (its index), or -1. */
static long first_match(const prule *rules, size_t n, const pidx *idx, size_t cap, const char *path, size_t len) {
        if (!cap || len == 0 || path[0] != '/') {
                for (size_t i = 0; i < n; i++)
                        if (rule_matches(&rules[i], path, len))
                                return (long)i;
                return -1;
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
                        const pidx *e = idx_slot((pidx *)idx, cap, hk, path, kl);
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
        if (overflow)
                return first_match(rules, n, NULL, 0, path, len);
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
                if ((i == 0 || cand[i] != cand[i - 1]) && rule_matches(&rules[cand[i]], path, len))
                        return (long)cand[i];
        return -1;
}

const vd_rule *vd_policy_match(const vd_policy *p, const char *path, size_t len, int ftype) {
        (void)ftype;
        long i = first_match(p->rules, p->n_rules, p->idx, p->idx_cap, path, len);
        return i < 0 ? &p->def : &p->rules[i].r;
}

const vd_rule *vd_policy_match_icase(const vd_policy *p, const char *path, size_t len, int ftype) {
        if (!p->fold)
                return vd_policy_match(p, path, len, ftype);
        char stack[4096], *low = len < sizeof stack ? stack : malloc(len + 1);
        if (!low) /* out of memory: the exact match, never no rule */
                return vd_policy_match(p, path, len, ftype);
        for (size_t i = 0; i < len; i++)
                low[i] = fold_c(path[i]);
        low[len] = '\0';
        long i = first_match(p->fold, p->n_rules, p->fold_idx, p->fold_cap, low, len);
        if (low != stack)
                free(low);
        return i < 0 ? &p->def : &p->rules[i].r;
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
