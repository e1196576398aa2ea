#define _GNU_SOURCE
#include "run/vd_reuse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/vd_hash.h"
#include "collect/vd_imageinfo.h"
#include "common/vd_buf.h"
#include "common/vd_state.h"
#include "common/vd_str.h"

#define MAGIC "VDREUSE2" /* 2: the guest's drive letter and OS type; events' diffs */
#define STR_MAX ((size_t)16 << 20)
#define EVENTS_MAX 10000000u

static void hex(const unsigned char *d, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int hash_part(vd_hasher *h, const char *tag, const void *p, size_t n) {
        uint64_t len = n;
        int r = vd_hasher_update(h, tag, strlen(tag) + 1);
        if (!r)
                r = vd_hasher_update(h, &len, sizeof len);
        return r ? r : vd_hasher_update(h, p, n);
}

/* The bytes of a whole file into h. */
static int hash_file(vd_hasher *h, const char *path, vd_err *err) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return vd_err_errno(err, VD_E_SOURCE, errno, "cannot read image '%s'", path);
        static char buf[1 << 20];
        ssize_t k;
        int r = 0;
        while ((k = read(fd, buf, sizeof buf)) > 0 && r == 0)
                r = vd_hasher_update(h, buf, (size_t)k);
        if (k < 0)
                r = vd_err_errno(err, VD_E_SOURCE, errno, "cannot read image '%s'", path);
        close(fd);
        return r;
}

/* The running program's own bytes, hashed once a process: what a kept
 * report found depends on the code that found it (a build that reads
 * registry keys or ACLs finds more than the one before), and the version
 * number does not change with every build. 0, or -1 (no reuse then). */
static int build_digest(unsigned char out[VD_HASH_MAX]) {
        static unsigned char d[VD_HASH_MAX];
        static int state; /* 0 not yet, 1 done, -1 failed */
        if (state == 0) {
                state = -1;
                vd_hasher *h = vd_hasher_new(VD_HASH_SHA256, NULL);
                int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
                static char buf[1 << 16];
                ssize_t k = fd < 0 ? -1 : 0;
                int r = h ? 0 : -1;
                while (fd >= 0 && r == 0 && (k = read(fd, buf, sizeof buf)) > 0)
                        r = vd_hasher_update(h, buf, (size_t)k);
                if (fd >= 0)
                        close(fd);
                if (h && r == 0 && k == 0 && vd_hasher_final(h, d) > 0)
                        state = 1;
                vd_hasher_free(h);
        }
        if (state == 1)
                memcpy(out, d, VD_HASH_MAX);
        return state == 1 ? 0 : -1;
}

