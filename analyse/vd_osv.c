#define _GNU_SOURCE
#include "analyse/vd_osv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse/vd_packages.h"
#include "analyse/vd_version.h"
#include "common/vd_buf.h"
#include "common/vd_io.h"
#include "common/vd_json.h"

#define DEPTH_MAX 4
#define WARNINGS_MAX 100
#define EVENTS_MAX 1024   /* per range */
#define VERSIONS_MAX 100000 /* per affected entry */
#define FIELD_MAX 1024

enum { EV_INTRODUCED, EV_FIXED, EV_LAST_AFFECTED, EV_LIMIT };

typedef struct osv_ev {
        int kind;
        char *v;
} osv_ev;

typedef struct osv_range {
        osv_ev *ev;
        size_t n;
} osv_range;

typedef struct osv_entry {
        char *pkg;
        size_t rec;
        osv_range *ranges;
        size_t n_ranges;
        char **versions; /* sorted (strcmp) */
        size_t n_versions;
        int severity; /* the entry's own (Debian urgency...), or -1 */
} osv_entry;

typedef struct osv_record {
        char *id, *aliases; /* aliases: "CVE-1, CVE-2" or NULL */
        int severity;       /* the record's, or -1 */
} osv_record;

struct vd_advisories {
        char eco[64];
        size_t eco_len;
        bool dpkg_order;
        osv_record *rec;
        size_t n_rec, rec_alloc;
        osv_entry *ent;
        size_t n_ent, ent_alloc;
        char **warn;
        size_t n_warn, warn_alloc, warn_dropped;
        size_t files;
        vd_json_doc doc; /* loading: the tree of the file being read, its memory reused */
        char *rbuf;      /* loading: the file being read */
        size_t rbuf_alloc;
};

/* ---- severities ---- */

static double roundup1(double x) {
        long i = lround(x * 100000);
        if (i % 10000 == 0)
                return (double)i / 100000.0;
        return (floor((double)i / 10000.0) + 1) / 10.0;
}

static int rating(double s) {
        return s >= 9.0 ? VD_SEV_CRITICAL : s >= 7.0 ? VD_SEV_HIGH : s >= 4.0 ? VD_SEV_MEDIUM : s > 0 ? VD_SEV_LOW : VD_SEV_INFO;
}

int vd_cvss3_severity(const char *vec, double *ret_score) {
        if (!vec || (strncmp(vec, "CVSS:3.0/", 9) != 0 && strncmp(vec, "CVSS:3.1/", 9) != 0))
                return -1;
        /* AV AC PR UI S C I A, each exactly once */
        char m[8] = {0};
        const char *names[8] = {"AV", "AC", "PR", "UI", "S", "C", "I", "A"};
        const char *p = vec + 9;
        while (*p) {
                const char *colon = strchr(p, ':');
                if (!colon || !colon[1])
                        return -1;
                size_t kl = (size_t)(colon - p);
                char val = colon[1];
                const char *next = colon + 2;
                if (*next && *next != '/')
                        return -1;
                for (int i = 0; i < 8; i++)
                        if (strlen(names[i]) == kl && strncmp(p, names[i], kl) == 0) {
                                if (m[i])
                                        return -1;
                                m[i] = val;
                        }
                p = *next ? next + 1 : next;
        }
        for (int i = 0; i < 8; i++)
                if (!m[i])
                        return -1;
        double av = m[0] == 'N' ? 0.85 : m[0] == 'A' ? 0.62 : m[0] == 'L' ? 0.55 : m[0] == 'P' ? 0.2 : -1;
        double ac = m[1] == 'L' ? 0.77 : m[1] == 'H' ? 0.44 : -1;
        bool changed = m[4] == 'C';
        if (m[4] != 'C' && m[4] != 'U')
                return -1;
        double pr = m[2] == 'N' ? 0.85 : m[2] == 'L' ? (changed ? 0.68 : 0.62) : m[2] == 'H' ? (changed ? 0.5 : 0.27) : -1;
        double ui = m[3] == 'N' ? 0.85 : m[3] == 'R' ? 0.62 : -1;
        double cia[3];
        for (int i = 0; i < 3; i++)
                cia[i] = m[5 + i] == 'H' ? 0.56 : m[5 + i] == 'L' ? 0.22 : m[5 + i] == 'N' ? 0 : -1;
        if (av < 0 || ac < 0 || pr < 0 || ui < 0 || cia[0] < 0 || cia[1] < 0 || cia[2] < 0)
                return -1;
        double iss = 1 - (1 - cia[0]) * (1 - cia[1]) * (1 - cia[2]);
        double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
        double expl = 8.22 * av * ac * pr * ui;
        double score = impact <= 0 ? 0 : roundup1(fmin((changed ? 1.08 : 1.0) * (impact + expl), 10));
        if (ret_score)
                *ret_score = score;
        return rating(score);
}

