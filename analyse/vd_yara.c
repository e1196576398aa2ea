/* YARA rules and matches; see vd_yara.h. */
#define _GNU_SOURCE
#include "analyse/vd_yara.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yara.h>

#include "common/vd_str.h"
#include "model/vd_event.h"
#include "vd_secrets_yar.h"

#define RULE_FILES_MAX 4096

#define IDLE_SCANNERS_MAX 64

struct vd_yara {
        YR_RULES *rules;
        /* scanners between matches (a scanner is for one thread at a time;
         * making one per file costs as much as a small file's match) */
        pthread_mutex_t mu;
        YR_SCANNER *idle[IDLE_SCANNERS_MAX];
        size_t n_idle;
        char digest[65];
        char *source;
        size_t n_rules;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = -1;
static void init_lib(void) { init_rc = yr_initialize(); }

static int lib(vd_err *err) {
        pthread_once(&init_once, init_lib);
        return init_rc == ERROR_SUCCESS ? 0 : vd_err_set(err, VD_E_INTERNAL, "libyara failed to start (error %d)", init_rc);
}

/* The first compiler error, as file:line: message. */
typedef struct compile_ctx {
        char msg[512];
        bool have;
} compile_ctx;

static void on_compile(int level, const char *file, int line, const YR_RULE *rule, const char *message, void *ud) {
        (void)rule;
        compile_ctx *c = ud;
        if (level != YARA_ERROR_LEVEL_ERROR || c->have)
                return;
        snprintf(c->msg, sizeof c->msg, "%s:%d: %s", file ? file : "(rules)", line, message);
        c->have = true;
}

static int define_externals(YR_COMPILER *c) {
        return yr_compiler_define_string_variable(c, "filepath", "") | yr_compiler_define_string_variable(c, "filename", "") |
               yr_compiler_define_string_variable(c, "extension", "");
}

/* Hash what yr_rules_save_stream writes. */
static size_t digest_write(const void *p, size_t size, size_t count, void *ud) {
        if (EVP_DigestUpdate(ud, p, size * count) != 1)
                return 0;
        return count;
}

static int finish(YR_COMPILER *c, compile_ctx *cc, const char *source, vd_yara **ret, vd_err *err) {
        vd_yara *y = calloc(1, sizeof *y);
        if (!y || !(y->source = strdup(source))) {
                free(y);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        pthread_mutex_init(&y->mu, NULL);
        if (yr_compiler_get_rules(c, &y->rules) != ERROR_SUCCESS) {
                vd_yara_free(y);
                return vd_err_set(err, VD_E_NOMEM, "%s: cannot compile the rules (out of memory)", source);
        }
        (void)cc;
        YR_RULE *rule;
        yr_rules_foreach(y->rules, rule) y->n_rules++;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char h[32];
        unsigned hl = 0;
        YR_STREAM st = {.user_data = md, .write = digest_write};
        int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && yr_rules_save_stream(y->rules, &st) == ERROR_SUCCESS &&
                 EVP_DigestFinal_ex(md, h, &hl) == 1 && hl == 32;
        EVP_MD_CTX_free(md);
        if (!ok) {
                vd_yara_free(y);
                return vd_err_set(err, VD_E_INTERNAL, "%s: cannot take the compiled rules' digest", source);
        }
        for (int i = 0; i < 32; i++)
                snprintf(y->digest + 2 * i, 3, "%02x", h[i]);
        *ret = y;
        return 0;
}

/* A compiler that reports its first error into cc, the externals defined. */
static int new_compiler(YR_COMPILER **c, compile_ctx *cc, vd_err *err) {
        if (yr_compiler_create(c) != ERROR_SUCCESS)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        yr_compiler_set_callback(*c, on_compile, cc);
        if (define_externals(*c)) {
                yr_compiler_destroy(*c);
                *c = NULL;
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        return 0;
}

static bool rule_file_name(const char *n) {
        size_t l = strlen(n);
        return n[0] != '.' && ((l > 4 && !strcmp(n + l - 4, ".yar")) || (l > 5 && !strcmp(n + l - 5, ".yara")));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Add one file to c under namespace ns. */
static int add_file(YR_COMPILER *c, compile_ctx *cc, const char *path, const char *ns, vd_err *err) {
        FILE *f = fopen(path, "re");
        if (!f)
                return vd_err_errno(err, VD_E_IO, errno, "%s: cannot open the YARA rules", path);
        int errors = yr_compiler_add_file(c, f, ns, path);
        fclose(f);
        if (errors)
                return vd_err_set(err, VD_E_INPUT, "%s", cc->have ? cc->msg : "the YARA rules do not compile");
        return 0;
}

int vd_yara_load(const char *path, vd_yara **ret, vd_err *err) {
        *ret = NULL;
        if (lib(err) < 0)
                return err->code;
        struct stat st;
        if (stat(path, &st) != 0)
                return vd_err_errno(err, VD_E_USAGE, errno, "--yara '%s': %s", path, strerror(errno));
        YR_COMPILER *c = NULL;
        compile_ctx cc = {.have = false};
        if (new_compiler(&c, &cc, err) < 0)
                return err->code;
        int r = 0;
        if (r == 0 && !S_ISDIR(st.st_mode))
                r = add_file(c, &cc, path, "default", err);
        else if (r == 0) {
                DIR *d = opendir(path);
                char **names = NULL;
                size_t n = 0, alloc = 0;
                if (!d)
                        r = vd_err_errno(err, VD_E_IO, errno, "%s: cannot list the YARA rules", path);
                for (struct dirent *de; r == 0 && d && (de = readdir(d));) {
                        if (!rule_file_name(de->d_name))
                                continue;
                        if (n >= RULE_FILES_MAX)
                                r = vd_err_set(err, VD_E_LIMIT, "%s: more than %d rule files", path, RULE_FILES_MAX);
                        else if (vd_array_grow(&names, &alloc, n, sizeof *names, 16) < 0 || !(names[n] = strdup(de->d_name)))
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        else
                                n++;
                }
                if (d)
                        closedir(d);
                if (r == 0 && n == 0)
                        r = vd_err_set(err, VD_E_INPUT, "%s: no *.yar or *.yara file in the directory", path);
                if (n > 1)
                        qsort(names, n, sizeof *names, cmp_str);
                for (size_t i = 0; i < n && r == 0; i++) {
                        char *full = NULL, *ns = strdup(names[i]);
                        if (!ns || asprintf(&full, "%s/%s", path, names[i]) < 0) {
                                free(ns);
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                                break;
                        }
                        *strrchr(ns, '.') = '\0';
                        r = add_file(c, &cc, full, ns, err);
                        free(full);
                        free(ns);
                }
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
        }
        if (r == 0)
                r = finish(c, &cc, path, ret, err);
        yr_compiler_destroy(c);
        return r;
}

int vd_yara_load_secrets(vd_yara **ret, vd_err *err) {
        *ret = NULL;
        if (lib(err) < 0)
                return err->code;
        YR_COMPILER *c = NULL;
        compile_ctx cc = {.have = false};
        if (new_compiler(&c, &cc, err) < 0)
                return err->code;
        int r = 0;
        if (r == 0 && yr_compiler_add_string(c, vd_secrets_yar, "secrets") != 0)
                r = vd_err_set(err, VD_E_INTERNAL, "the shipped secret rules do not compile: %s", cc.msg);
        if (r == 0)
                r = finish(c, &cc, "builtin:secrets", ret, err);
        yr_compiler_destroy(c);
        return r;
}

void vd_yara_free(vd_yara *y) {
        if (!y)
                return;
        for (size_t i = 0; i < y->n_idle; i++)
                yr_scanner_destroy(y->idle[i]);
        if (y->rules)
                yr_rules_destroy(y->rules);
        pthread_mutex_destroy(&y->mu);
        free(y->source);
        free(y);
}

const char *vd_yara_digest(const vd_yara *y) { return y->digest; }
const char *vd_yara_source(const vd_yara *y) { return y->source; }
size_t vd_yara_n_rules(const vd_yara *y) { return y->n_rules; }

bool vd_yara_covers(const vd_yara *a, const vd_yara *b) {
        YR_RULE *rb;
        yr_rules_foreach(b->rules, rb) {
                bool found = false;
                YR_RULE *ra;
                yr_rules_foreach(a->rules, ra) {
                        if (!strcmp(ra->identifier, rb->identifier) && ra->ns && rb->ns &&
                            !strcmp(ra->ns->name, rb->ns->name)) {
                                found = true;
                                break;
                        }
                }
                if (!found)
                        return false;
        }
        return true;
}

void vd_yara_hits_init(vd_yara_hits *h) { memset(h, 0, sizeof *h); }

void vd_yara_hits_release(vd_yara_hits *h) {
        for (size_t i = 0; i < h->n; i++) {
                vd_yara_hit *x = &h->v[i];
                free(x->rule);
                free(x->ns);
                free(x->tags);
                free(x->description);
                free(x->author);
                free(x->reference);
        }
        free(h->v);
        memset(h, 0, sizeof *h);
}

/* A rule's text, bounded. */
static char *bounded(const char *s) { return s ? strndup(s, VD_YARA_TEXT_MAX) : NULL; }

typedef struct match_ctx {
        vd_yara_hits *out;
        const unsigned char *data;
        size_t n;
        int r;
} match_ctx;

static int hit_of(match_ctx *m, YR_SCAN_CONTEXT *sc, YR_RULE *rule) {
        vd_yara_hits *h = m->out;
        if (h->n >= VD_YARA_HITS_MAX) {
                h->more++;
                return 0;
        }
        if (vd_array_grow(&h->v, &h->alloc, h->n, sizeof *h->v, 4) < 0)
                return VD_E_NOMEM;
        vd_yara_hit *x = &h->v[h->n];
        memset(x, 0, sizeof *x);
        x->severity = -1;
        x->offset = UINT64_MAX;
        vd_buf tags;
        vd_buf_init(&tags, 1024);
        const char *tag;
        int r = 0;
        yr_rule_tags_foreach(rule, tag) {
                if (!strcasecmp(tag, "secret"))
                        x->secret = true;
                if (r == 0 && tags.len)
                        r = vd_buf_addc(&tags, ',');
                if (r == 0)
                        r = vd_buf_adds(&tags, tag);
        }
        if (r == VD_E_LIMIT)
                r = 0;
        x->tags = strndup(tags.buf ? tags.buf : "", tags.len);
        vd_buf_release(&tags);
        const YR_META *meta;
        yr_rule_metas_foreach(rule, meta) {
                const char *id = meta->identifier;
                if (meta->type == META_TYPE_STRING && !strcmp(id, "description") && !x->description)
                        x->description = bounded(meta->string);
                else if (meta->type == META_TYPE_STRING && !strcmp(id, "author") && !x->author)
                        x->author = bounded(meta->string);
                else if (meta->type == META_TYPE_STRING && !strcmp(id, "reference") && !x->reference)
                        x->reference = bounded(meta->string);
                else if (meta->type == META_TYPE_STRING && !strcmp(id, "kind") && !strcasecmp(meta->string, "secret"))
                        x->secret = true;
                else if (!strcmp(id, "severity") && meta->type == META_TYPE_STRING)
                        x->severity = vd_severity_from_name(meta->string);
                else if (!strcmp(id, "severity") && meta->type == META_TYPE_INTEGER && meta->integer >= 0 &&
                         meta->integer <= VD_SEV_CRITICAL)
                        x->severity = (int)meta->integer;
        }
        /* where: the first match of its strings, those named $context*
         * (what makes a match but is not the secret: "kind: Config")
         * only when nothing else matched; a match that begins at a line's
         * newline (/(^|\n).../) is on the line after it */
        for (int pass = 0; pass < 2 && x->offset == UINT64_MAX; pass++) {
                const YR_STRING *s;
                yr_rule_strings_foreach(rule, s) {
                        if ((strncmp(s->identifier, "$context", 8) == 0) != (pass == 1))
                                continue;
                        /* libyara keeps matches in a notebook that does not align
                         * them: each read through a copy (UBSan: misaligned access) */
                        for (const YR_MATCH *p = sc->matches[s->idx].head; p;) {
                                YR_MATCH mt;
                                memcpy(&mt, p, sizeof mt);
                                p = mt.next;
                                if (mt.is_private)
                                        continue;
                                int64_t at = mt.base + mt.offset;
                                if (at >= 0 && (uint64_t)at < m->n && m->data[at] == '\n' && mt.match_length > 1)
                                        at++;
                                if (at >= 0 && (uint64_t)at < x->offset)
                                        x->offset = (uint64_t)at;
                        }
                }
        }
        if (x->offset != UINT64_MAX && x->offset <= m->n) {
                x->line = 1;
                for (const unsigned char *p = m->data, *end = m->data + x->offset;
                     (p = memchr(p, '\n', (size_t)(end - p))); p++)
                        x->line++;
        }
        x->rule = strdup(rule->identifier);
        x->ns = strdup(rule->ns && rule->ns->name ? rule->ns->name : "default");
        h->n++;
        if (!x->rule || !x->ns || !x->tags)
                return VD_E_NOMEM;
        return 0;
}

static int on_match(YR_SCAN_CONTEXT *sc, int msg, void *data, void *ud) {
        match_ctx *m = ud;
        if (msg == CALLBACK_MSG_RULE_MATCHING) {
                int r = hit_of(m, sc, data);
                if (r < 0) {
                        m->r = r;
                        return CALLBACK_ABORT;
                }
        }
        return CALLBACK_CONTINUE;
}

int vd_yara_match(const vd_yara *y, const char *path, size_t path_len, const void *data, size_t n, int timeout_s,
                  vd_yara_hits *out, vd_err *err) {
        /* externals are C strings: a path with a NUL is matched under its bytes before it */
        char *fp = strndup(path, path_len);
        if (!fp)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        const char *fname = strrchr(fp, '/');
        fname = fname ? fname + 1 : fp;
        const char *dot = strrchr(fname, '.');
        char ext[64] = "";
        if (dot && dot != fname && strlen(dot + 1) < sizeof ext)
                for (size_t i = 0; dot[1 + i]; i++)
                        ext[i] = (char)((dot[1 + i] >= 'A' && dot[1 + i] <= 'Z') ? dot[1 + i] + 32 : dot[1 + i]);
        YR_SCANNER *sc = NULL;
        vd_yara *my = (vd_yara *)y; /* its idle scanners only */
        pthread_mutex_lock(&my->mu);
        if (my->n_idle)
                sc = my->idle[--my->n_idle];
        pthread_mutex_unlock(&my->mu);
        if (!sc && yr_scanner_create(y->rules, &sc) != ERROR_SUCCESS) {
                free(fp);
                return vd_err_set(err, VD_E_NOMEM, "out of memory (a YARA scanner)");
        }
        match_ctx m = {out, data, n, 0};
        yr_scanner_set_callback(sc, on_match, &m);
        yr_scanner_set_flags(sc, SCAN_FLAGS_REPORT_RULES_MATCHING);
        yr_scanner_set_timeout(sc, timeout_s > 0 ? timeout_s : 0);
        int r = 0;
        if (yr_scanner_define_string_variable(sc, "filepath", fp) != ERROR_SUCCESS ||
            yr_scanner_define_string_variable(sc, "filename", fname) != ERROR_SUCCESS ||
            yr_scanner_define_string_variable(sc, "extension", ext) != ERROR_SUCCESS)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        static const unsigned char none[1];
        int yr = r ? ERROR_SUCCESS : yr_scanner_scan_mem(sc, n ? data : none, n);
        pthread_mutex_lock(&my->mu);
        if (my->n_idle < IDLE_SCANNERS_MAX) {
                my->idle[my->n_idle++] = sc;
                sc = NULL;
        }
        pthread_mutex_unlock(&my->mu);
        if (sc)
                yr_scanner_destroy(sc);
        free(fp);
        if (r)
                return r;
        if (m.r)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (yr == ERROR_SCAN_TIMEOUT) {
                out->timeout = true;
                return 0;
        }
        if (yr == ERROR_TOO_MANY_MATCHES)
                return 0; /* a string matched too often to list: the rules' verdicts stand */
        if (yr == ERROR_INSUFFICIENT_MEMORY)
                return vd_err_set(err, VD_E_NOMEM, "out of memory (YARA)");
        if (yr != ERROR_SUCCESS)
                return vd_err_set(err, VD_E_INTERNAL, "YARA failed (error %d)", yr);
        return 0;
}
