#define _GNU_SOURCE
#include "fleet/vd_fleet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/vd_imageid.h"
#include "collect/vd_imageinfo.h"
#include "collect/vd_libvirt.h"
#include "common/vd_buf.h"
#include "common/vd_json.h"
#include "common/vd_state.h"
#include "common/vd_str.h"

#define STATE_MAX 65536
#define STORAGE_FILES_MAX 100000

/* ---- state ---- */

/* exit_code, total, duration_ms, severity counts, baseline digest and scan
 * id: what a state file and a scan's summary both hold */
static void read_result(const vd_json *o, vd_guest_state *st) {
        int64_t v;
        if (vd_json_int(vd_json_get(o, "exit_code"), &v))
                st->exit_code = (int)v;
        if (vd_json_int(vd_json_get(o, "duration_ms"), &v))
                st->duration_ms = v;
        if (vd_json_int(vd_json_get(o, "total"), &v) && v >= 0)
                st->total = (size_t)v;
        static const char *const sn[] = {"info", "low", "medium", "high", "critical"};
        const vd_json *sev = vd_json_get(o, "severity");
        for (int i = 0; i < 5; i++)
                if (vd_json_int(vd_json_get(sev, sn[i]), &v) && v >= 0)
                        st->by_sev[i] = (size_t)v;
        const char *s;
        if ((s = vd_json_get_str(o, "baseline_digest")))
                snprintf(st->baseline_digest, sizeof st->baseline_digest, "%s", s);
        if ((s = vd_json_get_str(o, "scan_id")))
                snprintf(st->scan_id, sizeof st->scan_id, "%s", s);
        if (vd_json_int(vd_json_get(o, "entries_scanned"), &v) && v >= 0)
                st->totals.entries = (uint64_t)v;
        if (vd_json_int(vd_json_get(o, "files_hashed"), &v) && v >= 0)
                st->totals.files_hashed = (uint64_t)v;
        if (vd_json_int(vd_json_get(o, "bytes_hashed"), &v) && v >= 0)
                st->totals.bytes_hashed = (uint64_t)v;
        s = vd_json_get(o, "unchanged_since") ? "kept" : vd_json_get_str(o, "scan_mode");
        if (!s)
                s = vd_json_get_str(o, "mode"); /* the state file's */
        if (s && (!strcmp(s, "kept") || !strcmp(s, "delta") || !strcmp(s, "full")))
                snprintf(st->mode, sizeof st->mode, "%s", s);
        s = vd_json_get_str(vd_json_get(o, "appliance"), "started");
        st->launched = s && strcmp(s, "launched") == 0;
}

static int state_name(const char *guest, char *out, size_t n) {
        return snprintf(out, n, "fleet/%s.json", guest) < (int)n ? 0 : -1;
}

int vd_fleet_state_read(const char *state_dir, const char *guest, vd_guest_state *st, vd_err *err) {
        memset(st, 0, sizeof *st);
        st->exit_code = -1;
        char name[256];
        if (state_name(guest, name, sizeof name) < 0)
                return vd_err_set(err, VD_E_INTERNAL, "guest name too long");
        vd_buf b;
        vd_buf_init(&b, STATE_MAX);
        bool absent = false;
        int r = vd_state_read(state_dir, name, STATE_MAX, &b, &absent, err);
        if (r < 0) {
                vd_buf_release(&b);
                return absent ? 0 : r;
        }
        char label[512];
        snprintf(label, sizeof label, "%s/%s", state_dir, name);
        vd_json_doc d;
        vd_err je = VD_ERR_INIT;
        if (vd_json_parse(b.buf ? b.buf : "", b.len, label, NULL, &d, &je) < 0) {
                vd_buf_release(&b);
                return vd_err_set(err, VD_E_IO, "%s (damaged state: remove the file to start over)", je.msg);
        }
        vd_buf_release(&b);
        const vd_json *o = d.root;
        int64_t v;
        if (vd_json_int(vd_json_get(o, "time_ns"), &v))
                st->time_ns = v;
        if (vd_json_int(vd_json_get(o, "last_success_ns"), &v))
                st->last_success_ns = v;
        if (vd_json_int(vd_json_get(o, "first_seen_ns"), &v))
                st->first_seen_ns = v;
        read_result(o, st);
        const char *s;
        if ((s = vd_json_get_str(o, "result")))
                snprintf(st->result, sizeof st->result, "%s", s);
        if ((s = vd_json_get_str(o, "error")))
                snprintf(st->error, sizeof st->error, "%s", s);
        const vd_json *h = vd_json_get_array(o, "history");
        for (const vd_json *x = h && h->type == VD_JSON_ARRAY ? h->child : NULL; x; x = x->next) {
                vd_guest_state one;
                memset(&one, 0, sizeof one);
                read_result(x, &one);
                vd_fleet_run run;
                memset(&run, 0, sizeof run);
                if (vd_json_int(vd_json_get(x, "time_ns"), &v))
                        run.time_ns = v;
                run.duration_ms = one.duration_ms;
                run.total = one.total;
                memcpy(run.by_sev, one.by_sev, sizeof run.by_sev);
                snprintf(run.mode, sizeof run.mode, "%s", one.mode);
                if ((s = vd_json_get_str(x, "result")))
                        snprintf(run.result, sizeof run.result, "%s", s);
                if (st->n_history == VD_FLEET_HISTORY_MAX) { /* more than it ever writes: the newest ones */
                        memmove(st->history, st->history + 1, (VD_FLEET_HISTORY_MAX - 1) * sizeof *st->history);
                        st->n_history--;
                }
                st->history[st->n_history++] = run;
        }
        st->present = true;
        vd_json_doc_release(&d);
        return 0;
}