/* Debian's urgency, Ubuntu's priority, Red Hat's and GitHub's words. */
static int severity_word(const char *w) {
        if (!w)
                return -1;
        static const struct {
                const char *w;
                int s;
        } t[] = {{"critical", VD_SEV_CRITICAL}, {"high", VD_SEV_HIGH},          {"important", VD_SEV_HIGH},
                 {"medium", VD_SEV_MEDIUM},     {"moderate", VD_SEV_MEDIUM},    {"low", VD_SEV_LOW},
                 {"negligible", VD_SEV_LOW},    {"unimportant", VD_SEV_LOW}};
        for (size_t i = 0; i < sizeof t / sizeof *t; i++)
                if (strcasecmp(w, t[i].w) == 0)
                        return t[i].s;
        /* Debian: "low**" (a guess by the tracker) */
        size_t n = strcspn(w, "*");
        if (n && w[n] == '*' && n < 16) {
                char b[16];
                memcpy(b, w, n);
                b[n] = '\0';
                return severity_word(b);
        }
        return -1;
}

static int record_severity(const vd_json *r) {
        const vd_json *sv = vd_json_get_array(r, "severity");
        int best = -1;
        for (const vd_json *s = sv ? sv->child : NULL; s; s = s->next) {
                const char *type = vd_json_get_str(s, "type"), *score = vd_json_get_str(s, "score");
                int v = -1;
                if (type && !strcmp(type, "CVSS_V3"))
                        v = vd_cvss3_severity(score, NULL);
                else if (type && !strcmp(type, "Ubuntu"))
                        v = severity_word(score);
                if (v > best)
                        best = v;
        }
        if (best < 0)
                best = severity_word(vd_json_get_str(vd_json_get(r, "database_specific"), "severity"));
        return best;
}

static int entry_severity(const vd_json *a) {
        const vd_json *es = vd_json_get(a, "ecosystem_specific"), *ds = vd_json_get(a, "database_specific");
        int s = severity_word(vd_json_get_str(es, "urgency"));
        if (s < 0)
                s = severity_word(vd_json_get_str(es, "severity"));
        if (s < 0)
                s = severity_word(vd_json_get_str(ds, "severity"));
        return s;
}

/* ---- loading ---- */

static int cmp_entry(const void *x, const void *y) {
        const osv_entry *a = x, *b = y;
        int c = strcmp(a->pkg, b->pkg);
        return c ? c : (a->rec > b->rec) - (a->rec < b->rec);
}

static void sort_range(const vd_advisories *a, osv_range *g);

