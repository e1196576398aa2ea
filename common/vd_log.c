#include "common/vd_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static bool enabled;
static struct timespec t0;

void vd_log_set_debug(bool on) {
        enabled = on;
        clock_gettime(CLOCK_MONOTONIC, &t0);
}

void vd_debug(const char *fmt, ...) {
        if (!enabled)
                return;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double s = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        fprintf(stderr, "vmdrift[debug %7.2fs] %s\n", s, line);
}