void vd_fleet_history_push(vd_guest_state *st) {
        if (st->n_history == VD_FLEET_HISTORY_MAX) {
                memmove(st->history, st->history + 1, (VD_FLEET_HISTORY_MAX - 1) * sizeof *st->history);
                st->n_history--;
        }
        vd_fleet_run *h = &st->history[st->n_history++];
        memset(h, 0, sizeof *h);
        h->time_ns = st->time_ns;
        h->duration_ms = st->duration_ms;
        h->total = st->total;
        memcpy(h->by_sev, st->by_sev, sizeof h->by_sev);
        snprintf(h->result, sizeof h->result, "%s", st->result);
        snprintf(h->mode, sizeof h->mode, "%s", st->mode);
}

static int add_str(vd_buf *b, const char *key, const char *v, bool comma) {
        int r = vd_buf_addf(b, "%s\"%s\":", comma ? "," : "", key);
        return r ? r : vd_json_put_cstr(b, v);
}

int vd_fleet_state_write(const char *state_dir, const char *guest, const vd_guest_state *st, vd_err *err) {
        char name[256], path[4096];
        if (state_name(guest, name, sizeof name) < 0)
                return vd_err_set(err, VD_E_INTERNAL, "guest name too long");
        snprintf(path, sizeof path, "%s/fleet", state_dir);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return vd_err_errno(err, VD_E_IO, errno, "cannot create '%s'", path);
        vd_buf b;
        vd_buf_init(&b, STATE_MAX);
        int r = vd_buf_adds(&b, "{");
        if (!r)
                r = add_str(&b, "guest", guest, false);
        if (!r)
                r = vd_buf_addf(&b,
                                ",\"time_ns\":%lld,\"last_success_ns\":%lld,\"first_seen_ns\":%lld,\"exit_code\":%d,"
                                "\"duration_ms\":%lld,\"total\":%zu,\"severity\":{\"critical\":%zu,\"high\":%zu,"
                                "\"medium\":%zu,\"low\":%zu,\"info\":%zu}",
                                (long long)st->time_ns, (long long)st->last_success_ns, (long long)st->first_seen_ns,
                                st->exit_code, (long long)st->duration_ms, st->total, st->by_sev[4], st->by_sev[3],
                                st->by_sev[2], st->by_sev[1], st->by_sev[0]);
        if (!r)
                r = add_str(&b, "result", st->result, true);
        if (!r)
                r = add_str(&b, "baseline_digest", st->baseline_digest, true);
        if (!r)
                r = add_str(&b, "scan_id", st->scan_id, true);
        if (!r && st->mode[0])
                r = add_str(&b, "mode", st->mode, true);
        if (!r && st->error[0])
                r = add_str(&b, "error", st->error, true);
        if (!r && st->n_history)
                r = vd_buf_adds(&b, ",\"history\":[");
        for (size_t i = 0; !r && i < st->n_history; i++) {
                const vd_fleet_run *h = &st->history[i];
                r = vd_buf_addf(&b,
                                "%s{\"time_ns\":%lld,\"duration_ms\":%lld,\"total\":%zu,\"severity\":{\"critical\":%zu,"
                                "\"high\":%zu,\"medium\":%zu,\"low\":%zu,\"info\":%zu}",
                                i ? "," : "", (long long)h->time_ns, (long long)h->duration_ms, h->total, h->by_sev[4],
                                h->by_sev[3], h->by_sev[2], h->by_sev[1], h->by_sev[0]);
                if (!r)
                        r = add_str(&b, "result", h->result, true);
                if (!r && h->mode[0])
                        r = add_str(&b, "mode", h->mode, true);
                if (!r)
                        r = vd_buf_addc(&b, '}');
        }
        if (!r && st->n_history)
                r = vd_buf_addc(&b, ']');
        if (!r)
                r = vd_buf_adds(&b, "}\n");
        snprintf(path, sizeof path, "%s/%s", state_dir, name);
        if (r == 0)
                r = vd_write_atomic(path, b.buf, b.len, 0644, err);
        else
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_buf_release(&b);
        return r;
}