static void warn(vd_advisories *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(vd_advisories *a, const char *fmt, ...) {
        if (a->n_warn >= WARNINGS_MAX) {
                a->warn_dropped++;
                return;
        }
        if (vd_array_grow(&a->warn, &a->warn_alloc, a->n_warn, sizeof *a->warn, 8) < 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *m = NULL;
        if (vasprintf(&m, fmt, ap) >= 0)
                a->warn[a->n_warn++] = m;
        va_end(ap);
}

static bool eco_match(const vd_advisories *a, const char *eco) {
        return eco && strncmp(eco, a->eco, a->eco_len) == 0 && (eco[a->eco_len] == '\0' || eco[a->eco_len] == ':');
}

static char *bounded_dup(const char *s) {
        return s && strlen(s) <= FIELD_MAX ? strdup(s) : NULL;
}

static void free_entry(osv_entry *e) {
        free(e->pkg);
        for (size_t i = 0; i < e->n_ranges; i++) {
                for (size_t k = 0; k < e->ranges[i].n; k++)
                        free(e->ranges[i].ev[k].v);
                free(e->ranges[i].ev);
        }
        free(e->ranges);
        for (size_t i = 0; i < e->n_versions; i++)
                free(e->versions[i]);
        free(e->versions);
}

static int cmp_str(const void *x, const void *y) {
        return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The ECOSYSTEM ranges and versions of one affected entry. false: malformed
 * (what is wrong in *why). */
static bool take_entry(const vd_json *af, osv_entry *e, const char **why) {
        const vd_json *ranges = vd_json_get_array(af, "ranges"), *versions = vd_json_get_array(af, "versions");
        for (const vd_json *r = ranges ? ranges->child : NULL; r; r = r->next) {
                const char *type = vd_json_get_str(r, "type");
                if (!type) {
                        *why = "a range without a type";
                        return false;
                }
                if (strcmp(type, "ECOSYSTEM") != 0)
                        continue; /* GIT, SEMVER: not package versions */
                const vd_json *evs = vd_json_get_array(r, "events");
                if (!evs || evs->type != VD_JSON_ARRAY || evs->n == 0 || evs->n > EVENTS_MAX) {
                        *why = "an ECOSYSTEM range without events (or with more than 1024)";
                        return false;
                }
                osv_range *nr = realloc(e->ranges, (e->n_ranges + 1) * sizeof *nr);
                if (!nr)
                        return false;
                e->ranges = nr;
                osv_range *g = &e->ranges[e->n_ranges++];
                g->n = 0;
                if (!(g->ev = calloc(evs->n, sizeof *g->ev)))
                        return false;
                for (const vd_json *ev = evs->child; ev; ev = ev->next) {
                        static const char *const kinds[] = {"introduced", "fixed", "last_affected", "limit"};
                        int kind = -1;
                        const char *v = NULL;
                        for (int k = 0; k < 4; k++)
                                if ((v = vd_json_get_str(ev, kinds[k]))) {
                                        kind = k;
                                        break;
                                }
                        if (kind < 0 || ev->n != 1 || !*v) {
                                *why = "a range event that is not one of introduced, fixed, last_affected, limit "
                                       "with a version";
                                return false;
                        }
                        if (!(g->ev[g->n].v = bounded_dup(v))) {
                                *why = "a version longer than 1024 bytes";
                                return false;
                        }
                        g->ev[g->n++].kind = kind;
                }
        }
        if (versions) {
                if (versions->type != VD_JSON_ARRAY || versions->n > VERSIONS_MAX) {
                        *why = "\"versions\" is not a list (of at most 100000)";
                        return false;
                }
                if (!(e->versions = calloc(versions->n ? versions->n : 1, sizeof *e->versions)))
                        return false;
                for (const vd_json *v = versions->child; v; v = v->next) {
                        if (!vd_json_str(v) || !(e->versions[e->n_versions] = bounded_dup(v->s))) {
                                *why = "a version in \"versions\" that is not a string of at most 1024 bytes";
                                return false;
                        }
                        e->n_versions++;
                }
                qsort(e->versions, e->n_versions, sizeof *e->versions, cmp_str);
        }
        return true;
}

/* One record: its affected entries of our ecosystem. */
static void take_record(vd_advisories *a, const vd_json *r, const char *file) {
        if (r->type != VD_JSON_OBJECT) {
                warn(a, "%s: not an OSV record (a JSON object): skipped", file);
                return;
        }
        const vd_json *affected = vd_json_get_array(r, "affected");
        const char *id = vd_json_get_str(r, "id");
        if (!id || !*id || strlen(id) > 256) {
                warn(a, "%s: a record without an \"id\" (a string of at most 256 bytes): skipped", file);
                return;
        }
        bool ours = false;
        for (const vd_json *af = affected ? affected->child : NULL; af && !ours; af = af->next)
                ours = eco_match(a, vd_json_get_str(vd_json_get(af, "package"), "ecosystem"));
        if (!ours)
                return;
        if (vd_array_grow(&a->rec, &a->rec_alloc, a->n_rec, sizeof *a->rec, 256) < 0)
                return;
        osv_record *rec = &a->rec[a->n_rec];
        memset(rec, 0, sizeof *rec);
        vd_buf al;
        vd_buf_init(&al, 4096);
        const vd_json *aliases = vd_json_get_array(r, "aliases");
        for (const vd_json *x = aliases ? aliases->child : NULL; x; x = x->next)
                if (vd_json_str(x) && (al.len == 0 || vd_buf_adds(&al, ", ") == 0))
                        vd_buf_adds(&al, x->s); /* past 4 KiB the list stops; the id still says it */
        rec->id = strdup(id);
        rec->aliases = al.len ? vd_buf_detach(&al, NULL) : NULL;
        vd_buf_release(&al);
        rec->severity = record_severity(r);
        if (!rec->id) {
                free(rec->aliases);
                return;
        }
        size_t first = a->n_ent;
        const char *why = NULL;
        for (const vd_json *af = affected->child; af && !why; af = af->next) {
                const vd_json *pkg = vd_json_get(af, "package");
                if (!eco_match(a, vd_json_get_str(pkg, "ecosystem")))
                        continue;
                const char *name = vd_json_get_str(pkg, "name");
                if (!name || !*name || strlen(name) > FIELD_MAX) {
                        why = "an affected package without a name";
                        break;
                }
                if (vd_array_grow(&a->ent, &a->ent_alloc, a->n_ent, sizeof *a->ent, 1024) < 0) {
                        why = "out of memory";
                        break;
                }
                osv_entry *e = &a->ent[a->n_ent];
                memset(e, 0, sizeof *e);
                e->rec = a->n_rec;
                e->severity = entry_severity(af);
                const char *w = "out of memory";
                if (!(e->pkg = strdup(name)) || !take_entry(af, e, &w)) {
                        why = w;
                        free_entry(e);
                        break;
                }
                for (size_t k = 0; k < e->n_ranges; k++)
                        sort_range(a, &e->ranges[k]);
                a->n_ent++;
        }
        if (why) {
                /* all or nothing: half a record could claim "not affected" */
                while (a->n_ent > first)
                        free_entry(&a->ent[--a->n_ent]);
                free(rec->id);
                free(rec->aliases);
                warn(a, "%s: %s: %s: skipped", file, id, why);
                return;
        }
        a->n_rec++;
}

static void add_text(vd_advisories *a, const char *text, size_t len, const char *shown) {
        vd_json_doc *doc = &a->doc;
        vd_json_limits lim = {VD_OSV_FILE_MAX, 64, 0, 0};
        vd_err e = VD_ERR_INIT;
        if (vd_json_parse_again(text, len, shown, &lim, doc, &e) < 0)
                warn(a, "%s: skipped", e.msg);
        else if (doc->root->type == VD_JSON_ARRAY)
                for (const vd_json *r = doc->root->child; r; r = r->next)
                        take_record(a, r, shown);
        else
                take_record(a, doc->root, shown);
}

static void load_file(vd_advisories *a, int dirfd, const char *name, const char *shown) {
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                warn(a, "%s: %s: skipped", shown, fd < 0 ? strerror(errno) : "not a regular file");
                if (fd >= 0)
                        close(fd);
                return;
        }
        if ((uint64_t)st.st_size > VD_OSV_FILE_MAX) {
                warn(a, "%s: larger than %zu bytes: skipped", shown, VD_OSV_FILE_MAX);
                close(fd);
                return;
        }
        size_t len = (size_t)st.st_size;
        if (len + 1 > a->rbuf_alloc) { /* one buffer for every file of the load */
                char *nb = realloc(a->rbuf, len + 1);
                if (!nb) {
                        close(fd);
                        warn(a, "%s: out of memory: skipped", shown);
                        return;
                }
                a->rbuf = nb;
                a->rbuf_alloc = len + 1;
        }
        char *text = a->rbuf;
        int rr = vd_pread_exact(fd, text, len, 0);
        close(fd);
        if (rr < 0) {
                warn(a, "%s: cannot read it whole (changed while read?): skipped", shown);
                return;
        }
        a->files++;
        add_text(a, text, len, shown);
}

static int load_dir(vd_advisories *a, int fd, const char *shown, unsigned depth, vd_err *err) {
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return vd_err_errno(err, VD_E_IO, errno, "cannot read advisories directory '%s'", shown);
        }
        /* sorted: warnings and records in the same order every run */
        char **names = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) && r == 0) {
                if (de->d_name[0] == '.')
                        continue;
                if (a->files + n >= VD_OSV_FILES_MAX) {
                        r = vd_err_set(err, VD_E_LIMIT, "advisories '%s': more than %d files", shown, VD_OSV_FILES_MAX);
                        break;
                }
                if (vd_array_grow(&names, &alloc, n, sizeof *names, 256) < 0 || !(names[n] = strdup(de->d_name)))
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                else
                        n++;
        }
        if (n > 1)
                qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n && r == 0; i++) {
                char *sub = NULL;
                if (asprintf(&sub, "%s/%s", shown, names[i]) < 0) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                struct stat st;
                if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        warn(a, "%s: %s: skipped", sub, strerror(errno));
                else if (S_ISDIR(st.st_mode)) {
                        int cfd = depth < DEPTH_MAX
                                          ? openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                          : -1;
                        if (depth >= DEPTH_MAX)
                                warn(a, "%s: deeper than %d directory levels: skipped", sub, DEPTH_MAX);
                        else if (cfd < 0)
                                warn(a, "%s: %s: skipped", sub, strerror(errno));
                        else
                                r = load_dir(a, cfd, sub, depth + 1, err);
                } else if (S_ISREG(st.st_mode)) {
                        size_t l = strlen(names[i]);
                        if (l > 5 && strcmp(names[i] + l - 5, ".json") == 0)
                                load_file(a, dirfd(d), names[i], sub);
                }
                /* symbolic links and the rest: not followed, not records */
                free(sub);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        closedir(d);
        return r;
}

