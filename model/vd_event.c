/* The event model: drift events, their severity and the warnings of a run.
 * What the analysers produce and the sinks (report/) consume; nothing here knows
 * policies, sources or sinks. */

#include "model/vd_event.h"

#include <stdlib.h>
#include <string.h>

#include "common/vd_buf.h"

static const char *const sev_names[] = {"info", "low", "medium", "high", "critical"};

const char *vd_severity_name(int s) {
        if (s < VD_SEV_INFO || s > VD_SEV_CRITICAL)
                return "unknown";
        return sev_names[s];
}

int vd_severity_from_name(const char *s) {
        for (int i = 0; i <= VD_SEV_CRITICAL; i++)
                if (strcmp(s, sev_names[i]) == 0)
                        return i;
        return -1;
}

static const char *const ftype_names[] = {"unknown", "file", "directory", "symlink", "char-device",
                                          "block-device", "fifo", "socket"};

const char *vd_ftype_name(int t) {
        if (t < 0 || t > VD_T_SOCK)
                return "unknown";
        return ftype_names[t];
}

int vd_ftype_from_name(const char *s) {
        for (int i = 1; i <= VD_T_SOCK; i++)
                if (strcmp(s, ftype_names[i]) == 0)
                        return i;
        return VD_T_UNKNOWN;
}

void vd_events_init(vd_events *ev) {
        ev->v = NULL;
        ev->n = ev->alloc = 0;
}

void vd_event_release(vd_event *e) {
        free(e->path);
        free(e->arch);
        for (size_t i = 0; i < e->n_ch; i++) {
                free(e->ch[i].attr);
                free(e->ch[i].old_v.s);
                free(e->ch[i].new_v.s);
                free(e->ch[i].note);
        }
        free(e->ch);
        free(e->diff);
}

void vd_events_release(vd_events *ev) {
        if (!ev)
                return;
        for (size_t i = 0; i < ev->n; i++)
                vd_event_release(&ev->v[i]);
        free(ev->v);
        vd_events_init(ev);
}

const char *vd_change_kind_name(int k) {
        switch (k) {
        case VD_CH_ADDED: return "added";
        case VD_CH_REMOVED: return "removed";
        case VD_CH_CHANGED: return "changed";
        case VD_CH_VIOLATION: return "violation";
        case VD_CH_BEHIND: return "behind";
        case VD_CH_AHEAD: return "ahead";
        case VD_CH_DORMANT: return "dormant";
        case VD_CH_VULNERABLE: return "vulnerable";
        case VD_CH_UNMANAGED: return "unmanaged";
        case VD_CH_STALE: return "stale";
        case VD_CH_ORPHAN: return "orphan";
        case VD_CH_UNREACHABLE: return "unreachable";
        case VD_CH_MALWARE: return "malware";
        case VD_CH_SECRET: return "secret";
        default: return "unknown";
        }
}

const vd_attr_change *vd_event_find(const vd_event *ev, const char *attr) {
        for (size_t i = 0; i < ev->n_ch; i++)
                if (strcmp(ev->ch[i].attr, attr) == 0)
                        return &ev->ch[i];
        return NULL;
}

int vd_event_add_change(vd_event *ev, size_t *alloc, const char *attr, size_t attr_len, vd_val o, vd_val n,
                        char *note) {
        char *a = NULL;
        if (vd_array_grow(&ev->ch, alloc, ev->n_ch, sizeof *ev->ch, 8) < 0 || !(a = strndup(attr, attr_len))) {
                free(o.s);
                free(n.s);
                free(note);
                return VD_E_NOMEM;
        }
        ev->ch[ev->n_ch++] = (vd_attr_change){a, o, n, note};
        return 0;
}

int vd_events_push(vd_events *out, vd_event *ev) {
        if (vd_array_grow(&out->v, &out->alloc, out->n, sizeof *out->v, 64) < 0)
                return VD_E_NOMEM;
        out->v[out->n++] = *ev;
        memset(ev, 0, sizeof *ev);
        return 0;
}

const vd_val *vd_event_now(const vd_event *ev, const char *attr) {
        const vd_attr_change *c = vd_event_find(ev, attr);
        if (!c)
                return NULL;
        const vd_val *v = ev->kind == VD_CH_REMOVED ? &c->old_v : &c->new_v;
        return v->s ? v : NULL;
}
