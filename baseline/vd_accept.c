/* Accepting drift into a new baseline, and deriving one over a template. */
#define _GNU_SOURCE
#include "baseline/vd_accept.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"
#include "common/vd_glob.h"
#include "common/vd_str.h"

bool vd_accept_matches(const char *const *globs, size_t n, const char *path, size_t len) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++) {
                size_t gl = strlen(globs[i]);
                if (vd_glob_match(globs[i], path, len))
                        return true;
                /* A directory takes in its subtree. */
                if (len > gl && strncmp(path, globs[i], gl) == 0 && (path[gl] == '/' || globs[i][gl - 1] == '/'))
                        return true;
        }
        return false;
}


int vd_baseline_derive(vd_baseline *nb, char *tpath, vd_err *err) {
        vd_baseline *t = NULL;
        if (vd_baseline_load(tpath, &t, err) < 0) {
                free(tpath);
                return err->code;
        }
        bool ok = true;
        /* Removed: template paths absent from the new effective state. */
        for (size_t i = 0; i < t->entries.n && ok; i++) {
                const vd_entry *te = t->entries.v[i];
                if (vd_entries_find(&nb->entries, te->path, te->path_len))
                        continue;
                vd_entry *r = vd_entry_new();
                ok = r && vd_entry_set_path(r, te->path, te->path_len) == 0 && vd_entries_push(&nb->removed, r) == 0;
                if (!ok)
                        vd_entry_free(r);
        }
        /* Deltas: entries of the new state that the template lacks or has otherwise. */
        vd_entries deltas;
        vd_entries_init(&deltas);
        for (size_t i = 0; i < nb->entries.n; i++) {
                vd_entry *e = nb->entries.v[i];
                const vd_entry *te = vd_entries_find(&t->entries, e->path, e->path_len);
                if (!ok || (te && vd_entry_equal(te, e))) {
                        vd_entry_free(e);
                        continue;
                }
                if (vd_entries_push(&deltas, e) < 0) {
                        vd_entry_free(e);
                        ok = false;
                }
        }
        nb->entries.n = 0;
        vd_entries_release(&nb->entries);
        nb->entries = deltas;
        free(nb->template_path);
        nb->template_path = tpath;
        memcpy(nb->template_digest, t->content_digest, sizeof nb->template_digest);
        vd_baseline_free(t);
        return ok ? 0 : vd_err_set(err, VD_E_NOMEM, "out of memory deriving over template '%s'", tpath);
}

/* Entries: OLD's, with every matching path replaced by what is there now. */
static bool merge_entries(vd_baseline *nb, const vd_baseline *old, const vd_entries *cur, const vd_accept_req *q) {
        bool ok = true;
        for (size_t i = 0; i < old->entries.n && ok; i++) {
                const vd_entry *e = old->entries.v[i];
                const vd_entry *now = vd_entries_find(cur, e->path, e->path_len);
                bool take = vd_accept_matches(q->globs, q->n_globs, e->path, e->path_len);
                const vd_entry *keep = take ? now : e; /* NULL: removed and accepted */
                if (keep) {
                        vd_entry *d = vd_entry_dup(keep);
                        ok = d && vd_entries_push(&nb->entries, d) == 0;
                        if (!ok)
                                vd_entry_free(d);
                }
        }
        for (size_t i = 0; i < cur->n && ok; i++) {
                const vd_entry *e = cur->v[i];
                if (!vd_entries_find(&old->entries, e->path, e->path_len) &&
                    vd_accept_matches(q->globs, q->n_globs, e->path, e->path_len)) {
                        vd_entry *d = vd_entry_dup(e);
                        ok = d && vd_entries_push(&nb->entries, d) == 0;
                        if (!ok)
                                vd_entry_free(d);
                }
        }
        vd_entries_sort(&nb->entries);
        return ok;
}

/* Configuration values: the current ones where accepted, OLD's elsewhere. */
static bool merge_config(vd_baseline *nb, const vd_baseline *old, const vd_confsets *conf, const vd_accept_req *q) {
        bool ok = true;
        for (size_t i = 0; i < old->config.n && ok; i++) {
                const vd_confset *oc = &old->config.v[i];
                bool take = vd_accept_matches(q->globs, q->n_globs, oc->path, strlen(oc->path));
                const vd_confset *nc = vd_confsets_find(conf, oc->path);
                if (!take)
                        ok = vd_confsets_copy_set(&nb->config, oc) == 0;
                else if (nc)
                        ok = vd_confsets_copy_set(&nb->config, nc) == 0;
        }
        for (size_t i = 0; i < conf->n && ok; i++)
                if (!vd_confsets_find(&old->config, conf->v[i].path) &&
                    vd_accept_matches(q->globs, q->n_globs, conf->v[i].path, strlen(conf->v[i].path)))
                        ok = vd_confsets_copy_set(&nb->config, &conf->v[i]) == 0;
        vd_confsets_sort(&nb->config);
        return ok;
}

/* Facts and packages: the current ones when everything is accepted; with
 * --path only some files are, and OLD's stay. */