int vd_advisories_new(const char *ecosystem, vd_advisories **ret, vd_err *err) {
        *ret = NULL;
        if (!ecosystem || !*ecosystem || strlen(ecosystem) >= 64)
                return vd_err_set(err, VD_E_USAGE, "advisories: no ecosystem to match (give --ecosystem, e.g. "
                                                   "Debian:12)");
        vd_advisories *a = calloc(1, sizeof *a);
        if (!a)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        snprintf(a->eco, sizeof a->eco, "%s", ecosystem);
        a->eco_len = strlen(a->eco);
        a->dpkg_order = strncmp(ecosystem, "Debian", 6) == 0 || strncmp(ecosystem, "Ubuntu", 6) == 0;
        *ret = a;
        return 0;
}

void vd_advisories_add_json(vd_advisories *a, const char *text, size_t len, const char *name) {
        add_text(a, text, len, name);
        if (a->n_ent > 1)
                qsort(a->ent, a->n_ent, sizeof *a->ent, cmp_entry);
}

int vd_advisories_load(const char *path, const char *ecosystem, vd_advisories **ret, vd_err *err) {
        vd_advisories *a = NULL;
        int r0 = vd_advisories_new(ecosystem, &a, err);
        if (r0 < 0)
                return r0;
        struct stat st;
        int r = 0;
        if (stat(path, &st) < 0)
                r = vd_err_errno(err, VD_E_USAGE, errno, "cannot read advisories '%s'", path);
        else if (S_ISDIR(st.st_mode)) {
                int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = fd < 0 ? vd_err_errno(err, VD_E_IO, errno, "cannot read advisories directory '%s'", path)
                           : load_dir(a, fd, path, 0, err);
        } else if (S_ISREG(st.st_mode))
                load_file(a, AT_FDCWD, path, path);
        else
                r = vd_err_set(err, VD_E_USAGE, "advisories '%s': neither a file nor a directory", path);
        if (r < 0) {
                vd_advisories_free(a);
                return r;
        }
        if (a->warn_dropped)
                warn(a, "advisories: %zu more malformed records not listed", a->warn_dropped);
        if (a->n_ent > 1)
                qsort(a->ent, a->n_ent, sizeof *a->ent, cmp_entry);
        *ret = a;
        return 0;
}

