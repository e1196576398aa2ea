/* Export a baseline as ND-JSON: a "baseline" line with the metadata, one
 * "entry" line per entry in path order, then "fact", "package" and "config"
 * lines (configuration values by path and key).
 * Stable across runs: same baseline, same bytes. The hash key is never
 * exported (it would let a guest craft collisions). */
#include <stdio.h>
#include <string.h>

#include "baseline/vd_baseline.h"
#include "common/vd_json.h"
#include "common/vd_str.h"

static int jbytes(vd_buf *b, const char *key, const void *p, size_t n) {
        int r = vd_buf_addf(b, ",\"%s\":", key);
        if (r)
                return r;
        if (vd_utf8_valid(p, n) && !memchr(p, '\0', n))
                return vd_json_put_str(b, p, n);
        return vd_json_put_b64(b, p, n);
}

int vd_baseline_export(const vd_baseline *b, FILE *out, vd_err *err) {
        vd_buf l;
        vd_buf_init(&l, 0);
        int r = vd_buf_addf(&l, "{\"record\":\"baseline\",\"schema\":%d,\"tool_version\":", b->schema);
        if (!r)
                r = vd_json_put_str(&l, b->tool_version ? b->tool_version : "", strlen(b->tool_version ? b->tool_version : ""));
        if (!r)
                r = vd_buf_adds(&l, ",\"created\":\"");
        if (!r)
                r = vd_time_rfc3339(&l, b->created_ns);
        if (!r)
                r = vd_buf_addf(&l, "\",\"source_kind\":\"%s\"", b->source_kind ? b->source_kind : "");
        if (!r)
                r = jbytes(&l, "source", b->source ? b->source : "", strlen(b->source ? b->source : ""));
        if (!r)
                r = vd_buf_addf(&l, ",\"hash\":\"%s\",\"entries\":%zu,\"content_digest\":\"%s\",\"signer\":\"%s\"}\n",
                                vd_hash_algo_name(b->hash_algo), b->entries.n, b->content_digest, b->signer);
        if (!r && fwrite(l.buf, 1, l.len, out) != l.len)
                r = VD_E_IO;
        for (size_t i = 0; i < b->entries.n && !r; i++) {
                const vd_entry *e = b->entries.v[i];
                vd_buf_reset(&l);
                r = vd_buf_adds(&l, "{\"record\":\"entry\"");
                if (!r)
                        r = jbytes(&l, "path", e->path, e->path_len);
                if (!r)
                        r = vd_buf_addf(&l,
                                        ",\"type\":\"%s\",\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,\"size\":%llu,"
                                        "\"mtime_ns\":%lld,\"ctime_ns\":%lld,\"inode\":%llu,\"nlink\":%llu,\"rdev\":%llu",
                                        vd_ftype_name(e->type), e->mode, e->uid, e->gid, (unsigned long long)e->size,
                                        (long long)e->mtime_ns, (long long)e->ctime_ns, (unsigned long long)e->ino,
                                        (unsigned long long)e->nlink, (unsigned long long)e->rdev);
                if (!r && e->uname)
                        r = jbytes(&l, "user", e->uname, strlen(e->uname));
                if (!r && e->gname)
                        r = jbytes(&l, "group", e->gname, strlen(e->gname));
                if (!r && e->target)
                        r = jbytes(&l, "target", e->target, e->target_len);
                if (!r && e->hash_len) {
                        r = vd_buf_addf(&l, ",\"hash\":\"%s:", vd_hash_algo_name(e->hash_algo));
                        if (!r)
                                r = vd_hex(&l, e->hash, e->hash_len);
                        if (!r)
                                r = vd_buf_addc(&l, '"');
                }
                if (!r && e->status != VD_ST_OK)
                        r = vd_buf_addf(&l, ",\"status\":%d,\"status_errno\":%d", e->status, e->status_errno);
                if (!r && e->n_xattrs) {
                        r = vd_buf_adds(&l, ",\"xattrs\":{");
                        for (size_t k = 0; k < e->n_xattrs && !r; k++) {
                                r = k ? vd_buf_addc(&l, ',') : 0;
                                if (!r)
                                        r = vd_json_put_str(&l, e->xattrs[k].name, strlen(e->xattrs[k].name));
                                if (!r)
                                        r = vd_buf_adds(&l, ":{\"b64\":\"");
                                if (!r)
                                        r = vd_base64(&l, e->xattrs[k].value, e->xattrs[k].len);
                                if (!r)
                                        r = vd_buf_adds(&l, "\"}");
                        }
                        if (!r)
                                r = vd_buf_addc(&l, '}');
                }
                if (!r)
                        r = vd_buf_adds(&l, "}\n");
                if (!r && fwrite(l.buf, 1, l.len, out) != l.len)
                        r = VD_E_IO;
        }
        for (size_t i = 0; i < b->n_facts && !r; i++) {
                vd_buf_reset(&l);
                r = vd_buf_adds(&l, "{\"record\":\"fact\"");
                if (!r)
                        r = jbytes(&l, "key", b->facts[i].key, strlen(b->facts[i].key));
                if (!r)
                        r = jbytes(&l, "value", b->facts[i].value, strlen(b->facts[i].value));
                if (!r)
                        r = vd_buf_adds(&l, "}\n");
                if (!r && fwrite(l.buf, 1, l.len, out) != l.len)
                        r = VD_E_IO;
        }
        for (size_t i = 0; i < b->n_packages && !r; i++) {
                const vd_package *p = &b->packages[i];
                vd_buf_reset(&l);
                r = vd_buf_adds(&l, "{\"record\":\"package\"");
                if (!r)
                        r = jbytes(&l, "name", p->name, strlen(p->name));
                if (!r)
                        r = vd_buf_addf(&l, ",\"epoch\":%d", p->epoch);
                if (!r)
                        r = jbytes(&l, "version", p->version, strlen(p->version));
                if (!r)
                        r = jbytes(&l, "release", p->release, strlen(p->release));
                if (!r)
                        r = jbytes(&l, "arch", p->arch, strlen(p->arch));
                if (!r)
                        r = vd_buf_adds(&l, "}\n");
                if (!r && fwrite(l.buf, 1, l.len, out) != l.len)
                        r = VD_E_IO;
        }
        /* Configuration values (secrets are keyed hashes already). */
        for (size_t i = 0; i < b->config.n && !r; i++) {
                const vd_confset *cs = &b->config.v[i];
                for (size_t k = 0; k < cs->s.n && !r; k++) {
                        const vd_setting *x = &cs->s.v[k];
                        vd_buf_reset(&l);
                        r = vd_buf_adds(&l, "{\"record\":\"config\"");
                        if (!r)
                                r = jbytes(&l, "path", cs->path, strlen(cs->path));
                        if (!r)
                                r = vd_buf_addf(&l, ",\"format\":\"%s\"", vd_conf_format_name(cs->format));
                        if (!r)
                                r = jbytes(&l, "key", x->key, strlen(x->key));
                        if (!r)
                                r = jbytes(&l, "value", x->value, x->value_len);
                        if (!r)
                                r = jbytes(&l, "file", x->file, strlen(x->file));
                        if (!r)
                                r = vd_buf_addf(&l, ",\"line\":%u,\"secret\":%s}\n", x->line, x->secret ? "true" : "false");
                        if (!r && fwrite(l.buf, 1, l.len, out) != l.len)
                                r = VD_E_IO;
                }
        }
        vd_buf_release(&l);
        if (r == VD_E_IO || fflush(out) != 0)
                return vd_err_set(err, VD_E_IO, "cannot write the export");
        if (r < 0)
                return vd_err_set(err, r, "cannot format the export");
        return 0;
}
