/* The walker's answer lines: printed in the appliance, which a hostile
 * guest may have taken over. Whatever the bytes: no crash, and what is kept
 * is within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/vd_walker_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable_or_trap(const char *s, size_t max) {
        size_t n = strlen(s);
        if (n > max)
                __builtin_trap();
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
                        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_walker_reply r;
        vd_err e = VD_ERR_INIT;
        if (vd_walker_reply_parse((const char *)data, size, &r, &e) < 0)
                return 0;
        if (r.n_geometry > VD_WALKER_GEOMETRY_MAX)
                __builtin_trap();
        for (size_t i = 0; i < r.n_geometry; i++) {
                if (strncmp(r.geometry[i].key, "fs.ext4.", 8) != 0 || strchr(r.geometry[i].key, ' '))
                        __builtin_trap();
                printable_or_trap(r.geometry[i].key, 8 + 47);
                printable_or_trap(r.geometry[i].value, 300);
        }
        if (r.mounts)
                printable_or_trap(r.mounts, VD_DELTA_MOUNTS_MAX);
        printable_or_trap(r.walk_whole, sizeof r.walk_whole - 1);
        printable_or_trap(r.cat_failed, sizeof r.cat_failed - 1);
        printable_or_trap(r.summary, sizeof r.summary - 1);
        printable_or_trap(r.times, sizeof r.times - 1);
        vd_walker_reply_release(&r);
        return 0;
}