/* ---- findings ---- */

int vd_fleet_event(vd_events *out, int kind, int severity, const char *guest, const char *path, vd_err *err, ...) {
        vd_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = kind;
        ev.fleet = true;
        ev.severity = severity;
        ev.rule = "fleet";
        ev.guest = guest;
        ev.path = strdup(path);
        ev.path_len = ev.path ? strlen(ev.path) : 0;
        bool ok = ev.path != NULL;
        size_t alloc = 0;
        va_list ap;
        va_start(ap, err);
        const char *attr;
        while (ok && (attr = va_arg(ap, const char *))) {
                const char *v = va_arg(ap, const char *);
                char *s = v ? strdup(v) : NULL;
                vd_val o = {NULL, 0, false}, n = {s, s ? strlen(s) : 0, false};
                ok = (!v || s) && vd_event_add_change(&ev, &alloc, attr, strlen(attr), o, n, NULL) == 0;
        }
        va_end(ap);
        if (!ok || vd_events_push(out, &ev) < 0) {
                vd_event_release(&ev);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

bool vd_fleet_reachable(const vd_inv_guest *g, char *why, size_t whylen) {
        struct stat st;
        for (size_t i = 0; i < g->n_images; i++) {
                int rc = stat(g->images[i], &st), e = errno;
                if (rc < 0 || !S_ISREG(st.st_mode)) {
                        snprintf(why, whylen, "%s: %s", g->images[i], rc < 0 ? strerror(e) : "not a regular file");
                        return false;
                }
        }
        if (g->dir) {
                int rc = stat(g->dir, &st), e = errno;
                if (rc < 0 || !S_ISDIR(st.st_mode)) {
                        snprintf(why, whylen, "%s: %s", g->dir, rc < 0 ? strerror(e) : "not a directory");
                        return false;
                }
        }
        if (g->domain) {
                char **names = NULL;
                size_t n = 0;
                vd_err e = VD_ERR_INIT;
                if (vd_libvirt_domains(g->connect, &names, &n, &e) < 0) {
                        snprintf(why, whylen, "%s", e.msg);
                        return false;
                }
                bool found = false;
                for (size_t i = 0; i < n; i++) {
                        found = found || strcmp(names[i], g->domain) == 0;
                        free(names[i]);
                }
                free(names);
                if (!found) {
                        snprintf(why, whylen, "no libvirt domain '%s' at %s", g->domain,
                                 g->connect ? g->connect : "the default URI");
                        return false;
                }
        }
        return true;
}

static bool image_name(const char *n) {
        static const char *const ext[] = {".qcow2", ".img", ".raw", ".vmdk", ".vdi", ".vhd", ".vhdx", ".qed", NULL};
        size_t l = strlen(n);
        for (size_t i = 0; ext[i]; i++) {
                size_t e = strlen(ext[i]);
                if (l > e && strcmp(n + l - e, ext[i]) == 0)
                        return true;
        }
        return false;
}

static int warnf(char ***warn, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int warnf(char ***warn, size_t *n, const char *fmt, ...) {
        char **nv = realloc(*warn, (*n + 1) * sizeof *nv);
        if (!nv)
                return VD_E_NOMEM;
        *warn = nv;
        va_list ap;
        va_start(ap, fmt);
        char *m = NULL;
        int r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return VD_E_NOMEM;
        nv[(*n)++] = m;
        return 0;
}

typedef struct file_list {
        char **v;
        size_t n, alloc;
} file_list;

static void file_list_free(file_list *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->v[i]);
        free(f->v);
}

/* Image files under dir, two levels deep, no symbolic links followed. */
static int storage_images(const char *dir, int depth, file_list *out, char ***warn, size_t *n_warn) {
        DIR *d = opendir(dir);
        if (!d)
                return depth == 0 ? warnf(warn, n_warn, "storage '%s': %s: not looked at", dir, strerror(errno)) : 0;
        struct dirent *de;
        int r = 0;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (out->n >= STORAGE_FILES_MAX) {
                        r = warnf(warn, n_warn, "storage '%s': more than %d images: the rest not looked at", dir,
                                  STORAGE_FILES_MAX);
                        break;
                }
                char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
                        return VD_E_NOMEM;
                struct stat st;
                if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 1)
                        r = storage_images(p, depth + 1, out, warn, n_warn);
                else if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && image_name(de->d_name)) {
                        if (vd_array_grow(&out->v, &out->alloc, out->n, sizeof *out->v, 64) < 0)
                                r = VD_E_NOMEM;
                        else {
                                out->v[out->n++] = p;
                                p = NULL;
                        }
                }
                free(p);
        }
        closedir(d);
        return r;
}