void vd_advisories_free(vd_advisories *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n_rec; i++) {
                free(a->rec[i].id);
                free(a->rec[i].aliases);
        }
        free(a->rec);
        for (size_t i = 0; i < a->n_ent; i++)
                free_entry(&a->ent[i]);
        free(a->ent);
        for (size_t i = 0; i < a->n_warn; i++)
                free(a->warn[i]);
        free(a->warn);
        free(a->rbuf);
        vd_json_doc_release(&a->doc);
        free(a);
}

void vd_advisories_counts(const vd_advisories *a, size_t *files, size_t *records, size_t *entries) {
        *files = a->files;
        *records = a->n_rec;
        *entries = a->n_ent;
}

const char *const *vd_advisories_warnings(const vd_advisories *a, size_t *n) {
        *n = a->n_warn;
        return (const char *const *)a->warn;
}

const char *vd_osv_ecosystem(const char *distro, const char *version, char buf[64]) {
        if (!distro || !version || !*version)
                return NULL;
        unsigned major = 0, minor = 0;
        int k = sscanf(version, "%u.%u", &major, &minor);
        if (k < 1)
                return NULL;
        if (!strcmp(distro, "debian"))
                snprintf(buf, 64, "Debian:%u", major);
        else if (!strcmp(distro, "ubuntu"))
                snprintf(buf, 64, "Ubuntu:%u.%02u", major, minor);
        else if (!strcmp(distro, "almalinux"))
                snprintf(buf, 64, "AlmaLinux:%u", major);
        else if (!strcmp(distro, "rocky"))
                snprintf(buf, 64, "Rocky Linux:%u", major);
        else if (!strcmp(distro, "alpine"))
                snprintf(buf, 64, "Alpine:v%u.%u", major, minor);
        else
                return NULL;
        return buf;
}

