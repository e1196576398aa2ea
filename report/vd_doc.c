/* A JSON document member by member; see vd_doc.h. */
#include "report/vd_doc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/vd_json.h"
#include "common/vd_str.h"

void vd_doc_begin(vd_doc *d, vd_buf *b) {
        d->b = b;
        d->first = true;
        d->rc = vd_buf_addc(b, '{');
}

int vd_doc_end(vd_doc *d) {
        if (!d->rc)
                d->rc = vd_buf_adds(d->b, "}\n");
        return d->rc;
}

void vd_doc_key(vd_doc *d, const char *k) {
        if (!d->rc && !d->first)
                d->rc = vd_buf_addc(d->b, ',');
        if (!d->rc && k)
                d->rc = vd_buf_addf(d->b, "\"%s\":", k);
        d->first = false;
}

void vd_doc_open(vd_doc *d, const char *k) {
        vd_doc_key(d, k);
        if (!d->rc)
                d->rc = vd_buf_addc(d->b, '{');
        d->first = true;
}

void vd_doc_close(vd_doc *d) {
        if (!d->rc)
                d->rc = vd_buf_addc(d->b, '}');
        d->first = false;
}

void vd_doc_open_array(vd_doc *d, const char *k) {
        vd_doc_key(d, k);
        if (!d->rc)
                d->rc = vd_buf_addc(d->b, '[');
        d->first = true;
}

void vd_doc_close_array(vd_doc *d) {
        if (!d->rc)
                d->rc = vd_buf_addc(d->b, ']');
        d->first = false;
}

void vd_doc_str(vd_doc *d, const char *k, const char *v, size_t n) {
        if (!v)
                return;
        vd_doc_key(d, k);
        if (!d->rc)
                d->rc = vd_json_put_str(d->b, v, n);
}

void vd_doc_cstr(vd_doc *d, const char *k, const char *v) {
        if (v)
                vd_doc_str(d, k, v, strlen(v));
}

void vd_doc_raw(vd_doc *d, const char *k, const char *json, size_t n) {
        vd_doc_key(d, k);
        if (!d->rc)
                d->rc = vd_buf_add(d->b, json, n);
}

void vd_doc_int(vd_doc *d, const char *k, long long v) {
        vd_doc_key(d, k);
        if (!d->rc)
                d->rc = vd_buf_addf(d->b, "%lld", v);
}

void vd_doc_strs(vd_doc *d, const char *k, const char *const *v, size_t n) {
        vd_doc_open_array(d, k);
        for (size_t i = 0; i < n && !d->rc; i++) {
                vd_doc_key(d, NULL);
                if (!d->rc)
                        d->rc = vd_json_put_cstr(d->b, v[i]);
        }
        vd_doc_close_array(d);
}

void vd_doc_val(vd_doc *d, const char *k, const vd_val *v) {
        vd_doc_key(d, k);
        if (d->rc)
                return;
        if (!v->s)
                d->rc = vd_buf_adds(d->b, "null");
        else if (v->num)
                d->rc = vd_buf_add(d->b, v->s, v->len);
        else if (vd_text_clean(v->s, v->len))
                d->rc = vd_json_put_str(d->b, v->s, v->len);
        else
                d->rc = vd_json_put_b64(d->b, v->s, v->len);
}

void vd_doc_time(vd_doc *d, const char *k, int64_t ns) {
        vd_doc_key(d, k);
        if (!d->rc)
                d->rc = vd_buf_addc(d->b, '"');
        if (!d->rc)
                d->rc = vd_time_rfc3339(d->b, ns);
        if (!d->rc)
                d->rc = vd_buf_addc(d->b, '"');
}

int vd_doc_message(vd_buf *m, const vd_event *e) {
        int r = vd_buf_addf(m, "%s %s ", vd_severity_name(e->severity), vd_change_kind_name(e->kind));
        if (!r)
                r = vd_escape_display(m, e->path, e->path_len);
        const vd_val *ln = vd_event_now(e, "line"), *rl = vd_event_now(e, "yara.rule");
        if (!r && ln && ln->s)
                r = vd_buf_addf(m, " line %.*s", (int)ln->len, ln->s);
        if (!r && rl && rl->s) {
                r = vd_buf_adds(m, " [rule ");
                if (!r)
                        r = vd_escape_display(m, rl->s, rl->len);
                if (!r)
                        r = vd_buf_addc(m, ']');
        }
        if (!r && e->detector)
                r = vd_buf_addf(m, " [detector %s]", e->detector);
        return r;
}

void vd_doc_changes(vd_doc *d, const char *k, const vd_event *e) {
        vd_doc_open_array(d, k);
        for (size_t i = 0; i < e->n_ch && !d->rc; i++) {
                vd_doc_open(d, NULL);
                vd_doc_cstr(d, "name", e->ch[i].attr);
                vd_doc_val(d, "old", &e->ch[i].old_v);
                vd_doc_val(d, "new", &e->ch[i].new_v);
                vd_doc_cstr(d, "note", e->ch[i].note);
                vd_doc_close(d);
        }
        vd_doc_close_array(d);
}

int vd_doc_write_events(FILE *fp, const vd_report *r, vd_doc_event_fn one, void *ctx, const char *what, vd_err *err) {
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = 0;
        for (size_t i = 0; i < r->events->n && !rc; i++) {
                vd_buf_reset(&b);
                rc = one(&b, r, &r->events->v[i], i, ctx);
                if (!rc && fwrite(b.buf, 1, b.len, fp) != b.len)
                        rc = VD_E_IO;
        }
        vd_buf_release(&b);
        if (rc == VD_E_IO)
                return vd_err_errno(err, VD_E_IO, errno, "cannot write the %s report", what);
        if (rc)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        return 0;
}

void vd_doc_ident(vd_doc *d, const vd_report *r, const vd_event *e) {
        vd_doc_cstr(d, "scan_id", r->scan_id);
        vd_doc_cstr(d, "change", vd_change_kind_name(e->kind));
        vd_doc_cstr(d, "severity", vd_severity_name(e->severity));
        vd_doc_cstr(d, "detector", e->detector);
        vd_doc_cstr(d, "config", e->config);
        vd_doc_cstr(d, "source", r->source);
}