/* The same file (device and inode), or the same path. */
static bool same_file(const char *a, const struct stat *sa, const char *b) {
        struct stat sb;
        if (stat(b, &sb) == 0)
                return sa->st_dev == sb.st_dev && sa->st_ino == sb.st_ino;
        return strcmp(a, b) == 0;
}

static bool covered(const vd_inventory *inv, const char *img) {
        struct stat st;
        if (stat(img, &st) < 0)
                return true; /* gone since the listing */
        for (size_t i = 0; i < inv->n_templates; i++)
                if (same_file(img, &st, inv->templates[i]))
                        return true;
        for (size_t g = 0; g < inv->n_guests; g++)
                for (size_t i = 0; i < inv->guests[g].n_images; i++)
                        if (same_file(img, &st, inv->guests[g].images[i]))
                                return true;
        return false;
}

int vd_fleet_unmanaged(const vd_inventory *inv, vd_events *out, char ***warn, size_t *n_warn, vd_err *err) {
        file_list f = {0};
        int r = 0;
        for (size_t s = 0; s < inv->n_storage && r == 0; s++)
                r = storage_images(inv->storage[s], 0, &f, warn, n_warn);
        for (size_t i = 0; i < f.n && r == 0; i++)
                if (!covered(inv, f.v[i]))
                        r = vd_fleet_event(out, VD_CH_UNMANAGED, VD_FLEET_SEV_UNMANAGED, NULL, f.v[i], err, "kind",
                                           "image", "why", "no guest of the inventory lists it", NULL);
        file_list_free(&f);
        if (r == VD_E_NOMEM)
                return vd_err_set(err, r, "out of memory");
        for (size_t u = 0; u < inv->n_libvirt && r == 0; u++) {
                char **names = NULL;
                size_t n = 0;
                vd_err e = VD_ERR_INIT;
                if (vd_libvirt_domains(inv->libvirt[u], &names, &n, &e) < 0) {
                        if (warnf(warn, n_warn, "%s: its domains not looked at", e.msg) < 0)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        continue;
                }
                for (size_t i = 0; i < n; i++) {
                        bool listed = false;
                        for (size_t g = 0; g < inv->n_guests && !listed; g++) {
                                const vd_inv_guest *x = &inv->guests[g];
                                listed = x->domain && strcmp(x->domain, names[i]) == 0 &&
                                         (!x->connect || strcmp(x->connect, inv->libvirt[u]) == 0);
                        }
                        if (!listed && r == 0)
                                r = vd_fleet_event(out, VD_CH_UNMANAGED, VD_FLEET_SEV_UNMANAGED, NULL, names[i], err,
                                                   "kind", "domain", "uri", inv->libvirt[u], "why",
                                                   "no guest of the inventory names it", NULL);
                        free(names[i]);
                }
                free(names);
        }
        return r;
}

/* The last image of path's backing chain (malloc'ed), or NULL when path is
 * not a linked clone; *why on failure. Only qcow2 and qed files are asked
 * (by name): those are the formats that have backing files. */
