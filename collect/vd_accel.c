#define _GNU_SOURCE
#include "collect/vd_accel.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/vd_buf.h"
#include "common/vd_state.h"
#include "common/vd_str.h"

#define HEADER "vmdrift-accel 1\n"
#define FILE_MAX 4096

int vd_accel_from_name(const char *s) {
        if (strcmp(s, "auto") == 0)
                return VD_ACCEL_AUTO;
        if (strcmp(s, "kvm") == 0)
                return VD_ACCEL_KVM;
        if (strcmp(s, "tcg") == 0)
                return VD_ACCEL_TCG;
        return -1;
}

void vd_accel_host_key(const char *hv, char *out, size_t n) {
        struct utsname u;
        struct stat st;
        if (uname(&u) < 0)
                memset(&u, 0, sizeof u);
        long long mt = hv && stat(hv, &st) == 0 ? (long long)st.st_mtime : 0;
        snprintf(out, n, "%s|%s|%s|%lld", u.release, u.version, hv ? hv : "", mt);
        /* one line, whatever the strings hold */
        for (char *p = out; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
}

void vd_accel_format(const char *host_key, int64_t now, char *out, size_t n) {
        snprintf(out, n, HEADER "kvm=broken\nsince=%" PRId64 "\nhost=%s\n", now, host_key);
}

/* The value of "key=" on a line of its own, as a pointer into text and a length. */
static const char *value_of(const char *text, size_t len, const char *key, size_t *vlen) {
        size_t kl = strlen(key);
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;
                if (ll > kl && memcmp(text + i, key, kl) == 0 && text[i + kl] == '=') {
                        *vlen = ll - kl - 1;
                        return text + i + kl + 1;
                }
                i += ll + 1;
        }
        return NULL;
}

bool vd_accel_parse(const char *text, size_t len, const char *host_key, int64_t now, int64_t *ret_since) {
        size_t hl = strlen(HEADER), vl;
        if (len < hl || memcmp(text, HEADER, hl) != 0)
                return false;
        const char *v = value_of(text, len, "kvm", &vl);
        if (!v || vl != 6 || memcmp(v, "broken", 6) != 0)
                return false;
        v = value_of(text, len, "host", &vl);
        if (!v || vl != strlen(host_key) || memcmp(v, host_key, vl) != 0)
                return false;
        v = value_of(text, len, "since", &vl);
        char num[24];
        uint64_t t;
        if (!v || vl == 0 || vl >= sizeof num)
                return false;
        memcpy(num, v, vl);
        num[vl] = '\0';
        if (!vd_parse_u64(num, &t) || t > (uint64_t)INT64_MAX)
                return false;
        if ((int64_t)t > now || now - (int64_t)t >= VD_ACCEL_REMEMBER_S)
                return false;
        if (ret_since)
                *ret_since = (int64_t)t;
        return true;
}

bool vd_accel_recall(const char *state_dir, const char *hv, int64_t now, int64_t *ret_since) {
        if (vd_state_dir_check(state_dir, false, NULL) < 0)
                return false;
        vd_buf b;
        vd_buf_init(&b, FILE_MAX);
        char key[1024];
        vd_accel_host_key(hv, key, sizeof key);
        bool yes = vd_state_read(state_dir, VD_ACCEL_FILE, FILE_MAX, &b, NULL, NULL) == 0 &&
                   vd_accel_parse(b.buf ? b.buf : "", b.len, key, now, ret_since);
        vd_buf_release(&b);
        return yes;
}

int vd_accel_remember(const char *state_dir, const char *hv, int64_t now, vd_err *err) {
        char key[1024], text[FILE_MAX];
        vd_accel_host_key(hv, key, sizeof key);
        vd_accel_format(key, now, text, sizeof text);
        int r = vd_state_dir_check(state_dir, true, err);
        if (r == 0)
                r = vd_state_write(state_dir, VD_ACCEL_FILE, text, strlen(text), err);
        return r;
}

void vd_accel_forget(const char *state_dir) {
        if (vd_state_dir_check(state_dir, false, NULL) == 0)
                vd_state_remove(state_dir, VD_ACCEL_FILE, NULL);
}

bool vd_accel_kvm_openable(void) {
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}