/* ---- matching ---- */

static int vcmp(const vd_advisories *a, const char *x, const char *y) {
        return a->dpkg_order ? vd_version_cmp_deb(x, y) : vd_version_cmp_rpm(x, y);
}

static bool is_zero(const osv_ev *e) {
        return e->kind == EV_INTRODUCED && strcmp(e->v, "0") == 0;
}

/* Events in version order, "0" first: once, at load. */
static void sort_range(const vd_advisories *a, osv_range *g) {
        osv_ev *ev = g->ev;
        for (size_t i = 1; i < g->n; i++) /* insertion sort: small, and stable for ties */
                for (size_t j = i; j > 0; j--) {
                        int c = is_zero(&ev[j])       ? (is_zero(&ev[j - 1]) ? 0 : -1)
                                : is_zero(&ev[j - 1]) ? 1
                                                      : vcmp(a, ev[j].v, ev[j - 1].v);
                        if (c >= 0)
                                break;
                        osv_ev t = ev[j];
                        ev[j] = ev[j - 1];
                        ev[j - 1] = t;
                }
}

/* The OSV evaluation: events in version order ("0" first); the last
 * introduced at or below v opens, a fixed at or below v (a last_affected
 * below it, a limit at or below it) closes. *fixed: the lowest fixed
 * version above v, if any. */
static bool in_range(const vd_advisories *a, const osv_range *g, const char *v, const char **fixed) {
        const osv_ev *ev = g->ev;
        bool affected = false;
        for (size_t i = 0; i < g->n; i++) {
                int c = is_zero(&ev[i]) ? 1 : vcmp(a, v, ev[i].v);
                switch (ev[i].kind) {
                case EV_INTRODUCED:
                        if (c >= 0)
                                affected = true;
                        break;
                case EV_FIXED:
                        if (c >= 0)
                                affected = false;
                        else if (!*fixed || vcmp(a, ev[i].v, *fixed) < 0)
                                *fixed = ev[i].v;
                        break;
                case EV_LAST_AFFECTED:
                        if (c > 0)
                                affected = false;
                        break;
                default:
                        if (c >= 0)
                                affected = false;
                        break;
                }
        }
        return affected;
}