static bool merge_inventory(vd_baseline *nb, const vd_baseline *old, vd_scan *scan, const vd_accept_req *q) {
        bool ok = true;
        vd_scan keep;
        vd_scan_init(&keep);
        /* capture.*: what the template was when captured; an accepted
         * baseline is no longer its capture (a delta scan needs one) */
        const vd_fact *facts = q->n_globs == 0 ? scan->facts : old->facts;
        size_t n_facts = q->n_globs == 0 ? scan->n_facts : old->n_facts;
        for (size_t i = 0; i < n_facts && ok; i++)
                if (strncmp(facts[i].key, "capture.", 8) != 0)
                        ok = vd_scan_add_fact(&keep, facts[i].key, facts[i].value) == 0;
        /* the packages as they are now, or OLD's */
        const vd_package *pk = q->n_globs == 0 ? scan->packages : old->packages;
        size_t n_pk = q->n_globs == 0 ? scan->n_packages : old->n_packages;
        for (size_t i = 0; i < n_pk && ok; i++)
                ok = vd_scan_copy_package(&keep, &pk[i]) == 0;
        vd_baseline_take_inventory(nb, &keep);
        vd_scan_release(&keep);
        return ok;
}

/* Texts: OLD's and those the scan read, kept when an entry of the new
 * state has their hash (a file whose change was not accepted keeps OLD's
 * text; one accepted, its new one). */
static bool merge_texts(vd_baseline *nb, const vd_baseline *old, const vd_contents *texts) {
        const vd_contents *src[2] = {&old->contents, texts};
        vd_contents all = {0};
        bool ok = true;
        for (int s = 0; s < 2 && ok; s++)
                for (size_t i = 0; src[s] && i < src[s]->n && ok; i++)
                        ok = vd_contents_copy(&all, &src[s]->v[i]) == 0;
        vd_contents_sort(&all);
        for (size_t i = 0; i < nb->entries.n && ok; i++) {
                const vd_entry *e = nb->entries.v[i];
                const vd_content *ct = e->hash_len ? vd_contents_find(&all, e->hash, e->hash_len) : NULL;
                if (ct)
                        ok = vd_contents_copy(&nb->contents, ct) == 0;
        }
        vd_contents_sort(&nb->contents); /* a text two files share: once */
        vd_contents_release(&all);
        return ok;
}

int vd_baseline_accept(const vd_baseline *old, vd_scan *scan, const vd_confsets *conf, const vd_contents *texts,
                       const vd_events *ev, const vd_accept_req *q, vd_baseline **ret, vd_accept_counts *counts,
                       vd_err *err) {
        vd_baseline *nb = NULL;
        vd_buf paths;
        vd_buf_init(&paths, 0);
        memset(counts, 0, sizeof *counts);
        if (vd_baseline_new(&nb, err) < 0)
                return err->code;
        bool ok = merge_entries(nb, old, &scan->entries, q);
        for (size_t i = 0; i < ev->n && ok; i++) {
                const vd_event *x = &ev->v[i];
                if (!vd_accept_matches(q->globs, q->n_globs, x->path, x->path_len))
                        continue;
                counts->accepted++;
                counts->added += x->kind == VD_CH_ADDED;
                counts->removed += x->kind == VD_CH_REMOVED;
                counts->changed += x->kind == VD_CH_CHANGED;
                ok = vd_buf_addf(&paths, "%s ", vd_change_kind_name(x->kind)) == 0 &&
                     vd_escape_display(&paths, x->path, x->path_len) == 0 && vd_buf_addc(&paths, '\n') == 0;
        }
        ok = ok && merge_config(nb, old, conf, q) && merge_texts(nb, old, texts);
        if (!ok) {
                vd_err_set(err, VD_E_NOMEM, "out of memory merging the accepted changes");
                goto fail;
        }
        if (q->derive || old->template_path) {
                char *tpath = strdup(old->template_path ? old->template_path : q->old_realpath);
                if (!tpath) {
                        vd_err_set(err, VD_E_NOMEM, "out of memory");
                        goto fail;
                }
                if (vd_baseline_derive(nb, tpath, err) < 0)
                        goto fail;
        }
        memcpy(nb->seed, old->seed, sizeof nb->seed);
        nb->hash_algo = old->hash_algo;
        nb->sign_key = q->sign_key;
        nb->created_ns = q->now_ns;
        nb->owners_resolved = old->owners_resolved;
        nb->source_kind = strdup(old->source_kind);
        nb->source = strdup(old->source);
        nb->hostname = strdup(q->host);
        nb->policy_digest = strdup(q->policy_digest ? q->policy_digest : old->policy_digest);
        nb->policy_source = strdup(q->policy_digest ? q->policy_source : old->policy_source);
        ok = merge_inventory(nb, old, scan, q);
        for (size_t i = 0; i < old->n_history && ok; i++)
                ok = vd_baseline_add_history(nb, &old->history[i]) == 0;
        vd_history h = {.time_ns = nb->created_ns,
                        .user = (char *)q->user,
                        .host = (char *)q->host,
                        .reason = (char *)q->reason,
                        .signer = (char *)q->signer,
                        .prev_digest = (char *)old->content_digest,
                        .paths = paths.buf ? paths.buf : (char *)"",
                        .n_changes = counts->accepted};
        if (ok)
                ok = vd_baseline_add_history(nb, &h) == 0;
        if (!ok || !nb->source_kind || !nb->source || !nb->hostname || !nb->policy_digest || !nb->policy_source) {
                vd_err_set(err, VD_E_NOMEM, "out of memory");
                goto fail;
        }
        vd_buf_release(&paths);
        *ret = nb;
        return 0;
fail:
        vd_buf_release(&paths);
        vd_baseline_free(nb);
        return err->code;
}