int vd_reuse_key_make(const char *const *images, size_t n, const char *const *formats, const char *const *allow,
                      size_t n_allow, const char *baseline_digest, const char *policy_digest, const char *options,
                      bool paranoid, vd_reuse_key *out, char *why, size_t whylen, vd_err *err) {
        memset(out, 0, sizeof *out);
        vd_hasher *h = vd_hasher_new(VD_HASH_SHA256, NULL), *slot = vd_hasher_new(VD_HASH_SHA256, NULL);
        if (!h || !slot) {
                vd_hasher_free(h);
                vd_hasher_free(slot);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        unsigned char build[VD_HASH_MAX];
        if (build_digest(build) < 0) {
                vd_hasher_free(h);
                vd_hasher_free(slot);
                snprintf(why, whylen, "cannot read this program's own file to key a kept report on its build");
                return 1;
        }
        int r = hash_part(h, "vmdrift-reuse", VD_VERSION, strlen(VD_VERSION));
        if (!r)
                r = hash_part(h, "build", build, 32);
        if (!r)
                r = hash_part(h, "baseline", baseline_digest, strlen(baseline_digest));
        if (!r)
                r = hash_part(h, "policy", policy_digest, strlen(policy_digest));
        if (!r)
                r = hash_part(h, "options", options, strlen(options));
        for (size_t i = 0; i < n && r == 0; i++) {
                char **files = NULL;
                size_t nf = 0;
                vd_err ce = VD_ERR_INIT;
                if (vd_image_chain_files(images[i], formats ? formats[i] : NULL, allow, n_allow, &files, &nf, &ce) < 0) {
                        snprintf(why, whylen, "%s", ce.msg);
                        r = 1;
                        break;
                }
                r = hash_part(slot, "image", files[0], strlen(files[0]));
                for (size_t k = 0; k < nf && r == 0; k++) {
                        struct stat st;
                        if (stat(files[k], &st) < 0) {
                                snprintf(why, whylen, "%s: %s", files[k], strerror(errno));
                                r = 1;
                                break;
                        }
                        /* identity: where it is and what the kernel says of it */
                        int64_t id[7] = {(int64_t)st.st_dev,        (int64_t)st.st_ino,
                                         (int64_t)st.st_size,       (int64_t)st.st_mtim.tv_sec,
                                         (int64_t)st.st_mtim.tv_nsec, (int64_t)st.st_ctim.tv_sec,
                                         (int64_t)st.st_ctim.tv_nsec};
                        r = hash_part(h, "file", files[k], strlen(files[k]));
                        if (!r)
                                r = hash_part(h, "stat", id, sizeof id);
                        /* and the bytes of a thin top overlay (or all, when asked) */
                        if (!r && (paranoid || (k == 0 && (uint64_t)st.st_size <= VD_REUSE_HASH_TOP_MAX))) {
                                r = hash_part(h, "bytes", "", 0);
                                if (!r)
                                        r = hash_file(h, files[k], err);
                        }
                }
                for (size_t k = 0; k < nf; k++)
                        free(files[k]);
                free(files);
        }
        unsigned char d[VD_HASH_MAX];
        if (r == 0) {
                if (vd_hasher_final(h, d) != 32)
                        r = vd_err_set(err, VD_E_INTERNAL, "sha256 failed");
                else
                        hex(d, 32, out->digest);
        }
        if (r == 0) {
                if (vd_hasher_final(slot, d) != 32)
                        r = vd_err_set(err, VD_E_INTERNAL, "sha256 failed");
                else
                        hex(d, 32, out->slot);
        }
        vd_hasher_free(h);
        vd_hasher_free(slot);
        return r;
}

/* ---- the kept report ---- */

static int put_str(vd_buf *b, const char *s, size_t n) {
        int r = vd_buf_add_u64(b, s ? (uint64_t)n + 1 : 0);
        return r || !s ? r : vd_buf_add(b, s, n);
}

static int put_cstr(vd_buf *b, const char *s) { return put_str(b, s, s ? strlen(s) : 0); }

static int put_val(vd_buf *b, const vd_val *v) {
        int r = vd_buf_addc(b, v->num ? 1 : 0);
        return r ? r : put_str(b, v->s, v->len);
}

int vd_reuse_save(const char *state_dir, const vd_reuse_key *k, const vd_report *rep, vd_err *err) {
        vd_buf b;
        vd_buf_init(&b, VD_REUSE_FILE_MAX);
        int r = vd_buf_add(&b, MAGIC, 8);
        if (!r)
                r = vd_buf_add(&b, k->digest, 64);
        if (!r)
                r = put_cstr(&b, rep->scan_id);
        if (!r)
                r = vd_buf_add_u64(&b, (uint64_t)rep->started_ns);
        const char *strs[] = {rep->source_kind, rep->source, rep->guest_os, rep->guest_hostname, rep->inspection,
                              rep->guest_drive,  rep->guest_os_type};
        for (size_t i = 0; i < sizeof strs / sizeof *strs && !r; i++)
                r = put_cstr(&b, strs[i]);
        uint64_t nums[] = {rep->totals.entries, rep->totals.files_hashed, rep->totals.bytes_hashed, (uint64_t)rep->last_activity_ns};
        for (size_t i = 0; i < sizeof nums / sizeof *nums && !r; i++)
                r = vd_buf_add_u64(&b, nums[i]);
        if (!r)
                r = put_str(&b, rep->last_activity_path, rep->last_activity_path_len);
        if (!r)
                r = vd_buf_add_u64(&b, rep->n_warnings);
        for (size_t i = 0; i < rep->n_warnings && !r; i++) {
                r = put_str(&b, rep->warnings[i].path, rep->warnings[i].path_len);
                if (!r)
                        r = put_cstr(&b, rep->warnings[i].msg);
        }
        if (!r)
                r = vd_buf_add_u64(&b, rep->events->n);
        for (size_t i = 0; i < rep->events->n && !r; i++) {
                const vd_event *e = &rep->events->v[i];
                uint32_t flags = (e->package ? 1u : 0) | (e->fleet ? 2u : 0);
                r = vd_buf_add_u32(&b, (uint32_t)e->kind);
                if (!r)
                        r = vd_buf_add_u32(&b, flags);
                if (!r)
                        r = vd_buf_add_u32(&b, (uint32_t)e->ftype);
                if (!r)
                        r = vd_buf_add_u32(&b, (uint32_t)e->severity);
                if (!r)
                        r = put_str(&b, e->path, e->path_len);
                const char *s2[] = {e->arch, e->rule, e->detector, e->config};
                for (size_t k2 = 0; k2 < 4 && !r; k2++)
                        r = put_cstr(&b, s2[k2]);
                if (!r)
                        r = vd_buf_add_u64(&b, e->n_ch);
                for (size_t c = 0; c < e->n_ch && !r; c++) {
                        r = put_cstr(&b, e->ch[c].attr);
                        if (!r)
                                r = put_val(&b, &e->ch[c].old_v);
                        if (!r)
                                r = put_val(&b, &e->ch[c].new_v);
                        if (!r)
                                r = put_cstr(&b, e->ch[c].note);
                }
                if (!r) /* a kept report repeats a file's diff too */
                        r = e->diff ? put_str(&b, e->diff, e->diff_len) : put_cstr(&b, NULL);
        }
        char dir[4096], name[128];
        snprintf(dir, sizeof dir, "%s/scans", state_dir);
        if (r == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
                r = vd_err_errno(err, VD_E_IO, errno, "cannot create '%s'", dir);
        else if (r < 0)
                r = vd_err_set(err, r, r == VD_E_LIMIT ? "the report is too large to keep" : "out of memory");
        snprintf(name, sizeof name, "scans/%s.vdr", k->slot);
        if (r == 0)
                r = vd_state_write(state_dir, name, b.buf, b.len, err);
        vd_buf_release(&b);
        return r;
}

struct vd_reused {
        char scan_id[37];
        int64_t started_ns;
        char *strs[7];
        uint64_t nums[4];
        char *la_path;
        size_t la_len;
        vd_warning *warnings;
        size_t n_warnings;
        vd_events events;
        char **borrowed; /* rule, detector, config strings the events point to */
        size_t n_borrowed, borrowed_alloc;
};

/* The kept file's reader: sticky (vd_rd), checked once at the end. */
static uint64_t get_u64(vd_rd *c) {
        uint64_t v;
        vd_rd_u64(c, &v);
        return v;
}

static uint32_t get_u32(vd_rd *c) {
        uint32_t v;
        vd_rd_u32(c, &v);
        return v;
}

/* A string: NULL when absent (or bad: c->bad says). */
static char *get_str(vd_rd *c, size_t *len) {
        uint64_t n = get_u64(c);
        if (len)
                *len = 0;
        if (c->bad || n == 0)
                return NULL;
        n--;
        const unsigned char *q = n > STR_MAX ? NULL : vd_rd_take(c, (size_t)n);
        char *s = q ? malloc(n + 1) : NULL;
        if (!s) {
                c->bad = true;
                return NULL;
        }
        memcpy(s, q, n);
        s[n] = '\0';
        if (len)
                *len = n;
        return s;
}

static const char *keep(vd_reused *r, vd_rd *c) {
        char *s = get_str(c, NULL);
        if (!s)
                return NULL;
        if (vd_array_grow(&r->borrowed, &r->borrowed_alloc, r->n_borrowed, sizeof *r->borrowed, 16) < 0) {
                free(s);
                c->bad = true;
                return NULL;
        }
        return r->borrowed[r->n_borrowed++] = s;
}

int vd_reuse_load(const char *state_dir, const vd_reuse_key *k, vd_reused **ret, vd_err *err) {
        *ret = NULL;
        char name[128];
        snprintf(name, sizeof name, "scans/%s.vdr", k->slot);
        vd_buf b;
        vd_buf_init(&b, VD_REUSE_FILE_MAX);
        bool absent = false;
        int r = vd_state_read(state_dir, name, VD_REUSE_FILE_MAX, &b, &absent, err);
        if (r < 0) {
                vd_buf_release(&b);
                return absent ? 1 : r;
        }
        if (b.len < 72 || memcmp(b.buf, MAGIC, 8) != 0 || memcmp(b.buf + 8, k->digest, 64) != 0) {
                vd_buf_release(&b);
                return 1; /* another version's, or another state of the guest */
        }
        vd_reused *u = calloc(1, sizeof *u);
        if (!u) {
                vd_buf_release(&b);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        vd_events_init(&u->events);
        vd_rd c;
        vd_rd_init(&c, b.buf + 72, b.len - 72);
        char *id = get_str(&c, NULL);
        if (id)
                snprintf(u->scan_id, sizeof u->scan_id, "%s", id);
        free(id);
        u->started_ns = (int64_t)get_u64(&c);
        for (size_t i = 0; i < 7; i++)
                u->strs[i] = get_str(&c, NULL);
        for (size_t i = 0; i < 4; i++)
                u->nums[i] = get_u64(&c);
        u->la_path = get_str(&c, &u->la_len);
        uint64_t nw = get_u64(&c);
        if (!c.bad && nw <= EVENTS_MAX && (u->warnings = calloc(nw ? nw : 1, sizeof *u->warnings)))
                for (uint64_t i = 0; i < nw && !c.bad; i++, u->n_warnings++) {
                        u->warnings[i].path = get_str(&c, &u->warnings[i].path_len);
                        u->warnings[i].msg = get_str(&c, NULL);
                        if (!u->warnings[i].msg)
                                c.bad = true;
                }
        else
                c.bad = true;
        uint64_t ne = get_u64(&c);
        if (ne > EVENTS_MAX)
                c.bad = true;
        for (uint64_t i = 0; i < ne && !c.bad; i++) {
                vd_event e;
                memset(&e, 0, sizeof e);
                e.kind = (int)get_u32(&c);
                uint32_t flags = get_u32(&c);
                e.package = flags & 1;
                e.fleet = flags & 2;
                e.ftype = (int)get_u32(&c);
                e.severity = (int)get_u32(&c);
                e.path = get_str(&c, &e.path_len);
                e.arch = get_str(&c, NULL);
                e.rule = keep(u, &c);
                e.detector = keep(u, &c);
                e.config = keep(u, &c);
                uint64_t nch = get_u64(&c);
                size_t alloc = 0;
                for (uint64_t k2 = 0; k2 < nch && k2 < 100000 && !c.bad; k2++) {
                        char *attr = get_str(&c, NULL);
                        vd_val o = {0}, n = {0};
                        o.num = c.p < c.end && *c.p++ == 1;
                        o.s = get_str(&c, &o.len);
                        n.num = c.p < c.end && *c.p++ == 1;
                        n.s = get_str(&c, &n.len);
                        char *note = get_str(&c, NULL);
                        if (c.bad || !attr ||
                            vd_event_add_change(&e, &alloc, attr, strlen(attr), o, n, note) < 0)
                                c.bad = true;
                        free(attr);
                }
                e.diff = get_str(&c, &e.diff_len);
                if (c.bad || !e.path || vd_events_push(&u->events, &e) < 0) {
                        vd_event_release(&e);
                        c.bad = true;
                }
        }
        vd_buf_release(&b);
        if (c.bad || c.p != c.end) {
                vd_reused_free(u);
                return vd_err_set(err, VD_E_IO, "%s/%s: damaged (remove it: the next scan runs in full)", state_dir,
                                  name);
        }
        *ret = u;
        return 0;
}

void vd_reused_report(const vd_reused *u, vd_report *rep) {
        rep->reused_scan_id = u->scan_id;
        rep->reused_started_ns = u->started_ns;
        rep->source_kind = u->strs[0] ? u->strs[0] : "image";
        rep->source = u->strs[1] ? u->strs[1] : "";
        rep->guest_os = u->strs[2];
        rep->guest_hostname = u->strs[3];
        rep->inspection = u->strs[4];
        rep->guest_drive = u->strs[5];
        rep->guest_os_type = u->strs[6];
        rep->totals = (vd_scan_totals){u->nums[0], u->nums[1], u->nums[2]};
        rep->last_activity_ns = (int64_t)u->nums[3];
        rep->last_activity_path = u->la_path;
        rep->last_activity_path_len = u->la_len;
        rep->warnings = u->warnings;
        rep->n_warnings = u->n_warnings;
        rep->events = &u->events;
}

void vd_reused_free(vd_reused *u) {
        if (!u)
                return;
        for (size_t i = 0; i < 7; i++)
                free(u->strs[i]);
        free(u->la_path);
        for (size_t i = 0; i < u->n_warnings; i++) {
                free(u->warnings[i].path);
                free(u->warnings[i].msg);
        }
        free(u->warnings);
        vd_events_release(&u->events);
        for (size_t i = 0; i < u->n_borrowed; i++)
                free(u->borrowed[i]);
        free(u->borrowed);
        free(u);
}
