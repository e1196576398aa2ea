/* NTFS security descriptors; see vd_ntsd.h. The layout (MS-DTYP 2.4.6):
 * revision 1, control, then offsets of owner, group, SACL and DACL from
 * the start; an ACL is a header (revision, size, count) and ACEs of type,
 * flags, size, access mask, SID. */
#include "formats/vd_ntsd.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SE_DACL_PRESENT 0x0004
#define INHERIT_ONLY_ACE 0x08
#define SID_MAX_SUB 15

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int vd_sid_text(const unsigned char *p, size_t len, size_t *used, char *out, size_t outsz) {
        if (len < 8 || p[0] != 1 || p[1] > SID_MAX_SUB || len < 8 + 4 * (size_t)p[1])
                return -1;
        uint64_t auth = 0;
        for (int i = 2; i < 8; i++)
                auth = auth << 8 | p[i];
        int n = snprintf(out, outsz, "S-1-%llu", (unsigned long long)auth);
        for (size_t i = 0; i < p[1] && n > 0 && (size_t)n < outsz; i++)
                n += snprintf(out + n, outsz - (size_t)n, "-%u", le32(p + 8 + 4 * i));
        if (n < 0 || (size_t)n >= outsz)
                return -1;
        *used = 8 + 4 * (size_t)p[1];
        return 0;
}

const char *vd_sid_name(const char *sid) {
        static const struct {
                const char *sid, *name;
        } known[] = {
                {"S-1-1-0", "Everyone"},
                {"S-1-3-0", "CREATOR OWNER"},
                {"S-1-3-1", "CREATOR GROUP"},
                {"S-1-5-4", "NT AUTHORITY\\INTERACTIVE"},
                {"S-1-5-6", "NT AUTHORITY\\SERVICE"},
                {"S-1-5-7", "NT AUTHORITY\\ANONYMOUS LOGON"},
                {"S-1-5-11", "NT AUTHORITY\\Authenticated Users"},
                {"S-1-5-18", "NT AUTHORITY\\SYSTEM"},
                {"S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE"},
                {"S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE"},
                {"S-1-5-32-544", "BUILTIN\\Administrators"},
                {"S-1-5-32-545", "BUILTIN\\Users"},
                {"S-1-5-32-546", "BUILTIN\\Guests"},
                {"S-1-5-32-547", "BUILTIN\\Power Users"},
                {"S-1-5-32-551", "BUILTIN\\Backup Operators"},
                {"S-1-5-32-555", "BUILTIN\\Remote Desktop Users"},
                {"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", "NT SERVICE\\TrustedInstaller"},
                {"S-1-15-2-1", "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES"},
        };
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                if (strcmp(sid, known[i].sid) == 0)
                        return known[i].name;
        return "";
}

/* The principals a world-writable grant is given to. */
static bool anyone(const char *sid) {
        return !strcmp(sid, "S-1-1-0") || !strcmp(sid, "S-1-5-32-545") || !strcmp(sid, "S-1-5-11") ||
               !strcmp(sid, "S-1-5-32-546") || !strcmp(sid, "S-1-5-7");
}

/* write data/add file, append/add subdirectory, write DAC, write owner, generic all, generic write */
#define WRITE_MASK (0x00000002u | 0x00000004u | 0x00040000u | 0x00080000u | 0x10000000u | 0x40000000u)

typedef struct sd {
        const unsigned char *p;
        size_t len;
        uint16_t control;
        uint32_t owner, group, dacl;
} sd;

static int sd_open(sd *s, const unsigned char *p, size_t len) {
        if (len < 20 || p[0] != 1)
                return -1;
        s->p = p;
        s->len = len;
        s->control = le16(p + 2);
        s->owner = le32(p + 4);
        s->group = le32(p + 8);
        s->dacl = le32(p + 16);
        if (s->owner >= len || s->group >= len || s->dacl >= len)
                return -1;
        return 0;
}

typedef int (*ace_fn)(void *ctx, int type, int flags, uint32_t mask, const char *sid);

/* Each ACE of the DACL; 0: none, or no DACL (*present false); -1: malformed. */
static int each_ace(const sd *s, bool *present, ace_fn fn, void *ctx) {
        *present = (s->control & SE_DACL_PRESENT) && s->dacl;
        if (!*present)
                return 0;
        const unsigned char *a = s->p + s->dacl;
        size_t left = s->len - s->dacl;
        if (left < 8)
                return -1;
        size_t size = le16(a + 2), count = le16(a + 4);
        if (size < 8 || size > left)
                return -1;
        size_t off = 8;
        for (size_t i = 0; i < count; i++) {
                if (off + 8 > size)
                        return -1;
                const unsigned char *ace = a + off;
                size_t as = le16(ace + 2);
                if (as < 8 || off + as > size)
                        return -1;
                char sid[200];
                size_t used;
                int type = ace[0];
                /* ACCESS_ALLOWED (0) and ACCESS_DENIED (1) carry a SID after the mask; others are named by type */
                if ((type == 0 || type == 1) && vd_sid_text(ace + 8, as - 8, &used, sid, sizeof sid) < 0)
                        return -1;
                if (type != 0 && type != 1)
                        snprintf(sid, sizeof sid, "(ACE type %d)", type);
                int r = fn(ctx, type, ace[1], le32(ace + 4), sid);
                if (r)
                        return r;
                off += as;
        }
        return 0;
}