static bool affected(const vd_advisories *a, const osv_entry *e, const char *v, const char **fixed) {
        *fixed = NULL;
        if (e->n_versions && bsearch(&v, e->versions, e->n_versions, sizeof *e->versions, cmp_str))
                return true;
        bool hit = false;
        for (size_t i = 0; i < e->n_ranges; i++) {
                const char *f = NULL;
                if (in_range(a, &e->ranges[i], v, &f)) {
                        hit = true;
                        if (f && (!*fixed || vcmp(a, f, *fixed) < 0))
                                *fixed = f;
                }
        }
        return hit;
}

static int emit(const vd_package *p, const char *installed, const osv_record *rec, int sev, const char *rule,
                const char *fixed, vd_events *out, vd_err *err) {
        vd_event ev;
        size_t alloc = 0;
        if (vd_package_event_begin(&ev, p, VD_CH_VULNERABLE, sev, rule) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        bool ok = true;
        struct {
                const char *attr, *v;
        } ch[] = {{"version", installed},     {"advisory", rec->id}, {"aliases", rec->aliases},
                  {"fixed", fixed},            {"source", p->source}};
        for (size_t i = 0; ok && i < sizeof ch / sizeof *ch; i++) {
                if (i >= 2 && !ch[i].v)
                        continue;
                char *s = ch[i].v ? strdup(ch[i].v) : NULL;
                if (ch[i].v && !s) {
                        ok = false;
                        break;
                }
                vd_val o = {NULL, 0, false}, n = {s, s ? strlen(s) : 0, false};
                ok = vd_event_add_change(&ev, &alloc, ch[i].attr, strlen(ch[i].attr), o, n, NULL) == 0;
        }
        if (!ok || vd_events_push(out, &ev) < 0) {
                vd_event_release(&ev);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

static const osv_entry *first_of(const vd_advisories *a, const char *name, size_t *end) {
        size_t lo = 0, hi = a->n_ent;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(a->ent[mid].pkg, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *end = lo;
        while (*end < a->n_ent && strcmp(a->ent[*end].pkg, name) == 0)
                (*end)++;
        return lo < a->n_ent ? &a->ent[lo] : NULL;
}

int vd_advisories_match(const vd_advisories *a, const vd_package *pkgs, size_t n, const vd_policy *pol,
                        vd_events *out, vd_err *err) {
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                const vd_package *p = &pkgs[i];
                const char *rule = NULL;
                int def = vd_policy_package_severity(pol, p->name, VD_CH_VULNERABLE, &rule);
                if (def < 0)
                        continue;
                char *label = vd_package_label(p);
                if (!label)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                /* the source's version where dpkg names one: advisories give those */
                const char *v = p->source_version ? p->source_version : label;
                const char *names[2] = {p->source ? p->source : p->name, p->source ? p->name : NULL};
                size_t last_rec = (size_t)-1;
                for (int k = 0; k < 2 && names[k] && r == 0; k++) {
                        if (k == 1 && strcmp(names[0], names[1]) == 0)
                                break;
                        size_t end;
                        const osv_entry *e = first_of(a, names[k], &end);
                        for (; e && e < a->ent + end && r == 0; e++) {
                                const char *fixed = NULL;
                                if (e->rec == last_rec || !affected(a, e, v, &fixed))
                                        continue;
                                last_rec = e->rec; /* one event per advisory and package */
                                const osv_record *rec = &a->rec[e->rec];
                                int sev = e->severity >= 0 ? e->severity : rec->severity >= 0 ? rec->severity : def;
                                r = emit(p, label, rec, sev, rule, fixed, out, err);
                        }
                }
                free(label);
        }
        return r;
}