static char *chain_base(const char *path, const char *state_dir, char *why, size_t whylen, bool *failed) {
        *failed = false;
        size_t l = strlen(path);
        if (!(l > 6 && strcmp(path + l - 6, ".qcow2") == 0) && !(l > 4 && strcmp(path + l - 4, ".qed") == 0))
                return NULL;
        char *cur = strdup(path);
        bool linked = false;
        /* the format it was first seen as (its header read as qemu would,
         * without a probe), then each backing file's as its header names it */
        char fmt[32];
        vd_image_format_pinned(state_dir, path, fmt);
        for (int depth = 0; cur && depth < VD_IMAGE_CHAIN_MAX; depth++) {
                vd_image_info info;
                vd_err e = VD_ERR_INIT;
                if (vd_image_probe(cur, fmt[0] ? fmt : NULL, &info, &e) < 0) {
                        snprintf(why, whylen, "%s", e.msg);
                        *failed = true;
                        free(cur);
                        return NULL;
                }
                if (!info.backing) {
                        vd_image_info_release(&info);
                        if (!linked) {
                                free(cur);
                                return NULL;
                        }
                        return cur;
                }
                linked = true;
                free(cur);
                cur = strdup(info.backing);
                snprintf(fmt, sizeof fmt, "%s", info.backing_format);
                vd_image_info_release(&info);
        }
        snprintf(why, whylen, "%s: a backing chain longer than %d images", path, VD_IMAGE_CHAIN_MAX);
        *failed = true;
        free(cur);
        return NULL;
}

int vd_fleet_orphans(const vd_inventory *inv, const char *state_dir, vd_events *out, char ***warn, size_t *n_warn,
                     vd_err *err) {
        if (inv->n_templates == 0)
                return 0;
        file_list f = {0};
        int r = 0;
        for (size_t s = 0; s < inv->n_storage && r == 0; s++)
                r = storage_images(inv->storage[s], 0, &f, warn, n_warn);
        for (size_t g = 0; g < inv->n_guests && r == 0; g++)
                for (size_t i = 0; i < inv->guests[g].n_images && r == 0; i++) {
                        if (vd_array_grow(&f.v, &f.alloc, f.n, sizeof *f.v, 64) < 0 ||
                            !(f.v[f.n] = strdup(inv->guests[g].images[i])))
                                r = VD_E_NOMEM;
                        else
                                f.n++;
                }
        for (size_t i = 0; i < f.n && r == 0; i++) {
                bool dup = false;
                struct stat st;
                if (stat(f.v[i], &st) < 0)
                        continue;
                for (size_t k = 0; k < i && !dup; k++)
                        dup = same_file(f.v[i], &st, f.v[k]);
                for (size_t t = 0; t < inv->n_templates && !dup; t++)
                        dup = same_file(f.v[i], &st, inv->templates[t]);
                if (dup)
                        continue;
                char why[1024] = "";
                bool failed = false;
                char *base = chain_base(f.v[i], state_dir, why, sizeof why, &failed);
                if (failed) {
                        r = warnf(warn, n_warn, "%s: backing chain not read: %s", f.v[i], why);
                        continue;
                }
                if (!base)
                        continue;
                struct stat bs;
                bool known = false;
                for (size_t t = 0; t < inv->n_templates && !known; t++)
                        known = stat(base, &bs) == 0 ? same_file(base, &bs, inv->templates[t])
                                                     : strcmp(base, inv->templates[t]) == 0;
                const char *guest = NULL;
                for (size_t g = 0; g < inv->n_guests && !guest; g++)
                        for (size_t k = 0; k < inv->guests[g].n_images && !guest; k++)
                                if (same_file(f.v[i], &st, inv->guests[g].images[k]))
                                        guest = inv->guests[g].name;
                if (!known)
                        r = vd_fleet_event(out, VD_CH_ORPHAN, VD_FLEET_SEV_ORPHAN, guest, f.v[i], err, "backing", base,
                                           "why", "its backing chain ends in none of the inventory's templates", NULL);
                free(base);
        }
        file_list_free(&f);
        if (r == VD_E_NOMEM)
                return vd_err_set(err, r, "out of memory");
        return r;
}

int vd_fleet_stale(const vd_inventory *inv, const vd_inv_guest *g, const vd_guest_state *st, int64_t now_ns,
                   vd_events *out, vd_err *err) {
        int64_t since = st->last_success_ns ? st->last_success_ns : st->first_seen_ns;
        if (!since || now_ns - since <= inv->stale_after_s * 1000000000LL)
                return 0;
        vd_buf t;
        vd_buf_init(&t, 256);
        int r = vd_time_rfc3339(&t, since);
        char days[32];
        snprintf(days, sizeof days, "%lld", (long long)((now_ns - since) / (86400LL * 1000000000LL)));
        if (r == 0)
                r = vd_fleet_event(out, VD_CH_STALE, VD_FLEET_SEV_STALE, g->name, g->name, err,
                                   st->last_success_ns ? "last_success" : "never_scanned_since", t.buf, "days",
                                   days, "result", st->result[0] ? st->result : NULL, NULL);
        else
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_buf_release(&t);
        return r;
}