static int ww_ace(void *ctx, int type, int flags, uint32_t mask, const char *sid) {
        (void)ctx;
        return type == 0 && !(flags & INHERIT_ONLY_ACE) && (mask & WRITE_MASK) && anyone(sid) ? 1 : 0;
}

int vd_ntsd_world_writable(const unsigned char *p, size_t len) {
        sd s;
        bool present;
        if (sd_open(&s, p, len) < 0)
                return -1;
        int r = each_ace(&s, &present, ww_ace, NULL);
        if (r < 0)
                return -1;
        return !present || r == 1;
}

static int put_sid(vd_buf *out, const char *sid) {
        const char *name = vd_sid_name(sid);
        return vd_buf_adds(out, *name ? name : sid);
}

static const char *rights(uint32_t m) {
        if ((m & 0x001f01ffu) == 0x001f01ffu || (m & 0x10000000u))
                return "full control";
        if ((m & 0x001301bfu) == 0x001301bfu)
                return "modify";
        if (m & WRITE_MASK)
                return "write";
        if ((m & 0x001200a9u) == 0x001200a9u || (m & 0xa0000000u))
                return "read and execute";
        return "read";
}

static int describe_ace(void *ctx, int type, int flags, uint32_t mask, const char *sid) {
        vd_buf *out = ctx;
        int r = vd_buf_adds(out, type == 0 ? "; allow " : type == 1 ? "; deny " : "; ");
        if (!r)
                r = put_sid(out, sid);
        if (!r && (type == 0 || type == 1))
                r = vd_buf_addf(out, ": %s%s", rights(mask), flags & 0x10 ? " (inherited)" : "");
        return r < 0 ? -2 : 0;
}

int vd_ntsd_describe(const unsigned char *p, size_t len, vd_buf *out) {
        sd s;
        char sid[200];
        size_t used;
        size_t mark = out->len;
        if (sd_open(&s, p, len) < 0)
                goto bad;
        int r = vd_buf_adds(out, "owner ");
        if (!r && s.owner && vd_sid_text(p + s.owner, len - s.owner, &used, sid, sizeof sid) == 0)
                r = put_sid(out, sid);
        else if (!r)
                r = vd_buf_adds(out, "(none)");
        if (!r)
                r = vd_buf_adds(out, ", group ");
        if (!r && s.group && vd_sid_text(p + s.group, len - s.group, &used, sid, sizeof sid) == 0)
                r = put_sid(out, sid);
        else if (!r)
                r = vd_buf_adds(out, "(none)");
        if (r < 0)
                return VD_E_NOMEM;
        bool present;
        int ar = each_ace(&s, &present, describe_ace, out);
        if (ar == -2)
                return VD_E_NOMEM;
        if (ar < 0)
                goto bad;
        if (!present && vd_buf_adds(out, "; no DACL (everyone full control)") < 0)
                return VD_E_NOMEM;
        return 0;
bad:
        out->len = mark;
        if (out->buf)
                out->buf[mark] = '\0';
        return vd_buf_adds(out, "(malformed security descriptor)") < 0 ? VD_E_NOMEM : VD_E_INPUT;
}

int vd_ntsd_attrib_describe(const unsigned char *v, size_t len, vd_buf *out) {
        static const struct {
                uint32_t bit;
                const char *name;
        } bits[] = {{0x1, "readonly"}, {0x2, "hidden"}, {0x4, "system"}, {0x20, "archive"}, {0x100, "temporary"},
                    {0x200, "sparse"}, {0x400, "reparse-point"}, {0x800, "compressed"}, {0x1000, "offline"},
                    {0x2000, "not-indexed"}, {0x4000, "encrypted"}};
        if (len != 4)
                return vd_buf_adds(out, "(malformed attributes)") < 0 ? VD_E_NOMEM : VD_E_INPUT;
        uint32_t a = le32(v);
        bool first = true;
        for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
                if (a & bits[i].bit) {
                        if (vd_buf_adds(out, first ? "" : ",") < 0 || vd_buf_adds(out, bits[i].name) < 0)
                                return VD_E_NOMEM;
                        first = false;
                }
        return 0;
}

int vd_ntsd_rename(const char *d, size_t len, vd_sid_namer name, void *ctx, vd_buf *out) {
        static const char pre[] = "S-1-5-21-";
        int renamed = 0;
        size_t done = 0;
        for (size_t i = 0; i + sizeof pre - 1 <= len; i++) {
                if ((i > 0 && d[i - 1] != ' ') || memcmp(d + i, pre, sizeof pre - 1) != 0)
                        continue;
                size_t e = i + sizeof pre - 1;
                while (e < len && ((d[e] >= '0' && d[e] <= '9') || d[e] == '-'))
                        e++;
                if (e < len && d[e] != ',' && d[e] != ':' && d[e] != ';')
                        continue;
                const char *n = name(ctx, d + i, e - i);
                if (!n)
                        continue;
                if (vd_buf_add(out, d + done, i - done) < 0 || vd_buf_adds(out, n) < 0)
                        return VD_E_NOMEM;
                done = e;
                i = e - 1;
                renamed = 1;
        }
        if (renamed && vd_buf_add(out, d + done, len - done) < 0)
                return VD_E_NOMEM;
        return renamed;
}
